package dev.distill4j.embed.encoder;

import static dev.distill4j.embed.encoder.OnnxGraph.*;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.embed.OnnxEmbeddingModel;
import java.io.ByteArrayOutputStream;
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

    // onnx.proto: ModelProto.opset_import, OperatorSetIdProto, NodeProto.domain, AttributeProto, TensorProto types
    private static final int MODEL_OPSET_IMPORT = 8, OPSET_DOMAIN = 1, OPSET_VERSION = 2;
    private static final int NODE_DOMAIN = 7;
    private static final int ATTR_NAME = 1, ATTR_I = 3, ATTR_INTS = 8, ATTR_TYPE = 20, ATTR_TYPE_INT = 2, ATTR_TYPE_INTS = 7;
    private static final int UINT8 = 2, INT8 = 3;
    // ValueInfoProto.type, TypeProto.tensor_type, TypeProto.Tensor.elem_type
    private static final int VALUE_INFO_TYPE = 2, TYPE_TENSOR_TYPE = 1, TYPE_TENSOR_ELEM_TYPE = 1;
    /** ONNX Runtime's contributed operators (the fused int8 GEMMs). */
    private static final String MS_DOMAIN = "com.microsoft";
    /**
     * The zero point of per-token ranges: 16 of the 255 levels lie below zero, enough for a GELU's negative side
     * (down to −0.17) whenever the token's largest value is above 2.5; a token with a smaller maximum or a deeper
     * minimum gets a coarser step, never a clipped value. 8, 16 and 32 measured the same (docs/benchmarks.md).
     */
    public static final byte TOKEN_ZERO_POINT = 16;
    /**
     * Below every GELU output: x·Φ(x) has its minimum −0.16997 at x ≈ −0.75, the tanh approximation −0.17004. A
     * per-token range over a GELU output needs no minimum measured.
     */
    static final float GELU_FLOOR = 0.1701f;
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
     * term is the constant {@link #GELU_FLOOR}{@code / z}: one reduction instead of two. These inputs are not
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
        Map<String, List<Integer>> readers = readers(g);
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
        Map<String, Integer> producer = producers(g);
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
     * The model with every exact GELU in the exporters' erf form, {@code 0.5 · h · (1 + erf(h / √2))} ({@link
     * #isGeluOutput}), replaced by ONNX Runtime's {@code com.microsoft.FastGelu}, the tanh form of the same function
     * (Hendrycks and Gimpel 2016):
     *
     * <pre>
     *   GELU(h) ≈ 0.5 · h · (1 + tanh(√(2/π) · (h + 0.044715 · h³)))
     * </pre>
     *
     * The two differ by less than 5e-4 anywhere, under a tenth of the int8 step of a GELU output, and FastGelu's
     * kernel takes two thirds of the time of the erf kernel ORT fuses the pattern into (a GELU is a sixth of an
     * int8 encoder's time; docs/benchmarks.md). A pattern whose inner values something else also reads stays; the
     * constants only the removed nodes read go with them. A model with no such GELU comes back unchanged.
     */
    public static GeluRewrite tanhGelu(byte[] model) throws IOException {
        OnnxGraph g = OnnxGraph.parse(model);   // with values: the pattern is recognised by its constants
        Map<String, Integer> producer = producers(g);
        Map<String, List<Integer>> readers = readers(g);
        Set<String> graphOutputs = new HashSet<>(g.outputs());
        Map<Integer, String> geluInputAt = new HashMap<>();   // the pattern's last Mul → h
        Set<Integer> removed = new HashSet<>();
        for (int i = 0; i < g.nodes().size(); i++) {
            OnnxGraph.Node n = g.nodes().get(i);
            if (!n.opType().equals("Mul") || !isGeluOutput(g, n.outputs().get(0), producer)) continue;
            String h = geluInput(g, n.outputs().get(0), producer);
            int last = i;
            Set<Integer> inner = patternBetween(g, last, h, producer);
            // every inner value is read inside the pattern only, or the rewrite would take it from its other readers
            boolean closed = inner.stream().allMatch(q -> g.nodes().get(q).outputs().stream().allMatch(o ->
                    !graphOutputs.contains(o) && readers.getOrDefault(o, List.of()).stream()
                            .allMatch(r -> r == last || inner.contains(r))));
            if (!closed) continue;
            geluInputAt.put(i, h);
            removed.addAll(inner);
        }
        if (geluInputAt.isEmpty()) return new GeluRewrite(model, 0);
        // constants (initialisers or Constant nodes) that only removed nodes read
        Set<String> dropped = new HashSet<>();
        Set<Integer> gone = new HashSet<>(removed);
        gone.addAll(geluInputAt.keySet());
        for (int i : gone) {
            for (String in : g.nodes().get(i).inputs()) {
                if (!readers.get(in).stream().allMatch(gone::contains)) continue;
                if (g.initializers().containsKey(in)) dropped.add(in);
                Integer c = producer.get(in);
                if (c != null && g.nodes().get(c).opType().equals("Constant")) removed.add(c);
            }
        }
        List<byte[]> plan = new ArrayList<>();
        for (int i = 0; i < g.nodes().size(); i++) {
            OnnxGraph.Node n = g.nodes().get(i);
            if (geluInputAt.containsKey(i)) {
                String base = n.name().isEmpty() ? n.outputs().get(0) : n.name();
                plan.add(node(base + "_FastGelu", "FastGelu", List.of(geluInputAt.get(i)), n.outputs(), MS_DOMAIN));
                plan.add(new byte[0]);
            } else {
                plan.add(removed.contains(i) ? new byte[0] : null);
            }
        }
        byte[] rewritten = withGraph(model, (start, length) ->
                graph(model, start, length, plan, List.of(), dropped, List.of()), MS_DOMAIN);
        return new GeluRewrite(rewritten, geluInputAt.size());
    }

    /** Per tensor, the nodes (by index) that read it. */
    private static Map<String, List<Integer>> readers(OnnxGraph g) {
        Map<String, List<Integer>> readers = new HashMap<>();
        for (int i = 0; i < g.nodes().size(); i++) {
            for (String in : g.nodes().get(i).inputs()) readers.computeIfAbsent(in, k -> new ArrayList<>()).add(i);
        }
        return readers;
    }

    /** Per tensor, the node (by index) that writes it. */
    private static Map<String, Integer> producers(OnnxGraph g) {
        Map<String, Integer> producer = new HashMap<>();
        for (int i = 0; i < g.nodes().size(); i++) for (String out : g.nodes().get(i).outputs()) producer.put(out, i);
        return producer;
    }

    /** What {@link #tanhGelu} wrote, and how many GELUs it replaced. */
    public record GeluRewrite(byte[] model, int replaced) {}

    /** The Mul, Add, Div and Erf nodes between {@code h} and the output of node {@code last} (not {@code last} itself). */
    private static Set<Integer> patternBetween(OnnxGraph g, int last, String h, Map<String, Integer> producer) {
        Set<Integer> inner = new HashSet<>();
        List<String> frontier = new ArrayList<>(g.nodes().get(last).inputs());
        while (!frontier.isEmpty()) {
            String t = frontier.removeLast();
            Integer q = t.equals(h) ? null : producer.get(t);
            if (q == null || inner.contains(q)) continue;
            OnnxGraph.Node m = g.nodes().get(q);
            if (!List.of("Mul", "Add", "Div", "Erf").contains(m.opType())) continue;
            inner.add(q);
            frontier.addAll(m.inputs());
        }
        return inner;
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

    /**
     * Whether {@code x} is a GELU's output: ORT's fused {@code Gelu}, {@code BiasGelu} or {@code FastGelu}, or the
     * exporters' erf form {@code 0.5 · h · (1 + erf(h / √2))} in any association: the Mul and Add nodes behind x
     * (three deep at most) hold an Erf of {@code h / √2} (or {@code h · 1/√2}), an Add of 1, a factor 0.5 and h
     * itself, and nothing else but constants. Anything less certain is not taken for a GELU, whose minimum the
     * per-token range would then assume.
     */
    static boolean isGeluOutput(OnnxGraph g, String x, Map<String, Integer> producer) {
        Integer p = producer.get(x);
        if (p == null) return false;
        String op = g.nodes().get(p).opType();
        if (op.equals("Gelu") || op.equals("BiasGelu") || op.equals("FastGelu")) return true;
        if (!op.equals("Mul")) return false;
        // h: what the Erf behind x reads, scaled by 1/√2 (a Div by √2 or a Mul by 1/√2)
        String h = geluInput(g, x, producer);
        if (h == null) return false;
        // the Mul/Add tree between h and x: its leaves must be h, the Erf's output and the constants 1 and 0.5
        boolean half = false, one = false, erf = false;
        List<Integer> frontier = List.of(p);
        for (int depth = 0; depth < 3 && !frontier.isEmpty(); depth++) {
            List<Integer> next = new ArrayList<>();
            for (int i : frontier) {
                OnnxGraph.Node n = g.nodes().get(i);
                for (String in : n.inputs()) {
                    Float c = scalar(g, in);
                    Integer q = producer.get(in);
                    String qop = q == null ? "" : g.nodes().get(q).opType();
                    if (in.equals(h)) continue;
                    if (c != null && n.opType().equals("Mul") && Math.abs(c - 0.5f) < 1e-6) half = true;
                    else if (c != null && n.opType().equals("Add") && Math.abs(c - 1f) < 1e-6) one = true;
                    else if (qop.equals("Erf") && n.opType().equals("Add")) erf = true;
                    else if (c == null && (qop.equals("Mul") || qop.equals("Add"))) next.add(q);
                    else return false;
                }
            }
            frontier = next;
        }
        return half && one && erf && frontier.isEmpty();
    }

    /** The h of an Erf(h / √2) within three Mul/Add nodes behind x, else null. */
    private static String geluInput(OnnxGraph g, String x, Map<String, Integer> producer) {
        List<String> frontier = List.of(x);
        for (int depth = 0; depth < 4; depth++) {
            List<String> next = new ArrayList<>();
            for (String t : frontier) {
                Integer q = producer.get(t);
                if (q == null) continue;
                OnnxGraph.Node n = g.nodes().get(q);
                if (n.opType().equals("Erf")) {
                    Integer d = producer.get(n.inputs().get(0));
                    if (d == null) return null;
                    OnnxGraph.Node scale = g.nodes().get(d);
                    Float c = scale.inputs().size() == 2 ? scalar(g, scale.inputs().get(1)) : null;
                    if (c == null) return null;
                    boolean root2 = scale.opType().equals("Div") ? Math.abs(c - Math.sqrt(2)) < 1e-3
                            : scale.opType().equals("Mul") && Math.abs(c - Math.sqrt(0.5)) < 1e-3;
                    return root2 ? scale.inputs().get(0) : null;
                }
                if (n.opType().equals("Mul") || n.opType().equals("Add")) next.addAll(n.inputs());
            }
            frontier = next;
        }
        return null;
    }

    /** The one float of the initialiser or Constant node {@code name} ({@link OnnxGraph#constant}), else null. */
    private static Float scalar(OnnxGraph g, String name) {
        OnnxGraph.Tensor t = g.constant(name);
        return t != null && t.floats() != null && t.floats().length == 1 ? t.floats()[0] : null;
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

    /** The model with {@code names} added to the graph's outputs (float tensors of any shape). */
    static byte[] withOutputs(byte[] model, List<String> names) throws IOException {
        List<byte[]> outputs = new ArrayList<>();
        for (String name : names) {
            ByteArrayOutputStream tensorType = new ByteArrayOutputStream(), type = new ByteArrayOutputStream(),
                    info = new ByteArrayOutputStream();
            CodedOutputStream t = CodedOutputStream.newInstance(tensorType);
            t.writeInt32(TYPE_TENSOR_ELEM_TYPE, FLOAT);
            t.flush();
            CodedOutputStream ty = CodedOutputStream.newInstance(type);
            ty.writeByteArray(TYPE_TENSOR_TYPE, tensorType.toByteArray());
            ty.flush();
            CodedOutputStream v = CodedOutputStream.newInstance(info);
            v.writeString(VALUE_INFO_NAME, name);
            v.writeByteArray(VALUE_INFO_TYPE, type.toByteArray());
            v.flush();
            outputs.add(info.toByteArray());
        }
        return withGraph(model, (start, length) -> graph(model, start, length, null, List.of(), Set.of(), outputs));
    }

    /** The graph message's new bytes, from where the old one starts in the model and its length. */
    private interface GraphRewrite {
        byte[] apply(int start, int length) throws IOException;
    }

    /** The model with its graph message replaced by {@code rewrite}'s, every other field copied as it is. */
    private static byte[] withGraph(byte[] model, GraphRewrite rewrite) throws IOException {
        return withGraph(model, rewrite, null);
    }

    /** As {@link #withGraph(byte[], GraphRewrite)}, importing operator set 1 of {@code domain} when the model does not. */
    private static byte[] withGraph(byte[] model, GraphRewrite rewrite, String domain) throws IOException {
        boolean imported = domain == null || importsDomain(model, domain);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(model.length / 2);
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        CodedInputStream in = newStream(model, 0, model.length);
        for (int tag; (tag = in.readTag()) != 0; ) {
            if (!isMessage(tag, MODEL_GRAPH)) {
                in.skipField(tag, out);
                continue;
            }
            int length = in.readRawVarint32(), start = in.getTotalBytesRead();
            out.writeByteArray(MODEL_GRAPH, rewrite.apply(start, length));
            in.skipRawBytes(length);
        }
        if (!imported) {
            ByteArrayOutputStream opset = new ByteArrayOutputStream();
            CodedOutputStream o = CodedOutputStream.newInstance(opset);
            o.writeString(OPSET_DOMAIN, domain);
            o.writeInt64(OPSET_VERSION, 1);
            o.flush();
            out.writeByteArray(MODEL_OPSET_IMPORT, opset.toByteArray());
        }
        out.flush();
        return bytes.toByteArray();
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

    /** The graph message: its fields less the dropped weights and the old nodes, the new weights, then the nodes. */
    private static byte[] graph(byte[] model, int start, int length, List<byte[]> plan,
                                Iterable<byte[]> newInitializers, Set<String> dropped, List<byte[]> newOutputs)
            throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(length / 3);
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        List<byte[]> oldNodes = new ArrayList<>();
        CodedInputStream in = newStream(model, start, length);
        while (!in.isAtEnd()) {
            int tag = in.readTag(), field = WireFormat.getTagFieldNumber(tag);
            if (field == GRAPH_NODE && plan != null) {
                oldNodes.add(in.readByteArray());
            } else if (field == GRAPH_INITIALIZER) {
                int size = in.readRawVarint32(), at = start + in.getTotalBytesRead();
                in.skipRawBytes(size);
                if (dropped.contains(stringField(model, at, size, TENSOR_NAME))) continue;
                out.writeTag(GRAPH_INITIALIZER, WireFormat.WIRETYPE_LENGTH_DELIMITED);
                out.writeUInt32NoTag(size);
                out.writeRawBytes(model, at, size);
            } else {
                in.skipField(tag, out);
            }
        }
        for (byte[] t : newInitializers) out.writeByteArray(GRAPH_INITIALIZER, t);
        for (byte[] o : newOutputs) out.writeByteArray(GRAPH_OUTPUT, o);
        if (plan == null) {
            out.flush();
            return bytes.toByteArray();
        }
        // the plan holds, per original node, null (copy it), or its replacement nodes closed by an empty marker
        int old = 0;
        for (byte[] p : plan) {
            if (p == null) {
                out.writeByteArray(GRAPH_NODE, oldNodes.get(old++));
            } else if (p.length == 0) {
                old++;
            } else {
                out.writeByteArray(GRAPH_NODE, p);
            }
        }
        if (old != oldNodes.size()) throw new IOException("the graph's nodes changed while it was rewritten");
        out.flush();
        return bytes.toByteArray();
    }

    private static byte[] node(String name, String op, List<String> inputs, List<String> outputs, String domain,
                               byte[]... attributes) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        for (String i : inputs) out.writeString(NODE_INPUT, i);
        for (String o : outputs) out.writeString(NODE_OUTPUT, o);
        out.writeString(NODE_NAME, name);
        out.writeString(NODE_OP_TYPE, op);
        for (byte[] a : attributes) out.writeByteArray(NODE_ATTRIBUTE, a);
        out.writeString(NODE_DOMAIN, domain);
        out.flush();
        return bytes.toByteArray();
    }

    /** An integer attribute ({@code AttributeProto} with one {@code i}), or a list of them when {@code list}. */
    private static byte[] attribute(String name, boolean list, long... values) throws IOException {
        ByteArrayOutputStream attr = new ByteArrayOutputStream();
        CodedOutputStream a = CodedOutputStream.newInstance(attr);
        a.writeString(ATTR_NAME, name);
        for (long v : values) a.writeInt64(list ? ATTR_INTS : ATTR_I, v);
        a.writeInt32(ATTR_TYPE, list ? ATTR_TYPE_INTS : ATTR_TYPE_INT);
        a.flush();
        return attr.toByteArray();
    }

    private static byte[] tensor(String name, long[] dims, int type, byte[] raw) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length + 64);
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        for (long d : dims) out.writeInt64(TENSOR_DIMS, d);
        out.writeInt32(TENSOR_DATA_TYPE, type);
        out.writeString(TENSOR_NAME, name);
        out.writeByteArray(TENSOR_RAW_DATA, raw);
        out.flush();
        return bytes.toByteArray();
    }

    private static byte[] longTensor(String name, long[] dims, long... values) throws IOException {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(values.length * 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(values);
        return tensor(name, dims, INT64, b.array());
    }

    private static byte[] floatTensor(String name, long[] dims, float... values) throws IOException {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(values.length * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return tensor(name, dims, FLOAT, b.array());
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

    private static boolean importsDomain(byte[] model, String domain) throws IOException {
        return opsetImports(model).containsKey(domain);
    }

    /** The model's operator set imports: domain ("" for the default) → version (−1 when absent). */
    private static Map<String, Long> opsetImports(byte[] model) throws IOException {
        Map<String, Long> imports = new HashMap<>();
        CodedInputStream in = newStream(model, 0, model.length);
        for (int tag; (tag = in.readTag()) != 0; ) {
            if (!isMessage(tag, MODEL_OPSET_IMPORT)) {
                in.skipField(tag);
                continue;
            }
            int limit = in.pushLimit(in.readRawVarint32());
            String domain = "";
            long v = -1;
            for (int t; (t = in.readTag()) != 0; ) {
                int f = WireFormat.getTagFieldNumber(t);
                if (f == OPSET_DOMAIN) domain = in.readString();
                else if (f == OPSET_VERSION) v = in.readInt64();
                else in.skipField(t);
            }
            in.popLimit(limit);
            imports.put(domain, v);
        }
        return imports;
    }
}
