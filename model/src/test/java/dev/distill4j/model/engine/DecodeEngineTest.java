package dev.distill4j.model.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.distill4j.model.generate.StepDecoder;
import dev.distill4j.model.nn.CausalLM;
import dev.distill4j.model.nn.ReferenceFixture;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The engine's logits equal the DJL model's (and the independent PyTorch reference's) within 1e-4 on the reference
 * checkpoints of all four families: GQA, tied and untied heads, llama3 and linear RoPE scaling, sliding window
 * (mistral, window 4), q/k/v biases (qwen2, llama with attention_bias), q/k norm (qwen3), a BF16 checkpoint (qwen2).
 * Both kernel sets are checked: the Vector API ones (surefire enables the module) and the scalar fallback.
 */
class DecodeEngineTest {
    static final double TOLERANCE = 1e-4;
    private static NDManager manager;

    @BeforeAll static void start() { manager = NDManager.newBaseManager("PyTorch"); }

    @AfterAll static void stop() { manager.close(); }

    @Test
    void theVectorKernelsAreInUseUnderSurefire() {
        assertThat(Kernels.best()).isInstanceOf(VectorKernels.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "mistral", "qwen2", "qwen3"})
    void everyPositionMatchesTheReferenceAndDjl(String family) throws IOException {
        ReferenceFixture f = ReferenceFixture.load(family);
        int[][] ids = f.ints("input_ids");
        int[][] mask = f.ints("attention_mask");
        double[][][] reference = f.logits();
        try (CausalLM model = f.model(manager)) {
            for (DecodeEngine engine : List.of(DecodeEngine.of(model), DecodeEngine.scalar(model, Quantization.F32))) {
                for (int b = 0; b < ids.length; b++) {
                    int pad = (int) Arrays.stream(mask[b]).filter(m -> m == 0).count();
                    int[] prompt = Arrays.copyOfRange(ids[b], pad, ids[b].length);
                    float[][] djl = djlLogits(model, prompt);
                    // token by token: a one-token prefill, then steps
                    StepDecoder.State s = engine.newState();
                    float[] got = engine.prefill(s, new int[] {prompt[0]});
                    for (int t = 0; ; t++) {
                        assertClose(got, djl[t], family + " row " + b + " position " + t + " vs DJL");
                        assertClose(got, reference[b][pad + t], family + " row " + b + " position " + t + " vs PyTorch");
                        if (t + 1 == prompt.length) break;
                        got = engine.step(List.of(s), new int[] {prompt[t + 1]})[0];
                    }
                    assertThat(s.length()).isEqualTo(prompt.length);
                    // the whole prompt in one prefill
                    StepDecoder.State whole = engine.newState();
                    assertClose(engine.prefill(whole, prompt), djl[prompt.length - 1], family + " row " + b + " prefill");
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "mistral", "qwen2", "qwen3"})
    void aStepOfRowsOfDifferentLengthsAndCopiesMatchesDjl(String family) throws IOException {
        ReferenceFixture f = ReferenceFixture.load(family);
        int v = f.config().vocabSize();
        SplittableRandom rng = new SplittableRandom(family.hashCode());
        try (CausalLM model = f.model(manager)) {
            DecodeEngine engine = DecodeEngine.of(model);
            int[] a = rng.ints(9, 3, v).toArray();
            int[] b = rng.ints(2, 3, v).toArray();
            int[] c = rng.ints(5, 3, v).toArray();
            StepDecoder.State sa = engine.newState();
            StepDecoder.State sb = engine.newState();
            StepDecoder.State sc = engine.newState();
            engine.prefill(sa, a);
            engine.prefill(sb, b);
            engine.prefill(sc, c);
            StepDecoder.State copy = sa.copy();     // an n-choice: shares a's prefill, then goes its own way
            int[][] next = {{11, 12, 13}, {21, 22, 23}, {31, 32, 33}, {41, 42, 43}};
            List<StepDecoder.State> states = List.of(sa, sb, sc, copy);
            int[][] prompts = {a, b, c, a};
            for (int step = 0; step < 3; step++) {
                int[] tokens = new int[4];
                for (int r = 0; r < 4; r++) tokens[r] = next[r][step];
                float[][] got = engine.step(states, tokens);
                for (int r = 0; r < 4; r++) {
                    int[] seq = concat(prompts[r], Arrays.copyOf(next[r], step + 1));
                    float[][] djl = djlLogits(model, seq);
                    assertClose(got[r], djl[seq.length - 1], family + " step " + step + " row " + r);
                    assertThat(states.get(r).length()).isEqualTo(seq.length);
                }
            }
            // rows leave and join between steps: b alone, then a fresh sequence beside it
            float[] alone = engine.step(List.of(sb), new int[] {7})[0];
            int[] bSeq = concat(b, new int[] {21, 22, 23, 7});
            assertClose(alone, djlLogits(model, bSeq)[bSeq.length - 1], family + " row leaving");
            StepDecoder.State fresh = engine.newState();
            engine.prefill(fresh, new int[] {5});
            float[][] two = engine.step(List.of(fresh, sb), new int[] {6, 8});
            assertClose(two[0], djlLogits(model, new int[] {5, 6})[1], family + " joined row");
            int[] bSeq2 = concat(bSeq, new int[] {8});
            assertClose(two[1], djlLogits(model, bSeq2)[bSeq2.length - 1], family + " old row beside it");
        }
    }

    @Test
    void promptsLongerThanOnePrefillChunkAndTheSlidingWindow() throws IOException {
        ReferenceFixture f = ReferenceFixture.load("mistral");   // window 4: most of the prompt is out of sight
        try (CausalLM model = f.model(manager)) {
            DecodeEngine engine = DecodeEngine.of(model);
            int[] prompt = new SplittableRandom(5).ints(DecodeEngine.PREFILL_CHUNK + 40, 3, 100).toArray();
            StepDecoder.State s = engine.newState();
            float[] last = engine.prefill(s, prompt);
            float[][] djl = djlLogits(model, prompt);
            assertClose(last, djl[prompt.length - 1], "long prefill");
            // the rest of a prompt fed to a state that already holds some of it
            StepDecoder.State split = engine.newState();
            engine.prefill(split, Arrays.copyOf(prompt, 100));
            assertClose(engine.prefill(split, Arrays.copyOfRange(prompt, 100, prompt.length)), djl[prompt.length - 1],
                    "prefill in two calls");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "mistral", "qwen2", "qwen3"})
    void int8MatchesTheDjlModelOfItsDequantizedWeights(String family) throws IOException {
        ReferenceFixture f = ReferenceFixture.load(family);
        try (CausalLM model = f.model(manager)) {
            Map<String, float[]> dequantized = Int8.dequantized(model.config(), DecodeEngine.tensors(model));
            try (NDManager m = manager.newSubManager();
                 CausalLM q = CausalLM.fromWeights(model.config(), arrays(m, model, dequantized), m)) {
                for (DecodeEngine engine : List.of(DecodeEngine.of(model, Quantization.INT8),
                        DecodeEngine.scalar(model, Quantization.INT8))) {
                    assertThat(engine.quantization()).isEqualTo(Quantization.INT8);
                    int[] prompt = {1, 20, 30, 40, 50, 60, 7, 8};
                    StepDecoder.State s = engine.newState();
                    float[] got = engine.prefill(s, Arrays.copyOf(prompt, 5));
                    assertClose(got, djlLogits(q, Arrays.copyOf(prompt, 5))[4], family + " int8 prefill");
                    for (int t = 5; t < prompt.length; t++) {
                        got = engine.step(List.of(s), new int[] {prompt[t]})[0];
                        assertClose(got, djlLogits(q, Arrays.copyOf(prompt, t + 1))[t], family + " int8 step " + t);
                    }
                    // and int8 is close to, not equal to, F32
                    float[] f32 = djlLogits(model, prompt)[prompt.length - 1];
                    double worst = 0, lo = Double.MAX_VALUE, hi = -Double.MAX_VALUE;
                    for (int i = 0; i < f32.length; i++) {
                        worst = Math.max(worst, Math.abs(f32[i] - got[i]));
                        lo = Math.min(lo, f32[i]);
                        hi = Math.max(hi, f32[i]);
                    }
                    System.out.printf("%s int8: max |Δlogit| vs F32 %.3g (logit range %.3g)%n", family, worst, hi - lo);
                    assertThat(worst).isGreaterThan(0).isLessThan(0.05 * (hi - lo));
                }
            }
        }
    }

    @Test
    void int8BlocksRoundTripWithinHalfAScale() {
        SplittableRandom rng = new SplittableRandom(1);
        int rows = 3, cols = 80;          // 80 = two full blocks and a short one of 16
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) w[i] = (float) rng.nextGaussian();
        Arrays.fill(w, cols, cols + 32, 0f);     // an all-zero block: scale 0, no NaN
        Matrix.Q8 q = Matrix.Q8.quantize(w, rows, cols);
        float[] back = q.dequantize();
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                float s = q.scale()[r * 3 + c / 32];
                assertThat((double) Math.abs(back[r * cols + c] - w[r * cols + c])).isLessThanOrEqualTo(s / 2 + 1e-7);
            }
        }
        assertThat(q.scale()[3]).isZero();
        // both kernels agree with the dequantized product, B = 1..5 (the vector kernel pairs rows)
        for (int b = 1; b <= 5; b++) {
            float[][] x = new float[b][cols];
            for (float[] row : x) for (int c = 0; c < cols; c++) row[c] = (float) rng.nextGaussian();
            float[][] viaVector = new float[b][rows];
            float[][] viaScalar = new float[b][rows];
            float[][] viaF32 = new float[b][rows];
            Kernels.best().matmulQ8(q.q(), q.scale(), cols, x, viaVector, 0, rows);
            new ScalarKernels().matmulQ8(q.q(), q.scale(), cols, x, viaScalar, 0, rows);
            Kernels.best().matmul(back, cols, x, viaF32, 0, rows);
            for (int i = 0; i < b; i++) {
                for (int r = 0; r < rows; r++) {
                    assertThat((double) viaVector[i][r]).isCloseTo(viaF32[i][r], org.assertj.core.api.Assertions.within(1e-4));
                    assertThat((double) viaScalar[i][r]).isCloseTo(viaF32[i][r], org.assertj.core.api.Assertions.within(1e-4));
                }
            }
        }
    }

    @Test
    void badUseIsAClearError() throws IOException {
        ReferenceFixture f = ReferenceFixture.load("qwen3");
        try (CausalLM model = f.model(manager)) {
            DecodeEngine engine = DecodeEngine.of(model);
            DecodeEngine other = DecodeEngine.of(model);
            StepDecoder.State s = engine.newState();
            assertThatThrownBy(() -> engine.prefill(s, new int[] {f.config().vocabSize()}))
                    .hasMessageContaining("outside the vocabulary");
            assertThatThrownBy(() -> engine.prefill(s, new int[0])).hasMessageContaining("at least one token");
            engine.prefill(s, new int[] {1, 2});
            assertThatThrownBy(() -> engine.step(List.of(s, s), new int[] {3, 4})).hasMessageContaining("twice");
            assertThatThrownBy(() -> other.step(List.of(s), new int[] {3})).hasMessageContaining("not made by this");
            assertThatThrownBy(() -> engine.prefill(s, new int[engine.maxPositions()]))
                    .hasMessageContaining("max_position_embeddings");
            StepDecoder.State c = s.copy();
            s.close();
            assertThatThrownBy(() -> engine.step(List.of(s), new int[] {3})).hasMessageContaining("closed");
            assertThat(engine.step(List.of(c), new int[] {3})[0]).hasSize(engine.vocabSize());
        }
    }

    @Test
    void refreshSeesTheModelsNewWeights() throws IOException {
        ReferenceFixture f = ReferenceFixture.load("llama");
        try (CausalLM model = f.model(manager)) {
            DecodeEngine engine = DecodeEngine.of(model);
            int[] prompt = {1, 5, 9};
            float[] before = engine.prefill(engine.newState(), prompt);
            NDArray norm = model.parameters().get("model.norm.weight");
            norm.muli(2f);                                  // an optimizer step, in place
            assertClose(engine.prefill(engine.newState(), prompt), before, "a stale engine keeps its copy");
            engine.refresh(model);
            float[] after = engine.prefill(engine.newState(), prompt);
            assertClose(after, djlLogits(model, prompt)[2], "refreshed");
            assertThat(after).isNotEqualTo(before);
        }
    }

    /** The DJL model's logits at every position of one unpadded sequence, [T][V]. */
    static float[][] djlLogits(CausalLM model, int[] ids) {
        try (NDManager m = manager.newSubManager()) {
            int v = model.config().vocabSize();
            float[] flat = model.forward(m.create(ids, new Shape(1, ids.length)), null, null).toFloatArray();
            float[][] out = new float[ids.length][];
            for (int t = 0; t < ids.length; t++) out[t] = Arrays.copyOfRange(flat, t * v, (t + 1) * v);
            return out;
        }
    }

    static void assertClose(float[] got, float[] expected, String what) {
        assertThat(got).as(what).hasSameSizeAs(expected);
        double worst = 0;
        for (int i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - expected[i]));
        assertThat(worst).as("max |Δlogit| " + what).isLessThan(TOLERANCE);
    }

    static void assertClose(float[] got, double[] expected, String what) {
        assertThat(got).as(what).hasSize(expected.length);
        double worst = 0;
        for (int i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - expected[i]));
        assertThat(worst).as("max |Δlogit| " + what).isLessThan(TOLERANCE);
    }

    static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static Map<String, NDArray> arrays(NDManager m, CausalLM like, Map<String, float[]> values) {
        Map<String, NDArray> out = new java.util.LinkedHashMap<>();
        for (var e : like.parameters().entrySet()) {
            out.put(e.getKey(), m.create(values.get(e.getKey()), e.getValue().getShape()));
        }
        return out;
    }

}
