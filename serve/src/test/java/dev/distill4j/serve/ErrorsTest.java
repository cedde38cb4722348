package dev.distill4j.serve;

import dev.distill4j.model.local.LocalModel;
import static dev.distill4j.serve.ServerFixture.KEY;
import static dev.distill4j.serve.ServerFixture.NAME;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Error statuses and bodies in OpenAI's shape, over raw HTTP. */
class ErrorsTest {
    static LocalModel model;
    static OpenAiServer server;
    static int port;

    @BeforeAll
    static void start() throws Exception {
        model = LocalModel.load(ServerFixture.modelDir());
        server = OpenAiServer.builder().setModel(model).optServedModelName(NAME).optApiKey(KEY).optPort(0).build();
        port = server.start();
    }

    @AfterAll
    static void stop() {
        server.close();
        model.close();
    }

    private static String chat(String extra) {
        return "{\"model\":\"" + NAME + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":2"
                + extra + "}";
    }

    /** Checks the status and the {error: {message, type, param, code}} shape; returns the error object. */
    private static JsonNode error(ServerFixture.Reply r, int status) {
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        assertThat(r.response().headers().firstValue("Content-Type").orElse("")).startsWith("application/json");
        JsonNode e = Json.parse(r.body()).get("error");
        assertThat(e).as(r.body()).isNotNull();
        assertThat(e.get("message").asText()).isNotBlank();
        assertThat(e.has("type")).isTrue();
        assertThat(e.has("param")).isTrue();
        assertThat(e.has("code")).isTrue();
        return e;
    }

    @Test
    void invalidJsonIs400() throws Exception {
        JsonNode e = error(ServerFixture.post(port, "/v1/chat/completions", KEY, "{\"model\": \"tiny\", "), 400);
        assertThat(e.get("type").asText()).isEqualTo("invalid_request_error");
        assertThat(e.get("message").asText()).contains("could not parse the JSON body");
    }

    @Test
    void missingOrWrongKeyIs401AndNeverEchoesTheKey() throws Exception {
        JsonNode none = error(ServerFixture.post(port, "/v1/chat/completions", null, chat("")), 401);
        assertThat(none.get("code").asText()).isEqualTo("invalid_api_key");
        var wrong = ServerFixture.post(port, "/v1/chat/completions", "sk-wrong-secret", chat(""));
        assertThat(error(wrong, 401).get("code").asText()).isEqualTo("invalid_api_key");
        assertThat(wrong.body()).doesNotContain("sk-wrong-secret").doesNotContain(KEY);
        assertThat(error(ServerFixture.get(port, "/v1/models", null), 401).get("code").asText())
                .isEqualTo("invalid_api_key");
        // health and metrics stay open for probes
        assertThat(ServerFixture.get(port, "/health", null).status()).isEqualTo(200);
    }

    @Test
    void unknownModelIs404() throws Exception {
        var r = ServerFixture.post(port, "/v1/chat/completions", KEY,
                chat("").replace("\"" + NAME + "\"", "\"gpt-17\""));
        JsonNode e = error(r, 404);
        assertThat(e.get("code").asText()).isEqualTo("model_not_found");
        assertThat(e.get("param").asText()).isEqualTo("model");
        assertThat(e.get("message").asText()).contains("gpt-17");
        assertThat(error(ServerFixture.post(port, "/v1/completions", KEY,
                "{\"model\":\"nope\",\"prompt\":\"x\"}"), 404).get("code").asText()).isEqualTo("model_not_found");
    }

    @Test
    void contextTooLongIs400() throws Exception {
        String longText = "word ".repeat(200);   // > 128 tokens of context
        var r = ServerFixture.post(port, "/v1/chat/completions", KEY, "{\"model\":\"" + NAME
                + "\",\"messages\":[{\"role\":\"user\",\"content\":\"" + longText + "\"}],\"max_tokens\":8}");
        JsonNode e = error(r, 400);
        assertThat(e.get("code").asText()).isEqualTo("context_length_exceeded");
        assertThat(e.get("message").asText()).contains("maximum context length is 128 tokens");
        // a short prompt with too many completion tokens, on the legacy endpoint
        var c = ServerFixture.post(port, "/v1/completions", KEY,
                "{\"model\":\"" + NAME + "\",\"prompt\":\"hi\",\"max_tokens\":500}");
        assertThat(error(c, 400).get("code").asText()).isEqualTo("context_length_exceeded");
    }

    @Test
    void badParametersAre400NamingTheParameter() throws Exception {
        record Case(String path, String body, String param) {}
        List<Case> cases = List.of(
                new Case("/v1/chat/completions", "{\"model\":\"" + NAME + "\"}", "messages"),
                new Case("/v1/chat/completions", "{\"model\":\"" + NAME + "\",\"messages\":[]}", "messages"),
                new Case("/v1/chat/completions", chat(",\"logprobs\":true,\"top_logprobs\":21"), "top_logprobs"),
                new Case("/v1/chat/completions", chat(",\"top_logprobs\":3"), "top_logprobs"),
                new Case("/v1/chat/completions", chat(",\"temperature\":2.5"), "temperature"),
                new Case("/v1/chat/completions", chat(",\"temperature\":\"hot\""), "temperature"),
                new Case("/v1/chat/completions", chat(",\"top_p\":1.5"), "top_p"),
                new Case("/v1/chat/completions", chat(",\"n\":0"), "n"),
                new Case("/v1/chat/completions", chat(",\"max_completion_tokens\":0"), "max_completion_tokens"),
                new Case("/v1/chat/completions", chat(",\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]"), "stop"),
                new Case("/v1/chat/completions", chat(",\"stream_options\":{\"include_usage\":true}"), "stream_options"),
                new Case("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", "model"),
                new Case("/v1/chat/completions", "{\"model\":\"" + NAME + "\",\"messages\":[{\"role\":\"robot\","
                        + "\"content\":\"x\"}]}", "messages[0].role"),
                new Case("/v1/completions", "{\"model\":\"" + NAME + "\"}", "prompt"),
                new Case("/v1/completions", "{\"model\":\"" + NAME + "\",\"prompt\":\"x\",\"logprobs\":21}", "logprobs"));
        for (Case c : cases) {
            JsonNode e = error(ServerFixture.post(port, c.path(), KEY, c.body()), 400);
            assertThat(e.get("param").asText()).as(c.body()).isEqualTo(c.param());
        }
    }

    @Test
    void unknownPathIs404InOpenAiShape() throws Exception {
        error(ServerFixture.get(port, "/v1/nothing", KEY), 404);
    }

    @Test
    void fullQueueIs429AndTheRestSucceed() throws Exception {
        try (OpenAiServer small = OpenAiServer.builder().setModel(model).optServedModelName(NAME).optPort(0)
                .optMaxBatch(1).optMaxQueue(2).build()) {
            int p = small.start();
            String body = "{\"model\":\"" + NAME + "\",\"prompt\":\"count\",\"max_tokens\":100,\"temperature\":0}";
            List<Future<ServerFixture.Reply>> replies = new ArrayList<>();
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = 0; i < 24; i++) {
                    replies.add(pool.submit(() -> ServerFixture.post(p, "/v1/completions", null, body)));
                }
            }
            int ok = 0;
            int busy = 0;
            for (Future<ServerFixture.Reply> f : replies) {
                ServerFixture.Reply r = f.get();
                if (r.status() == 200) ok++;
                else {
                    JsonNode e = error(r, 429);
                    assertThat(e.get("code").asText()).isEqualTo("rate_limit_exceeded");
                    assertThat(r.response().headers().firstValue("Retry-After")).hasValue("1");
                    busy++;
                }
            }
            // one running + two waiting at any time: at least 3 get through, and 24 at once must overflow
            assertThat(ok).isGreaterThanOrEqualTo(3);
            assertThat(busy).isPositive();
            assertThat(ok + busy).isEqualTo(24);
            String metrics = ServerFixture.get(p, "/metrics", null).body();
            assertThat(metrics).contains("distill4j_requests_total{endpoint=\"/v1/completions\",status=\"429\"} "
                    + busy);
        }
    }

    @Test
    void metricsAreInPrometheusTextFormat() throws Exception {
        ServerFixture.post(port, "/v1/chat/completions", KEY, chat(""));
        var r = ServerFixture.get(port, "/metrics", null);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.response().headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
        assertThat(r.body())
                .contains("# TYPE distill4j_requests_total counter")
                .contains("distill4j_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"}")
                .contains("# TYPE distill4j_request_duration_seconds histogram")
                .contains("distill4j_request_duration_seconds_bucket{endpoint=\"/v1/chat/completions\",le=\"+Inf\"}")
                .contains("distill4j_batch_size_count")
                .contains("distill4j_queue_depth 0")
                .containsPattern("distill4j_completion_tokens_total [1-9]");
        for (String line : r.body().split("\n")) {
            assertThat(line).matches("# (HELP|TYPE) .*|[a-z_][a-z0-9_]*(\\{[^}]*\\})? [0-9.E+-]+");
        }
    }
}
