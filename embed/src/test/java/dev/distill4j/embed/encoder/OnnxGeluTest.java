package dev.distill4j.embed.encoder;

import static dev.distill4j.embed.encoder.OnnxLayerDropTest.TEXTS;
import static dev.distill4j.embed.encoder.OnnxLayerDropTest.ort;
import static org.assertj.core.api.Assertions.assertThat;

import dev.distill4j.embed.OnnxEmbeddingModel;
import dev.distill4j.embed.OnnxEmbeddingModel.Builtin;
import dev.distill4j.embed.Pooling;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The GELU in encoder graphs: which patterns are taken for one, and the tanh rewrite on ONNX Runtime. */
class OnnxGeluTest {

    @Test
    void everyErfGeluOfMiniLmBecomesOrtsTanhFastGeluAndMovesTheEmbeddingsByLittle() throws Exception {
        byte[] model = OnnxEmbeddingModel.onnxBytes(Builtin.ALL_MINILM_L6_V2.id);
        OnnxGelu.GeluRewrite r = OnnxGelu.tanhGelu(model);
        assertThat(r.replaced()).isEqualTo(6);
        OnnxGraph g = OnnxGraph.parse(r.model());
        assertThat(g.nodes()).filteredOn(n -> n.opType().equals("FastGelu")).hasSize(6);
        assertThat(g.nodes()).noneMatch(n -> n.opType().equals("Erf"));
        OnnxGraph before = OnnxGraph.parse(model);
        // five nodes of each pattern become one, and its three Constant nodes (√2, 1, 0.5) go
        assertThat(g.nodes()).hasSize(before.nodes().size() - 6 * 4 - 6 * 3);
        java.util.Set<String> read = new java.util.HashSet<>();
        g.nodes().forEach(n -> read.addAll(n.inputs()));
        assertThat(g.initializers().keySet()).allMatch(read::contains, "read by a node: the pattern's constants went");

        // layer 0's GELU output from the same input: ORT's FastGelu really ran (the values differ) and stays within
        // the tanh form's bound of the erf GELU
        String x = g.nodes().stream().filter(n -> n.opType().equals("FastGelu")).findFirst().orElseThrow().outputs().get(0);
        float[][] erf = tensor(model, x), tanh = tensor(r.model(), x);
        double worst = 0;
        for (int t = 0; t < erf.length; t++) for (int c = 0; c < erf[t].length; c++) worst = Math.max(worst, Math.abs(erf[t][c] - tanh[t][c]));
        assertThat(worst).isGreaterThan(1e-6).isLessThan(5e-4);
        float[][] exact = ort(model, Builtin.ALL_MINILM_L6_V2, Pooling.MEAN);
        float[][] fast = ort(r.model(), Builtin.ALL_MINILM_L6_V2, Pooling.MEAN);
        for (int i = 0; i < exact.length; i++) assertThat(OnnxQuantizeTest.cosine(exact[i], fast[i])).as(TEXTS.get(i)).isGreaterThan(0.99999);

        // after int8 as before it; a graph with no erf GELU left comes back as it is
        OnnxGelu.GeluRewrite int8 = OnnxGelu.tanhGelu(OnnxQuantize.int8(model).model());
        assertThat(int8.replaced()).isEqualTo(6);
        assertThat(OnnxGelu.tanhGelu(int8.model()).replaced()).isZero();
        // a pattern whose inner value something else reads (here: layer 0's Erf, made a graph output) stays
        String erfOut = before.nodes().stream().filter(n -> n.opType().equals("Erf")).findFirst().orElseThrow().outputs().get(0);
        assertThat(OnnxGelu.tanhGelu(OnnxWrite.withOutputs(model, List.of(erfOut))).replaced()).isEqualTo(5);
    }

    @Test
    void theTanhFormIsWithin5e4OfTheErfGeluEverywhere() {
        // Hendrycks and Gimpel's approximation against the exact GELU, erf by its Taylor series (exact to ~1e-9 on
        // |h| <= 5; beyond, both are h or 0 to within 1e-6)
        double worst = 0, at = 0;
        for (int i = -50_000; i <= 50_000; i++) {
            double h = i * 1e-4;
            double exact = 0.5 * h * (1 + erf(h / Math.sqrt(2)));
            double tanh = 0.5 * h * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (h + 0.044715 * h * h * h)));
            if (Math.abs(exact - tanh) > worst) {
                worst = Math.abs(exact - tanh);
                at = h;
            }
        }
        assertThat(worst).isBetween(4.7e-4, 4.75e-4);   // 4.732e-4 (math.erf in Python agrees)
        assertThat(Math.abs(at)).isBetween(2.69, 2.71);
    }

    /** erf(z) = 2/√π · Σ (−1)ⁿ z^(2n+1) / (n! (2n+1)). */
    private static double erf(double z) {
        double term = z, sum = z;
        for (int n = 1; n < 200 && Math.abs(term) > 1e-17; n++) {
            term *= -z * z / n;
            sum += term / (2 * n + 1);
        }
        return 2 / Math.sqrt(Math.PI) * sum;
    }

    /** Tensor {@code name} of {@code model} (a [1, tokens, width] float) for the first test sentence, from ORT. */
    private static float[][] tensor(byte[] model, String name) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        Map<String, OnnxTensor> feed = OnnxEmbeddingModel.inputs(env, new long[][] {OnnxQuantizeTest.miniLmIds()[0]}, true);
        try (OrtSession session = env.createSession(OnnxWrite.withOutputs(model, List.of(name)));
             OrtSession.Result out = session.run(feed, java.util.Set.of(name))) {
            return ((float[][][]) out.get(name).orElseThrow().getValue())[0];
        } finally {
            feed.values().forEach(OnnxTensor::close);
        }
    }

    @Test
    void onlyAGeluIsTakenForOneWhoseMinimumIsKnown() {
        // 0.5 · h · (1 + erf(h / √2)) as exporters write it, and three look-alikes whose minimum is not the GELU's
        assertThat(gelu("Div", (float) Math.sqrt(2), 1f, 0.5f, false)).isTrue();
        assertThat(gelu("Mul", (float) Math.sqrt(0.5), 1f, 0.5f, false)).isTrue();
        assertThat(gelu("Div", 2f, 1f, 0.5f, false)).as("erf(h / 2)").isFalse();
        assertThat(gelu("Div", (float) Math.sqrt(2), 1f, 5f, false)).as("5 · h · (1 + erf)").isFalse();
        assertThat(gelu("Div", (float) Math.sqrt(2), 1f, 0.5f, true)).as("0.5 · g · (1 + erf(h / √2)), g ≠ h").isFalse();
    }

    /** Whether {@link OnnxGelu#isGeluOutput} takes x = half · m · (add + erf(h op c)) for a GELU; m = h unless other. */
    private static boolean gelu(String op, float c, float add, float half, boolean other) {
        Map<String, OnnxGraph.Tensor> init = new java.util.HashMap<>();
        for (var e : Map.of("c", c, "one", add, "half", half).entrySet()) {
            init.put(e.getKey(), new OnnxGraph.Tensor(e.getKey(), new long[0], OnnxGraph.FLOAT, new float[] {e.getValue()}, null));
        }
        List<OnnxGraph.Node> nodes = List.of(
                new OnnxGraph.Node("s", op, List.of("h", "c"), List.of("hs"), Map.of(), null),
                new OnnxGraph.Node("e", "Erf", List.of("hs"), List.of("erf"), Map.of(), null),
                new OnnxGraph.Node("a", "Add", List.of("erf", "one"), List.of("phi"), Map.of(), null),
                new OnnxGraph.Node("m", "Mul", List.of(other ? "g" : "h", "phi"), List.of("hp"), Map.of(), null),
                new OnnxGraph.Node("x", "Mul", List.of("hp", "half"), List.of("x"), Map.of(), null));
        OnnxGraph g = new OnnxGraph(init, nodes, List.of("h", "g"), List.of("x"));
        return OnnxGelu.isGeluOutput(g, "x", g.producers());
    }
}
