package dev.distill4j.guard.online;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import dev.distill4j.serve.AccountGuard.Action;
import dev.distill4j.serve.OpenAiServer;
import dev.distill4j.serve.TinyModel;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * {@code distill serve --guard POLICY} over real HTTP on loopback: an extraction-like client (one template with
 * varying slots, logprobs, temperature 0, step-by-step phrasing) is flagged, then blocked with OpenAI's 403, while a
 * benign client with varied prompts keeps getting 200; the decisions are logged with their evidence and counted in
 * /metrics. Without accounts the client address is the account, and a throttle answers 429 with rate-limit headers.
 */
class OnlineGuardServeTest {
    @TempDir Path tmp;
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final Logger guardLog = (Logger) LoggerFactory.getLogger("dev.distill4j.guard.online");

    private static final String[] TOPICS = {"photosynthesis", "a transistor", "the immune system", "a compiler",
        "plate tectonics", "an electric motor", "the water cycle", "public key cryptography", "a steam engine",
        "vaccination", "a refrigerator", "the stock market", "a jet engine", "nuclear fission", "the kidney",
        "a hash table", "an earthquake", "the printing press", "a rainbow", "a battery", "the heart", "radar",
        "a lighthouse", "a sailboat", "a thermostat", "the moon's phases", "a vaccine trial", "a bicycle gear",
        "the ozone layer", "a volcano", "a microwave oven", "a camera lens", "the tides", "a solar panel",
        "a windmill", "the retina", "a parachute", "a submarine", "a telescope", "an elevator"};

    private static final String[] BENIGN = {"Can you suggest a name for my new cat?",
        "What's a good recipe for banana bread without eggs?", "Write a haiku about autumn leaves.",
        "How do I politely decline a meeting invitation?", "Summarize the plot of Hamlet in two sentences.",
        "Which is heavier, a kilogram of feathers or of steel?", "Translate 'good morning' into Portuguese.",
        "Give me three ideas for a birthday party at the beach.", "Why is the sky blue?",
        "Draft a short thank-you note to my neighbour.", "What should I pack for a weekend hike in the rain?",
        "Is it safe to eat raw cookie dough?", "Recommend a science fiction novel for a teenager.",
        "How many minutes should I boil an egg for a runny yolk?", "Tell me a joke about programmers.",
        "What does the idiom 'break the ice' mean?", "Fix the grammar: me and him goes to school.",
        "List a few stretches for lower back pain.", "Who painted the ceiling of the Sistine Chapel?",
        "Compose a limerick about a lazy dog.", "How do I convert Celsius to Fahrenheit?",
        "Plan a vegetarian dinner menu for four guests.", "What are the rules of chess castling?",
        "Describe the smell of rain to someone who has never smelled it.", "Suggest a title for my blog about gardening."};

    @BeforeEach
    void captureLog() {
        logs.start();
        guardLog.addAppender(logs);
    }

    @AfterEach
    void releaseLog() { guardLog.detachAppender(logs); }

    @Test
    void anExtractionClientIsFlaggedThenBlockedWhileABenignClientIsServed() throws Exception {
        Path keys = tmp.resolve("keys.jsonl");
        Files.writeString(keys, "{\"name\": \"harvester\", \"key\": \"sk-harvest\"}\n"
                + "{\"name\": \"alice\", \"key\": \"sk-alice\"}\n");
        // three features fire from the 5th request on (flag); template reuse (k-1)/k reaches 0.9 at the 10th (block)
        Path policyFile = tmp.resolve("policy.json");
        Files.writeString(policyFile, """
                {"window": 50, "min_requests": 5,
                 "features": {"logprobs_share": 0.5, "temperature0_share": 0.8, "cot_share": 0.5,
                              "template_share": 0.9},
                 "levels": [{"fired": 3, "action": "flag"}, {"fired": 4, "action": "block"}]}
                """);
        OnlineGuard guard = new OnlineGuard(GuardPolicy.read(policyFile));
        try (OpenAiServer server = OpenAiServer.builder().setModelDir(TinyModel.write(tmp.resolve("tiny")))
                .optServedModelName("tiny").optPort(0).optKeys(keys).optGuard(guard).build();
             HttpClient http = HttpClient.newHttpClient()) {
            String base = "http://127.0.0.1:" + server.start();
            List<Integer> harvester = new ArrayList<>();
            HttpResponse<String> refused = null;
            for (int i = 0; i < TOPICS.length && refused == null; i++) {
                HttpResponse<String> r = post(http, base + "/v1/chat/completions", "sk-harvest", chat(
                        "Explain step by step how " + TOPICS[i] + " works.", ", \"temperature\": 0, "
                                + "\"logprobs\": true, \"top_logprobs\": 5"));
                harvester.add(r.statusCode());
                if (r.statusCode() != 200) refused = r;
                // the benign client's requests interleave with the harvester's
                HttpResponse<String> b = post(http, base + "/v1/chat/completions", "sk-alice",
                        chat(BENIGN[i % BENIGN.length], ", \"temperature\": 0.8"));
                assertThat(b.statusCode()).as("benign request %d", i).isEqualTo(200);
            }
            assertThat(refused).as("the harvester was never refused: %s", harvester).isNotNull();
            // blocked once its window held 10 requests; the guard scores off the request path, so a request or two
            // may still pass while it catches up
            assertThat(harvester.size()).isBetween(11, 14);
            assertThat(refused.statusCode()).isEqualTo(403);
            JsonNode err = Json.MAPPER.readTree(refused.body()).get("error");
            assertThat(err.get("code").asText()).isEqualTo("account_blocked");
            assertThat(err.get("type").asText()).isEqualTo("request_forbidden");
            assertThat(err.get("message").asText()).contains("harvester");
            assertThat(refused.headers().firstValue("Retry-After")).isEmpty();
            // stays blocked
            assertThat(post(http, base + "/v1/completions", "sk-harvest",
                    "{\"model\": \"tiny\", \"prompt\": \"hello\", \"max_tokens\": 1}").statusCode()).isEqualTo(403);
            for (int i = 0; i < 5; i++) {
                assertThat(post(http, base + "/v1/chat/completions", "sk-alice",
                        chat(BENIGN[(i + 7) % BENIGN.length], "")).statusCode()).isEqualTo(200);
            }
            assertThat(guard.action("harvester")).isEqualTo(Action.BLOCK);
            assertThat(guard.action("alice")).isEqualTo(Action.ALLOW);
            assertThat(guard.evidence("alice").fired()).isEmpty();

            String metrics = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertThat(metrics).contains("distill4j_guard_decisions_total{action=\"flag\"} 1")
                    .contains("distill4j_guard_decisions_total{action=\"block\"} 1")
                    .contains("distill4j_requests_rejected_total{reason=\"account_blocked\"} 2");
        }
        List<String> lines = logs.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        assertThat(lines).hasSize(2);        // once per change of state, nothing for alice
        assertThat(lines.get(0)).startsWith("guard: account harvester -> flag (was allow): 3 of 4 features fired")
                .contains("logprobs_share=1 (>= 0.5, fired)").contains("template_share=");
        assertThat(lines.get(1)).startsWith("guard: account harvester -> block (was flag): 4 of 4 features fired");
    }

    @Test
    void withoutAccountsTheClientAddressIsThrottled() throws Exception {
        Path policyFile = tmp.resolve("policy.json");
        Files.writeString(policyFile, """
                {"window": 20, "min_requests": 3,
                 "features": {"logprobs_share": 0.5, "temperature0_share": 0.5},
                 "levels": [{"fired": 1, "action": "flag"}, {"fired": 2, "action": "throttle", "rpm": 2}]}
                """);
        OnlineGuard guard = new OnlineGuard(GuardPolicy.read(policyFile));
        try (OpenAiServer server = OpenAiServer.builder().setModelDir(TinyModel.write(tmp.resolve("tiny")))
                .optServedModelName("tiny").optPort(0).optGuard(guard).build();
             HttpClient http = HttpClient.newHttpClient()) {
            String base = "http://127.0.0.1:" + server.start();
            HttpResponse<String> limited = null;
            int sent = 0;
            while (limited == null && sent < 12) {
                HttpResponse<String> r = post(http, base + "/v1/completions", null, "{\"model\": \"tiny\", "
                        + "\"prompt\": \"item " + sent + "\", \"max_tokens\": 1, \"temperature\": 0, \"logprobs\": 3}");
                sent++;
                if (r.statusCode() != 200) limited = r;
            }
            assertThat(limited).as("never throttled").isNotNull();
            assertThat(limited.statusCode()).isEqualTo(429);
            assertThat(Json.MAPPER.readTree(limited.body()).at("/error/code").asText()).isEqualTo("rate_limit_exceeded");
            assertThat(limited.headers().firstValue("x-ratelimit-limit-requests")).hasValue("2");
            assertThat(limited.headers().firstValue("x-ratelimit-remaining-requests")).hasValue("0");
            assertThat(Long.parseLong(limited.headers().firstValue("Retry-After").orElseThrow())).isBetween(1L, 60L);
            assertThat(guard.action("127.0.0.1")).isEqualTo(Action.THROTTLE);
            String metrics = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertThat(metrics).contains("distill4j_guard_decisions_total{action=\"throttle\"} 1")
                    .contains("distill4j_requests_rejected_total{reason=\"account_throttled\"} 1");
        }
        assertThat(logs.list.getLast().getFormattedMessage())
                .startsWith("guard: account 127.0.0.1 -> throttle (2 rpm) (was allow): 2 of 2 features fired");
    }

    private static String chat(String content, String extra) {
        return "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": " + Json.write(
                Json.MAPPER.getNodeFactory().textNode(content)) + "}], \"max_tokens\": 1" + extra + "}";
    }

    private static HttpResponse<String> post(HttpClient http, String url, String key, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (key != null) b.header("Authorization", "Bearer " + key);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
