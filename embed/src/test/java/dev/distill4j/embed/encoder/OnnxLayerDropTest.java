package dev.distill4j.embed.encoder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.embed.OnnxEmbeddingModel;
import dev.distill4j.embed.OnnxEmbeddingModel.Builtin;
import dev.distill4j.embed.Pooling;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The student's ONNX graph against DJL's {@link BertEncoder} on the same weights (itself checked against ONNX
 * Runtime running the teacher, {@link BertParityTest}): whatever layers are kept, in whatever order, with weights
 * that differ from the teacher's.
 */
class OnnxLayerDropTest {
    static final List<String> TEXTS = List.of("The cat sat on the mat.", "A quick brown fox jumps over the lazy dog",
            "Embeddings map sentences to vectors, and similar sentences land close together.", "hi",
            "Distillation trains a small student on a large teacher's outputs.");

    @Test
    void fourOfBgeSmallsTwelveLayersWithTrainedWeightsRunOnOnnxRuntimeAsOnDjl() throws Exception {
        byte[] teacher = OnnxEmbeddingModel.onnxBytes(Builtin.BGE_SMALL_EN_V15.id);
        int[] kept = {0, 4, 8, 11};
        BertWeights student = perturbed(BertWeights.fromOnnx(OnnxGraph.parse(teacher)).keepLayers(kept), 1);
        byte[] onnx = OnnxLayerDrop.write(teacher, kept, student);
        assertThat(onnx.length).as("a third of the layers' weights").isLessThan(teacher.length * 3 / 4);

        float[][] ort = ort(onnx, Builtin.BGE_SMALL_EN_V15, Pooling.CLS), djl = djl(student, Builtin.BGE_SMALL_EN_V15, Pooling.CLS);
        assertClose(ort, djl, 1e-4);

        // the weights written are the student's, not the teacher's: the unperturbed student embeds otherwise
        BertWeights plain = BertWeights.fromOnnx(OnnxGraph.parse(teacher)).keepLayers(kept);
        float[][] unperturbed = djl(plain, Builtin.BGE_SMALL_EN_V15, Pooling.CLS);
        assertThat(maxAbsDiff(ort, unperturbed)).isGreaterThan(1e-3);

        // and the graph reads back as a 4-layer BERT with exactly those weights
        BertWeights back = BertWeights.fromOnnx(OnnxGraph.parse(onnx));
        assertThat(back.config()).isEqualTo(student.config());
        assertThat(back.tensors().keySet()).containsExactlyElementsOf(student.tensors().keySet());
        for (var e : student.tensors().entrySet()) {
            assertThat(back.tensors().get(e.getKey()).shape()).as(e.getKey()).containsExactly(e.getValue().shape());
            assertThat(Arrays.equals(back.tensors().get(e.getKey()).data(), e.getValue().data())).as(e.getKey()).isTrue();
        }
        OnnxGraph g = OnnxGraph.parse(onnx);
        assertThat(g.nodes()).noneMatch(n -> n.name().contains("layer.4") || n.name().contains("layer.11"));
        assertThat(g.outputs()).containsExactly("last_hidden_state");
    }

    @Test
    void anyLayersInAnyOrderAgreeWithDjlOnMiniLm() throws Exception {
        byte[] teacher = OnnxEmbeddingModel.onnxBytes(Builtin.ALL_MINILM_L6_V2.id);
        BertWeights all = BertWeights.fromOnnx(OnnxGraph.parse(teacher));
        // the last layer dropped (the output renamed), kept but not last (names swapped), reordered, a single layer
        for (int[] kept : new int[][] {{0, 1}, {5, 0}, {2, 5, 3}, {3}}) {
            BertWeights student = perturbed(all.keepLayers(kept), kept.length);
            float[][] ort = ort(OnnxLayerDrop.write(teacher, kept, student), Builtin.ALL_MINILM_L6_V2, Pooling.MEAN);
            assertClose(ort, djl(student, Builtin.ALL_MINILM_L6_V2, Pooling.MEAN), 1e-4);
        }
    }

    @Test
    void keepingEveryLayerGivesBackTheTeacher() throws Exception {
        byte[] teacher = OnnxEmbeddingModel.onnxBytes(Builtin.ALL_MINILM_L6_V2.id);
        int[] kept = {0, 1, 2, 3, 4, 5};
        byte[] onnx = OnnxLayerDrop.write(teacher, kept, BertWeights.fromOnnx(OnnxGraph.parse(teacher)).keepLayers(kept));
        try (OnnxEmbeddingModel t = OnnxEmbeddingModel.load(Builtin.ALL_MINILM_L6_V2)) {
            assertClose(ort(onnx, Builtin.ALL_MINILM_L6_V2, Pooling.MEAN), t.embed(TEXTS), 1e-6);
        }
    }

    @Test
    void badLayerChoicesAndForeignWeightsAreRefused() throws Exception {
        byte[] teacher = OnnxEmbeddingModel.onnxBytes(Builtin.ALL_MINILM_L6_V2.id);
        BertWeights all = BertWeights.fromOnnx(OnnxGraph.parse(teacher));
        assertThatThrownBy(() -> OnnxLayerDrop.write(teacher, new int[] {1, 1}, all.keepLayers(1, 2)))
                .hasMessageContaining("layer 1 is kept twice");
        assertThatThrownBy(() -> OnnxLayerDrop.write(teacher, new int[] {0, 6}, all.keepLayers(0, 1)))
                .hasMessageContaining("layers 0..5");
        assertThatThrownBy(() -> OnnxLayerDrop.write(teacher, new int[] {0, 1, 2}, all.keepLayers(0, 1)))
                .hasMessageContaining("has 2 layers but keeps 3");
        BertWeights s = all.keepLayers(0, 1);
        Map<String, BertWeights.Tensor> t = new LinkedHashMap<>(s.tensors());
        t.put("encoder.layer.1.intermediate.dense.bias", new BertWeights.Tensor(new long[] {768}, new float[768]));
        assertThatThrownBy(() -> OnnxLayerDrop.write(teacher, new int[] {0, 1}, new BertWeights(s.config(), t)))
                .hasMessageContaining("encoder.layer.1.intermediate.dense.bias is [768]")
                .hasMessageContaining("not built from this teacher");
        assertThatThrownBy(() -> OnnxLayerDrop.write("not onnx".getBytes(), new int[] {0}, s))
                .hasMessageContaining("not an ONNX model");
    }

    /** Every tensor moved by a little noise (fresh arrays: keepLayers shares the teacher's). */
    static BertWeights perturbed(BertWeights w, long seed) {
        Random rnd = new Random(seed);
        Map<String, BertWeights.Tensor> out = new LinkedHashMap<>();
        for (var e : w.tensors().entrySet()) {
            float[] d = e.getValue().data().clone();
            for (int i = 0; i < d.length; i++) d[i] += (float) (0.01 * rnd.nextGaussian());
            out.put(e.getKey(), new BertWeights.Tensor(e.getValue().shape(), d));
        }
        return new BertWeights(w.config(), out);
    }

    static float[][] ort(byte[] onnx, Builtin b, Pooling pooling) throws Exception {
        try (OnnxEmbeddingModel m = OnnxEmbeddingModel.of("student", onnx, b.tokenizerJson(), pooling, 512)) {
            return m.embed(TEXTS);
        }
    }

    static float[][] djl(BertWeights w, Builtin b, Pooling pooling) throws Exception {
        ObjectNode info = Json.object();
        try (EncoderStudent s = new EncoderStudent("student", w, b.tokenizerJson(), pooling, 512, info)) {
            return s.embed(TEXTS);
        }
    }

    static double maxAbsDiff(float[][] a, float[][] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) for (int k = 0; k < a[i].length; k++) max = Math.max(max, Math.abs(a[i][k] - b[i][k]));
        return max;
    }

    static void assertClose(float[][] a, float[][] b, double tol) {
        assertThat(a.length).isEqualTo(b.length);
        assertThat(maxAbsDiff(a, b)).isLessThan(tol);
    }
}
