package dev.distill4j.serve;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.core.TokenLogprob;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;

/** Pieces of OpenAI's response shapes shared by both endpoints. */
final class Wire {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final char[] ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".toCharArray();

    private Wire() {}

    /** {@code prefix} + 29 random alphanumerics, like {@code chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG}. */
    static String id(String prefix) {
        StringBuilder sb = new StringBuilder(prefix);
        for (int i = 0; i < 29; i++) sb.append(ALPHABET[RANDOM.nextInt(ALPHABET.length)]);
        return sb.toString();
    }

    /**
     * A token as OpenAI shows it: its text, or {@code bytes:\xNN...} when its bytes are not whole UTF-8 characters
     * (one half of a multi-byte character). Special tokens show their name.
     */
    static String display(TokenLogprob t) {
        if (t.bytes().length == 0) return t.token();
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(t.bytes())).toString();
        } catch (CharacterCodingException e) {
            StringBuilder sb = new StringBuilder("bytes:");
            for (byte b : t.bytes()) sb.append(String.format("\\x%02x", b & 0xff));
            return sb.toString();
        }
    }

    static ArrayNode bytes(byte[] bytes) {
        ArrayNode a = Json.array();
        for (byte b : bytes) a.add(b & 0xff);
        return a;
    }

    /** {@code {token, logprob, bytes}}: one entry of chat logprobs. */
    static ObjectNode tokenLogprob(TokenLogprob t) {
        ObjectNode n = Json.object();
        n.put("token", display(t));
        n.put("logprob", t.logprob());
        n.set("bytes", bytes(t.bytes()));
        return n;
    }

    static ObjectNode usage(long prompt, long completion) {
        ObjectNode u = Json.object();
        u.put("prompt_tokens", prompt);
        u.put("completion_tokens", completion);
        u.put("total_tokens", prompt + completion);
        u.putObject("prompt_tokens_details").put("cached_tokens", 0);
        u.putObject("completion_tokens_details").put("reasoning_tokens", 0);
        return u;
    }

    /** Chars of {@code text} covered by its first {@code byteCount} UTF-8 bytes, rounded down to a whole char. */
    static int charsInBytes(String text, int byteCount) {
        int bytes = 0;
        int i = 0;
        while (i < text.length()) {
            int cp = text.codePointAt(i);
            int len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            if (bytes + len > byteCount) break;
            bytes += len;
            i += Character.charCount(cp);
        }
        return i;
    }
}
