package dev.distill4j.teacher;

import dev.distill4j.core.Message;
import dev.distill4j.core.Prompt;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Prompt tokens of a request before it is sent, without the teacher's tokenizer, counted over what is really sent:
 * the configured system prompt and the prompt's turns, each in the chat format's framing.
 *
 * <p>Chat framing is OpenAI's, as its cookbook counts it ({@code num_tokens_from_messages}): every message costs
 * {@value #PER_MESSAGE} tokens of framing plus its role and content, and every request {@value #REPLY_PRIMING} more
 * for the {@code <|start|>assistant<|message|>} that primes the reply. A raw-text prompt on a chat endpoint is one
 * user message, framing included.
 *
 * <ul>
 *   <li>{@link #estimate}: about four characters of English per token (OpenAI's rule of thumb for its BPE
 *       vocabularies) plus the framing; for rate limits and the expected cost.
 *   <li>{@link #bound}: an upper bound for the budget, one token per UTF-8 byte of the role and content plus the
 *       framing (a byte-level BPE token covers at least one byte; SentencePiece with byte fallback the same, plus a
 *       leading piece, which the +1 per text covers). Real counts are about a quarter of it for English.
 * </ul>
 * The teacher's reported usage replaces both after the answer.
 */
public final class TokenEstimator {
    /** OpenAI's framing per chat message (tokens_per_message in the cookbook), beside the role's own tokens. */
    public static final int PER_MESSAGE = 3;
    /** OpenAI's tokens priming every reply. */
    public static final int REPLY_PRIMING = 3;

    private TokenEstimator() {}

    /** The expected prompt tokens of {@code prompt} sent with {@code system} ({@code chat}: in chat framing). */
    public static long estimate(Prompt prompt, String system, boolean chat) {
        if (!chat) return textTokens(prompt.text());
        long n = REPLY_PRIMING;
        for (Message m : sent(prompt, system)) n += PER_MESSAGE + 1 + textTokens(m.content()); // a role is one token
        return n;
    }

    /** At least as many prompt tokens as any byte-level tokenizer makes of the same request. */
    public static long bound(Prompt prompt, String system, boolean chat) {
        if (!chat) return bytes(prompt.text()) + 1;
        long n = REPLY_PRIMING;
        for (Message m : sent(prompt, system)) n += PER_MESSAGE + bytes(m.role()) + bytes(m.content()) + 1;
        return n;
    }

    /** Whether a prompt goes out in chat framing: every chat prompt, and raw text on a chat endpoint. */
    public static boolean chatFraming(Prompt prompt, String endpoint) {
        return prompt.isChat() || !"completions".equals(endpoint);
    }

    private static List<Message> sent(Prompt prompt, String system) {
        if (system == null) return prompt.chat();
        List<Message> all = new ArrayList<>(prompt.chat().size() + 1);
        all.add(new Message("system", system));
        all.addAll(prompt.chat());
        return all;
    }

    public static long textTokens(String s) {
        if (s == null || s.isEmpty()) return 0;
        long chars = s.codePointCount(0, s.length());
        return Math.max(1, (chars + 3) / 4);
    }

    private static long bytes(String s) {
        return s == null ? 0 : s.getBytes(StandardCharsets.UTF_8).length;
    }
}
