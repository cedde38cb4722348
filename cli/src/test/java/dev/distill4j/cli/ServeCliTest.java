package dev.distill4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.distill4j.core.Capability;
import dev.distill4j.core.RunManifest;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.TokenPosition;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.serve.TinyModel;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code distill serve} as a user runs it, harvested by {@code distill harvest}: a local model as a TOP_K teacher. */
class ServeCliTest {
    private static final String KEY = "sk-local-serve-key";
    private static final Pattern URL = Pattern.compile("at (http://127\\.0\\.0\\.1:(\\d+)/v1)");

    @TempDir Path tmp;

    @Test
    void servesAModelThatHarvestUsesAsATopKTeacher() throws Exception {
        Path modelDir = TinyModel.write(tmp.resolve("student"));
        Path logs = tmp.resolve("serve-logs");
        Process serve = DistillProcess.start(Map.of("SERVE_KEY", KEY), logs, "serve", "--model", modelDir.toString(),
                "--port", "0", "--api-key-env", "SERVE_KEY", "--max-batch", "4", "--verbose");
        try {
            String baseUrl = awaitUrl(serve, logs.resolve("stdout.txt"));
            var health = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create(baseUrl.replace("/v1", "/health"))).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(200);

            Path prompts = tmp.resolve("prompts.jsonl");
            List<String> lines = new ArrayList<>();
            for (int i = 0; i < 6; i++) lines.add("{\"id\":\"q" + i + "\",\"prompt\":\"What is " + i + "?\"}");
            Files.write(prompts, lines);
            Path run = tmp.resolve("run");
            var h = DistillProcess.run(Map.of("SERVE_KEY", KEY), tmp.resolve("harvest-logs"), "harvest",
                    "--run", run.toString(), "--prompts", prompts.toString(), "--base-url", baseUrl,
                    "--model", "student", "--api-key-env", "SERVE_KEY", "--top-logprobs", "5", "--max-tokens", "8",
                    "--temperature", "0.7", "--seed", "1", "--quiet");
            assertThat(h.exitCode()).as(h.toString()).isZero();
            assertThat(RunManifest.read(run).capability()).isEqualTo("TOP_K(5)");
            AtomicInteger checked = new AtomicInteger();
            try (RunStore store = RunStore.openExisting(run)) {
                assertThat(store.count(SampleStatus.DONE)).isEqualTo(6);
                store.forEachSample(SampleStatus.DONE, (p, s) -> {
                    assertThat(s.capability()).isEqualTo(Capability.topK(5));
                    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                    for (TokenPosition pos : s.tokens().positions()) {
                        assertThat(pos.alternatives()).hasSize(5);
                        bytes.writeBytes(pos.chosen().bytes());
                    }
                    assertThat(bytes.toString(StandardCharsets.UTF_8)).isEqualTo(s.text());
                    checked.incrementAndGet();
                });
            }
            assertThat(checked.get()).isEqualTo(6);
        } finally {
            serve.destroy();    // SIGTERM, as Ctrl-C: the shutdown hook closes the server
            assertThat(serve.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        String stderr = Files.readString(logs.resolve("stderr.txt"));
        // --verbose: one line per request, and never the key
        assertThat(stderr).as(Files.readString(logs.resolve("stdout.txt"))).contains("POST /v1/chat/completions 200");
        assertThat(stderr + Files.readString(logs.resolve("stdout.txt"))).doesNotContain(KEY);
    }

    @Test
    void unsetKeyVariableIsOneClearError() throws Exception {
        Path modelDir = TinyModel.write(tmp.resolve("m"));
        var r = DistillProcess.run(Map.of(), tmp.resolve("logs"), "serve", "--model", modelDir.toString(),
                "--api-key-env", "NO_SUCH_VAR_FOR_SERVE");
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(r.stderr()).contains("NO_SUCH_VAR_FOR_SERVE").contains("not set").doesNotContain("Exception");
    }

    @Test
    void servesAnEmbeddingStudentFolderOnV1Embeddings() throws Exception {
        // a static student with bge-small's vocabulary and a seeded random table: the CLI path, not the distillation
        byte[] tokenizer;
        try (var in = getClass().getClassLoader().getResourceAsStream("bge-small-en-v1.5-tokenizer.json")) {
            tokenizer = in.readAllBytes();
        }
        int vocab = 30522, dim = 16;
        float[] table = new float[vocab * dim];
        java.util.Random rnd = new java.util.Random(7);
        for (int i = 0; i < table.length; i++) table[i] = (float) rnd.nextGaussian();
        var config = dev.distill4j.core.Json.object().put("model_type", "static");
        Path dir = tmp.resolve("embedder");
        float[] expected;
        try (var student = new dev.distill4j.embed.StaticEmbeddingModel("embedder", tokenizer, table, vocab, dim, config)) {
            student.save(dir);
            expected = student.embed("a song at the concert");
        }
        Path logs = tmp.resolve("embed-serve-logs");
        Process serve = DistillProcess.start(Map.of(), logs, "serve", "--model", dir.toString(), "--port", "0");
        try {
            String baseUrl = awaitUrl(serve, logs.resolve("stdout.txt"));
            assertThat(Files.readString(logs.resolve("stdout.txt"))).contains("Serving embeddings of", "(16 dimensions)");
            HttpClient http = HttpClient.newHttpClient();
            var r = http.send(HttpRequest.newBuilder(URI.create(baseUrl + "/embeddings"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                            "{\"model\":\"embedder\",\"input\":\"a song at the concert\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            var v = dev.distill4j.core.Json.MAPPER.readTree(r.body()).at("/data/0/embedding");
            assertThat(v.size()).isEqualTo(dim);
            for (int k = 0; k < dim; k++) assertThat((float) v.get(k).asDouble()).isEqualTo(expected[k]);
            var chat = http.send(HttpRequest.newBuilder(URI.create(baseUrl + "/chat/completions"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                            "{\"model\":\"embedder\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(chat.statusCode()).isEqualTo(404);
            assertThat(chat.body()).contains("is an embedding model");
        } finally {
            serve.destroy();
            assertThat(serve.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void serveWithoutAModelIsOneClearError() throws Exception {
        var r = DistillProcess.run(Map.of(), tmp.resolve("no-model-logs"), "serve", "--port", "0");
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(r.stderr()).contains("--model DIR").contains("--embedding-teacher").doesNotContain("Exception");
    }

    private static String awaitUrl(Process p, Path stdout) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (Files.exists(stdout)) {
                Matcher m = URL.matcher(Files.readString(stdout));
                if (m.find()) return m.group(1);
            }
            if (!p.isAlive()) throw new AssertionError("distill serve exited with " + p.exitValue());
            Thread.sleep(100);
        }
        throw new AssertionError("distill serve printed no URL in 60 s");
    }
}
