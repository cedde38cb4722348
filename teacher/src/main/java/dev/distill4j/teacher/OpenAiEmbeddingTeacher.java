package dev.distill4j.teacher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import dev.distill4j.core.Usage;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * {@code POST {base}/embeddings} on OpenAI or any compatible server (vLLM, llama.cpp, Ollama, TEI, our serve): one
 * call embeds one batch of texts. Retries, pacing and budget are the caller's ({@link RequestLoop}); this class only
 * speaks the wire format, through the same {@link HttpTransport} as the text teachers.
 *
 * <p>Request: {@code {"model", "input": [texts], "encoding_format": "base64"|"float", "dimensions"?}}. Base64 is
 * the default, as in OpenAI's own SDKs: each vector is its float32 values, little-endian, base64-encoded, a quarter
 * of the bytes of decimal JSON and exact. Response: {@code {"object":"list","data":[{"object":"embedding",
 * "index":i,"embedding":...}],"model","usage":{"prompt_tokens","total_tokens"}}}; {@code data} is put back in input
 * order by {@code index}, which servers need not keep.
 */
public final class OpenAiEmbeddingTeacher implements AutoCloseable {
    /** How vectors travel. */
    public enum Encoding {
        /** float32 little-endian bytes in base64 (OpenAI SDK default). */
        BASE64,
        /** a JSON array of numbers. */
        FLOAT;

        public String wire() { return name().toLowerCase(Locale.ROOT); }

        public static Encoding parse(String s) {
            for (Encoding e : values()) if (e.wire().equalsIgnoreCase(s.trim())) return e;
            throw new InvalidInputException("unknown encoding format '" + s + "': use base64 or float");
        }
    }

    /**
     * One batch's answer.
     *
     * @param vectors one per input, in input order, as the server sent them (not renormalised)
     * @param model   the model that answered, as the server names it
     * @param usage   billed tokens: {@code prompt_tokens} (embeddings have no output tokens)
     */
    public record Response(float[][] vectors, String model, Usage usage, String requestId, long latencyMs,
                           RateLimitInfo rateLimits) implements RequestLoop.Billed {}

    private final TeacherConfig config;
    private final URI url;
    private final Integer dimensions;
    private final Encoding encoding;
    private final HttpTransport transport;

    /**
     * @param dimensions {@code dimensions} to ask for (models that support shortening, e.g. text-embedding-3-*), or
     *                   null for the model's own
     */
    public OpenAiEmbeddingTeacher(TeacherConfig config, Integer dimensions, Encoding encoding) {
        if (!config.provider().equals(TeacherConfig.OPENAI)) {
            throw new InvalidInputException("embeddings need an OpenAI-compatible server, not " + config.provider());
        }
        if (dimensions != null && dimensions < 1) {
            throw new InvalidInputException("embedding dimensions must be ≥ 1, got " + dimensions);
        }
        this.config = config;
        this.url = BaseUrls.openAi(config.baseUrl(), "embeddings");
        this.dimensions = dimensions;
        this.encoding = encoding == null ? Encoding.BASE64 : encoding;
        this.transport = new HttpTransport(config, OpenAiWire.headers(config));
    }

    /** Embeds one batch. {@code clientRequestId} goes out as {@code X-Client-Request-Id} (null for none). */
    public Response embed(List<String> inputs, String clientRequestId) throws TeacherException {
        if (inputs.isEmpty()) throw new InvalidInputException("nothing to embed");
        ObjectNode body = Json.object();
        body.put("model", config.model());
        var input = body.putArray("input");
        inputs.forEach(input::add);
        body.put("encoding_format", encoding.wire());
        if (dimensions != null) body.put("dimensions", dimensions);
        HttpTransport.Reply<Parsed> r = transport.exchange(url, body, clientRequestId, root -> parse(root, inputs.size()));
        return new Response(r.body().vectors(), r.body().model(), r.body().usage(), r.requestId(), r.latencyMs(),
                r.rateLimits());
    }

    private record Parsed(float[][] vectors, String model, Usage usage) {}

    private Parsed parse(JsonNode root, int expected) {
        JsonNode data = WireJson.array(root, "data", "data");
        if (data.size() != expected) {
            throw new WireJson.MalformedException("has " + data.size() + " embeddings in data for " + expected + " inputs");
        }
        float[][] vectors = new float[expected][];
        for (int i = 0; i < data.size(); i++) {
            String at = "data[" + i + "]";
            JsonNode item = data.get(i);
            if (!item.isObject()) throw new WireJson.MalformedException(at + " is not an object");
            long index = WireJson.count(item, "index", at + ".index");
            if (index < 0 || index >= expected || vectors[(int) index] != null) {
                throw new WireJson.MalformedException(at + ".index " + index + " is out of range or repeated (" + expected
                        + " inputs)");
            }
            vectors[(int) index] = vector(item.get("embedding"), at + ".embedding");
        }
        int dims = vectors[0].length;
        for (int i = 1; i < vectors.length; i++) {
            if (vectors[i].length != dims) {
                throw new WireJson.MalformedException("mixes vector sizes: " + dims + " and " + vectors[i].length);
            }
        }
        JsonNode model = WireJson.optional(root, "model");
        JsonNode u = WireJson.optional(root, "usage");
        // prompt_tokens is what embeddings are billed; servers that report nothing (some local ones) cost 0
        Usage usage = new Usage(u == null ? 0 : WireJson.optionalCount(u, "prompt_tokens"), 0);
        return new Parsed(vectors, model == null ? config.model() : model.asText(), usage);
    }

    private static float[] vector(JsonNode e, String path) {
        if (e == null || e.isNull()) throw new WireJson.MalformedException("lacks " + path);
        if (e.isTextual()) return decodeBase64(e.asText(), path);
        if (!e.isArray()) throw new WireJson.MalformedException(path + " is neither a base64 string nor an array");
        if (e.isEmpty()) throw new WireJson.MalformedException(path + " is empty");
        float[] v = new float[e.size()];
        for (int k = 0; k < v.length; k++) {
            JsonNode x = e.get(k);
            if (!x.isNumber()) throw new WireJson.MalformedException(path + "[" + k + "] is not a number");
            v[k] = (float) x.asDouble();
        }
        return v;
    }

    /** OpenAI's base64 embedding: float32 values, little-endian. */
    public static float[] decodeBase64(String s, String path) {
        byte[] raw;
        try {
            raw = Base64.getDecoder().decode(s);
        } catch (IllegalArgumentException e) {
            throw new WireJson.MalformedException(path + " is not valid base64 (" + e.getMessage() + ")");
        }
        if (raw.length == 0 || raw.length % Float.BYTES != 0) {
            throw new WireJson.MalformedException(path + " decodes to " + raw.length
                    + " bytes, not a whole number of float32 values");
        }
        float[] v = new float[raw.length / Float.BYTES];
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
        return v;
    }

    /** The inverse of {@link #decodeBase64}, for servers and stubs. */
    public static String encodeBase64(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return Base64.getEncoder().encodeToString(b.array());
    }

    /** Tokens a batch is held at by the budget and the token bucket before the server reports usage. */
    public static long estimateTokens(List<String> inputs) {
        long n = 0;
        for (String s : inputs) n += TokenEstimator.textTokens(s);
        return n;
    }

    public URI url() { return url; }

    public String provider() { return config.provider(); }

    public String model() { return config.model(); }

    /** The dimensions asked for, or null for the model's own. */
    public Integer dimensions() { return dimensions; }

    public Encoding encoding() { return encoding; }

    /** The API root, as runs record it (never with a key). */
    public String baseUrl() { return BaseUrls.openAiRoot(config.baseUrl()).toString(); }

    @Override public void close() { transport.close(); }

    @Override public String toString() {
        return "OpenAiEmbeddingTeacher[" + config.model() + " at " + url + ", " + encoding.wire()
                + (dimensions == null ? "" : ", " + dimensions + " dims") + "]";
    }
}
