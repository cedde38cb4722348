package dev.distill4j.embed.encoder;

import static dev.distill4j.embed.encoder.OnnxLayerDropTest.TEXTS;
import static dev.distill4j.embed.encoder.OnnxLayerDropTest.ort;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.embed.OnnxEmbeddingModel;
import dev.distill4j.embed.OnnxEmbeddingModel.Builtin;
import dev.distill4j.embed.Pooling;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Dynamic int8 quantisation of an encoder graph: the weight rounding by hand, the rewritten graph on ONNX Runtime. */
class OnnxQuantizeTest {

    @Test
    void weightsRoundToInt8PerColumnWithSymmetricScales() {
        // columns (1, -2) and (-0.5, 0.25): scales 2/127 and 0.5/127; 1 → 63.5 → 64, -2 → -127, -0.5 → -127, 0.25 → 64
        float[] scale = new float[2];
        byte[] q = OnnxQuantize.quantiseColumns(new float[] {1f, -0.5f, -2f, 0.25f}, 2, 2, scale);
        assertThat(scale).containsExactly(2f / 127, 0.5f / 127);
        assertThat(q).containsExactly(64, -127, -127, 64);
        // a column of zeros keeps scale 1 (no division by zero) and quantises to zeros
        q = OnnxQuantize.quantiseColumns(new float[] {0f, 3f, 0f, -3f}, 2, 2, scale);
        assertThat(scale).containsExactly(1f, 3f / 127);
        assertThat(q).containsExactly(0, 127, 0, -127);
    }

    @Test
    void everyDenseLayerOfMiniLmRunsInInt8AndEmbedsAsTheFloatModel() throws Exception {
        byte[] model = OnnxEmbeddingModel.onnxBytes(Builtin.ALL_MINILM_L6_V2.id);
        OnnxQuantize.Report r = OnnxQuantize.int8(model);
        // six per layer: query, key, value, attention output, intermediate, output
        assertThat(r.matmuls()).isEqualTo(6 * 6);
        assertThat(r.int8WeightBytes()).isLessThan(r.floatWeightBytes() / 3);
        assertThat(r.model().length).isLessThan(model.length - (int) (r.floatWeightBytes() * 2 / 3));

        OnnxGraph g = OnnxGraph.parse(r.model());
        // each layer quantises its hidden state once for the three projections that read it (MatMulIntegerToFloat);
        // the attention output, intermediate and output projections quantise their own input (DynamicQuantizeMatMul)
        assertThat(g.nodes()).filteredOn(n -> n.opType().equals("DynamicQuantizeLinear")).hasSize(6);
        assertThat(g.nodes()).filteredOn(n -> n.opType().equals("MatMulIntegerToFloat")).hasSize(3 * 6)
                .allMatch(n -> n.inputs().get(0).equals(g.nodes().stream().filter(d -> d.opType().equals("DynamicQuantizeLinear")
                        && d.outputs().get(0).equals(n.inputs().get(0))).findFirst().orElseThrow().outputs().get(0)));
        assertThat(g.nodes()).filteredOn(n -> n.opType().equals("DynamicQuantizeMatMul")).hasSize(3 * 6);
        // every projection's bias is added inside its int8 kernel: 36 Adds fewer, each bias the float model's
        OnnxGraph before = OnnxGraph.parse(model);
        long adds = before.nodes().stream().filter(n -> n.opType().equals("Add")).count();
        assertThat(g.nodes().stream().filter(n -> n.opType().equals("Add")).count()).isEqualTo(adds - 36);
        assertThat(g.nodes()).filteredOn(n -> n.opType().endsWith("MatMulIntegerToFloat") || n.opType().equals("DynamicQuantizeMatMul"))
                .allMatch(n -> n.inputs().getLast().endsWith(".bias") && before.initializers().containsKey(n.inputs().getLast()));
        assertThat(g.nodes()).filteredOn(n -> n.opType().equals("MatMul"))
                .allMatch(n -> g.initializers().get(n.inputs().get(1)) == null, "no float weight left");

        float[][] exact = ort(model, Builtin.ALL_MINILM_L6_V2, Pooling.MEAN);
        float[][] int8 = ort(r.model(), Builtin.ALL_MINILM_L6_V2, Pooling.MEAN);
        double maxDiff = 0;
        for (int i = 0; i < exact.length; i++) {
            assertThat(cosine(exact[i], int8[i])).as(TEXTS.get(i)).isGreaterThan(0.95);
            for (int j = 0; j < exact[i].length; j++) maxDiff = Math.max(maxDiff, Math.abs(exact[i][j] - int8[i][j]));
        }
        assertThat(maxDiff).as("the int8 path really ran").isGreaterThan(1e-4);

        assertThatThrownBy(() -> OnnxQuantize.int8(r.model())).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("int8 already");
    }

    @Test
    void smoothQuantCalibratedOnTheSentencesBringsInt8CloserToTheFloatModel() throws Exception {
        byte[] model = OnnxEmbeddingModel.onnxBytes(Builtin.ALL_MINILM_L6_V2.id);
        long[][] ids = miniLmIds();
        Map<String, float[]> ranges = OnnxQuantize.calibrate(model, name -> true, List.<long[][]>of(ids));
        // one input per group of MatMuls that read it: the layer input (q, k, v), the attention context, the
        // attention block's output (intermediate) and the GELU output (output dense)
        assertThat(ranges).hasSize(4 * 6);
        // the motive: a LayerNorm output has channels far outside the others' range
        float[] ln = ranges.entrySet().stream().filter(e -> e.getKey().contains("layer.2/attention/output/LayerNorm"))
                .findFirst().orElseThrow().getValue();
        assertThat(ln).hasSize(384);
        double mean = 0, max = 0;
        for (float v : ln) {
            mean += v / ln.length;
            max = Math.max(max, v);
        }
        assertThat(max).isGreaterThan(5 * mean);

        float[][] exact = ort(model, Builtin.ALL_MINILM_L6_V2, Pooling.MEAN);
        float[][] plain = ort(OnnxQuantize.int8(model).model(), Builtin.ALL_MINILM_L6_V2, Pooling.MEAN);
        OnnxQuantize.Report smoothed = OnnxQuantize.int8(model, name -> true, ranges, 0.75);
        assertThat(OnnxGraph.parse(smoothed.model()).nodes()).filteredOn(n -> n.name().endsWith("_smooth")).hasSize(24);
        float[][] smooth = ort(smoothed.model(), Builtin.ALL_MINILM_L6_V2, Pooling.MEAN);
        double plainError = 0, smoothError = 0;
        for (int i = 0; i < exact.length; i++) {
            plainError += 1 - cosine(exact[i], plain[i]);
            smoothError += 1 - cosine(exact[i], smooth[i]);
        }
        assertThat(smoothError).isLessThan(plainError / 2);

        assertThatThrownBy(() -> OnnxQuantize.int8(model, name -> true, Map.of(ranges.keySet().iterator().next(),
                new float[3]), 0.75)).isInstanceOf(InvalidInputException.class).hasMessageContaining("3 channels");
    }

    @Test
    void tokenRangesGiveEachTokenOfTheFeedForwardOutputItsOwnRange() throws Exception {
        byte[] model = OnnxEmbeddingModel.onnxBytes(Builtin.ALL_MINILM_L6_V2.id);
        long[][] ids = miniLmIds();
        Map<String, float[]> ranges = OnnxQuantize.calibrate(model, name -> true, List.<long[][]>of(ids));
        OnnxQuantize.Report perBatch = OnnxQuantize.int8(model, name -> true, ranges, 0.75);
        OnnxQuantize.Report perToken = OnnxQuantize.int8(model, name -> true, ranges, 0.75, true);

        // the feed-forward output (1536 → 384) is each layer's one down-projection: its input gets a quantiser of
        // its own and no smoothing; the other five projections are quantised as before
        OnnxGraph g = OnnxGraph.parse(perToken.model());
        assertThat(perToken.matmuls()).isEqualTo(36);
        assertThat(g.nodes()).filteredOn(n -> n.opType().equals("QuantizeLinear")).hasSize(6);
        assertThat(g.nodes()).filteredOn(n -> n.opType().equals("DynamicQuantizeMatMul")).hasSize(2 * 6);
        assertThat(g.nodes()).filteredOn(n -> n.opType().equals("MatMulIntegerToFloat")).hasSize(4 * 6);
        assertThat(g.nodes()).filteredOn(n -> n.name().endsWith("_smooth")).hasSize(3 * 6);

        // the arithmetic of layer 0's feed-forward output, from ONNX Runtime's own float input x, by hand: over a
        // GELU output the scale needs only the token's maximum (the GELU's minimum is known); the general path,
        // forced here, measures the minimum too
        OnnxGraph before = OnnxGraph.parse(model);
        OnnxGraph.Node down = before.nodes().stream().filter(n -> n.opType().equals("MatMul")
                && before.initializers().get(n.inputs().get(1)) != null
                && before.initializers().get(n.inputs().get(1)).dims()[0] > before.initializers().get(n.inputs().get(1)).dims()[1])
                .findFirst().orElseThrow();
        Map<String, Integer> producer = before.producers();
        assertThat(OnnxGelu.isGeluOutput(before, down.inputs().get(0), producer)).isTrue();
        assertThat(before.nodes()).filteredOn(n -> n.opType().equals("MatMul") && n.name().contains("/query/"))
                .allMatch(n -> !OnnxGelu.isGeluOutput(before, n.inputs().get(0), producer), "a LayerNorm output is no GELU's");
        assertThat(g.nodes()).filteredOn(n -> n.opType().equals("ReduceMin")).isEmpty();
        OnnxQuantize.Report measured = OnnxQuantize.int8(model, name -> true, ranges, 0.75, true, false);
        assertThat(OnnxGraph.parse(measured.model()).nodes()).filteredOn(n -> n.opType().equals("ReduceMin")).hasSize(6);
        // every initialiser is read by a node on both paths (ONNX Runtime prints a warning for each one that is not)
        for (OnnxGraph q : List.of(g, OnnxGraph.parse(measured.model()))) {
            java.util.Set<String> read = new java.util.HashSet<>();
            q.nodes().forEach(n -> read.addAll(n.inputs()));
            assertThat(q.initializers().keySet()).allMatch(read::contains, "read by a node");
        }
        assertMatchesByHand(perToken.model(), before, down, ids[0], true);
        assertMatchesByHand(measured.model(), before, down, ids[0], false);

        // and the point of it: the embeddings come closer to the float model's than with one range per batch
        float[][] exact = ort(model, Builtin.ALL_MINILM_L6_V2, Pooling.MEAN);
        float[][] batchVectors = ort(perBatch.model(), Builtin.ALL_MINILM_L6_V2, Pooling.MEAN);
        float[][] tokenVectors = ort(perToken.model(), Builtin.ALL_MINILM_L6_V2, Pooling.MEAN);
        double batchError = 0, tokenError = 0;
        for (int i = 0; i < exact.length; i++) {
            batchError += 1 - cosine(exact[i], batchVectors[i]);
            tokenError += 1 - cosine(exact[i], tokenVectors[i]);
        }
        assertThat(tokenError).isLessThan(batchError);
    }

    @Test
    void bytesThatAreNotOnnxFailWithAMessage() {
        assertThatThrownBy(() -> OnnxQuantize.int8(new byte[] {(byte) 0xff, (byte) 0xff, 1, 2, 3}))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("not an ONNX model");
    }

    /** The test sentences as MiniLM's token ids. */
    static long[][] miniLmIds() throws Exception {
        try (OnnxEmbeddingModel m = OnnxEmbeddingModel.load(Builtin.ALL_MINILM_L6_V2)) {
            long[][] ids = new long[TEXTS.size()][];
            for (int i = 0; i < ids.length; i++) ids[i] = m.tokenize(TEXTS.get(i));
            return ids;
        }
    }

    /**
     * The per-token product of {@code down} in the int8 model equals the formula computed in Java from ORT's own float
     * input: s_t = max(max x_t / 239, floor / 16), floor the GELU's bound or the token's own −min.
     */
    private static void assertMatchesByHand(byte[] int8, OnnxGraph before, OnnxGraph.Node down, long[] ids,
                                            boolean geluFloor) throws Exception {
        OnnxGraph.Node add = before.nodes().stream().filter(n -> n.opType().equals("Add")
                && n.inputs().contains(down.outputs().get(0))).findFirst().orElseThrow();
        String x = down.inputs().get(0), y = add.outputs().get(0);
        OnnxGraph.Tensor w = before.initializers().get(down.inputs().get(1));
        float[] bias = before.initializers().get(add.inputs().get(0).equals(down.outputs().get(0))
                ? add.inputs().get(1) : add.inputs().get(0)).floats();
        int k = (int) w.dims()[0], cols = (int) w.dims()[1], z = OnnxQuantize.TOKEN_ZERO_POINT;
        float[] wScale = new float[cols];
        byte[] wq = OnnxQuantize.quantiseColumns(w.floats(), k, cols, wScale);
        float[][] xs, ys;
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        Map<String, OnnxTensor> feed = OnnxEmbeddingModel.inputs(env, new long[][] {ids}, true);
        try (OrtSession session = env.createSession(OnnxWrite.withOutputs(int8, List.of(x, y)));
             OrtSession.Result out = session.run(feed, new java.util.LinkedHashSet<>(List.of(x, y)))) {
            xs = ((float[][][]) out.get(x).orElseThrow().getValue())[0];
            ys = ((float[][][]) out.get(y).orElseThrow().getValue())[0];
        } finally {
            feed.values().forEach(OnnxTensor::close);
        }
        assertThat(xs).hasNumberOfRows(ids.length);
        double worst = 0;
        for (int t = 0; t < xs.length; t++) {
            float lo = Float.MAX_VALUE, hi = -Float.MAX_VALUE;
            for (float v : xs[t]) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
            assertThat(lo).isGreaterThanOrEqualTo(-OnnxGelu.GELU_FLOOR);
            float step = Math.max(hi / (255 - z), (geluFloor ? OnnxGelu.GELU_FLOOR : -lo) / z);
            int[] q = new int[k];
            for (int i = 0; i < k; i++) {
                q[i] = (int) Math.rint(xs[t][i] / step) + z;
                assertThat(q[i]).isBetween(0, 255);   // the range covers every value: nothing clips
            }
            for (int j = 0; j < cols; j++) {
                long dot = 0;
                for (int i = 0; i < k; i++) dot += (long) (q[i] - z) * wq[i * cols + j];
                double expected = step * (wScale[j] * dot) + bias[j];
                worst = Math.max(worst, Math.abs(expected - ys[t][j]) / (1e-3 + Math.abs(expected)));
            }
        }
        assertThat(worst).isLessThan(1e-3);
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }
}
