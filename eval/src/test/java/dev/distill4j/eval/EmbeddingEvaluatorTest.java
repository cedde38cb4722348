package dev.distill4j.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import dev.distill4j.embed.EmbedCorpus;
import dev.distill4j.embed.OnnxEmbeddingModel;
import dev.distill4j.embed.StaticDistiller;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code distill eval} for embedding students: two real static students of bge-small on a small vocabulary. */
class EmbeddingEvaluatorTest {
    @TempDir static Path tmp;
    static Path wide;
    static Path narrow;
    static final List<String> SENTENCES = EmbedCorpus.synthetic(80, 7);

    @BeforeAll
    static void students() throws IOException {
        wide = tmp.resolve("static-32");
        narrow = tmp.resolve("static-8");
        try (OnnxEmbeddingModel bge = OnnxEmbeddingModel.load("bge-small-en-v1.5")) {
            // one vocabulary pass over the first 3,000 tokens (characters and the commonest words), two PCA sizes
            float[][] tokens = StaticDistiller.embedVocabulary(bge, 3000, null);
            try (var s = StaticDistiller.fromTokenVectors(bge, tokens, new StaticDistiller.Options(32, 3000, 1e-4))) {
                s.save(wide);
            }
            try (var s = StaticDistiller.fromTokenVectors(bge, tokens, new StaticDistiller.Options(8, 3000, 1e-4))) {
                s.save(narrow);
            }
        }
    }

    @Test
    void twoStudentsShareOneScorecardAndReport() throws Exception {
        Path out = tmp.resolve("report");
        EmbeddingScorecard card = EmbeddingEvaluator.builder().setTeacher("bge-small-en-v1.5").addStudent(wide)
                .addStudent(narrow).optSentences(SENTENCES).optOut(out).build().run();

        JsonNode json = Json.parse(Files.readString(out.resolve("scorecard.json")));
        assertThat(json.path("evaluation").asText()).isEqualTo("embedding");
        assertThat(json.path("corpus").path("sentences").asInt()).isEqualTo(80);
        assertThat(json.path("corpus").path("pairs").asLong()).isEqualTo(80 * 79 / 2);
        assertThat(json.path("machine").path("cpus").asInt()).isPositive();
        assertThat(json.path("machine").has("load_average_start")).isTrue();
        JsonNode teacher = json.path("teacher");
        assertThat(teacher.path("name").asText()).isEqualTo("bge-small-en-v1.5");
        assertThat(teacher.path("efficiency").path("dimension").asInt()).isEqualTo(384);
        assertThat(teacher.path("efficiency").path("parameters").asLong()).isBetween(33_000_000L, 34_000_000L);
        assertThat(teacher.path("efficiency").path("sentences_per_s").asDouble()).isPositive();

        JsonNode students = json.path("students");
        assertThat(students).hasSize(2);
        JsonNode s = students.get(0);
        assertThat(s.path("dir").asText()).isEqualTo(wide.toString());
        assertThat(s.path("model_type").asText()).isEqualTo("static");
        assertThat(s.path("efficiency").path("dimension").asInt()).isEqualTo(32);
        assertThat(s.path("efficiency").path("parameters").asLong()).isEqualTo(30522L * 32);
        assertThat(s.path("efficiency").path("bytes").asLong()).isGreaterThan(30522L * 32 * 4);
        assertThat(s.path("size_ratio").asDouble()).isGreaterThan(1);
        assertThat(s.path("speedup").asDouble()).isPositive();
        assertThat(s.path("latency_speedup").asDouble()).isPositive();
        JsonNode f = s.path("fidelity");
        assertThat(f.path("recall_at_k")).hasSize(10);
        assertThat(f.path("recall_at_k").get(9).asDouble()).isEqualTo(f.path("recall_at_10").asDouble());
        assertThat(f.path("spearman").asDouble()).isBetween(0.2, 1.0);
        assertThat(f.path("cka").asDouble()).isBetween(0.0, 1.0);
        // 8 dims keep less of the teacher's geometry than 32 (CKA is the steadiest of the three on 80 sentences)
        assertThat(students.get(1).path("fidelity").path("cka").asDouble()).isLessThan(f.path("cka").asDouble());
        assertThat(card.students().get(1).efficiency().dimension()).isEqualTo(8);

        String html = Files.readString(out.resolve("report.html"));
        assertThat(html).contains("<svg").contains("<svg id='cosines'").contains("<svg id='speed'").contains("<svg id='recall'")
                .contains("static-32").contains("static-8").contains("Spearman").doesNotContain("could not be drawn");
        assertThat(html.split("<svg", -1)).hasSize(4);
    }

    @Test
    void oneStudentWritesIntoItsOwnEvalFolder() throws Exception {
        Path corpus = tmp.resolve("corpus.jsonl");
        Files.writeString(corpus, String.join("\n", SENTENCES.subList(0, 30).stream()
                .map(t -> Json.object().put("text", t).toString()).toList()));
        EmbeddingEvaluator e = EmbeddingEvaluator.builder().setTeacher("bge-small-en-v1.5").addStudent(narrow)
                .optCorpus(corpus).build();
        assertThat(e.outDir()).isEqualTo(narrow.resolve("eval"));
        e.run();
        JsonNode json = Json.parse(Files.readString(narrow.resolve("eval/scorecard.json")));
        assertThat(json.path("corpus").path("source").asText()).isEqualTo(corpus.toString());
        assertThat(json.path("corpus").path("sentences").asInt()).isEqualTo(30);
        assertThat(narrow.resolve("eval/report.html")).isRegularFile();
    }

    @Test
    void badInputsAreOneClearMessage() throws Exception {
        Path textModel = Files.createDirectories(tmp.resolve("llama"));
        Files.writeString(textModel.resolve("config.json"), "{\"model_type\": \"llama\"}");
        assertThatThrownBy(() -> EmbeddingEvaluator.builder().setTeacher("bge-small-en-v1.5").addStudent(textModel)
                .optSentences(SENTENCES).build().run())
                .isInstanceOf(IOException.class).hasMessageContaining("not describe an embedding student")
                .hasMessageContaining("llama");
        assertThatThrownBy(() -> EmbeddingEvaluator.builder().setTeacher("bge-small-en-v1.5")
                .addStudent(tmp.resolve("nowhere")).build().run())
                .hasMessage("no student folder at " + tmp.resolve("nowhere"));
        assertThatThrownBy(() -> EmbeddingEvaluator.builder().setTeacher("gpt-embed-9000").addStudent(narrow)
                .optSentences(SENTENCES).optOut(tmp.resolve("x")).build().run())
                .isInstanceOf(IOException.class).hasMessageStartingWith("unknown teacher 'gpt-embed-9000'");
        assertThatThrownBy(() -> EmbeddingEvaluator.builder().setTeacher("bge-small-en-v1.5").addStudent(wide)
                .addStudent(narrow).build())
                .hasMessageContaining("give --out DIR");
        assertThatThrownBy(() -> EmbeddingEvaluator.builder().addStudent(wide).build())
                .hasMessageContaining("need --teacher");
    }
}
