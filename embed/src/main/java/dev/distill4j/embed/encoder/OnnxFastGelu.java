package dev.distill4j.embed.encoder;

import static dev.distill4j.embed.encoder.OnnxGraph.*;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * BERT's exact GELU, as the exporters write it,
 * <pre>
 *   y = x · ½ · (1 + erf(x / √2))          Div → Erf → Add 1 → Mul x → Mul ½
 * </pre>
 * replaced by ONNX Runtime's {@code com.microsoft.FastGelu}, the tanh form of Hendrycks and Gimpel (2016):
 * <pre>
 *   y = x · ½ · (1 + tanh(√(2/π) · (x + 0.044715 x³)))
 * </pre>
 * The two differ by less than 5·10⁻⁴ anywhere (at |x| ≈ 2), under the rounding of an int8 activation (a range of
 * 10 cut into 255 levels: 0.04), and ONNX Runtime evaluates the tanh form in a fraction of the time of the erf one:
 * in an int8 encoder, whose dense layers are fast, the erf GELU is the largest single cost left (a fifth of the time,
 * profiled on the ten-layer bge-small student; docs/embed.md, "Int8 encoders"). Only the exact pattern is replaced:
 * the divisor must be √2, the added constant 1, the factor ½, and x the same tensor the Div reads, each intermediate
 * read once; the Constant nodes that fed only the replaced nodes go too. Every other field is copied as it is.
 */
public final class OnnxFastGelu {
    private OnnxFastGelu() {}

    static final String DOMAIN = "com.microsoft";

    /** The rewritten model and how many GELUs it replaced (0: the model is returned as it was). */
    public record Report(byte[] model, int replaced) {}

    public static Report rewrite(byte[] model) throws IOException {
        OnnxGraph g = OnnxGraph.parseStructure(model);
        List<OnnxGraph.Node> nodes = g.nodes();
        Map<String, Integer> producer = new HashMap<>();
        Map<String, List<Integer>> readers = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            for (String o : nodes.get(i).outputs()) producer.put(o, i);
            for (String in : nodes.get(i).inputs()) readers.computeIfAbsent(in, k -> new ArrayList<>()).add(i);
        }
        Set<String> graphOutputs = new HashSet<>(g.outputs());
        Map<Integer, byte[]> fastGelu = new HashMap<>();                      // at the final Mul's place
        Set<Integer> removed = new HashSet<>();
        int replaced = 0;
        for (int erf = 0; erf < nodes.size(); erf++) {
            if (!nodes.get(erf).opType().equals("Erf")) continue;
            Integer div = producer.get(nodes.get(erf).inputs().get(0));
            if (div == null || !binary(g, nodes.get(div), "Div", Math.sqrt(2))) continue;
            String x = nodes.get(div).inputs().get(0);
            Integer add = soleReader(nodes, readers, graphOutputs, erf);
            if (add == null || !commutative(g, nodes.get(add), "Add", nodes.get(erf).outputs().get(0), 1.0)) continue;
            Integer mulX = soleReader(nodes, readers, graphOutputs, add);
            if (mulX == null || !nodes.get(mulX).opType().equals("Mul")
                    || !nodes.get(mulX).inputs().containsAll(List.of(x, nodes.get(add).outputs().get(0)))) continue;
            Integer half = soleReader(nodes, readers, graphOutputs, mulX);
            if (half == null || !commutative(g, nodes.get(half), "Mul", nodes.get(mulX).outputs().get(0), 0.5)) continue;
            if (soleReader(nodes, readers, graphOutputs, div) == null) continue;    // the Div's output is the Erf's alone

            removed.addAll(List.of(div, erf, add, mulX, half));
            OnnxGraph.Node h = nodes.get(half);
            String name = (h.name().isEmpty() ? h.outputs().get(0) : h.name()) + "_FastGelu";
            fastGelu.put(half, OnnxQuantize.node(name, "FastGelu", DOMAIN, List.of(x), h.outputs(), null));
            replaced++;
        }
        if (replaced == 0) return new Report(model, 0);
        Set<Integer> constants = new HashSet<>();                              // Constants that fed only replaced nodes
        for (int i = 0; i < nodes.size(); i++) {
            OnnxGraph.Node n = nodes.get(i);
            if (!n.opType().equals("Constant") || n.outputs().size() != 1 || graphOutputs.contains(n.outputs().get(0))) continue;
            List<Integer> r = readers.getOrDefault(n.outputs().get(0), List.of());
            if (!r.isEmpty() && removed.containsAll(r)) constants.add(i);
        }
        removed.addAll(constants);
        // OnnxQuantize.graph's plan: per original node, null (copy it), or its replacements closed by an empty marker
        List<byte[]> plan = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            if (fastGelu.containsKey(i)) plan.add(fastGelu.get(i));
            plan.add(removed.contains(i) ? new byte[0] : null);
        }
        byte[] rewritten = OnnxQuantize.withGraph(model, (start, length) ->
                OnnxQuantize.graph(model, start, length, plan, List.of(), Set.of(), List.of()));
        return new Report(withOpset(rewritten), replaced);
    }

    /** The one node reading node {@code n}'s single output, unless the graph returns it or others read it too. */
    private static Integer soleReader(List<OnnxGraph.Node> nodes, Map<String, List<Integer>> readers,
                                      Set<String> graphOutputs, int n) {
        List<String> out = nodes.get(n).outputs();
        if (out.size() != 1 || graphOutputs.contains(out.get(0))) return null;
        List<Integer> r = readers.getOrDefault(out.get(0), List.of());
        return r.size() == 1 ? r.get(0) : null;
    }

    /** {@code n} is {@code op}(a, c) with c a one-element constant equal to {@code value}. */
    private static boolean binary(OnnxGraph g, OnnxGraph.Node n, String op, double value) {
        return n.opType().equals(op) && n.inputs().size() == 2 && isScalar(g.constant(n.inputs().get(1)), value);
    }

    /** {@code n} is {@code op}(v, c) or {@code op}(c, v) with c a one-element constant equal to {@code value}. */
    private static boolean commutative(OnnxGraph g, OnnxGraph.Node n, String op, String v, double value) {
        if (!n.opType().equals(op) || n.inputs().size() != 2 || !n.inputs().contains(v)) return false;
        String other = n.inputs().get(0).equals(v) ? n.inputs().get(1) : n.inputs().get(0);
        return isScalar(g.constant(other), value);
    }

    private static boolean isScalar(OnnxGraph.Tensor t, double value) {
        return t != null && t.floats() != null && t.floats().length == 1 && Math.abs(t.floats()[0] - value) < 1e-6;
    }

    /** The model with ONNX Runtime's contrib domain imported (FastGelu is in its version 1), unless it is already. */
    private static byte[] withOpset(byte[] model) throws IOException {
        CodedInputStream in = newStream(model, 0, model.length);
        for (int tag; (tag = in.readTag()) != 0; ) {
            if (!isMessage(tag, OnnxQuantize.MODEL_OPSET_IMPORT)) {
                in.skipField(tag);
                continue;
            }
            int limit = in.pushLimit(in.readRawVarint32());
            for (int t; (t = in.readTag()) != 0; ) {
                if (com.google.protobuf.WireFormat.getTagFieldNumber(t) == OnnxQuantize.OPSET_DOMAIN
                        && in.readString().equals(DOMAIN)) return model;
                else in.skipField(t);
            }
            in.popLimit(limit);
        }
        ByteArrayOutputStream opset = new ByteArrayOutputStream();
        CodedOutputStream o = CodedOutputStream.newInstance(opset);
        o.writeString(OnnxQuantize.OPSET_DOMAIN, DOMAIN);
        o.writeInt64(OnnxQuantize.OPSET_VERSION, 1);
        o.flush();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(model.length + 32);
        bytes.write(model);
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        out.writeByteArray(OnnxQuantize.MODEL_OPSET_IMPORT, opset.toByteArray());   // a repeated field: appending adds one
        out.flush();
        return bytes.toByteArray();
    }
}
