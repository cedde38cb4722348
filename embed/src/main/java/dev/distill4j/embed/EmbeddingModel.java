package dev.distill4j.embed;

import java.util.List;

/**
 * A sentence embedder: teachers (ONNX encoders) and students (static tables) alike. Vectors are L2-normalised.
 * Implementations are safe to call from several threads at once (the server embeds concurrent requests in parallel).
 */
public interface EmbeddingModel extends AutoCloseable {
    /** One unit-norm vector of {@link #dimension()} floats per text, in order. */
    float[][] embed(List<String> texts);

    int dimension();

    /** A short name for scorecards and logs. */
    String name();

    default float[] embed(String text) { return embed(List.of(text))[0]; }

    /**
     * Vectors and, per text, the tokens the model read for it (special tokens and truncation included): what
     * {@code /v1/embeddings} and the LangChain4j adapter report as usage. Models with a tokenizer override this to
     * count while they embed; the default counts with {@link #countTokens}.
     */
    default Embedded embedCounting(List<String> texts) {
        int[] tokens = new int[texts.size()];
        for (int i = 0; i < tokens.length; i++) tokens[i] = countTokens(texts.get(i));
        return new Embedded(embed(texts), tokens);
    }

    /**
     * The tokens the model reads for {@code text}. Models with a tokenizer override this; the default counts
     * whitespace-separated words, an estimate for models that have none of their own (a remote API).
     */
    default int countTokens(String text) {
        String t = text.strip();
        return t.isEmpty() ? 0 : t.split("\\s+").length;
    }

    /** Whether {@link #embedTokenIds} works: the model runs on token ids of a tokenizer it exposes. */
    default boolean acceptsTokenIds() { return false; }

    /**
     * Embeds inputs given as token ids of this model's own tokenizer, without special tokens (OpenAI's "array of
     * token arrays"). An id outside the vocabulary is an {@link IllegalArgumentException} naming it.
     */
    default float[][] embedTokenIds(List<long[]> ids) {
        throw new UnsupportedOperationException(name() + " does not take token ids; send text");
    }

    @Override
    default void close() {}

    /** What {@link #embedCounting} returns: {@code vectors[i]} embeds text i, which was {@code tokens[i]} tokens. */
    record Embedded(float[][] vectors, int[] tokens) {
        public long totalTokens() {
            long s = 0;
            for (int t : tokens) s += t;
            return s;
        }
    }
}
