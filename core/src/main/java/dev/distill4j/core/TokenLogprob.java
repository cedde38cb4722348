package dev.distill4j.core;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * A token as a teacher reported it. {@code bytes} is the source of truth for alignment across tokenizers (token
 * strings are ambiguous: a token may be half of a UTF-8 character); {@code token} is kept for display.
 */
public record TokenLogprob(String token, byte[] bytes, float logprob) {
    public TokenLogprob {
        Objects.requireNonNull(token, "token");
        bytes = bytes == null ? token.getBytes(StandardCharsets.UTF_8) : bytes;
    }

    public static TokenLogprob of(String token, double logprob) {
        return new TokenLogprob(token, null, (float) logprob);
    }

    @Override public boolean equals(Object o) {
        return o instanceof TokenLogprob t && t.token.equals(token) && Arrays.equals(t.bytes, bytes)
                && Float.compare(t.logprob, logprob) == 0;
    }

    @Override public int hashCode() { return Objects.hash(token, Arrays.hashCode(bytes), logprob); }

    @Override public String toString() { return "TokenLogprob[" + token + ", " + logprob + "]"; }
}
