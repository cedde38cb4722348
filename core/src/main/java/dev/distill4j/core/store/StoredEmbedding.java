package dev.distill4j.core.store;

import dev.distill4j.core.InvalidInputException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.Objects;

/**
 * A teacher's embedding of one text, as a run keeps it.
 *
 * @param key           {@link dev.distill4j.core.SampleKey#embedding}: text + teacher + model + requested dims
 * @param teacher       provider, e.g. {@code openai} (any OpenAI-compatible server)
 * @param model         the model name the request named
 * @param requestedDims the {@code dimensions} asked for, 0 for the model's own
 * @param text          the embedded text
 * @param vector        the vector as the server sent it
 * @param promptTokens  this text's share of its batch's billed tokens
 * @param requestId     the provider's request id of its batch, or null
 * @param createdAt     when it was stored
 */
public record StoredEmbedding(String key, String teacher, String model, int requestedDims, String text, float[] vector,
                              long promptTokens, String requestId, Instant createdAt) {
    public StoredEmbedding {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(vector, "vector");
        if (vector.length == 0) throw new IllegalArgumentException("an embedding needs at least one dimension");
    }

    /** The vector as a blob: float32, little-endian (the layout of OpenAI's base64 embeddings and of safetensors). */
    public static byte[] encode(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b.array();
    }

    public static float[] decode(byte[] blob) {
        if (blob.length % Float.BYTES != 0) {
            throw new InvalidInputException("an embedding blob of " + blob.length + " bytes is not float32 values");
        }
        float[] v = new float[blob.length / Float.BYTES];
        ByteBuffer.wrap(blob).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
        return v;
    }
}
