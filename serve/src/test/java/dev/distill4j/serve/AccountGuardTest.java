package dev.distill4j.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import dev.distill4j.model.local.LocalModel;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code --guard} hook as the server uses it, with a scripted guard: asked at admission of generation requests
 * only, with the key file's account (or the client address); a blocked account gets 403 {@code account_blocked}, a
 * throttled one 429 with the rate-limit headers; finished requests reach {@code observe} with their parameters and
 * query after the response — a guard stuck in {@code observe} does not hold a response back.
 */
class AccountGuardTest {
    static LocalModel model;
    @TempDir Path tmp;

    @BeforeAll
    static void load() throws Exception { model = LocalModel.load(ServerFixture.modelDir()); }

    @AfterAll
    static void unload() { model.close(); }

    /** Answers from a map; observe waits for {@code release} so a test can prove it is off the request path. */
    static final class Scripted implements AccountGuard {
        final ConcurrentHashMap<String, Admission> answers = new ConcurrentHashMap<>();
        final List<String> admitted = new CopyOnWriteArrayList<>();
        final LinkedBlockingQueue<Request> seen = new LinkedBlockingQueue<>();
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        public Admission admit(String account, long nowMillis) {
            admitted.add(account);
            return answers.getOrDefault(account, Admission.PASS);
        }

        @Override
        public Action observe(Request r) {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            seen.add(r);
            return r.account().equals("acme") ? Action.FLAG : null;
        }
    }

    @Test
    void blocksThrottlesAndObservesAfterTheResponse() throws Exception {
        Path keys = tmp.resolve("keys.jsonl");
        Files.writeString(keys, "{\"name\": \"acme\", \"key\": \"sk-acme\"}\n{\"name\": \"evil\", \"key\": \"sk-evil\"}\n"
                + "{\"name\": \"slow\", \"key\": \"sk-slow\"}\n");
        Scripted guard = new Scripted();
        guard.answers.put("evil", new AccountGuard.Admission(AccountGuard.Action.BLOCK, 0, -1));
        guard.answers.put("slow", new AccountGuard.Admission(AccountGuard.Action.THROTTLE, 4, 15_000));
        try (OpenAiServer server = OpenAiServer.builder().setModel(model).optServedModelName(ServerFixture.NAME)
                .optPort(0).optKeys(keys).optGuard(guard).build();
             HttpClient http = HttpClient.newBuilder().build()) {
            String base = "http://127.0.0.1:" + server.start();
            // observe is stuck until release: the answer still arrives (were it on the request path, this times out)
            HttpResponse<String> ok = post(http, base + "/v1/chat/completions", "sk-acme", "{\"model\": \""
                    + ServerFixture.NAME + "\", \"messages\": [{\"role\": \"system\", \"content\": \"be brief\"}, "
                    + "{\"role\": \"user\", \"content\": \"Explain step by step\"}], \"max_tokens\": 2, "
                    + "\"temperature\": 0, \"n\": 2, \"logprobs\": true, \"top_logprobs\": 3}");
            assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
            assertThat(guard.seen).isEmpty();
            guard.release.countDown();
            AccountGuard.Request r = guard.seen.poll(10, TimeUnit.SECONDS);
            assertThat(r).isNotNull();
            assertThat(r.account()).isEqualTo("acme");
            assertThat(r.client()).isEqualTo("127.0.0.1");
            assertThat(r.endpoint()).isEqualTo("/v1/chat/completions");
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.temperature()).isEqualTo(0.0);
            assertThat(r.n()).isEqualTo(2);
            assertThat(r.logprobs()).isTrue();
            assertThat(r.topLogprobs()).isEqualTo(3);
            assertThat(r.query()).isEqualTo("Explain step by step");     // the last user message, not the system
            assertThat(r.promptTokens()).isPositive();
            assertThat(r.completionTokens()).isEqualTo(4);

            HttpResponse<String> blocked = post(http, base + "/v1/completions", "sk-evil", "{\"model\": \""
                    + ServerFixture.NAME + "\", \"prompt\": \"x\", \"max_tokens\": 1}");
            assertThat(blocked.statusCode()).isEqualTo(403);
            JsonNode err = Json.MAPPER.readTree(blocked.body()).get("error");
            assertThat(err.get("code").asText()).isEqualTo("account_blocked");
            assertThat(err.get("type").asText()).isEqualTo("request_forbidden");

            HttpResponse<String> throttled = post(http, base + "/v1/completions", "sk-slow", "{\"model\": \""
                    + ServerFixture.NAME + "\", \"prompt\": \"x\", \"max_tokens\": 1}");
            assertThat(throttled.statusCode()).isEqualTo(429);
            assertThat(throttled.headers().firstValue("Retry-After")).hasValue("15");
            assertThat(throttled.headers().firstValue("x-ratelimit-limit-requests")).hasValue("4");
            assertThat(throttled.headers().firstValue("x-ratelimit-reset-requests")).hasValue("15s");
            assertThat(Json.MAPPER.readTree(throttled.body()).at("/error/message").asText())
                    .contains("Rate limit reached for account slow").contains("Limit 4");

            // a 401 and the GET routes never reach the guard; refused requests are not observed
            assertThat(post(http, base + "/v1/completions", "sk-nobody", "{}").statusCode()).isEqualTo(401);
            http.send(HttpRequest.newBuilder(URI.create(base + "/v1/models")).header("Authorization",
                    "Bearer sk-acme").build(), HttpResponse.BodyHandlers.ofString());
            assertThat(guard.admitted).containsExactly("acme", "evil", "slow");
            assertThat(guard.seen.poll(300, TimeUnit.MILLISECONDS)).isNull();

            String metrics = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertThat(metrics).contains("distill4j_guard_decisions_total{action=\"flag\"} 1")
                    .contains("distill4j_requests_rejected_total{reason=\"account_blocked\"} 1")
                    .contains("distill4j_requests_rejected_total{reason=\"account_throttled\"} 1")
                    .contains("distill4j_guard_dropped_total 0");
        }
    }

    @Test
    void withoutKeysTheAccountIsTheClientAddress() throws Exception {
        Scripted guard = new Scripted();
        guard.release.countDown();
        try (OpenAiServer server = OpenAiServer.builder().setModel(model).optServedModelName(ServerFixture.NAME)
                .optPort(0).optGuard(guard).build();
             HttpClient http = HttpClient.newHttpClient()) {
            String base = "http://127.0.0.1:" + server.start();
            assertThat(post(http, base + "/v1/completions", null, "{\"model\": \"" + ServerFixture.NAME
                    + "\", \"prompt\": [\"first\", \"second\"], \"max_tokens\": 1, \"logprobs\": 2}").statusCode())
                    .isEqualTo(200);
            AccountGuard.Request r = guard.seen.poll(10, TimeUnit.SECONDS);
            assertThat(r.account()).isEqualTo("127.0.0.1");
            assertThat(r.query()).isEqualTo("first");
            assertThat(r.logprobs()).isTrue();
            assertThat(r.topLogprobs()).isEqualTo(2);
            assertThat(r.temperature()).isNaN();
            assertThat(r.n()).isEqualTo(1);
        }
    }

    private static HttpResponse<String> post(HttpClient http, String url, String key, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (key != null) b.header("Authorization", "Bearer " + key);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
