package dev.distill4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import dev.distill4j.core.RunManifest;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.teacher.stub.AnthropicStub;
import dev.distill4j.teacher.stub.Fault;
import dev.distill4j.teacher.stub.OpenAiStub;
import dev.distill4j.teacher.stub.RecordedRequest;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code distill harvest / inspect / export} as a user runs them: child processes against a wire-format stub. */
class HarvestCliTest {
    private static final String KEY = "sk-test-123";
    private static final Map<String, String> ENV = Map.of("OPENAI_API_KEY", KEY);

    @TempDir Path tmp;
    OpenAiStub stub;
    Path prompts;
    Path run;
    int logs;

    @BeforeEach
    void setUp() throws IOException {
        stub = OpenAiStub.start().requireApiKey(KEY).models("teacher-large");
        prompts = tmp.resolve("prompts.jsonl");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            lines.add(i % 2 == 0
                    ? "{\"id\": \"q" + i + "\", \"prompt\": \"What is " + i + " plus " + i + "?\", \"metadata\": {\"answer\": " + (2 * i) + "}}"
                    : "{\"id\": \"q" + i + "\", \"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"Spell " + i + "\"}]}");
        }
        Files.write(prompts, lines);
        run = tmp.resolve("run");
    }

    @AfterEach
    void tearDown() {
        stub.close();
    }

    private DistillProcess.Result distill(Map<String, String> env, String... args) throws Exception {
        return DistillProcess.run(env, tmp.resolve("logs-" + (logs++)), args);
    }

    private String[] harvestArgs(String... extra) {
        List<String> a = new ArrayList<>(List.of("harvest", "--run", run.toString(), "--prompts", prompts.toString(),
                "--base-url", stub.baseUrl(), "--model", "teacher-large", "--max-tokens", "16", "--concurrency", "4",
                "--quiet"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void harvestsTopKThenInspectAndExportReadItBack() throws Exception {
        var r = distill(ENV, harvestArgs("--top-logprobs", "5", "--temperature", "0.7", "--seed", "7"));
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("harvest complete").contains("30 answered now");
        assertThat(stub.requestCount()).isEqualTo(30);
        RecordedRequest req = stub.requests().getFirst();
        assertThat(req.header("Authorization")).isEqualTo("Bearer " + KEY);
        assertThat(req.json().get("top_logprobs").asInt()).isEqualTo(5);
        assertThat(req.json().get("logprobs").asBoolean()).isTrue();
        assertThat(req.json().get("seed").asLong()).isEqualTo(7);

        RunManifest m = RunManifest.read(run);
        assertThat(m.model()).isEqualTo("teacher-large");
        assertThat(m.capability()).isEqualTo("TOP_K(5)");
        assertThat(Files.readString(run.resolve("run.json"))).doesNotContain(KEY);
        try (RunStore store = RunStore.openExisting(run)) {
            assertThat(store.count(SampleStatus.DONE)).isEqualTo(30);
            assertThat(store.promptCount()).isEqualTo(30);
        }

        var inspect = distill(Map.of(), "inspect", run.toString());
        assertThat(inspect.exitCode()).as(inspect.toString()).isZero();
        assertThat(inspect.stdout()).contains("TOP_K(5)").contains("30 done, 0 failed, 0 pending")
                .contains("teacher-large");

        for (String format : List.of("openai-chat", "hf-messages", "logprobs-jsonl")) {
            Path out = tmp.resolve(format + ".jsonl");
            var e = distill(Map.of(), "export", run.toString(), "--format", format, "--out", out.toString());
            assertThat(e.exitCode()).as(e.toString()).isZero();
            List<String> lines = Files.readAllLines(out);
            assertThat(lines).hasSize(30);
            JsonNode first = Json.parse(lines.getFirst());
            switch (format) {
                case "openai-chat" -> {
                    assertThat(first.get("messages").get(0).get("role").asText()).isEqualTo("user");
                    assertThat(first.get("messages").get(1).get("role").asText()).isEqualTo("assistant");
                }
                case "hf-messages" -> assertThat(first.get("id").asText()).isEqualTo("q0");
                default -> {
                    JsonNode tok = first.get("tokens").get(0);
                    assertThat(tok.get("top_logprobs")).hasSize(5);
                    assertThat(tok.get("bytes").isArray()).isTrue();
                }
            }
        }
    }

    @Test
    void rerunAsksOnlyForWhatIsMissingAndNewSamplingMakesNewKeys() throws Exception {
        assertThat(distill(ENV, harvestArgs()).exitCode()).isZero();
        assertThat(stub.requestCount()).isEqualTo(30);

        var again = distill(ENV, harvestArgs());
        assertThat(again.exitCode()).as(again.toString()).isZero();
        assertThat(again.stdout()).contains("0 answered now").contains("30 already stored");
        assertThat(stub.requestCount()).as("nothing stored is asked again").isEqualTo(30);

        var hotter = distill(ENV, harvestArgs("--temperature", "1.2"));
        assertThat(hotter.exitCode()).isZero();
        assertThat(stub.requestCount()).as("a new temperature is a new sample").isEqualTo(60);
        try (RunStore store = RunStore.openExisting(run)) {
            assertThat(store.count(SampleStatus.DONE)).isEqualTo(60);
        }

        var twice = distill(ENV, harvestArgs("--temperature", "1.2", "--samples-per-prompt", "2"));
        assertThat(twice.exitCode()).isZero();
        assertThat(stub.requestCount()).as("only sample index 1 is new").isEqualTo(90);
        Set<String> keys = new HashSet<>();
        stub.requests().forEach(r -> keys.add(r.clientRequestId()));
        assertThat(keys).hasSize(90);
    }

    @Test
    void retriesRateLimitsAndServerErrorsAndRecordsBadRequests() throws Exception {
        AtomicInteger n = new AtomicInteger();
        AtomicInteger cut = new AtomicInteger();
        stub.onRequest(r -> switch (r.json().path("messages").path(r.json().path("messages").size() - 1)
                .path("content").asText()) {
            case "What is 0 plus 0?" -> n.getAndIncrement() < 2 ? Fault.rateLimitedMs(50) : null;
            case "Spell 1" -> n.getAndIncrement() < 4 ? Fault.status(503) : null;
            case "What is 2 plus 2?" -> Fault.status(400);
            case "Spell 3" -> Fault.missingFields();                        // valid JSON of another shape: final
            case "Spell 5" -> cut.getAndIncrement() < 1 ? Fault.malformedJson() : null;    // cut short once: retried
            default -> null;
        });
        var r = distill(ENV, harvestArgs());
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("28 answered now, 2 failed");
        assertThat(cut.get()).as("the cut-off answer was asked again").isEqualTo(2);
        try (RunStore store = RunStore.openExisting(run)) {
            var stats = store.stats(0);
            assertThat(stats.failureCauses()).extracting(c -> c.cause())
                    .containsExactlyInAnyOrder("bad_request (http 400)", "malformed_response (http 200)");
        }
        var inspect = distill(Map.of(), "inspect", run.toString());
        assertThat(inspect.stdout()).contains("failure causes (by kind, one example each)")
                .contains("28 done, 2 failed").contains("1  malformed_response (http 200)")
                .contains("e.g. malformed_response (http 200): the teacher at");

        stub.clearFaults();
        long before = stub.requestCount();
        var retry = distill(ENV, harvestArgs("--retry-failed"));
        assertThat(retry.exitCode()).as(retry.toString()).isZero();
        assertThat(stub.requestCount() - before).as("only the two failed samples").isEqualTo(2);
        try (RunStore store = RunStore.openExisting(run)) {
            assertThat(store.count(SampleStatus.DONE)).isEqualTo(30);
            assertThat(store.count(SampleStatus.FAILED)).isZero();
        }
    }

    @Test
    void fatalErrorsEndWithOneClearLineAndLoseNothing() throws Exception {
        var badKey = distill(Map.of("OPENAI_API_KEY", "sk-wrong"), harvestArgs());
        assertThat(badKey.exitCode()).isEqualTo(1);
        assertThat(badKey.stderr()).contains("OPENAI_API_KEY").doesNotContain("\tat ");

        var unknownModel = distill(ENV, "harvest", "--run", run.toString(), "--prompts", prompts.toString(),
                "--base-url", stub.baseUrl(), "--model", "no-such-model", "--quiet");
        assertThat(unknownModel.exitCode()).isEqualTo(1);
        assertThat(unknownModel.stderr()).contains("no-such-model").doesNotContain("\tat ");

        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        var unreachable = distill(ENV, "harvest", "--run", tmp.resolve("r2").toString(), "--prompts",
                prompts.toString(), "--base-url", "http://127.0.0.1:" + closedPort + "/v1", "--model", "m", "--quiet");
        assertThat(unreachable.exitCode()).isEqualTo(1);
        assertThat(unreachable.stderr()).contains("127.0.0.1:" + closedPort).doesNotContain("\tat ");

        var noKey = distill(Map.of(), "harvest", "--run", tmp.resolve("r3").toString(), "--prompts",
                prompts.toString(), "--model", "gpt-4o-mini", "--quiet");
        assertThat(noKey.exitCode()).isEqualTo(1);
        assertThat(noKey.stderr()).contains("OPENAI_API_KEY");

        var noFile = distill(ENV, "harvest", "--run", run.toString(), "--prompts", tmp.resolve("nope.jsonl").toString(),
                "--base-url", stub.baseUrl(), "--model", "teacher-large");
        assertThat(noFile.exitCode()).isEqualTo(1);
        assertThat(noFile.stderr()).contains("nope.jsonl");

        var badFlag = distill(ENV, "harvest", "--run", run.toString(), "--prompts", prompts.toString(), "--bogus");
        assertThat(badFlag.exitCode()).isEqualTo(2);
        assertThat(badFlag.stderr()).contains("--bogus");

        // after the bad key: nothing stored was lost and a good run completes
        var good = distill(ENV, harvestArgs());
        assertThat(good.exitCode()).as(good.toString()).isZero();
        try (RunStore store = RunStore.openExisting(run)) {
            assertThat(store.count(SampleStatus.DONE)).isEqualTo(30);
        }
    }

    @Test
    void malformedLinesAreSkippedAndCountedOrAbortWithStrict() throws Exception {
        List<String> lines = new ArrayList<>(Files.readAllLines(prompts));
        lines.add(3, "{\"prompt\": ");
        lines.add(7, "{\"messages\": []}");
        Files.write(prompts, lines);
        var r = distill(ENV, harvestArgs());
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("30 read (2 malformed lines skipped").contains("prompts.jsonl:4");

        var strict = distill(ENV, "harvest", "--run", tmp.resolve("strict").toString(), "--prompts",
                prompts.toString(), "--base-url", stub.baseUrl(), "--model", "teacher-large", "--quiet", "--strict");
        assertThat(strict.exitCode()).isEqualTo(1);
        assertThat(strict.stderr()).contains("prompts.jsonl:4").contains("--strict");
    }

    @Test
    void budgetStopsBeforeOverspendingAndDryRunSendsNothing() throws Exception {
        var dry = distill(ENV, harvestArgs("--dry-run", "--price-in", "1", "--price-out", "2"));
        assertThat(dry.exitCode()).as(dry.toString()).isZero();
        assertThat(dry.stdout()).contains("nothing was sent").contains("30 to request").contains("worst case");
        assertThat(stub.requestCount()).isZero();

        // worst case per sample: ~10 prompt tokens at $1/M + 16 output tokens at $2/M ≈ $0.000042; the budget fits ~10
        var r = distill(ENV, harvestArgs("--price-in", "1", "--price-out", "2", "--budget-usd", "0.0004"));
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("stopped at the budget");
        try (RunStore store = RunStore.openExisting(run)) {
            var stats = store.stats(0);
            assertThat(stats.costUsd()).isLessThanOrEqualTo(0.0004).isGreaterThan(0);
            assertThat(store.count(SampleStatus.DONE)).isBetween(1L, 29L);
        }
    }

    @Test
    void harvestsFromAnthropic() throws Exception {
        try (AnthropicStub anthropic = AnthropicStub.start().requireApiKey("sk-ant-1")) {
            var r = distill(Map.of("ANTHROPIC_API_KEY", "sk-ant-1"), "harvest", "--run", run.toString(),
                    "--prompts", prompts.toString(), "--provider", "anthropic", "--base-url",
                    anthropic.rootUri().toString(), "--model", "claude-test", "--max-tokens", "32",
                    "--system", "You are terse.", "--quiet");
            assertThat(r.exitCode()).as(r.toString()).isZero();
            RecordedRequest req = anthropic.requests().getFirst();
            assertThat(req.header("x-api-key")).isEqualTo("sk-ant-1");
            assertThat(req.header("anthropic-version")).isNotBlank();
            assertThat(req.json().get("system").asText()).contains("You are terse.");
            try (RunStore store = RunStore.openExisting(run)) {
                assertThat(store.count(SampleStatus.DONE)).isEqualTo(30);
                assertThat(store.stats(0).capabilities()).containsExactly("TEXT");
            }
        }
    }

    @Test
    void legacyCompletionsEndpointTakesRawPromptsAndRefusesChatOnes() throws Exception {
        Path raw = tmp.resolve("raw.jsonl");
        Files.write(raw, List.of("{\"prompt\": \"Once upon a time\"}", "{\"prompt\": \"The capital of France is\"}"));
        var r = distill(ENV, "harvest", "--run", run.toString(), "--prompts", raw.toString(), "--endpoint",
                "completions", "--base-url", stub.baseUrl(), "--model", "teacher-large", "--top-logprobs", "3",
                "--max-tokens", "8", "--quiet");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(stub.lastRequest().path()).isEqualTo("/v1/completions");
        assertThat(stub.lastRequest().json().get("logprobs").asInt()).isEqualTo(3);
        try (RunStore store = RunStore.openExisting(run)) {
            assertThat(store.count(SampleStatus.DONE)).isEqualTo(2);
            store.forEachSample(SampleStatus.DONE, (p, s) -> assertThat(s.tokens().maxAlternatives()).isEqualTo(3));
        }
        Path chatOnly = tmp.resolve("chat.jsonl");
        Files.write(chatOnly, List.of("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}"));
        var chat = distill(ENV, "harvest", "--run", tmp.resolve("r-chat").toString(), "--prompts",
                chatOnly.toString(), "--endpoint", "completions", "--base-url", stub.baseUrl(), "--model",
                "teacher-large", "--quiet");
        assertThat(chat.exitCode()).isEqualTo(1);
        assertThat(chat.stderr()).contains("--endpoint chat").doesNotContain("\tat ");
    }

    @Test
    void helpTeachesAndCompletionIsGenerated() throws Exception {
        var help = distill(Map.of(), "harvest", "--help");
        assertThat(help.exitCode()).isZero();
        assertThat(help.stdout()).contains("--top-logprobs").contains("--budget-usd").contains("Examples");
        var top = distill(Map.of(), "--help");
        assertThat(top.stdout()).contains("harvest").contains("inspect").contains("export");
        var completion = distill(Map.of(), "completion");
        assertThat(completion.exitCode()).isZero();
        assertThat(completion.stdout()).contains("complete -F");
        var missingRun = distill(Map.of(), "inspect", tmp.resolve("nothing").toString());
        assertThat(missingRun.exitCode()).isEqualTo(1);
        assertThat(missingRun.stderr()).contains("distill harvest");
    }
}
