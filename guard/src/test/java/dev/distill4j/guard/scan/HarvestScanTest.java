package dev.distill4j.guard.scan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.distill4j.core.Json;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.embed.EmbeddingModel;
import dev.distill4j.embed.EmbeddingModels;
import dev.distill4j.serve.OpenAiServer;
import dev.distill4j.serve.TinyModel;
import dev.distill4j.teacher.Backoff;
import dev.distill4j.teacher.Budget;
import dev.distill4j.teacher.Harvester;
import dev.distill4j.teacher.RateLimiter;
import dev.distill4j.teacher.Teacher;
import dev.distill4j.teacher.TeacherConfig;
import dev.distill4j.teacher.TeacherSampling;
import dev.distill4j.teacher.Teachers;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An extraction run through the real stack, scanned: {@code distill serve --keys --request-log} on loopback, the
 * project's own {@link Harvester} (what {@code distill harvest} runs) sweeping a prompt set with top-5 logprobs
 * through one key, and eight benign clients asking varied questions through theirs at the same time. The request
 * log the server wrote is scanned with bge-small against a known-benign baseline: the harvesting account is flagged,
 * no benign account or cluster is.
 */
class HarvestScanTest {
    @TempDir Path tmp;

    static final String[] ASK = {"What does this mean? %s", "Can you explain this to me: \"%s\"", "%s Why?",
        "Summarize in one line: %s", "Is this correct? %s", "Rewrite this more clearly: %s",
        "%s Can you give me an example?", "Explain in simple terms: %s", "%s", "Translate into German: %s"};

    @Test
    void aHarvestThroughTheServerIsFlaggedBenignClientsAreNot() throws Exception {
        List<String> text = ScanTrafficTest.sentences(400, 5);
        Path keys = tmp.resolve("keys.jsonl");
        StringBuilder k = new StringBuilder("{\"name\": \"harvester\", \"key\": \"sk-harvest\"}\n");
        for (int u = 0; u < 8; u++) k.append("{\"name\": \"user").append(u).append("\", \"key\": \"sk-user").append(u)
                .append("\"}\n");
        Files.writeString(keys, k);
        // the harvest: one instruction over a sweep of 40 sentences, as distillation prompt sets are written
        Path prompts = tmp.resolve("prompts.jsonl");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            lines.add(Json.write(Json.object().put("id", "p" + i).put("prompt", "Answer thoroughly and reason step "
                    + "by step before the final answer. Question: what does this mean? " + text.get(i))));
        }
        Files.write(prompts, lines);
        Path log = tmp.resolve("log");
        try (OpenAiServer server = OpenAiServer.builder()
                .setModelDir(TinyModel.write(tmp.resolve("tiny"), 32, 2, 4, 2, 64, 1024)) // whole sentences fit
                .optServedModelName("tiny").optPort(0).optKeys(keys).optRequestLog(log, false).build();
             HttpClient http = HttpClient.newHttpClient()) {
            String base = "http://127.0.0.1:" + server.start() + "/v1";
            // benign clients: three heavy users (25 requests, some at temperature 0 or with logprobs), five light
            CompletableFuture<List<Integer>> benign = CompletableFuture.supplyAsync(() -> {
                List<Integer> codes = new ArrayList<>();
                int s = 40;
                for (int u = 0; u < 8; u++) {
                    for (int i = 0; i < (u < 3 ? 25 : 6); i++) {
                        String q = String.format(ASK[(u + i * 3) % ASK.length], text.get(s++));
                        String extra = i % 5 == 0 ? ", \"temperature\": 0" : i % 7 == 0 ? ", \"logprobs\": true, "
                                + "\"top_logprobs\": 2" : ", \"temperature\": 0.8";
                        codes.add(post(http, base + "/chat/completions", "sk-user" + u, "{\"model\": \"tiny\", "
                                + "\"messages\": [{\"role\": \"user\", \"content\": " + Json.write(Json.MAPPER
                                .getNodeFactory().textNode(q)) + "}], \"max_tokens\": 4" + extra + "}"));
                    }
                }
                return codes;
            });
            // answers of 32 tokens: top-k distillation wants distributions over a generation, not over a label
            var sampling = new TeacherSampling(null, null, 32, false, null, List.of(), 5, null);
            var config = new TeacherConfig("openai", "chat", URI.create(base), "tiny", "HARVEST_KEY", "sk-harvest",
                    sampling, null, null);
            try (Teacher teacher = Teachers.create(config); RunStore store = RunStore.open(tmp.resolve("run"))) {
                Harvester.Result r = new Harvester(teacher, store, new Harvester.Options(prompts, 1, 16, false, true),
                        RateLimiter.unlimited(), new Budget(0, 0, null), new Backoff(2, 1)).run();
                assertThat(r.outcome()).as(String.valueOf(r.fatal())).isEqualTo(Harvester.Outcome.COMPLETE);
                assertThat(store.count(dev.distill4j.core.SampleStatus.DONE)).isEqualTo(40);
            }
            assertThat(benign.get()).hasSize(3 * 25 + 5 * 6).containsOnly(200);
        }

        LogReader.Result read = LogReader.read(log);
        assertThat(read.malformed()).isEmpty();
        assertThat(read.records()).hasSize(40 + 3 * 25 + 5 * 6);
        LogRecord h = read.records().stream().filter(r -> r.account().equals("harvester")).findFirst().orElseThrow();
        assertThat(h.topLogprobs()).isEqualTo(5);
        // the baseline: other people's questions, from sentences the benign clients did not use
        List<LogRecord> base = new ArrayList<>();
        Instant t0 = Instant.parse("2026-11-01T09:00:00Z");
        for (int i = 0; i < 160; i++) {
            base.add(new LogRecord(t0.plusSeconds(97L * i), "b" + (i % 16), "", "/v1/chat/completions", "m", 200, 1.0,
                    1, false, 0, 20, 50, String.format(ASK[(i * 7) % ASK.length], text.get(200 + i)), null, "b:" + i));
        }
        try (EmbeddingModel bge = EmbeddingModels.teacher("bge-small-en-v1.5")) {
            Scanner.Report report = new Scanner(bge, Scanner.Options.defaults())
                    .scan(read, new LogReader.Result(base, List.of(), List.of()));
            Scanner.Entity harvester = ScanTrafficTest.entity(report, "harvester");
            assertThat(harvester.flagged()).as("%s", harvester.fired()).isTrue();
            assertThat(harvester.fired()).extracting(Scanner.Feature::name).contains("logprobs_share");
            assertThat(report.ranked().get(0).accounts()).contains("harvester");
            for (Scanner.Entity e : report.ranked()) {
                if (!e.accounts().contains("harvester")) {
                    assertThat(e.flagged()).as("%s %s: %s", e.kind(), e.name(), e.fired()).isFalse();
                }
            }
        }
    }

    private static int post(HttpClient http, String url, String key, String body) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + key)
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body))
                    .build(), HttpResponse.BodyHandlers.ofString()).statusCode();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
