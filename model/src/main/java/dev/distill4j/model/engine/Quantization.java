package dev.distill4j.model.engine;

import dev.distill4j.core.InvalidInputException;
import java.util.Locale;

/** How the engine holds the weight matrices. Norms, biases and the KV cache are always F32. */
public enum Quantization {
    /** As trained: 4 bytes per weight. */
    F32,
    /** int8 blocks of 32 with an F32 scale each ({@link Matrix.Q8}): 1.125 bytes per weight. */
    INT8;

    /** The name a user writes: {@code f32} or {@code int8}. */
    public String label() { return name().toLowerCase(Locale.ROOT); }

    /** Parses {@code --quantize}: f32 (or none) | int8 (or q8_0). */
    public static Quantization parse(String s) {
        if (s == null) return F32;
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "f32", "none", "float32" -> F32;
            case "int8", "q8_0", "q8" -> INT8;
            default -> throw new InvalidInputException("unknown quantization '" + s + "' (use f32 or int8)");
        };
    }
}
