package dev.distill4j.embed.encoder;

import static dev.distill4j.embed.encoder.OnnxWrite.*;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The GELU in exported encoder graphs: recognising it ({@link #isGeluOutput}, which per-token int8 ranges rely on for
 * the GELU's known minimum) and rewriting the exporters' erf form into ONNX Runtime's faster tanh form
 * ({@link #tanhGelu}).
 */
public final class OnnxGelu {
    private OnnxGelu() {}

    /**
     * Below every GELU output: x·Φ(x) has its minimum −0.16997 at x ≈ −0.75, the tanh approximation −0.17004. A
     * per-token range over a GELU output needs no minimum measured.
     */
    static final float GELU_FLOOR = 0.1701f;

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
        Map<String, Integer> producer = g.producers();
        Map<String, List<Integer>> readers = g.readers();
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
}
