package dev.distill4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import dev.distill4j.teacher.stub.OpenAiStub;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code distill embed distill|harvest} with an API teacher: child processes against the /v1/embeddings stub. */
class EmbedApiCliTest {
    private static final String KEY = "sk-embed-cli-secret-42";
    private static final AtomicInteger LOGS = new AtomicInteger();

    @TempDir Path tmp;
    OpenAiStub stub;

    @BeforeEach void start() { stub = OpenAiStub.start().requireApiKey(KEY).models("embed-small").embeddingDims(32); }

    @AfterEach void stop() { stub.close(); }

    private DistillProcess.Result distill(String... args) throws Exception {
        return DistillProcess.run(Map.of("EMBED_KEY", KEY), tmp.resolve("logs-" + LOGS.incrementAndGet()), args);
    }

    @Test
    void distilsAStaticStudentFromAnApiTeacherAndHarvestsResumably() throws Exception {
        Path corpus = tmp.resolve("corpus.txt");
        EmbedCliTest.lines(corpus, 24, i -> "sentence " + i + " about the weather, " + (i % 2 == 0 ? "rain" : "sun"));
        Path run = tmp.resolve("run");
        Path out = tmp.resolve("student");
        var r = distill("embed", "distill", "--teacher", stub.baseUrl(), "--teacher-model", "embed-small",
                "--api-key-env", "EMBED_KEY", "--run", run.toString(), "--inputs-per-request", "64", "--concurrency", "2",
                "--dims", "8", "--vocab-limit", "400", "--corpus", corpus.toString(), "--out", out.toString());
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("static student").contains("Spearman");
        assertThat(r.stdout() + r.stderr()).doesNotContain(KEY);
        assertThat(out.resolve("model.safetensors")).exists();
        JsonNode config = Json.MAPPER.readTree(out.resolve("config.json").toFile());
        assertThat(config.get("teacher").asText()).isEqualTo("embed-small");
        assertThat(config.get("hidden_dim").asInt()).isEqualTo(8);
        assertThat(run.resolve("samples.db")).exists();
        long first = stub.requestCount();
        assertThat(first).isGreaterThanOrEqualTo(6);  // ~350 tokens in batches of 64, plus the corpus

        // the corpus is stored already: a harvest asks for nothing
        var h = distill("embed", "harvest", "--teacher", stub.baseUrl(), "--teacher-model", "embed-small",
                "--api-key-env", "EMBED_KEY", "--run", run.toString(), "--corpus", corpus.toString());
        assertThat(h.exitCode()).as(h.toString()).isZero();
        assertThat(h.stdout()).contains("24 texts (24 distinct): 24 already stored, 0 embedded in 0 requests");
        assertThat(stub.requestCount()).isEqualTo(first);

        // new texts: only they are asked for
        Files.writeString(corpus, "\nsomething new entirely\nand another new line", java.nio.file.StandardOpenOption.APPEND);
        var h2 = distill("embed", "harvest", "--teacher", stub.baseUrl(), "--teacher-model", "embed-small",
                "--api-key-env", "EMBED_KEY", "--run", run.toString(), "--corpus", corpus.toString());
        assertThat(h2.exitCode()).as(h2.toString()).isZero();
        assertThat(h2.stdout()).contains("26 texts (26 distinct): 24 already stored, 2 embedded in 1 requests");
        assertThat(stub.lastRequest().json().get("input")).hasSize(2);
    }

    @Test
    void tunesAStaticStudentOnTheApiTeachersSentenceEmbeddingsHarvestedIntoTheRun() throws Exception {
        Path corpus = tmp.resolve("eval.txt");
        EmbedCliTest.lines(corpus, 16, i -> "evaluation sentence " + i + " about the weather");
        Path train = tmp.resolve("train.txt");
        EmbedCliTest.lines(train, 220, i -> "a training sentence about " + (i % 3 == 0 ? "rain" : "sun") + " number " + i);
        Path run = tmp.resolve("run");
        Path out = tmp.resolve("tuned");
        String[] args = {"embed", "distill", "--teacher", stub.baseUrl(), "--teacher-model", "embed-small",
                "--api-key-env", "EMBED_KEY", "--run", run.toString(), "--inputs-per-request", "64",
                "--student", "static-tuned", "--dims", "8", "--vocab-limit", "400", "--corpus", corpus.toString(),
                "--train-corpus", train.toString(), "--epochs", "2", "--batch-size", "16", "--out", out.toString()};
        var r = distill(args);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stderr()).contains("tuning on 220 sentences").contains("epoch 2/2");
        assertThat(r.stdout()).contains("static-tuned student").contains("Spearman");
        JsonNode config = Json.MAPPER.readTree(out.resolve("config.json").toFile());
        assertThat(config.get("teacher").asText()).isEqualTo("embed-small");
        assertThat(config.path("tuned").path("corpus_sentences").asInt()).isEqualTo(220);
        // the training sentences went through the API, once each, and are kept in the run
        long asked = stub.requests().stream().filter(q -> q.json().toString().contains("a training sentence")).count();
        assertThat(asked).isPositive();
        var h = distill("embed", "harvest", "--teacher", stub.baseUrl(), "--teacher-model", "embed-small",
                "--api-key-env", "EMBED_KEY", "--run", run.toString(), "--corpus", train.toString());
        assertThat(h.exitCode()).as(h.toString()).isZero();
        assertThat(h.stdout()).contains("220 texts (220 distinct): 220 already stored, 0 embedded");

        // a second distillation from the same run asks the API nothing
        long before = stub.requestCount();
        var again = distill(args);
        assertThat(again.exitCode()).as(again.toString()).isZero();
        assertThat(stub.requestCount()).isEqualTo(before);
    }

    @Test
    void aSigkilledHarvestKeepsItsFinishedBatchesAndTheRerunAsksOnlyForTheRest() throws Exception {
        java.util.List<String> texts = IntStream.range(0, 600).mapToObj(i -> "text number " + i).toList();
        Path corpus = Files.write(tmp.resolve("corpus.txt"), texts);
        Path run = tmp.resolve("run");
        stub.latency(java.time.Duration.ofMillis(40));
        String[] args = {"embed", "harvest", "--teacher", stub.baseUrl(), "--teacher-model", "embed-small",
                "--api-key-env", "EMBED_KEY", "--run", run.toString(), "--corpus", corpus.toString(),
                "--inputs-per-request", "5", "--concurrency", "2"};
        Process first = DistillProcess.start(Map.of("EMBED_KEY", KEY), tmp.resolve("logs-kill"), args);
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
        while (stub.answeredCount() < 20 && first.isAlive() && System.nanoTime() < deadline) Thread.sleep(10);
        assertThat(first.isAlive()).as("the harvest must still be running when killed").isTrue();
        first.destroyForcibly();  // SIGKILL on Linux
        assertThat(first.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();

        java.util.Map<String, String> keyToText = new java.util.HashMap<>();
        for (String t : texts) keyToText.put(dev.distill4j.core.SampleKey.embedding("openai", "embed-small", 0, t), t);
        java.util.Set<String> storedBeforeKill = new java.util.HashSet<>();
        try (var store = dev.distill4j.core.store.RunStore.openExisting(run)) {
            store.findEmbeddings(keyToText.keySet()).keySet().forEach(k -> storedBeforeKill.add(keyToText.get(k)));
        }
        assertThat(storedBeforeKill).hasSizeGreaterThanOrEqualTo(20 * 5 - 2 * 5).hasSizeLessThan(600);
        stub.latency(java.time.Duration.ZERO).resetRecords();

        var second = distill(args);
        assertThat(second.exitCode()).as(second.toString()).isZero();
        java.util.List<String> asked = new java.util.ArrayList<>();
        stub.requests().forEach(r -> r.json().get("input").forEach(t -> asked.add(t.asText())));
        assertThat(asked).doesNotHaveDuplicates().hasSize(600 - storedBeforeKill.size())
                .doesNotContainAnyElementsOf(storedBeforeKill);
        try (var store = dev.distill4j.core.store.RunStore.openExisting(run)) {
            assertThat(store.embeddingCount()).isEqualTo(600);
        }
    }

    @Test
    void anApiTeacherWithoutAModelOrWithABadKeyIsOneClearLine() throws Exception {
        var r = distill("embed", "distill", "--teacher", stub.baseUrl(), "--out", tmp.resolve("x").toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.stderr()).contains("--teacher-model").doesNotContain("\tat ");

        var bad = DistillProcess.run(Map.of("EMBED_KEY", "sk-not-the-key-000"), tmp.resolve("logs-bad"),
                "embed", "harvest", "--teacher", stub.baseUrl(), "--teacher-model", "embed-small",
                "--api-key-env", "EMBED_KEY", "--run", tmp.resolve("run").toString(), "--corpus",
                Files.writeString(tmp.resolve("c.txt"), "one\ntwo").toString());
        assertThat(bad.exitCode()).isEqualTo(1);
        assertThat(bad.stderr()).contains("$EMBED_KEY").contains("(401)").doesNotContain("\tat ");
        assertThat(bad.stderr()).doesNotContain("sk-not-the-key-000");
    }
}
