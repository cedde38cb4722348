package dev.distill4j.embed.encoder;

import static dev.distill4j.embed.encoder.OnnxGelu.GELU_FLOOR;
import static dev.distill4j.embed.encoder.OnnxGelu.isGeluOutput;
import static dev.distill4j.embed.encoder.OnnxGraph.*;
import static dev.distill4j.embed.encoder.OnnxWrite.*;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.embed.OnnxEmbeddingModel;
import java.io.IOException;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.function.Predicate;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Dynamic int8 quantisation of an ONNX encoder, the arithmetic of ONNX Runtime's {@code quantize_dynamic}: every
 * {@code MatMul} whose right operand is a float weight becomes
 *
 * <pre>
 *   x_q, s_x, z_x = DynamicQuantizeLinear(x)          // uint8, per tensor, range of this batch
 *   y = (x_q − z_x)·W_q · (s_x · s_W) + b
 * </pre>
 *
 * with {@code W_q = round(W / s_W)} in int8 and one symmetric scale {@code s_W[j] = max_i |W_ij| / 127} per output
 * column (so a column of small weights keeps its resolution). The products run in ORT's int8 GEMM kernels, written
 * as such ({@code com.microsoft.DynamicQuantizeMatMul}, or {@code MatMulIntegerToFloat} after one shared
 * {@code DynamicQuantizeLinear} when several MatMuls read x, as a layer's query, key and value projections do):
 * on CPUs with VNNI they multiply four int8 pairs per lane per instruction, so the dense layers, most of an
 * encoder's time, run on a quarter of the bytes at several times the float rate. The bias {@code b} of the Add that
 * follows a MatMul goes into the kernel, which adds it while scaling back to float: ORT's own fusion of
 * {@code quantize_dynamic}'s standard operators leaves that Add, one more pass over the activations per layer. So
 * the int8 graph runs on ONNX Runtime only. The attention products (activation × activation), LayerNorm, GELU,
 * softmax and the embeddings stay float.
 *
 * <p>The rest of the model is copied field by field, so the operator patterns ORT fuses in float (LayerNorm, GELU,
 * attention) stay.
 */
public final class OnnxQuantize {
    private OnnxQuantize() {}

    private static final int UINT8 = 2, INT8 = 3;

    /**
     * The zero point of per-token ranges: 16 of the 255 levels lie below zero, enough for a GELU's negative side
     * (down to −0.17) whenever the token's largest value is above 2.5; a token with a smaller maximum or a deeper
     * minimum gets a coarser step, never a clipped value. 8, 16 and 32 measured the same (docs/benchmarks.md).
     */
    public static final byte TOKEN_ZERO_POINT = 16;

    /** DynamicQuantizeLinear came with opset 11. */
    private static final int MIN_OPSET = 11;

    /**
     * What {@link #int8} did: how many MatMuls it quantised, the weights' bytes before and after, and how many inputs
     * got per-token ranges.
     */
    public record Report(byte[] model, int matmuls, long floatWeightBytes, long int8WeightBytes, int tokenRangeInputs) {}

    /**
     * The int8 model. A model with no float-weight MatMul, an opset older than 11, or bytes that are not ONNX fail
     * with a message; a model quantised already has no float-weight MatMul left.
     */
    public static Report int8(byte[] model) throws IOException { return int8(model, name -> true); }

    /** As {@link #int8(byte[])}, quantising only the MatMuls whose node name {@code quantise} accepts. */
    public static Report int8(byte[] model, Predicate<String> quantise) throws IOException {
        return int8(model, quantise, Map.of(), 0);
    }

    /**
     * As {@link #int8(byte[], Predicate)}, with SmoothQuant (Xiao et al. 2023) on every input {@code x} that
     * {@code absMax} has ranges for ({@link #calibrate}): encoders carry a few channels whose activations are ten or
     * more times larger than the mean channel (bge-small: 34 against 2.7), and one uint8 range per tensor then leaves the other channels a handful of
     * levels. Dividing channel c of x by {@code s_c = max|x_c|^α / max|W_c,:|^(1−α)} and multiplying row c of every
     * weight that reads x by the same s_c leaves x·W unchanged in exact arithmetic and moves the outliers into
     * the weights, which are quantised per column and have room for them. {@code α} trades the two ranges (0.5 in
     * the paper). The division is one Mul node before the quantiser.
     */
    public static Report int8(byte[] model, Predicate<String> quantise, Map<String, float[]> absMax, double alpha)
            throws IOException {
        return int8(model, quantise, absMax, alpha, false);
    }

    /**
     * As {@link #int8(byte[], Predicate, Map, double)}; with {@code tokenRanges}, the input of every down-projection
     * (a weight with more rows than columns: a transformer's feed-forward output, which reads the GELU) is quantised
     * with one uint8 range per token (per row of its last axis) instead of one per tensor:
     *
     * <pre>
     *   s_t = max( max_c x_tc / (255 − z),  −min_c x_tc / z )      z = {@value #TOKEN_ZERO_POINT}
     *   x_q = clamp(round(x / s_t) + z, 0, 255)                  (QuantizeLinear along the token axis)
     *   y   = s_t · ( s_W ⊙ ((x_q − z)·W_q) ) + b
     * </pre>
     *
     * A GELU output spans a different range in every token (a few reach 10 or more, most stay near 2), so one range
     * per tensor leaves most tokens a few dozen levels; rounding it is where an int8 encoder loses most of its
     * fidelity (docs/embed.md). ORT's int8 GEMMs take a single scale and zero point for x, so the zero point is fixed
     * (it goes into the GEMM) and only the scale varies per token, applied to the product, whose rows are narrower
     * than the input's. The range [−z·s_t, (255 − z)·s_t] covers every value of the token; a GELU's negative side
     * (down to −0.17) needs only a few of the 255 levels, and over a GELU output, whose minimum is known, the second
     * term is the constant {@link OnnxGelu#GELU_FLOOR}{@code / z}: one reduction instead of two. These inputs are not
     * smoothed: per-token ranges leave no outlier channel to move (measured: the same fidelity without), and the
     * smoothing is a pass over the widest activations.
     */
    public static Report int8(byte[] model, Predicate<String> quantise, Map<String, float[]> absMax, double alpha,
                              boolean tokenRanges) throws IOException {
        return int8(model, quantise, absMax, alpha, tokenRanges, true);
    }

    /** As above; {@code geluFloor} false measures every per-token minimum, GELU or not (for tests of that path). */
    static Report int8(byte[] model, Predicate<String> quantise, Map<String, float[]> absMax, double alpha,
                       boolean tokenRanges, boolean geluFloor) throws IOException {
        checkOpset(model);
        OnnxGraph g = OnnxGraph.parse(model);
        Map<String, List<Integer>> readers = g.readers();
        List<OnnxGraph.Tensor> weightOf = selected(g, quantise);

        // per input x: the largest |W| of each row c over the weights that read x (SmoothQuant's denominator)
        Map<String, float[]> rowMax = new HashMap<>();
        for (int i = 0; i < weightOf.size(); i++) {
            OnnxGraph.Tensor w = weightOf.get(i);
            if (w == null) continue;
            int k = (int) w.dims()[0], cols = (int) w.dims()[1];
            float[] m = rowMax.computeIfAbsent(g.nodes().get(i).inputs().get(0), x -> new float[k]);
            if (m.length != k) throw new InvalidInputException("MatMuls reading one tensor disagree on its width");
            for (int r = 0; r < k; r++) for (int c = 0; c < cols; c++) m[r] = Math.max(m[r], Math.abs(w.floats()[r * cols + c]));
        }
        Map<String, float[]> smooth = new HashMap<>();
        for (var e : rowMax.entrySet()) {
            float[] a = absMax.get(e.getKey());
            if (a == null) continue;
            if (a.length != e.getValue().length) {
                throw new InvalidInputException("calibration ranges of " + e.getKey() + " have " + a.length
                        + " channels, the weights " + e.getValue().length);
            }
            float[] s = new float[a.length];
            for (int c = 0; c < s.length; c++) {
                double v = Math.pow(Math.max(a[c], 1e-5), alpha) / Math.pow(Math.max(e.getValue()[c], 1e-5), 1 - alpha);
                s[c] = (float) Math.max(v, 1e-5);
            }
            smooth.put(e.getKey(), s);
        }

        // how many quantised MatMuls read each input: one quantiser serves them all when there are several
        Map<String, Integer> quantisedReaders = new HashMap<>();
        for (int i = 0; i < weightOf.size(); i++) {
            if (weightOf.get(i) != null) quantisedReaders.merge(g.nodes().get(i).inputs().get(0), 1, Integer::sum);
        }
        Map<String, Integer> producer = g.producers();
        // inputs quantised per token: those a down-projection reads (all their readers share the quantisation)
        Set<String> tokenInputs = new HashSet<>();
        for (int i = 0; i < weightOf.size(); i++) {
            OnnxGraph.Tensor w = weightOf.get(i);
            if (tokenRanges && w != null && w.dims()[0] > w.dims()[1]) tokenInputs.add(g.nodes().get(i).inputs().get(0));
        }
        // the bias Add after each quantised MatMul, taken into the int8 kernel: node index → the bias it adds
        Map<Integer, Integer> biasAddOf = biasAdds(g, weightOf, readers);

        Map<String, byte[]> newInitializers = new LinkedHashMap<>();
        Map<String, Integer> quantisedReads = new HashMap<>();
        List<byte[]> nodes = new ArrayList<>();
        Set<String> quantisedInputs = new HashSet<>();
        Set<Integer> foldedAdds = new HashSet<>(biasAddOf.values());
        int matmuls = 0;
        long floatBytes = 0, int8Bytes = 0;
        for (int i = 0; i < weightOf.size(); i++) {
            OnnxGraph.Node n = g.nodes().get(i);
            OnnxGraph.Tensor w = weightOf.get(i);
            if (w == null) {
                nodes.add(foldedAdds.contains(i) ? new byte[0] : null);   // a folded bias Add goes; the rest is copied below
                continue;
            }
            String x = n.inputs().get(0);
            String base = n.name().isEmpty() ? n.outputs().get(0) : n.name();
            Integer add = biasAddOf.get(i);
            String bias = add == null ? "" : biasOf(g.nodes().get(add), n.outputs().get(0));
            String y = add == null ? n.outputs().get(0) : g.nodes().get(add).outputs().get(0);
            // a range per token leaves no outlier channel to smooth away (measured: the same fidelity without), and
            // smoothing would cost a pass over the widest activations
            float[] s = tokenInputs.contains(x) ? null : smooth.get(x);
            String xs0 = s == null ? x : x + "_smoothed";
            String xq = x + "_quantized", xs = x + "_scale", xz = x + "_zero_point";
            boolean shared = quantisedReaders.get(x) > 1, token = tokenInputs.contains(x);
            if (quantisedInputs.add(x)) {
                if (s != null) {
                    float[] inverse = new float[s.length];
                    for (int c = 0; c < s.length; c++) inverse[c] = 1f / s[c];
                    newInitializers.put(x + "_smooth", floatTensor(x + "_smooth", new long[] {s.length}, inverse));
                    nodes.add(node(base + "_smooth", "Mul", List.of(x, x + "_smooth"), List.of(xs0), ""));
                }
                if (token) {
                    perTokenQuantiser(nodes, newInitializers, xs0, x, (int) w.dims()[0], geluFloor && isGeluOutput(g, x, producer));
                } else if (shared) {   // quantised once for all its readers
                    nodes.add(node(base + "_DynamicQuantizeLinear", "DynamicQuantizeLinear", List.of(xs0),
                            List.of(xq, xs, xz), ""));
                }
            }
            // a weight read by one quantised MatMul is quantised once; smoothing makes it x's own
            String wq = s == null ? w.name() : w.name() + "_" + x;
            if (!newInitializers.containsKey(wq + "_quantized")) {
                int k = (int) w.dims()[0], cols = (int) w.dims()[1];
                float[] values = w.floats();
                if (s != null) {
                    values = values.clone();
                    for (int r = 0; r < k; r++) for (int c = 0; c < cols; c++) values[r * cols + c] *= s[r];
                }
                float[] scale = new float[cols];
                byte[] q = quantiseColumns(values, k, cols, scale);
                newInitializers.put(wq + "_quantized", tensor(wq + "_quantized", w.dims(), INT8, q));
                newInitializers.put(wq + "_scale", floatTensor(wq + "_scale", new long[] {cols}, scale));
                floatBytes += 4L * k * cols;
                int8Bytes += (long) k * cols + 4L * cols;
            }
            quantisedReads.merge(w.name(), 1, Integer::sum);
            // ORT's int8 GEMM kernels: the bias is added as the products are scaled back to float
            if (token) {
                perTokenProduct(nodes, newInitializers, x, base, wq, bias, y);
            } else nodes.add(shared
                    ? node(base + "_MatMulIntegerToFloat", "MatMulIntegerToFloat",
                            List.of(xq, wq + "_quantized", xs, wq + "_scale", xz, "", bias), List.of(y), MS_DOMAIN)
                    : node(base + "_DynamicQuantizeMatMul", "DynamicQuantizeMatMul",
                            List.of(xs0, wq + "_quantized", wq + "_scale", "", bias), List.of(y), MS_DOMAIN));
            nodes.add(new byte[0]);   // marks the original node as replaced
            matmuls++;
        }
        if (matmuls == 0) {
            throw new InvalidInputException("no MatMul with a float weight to quantise in this model (it may be int8 already)");
        }
        // a float weight that something else still reads (tied weights) stays
        Set<String> dropped = new HashSet<>();
        for (var e : quantisedReads.entrySet()) if (e.getValue() == readers.get(e.getKey()).size()) dropped.add(e.getKey());

        byte[] rewritten = withGraph(model, (start, length) ->
                graph(model, start, length, nodes, newInitializers.values(), dropped, List.of()), MS_DOMAIN);
        return new Report(rewritten, matmuls, floatBytes, int8Bytes, tokenInputs.size());
    }

    /**
     * The nodes that quantise {@code x} per token ({@link #int8(byte[], Predicate, Map, double, boolean)}), named after
     * {@code name}: its uint8 values {@code name_quantized} (x's shape) and per token the scale {@code name_scale}
     * (x's shape with a last axis of 1). ORT's QuantizeLinear takes one scale per index of one axis, so x goes through
     * it as a [tokens, k] matrix (reshapes copy nothing).
     */
    private static void perTokenQuantiser(List<byte[]> nodes, Map<String, byte[]> inits, String x, String name, int k,
                                          boolean gelu) throws IOException {
        constant(inits, floatTensor("token_range_above", new long[0], 1f / (255 - TOKEN_ZERO_POINT)));
        constant(inits, tensor("token_range_zero_points", new long[] {1}, UINT8, new byte[] {TOKEN_ZERO_POINT}));
        constant(inits, longTensor("token_range_flat", new long[] {1}, -1));
        constant(inits, longTensor("token_range_rows_" + k, new long[] {2}, -1, k));
        String p = name + "_token_";
        byte[] lastAxis = attribute("axes", true, -1), keep = attribute("keepdims", false, 1);
        nodes.add(node(p + "Shape", "Shape", List.of(x), List.of(p + "shape"), ""));
        nodes.add(node(p + "ReduceMax", "ReduceMax", List.of(x), List.of(p + "max"), "", lastAxis, keep));
        nodes.add(node(p + "Above", "Mul", List.of(p + "max", "token_range_above"), List.of(p + "above"), ""));
        if (gelu) {   // the GELU's minimum is known, so no pass over x for it: the scale never drops below floor / z
            constant(inits, floatTensor("token_range_gelu_step", new long[0], GELU_FLOOR / TOKEN_ZERO_POINT));
            nodes.add(node(p + "Scale", "Max", List.of(p + "above", "token_range_gelu_step"), List.of(name + "_scale"), ""));
        } else {   // (constants only this branch reads: ONNX Runtime warns on load about an unused initialiser)
            constant(inits, floatTensor("token_range_below", new long[0], -1f / TOKEN_ZERO_POINT));
            constant(inits, floatTensor("token_range_tiny", new long[0], 1e-12f));
            nodes.add(node(p + "ReduceMin", "ReduceMin", List.of(x), List.of(p + "min"), "", lastAxis, keep));
            nodes.add(node(p + "Below", "Mul", List.of(p + "min", "token_range_below"), List.of(p + "below"), ""));
            nodes.add(node(p + "Scale", "Max", List.of(p + "above", p + "below", "token_range_tiny"),
                    List.of(name + "_scale"), ""));
        }
        nodes.add(node(p + "FlatScale", "Reshape", List.of(name + "_scale", "token_range_flat"), List.of(p + "flat_scale"), ""));
        nodes.add(node(p + "Tokens", "Shape", List.of(p + "flat_scale"), List.of(p + "tokens"), ""));
        nodes.add(node(p + "ZeroPoints", "Expand", List.of("token_range_zero_points", p + "tokens"),
                List.of(p + "zero_points"), ""));
        nodes.add(node(p + "Rows", "Reshape", List.of(x, "token_range_rows_" + k), List.of(p + "rows"), ""));
        nodes.add(node(p + "QuantizeLinear", "QuantizeLinear", List.of(p + "rows", p + "flat_scale", p + "zero_points"),
                List.of(p + "rows_quantized"), MS_DOMAIN, attribute("axis", false, 0)));
        nodes.add(node(p + "Unrows", "Reshape", List.of(p + "rows_quantized", p + "shape"), List.of(name + "_quantized"), ""));
    }

    /**
     * The nodes of {@code y = x·W + bias} on x quantised per token ({@link #perTokenQuantiser}, named after {@code x})
     * and the int8 weight {@code wq}: the GEMM takes the fixed zero point and the weight's column scales, then each
     * token's scale and the bias are applied.
     */
    private static void perTokenProduct(List<byte[]> nodes, Map<String, byte[]> inits, String x, String base,
                                        String wq, String bias, String y) throws IOException {
        constant(inits, floatTensor("token_range_one", new long[0], 1f));
        constant(inits, tensor("token_range_zero_point", new long[0], UINT8, new byte[] {TOKEN_ZERO_POINT}));
        String p = base + "_token_", scaled = bias.isEmpty() ? y : p + "scaled";
        nodes.add(node(p + "MatMulIntegerToFloat", "MatMulIntegerToFloat", List.of(x + "_quantized", wq + "_quantized",
                "token_range_one", wq + "_scale", "token_range_zero_point"), List.of(p + "product"), MS_DOMAIN));
        nodes.add(node(p + "Scaled", "Mul", List.of(p + "product", x + "_scale"), List.of(scaled), ""));
        if (!bias.isEmpty()) nodes.add(node(p + "Bias", "Add", List.of(scaled, bias), List.of(y), ""));
    }

    /** Adds a constant shared by all per-token quantisers once (its name is read back from the tensor). */
    private static void constant(Map<String, byte[]> inits, byte[] tensor) throws IOException {
        inits.putIfAbsent(stringField(tensor, 0, tensor.length, TENSOR_NAME), tensor);
    }

    /** Per node of the graph: the 2-d float weight of a MatMul to quantise, else null. */
    private static List<OnnxGraph.Tensor> selected(OnnxGraph g, Predicate<String> quantise) {
        List<OnnxGraph.Tensor> weights = new ArrayList<>();
        for (OnnxGraph.Node n : g.nodes()) weights.add(weight(g, n, quantise));
        return weights;
    }

    /**
     * Per quantised MatMul (node index), the Add that follows it when that Add only adds a bias: the MatMul's output
     * is read by nothing else, and the other operand is a 1-d float initialiser as wide as the product. ORT's int8
     * kernels add such a bias while they scale the integer products back to float; as a separate Add it is one more
     * pass over the activations, 10 % of an eleven-layer student's time (docs/embed.md).
     */
    private static Map<Integer, Integer> biasAdds(OnnxGraph g, List<OnnxGraph.Tensor> weightOf,
                                                  Map<String, List<Integer>> readers) {
        Set<String> graphOutputs = new HashSet<>(g.outputs());
        Map<Integer, Integer> adds = new HashMap<>();
        for (int i = 0; i < weightOf.size(); i++) {
            OnnxGraph.Tensor w = weightOf.get(i);
            if (w == null) continue;
            String y = g.nodes().get(i).outputs().get(0);
            List<Integer> r = readers.getOrDefault(y, List.of());
            if (r.size() != 1 || graphOutputs.contains(y)) continue;
            OnnxGraph.Node add = g.nodes().get(r.get(0));
            if (!add.opType().equals("Add") || add.inputs().size() != 2) continue;
            OnnxGraph.Tensor b = g.initializers().get(biasOf(add, y));
            if (b != null && b.dataType() == FLOAT && b.dims().length == 1 && b.dims()[0] == w.dims()[1]) adds.put(i, r.get(0));
        }
        return adds;
    }

    /** The operand of {@code add} that is not {@code y}. */
    private static String biasOf(OnnxGraph.Node add, String y) {
        return add.inputs().get(0).equals(y) ? add.inputs().get(1) : add.inputs().get(0);
    }

    /**
     * The 2-d float weight {@code n} multiplies by when it is a MatMul {@code quantise} accepts, else null. Works on
     * a graph parsed with or without values ({@link OnnxGraph#parseStructure}).
     */
    private static OnnxGraph.Tensor weight(OnnxGraph g, OnnxGraph.Node n, Predicate<String> quantise) {
        OnnxGraph.Tensor w = n.opType().equals("MatMul") && n.inputs().size() == 2
                ? g.initializers().get(n.inputs().get(1)) : null;
        return w != null && w.dataType() == FLOAT && w.dims().length == 2 && quantise.test(n.name()) ? w : null;
    }

    /**
     * SmoothQuant's calibration: per channel, the largest |x| each input of a MatMul {@link #int8} would quantise
     * takes over {@code batches} of token ids (rows padded with 0; the mask marks the real tokens, and the padded
     * positions count too, because the dynamic quantiser sees them), from ONNX Runtime running the float model.
     */
    public static Map<String, float[]> calibrate(byte[] model, Predicate<String> quantise, List<long[][]> batches)
            throws IOException {
        OnnxGraph g = OnnxGraph.parseStructure(model);
        List<String> inputs = new ArrayList<>();
        for (OnnxGraph.Node n : g.nodes()) {
            if (weight(g, n, quantise) != null && !inputs.contains(n.inputs().get(0))) inputs.add(n.inputs().get(0));
        }
        byte[] probed = withOutputs(model, inputs);
        Map<String, float[]> absMax = new LinkedHashMap<>();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(Runtime.getRuntime().availableProcessors());
            try (OrtSession session = env.createSession(probed, options)) {
                boolean typeIds = session.getInputNames().contains("token_type_ids");
                for (long[][] batch : batches) {
                    Map<String, OnnxTensor> feed = OnnxEmbeddingModel.inputs(env, batch, typeIds);
                    try {
                        try (OrtSession.Result r = session.run(feed, new LinkedHashSet<>(inputs))) {
                            for (String x : inputs) {
                                OnnxTensor v = (OnnxTensor) r.get(x).orElseThrow();
                                long[] dims = v.getInfo().getShape();
                                int c = (int) dims[dims.length - 1];
                                FloatBuffer f = v.getFloatBuffer();
                                float[] m = absMax.computeIfAbsent(x, k -> new float[c]);
                                for (int i = 0, n = f.remaining(); i < n; i++) {
                                    m[i % c] = Math.max(m[i % c], Math.abs(f.get(i)));
                                }
                            }
                        }
                    } finally {
                        feed.values().forEach(OnnxTensor::close);
                    }
                }
            }
        } catch (OrtException e) {
            throw new IOException("ONNX Runtime cannot run the model for calibration: " + e.getMessage(), e);
        }
        return absMax;
    }

    /**
     * Symmetric int8 per column of a row-major [k, cols] matrix: {@code q = round(w / s)}, {@code s = max|w| / 127}
     * (1 for a column of zeros), the scales written into {@code scale}.
     */
    static byte[] quantiseColumns(float[] w, int k, int cols, float[] scale) {
        float[] max = new float[cols];
        for (int i = 0; i < k; i++) for (int j = 0; j < cols; j++) max[j] = Math.max(max[j], Math.abs(w[i * cols + j]));
        for (int j = 0; j < cols; j++) scale[j] = max[j] == 0 ? 1f : max[j] / 127f;
        byte[] q = new byte[k * cols];
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < cols; j++) {
                q[i * cols + j] = (byte) Math.max(-127, Math.min(127, Math.round(w[i * cols + j] / scale[j])));
            }
        }
        return q;
    }

    /** The default domain's opset must have DynamicQuantizeLinear (11+). */
    private static void checkOpset(byte[] model) throws IOException {
        Long version;
        try {
            Map<String, Long> imports = opsetImports(model);
            version = imports.containsKey("") ? imports.get("") : imports.get("ai.onnx");
        } catch (IOException e) {
            throw new InvalidInputException("not an ONNX model (the protobuf does not parse: " + e.getMessage() + ")");
        }
        if (version != null && version >= 0 && version < MIN_OPSET) {
            throw new InvalidInputException("the model's opset is " + version + "; int8 quantisation needs opset "
                    + MIN_OPSET + " or later (DynamicQuantizeLinear): export it again with a newer opset");
        }
    }
}
