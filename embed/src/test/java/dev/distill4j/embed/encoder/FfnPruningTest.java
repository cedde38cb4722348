package dev.distill4j.embed.encoder;

import static dev.distill4j.embed.encoder.OnnxLayerDropTest.TEXTS;
import static dev.distill4j.embed.encoder.OnnxLayerDropTest.assertClose;
import static dev.distill4j.embed.encoder.OnnxLayerDropTest.djl;
import static dev.distill4j.embed.encoder.OnnxLayerDropTest.ort;
import static dev.distill4j.embed.encoder.OnnxLayerDropTest.perturbed;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import dev.distill4j.embed.OnnxEmbeddingModel;
import dev.distill4j.embed.OnnxEmbeddingModel.Builtin;
import dev.distill4j.embed.Pooling;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Width pruning of the feed-forward blocks ({@link BertWeights#pruneFfn}, {@link BertEncoder#ffnImportance}): which
 * neurons go, that the pruned model is still the same function where the removed neurons wrote nothing, that
 * importance beats chance, and that the ONNX export of a pruned student runs on ONNX Runtime as on DJL.
 */
class FfnPruningTest {
    private static final int WIDTH = 512;   // of MiniLM's 1536

    @Test
    void neuronsThatWriteNothingAreTheOnesRemovedAndTheModelIsUnchanged() throws Exception {
        BertWeights all = miniLm();
        int full = all.config().intermediateSize();
        // per layer, zero the output columns of all but WIDTH neurons chosen at random: they can write nothing
        Random rnd = new Random(7);
        Map<String, BertWeights.Tensor> t = new LinkedHashMap<>(all.tensors());
        List<boolean[]> silent = new ArrayList<>();
        int d = all.config().hiddenSize();
        for (int l = 0; l < all.config().numHiddenLayers(); l++) {
            List<Integer> idx = new ArrayList<>();
            for (int j = 0; j < full; j++) idx.add(j);
            java.util.Collections.shuffle(idx, rnd);
            boolean[] off = new boolean[full];
            for (int j : idx.subList(WIDTH, full)) off[j] = true;
            String name = BertWeights.layerPrefix(l) + "output.dense.weight";
            float[] w2 = t.get(name).data().clone();
            for (int r = 0; r < d; r++) for (int j = 0; j < full; j++) if (off[j]) w2[r * full + j] = 0;
            t.put(name, new BertWeights.Tensor(t.get(name).shape(), w2));
            silent.add(off);
        }
        BertWeights zeroed = new BertWeights(all.config(), t);

        float[][] importance;
        try (NDManager m = NDManager.newBaseManager(); BertEncoder e = new BertEncoder(zeroed, m)) {
            importance = e.ffnImportance(batches());
        }
        for (int l = 0; l < importance.length; l++) {
            for (int j = 0; j < full; j++) {
                if (silent.get(l)[j]) assertThat(importance[l][j]).as("layer %d neuron %d", l, j).isZero();
                else assertThat(importance[l][j]).as("layer %d neuron %d", l, j).isPositive();
            }
        }
        BertWeights pruned = zeroed.pruneFfn(WIDTH, importance);
        assertThat(pruned.config().intermediateSize()).isEqualTo(WIDTH);
        assertThat(pruned.tensors().get("encoder.layer.2.intermediate.dense.weight").shape()).containsExactly(WIDTH, d);
        assertThat(pruned.tensors().get("encoder.layer.2.intermediate.dense.bias").shape()).containsExactly(WIDTH);
        assertThat(pruned.tensors().get("encoder.layer.2.output.dense.weight").shape()).containsExactly(d, WIDTH);
        // the first neuron kept is the first one that writes something, with its own row and bias
        int first = 0;
        while (silent.get(2)[first]) first++;
        float[] w1 = all.tensors().get("encoder.layer.2.intermediate.dense.weight").data();
        assertThat(Arrays.copyOfRange(pruned.tensors().get("encoder.layer.2.intermediate.dense.weight").data(), 0, d))
                .containsExactly(Arrays.copyOfRange(w1, first * d, (first + 1) * d));
        assertThat(pruned.tensors().get("encoder.layer.2.intermediate.dense.bias").data()[0])
                .isEqualTo(all.tensors().get("encoder.layer.2.intermediate.dense.bias").data()[first]);

        assertClose(djl(pruned, Builtin.ALL_MINILM_L6_V2, Pooling.MEAN), djl(zeroed, Builtin.ALL_MINILM_L6_V2, Pooling.MEAN), 1e-5);
    }

    @Test
    void importanceKeepsTheModelCloserThanChance() throws Exception {
        BertWeights all = miniLm();
        float[][] importance;
        try (NDManager m = NDManager.newBaseManager(); BertEncoder e = new BertEncoder(all, m)) {
            importance = e.ffnImportance(batches());
        }
        float[][] random = new float[importance.length][importance[0].length];
        Random rnd = new Random(3);
        for (float[] r : random) for (int j = 0; j < r.length; j++) r[j] = rnd.nextFloat();
        float[][] whole = djl(all, Builtin.ALL_MINILM_L6_V2, Pooling.MEAN);
        double byImportance = meanCosine(whole, djl(all.pruneFfn(WIDTH, importance), Builtin.ALL_MINILM_L6_V2, Pooling.MEAN));
        double byChance = meanCosine(whole, djl(all.pruneFfn(WIDTH, random), Builtin.ALL_MINILM_L6_V2, Pooling.MEAN));
        assertThat(byImportance).isGreaterThan(byChance);
    }

    @Test
    void aPrunedStudentRunsOnOnnxRuntimeAsOnDjl() throws Exception {
        byte[] teacher = OnnxEmbeddingModel.onnxBytes(Builtin.ALL_MINILM_L6_V2.id);
        int[] kept = {0, 2, 5};
        BertWeights kept3 = BertWeights.fromOnnx(OnnxGraph.parse(teacher)).keepLayers(kept);
        float[][] importance;
        try (NDManager m = NDManager.newBaseManager(); BertEncoder e = new BertEncoder(kept3, m)) {
            importance = e.ffnImportance(batches());
        }
        BertWeights student = perturbed(kept3.pruneFfn(WIDTH, importance), 5);
        byte[] onnx = OnnxLayerDrop.write(teacher, kept, student);
        assertClose(ort(onnx, Builtin.ALL_MINILM_L6_V2, Pooling.MEAN), djl(student, Builtin.ALL_MINILM_L6_V2, Pooling.MEAN), 1e-4);
        BertWeights back = BertWeights.fromOnnx(OnnxGraph.parse(onnx));
        assertThat(back.config()).isEqualTo(student.config());
        assertThat(back.config().intermediateSize()).isEqualTo(WIDTH);
        // and int8 quantisation takes the narrower weights as they are
        OnnxQuantize.Report q = OnnxQuantize.int8(onnx);
        assertThat(q.matmuls()).isEqualTo(kept.length * 6);
        assertThat(meanCosine(ort(q.model(), Builtin.ALL_MINILM_L6_V2, Pooling.MEAN),
                ort(onnx, Builtin.ALL_MINILM_L6_V2, Pooling.MEAN))).isGreaterThan(0.95);
    }

    @Test
    void widthsOutsideTheTeachersAreRefused() throws Exception {
        BertWeights all = miniLm();
        float[][] importance = new float[all.config().numHiddenLayers()][all.config().intermediateSize()];
        assertThatThrownBy(() -> all.pruneFfn(0, importance)).hasMessageContaining("between 1 and the teacher's 1536, got 0");
        assertThatThrownBy(() -> all.pruneFfn(2000, importance)).hasMessageContaining("got 2000");
        assertThatThrownBy(() -> new EncoderDistiller.Options(new int[] {0}, 1, 1e-4, 8, 1, false, 1, null, 0, -5))
                .hasMessageContaining("--ffn-width must be ≥ 1");
    }

    private static BertWeights miniLm() throws Exception {
        return BertWeights.fromOnnx(OnnxGraph.parse(OnnxEmbeddingModel.onnxBytes(Builtin.ALL_MINILM_L6_V2.id)));
    }

    /** The test texts tokenised as MiniLM does, in two batches of different padded lengths. */
    private static List<long[][]> batches() throws Exception {
        try (OnnxEmbeddingModel t = OnnxEmbeddingModel.load(Builtin.ALL_MINILM_L6_V2)) {
            long[][] ids = new long[TEXTS.size()][];
            for (int i = 0; i < ids.length; i++) ids[i] = t.tokenize(TEXTS.get(i));
            return List.of(Arrays.copyOfRange(ids, 0, 2), Arrays.copyOfRange(ids, 2, ids.length));
        }
    }

    private static double meanCosine(float[][] a, float[][] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            double dot = 0;
            for (int k = 0; k < a[i].length; k++) dot += a[i][k] * b[i][k];
            sum += dot;   // both L2-normalised
        }
        return sum / a.length;
    }
}
