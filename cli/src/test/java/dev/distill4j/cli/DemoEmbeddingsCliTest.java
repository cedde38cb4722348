package dev.distill4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import dev.distill4j.embed.OnnxEmbeddingModel;
import dev.distill4j.embed.corpus.RealCorpus;
import dev.distill4j.embed.corpus.Sentences;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code distill demo embeddings} with the smoke profile (the real bge-small teacher, a 2,000-token static student
 * tuned on 220 sentences of the committed real-text excerpts, scored on up to 40 others), then {@code distill eval}
 * on the student it wrote and on an ONNX encoder folder, as child processes.
 */
class DemoEmbeddingsCliTest {
    private static final AtomicInteger LOGS = new AtomicInteger();

    @TempDir Path tmp;

    private DistillProcess.Result distill(String... args) throws Exception {
        // the teacher's sentence vectors go to this test's folder, not the user's cache
        // generous: the demo distils, embeds and tunes, which on a shared machine can take minutes
        return DistillProcess.run(Map.of("DISTILL4J_EMBED_CACHE", tmp.resolve("teacher-cache").toString()),
                tmp.resolve("logs-" + LOGS.incrementAndGet()), 600, args);
    }

    /** The real-text corpus built from the embed module's committed excerpts of Debian documentation. */
    private Path realCorpus() throws Exception {
        Path src = Path.of("../embed/src/test/resources/embed-corpus/docs"), dir = tmp.resolve("real");
        try (var files = Files.walk(src)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Path to = dir.resolve("docs").resolve(src.relativize(f).toString());
                Files.createDirectories(to.getParent());
                Files.copy(f, to);
            }
        }
        RealCorpus.build(dir, 7, 40, Sentences.Limits.DEFAULT);
        return dir;
    }

    @Test
    void smokeDemoDistilsAndScoresThenEvalComparesStudents() throws Exception {
        Path out = tmp.resolve("demo");
        var demo = distill("demo", "embeddings", "--profile", "smoke", "--corpus-dir", realCorpus().toString(),
                "--out", out.toString(), "--quiet");
        assertThat(demo.exitCode()).as(demo.toString()).isZero();
        assertThat(demo.stderr()).contains("reading the real-text corpus").contains("loading the teacher bge-small-en-v1.5")
                .contains("building a static student on 220 real sentences").contains("scorecard and report in");
        assertThat(demo.stdout()).contains("demo embeddings — scorecard")
                .contains("real English (Debian documentation, not written by the project)")
                .contains("Spearman of pairwise cosines").contains("nDCG@10").contains("tuned on 220 training sentences")
                .contains("faster").contains("smaller").contains("load average")
                .contains(out.resolve("eval/report.html").toAbsolutePath().toString());
        Path student = out.resolve("student");
        assertThat(student.resolve("model.safetensors")).isRegularFile();
        JsonNode card = Json.parse(Files.readString(out.resolve("eval/scorecard.json")));
        assertThat(card.path("students").get(0).path("efficiency").path("dimension").asInt()).isEqualTo(32);
        assertThat(card.path("corpus").path("sentences").asInt()).isBetween(20, 40);
        assertThat(card.path("corpus").path("source").asText()).startsWith("real-text corpus");
        assertThat(card.path("students").get(0).path("fidelity").path("ndcg_at_10").asDouble()).isBetween(0.0, 1.0);
        assertThat(Json.parse(Files.readString(student.resolve("config.json"))).path("tuned").isObject()).isTrue();
        assertThat(Files.readString(out.resolve("eval/report.html"))).contains("<svg id='cosines'");

        // distill eval detects the embedding student; two students need --out
        Path copy = tmp.resolve("copy");
        Files.createDirectories(copy);
        for (String f : new String[] {"config.json", "model.safetensors", "tokenizer.json"}) {
            Files.copy(student.resolve(f), copy.resolve(f));
        }
        Path corpus = tmp.resolve("corpus.txt");
        Files.writeString(corpus, IntStream.range(0, 20).mapToObj(i -> "the weather on day " + i + " was mild")
                .collect(Collectors.joining("\n")));
        Path report = tmp.resolve("report");
        var eval = distill("eval", "--student", student.toString(), "--student", copy.toString(), "--teacher",
                "bge-small-en-v1.5", "--corpus", corpus.toString(), "--out", report.toString(), "--quiet");
        assertThat(eval.exitCode()).as(eval.toString()).isZero();
        assertThat(eval.stdout()).contains("2 embedding students").contains("recall@10").contains("CKA")
                .contains(report.resolve("report.html").toString());
        JsonNode both = Json.parse(Files.readString(report.resolve("scorecard.json")));
        assertThat(both.path("students")).hasSize(2);
        // the same table twice: the same fidelity
        assertThat(both.path("students").get(1).path("fidelity").path("spearman").asDouble())
                .isEqualTo(both.path("students").get(0).path("fidelity").path("spearman").asDouble());

        // any ONNX encoder folder (sentence-transformers layout) is a student, and a built-in model a reference:
        // all-MiniLM-L6-v2 both ways scores the same against the teacher
        Path minilm = Files.createDirectories(tmp.resolve("minilm/1_Pooling"));
        Files.write(minilm.resolveSibling("model.onnx"), OnnxEmbeddingModel.onnxBytes("all-minilm-l6-v2"));
        Files.write(minilm.resolveSibling("tokenizer.json"), OnnxEmbeddingModel.Builtin.byId("all-minilm-l6-v2").tokenizerJson());
        Files.writeString(minilm.resolve("config.json"), "{\"pooling_mode_mean_tokens\": true}");
        Path refReport = tmp.resolve("ref-report");
        var ref = distill("eval", "--student", minilm.getParent().toString(), "--reference", "all-minilm-l6-v2",
                "--teacher", "bge-small-en-v1.5", "--corpus", corpus.toString(), "--out", refReport.toString(), "--quiet");
        assertThat(ref.exitCode()).as(ref.toString()).isZero();
        assertThat(ref.stdout()).contains("reference all-minilm-l6-v2").contains("(onnx, 384-d");
        JsonNode refCard = Json.parse(Files.readString(refReport.resolve("scorecard.json")));
        assertThat(refCard.path("students").get(1).path("role").asText()).isEqualTo("reference");
        assertThat(refCard.path("students").get(0).path("fidelity").path("spearman").asDouble())
                .isCloseTo(refCard.path("students").get(1).path("fidelity").path("spearman").asDouble(), within(1e-6));

        // bad inputs: one line each, no stack trace
        var twoNoOut = distill("eval", "--student", student.toString(), "--student", copy.toString(), "--teacher",
                "bge-small-en-v1.5");
        assertThat(twoNoOut.exitCode()).isEqualTo(1);
        assertThat(twoNoOut.stderr()).contains("give --out DIR").doesNotContain("\tat ");
        var unknown = distill("eval", "--student", student.toString(), "--teacher", "gpt-embed-9000",
                "--corpus", corpus.toString());
        assertThat(unknown.exitCode()).isEqualTo(1);
        assertThat(unknown.stderr()).contains("unknown teacher 'gpt-embed-9000'").doesNotContain("\tat ");
        var judge = distill("eval", "--student", student.toString(), "--teacher", "bge-small-en-v1.5", "--judge");
        assertThat(judge.exitCode()).isEqualTo(2);
        assertThat(judge.stderr()).contains("--judge applies to text runs");
        Path notStudent = Files.createDirectories(tmp.resolve("llama"));
        Files.writeString(notStudent.resolve("config.json"), "{\"model_type\": \"llama\"}");
        var text = distill("eval", "--student", notStudent.toString(), "--teacher", "bge-small-en-v1.5");
        assertThat(text.exitCode()).isEqualTo(2);
        assertThat(text.stderr()).contains("is not an embedding student").contains("--run").doesNotContain("\tat ");
    }
}
