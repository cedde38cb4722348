package dev.distill4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import dev.distill4j.core.Message;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.Sample;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.core.store.ScoreStore;
import dev.distill4j.model.config.ModelConfig;
import dev.distill4j.model.io.Checkpoint;
import dev.distill4j.model.io.DType;
import dev.distill4j.model.nn.CausalLM;
import dev.distill4j.model.ops.ModelInit;
import dev.distill4j.model.tokenizer.BpeTrainer;
import dev.distill4j.serve.OpenAiServer;
import dev.distill4j.serve.TinyModel;
import dev.distill4j.train.OnPolicyTeacher;
import dev.distill4j.train.TrainConfig;
import dev.distill4j.train.TrainListener;
import dev.distill4j.train.Trainer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * On-policy distillation against a real {@code distill serve} on loopback (issue 17): the student samples, the
 * served teacher scores the samples with {@code echo} + {@code logprobs} over HTTP, and every score is stored in the
 * run. A recording proxy between the two sees every request as the teacher receives it.
 */
class OnPolicyTeacherTest {
    private static final Path TOKENIZER = Path.of("src/test/resources/tiny-tokenizer");

    @TempDir static Path shared;
    static OpenAiServer server;
    static Proxy proxy;

    @BeforeAll
    static void serveTeacher() throws IOException {
        ai.djl.engine.Engine.getInstance();
        JniUtils.setNumThreads(1);   // bit-for-bit equal runs need one intra-op thread
        Path teacher = TinyModel.write(shared.resolve("teacher"), 32, 2, 4, 2, 64, 512);
        server = OpenAiServer.builder().setModelDir(teacher).optServedModelName("teacher").optPort(0).build();
        int port = server.start();
        proxy = new Proxy(URI.create("http://127.0.0.1:" + port));
    }

    @AfterAll
    static void stop() {
        if (proxy != null) proxy.close();
        if (server != null) server.close();
    }

    @TempDir Path tmp;

    @Test
    void trainsOnServedScoresAndAResumedRunBuysNoStoredScoreAgain() throws IOException {
        Path student = student(tmp.resolve("student"));
        Path run = run(tmp.resolve("run"), 12);
        proxy.requests.clear();
        // killed after step 5 (checkpoint at step 4): the scores of step 5 were bought and stored
        assertThatThrownBy(() -> Trainer.run(config(run, student, proxy.url()).build(), crashAfter(5)))
                .hasMessageContaining("simulated crash");
        List<Request> first = List.copyOf(proxy.requests);
        assertThat(first).isNotEmpty();

        // the wire format of the scoring request, exactly
        Request probe = first.getFirst();
        assertThat(probe.path()).isEqualTo("/v1/completions");
        JsonNode body = Json.parse(probe.body());
        assertThat(body.fieldNames()).toIterable()
                .containsExactly("model", "prompt", "max_tokens", "echo", "logprobs", "temperature");
        assertThat(body.get("model").asText()).isEqualTo("teacher");
        assertThat(body.get("max_tokens").asInt()).isZero();
        assertThat(body.get("echo").asBoolean()).isTrue();
        assertThat(body.get("logprobs").isInt()).isTrue();
        assertThat(body.get("logprobs").asInt()).isZero();
        assertThat(body.get("temperature").asDouble()).isZero();
        String text = first.get(1).body();
        assertThat(Json.parse(text).get("prompt").asText()).startsWith("<|im_start|>user\n");
        // every request names its stored score
        Set<String> firstKeys = new HashSet<>();
        for (Request r : first) {
            assertThat(r.clientRequestId()).hasSize(32);
            firstKeys.add(r.clientRequestId());
        }
        try (ScoreStore scores = ScoreStore.open(run)) {
            assertThat(scores.find(firstKeys)).hasSize(firstKeys.size());
            assertThat(scores.dialect(proxy.url().resolve("/v1/completions").toString(), "teacher")).hasValue("echo");
        }

        // the teacher is part of the objective: resuming with another top-k (or model, or URL) is refused, named
        OnPolicyTeacher topK = OnPolicyTeacher.of(proxy.url(), "teacher").withTopLogprobs(3);
        assertThatThrownBy(() -> Trainer.run(config(run, student, proxy.url()).optOnPolicyTeacher(topK)
                .optResume(true).build(), null))
                .hasMessageContaining("--on-policy-teacher teacher at " + proxy.url() + ", top-0 logprobs (checkpoint)")
                .hasMessageContaining("--on-policy-teacher teacher at " + proxy.url() + ", top-3 logprobs (this run)")
                .hasMessageContaining("--allow-changed on-policy-teacher");

        proxy.requests.clear();
        Trainer.run(config(run, student, proxy.url()).optResume(true).build(), null);
        List<Request> resumed = List.copyOf(proxy.requests);
        // no probe (the dialect is in the run), no stored score bought again, and step 6's new samples are bought
        assertThat(resumed).isNotEmpty();
        assertThat(resumed).extracting(Request::clientRequestId).doesNotContainAnyElementsOf(firstKeys);

        // the same run uninterrupted, in a copy of the run with no scores: same metrics, line for line
        Path fresh = run(tmp.resolve("fresh"), 12);
        Trainer.run(config(fresh, student, proxy.url()).build(), null);
        List<String> a = Files.readAllLines(run.resolve("out/metrics.jsonl"));
        List<String> b = Files.readAllLines(fresh.resolve("out/metrics.jsonl"));
        assertThat(a).hasSameSizeAs(b);
        for (int i = 0; i < a.size(); i++) {
            assertThat(strip(a.get(i))).as("metrics line " + i).isEqualTo(strip(b.get(i)));
        }
        JsonNode last = Json.parse(b.get(b.size() - 2));
        assertThat(last.get("on_policy").asBoolean()).isTrue();
        assertThat(last.get("teacher_tokens").asLong()).isPositive();
        assertThat(last.get("kd_share").asDouble()).isEqualTo(1.0);
        assertThat(last.get("kd").asDouble()).isFinite();
        try (ScoreStore scores = ScoreStore.open(fresh)) {
            assertThat(scores.spend("teacher").tokens()).isEqualTo(last.get("teacher_tokens").asLong());
        }
    }

    @Test
    void theTeacherTokenBudgetStopsTrainingAndIsNeverPassed() throws IOException {
        Path student = student(tmp.resolve("student"));
        Path run = run(tmp.resolve("run"), 12);
        List<String> warnings = new CopyOnWriteArrayList<>();
        long budget = 700;
        var summary = Trainer.run(config(run, student, proxy.url()).optOnPolicyTeacher(
                OnPolicyTeacher.of(proxy.url(), "teacher").withMaxTeacherTokens(budget).withConcurrency(2)).build(),
                new TrainListener() {
                    @Override public void onWarning(String message) { warnings.add(message); }
                });
        assertThat(summary.steps()).isLessThan(6);
        assertThat(warnings).anyMatch(w -> w.contains("budget is spent"));
        try (ScoreStore scores = ScoreStore.open(run)) {
            assertThat(scores.spend("teacher").tokens()).isPositive().isLessThanOrEqualTo(budget);
        }
        // resuming with the same budget buys nothing more
        proxy.requests.clear();
        var again = Trainer.run(config(run, student, proxy.url()).optResume(true).optOnPolicyTeacher(
                OnPolicyTeacher.of(proxy.url(), "teacher").withMaxTeacherTokens(budget)).build(), null);
        assertThat(proxy.requests).isEmpty();
        assertThat(again.steps()).isLessThanOrEqualTo(summary.steps() + 1);
    }

    @Test
    void betaSetsTheDivergenceOverTheServedTopK() throws IOException {
        Path student = student(tmp.resolve("student"));
        OnPolicyTeacher top3 = OnPolicyTeacher.of(proxy.url(), "teacher").withTopLogprobs(3);
        // the same seed and weights sample the same first step, which the same teacher scores the same: only the
        // divergence differs, reverse KL (default) against forward KL (β = 0) over the same buckets
        double[] kd = new double[2];
        for (int i = 0; i < 2; i++) {
            Path run = run(tmp.resolve("beta-" + i), 12);
            Trainer.run(config(run, student, proxy.url()).optMaxSteps(1).optOnPolicyTeacher(top3)
                    .optBeta(i == 0 ? null : 0.0).build(), null);
            JsonNode step = Json.parse(Files.readAllLines(run.resolve("out/metrics.jsonl")).getFirst());
            assertThat(step.get("on_policy").asBoolean()).isTrue();
            kd[i] = step.get("kd").asDouble();
        }
        assertThat(kd[0]).isFinite().isPositive();
        assertThat(kd[1]).isFinite().isPositive().isNotCloseTo(kd[0], within(1e-6));
        // without the teacher's alternatives only the sampled token's score exists: β would be ignored, so refused
        assertThatThrownBy(() -> config(run(tmp.resolve("beta-sampled"), 4), student, proxy.url()).optBeta(0.0)
                .build()).hasMessageContaining("--beta").hasMessageContaining("--on-policy-top-logprobs");
    }

    @Test
    void anUnreachableTeacherIsAClearErrorBeforeTraining() throws IOException {
        Path student = student(tmp.resolve("student"));
        Path run = run(tmp.resolve("run"), 4);
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        URI nowhere = URI.create("http://127.0.0.1:" + port);
        assertThatThrownBy(() -> Trainer.run(config(run, student, nowhere).build(), null))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("cannot score the student's samples with the on-policy teacher teacher at "
                        + nowhere)
                .hasMessageContaining("connection refused")
                .hasMessageContaining("start the server");
        assertThat(run.resolve("out/checkpoints")).doesNotExist();
    }

    @Test
    void aTeacherWithAnotherTokenizerScoresThroughTheByteAlignment() throws IOException {
        // a teacher whose BPE cuts the same text elsewhere than the student's byte-level tokenizer
        List<String> corpus = new ArrayList<>();
        for (int i = 0; i < 300; i++) corpus.add("Tell me about the sea " + i + ". Here is what I know about rain.");
        Path tok = BpeTrainer.builder().optVocabSize(300).optSpecialTokens(BpeTrainer.CHATML_SPECIAL_TOKENS)
                .optChatTemplate(BpeTrainer.CHATML_TEMPLATE).build().train(corpus).write(tmp.resolve("bpe"));
        Path teacher = ModelInit.create(new ModelInit.Spec("llama", 1, 32, 4, 2, null, null, 10000.0, 512, true, null,
                3L, DType.F32), tok, tmp.resolve("bpe-teacher"), false).dir();
        try (OpenAiServer other = OpenAiServer.builder().setModelDir(teacher).optServedModelName("bpe").optPort(0)
                .build()) {
            URI url = URI.create("http://127.0.0.1:" + other.start());
            Path student = student(tmp.resolve("student"));
            Path run = run(tmp.resolve("run"), 8);
            Trainer.run(config(run, student, url).optMaxSteps(2).optOnPolicyTeacher(OnPolicyTeacher.of(url, "bpe")
                    .withTopLogprobs(3)).build(), null);
            List<String> lines = Files.readAllLines(run.resolve("out/metrics.jsonl"));
            int steps = 0;
            for (String line : lines) {
                JsonNode m = Json.parse(line);
                if (!m.has("on_policy")) continue;
                steps++;
                // nearly every sampled token gets the teacher's probability through the byte spans
                assertThat(m.get("kd_share").asDouble()).isGreaterThan(0.9);
                assertThat(m.get("kd").asDouble()).isFinite().isGreaterThanOrEqualTo(0.0);
                assertThat(m.get("teacher_tokens").asLong()).isPositive();
            }
            assertThat(steps).isEqualTo(2);
            // the two tokenizers do cut the scored texts differently
            try (ScoreStore scores = ScoreStore.open(run); var small = dev.distill4j.model.tokenizer.HfTokenizer
                    .load(TOKENIZER)) {
                var spend = scores.spend("bpe");
                assertThat(spend.scores()).isPositive();
                String text = "<|im_start|>user\nTell me about the sea 3<|im_end|>\n";
                try (var bpe = dev.distill4j.model.tokenizer.HfTokenizer.load(tok)) {
                    assertThat(bpe.encode(text, false).length).isNotEqualTo(small.encode(text, false).length);
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ fixtures

    private static TrainConfig.Builder config(Path run, Path student, URI teacher) {
        return TrainConfig.builder().setRunDir(run).setStudentDir(student).optOutputDir(run.resolve("out"))
                .optMaxSteps(6).optBatchTokens(512).optLr(3e-3).optSaveEvery(2).optEvalEvery(3).optEvalFraction(0.2)
                .optSeed(5).optOnPolicyFraction(1.0).optOnPolicyTeacher(OnPolicyTeacher.of(teacher, "teacher"));
    }

    /** The elapsed and speed fields differ between runs; everything else must not. */
    private static String strip(String line) {
        ObjectNode n = (ObjectNode) Json.parse(line);
        n.remove("elapsed");
        n.remove("tokens_per_s");
        return n.toString();
    }

    private static TrainListener crashAfter(long step) {
        return new TrainListener() {
            @Override public void onStep(Trainer.StepMetrics m) {
                if (m.step() == step) throw new IllegalStateException("simulated crash after step " + step);
            }
        };
    }

    private static Path student(Path dir) throws IOException {
        ObjectNode n = Json.object();
        n.put("model_type", "llama").put("vocab_size", 356).put("hidden_size", 16).put("intermediate_size", 32)
                .put("num_hidden_layers", 1).put("num_attention_heads", 2).put("num_key_value_heads", 2)
                .put("rms_norm_eps", 1e-5).put("tie_word_embeddings", true).put("eos_token_id", 355);
        ModelConfig config = ModelConfig.fromJson(n, "test");
        try (NDManager manager = NDManager.newBaseManager(); CausalLM model = CausalLM.init(config, manager, 5)) {
            Checkpoint.save(dir, config, model.parameters(),
                    Checkpoint.SaveOptions.defaults().withDtype(DType.F32).withTokenizerFrom(TOKENIZER));
        }
        return dir;
    }

    private static Path run(Path dir, int prompts) throws IOException {
        String[] things = {"the sea", "a tree", "bread", "rain", "the moon", "music", "a river", "glass"};
        try (RunStore store = RunStore.open(dir)) {
            List<Prompt> ps = new ArrayList<>();
            List<Sample> samples = new ArrayList<>();
            for (int i = 0; i < prompts; i++) {
                String thing = things[i % things.length];
                Prompt p = new Prompt("p" + i, null, List.of(Message.user("Tell me about " + thing + " " + i)), null,
                        "prompts.jsonl", i + 1);
                ps.add(p);
                samples.add(Sample.builder(p.id() + "#0", p.id(), 0).status(SampleStatus.DONE)
                        .text("It is " + things[(i * 3 + 1) % things.length] + ".").finishReason("stop").latencyMs(1)
                        .attempts(1).build());
            }
            store.putPrompts(ps);
            store.upsertSamples(samples);
        }
        return dir;
    }

    record Request(String path, String clientRequestId, String body) {}

    /** Forwards every request to the teacher and records it as the teacher receives it. */
    static final class Proxy implements AutoCloseable {
        final List<Request> requests = Collections.synchronizedList(new ArrayList<>());
        private final HttpServer http;
        private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

        Proxy(URI target) throws IOException {
            http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            http.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
            http.createContext("/", ex -> {
                byte[] body;
                try (InputStream in = ex.getRequestBody()) {
                    body = in.readAllBytes();
                }
                String path = ex.getRequestURI().getPath();
                requests.add(new Request(path, ex.getRequestHeaders().getFirst("X-Client-Request-Id"),
                        new String(body, StandardCharsets.UTF_8)));
                try {
                    HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(target.resolve(path))
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                            HttpResponse.BodyHandlers.ofByteArray());
                    ex.getResponseHeaders().add("Content-Type", "application/json");
                    ex.sendResponseHeaders(r.statusCode(), r.body().length == 0 ? -1 : r.body().length);
                    ex.getResponseBody().write(r.body());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    ex.sendResponseHeaders(502, -1);
                } finally {
                    ex.close();
                }
            });
            http.start();
        }

        URI url() { return URI.create("http://127.0.0.1:" + http.getAddress().getPort()); }

        @Override public void close() { http.stop(0); }
    }
}
