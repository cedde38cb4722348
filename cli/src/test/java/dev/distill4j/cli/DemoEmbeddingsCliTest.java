package dev.distill4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code distill demo embeddings} with the smoke profile (the real bge-small teacher, a 2,000-token static student,
 * 60 sentences), then {@code distill eval} on the student it wrote, as child processes.
 */
class DemoEmbeddingsCliTest {
    private static final AtomicInteger LOGS = new AtomicInteger();

    @TempDir Path tmp;

    private DistillProcess.Result distill(String... args) throws Exception {
        return DistillProcess.run(Map.of(), tmp.resolve("logs-" + LOGS.incrementAndGet()), args);
    }

    @Test
    void smokeDemoDistilsAndScoresThenEvalComparesStudents() throws Exception {
        Path out = tmp.resolve("demo");
        var demo = distill("demo", "embeddings", "--profile", "smoke", "--out", out.toString(), "--quiet");
        assertThat(demo.exitCode()).as(demo.toString()).isZero();
        assertThat(demo.stderr()).contains("loading the teacher bge-small-en-v1.5").contains("distilling a static student")
                .contains("scorecard and report in");
        assertThat(demo.stdout()).contains("demo embeddings — scorecard").contains("Spearman of pairwise cosines")
                .contains("faster").contains("smaller").contains("load average")
                .contains(out.resolve("eval/report.html").toAbsolutePath().toString());
        Path student = out.resolve("student");
        assertThat(student.resolve("model.safetensors")).isRegularFile();
        JsonNode card = Json.parse(Files.readString(out.resolve("eval/scorecard.json")));
        assertThat(card.path("students").get(0).path("efficiency").path("dimension").asInt()).isEqualTo(32);
        assertThat(card.path("corpus").path("sentences").asInt()).isEqualTo(60);
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
