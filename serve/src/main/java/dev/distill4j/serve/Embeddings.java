package dev.distill4j.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.embed.EmbeddingModel;
import dev.distill4j.embed.Vectors;
import io.javalin.http.Context;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * {@code POST /v1/embeddings} as OpenAI defines it: {@code input} is a string, an array of strings, an array of
 * token ids or an array of token-id arrays (ids of the served model's own tokenizer, no special tokens);
 * {@code encoding_format} {@code float} (default) or {@code base64} (little-endian float32); {@code dimensions}
 * cuts each vector to its first N components and re-normalises it, as OpenAI's text-embedding-3 models do, which
 * only keeps meaning for Matryoshka-trained models (for others it is a lossy projection); {@code user} is ignored.
 *
 * <p>Concurrent requests are merged into shared model calls by an {@link EmbeddingBatcher}; parsing the request
 * and writing the response happen on the request's own thread.
 */
final class Embeddings {
    /** OpenAI's limit on inputs per request. */
    static final int MAX_INPUTS = 2048;

    private final OpenAiServer server;
    private final EmbeddingModel model;
    private final EmbeddingBatcher batcher;

    Embeddings(OpenAiServer server, EmbeddingModel model, Metrics metrics) {
        this.server = server;
        this.model = model;
        this.batcher = new EmbeddingBatcher(model, EmbeddingBatcher.DEFAULT_MAX_BATCH, metrics);
    }

    /** Fails the requests still queued; the model itself belongs to the caller. */
    void close() { batcher.close(); }

    /** What {@code input} held: texts, or token-id arrays. */
    sealed interface Input {
        int size();
    }

    record Texts(List<String> texts) implements Input {
        public int size() { return texts.size(); }
    }

    record TokenArrays(List<long[]> ids) implements Input {
        public int size() { return ids.size(); }
    }

    void handle(Context ctx) throws InterruptedException {
        ObjectNode body = OpenAiServer.body(ctx);
        JsonNode m = body.get("model");
        if (m == null || m.isNull()) throw OpenAiError.badRequest("model", "you must provide a model parameter");
        if (!m.isTextual()) throw RequestParams.invalidType("model", "a string", m);
        server.checkEmbeddingModel(m.asText());
        Input input = input(body.get("input"));
        boolean base64 = base64(body.get("encoding_format"));
        int dims = dimensions(body.get("dimensions"));
        JsonNode user = body.get("user");
        if (user != null && !user.isNull() && !user.isTextual()) throw RequestParams.invalidType("user", "a string", user);

        if (input instanceof TokenArrays && !model.acceptsTokenIds()) {
            throw OpenAiError.invalidValue("input", "The model `" + server.embeddingModelName()
                    + "` does not accept token arrays; send the input as text.");
        }
        // the tokens are known only once embedded: a spent token bucket refuses now, the count is charged after
        server.admitTokens(ctx, 0);
        EmbeddingModel.Embedded embedded = await(batcher.submit(input), input);
        float[][] vectors = embedded.vectors();
        long tokens = embedded.totalTokens();

        ObjectNode out = Json.object();
        out.put("object", "list");
        ArrayNode data = out.putArray("data");
        for (int i = 0; i < vectors.length; i++) {
            float[] v = dims == model.dimension() ? vectors[i] : Vectors.normalize(Arrays.copyOf(vectors[i], dims));
            ObjectNode item = data.addObject();
            item.put("object", "embedding");
            item.put("index", i);
            if (base64) item.put("embedding", base64(v));
            else {
                ArrayNode a = item.putArray("embedding");
                for (float x : v) a.add(x);
            }
        }
        out.put("model", server.embeddingModelName());
        ObjectNode usage = out.putObject("usage");
        usage.put("prompt_tokens", tokens);
        usage.put("total_tokens", tokens);
        server.recordEmbeddings(ctx, vectors.length, tokens);
        ctx.contentType("application/json").result(Json.write(out));
    }

    /**
     * Waits for this request's share of a batch. A bad token id is the client's 400, as the model words it; other
     * failures keep their own type, so the route answers them as it answers any handler's.
     */
    private static EmbeddingModel.Embedded await(CompletableFuture<EmbeddingModel.Embedded> f, Input input)
            throws InterruptedException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            f.cancel(false);     // the client is gone: the batcher drops it if its batch has not started
            throw e;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IllegalArgumentException bad && input instanceof TokenArrays) {
                throw OpenAiError.invalidValue("input", "Invalid 'input': " + bad.getMessage() + ".");
            }
            if (cause instanceof RuntimeException r) throw r;
            if (cause instanceof Error err) throw err;
            throw OpenAiError.internal(cause.toString());
        }
    }

    /** The four shapes OpenAI accepts; anything else, an empty string or an empty array is OpenAI's 400. */
    static Input input(JsonNode n) {
        if (n == null || n.isNull()) throw OpenAiError.badRequest("input", "you must provide an input parameter");
        if (n.isTextual()) {
            if (n.asText().isEmpty()) throw invalidInput("the input is an empty string");
            return new Texts(List.of(n.asText()));
        }
        if (!n.isArray()) throw RequestParams.invalidType("input", "a string or an array", n);
        if (n.isEmpty()) throw invalidInput("the input is an empty array");
        if (n.size() > MAX_INPUTS) {
            throw invalidInput(n.size() + " inputs in one request; at most " + MAX_INPUTS + " are allowed");
        }
        JsonNode first = n.get(0);
        if (first.isTextual()) {
            List<String> texts = new ArrayList<>(n.size());
            for (int i = 0; i < n.size(); i++) {
                JsonNode s = n.get(i);
                if (!s.isTextual()) throw invalidInput("input " + i + " is not a string, but input 0 is");
                if (s.asText().isEmpty()) throw invalidInput("input " + i + " is an empty string");
                texts.add(s.asText());
            }
            return new Texts(texts);
        }
        if (first.isIntegralNumber()) return new TokenArrays(List.of(tokenArray(n, "the input")));
        if (first.isArray()) {
            List<long[]> ids = new ArrayList<>(n.size());
            for (int i = 0; i < n.size(); i++) {
                if (!n.get(i).isArray()) throw invalidInput("input " + i + " is not a token array, but input 0 is");
                ids.add(tokenArray(n.get(i), "input " + i));
            }
            return new TokenArrays(ids);
        }
        throw invalidInput("input 0 is neither a string, a token id nor a token array");
    }

    private static long[] tokenArray(JsonNode a, String what) {
        if (a.isEmpty()) throw invalidInput(what + " is an empty token array");
        long[] ids = new long[a.size()];
        for (int j = 0; j < ids.length; j++) {
            JsonNode t = a.get(j);
            if (!t.isIntegralNumber() || !t.canConvertToLong()) throw invalidInput(what + " holds a non-integer token");
            ids[j] = t.asLong();
        }
        return ids;
    }

    /** OpenAI's words for a malformed input, followed by what exactly is wrong. */
    private static OpenAiError invalidInput(String why) {
        return OpenAiError.badRequest(null, "'$.input' is invalid. Please check the API reference: "
                + "https://platform.openai.com/docs/api-reference. (" + why + ")");
    }

    private static boolean base64(JsonNode f) {
        if (f == null || f.isNull()) return false;
        if (f.isTextual() && f.asText().equals("float")) return false;
        if (f.isTextual() && f.asText().equals("base64")) return true;
        throw OpenAiError.invalidValue("encoding_format", "Invalid value for 'encoding_format': expected 'float' or "
                + "'base64', but got " + f + " instead.");
    }

    private int dimensions(JsonNode d) {
        int full = model.dimension();
        if (d == null || d.isNull()) return full;
        if (!d.isIntegralNumber() || !d.canConvertToInt()) throw RequestParams.invalidType("dimensions", "an integer", d);
        int n = d.asInt();
        if (n < 1 || n > full) {
            throw OpenAiError.invalidValue("dimensions", "Invalid value for 'dimensions' = " + n + ": the model `"
                    + server.embeddingModelName() + "` gives " + full + "-dimensional embeddings, so 'dimensions' "
                    + "must be between 1 and " + full + ".");
        }
        return n;
    }

    /** Little-endian float32, base64: what OpenAI's {@code encoding_format: base64} sends. */
    static String base64(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return Base64.getEncoder().encodeToString(b.array());
    }
}
