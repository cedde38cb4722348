package dev.distill4j.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class OnnxEmbeddingModelTest {
    static OnnxEmbeddingModel bge;

    @BeforeAll
    static void load() throws IOException { bge = OnnxEmbeddingModel.load("bge-small-en-v1.5"); }

    @AfterAll
    static void close() { bge.close(); }

    @Test
    void bgeGivesUnitNormVectorsOf384Dimensions() {
        float[][] v = bge.embed(List.of("The cat sleeps on the sofa.", "Interest rates rose again this quarter."));
        assertThat(bge.dimension()).isEqualTo(384);
        assertThat(bge.pooling()).isEqualTo(Pooling.CLS);
        for (float[] x : v) {
            assertThat(x).hasSize(384);
            assertThat(Math.sqrt(Vectors.dot(x, x))).isCloseTo(1.0, within(1e-5));
        }
    }

    @Test
    void footprintCountsTheOnnxInitialisers() {
        // BERT-small shapes: embeddings (30522 + 512 + 2) × 384 + LayerNorm, 12 layers of attention (4 × 384²),
        // FFN (2 × 384 × 1536) with biases and two LayerNorms; whatever else the export keeps (e.g. a pooler)
        // must stay small next to that
        long layer = 4 * (384L * 384 + 384) + 384L * 1536 + 1536 + 1536L * 384 + 384 + 2 * 2 * 384;
        long bert = (30522L + 512 + 2) * 384 + 2 * 384 + 12 * layer;
        assertThat(bge.footprint().parameters()).isBetween(bert, bert + 384L * 384 + 384);
        assertThat(bge.footprint().bytes()).isBetween(4 * bert, 4 * bert + 4_000_000);
    }

    @Test
    void identicalSentencesHaveCosineOne() {
        float[][] v = bge.embed(List.of("A dog runs in the park.", "A dog runs in the park."));
        assertThat(Vectors.cosine(v[0], v[1])).isCloseTo(1.0, within(1e-5));
    }

    @Test
    void relatedSentencesAreCloserThanUnrelatedOnes() {
        float[][] v = bge.embed(List.of(
                "How do I bake bread at home?",
                "What is a simple recipe for homemade bread?",
                "The central bank raised interest rates.",
                "The goalkeeper saved a penalty in the final minute."));
        double related = Vectors.cosine(v[0], v[1]);
        assertThat(related).isGreaterThan(Vectors.cosine(v[0], v[2])).isGreaterThan(0.7);
        assertThat(related).isGreaterThan(Vectors.cosine(v[0], v[3]));
        assertThat(Vectors.cosine(v[2], v[3])).isLessThan(related);
    }

    @Test
    void aBatchGivesTheSameVectorsAsOneAtATime() {
        List<String> texts = List.of("short", "a somewhat longer sentence that needs padding in a batch",
                "a third one, of middling length");
        float[][] batch = bge.embed(texts);
        for (int i = 0; i < texts.size(); i++) {
            float[] single = bge.embed(texts.get(i));
            for (int k = 0; k < single.length; k++) assertThat(batch[i][k]).isCloseTo(single[k], within(1e-4f));
        }
    }

    @Test
    void longTextsAreTruncatedToTheModelsMaximum() {
        String longText = "word ".repeat(2000);
        assertThat(bge.tokenize(longText)).hasSize(512);
        assertThat(bge.embed(longText)).hasSize(384);
    }

    @Test
    void miniLmUsesMeanPoolingAndSeparatesTopics() throws IOException {
        try (OnnxEmbeddingModel mini = OnnxEmbeddingModel.load("all-minilm-l6-v2")) {
            assertThat(mini.pooling()).isEqualTo(Pooling.MEAN);
            float[][] v = mini.embed(List.of("The chef roasts vegetables in the kitchen.",
                    "A cook is preparing food in the kitchen.", "The striker scored a late goal."));
            assertThat(v[0]).hasSize(384);
            assertThat(Vectors.cosine(v[0], v[1])).isGreaterThan(Vectors.cosine(v[0], v[2]));
        }
    }

    @Test
    void anUnknownTeacherSaysWhatToUse() {
        assertThatThrownBy(() -> OnnxEmbeddingModel.load("no-such-model"))
                .hasMessageContaining("bge-small-en-v1.5, all-minilm-l6-v2 or a folder");
    }
}
