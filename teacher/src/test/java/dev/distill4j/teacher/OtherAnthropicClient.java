package dev.distill4j.teacher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.teacher.stub.AnthropicStub;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/**
 * Another client of the same Anthropic workspace, speaking the Message Batches wire format by hand: it makes batches
 * of its own (which a lost create's look-up must tell from ours), lists and polls them.
 */
final class OtherAnthropicClient implements AutoCloseable {
    private final AnthropicStub stub;
    private final String key;
    private final HttpClient http = HttpClient.newHttpClient();

    OtherAnthropicClient(AnthropicStub stub, String key) {
        this.stub = stub;
        this.key = key;
    }

    /** Creates a batch of {@code n} small requests with custom ids {@code prefix-i}; returns its id. */
    String create(int n, String prefix) throws Exception {
        ObjectNode body = Json.object();
        ArrayNode requests = body.putArray("requests");
        for (int i = 0; i < n; i++) {
            ObjectNode q = requests.addObject();
            q.put("custom_id", prefix + "-" + i);
            ObjectNode params = q.putObject("params");
            params.put("model", "claude-sonnet-4-5");
            params.put("max_tokens", 16);
            params.putArray("messages").addObject().put("role", "user").put("content", "Say " + prefix + " " + i);
        }
        HttpResponse<String> r = send("POST", "/v1/messages/batches", Json.write(body));
        if (r.statusCode() != 200) throw new AssertionError("create answered " + r.statusCode() + ": " + r.body());
        return Json.parse(r.body()).get("id").asText();
    }

    /** {@code GET /v1/messages/batches?query}: status and body. */
    HttpResponse<String> list(String query) throws Exception {
        return send("GET", "/v1/messages/batches" + (query.isEmpty() ? "" : "?" + query), null);
    }

    /** The ids of one page of the list. */
    static java.util.List<String> ids(JsonNode page) {
        java.util.List<String> out = new java.util.ArrayList<>();
        for (JsonNode b : page.get("data")) out.add(b.get("id").asText());
        return out;
    }

    /** Polls a batch; the stub runs it once its plan's polls in progress are used up. */
    JsonNode poll(String id) throws Exception {
        return Json.parse(send("GET", "/v1/messages/batches/" + id, null).body());
    }

    private HttpResponse<String> send(String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(stub.baseUrl() + path))
                .header("x-api-key", key).header("anthropic-version", AnthropicTeacher.API_VERSION);
        if (body != null) b.header("Content-Type", "application/json");
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Override public void close() { http.close(); }
}
