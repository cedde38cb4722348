package dev.distill4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import dev.distill4j.core.RunManifest;
import dev.distill4j.core.Sample;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.model.config.ModelConfig;
import dev.distill4j.model.io.ModelInfo;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code distill model init|prune|info} and {@code distill generate} as a user runs them: child processes. */
class ModelCliTest {
    private static final Path TOKENIZER = Path.of("src/test/resources/tiny-tokenizer");
    private static final AtomicInteger LOGS = new AtomicInteger();

    @TempDir static Path tmp;
    static Path student;

    private static DistillProcess.Result distill(String... args) throws Exception {
        return DistillProcess.run(Map.of(), tmp.resolve("logs-" + LOGS.incrementAndGet()), args);
    }

    /** A user error: the given exit code and one line on stderr, no stack trace. */
    private static void assertOneLineError(DistillProcess.Result r, int exit, String... fragments) {
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(exit);
        assertThat(r.stderr()).as(r.toString()).contains(fragments).doesNotContain("\tat ").doesNotContain("Exception");
    }

    @BeforeAll
    static void initStudent() throws Exception {
        student = tmp.resolve("student");
        var r = distill("model", "init", "--family", "llama", "--layers", "2", "--hidden", "32", "--heads", "4",
                "--kv-heads", "2", "--intermediate", "64", "--no-tie-embeddings", "--seed", "5",
                "--tokenizer", TOKENIZER.toString(), "--out", student.toString());
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("created " + student).contains("llama · ").contains("vocab 356");
    }

    @Test
    void tokenizerCopyMatchesTheModelModulesOriginal() throws Exception {
        Path original = Path.of("../model/src/test/resources/tiny-tokenizer");
        for (String f : List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")) {
            assertThat(TOKENIZER.resolve(f)).as(f + ": re-copy model/src/test/resources/tiny-tokenizer")
                    .hasSameBinaryContentAs(original.resolve(f));
        }
    }

    @Test
    void initWritesTheFolderAndInfoDescribesIt() throws Exception {
        ModelConfig cfg = ModelConfig.read(student);
        assertThat(cfg.numHiddenLayers()).isEqualTo(2);
        assertThat(cfg.tieWordEmbeddings()).isFalse();
        assertThat(cfg.eosTokenIds()).containsExactly(355);
        assertThat(student.resolve("tokenizer.json")).exists();

        var info = distill("model", "info", student.toString());
        assertThat(info.exitCode()).as(info.toString()).isZero();
        assertThat(info.stdout()).contains("family       llama").contains("356 tokens")
                .contains("4 query / 2 key-value heads, head dim 8").contains("separate LM head").contains("on disk");

        var json = distill("model", "info", student.toString(), "--json");
        assertThat(json.exitCode()).as(json.toString()).isZero();
        JsonNode n = Json.parse(json.stdout());
        ModelInfo expected = ModelInfo.read(student);
        assertThat(n.get("parameters").asLong()).isEqualTo(expected.parameters());
        assertThat(n.get("nonEmbeddingParameters").asLong()).isEqualTo(expected.parameters() - 2 * 356 * 32);
        assertThat(n.get("family").asText()).isEqualTo("llama");
        assertThat(n.get("diskBytes").asLong()).isPositive();
    }

    @Test
    void pruneKeepsTheListedLayers() throws Exception {
        Path pruned = tmp.resolve("pruned");
        var r = distill("model", "prune", "--from", student.toString(), "--keep-layers", "1", "--out", pruned.toString());
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("pruned 2 → 1 layers (kept 1)");
        assertThat(ModelConfig.read(pruned).numHiddenLayers()).isEqualTo(1);

        assertOneLineError(distill("model", "prune", "--from", student.toString(), "--keep-layers", "0,5", "--out",
                tmp.resolve("p2").toString()), 2, "--keep-layers: layer 5 does not exist: the model has 2 layers");
        assertThat(tmp.resolve("p2")).doesNotExist();
        assertOneLineError(distill("model", "prune", "--from", student.toString(), "--keep-layers", "0", "--out",
                pruned.toString()), 1, "already exists and is not empty");
    }

    @Test
    void generateIsDeterministicForAGivenSeed() throws Exception {
        String[] greedy = {"generate", "--model", student.toString(), "--prompt", "the cat", "--greedy",
                "--max-new-tokens", "8", "--top-logprobs", "3"};
        var a = distill(greedy);
        var b = distill(greedy);
        assertThat(a.exitCode()).as(a.toString()).isZero();
        assertThat(a.stdout()).isEqualTo(b.stdout()).contains("alternatives");
        assertThat(a.stderr()).containsPattern("finish: (length|stop) · \\d+ prompt \\+ \\d+ generated tokens")
                .contains("tokens/s").contains("greedy");

        // the streamed stdout is the text; with a stop string, exactly the text before it (held-back deltas)
        var plain = distill("generate", "--model", student.toString(), "--prompt", "the cat", "--greedy",
                "--max-new-tokens", "8");
        assertThat(plain.exitCode()).as(plain.toString()).isZero();
        String text = plain.stdout().substring(0, plain.stdout().length() - 1);
        assertThat(plain.stdout()).endsWith("\n");
        assertThat(text.length()).isGreaterThan(4);
        String stop = text.substring(2, 4);
        var stopped = distill("generate", "--model", student.toString(), "--prompt", "the cat", "--greedy",
                "--max-new-tokens", "8", "--stop", stop);
        assertThat(stopped.stdout()).isEqualTo(text.substring(0, text.indexOf(stop)) + "\n");
        assertThat(stopped.stderr()).contains("finish: stop");

        // seeded sampling is deterministic too (GeneratorTest, LocalTeacherTest check that in-process)
        var c = distill("generate", "--model", student.toString(), "--prompt", "hello", "--chat", "--system", "Be brief.",
                "--temperature", "1.0", "--top-k", "50", "--seed", "9", "--max-new-tokens", "12");
        assertThat(c.exitCode()).as(c.toString()).isZero();
        assertThat(c.stderr()).contains("T=1.00").contains("top-k=50").contains("seed=9");
    }

    @Test
    void theLauncherRunsTheVectorEngineAndKeepsStderrClean() throws Exception {
        // the real ./distill launcher, on the test classpath instead of the built jar; stderr is a file, not a pipe
        Path logs = tmp.resolve("launcher");
        Files.createDirectories(logs);
        ProcessBuilder pb = new ProcessBuilder("bash", Path.of("..", "distill").toAbsolutePath().normalize().toString(),
                "generate", "--model", student.toString(), "--prompt", "the cat", "--greedy", "--max-new-tokens", "4");
        pb.environment().put("DISTILL_CLASSPATH", DistillProcess.classpath());
        pb.environment().put("DISTILL_JAVA_OPTS", "-Xmx512m");
        pb.redirectOutput(logs.resolve("stdout.txt").toFile());
        pb.redirectError(logs.resolve("stderr.txt").toFile());
        Process p = pb.start();
        assertThat(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        String err = Files.readString(logs.resolve("stderr.txt"));
        assertThat(p.exitValue()).as(err).isZero();
        // the engine ran on the Vector API, and the JVM's incubator notice never reached the user
        assertThat(err).contains("engine: f32 weights, vector (").doesNotContainPattern("(?m)^WARNING");
        // the same text as the plain JVM (scalar kernels) gives
        var plain = distill("generate", "--model", student.toString(), "--prompt", "the cat", "--greedy",
                "--max-new-tokens", "4");
        assertThat(plain.stderr()).contains("engine: f32 weights, scalar kernels");
        assertThat(Files.readString(logs.resolve("stdout.txt"))).isEqualTo(plain.stdout());
    }

    @Test
    void int8AtLoad() throws Exception {
        var r = distill("generate", "--model", student.toString(), "--prompt", "the cat", "--greedy",
                "--max-new-tokens", "6", "--quantize", "int8");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stderr()).contains("engine: int8 weights").doesNotContainIgnoringCase("warning");
        assertOneLineError(distill("generate", "--model", student.toString(), "--prompt", "x", "--quantize", "int4"),
                2, "--quantize", "int4", "f32 or int8");
    }

    @Test
    void quantizeSavesAnInt8FolderThatGenerates() throws Exception {
        Path q = tmp.resolve("student-int8");
        var quantized = distill("model", "quantize", "--model", student.toString(), "--out", q.toString());
        assertThat(quantized.exitCode()).as(quantized.toString()).isZero();
        assertThat(quantized.stdout()).contains("quantized").contains("int8");
        var r = distill("generate", "--model", q.toString(), "--prompt", "the cat", "--greedy", "--max-new-tokens", "6");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stderr()).contains("engine: int8 weights");
        var atLoad = distill("generate", "--model", student.toString(), "--prompt", "the cat", "--greedy",
                "--max-new-tokens", "6", "--quantize", "int8");
        assertThat(r.stdout()).isEqualTo(atLoad.stdout());
        var info = distill("model", "info", q.toString());
        assertThat(info.exitCode()).as(info.toString()).isZero();
        assertThat(info.stdout()).contains("int8");
    }

    @Test
    void withoutASeedEachSampledRunDrawsOneAndPrintsIt() throws Exception {
        String[] sampled = {"generate", "--model", student.toString(), "--prompt", "the cat", "--temperature", "1.5",
                "--max-new-tokens", "16"};
        var a = distill(sampled);
        var b = distill(sampled);
        assertThat(a.exitCode()).as(a.toString()).isZero();
        var seed = java.util.regex.Pattern.compile("seed=(-?\\d+) \\(--seed \\1 repeats this text\\)");
        var ma = seed.matcher(a.stderr());
        var mb = seed.matcher(b.stderr());
        assertThat(ma.find()).as(a.stderr()).isTrue();
        assertThat(mb.find()).as(b.stderr()).isTrue();
        assertThat(ma.group(1)).isNotEqualTo(mb.group(1));
        // the printed seed repeats the run's text
        String[] again = java.util.stream.Stream.concat(java.util.Arrays.stream(sampled),
                java.util.stream.Stream.of("--seed", ma.group(1))).toArray(String[]::new);
        assertThat(distill(again).stdout()).isEqualTo(a.stdout());
    }

    @Test
    void clearErrors() throws Exception {
        assertOneLineError(distill("model", "init", "--family", "gpt2", "--layers", "2", "--hidden", "32",
                "--heads", "4", "--tokenizer", TOKENIZER.toString(), "--out", tmp.resolve("x").toString()),
                2, "unknown family 'gpt2' (use llama, mistral, qwen2 or qwen3)");
        assertOneLineError(distill("model", "init", "--family", "llama", "--layers", "2", "--hidden", "32",
                "--heads", "4", "--tokenizer", tmp.resolve("no-tokenizer").toString(), "--out",
                tmp.resolve("x").toString()), 1, "tokenizer folder", "does not exist");
        assertOneLineError(distill("generate", "--model", tmp.resolve("absent").toString(), "--prompt", "hi"),
                1, "no model folder at");
        assertOneLineError(distill("model", "info", tmp.resolve("absent").toString()), 1, "no model folder at");

        Path broken = tmp.resolve("broken");
        Files.createDirectories(broken);
        for (String f : List.of("config.json", "model.safetensors")) Files.copy(student.resolve(f), broken.resolve(f));
        try (RandomAccessFile f = new RandomAccessFile(broken.resolve("model.safetensors").toFile(), "rw")) {
            f.setLength(f.length() - 64);
        }
        assertOneLineError(distill("model", "info", broken.toString()), 1, "tensor '", "truncated");
    }

    @Test
    void harvestsFromALocalTeacher() throws Exception {
        Path prompts = tmp.resolve("prompts.jsonl");
        Files.writeString(prompts, String.join("\n",
                "{\"id\": \"a\", \"prompt\": \"the cat\"}",
                "{\"id\": \"b\", \"prompt\": \"a dog\"}",
                "{\"id\": \"c\", \"messages\": [{\"role\": \"user\", \"content\": \"hello\"}]}") + "\n",
                StandardCharsets.UTF_8);
        Path run = tmp.resolve("run");
        var r = distill("harvest", "--run", run.toString(), "--prompts", prompts.toString(), "--provider", "local",
                "--model-dir", student.toString(), "--top-logprobs", "3", "--max-tokens", "6", "--quiet");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("3 answered now");
        RunManifest m = RunManifest.read(run);
        assertThat(m.provider()).isEqualTo("local");
        assertThat(m.model()).isEqualTo("student");
        assertThat(m.capability()).isEqualTo("TOP_K(3)");
        assertThat(m.apiKeyEnv()).isNull();
        List<Sample> done = new ArrayList<>();
        try (RunStore store = RunStore.openExisting(run)) {
            store.forEachSample(SampleStatus.DONE, (p, s) -> done.add(s));
        }
        assertThat(done).hasSize(3).allSatisfy(s -> {
            assertThat(s.tokens().positions()).isNotEmpty()
                    .allSatisfy(pos -> assertThat(pos.alternatives()).hasSize(3));
            assertThat(s.usage().completionTokens()).isBetween(1L, 6L);
        });

        assertOneLineError(distill("harvest", "--run", tmp.resolve("run2").toString(), "--prompts",
                prompts.toString(), "--provider", "local", "--max-tokens", "6"), 2, "--provider local needs --model-dir");
    }

    @Test
    void exportWritesAGgufFileAndRefusesToClobberOne() throws Exception {
        Path gguf = tmp.resolve("student.gguf");
        var r = distill("model", "export", "--model", student.toString(), "--out", gguf.toString());
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("exported " + student + " to GGUF (llama, q8_0)")
                .contains("pre-tokenizer gpt-2; chat template included").contains("written to " + gguf);
        byte[] head = new byte[4];
        try (RandomAccessFile f = new RandomAccessFile(gguf.toFile(), "r")) {
            f.readFully(head);
        }
        assertThat(new String(head, StandardCharsets.US_ASCII)).isEqualTo("GGUF");
        long size = Files.size(gguf);

        assertOneLineError(distill("model", "export", "--model", student.toString(), "--out", gguf.toString()), 1,
                "exists: pass --overwrite");
        assertOneLineError(distill("model", "export", "--model", student.toString(), "--quantize", "q4_k",
                "--out", tmp.resolve("x.gguf").toString()), 2, "unknown GGUF quantization 'q4_k'");
        assertOneLineError(distill("model", "export", "--model", student.toString(), "--format", "onnx",
                "--out", tmp.resolve("x.gguf").toString()), 2, "--format 'onnx' is not supported");
        assertThat(Files.size(gguf)).isEqualTo(size);
        assertThat(tmp.resolve("x.gguf")).doesNotExist();

        var f32 = distill("model", "export", "--model", student.toString(), "--quantize", "f32", "--overwrite",
                "--out", gguf.toString());
        assertThat(f32.exitCode()).as(f32.toString()).isZero();
        assertThat(Files.size(gguf)).isGreaterThan(3 * size);
    }
}
