package dev.distill4j.core;

/** What a teacher reveals per generated token, which decides the distillation loss (design.md). */
public sealed interface Capability {
    /** Text only: sequence-level distillation. */
    record Text() implements Capability {
        @Override public String toString() { return "TEXT"; }
    }

    /** The chosen token plus up to {@code k} alternatives with logprobs. */
    record TopK(int k) implements Capability {
        public TopK {
            if (k < 0 || k > 1000) throw new InvalidInputException("top-k must be in 0..1000, got " + k);
        }
        @Override public String toString() { return "TOP_K(" + k + ")"; }
    }

    /** A local teacher whose full logits are computed during training. */
    record Full() implements Capability {
        @Override public String toString() { return "FULL"; }
    }

    Capability TEXT = new Text();
    Capability FULL = new Full();

    static Capability topK(int k) { return new TopK(k); }

    /** Parses the {@link #toString()} form: TEXT, FULL, TOP_K(5). */
    static Capability parse(String s) {
        String t = s.trim().toUpperCase(java.util.Locale.ROOT);
        if (t.equals("TEXT")) return TEXT;
        if (t.equals("FULL")) return FULL;
        if (t.startsWith("TOP_K(") && t.endsWith(")")) return topK(Integer.parseInt(t.substring(6, t.length() - 1)));
        throw new InvalidInputException("unknown capability '" + s + "' (expected TEXT, TOP_K(k) or FULL)");
    }
}
