package dev.distill4j.teacher.stub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Anthropic's Messages API as the wire sees it: {@code POST /v1/messages} with {@code x-api-key} and
 * {@code anthropic-version}, Anthropic's response shape ({@code id}, {@code type: message}, content blocks,
 * {@code stop_reason}, {@code stop_sequence}, usage with cache fields), headers ({@code request-id},
 * {@code anthropic-ratelimit-*} with RFC 3339 resets) and errors ({@code {"type":"error","error":{"type","message"}}},
 * 529 {@code overloaded_error}), and the Message Batches API ({@link AnthropicBatches}: create, poll, JSONL results with
 * succeeded, errored, canceled and expired requests as {@link BatchPlan}s say). Answers come from {@link StubAnswer}.
 */
public final class AnthropicStub extends StubServer<AnthropicStub> {
    private final AnthropicBatches batches = new AnthropicBatches(this);

    private AnthropicStub(int port) {
        super(port);
    }

    public static AnthropicStub start() { return new AnthropicStub(0); }

    /** The base URL clients are given: {@code http://127.0.0.1:port}. */
    public String baseUrl() { return rootUri().toString(); }

    @Override protected Map<String, String> standardHeaders(long seq) {
        String reset = Instant.now().plusSeconds(1).truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
        Map<String, String> h = new LinkedHashMap<>();
        h.put("request-id", requestId(seq));
        h.put("anthropic-organization-id", "00000000-0000-0000-0000-000000000000");
        h.put("anthropic-ratelimit-requests-limit", "4000");
        h.put("anthropic-ratelimit-requests-remaining", "3999");
        h.put("anthropic-ratelimit-requests-reset", reset);
        h.put("anthropic-ratelimit-tokens-limit", "480000");
        h.put("anthropic-ratelimit-tokens-remaining", "479000");
        h.put("anthropic-ratelimit-tokens-reset", reset);
        h.put("anthropic-ratelimit-input-tokens-limit", "400000");
        h.put("anthropic-ratelimit-input-tokens-remaining", "399000");
        h.put("anthropic-ratelimit-input-tokens-reset", reset);
        h.put("anthropic-ratelimit-output-tokens-limit", "80000");
        h.put("anthropic-ratelimit-output-tokens-remaining", "79900");
        h.put("anthropic-ratelimit-output-tokens-reset", reset);
        return h;
    }

    public static String requestId(long seq) {
        return String.format("req_011C%020d", seq);
    }

    @Override protected Reply error(int status, String message, String type, String code) {
        if (type == null) {
            type = switch (status) {
                case 401 -> "authentication_error";
                case 403 -> "permission_error";
                case 404 -> "not_found_error";
                case 413 -> "request_too_large";
                case 429 -> "rate_limit_error";
                case 529 -> "overloaded_error";
                default -> status >= 500 ? "api_error" : "invalid_request_error";
            };
        }
        ObjectNode body = Json.object();
        body.put("type", "error");
        body.putObject("error").put("type", type).put("message", message);
        return Reply.json(status, Map.of(), body);
    }

    @Override protected JsonNode bodyWithoutRequiredFields(long seq) {
        ObjectNode n = Json.object();
        n.put("id", "msg_stub" + seq);
        n.put("type", "message");
        n.put("role", "assistant");
        return n;
    }

    @Override protected Reply answer(RecordedRequest r) {
        String key = apiKey();
        if (key != null && !key.equals(r.header("x-api-key"))) {
            return error(401, "invalid x-api-key", null, null);
        }
        if (r.header("anthropic-version") == null) {
            return error(400, "anthropic-version: header is required", null, null);
        }
        if (r.path().startsWith("/v1/messages/batches")) return batches.handle(r);
        if (!r.method().equals("POST") || !r.path().equals("/v1/messages")) {
            return error(404, "Not Found", null, null);
        }
        ObjectNode body = jsonObject(r);
        if (body == null) return error(400, "There was an error parsing the body of your request.", null, null);
        JsonNode model = body.get("model");
        if (model == null || !model.isTextual()) return error(400, "model: Field required", null, null);
        if (!body.hasNonNull("max_tokens")) return error(400, "max_tokens: Field required", null, null);
        if (!modelKnown(model.asText())) return error(404, "model: " + model.asText(), null, null);
        JsonNode messages = body.get("messages");
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            return error(400, "messages: Field required", null, null);
        }
        List<String> contents = new ArrayList<>();
        if (body.hasNonNull("system")) contents.add(body.get("system").asText());
        String last = null;
        for (JsonNode m : messages) {
            String role = m.path("role").asText();
            if (!role.equals("user") && !role.equals("assistant")) {
                return error(400, "messages: Unexpected role \"" + role + "\". The Messages API accepts a top-level"
                        + " `system` parameter, not \"system\" as an input message role.", null, null);
            }
            String c = m.path("content").asText("");
            contents.add(c);
            if (role.equals("user")) last = c;
        }
        if (last == null) last = contents.getLast();
        List<String> stop = new ArrayList<>();
        body.path("stop_sequences").forEach(s -> stop.add(s.asText()));
        StubAnswer a = answerFor(last, body.get("max_tokens").asInt(), stop);
        ObjectNode out = Json.object();
        out.put("id", String.format("msg_01Stub%016d", r.seq()));
        out.put("type", "message");
        out.put("role", "assistant");
        out.put("model", model.asText());
        out.putArray("content").addObject().put("type", "text").put("text", a.text());
        out.put("stop_reason", a.stopSequence() != null ? "stop_sequence"
                : a.finish().equals("length") ? "max_tokens" : "end_turn");
        if (a.stopSequence() == null) out.putNull("stop_sequence");
        else out.put("stop_sequence", a.stopSequence());
        ObjectNode u = out.putObject("usage");
        u.put("input_tokens", StubAnswer.promptTokens(contents));
        u.put("cache_creation_input_tokens", 0);
        u.put("cache_read_input_tokens", 0);
        u.put("output_tokens", a.tokens().size());
        u.put("service_tier", "standard");
        return Reply.json(200, Map.of(), out);
    }

    /** Runs the stub until killed; prints the port on the first line of stdout. */
    public static void main(String[] args) throws InterruptedException {
        StandaloneOptions o = StandaloneOptions.parse(args);
        o.serveForever(o.apply(new AnthropicStub(o.port())));
    }
}
