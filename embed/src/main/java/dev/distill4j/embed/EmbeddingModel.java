package dev.distill4j.embed;

import java.util.List;

/** A sentence embedder: teachers (ONNX encoders) and students (static tables) alike. Vectors are L2-normalised. */
public interface EmbeddingModel extends AutoCloseable {
    /** One unit-norm vector of {@link #dimension()} floats per text, in order. */
    float[][] embed(List<String> texts);

    int dimension();

    /** A short name for scorecards and logs. */
    String name();

    default float[] embed(String text) { return embed(List.of(text))[0]; }

    @Override
    default void close() {}
}
