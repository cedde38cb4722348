package dev.distill4j.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StaticStudentTest {
    static OnnxEmbeddingModel bge;
    static StaticEmbeddingModel student;

    @BeforeAll
    static void build() throws Exception {
        bge = OnnxEmbeddingModel.load("bge-small-en-v1.5");
        // the first 4,000 tokens by id: punctuation, characters and the ~3,000 most frequent words (the full
        // 30k vocabulary is the benchmark's job)
        student = StaticDistiller.distill(bge, new StaticDistiller.Options(64, 4000, StaticDistiller.Options.DEFAULT_SIF), null);
    }

    @AfterAll
    static void close() {
        student.close();
        bge.close();
    }

    @Test
    void studentGivesUnitVectorsOfTheRequestedSize() {
        assertThat(student.dimension()).isEqualTo(64);
        assertThat(student.vocabSize()).isEqualTo(30522);
        assertThat(student.config().get("distilled_tokens").asInt()).isEqualTo(4000);
        float[] v = student.embed("the music was played at the concert");
        assertThat(Math.sqrt(Vectors.dot(v, v))).isCloseTo(1.0, within(1e-5));
        assertThat(student.row(0)).containsOnly(0f);   // [PAD] is special: never distilled
    }

    @Test
    void studentKeepsTopicsApart() {
        float[][] v = student.embed(List.of("the music played at the concert", "a song performed by the band",
                "the government passed a new law", "the president signed the law"));
        assertThat(Vectors.cosine(v[0], v[1])).isGreaterThan(Vectors.cosine(v[0], v[2]));
        assertThat(Vectors.cosine(v[2], v[3])).isGreaterThan(Vectors.cosine(v[1], v[3]));
    }

    @Test
    void studentAgreesWithTheTeacherOnAGeneratedCorpus() {
        List<String> corpus = EmbedCorpus.synthetic(120, 1);
        EmbedEval.Scorecard s = EmbedEval.run(bge, student, corpus);
        assertThat(s.spearman()).isGreaterThan(0.25);
        assertThat(s.cka()).isBetween(0.0, 1.0);
        assertThat(s.recallAt10()).isBetween(0.0, 1.0);
        assertThat(s.studentDim()).isEqualTo(64);
    }

    @Test
    void saveAndLoadGiveTheSameVectors(@TempDir Path dir) throws Exception {
        student.save(dir.resolve("s"));
        try (StaticEmbeddingModel loaded = StaticEmbeddingModel.load(dir.resolve("s"))) {
            assertThat(loaded.dimension()).isEqualTo(64);
            assertThat(loaded.config().get("teacher").asText()).isEqualTo("bge-small-en-v1.5");
            String text = "a quiet river in early spring";
            assertThat(loaded.embed(text)).containsExactly(student.embed(text));
        }
        // the footprint counts the table and every model file, not evaluation outputs written beside them
        java.nio.file.Files.writeString(dir.resolve("s/scorecard.json"), "{}");
        ModelFootprint f = ModelFootprint.ofFolder(dir.resolve("s"));
        assertThat(f.parameters()).isEqualTo(30522L * 64);
        long files = 0;
        for (String name : List.of("config.json", "model.safetensors", "tokenizer.json")) {
            files += java.nio.file.Files.size(dir.resolve("s").resolve(name));
        }
        assertThat(f.bytes()).isEqualTo(files);
    }
}
