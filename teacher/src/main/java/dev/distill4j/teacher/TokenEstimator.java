package dev.distill4j.teacher;

import dev.distill4j.core.Message;

/**
 * Prompt-token estimate without the teacher's tokenizer: about four characters of English per token (OpenAI's rule of
 * thumb for its BPE vocabularies) plus a few tokens of chat framing per message. Used before a request is made (rate
 * limits, budget, --dry-run); the teacher's reported usage replaces it afterwards.
 */
public final class TokenEstimator {
    private static final int PER_MESSAGE_OVERHEAD = 4;
    private static final int PER_REQUEST_OVERHEAD = 3;

    private TokenEstimator() {}

    public static long estimate(TeacherRequest request) {
        var p = request.prompt();
        if (!p.isChat()) return textTokens(p.text());
        long n = PER_REQUEST_OVERHEAD;
        for (Message m : p.messages()) n += PER_MESSAGE_OVERHEAD + textTokens(m.content());
        return n;
    }

    public static long textTokens(String s) {
        if (s == null || s.isEmpty()) return 0;
        long chars = s.codePointCount(0, s.length());
        return Math.max(1, (chars + 3) / 4);
    }
}
