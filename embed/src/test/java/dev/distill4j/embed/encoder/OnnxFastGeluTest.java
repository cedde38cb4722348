package dev.distill4j.embed.encoder;

import static dev.distill4j.embed.encoder.OnnxLayerDropTest.ort;
import static org.assertj.core.api.Assertions.assertThat;

import dev.distill4j.embed.OnnxEmbeddingModel;
import dev.distill4j.embed.OnnxEmbeddingModel.Builtin;
import dev.distill4j.embed.Pooling;
import org.junit.jupiter.api.Test;

/** The erf GELU swapped for ONNX Runtime's tanh FastGelu: which nodes go, and the embeddings on ONNX Runtime. */
class OnnxFastGeluTest {

    @Test
    void everyLayersGeluBecomesOneFastGeluAndTheEmbeddingsBarelyMove() throws Exception {
        byte[] model = OnnxEmbeddingModel.onnxBytes(Builtin.ALL_MINILM_L6_V2.id);
        OnnxFastGelu.Report r = OnnxFastGelu.rewrite(model);
        assertThat(r.replaced()).isEqualTo(6);                                          // one per layer

        OnnxGraph before = OnnxGraph.parseStructure(model), after = OnnxGraph.parseStructure(r.model());
        assertThat(after.nodes()).filteredOn(n -> n.opType().equals("FastGelu")).hasSize(6);
        assertThat(after.nodes()).noneMatch(n -> n.opType().equals("Erf"));
        // per layer: Div, Erf, Add, Mul, Mul and their three Constants go, one FastGelu comes
        assertThat(after.nodes()).hasSize(before.nodes().size() - 6 * (5 + 3 - 1));
        // each FastGelu reads what the Div read (the intermediate dense output) and writes what the last Mul wrote
        for (OnnxGraph.Node f : after.nodes()) {
            if (!f.opType().equals("FastGelu")) continue;
            assertThat(f.inputs().get(0)).endsWith("intermediate/dense/Add_output_0");
            assertThat(f.outputs().get(0)).endsWith("intermediate_act_fn/Mul_1_output_0");
        }

        float[][] exact = ort(model, Builtin.ALL_MINILM_L6_V2, Pooling.MEAN);
        float[][] tanh = ort(r.model(), Builtin.ALL_MINILM_L6_V2, Pooling.MEAN);
        double maxDiff = 0;
        for (int i = 0; i < exact.length; i++) {
            for (int j = 0; j < exact[i].length; j++) maxDiff = Math.max(maxDiff, Math.abs(exact[i][j] - tanh[i][j]));
        }
        // |GELU_tanh − GELU_erf| < 5e-4 per unit, through six layers and a normalisation
        assertThat(maxDiff).as("close to the erf model").isLessThan(2e-3).as("and really another op").isGreaterThan(1e-7);

        // idempotent: a model without the erf pattern is returned as it was
        OnnxFastGelu.Report again = OnnxFastGelu.rewrite(r.model());
        assertThat(again.replaced()).isZero();
        assertThat(again.model()).isSameAs(r.model());
    }

    @Test
    void anInt8ModelTakesTheRewriteToo() throws Exception {
        byte[] model = OnnxEmbeddingModel.onnxBytes(Builtin.ALL_MINILM_L6_V2.id);
        byte[] int8 = OnnxQuantize.int8(model).model();
        OnnxFastGelu.Report r = OnnxFastGelu.rewrite(int8);
        assertThat(r.replaced()).isEqualTo(6);
        // int8 rounds each batch's activations, so a 1e-4 change can flip levels: judge both against the float model
        float[][] exact = ort(model, Builtin.ALL_MINILM_L6_V2, Pooling.MEAN);
        float[][] erf = ort(int8, Builtin.ALL_MINILM_L6_V2, Pooling.MEAN), tanh = ort(r.model(), Builtin.ALL_MINILM_L6_V2, Pooling.MEAN);
        double erfCos = 0, tanhCos = 0;
        for (int i = 0; i < exact.length; i++) {
            erfCos += cosine(exact[i], erf[i]) / exact.length;
            tanhCos += cosine(exact[i], tanh[i]) / exact.length;
        }
        assertThat(tanhCos).as("the tanh GELU adds next to nothing to int8's own error (%.4f)", 1 - erfCos)
                .isGreaterThan(erfCos - 0.002);
    }

    private static double cosine(float[] a, float[] b) {
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.length; i++) {
            ab += a[i] * b[i];
            aa += a[i] * a[i];
            bb += b[i] * b[i];
        }
        return ab / Math.sqrt(aa * bb);
    }
}
