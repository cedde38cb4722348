package dev.distill4j.teacher.stub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * OpenAI's API as the wire sees it: {@code POST /v1/chat/completions}, {@code POST /v1/completions} (legacy) and
 * {@code POST /v1/embeddings} and {@code GET /v1/models}, and the Files and Batch API ({@link OpenAiBatches}: upload,
 * create, poll, output and error files, expired and partly failed batches as {@link BatchPlan}s say), with OpenAI's response shapes ({@code id}, {@code object}, {@code created}, {@code model},
 * {@code system_fingerprint}, choices, logprobs with bytes, usage with details), headers ({@code x-request-id},
 * {@code x-ratelimit-*}) and error bodies ({@code {"error":{"message","type","param","code"}}}). Answers come from
 * {@link StubAnswer}. Like vLLM, the legacy endpoint allows up to 20 logprobs.
 *
 * <p>Standalone, for benchmarks and the kill test: {@code java ... OpenAiStub --port 0 --latency-ms 20
 * --top-logprobs-default 5 [--embedding-dims 64] [--api-key K] [--model M]... [--answer-tokens N]} prints the port on its first line and
 * serves until killed (recording off).
 */
public final class OpenAiStub extends StubServer<OpenAiStub> {
    public static final int MAX_TOP_LOGPROBS = 20;
    /** OpenAI's limit on inputs per embeddings request. */
    public static final int MAX_EMBEDDING_INPUTS = 2048;
    private volatile int topLogprobsDefault = 0;
    private volatile int embeddingDims = 64;
    private final OpenAiBatches batches = new OpenAiBatches(this);

    private OpenAiStub(int port) {
        super(port);
    }

    /** A stub on a free loopback port. */
    public static OpenAiStub start() { return new OpenAiStub(0); }

    public static OpenAiStub start(int port) { return new OpenAiStub(port); }

    /** The base URL clients are given: {@code http://127.0.0.1:port/v1}. */
    public String baseUrl() { return rootUri() + "/v1"; }

    /** Alternatives per token when a chat request sets {@code logprobs: true} without {@code top_logprobs}. */
    public OpenAiStub topLogprobsDefault(int k) { this.topLogprobsDefault = k; return this; }

    /** The native size of the stub's embedding model (default 64); {@code dimensions} may ask for fewer. */
    public OpenAiStub embeddingDims(int d) { this.embeddingDims = d; return this; }

    public int embeddingDims() { return embeddingDims; }

    @Override protected Map<String, String> standardHeaders(long seq) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("x-request-id", requestId(seq));
        h.put("openai-organization", "stub-org");
        h.put("openai-processing-ms", "1");
        h.put("openai-version", "2020-10-01");
        h.put("x-ratelimit-limit-requests", "10000");
        h.put("x-ratelimit-limit-tokens", "30000000");
        h.put("x-ratelimit-remaining-requests", "9999");
        h.put("x-ratelimit-remaining-tokens", "29999000");
        h.put("x-ratelimit-reset-requests", "6ms");
        h.put("x-ratelimit-reset-tokens", "2ms");
        return h;
    }

    /** The {@code x-request-id} of the request with this arrival number. */
    public static String requestId(long seq) {
        return String.format("req_%016x%016x", seq, seq * 0x9E3779B97F4A7C15L);
    }

    @Override protected Reply error(int status, String message, String type, String code) {
        if (type == null) {
            type = switch (status) {
                case 429 -> "requests";
                default -> status >= 500 ? "server_error" : "invalid_request_error";
            };
        }
        if (code == null && status == 429) code = "rate_limit_exceeded";
        ObjectNode body = Json.object();
        ObjectNode e = body.putObject("error");
        e.put("message", message);
        e.put("type", type);
        e.putNull("param");
        if (code == null) e.putNull("code");
        else e.put("code", code);
        return Reply.json(status, Map.of(), body);
    }

    @Override protected JsonNode bodyWithoutRequiredFields(long seq) {
        ObjectNode n = Json.object();
        n.put("id", "chatcmpl-" + seq);
        n.put("object", "chat.completion");
        n.put("created", createdNow());
        return n;
    }

    @Override protected Reply answer(RecordedRequest r) {
        String key = apiKey();
        if (key != null) {
            String auth = r.header("Authorization");
            if (auth == null || !auth.startsWith("Bearer ")) {
                return error(401, "You didn't provide an API key. You need to provide your API key in an"
                        + " Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", null, null);
            }
            String given = auth.substring(7);
            if (!given.equals(key)) {
                String shown = given.length() > 8 ? given.substring(0, 3) + "*".repeat(4) + given.substring(given.length() - 4) : "****";
                return error(401, "Incorrect API key provided: " + shown + ". You can find your API key at"
                        + " https://platform.openai.com/account/api-keys.", null, "invalid_api_key");
            }
        }
        String path = r.path();
        if (path.startsWith("/v1/files") || path.startsWith("/v1/batches")) {
            Reply batch = batches.handle(r);
            if (batch != null) return batch;
        }
        if (r.method().equals("GET") && path.equals("/v1/models")) return modelList();
        if (r.method().equals("POST") && path.equals("/v1/embeddings")) return embeddings(r);
        boolean chat = path.equals("/v1/chat/completions");
        if (!r.method().equals("POST") || !(chat || path.equals("/v1/completions"))) {
            return error(404, "Invalid URL (" + r.method() + " " + path + ")", null, null);
        }
        ObjectNode body = jsonObject(r);
        Reply invalid = invalidBody(body);
        if (invalid != null) return invalid;
        JsonNode model = body.get("model");
        int maxTokens = Integer.MAX_VALUE;
        for (String f : new String[] {"max_tokens", "max_completion_tokens"}) {
            if (body.hasNonNull(f)) maxTokens = body.get(f).asInt();
        }
        if (maxTokens < 1) return badParam("max_tokens", "integer below minimum value. Expected a value >= 1");
        List<String> stop = new ArrayList<>();
        JsonNode s = body.get("stop");
        if (s != null && s.isTextual()) stop.add(s.asText());
        if (s != null && s.isArray()) s.forEach(x -> stop.add(x.asText()));
        return chat ? chat(body, model.asText(), maxTokens, stop, r.seq())
                : completion(body, model.asText(), maxTokens, stop, r.seq());
    }

    private Reply badParam(String param, String what) {
        return error(400, "Invalid '" + param + "': " + what + ".", null, "invalid_value");
    }

    private Reply chat(ObjectNode body, String model, int maxTokens, List<String> stop, long seq) {
        JsonNode messages = body.get("messages");
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            return error(400, "Missing required parameter: 'messages'.", null, "missing_required_parameter");
        }
        List<String> contents = new ArrayList<>();
        String last = null;
        for (JsonNode m : messages) {
            String c = m.path("content").asText("");
            contents.add(c);
            if (m.path("role").asText().equals("user")) last = c;
        }
        if (last == null) last = contents.getLast();
        boolean logprobs = body.path("logprobs").asBoolean(false);
        int k = 0;
        if (body.hasNonNull("top_logprobs")) {
            k = body.get("top_logprobs").asInt();
            if (!logprobs) {
                return badParam("top_logprobs", "'logprobs' must be set to true when 'top_logprobs' is used");
            }
            if (k > MAX_TOP_LOGPROBS) {
                return badParam("top_logprobs", "integer above maximum value. Expected a value <= 20, but got " + k
                        + " instead");
            }
        } else if (logprobs) {
            k = topLogprobsDefault;
        }
        StubAnswer a = answerFor(last, maxTokens, stop);
        ObjectNode out = Json.object();
        out.put("id", "chatcmpl-stub" + seq);
        out.put("object", "chat.completion");
        out.put("created", createdNow());
        out.put("model", model);
        ObjectNode choice = out.putArray("choices").addObject();
        choice.put("index", 0);
        ObjectNode message = choice.putObject("message");
        message.put("role", "assistant");
        message.put("content", a.text());
        message.putNull("refusal");
        message.putArray("annotations");
        if (logprobs) {
            ObjectNode lp = choice.putObject("logprobs");
            ArrayNode content = lp.putArray("content");
            for (int i = 0; i < a.tokens().size(); i++) {
                String t = a.tokens().get(i);
                ObjectNode e = content.addObject();
                tokenEntry(e, t, StubAnswer.chosenLogprob(i));
                ArrayNode top = e.putArray("top_logprobs");
                if (k > 0) tokenEntry(top.addObject(), t, StubAnswer.chosenLogprob(i));
                for (int j = 1; j < k; j++) {
                    tokenEntry(top.addObject(), StubAnswer.alternativeToken(i, j), StubAnswer.alternativeLogprob(i, j));
                }
            }
            lp.putNull("refusal");
        } else {
            choice.putNull("logprobs");
        }
        choice.put("finish_reason", a.finish());
        ObjectNode usage = usage(out, StubAnswer.promptTokens(contents), a.tokens().size());
        usage.putObject("prompt_tokens_details").put("cached_tokens", 0).put("audio_tokens", 0);
        usage.putObject("completion_tokens_details").put("reasoning_tokens", 0).put("audio_tokens", 0)
                .put("accepted_prediction_tokens", 0).put("rejected_prediction_tokens", 0);
        out.put("service_tier", "default");
        out.put("system_fingerprint", "fp_stub0001");
        return Reply.json(200, Map.of(), out);
    }

    private Reply completion(ObjectNode body, String model, int maxTokens, List<String> stop, long seq) {
        JsonNode p = body.get("prompt");
        if (p != null && p.isArray() && !p.isEmpty()) p = p.get(0);
        if (p == null || !p.isTextual()) {
            return error(400, "Missing required parameter: 'prompt'.", null, "missing_required_parameter");
        }
        int k = body.hasNonNull("logprobs") ? body.get("logprobs").asInt() : 0;
        if (k > MAX_TOP_LOGPROBS) {
            return badParam("logprobs", "integer above maximum value. Expected a value <= 20, but got " + k + " instead");
        }
        StubAnswer a = answerFor(p.asText(), maxTokens, stop);
        ObjectNode out = Json.object();
        out.put("id", "cmpl-stub" + seq);
        out.put("object", "text_completion");
        out.put("created", createdNow());
        out.put("model", model);
        ObjectNode choice = out.putArray("choices").addObject();
        choice.put("text", a.text());
        choice.put("index", 0);
        if (body.hasNonNull("logprobs")) {
            ObjectNode lp = choice.putObject("logprobs");
            ArrayNode tokens = lp.putArray("tokens");
            ArrayNode logprobs = lp.putArray("token_logprobs");
            ArrayNode top = lp.putArray("top_logprobs");
            ArrayNode offsets = lp.putArray("text_offset");
            int offset = p.asText().length();
            for (int i = 0; i < a.tokens().size(); i++) {
                String t = a.tokens().get(i);
                tokens.add(t);
                logprobs.add(StubAnswer.chosenLogprob(i));
                ObjectNode alts = top.addObject();
                if (k > 0) alts.put(t, StubAnswer.chosenLogprob(i));
                for (int j = 1; j < k; j++) alts.put(StubAnswer.alternativeToken(i, j), StubAnswer.alternativeLogprob(i, j));
                offsets.add(offset);
                offset += t.length();
            }
        } else {
            choice.putNull("logprobs");
        }
        choice.put("finish_reason", a.finish());
        usage(out, StubAnswer.promptTokens(List.of(p.asText())) - 7, a.tokens().size());
        out.put("system_fingerprint", "fp_stub0001");
        return Reply.json(200, Map.of(), out);
    }

    /** OpenAI's answer to a body that is not JSON or names no known model; null when the body will do. */
    private Reply invalidBody(ObjectNode body) {
        if (body == null) {
            return error(400, "We could not parse the JSON body of your request. (HINT: This likely means you"
                    + " aren't using your HTTP library correctly.)", null, null);
        }
        JsonNode model = body.get("model");
        if (model == null || !model.isTextual()) return error(400, "you must provide a model parameter", null, null);
        if (!modelKnown(model.asText())) {
            return error(404, "The model `" + model.asText() + "` does not exist or you do not have access to it.",
                    null, "model_not_found");
        }
        return null;
    }

    /**
     * {@code /v1/embeddings}: {@code input} a string or an array of strings, {@code encoding_format} float (default,
     * as on OpenAI's server) or base64, optional {@code dimensions}. Vectors come from {@link #embeddingOf}; data is
     * listed in input order, usage counts each input's words as its tokens.
     */
    private Reply embeddings(RecordedRequest r) {
        ObjectNode body = jsonObject(r);
        Reply invalid = invalidBody(body);
        if (invalid != null) return invalid;
        JsonNode model = body.get("model");
        JsonNode input = body.get("input");
        if (input == null || input.isNull()) {
            return error(400, "Missing required parameter: 'input'.", null, "missing_required_parameter");
        }
        List<String> texts = new ArrayList<>();
        if (input.isTextual()) texts.add(input.asText());
        else if (input.isArray()) input.forEach(t -> texts.add(t.isTextual() ? t.asText() : null));
        if (texts.isEmpty() || texts.contains(null) || texts.contains("")) {
            return error(400, "'$.input' is invalid. Please check the API reference:"
                    + " https://platform.openai.com/docs/api-reference.", null, null);
        }
        if (texts.size() > MAX_EMBEDDING_INPUTS) {
            return badParam("input", "array too long. Expected an array with maximum length " + MAX_EMBEDDING_INPUTS
                    + ", but got an array with length " + texts.size() + " instead");
        }
        String format = body.path("encoding_format").asText("float");
        if (!format.equals("float") && !format.equals("base64")) {
            return badParam("encoding_format", "value must be one of 'float' or 'base64'");
        }
        int dims = embeddingDims;
        if (body.hasNonNull("dimensions")) {
            int d = body.get("dimensions").asInt();
            if (d < 1) return badParam("dimensions", "integer below minimum value. Expected a value >= 1, but got " + d + " instead");
            if (d > embeddingDims) {
                return badParam("dimensions", "integer above maximum value. Expected a value <= " + embeddingDims
                        + ", but got " + d + " instead");
            }
            dims = d;
        }
        ObjectNode out = Json.object();
        out.put("object", "list");
        ArrayNode data = out.putArray("data");
        long tokens = 0;
        for (int i = 0; i < texts.size(); i++) {
            float[] v = embeddingOf(texts.get(i), embeddingDims, dims);
            ObjectNode e = data.addObject();
            e.put("object", "embedding");
            e.put("index", i);
            if (format.equals("base64")) {
                e.put("embedding", dev.distill4j.teacher.OpenAiEmbeddingTeacher.encodeBase64(v));
            } else {
                ArrayNode a = e.putArray("embedding");
                for (float x : v) a.add(x);
            }
            tokens += embeddingTokens(texts.get(i));
        }
        out.put("model", model.asText());
        out.putObject("usage").put("prompt_tokens", tokens).put("total_tokens", tokens);
        return Reply.json(200, Map.of(), out);
    }

    /** The tokens the stub bills for one input: its whitespace-separated words. */
    public static long embeddingTokens(String text) {
        String t = text.strip();
        return t.isEmpty() ? 1 : t.split("\\s+").length;
    }

    /**
     * The stub model's embedding of {@code text}: a bag of words, each lower-cased word (letters and digits) adding a
     * fixed pseudo-random Gaussian direction seeded by the word, L2-normalised; texts that share words are close.
     * With {@code dims < nativeDims} it is the first {@code dims} components renormalised, as OpenAI shortens
     * text-embedding-3 vectors.
     */
    public static float[] embeddingOf(String text, int nativeDims, int dims) {
        double[] sum = new double[nativeDims];
        String[] words = text.toLowerCase(java.util.Locale.ROOT).split("[^\\p{L}\\p{N}]+");
        boolean any = false;
        for (String w : words) {
            if (w.isEmpty()) continue;
            any = true;
            java.util.Random rnd = new java.util.Random(w.hashCode() * 0x9E3779B97F4A7C15L);
            for (int k = 0; k < nativeDims; k++) sum[k] += rnd.nextGaussian();
        }
        if (!any) {
            java.util.Random rnd = new java.util.Random(text.hashCode());
            for (int k = 0; k < nativeDims; k++) sum[k] = rnd.nextGaussian();
        }
        double norm = 0;
        for (int k = 0; k < dims; k++) norm += sum[k] * sum[k];
        norm = Math.sqrt(norm);
        float[] v = new float[dims];
        for (int k = 0; k < dims; k++) v[k] = (float) (sum[k] / norm);
        return v;
    }

    private static ObjectNode usage(ObjectNode out, long prompt, long completion) {
        ObjectNode u = out.putObject("usage");
        u.put("prompt_tokens", prompt);
        u.put("completion_tokens", completion);
        u.put("total_tokens", prompt + completion);
        return u;
    }

    private static void tokenEntry(ObjectNode e, String token, double logprob) {
        e.put("token", token);
        e.put("logprob", logprob);
        ArrayNode bytes = e.putArray("bytes");
        for (byte b : token.getBytes(StandardCharsets.UTF_8)) bytes.add(b & 0xff);
    }

    private Reply modelList() {
        ObjectNode out = Json.object();
        out.put("object", "list");
        ArrayNode data = out.putArray("data");
        for (String m : models().isEmpty() ? List.of("stub-model") : models()) {
            data.addObject().put("id", m).put("object", "model").put("created", 1700000000L).put("owned_by", "stub");
        }
        return Reply.json(200, Map.of(), out);
    }

    /** Runs the stub until killed; prints the port on the first line of stdout. */
    public static void main(String[] args) throws InterruptedException {
        StandaloneOptions o = StandaloneOptions.parse(args, "--top-logprobs-default", "--embedding-dims");
        OpenAiStub stub = o.apply(start(o.port()));
        stub.topLogprobsDefault(o.intOption("--top-logprobs-default", 0));
        stub.embeddingDims(o.intOption("--embedding-dims", stub.embeddingDims()));
        o.serveForever(stub);
    }
}
