package dev.distill4j.guard.scan;

import dev.distill4j.embed.EmbeddingModel;
import dev.distill4j.embed.Vectors;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How much nearer a short text is to one set of exemplar sentences than to another, in a sentence embedder's space
 * (unit vectors, so a dot product is a cosine):
 * <pre>
 *   margin(x) = max_{e ∈ near} cos(x, e) − max_{f ∈ far} cos(x, f)
 * </pre>
 * The measure behind {@link ReasoningRequests} (reasoning requests against ordinary instructions) and {@link Asks}
 * (transformations against open requests). Each distinct text is embedded once, in batches of 64, and its margin
 * remembered: instructions repeat across an account's queries.
 */
final class ExemplarMargins {
    private static final int BATCH = 64;

    private final EmbeddingModel embedder;
    private final float[][] near;
    private final float[][] far;
    private final Map<String, Double> seen = new ConcurrentHashMap<>();

    ExemplarMargins(EmbeddingModel embedder, List<String> near, List<String> far) {
        this.embedder = embedder;
        this.near = embedder.embed(near);
        this.far = embedder.embed(far);
    }

    /** Embeds the texts not scored yet and remembers their margins. */
    void score(List<String> texts) {
        List<String> todo = texts.stream().filter(x -> !seen.containsKey(x)).distinct().toList();
        for (int s = 0; s < todo.size(); s += BATCH) {
            List<String> batch = todo.subList(s, Math.min(todo.size(), s + BATCH));
            float[][] v = embedder.embed(batch);
            for (int i = 0; i < v.length; i++) seen.put(batch.get(i), margin(v[i], near, far));
        }
    }

    /** The margin of a text {@link #score} has seen. */
    double get(String text) {
        return seen.get(text);
    }

    /** The margin of a text, scoring it first if needed. */
    double margin(String text) {
        score(List.of(text));
        return seen.get(text);
    }

    /** max cos to {@code near} − max cos to {@code far}, for a unit vector. */
    static double margin(float[] v, float[][] near, float[][] far) {
        return best(v, near) - best(v, far);
    }

    private static double best(float[] v, float[][] set) {
        double top = -1;
        for (float[] e : set) top = Math.max(top, Vectors.dot(v, e));
        return top;
    }
}
