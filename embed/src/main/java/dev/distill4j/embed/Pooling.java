package dev.distill4j.embed;

import dev.distill4j.core.InvalidInputException;
import java.util.Locale;

/** How an encoder's per-token states become one sentence vector; each pretrained model was trained with one. */
public enum Pooling {
    /** The first ([CLS]) token's state: BGE. */
    CLS,
    /** The mean of the token states under the attention mask: sentence-transformers' MiniLM. */
    MEAN;

    public static Pooling parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException("unknown pooling '" + s + "': use cls or mean");
        }
    }

    /** Pools {@code states} ([T, H] flattened, row-major) over the first {@code length} tokens, which are real. */
    float[] pool(float[] states, int offset, int length, int hidden) {
        float[] v = new float[hidden];
        if (this == CLS) {
            System.arraycopy(states, offset, v, 0, hidden);
            return v;
        }
        for (int t = 0; t < length; t++) {
            int base = offset + t * hidden;
            for (int h = 0; h < hidden; h++) v[h] += states[base + h];
        }
        float inv = 1f / Math.max(1, length);
        for (int h = 0; h < hidden; h++) v[h] *= inv;
        return v;
    }
}
