package dev.distill4j.embed.encoder;

import static org.assertj.core.api.Assertions.assertThat;

import dev.distill4j.embed.OnnxEmbeddingModel;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The DJL BERT with all of a teacher's layers, imported from its ONNX initialisers, reproduces ONNX Runtime's
 * embeddings: an independent reference for the import (names, transposes, heads, ε) and the equations.
 */
class BertParityTest {
    static final List<String> SENTENCES = List.of("The chef bakes fresh bread in the kitchen.",
            "A short one.", "Interest rates rose again after the central bank's quarterly report on inflation.",
            "Déjà vu: naïve café owners serve crème brûlée!", "x");

    @Test
    void bgeSmallAllLayersMatchesOnnxRuntime() throws Exception { parity("bge-small-en-v1.5", 12); }

    @Test
    void miniLmAllLayersMatchesOnnxRuntime() throws Exception { parity("all-minilm-l6-v2", 6); }

    private static void parity(String id, int layers) throws Exception {
        try (OnnxEmbeddingModel teacher = OnnxEmbeddingModel.load(id)) {
            BertWeights w = BertWeights.fromOnnx(OnnxGraph.parse(OnnxEmbeddingModel.onnxBytes(id)));
            assertThat(w.config().numHiddenLayers()).isEqualTo(layers);
            assertThat(w.config().numAttentionHeads()).isEqualTo(12);
            assertThat(w.config().hiddenSize()).isEqualTo(384);
            assertThat(w.config().layerNormEps()).isEqualTo(1e-12);
            try (EncoderStudent djl = new EncoderStudent(id, w, teacher.tokenizerJson(), teacher.pooling(),
                    teacher.maxLength(), dev.distill4j.core.Json.object())) {
                float[][] expected = teacher.embed(SENTENCES), actual = djl.embed(SENTENCES);
                for (int i = 0; i < SENTENCES.size(); i++) {
                    for (int k = 0; k < expected[i].length; k++) {
                        assertThat(actual[i][k]).as("%s sentence %d dim %d", id, i, k)
                                .isCloseTo(expected[i][k], org.assertj.core.data.Offset.offset(1e-4f));
                    }
                }
            }
        }
    }
}
