package dev.distill4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code distill embed distill|eval} as a user runs them: child processes, the real bge-small teacher. */
class EmbedCliTest {
    private static final AtomicInteger LOGS = new AtomicInteger();

    @TempDir Path tmp;

    /** Writes {@code n} lines, line i being {@code line.apply(i)}: a corpus file. */
    static void lines(Path file, int n, java.util.function.IntFunction<String> line) throws java.io.IOException {
        Files.writeString(file, IntStream.range(0, n).mapToObj(line).collect(Collectors.joining("\n")));
    }

    private DistillProcess.Result distill(String... args) throws Exception {
        return DistillProcess.run(Map.of(), tmp.resolve("logs-" + LOGS.incrementAndGet()), args);
    }

    @Test
    void distillsASmallStaticStudentAndScoresIt() throws Exception {
        Path corpus = tmp.resolve("corpus.txt");
        lines(corpus, 16, i -> "sentence number " + i + " about the weather");
        Path out = tmp.resolve("student");
        var r = distill("embed", "distill", "--teacher", "bge-small-en-v1.5", "--dims", "16", "--vocab-limit", "800",
                "--corpus", corpus.toString(), "--out", out.toString());
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("Spearman").contains("faster");
        assertThat(out.resolve("model.safetensors")).exists();
        assertThat(out.resolve("tokenizer.json")).exists();

        var eval = distill("embed", "eval", "--teacher", "bge-small-en-v1.5", "--student", out.toString(),
                "--corpus", corpus.toString(), "--json");
        assertThat(eval.exitCode()).as(eval.toString()).isZero();
        assertThat(eval.stderr()).as(eval.toString()).doesNotContainPattern("(?m)^WARNING: ");
        JsonNode card = Json.MAPPER.readTree(out.resolve("scorecard.json").toFile());
        assertThat(card.get("studentDim").asInt()).isEqualTo(16);
        assertThat(card.get("sentences").asInt()).isEqualTo(16);
    }

    @Test
    void tunesAStaticStudentOnATrainingFileDisjointFromTheEvaluationCorpus() throws Exception {
        Path corpus = tmp.resolve("eval.txt");
        lines(corpus, 16, i -> "sentence number " + i + " about the weather");
        // 220 training lines, 2 of them also evaluation sentences: those must be dropped
        Path train = tmp.resolve("train.txt");
        lines(train, 220, i -> i < 2 ? "sentence number " + i + " about the weather" : "a debconf sentence about rain number " + i);
        Path out = tmp.resolve("tuned"), cache = tmp.resolve("teacher-cache");
        var r = distill("embed", "distill", "--teacher", "bge-small-en-v1.5", "--student", "static-tuned", "--dims", "16",
                "--vocab-limit", "800", "--corpus", corpus.toString(), "--train-corpus", train.toString(), "--loss", "mse",
                "--epochs", "2", "--batch-size", "16", "--teacher-cache", cache.toString(), "--out", out.toString());
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stderr()).contains("dropped 2 training sentences").contains("epoch 2/2")
                .contains("218 of 218 training sentences not embedded yet")
                .contains("1 frequent words of the training sentences added as tokens");
        assertThat(r.stdout()).contains("static-tuned student: mse loss").contains("Spearman");
        JsonNode cfg = Json.MAPPER.readTree(out.resolve("config.json").toFile());
        assertThat(cfg.get("model_type").asText()).isEqualTo("static");
        assertThat(cfg.path("tuned").path("corpus_sentences").asInt()).isEqualTo(218);
        assertThat(cfg.path("added_words").asInt()).isEqualTo(1);   // "debconf", which bge's WordPiece splits
        assertThat(cfg.path("vocab_size").asInt()).isEqualTo(30523);
        // a second student from the same sentences asks the teacher nothing: the vectors are on disk
        var again = distill("embed", "distill", "--teacher", "bge-small-en-v1.5", "--student", "static-tuned", "--dims", "8",
                "--vocab-limit", "800", "--corpus", corpus.toString(), "--train-corpus", train.toString(), "--epochs", "1",
                "--batch-size", "16", "--teacher-cache", cache.toString(), "--out", tmp.resolve("tuned8").toString());
        assertThat(again.exitCode()).as(again.toString()).isZero();
        assertThat(again.stderr()).doesNotContain("not embedded yet");

        var bad = distill("embed", "distill", "--teacher", "bge-small-en-v1.5", "--student", "static-tuned", "--loss", "hinge",
                "--out", tmp.resolve("y").toString());
        assertThat(bad.exitCode()).isEqualTo(1);
        assertThat(bad.stderr()).contains("unknown --loss 'hinge'").doesNotContain("\tat ");
    }

    @Test
    void distillsALayersStudentThatEvalRunsFromItsOnnxExport() throws Exception {
        Path corpus = tmp.resolve("corpus.txt");
        lines(corpus, 60, i -> "sentence number " + i + " about the " + (i % 2 == 0 ? "weather" : "harbour"));
        Path out = tmp.resolve("bert");
        Path cache = tmp.resolve("cache");
        var r = distill("embed", "distill", "--teacher", "bge-small-en-v1.5", "--student", "layers:0,11", "--epochs", "1",
                "--batch-size", "16", "--corpus", corpus.toString(), "--structure-weight", "0.5",
                "--teacher-cache", cache.toString(), "--out", out.toString());
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("BERT student").contains("2 of 12 teacher layers").contains("Spearman")
                .contains("(0 teacher vectors from the cache)");
        assertThat(r.stderr()).contains("teacher embedding sentences missing from " + cache + ": 60 / 60");
        // the held-out fifth differs from training sentences only in its numbers: reported, not hidden
        assertThat(r.stderr()).contains("48 training sentences (four fifths of " + corpus + "), 12 held out")
                .contains("overlap of the held-out sentences with training: 12 exact, 0 near (they differ");
        assertThat(cache.resolve("vectors.bin")).isRegularFile();
        JsonNode info = Json.MAPPER.readTree(out.resolve("config.json").toFile()).get("distill4j");
        assertThat(info.get("loss").asText()).isEqualTo("mse+pairwise-cosine+hidden-states");   // --hidden-weight's default
        assertThat(info.get("hidden_weight").asDouble()).isEqualTo(4.0);
        assertThat(info.get("pair_weight").asDouble()).isEqualTo(0.5);
        // protobuf-java (the ONNX graph) calls sun.misc.Unsafe; with the launcher's JVM options the user sees none of it
        assertThat(r.stderr()).as(r.toString()).doesNotContainPattern("(?m)^WARNING: ");
        assertThat(out.resolve("model.onnx")).isRegularFile();
        assertThat(out.resolve("model.safetensors")).isRegularFile();

        var eval = distill("eval", "--teacher", "bge-small-en-v1.5", "--student", out.toString(),
                "--corpus", corpus.toString(), "--out", tmp.resolve("eval").toString());
        assertThat(eval.exitCode()).as(eval.toString()).isZero();
        JsonNode card = Json.MAPPER.readTree(tmp.resolve("eval/scorecard.json").toFile());
        JsonNode student = card.get("students").get(0);
        assertThat(student.get("model_type").asText()).isEqualTo("bert");
        // the footprint of what runs: the ONNX file (embeddings + 2 layers), not safetensors and ONNX together
        assertThat(student.get("efficiency").get("bytes").asLong()).isEqualTo(Files.size(out.resolve("model.onnx")));

        // the student's int8 copy: same folder (float safetensors, config, tokenizer) with an int8 model.onnx
        Path int8 = tmp.resolve("bert-int8");
        var q = distill("embed", "quantize", "--model", out.toString(), "--out", int8.toString(),
                "--calibration", corpus.toString());
        assertThat(q.exitCode()).as(q.toString()).isZero();
        assertThat(q.stderr()).contains("calibrating on 60 sentences from " + corpus);
        assertThat(q.stdout()).contains("12 dense layers in int8 (SmoothQuant alpha 0.75 on 60 sentences, "
                + "per-token ranges for 2 feed-forward outputs, 2 GELUs in tanh form)");
        assertThat(int8.resolve("model.safetensors")).hasSameBinaryContentAs(out.resolve("model.safetensors"));
        assertThat(int8.resolve("config.json")).hasSameTextualContentAs(out.resolve("config.json"));
        assertThat(Files.size(int8.resolve("model.onnx"))).isLessThan(Files.size(out.resolve("model.onnx")));
        JsonNode report = Json.MAPPER.readTree(int8.resolve("quantization.json").toFile());
        assertThat(report.get("quantized_matmuls").asInt()).isEqualTo(12);
        assertThat(report.get("calibration_sentences").asInt()).isEqualTo(60);
        assertThat(report.get("tanh_gelus").asInt()).isEqualTo(2);
        assertThat(report.get("token_ranges").asBoolean()).as("per-token ranges are the default").isTrue();
        var scored = distill("embed", "eval", "--teacher", out.toString(), "--student", int8.toString(),
                "--corpus", corpus.toString(), "--json");
        assertThat(scored.exitCode()).as(scored.toString()).isZero();
        assertThat(Json.MAPPER.readTree(int8.resolve("scorecard.json").toFile()).get("spearman").asDouble())
                .as("the int8 copy embeds as its float original").isGreaterThan(0.9);
    }

    @Test
    void aLayersStudentSavedInInt8IsScoredAsInt8() throws Exception {
        Path out = tmp.resolve("bert-int8");
        var r = int8LayersStudent(out, "--no-token-ranges", "--exact-gelu");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("int8 model.onnx: 12 dense layers in int8").contains("on 48 sentences")
                .doesNotContain("per-token ranges").doesNotContain("tanh").contains("Spearman");
        JsonNode report = Json.MAPPER.readTree(out.resolve("quantization.json").toFile());
        assertThat(report.get("calibration_sentences").asInt()).isEqualTo(48);
        assertThat(report.get("token_ranges").asBoolean()).isFalse();
        assertThat(report.get("token_range_inputs").asInt()).isZero();
        assertThat(report.get("gelu").asText()).isEqualTo("erf (exact)");
        assertThat(report.get("tanh_gelus").asInt()).isZero();
        assertThat(out.resolve("model.safetensors")).isRegularFile();
        var twice = distill("embed", "quantize", "--model", out.toString(), "--out", tmp.resolve("q").toString(), "--no-smooth");
        assertThat(twice.stderr()).contains("int8 already");
        var staticInt8 = distill("embed", "distill", "--teacher", "bge-small-en-v1.5", "--int8", "--out", tmp.resolve("s").toString());
        assertThat(staticInt8.exitCode()).isEqualTo(1);
        assertThat(staticInt8.stderr()).contains("--int8 is for layers students").doesNotContain("\tat ");
        var float32 = distill("embed", "distill", "--teacher", "bge-small-en-v1.5", "--student", "layers:0,11",
                "--token-ranges", "--out", tmp.resolve("f").toString());
        assertThat(float32.exitCode()).isEqualTo(1);
        assertThat(float32.stderr()).contains("--token-ranges goes with --int8").doesNotContain("\tat ");
        var batchFloat = distill("embed", "distill", "--teacher", "bge-small-en-v1.5", "--student", "layers:0,11",
                "--no-token-ranges", "--out", tmp.resolve("f").toString());
        assertThat(batchFloat.exitCode()).isEqualTo(1);
        assertThat(batchFloat.stderr()).contains("--no-token-ranges goes with --int8").doesNotContain("\tat ");
        var exactFloat = distill("embed", "distill", "--teacher", "bge-small-en-v1.5", "--student", "layers:0,11",
                "--exact-gelu", "--out", tmp.resolve("f").toString());
        assertThat(exactFloat.exitCode()).isEqualTo(1);
        assertThat(exactFloat.stderr()).contains("--exact-gelu goes with --int8").doesNotContain("\tat ");
    }

    @Test
    void aWidthPrunedStudentKeepsFewerFeedForwardNeuronsAndRunsFromItsOnnxExport() throws Exception {
        Path out = tmp.resolve("narrow");
        var r = int8LayersStudent(out, "--ffn-width", "384", "--token-ranges");
        Path corpus = tmp.resolve("corpus.txt");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("2 of 12 teacher layers, 384 of 1536 feed-forward neurons each")
                .contains("int8 model.onnx: 12 dense layers in int8");
        assertThat(r.stderr()).contains("--token-ranges changed nothing");
        JsonNode config = Json.MAPPER.readTree(out.resolve("config.json").toFile());
        assertThat(config.get("intermediate_size").asInt()).isEqualTo(384);
        assertThat(config.get("distill4j").get("ffn_width").asInt()).isEqualTo(384);
        var scored = distill("embed", "eval", "--teacher", "bge-small-en-v1.5", "--student", out.toString(),
                "--corpus", corpus.toString(), "--json");
        assertThat(scored.exitCode()).as(scored.toString()).isZero();

        var wide = distill("embed", "distill", "--teacher", "bge-small-en-v1.5", "--student", "layers:0,11", "--ffn-width", "5000",
                "--corpus", corpus.toString(), "--teacher-cache", tmp.resolve("cache").toString(), "--out", tmp.resolve("w").toString());
        assertThat(wide.exitCode()).isEqualTo(1);
        assertThat(wide.stderr()).contains("--ffn-width must be between 1 and the teacher's 1536, got 5000").doesNotContain("\tat ");
    }

    /** A layers:0,11 student of bge-small trained one epoch on 60 sentences (corpus.txt in tmp) and saved in int8. */
    private DistillProcess.Result int8LayersStudent(Path out, String... extra) throws Exception {
        Path corpus = tmp.resolve("corpus.txt");
        lines(corpus, 60, i -> "sentence number " + i + " about the " + (i % 2 == 0 ? "weather" : "harbour"));
        List<String> args = new ArrayList<>(List.of("embed", "distill", "--teacher", "bge-small-en-v1.5", "--student",
                "layers:0,11", "--epochs", "1", "--batch-size", "16", "--corpus", corpus.toString(), "--teacher-cache",
                tmp.resolve("cache").toString(), "--int8", "--out", out.toString()));
        args.addAll(List.of(extra));
        return distill(args.toArray(String[]::new));
    }

    @Test
    void quantizesABuiltInTeacherAndRefusesWhatItCannotDo() throws Exception {
        Path corpus = tmp.resolve("corpus.txt");
        lines(corpus, 40, i -> "a sentence about harbour number " + i + (i % 3 == 0 ? " and the weather" : ""));
        Path int8 = tmp.resolve("minilm-int8");
        var q = distill("embed", "quantize", "--model", "all-minilm-l6-v2", "--out", int8.toString(), "--no-smooth");
        assertThat(q.exitCode()).as(q.toString()).isZero();
        assertThat(q.stdout()).contains("36 dense layers in int8 (dynamic, per-token ranges for 6 feed-forward outputs, "
                + "6 GELUs in tanh form)");
        assertThat(q.stderr()).doesNotContain("calibrating");
        assertThat(int8.resolve("tokenizer.json")).isRegularFile();
        JsonNode pooling = Json.MAPPER.readTree(int8.resolve("1_Pooling/config.json").toFile());
        assertThat(pooling.get("pooling_mode_mean_tokens").asBoolean()).isTrue();
        assertThat(pooling.get("word_embedding_dimension").asInt()).isEqualTo(384);
        var scored = distill("embed", "eval", "--teacher", "all-minilm-l6-v2", "--student", int8.toString(),
                "--corpus", corpus.toString(), "--json");
        assertThat(scored.exitCode()).as(scored.toString()).isZero();
        assertThat(Json.MAPPER.readTree(int8.resolve("scorecard.json").toFile()).get("spearman").asDouble()).isGreaterThan(0.9);

        var again = distill("embed", "quantize", "--model", int8.toString(), "--out", tmp.resolve("twice").toString(), "--no-smooth");
        assertThat(again.exitCode()).isEqualTo(1);
        assertThat(again.stderr()).contains("int8 already").doesNotContain("\tat ");
        assertThat(tmp.resolve("twice")).doesNotExist();
        assertThat(tmp.toFile().list()).as("no hidden half-written folder left").noneMatch(f -> f.startsWith("."));
        var exists = distill("embed", "quantize", "--model", "all-minilm-l6-v2", "--out", int8.toString(), "--no-smooth");
        assertThat(exists.exitCode()).isEqualTo(1);
        assertThat(exists.stderr()).contains("already exists").doesNotContain("\tat ");
        var missing = distill("embed", "quantize", "--model", tmp.resolve("nope").toString(), "--out", tmp.resolve("z").toString());
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.stderr()).contains("no model folder at").doesNotContain("\tat ");
    }

    @Test
    void anUnknownTeacherIsOneClearLine() throws Exception {
        var r = distill("embed", "distill", "--teacher", "gpt-embed-9000", "--out", tmp.resolve("x").toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.stderr()).contains("unknown teacher 'gpt-embed-9000'").doesNotContain("\tat ");
    }

    @Test
    void aBadLayersSpecIsOneClearLine() throws Exception {
        var r = distill("embed", "distill", "--teacher", "bge-small-en-v1.5", "--student", "layers:zero",
                "--out", tmp.resolve("x").toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.stderr()).contains("write layers:0,4,8").doesNotContain("\tat ");
        var w = distill("embed", "distill", "--teacher", "bge-small-en-v1.5", "--student", "layers:0,11",
                "--structure-weight", "-1", "--out", tmp.resolve("x").toString());
        assertThat(w.exitCode()).isEqualTo(1);
        assertThat(w.stderr()).contains("--structure-weight must be a finite number ≥ 0, got -1.0").doesNotContain("\tat ");
        var h = distill("embed", "distill", "--teacher", "bge-small-en-v1.5", "--student", "layers:0,11",
                "--hidden-weight", "NaN", "--out", tmp.resolve("x").toString());
        assertThat(h.exitCode()).isEqualTo(1);
        assertThat(h.stderr()).contains("--hidden-weight must be a finite number ≥ 0, got NaN").doesNotContain("\tat ");
    }
}
