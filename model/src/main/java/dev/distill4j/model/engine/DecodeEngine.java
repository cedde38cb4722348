package dev.distill4j.model.engine;

import ai.djl.ndarray.NDArray;
import dev.distill4j.model.config.ModelConfig;
import dev.distill4j.model.generate.StepDecoder;
import dev.distill4j.model.nn.CausalLM;
import dev.distill4j.model.nn.RotaryEmbedding;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The inference engine: the same decoder-only transformer as {@link CausalLM} (llama, mistral, qwen2, qwen3; GQA,
 * RoPE scaling, tied embeddings, sliding window, q/k norm, biases), run in plain Java arrays on the {@link Kernels},
 * without DJL's per-operation native calls. Training stays on DJL; this class only decodes.
 *
 * <p>A pass runs any set of rows, each one token of some sequence at that sequence's next position:
 * <pre>
 *   x   = embed[token]                                               per row
 *   per layer:  h = x + o · Attn(RMSNorm(x)),   x = h + down · (silu(gate · RMSNorm(h)) ⊙ up · RMSNorm(h))
 *   logits = lm_head · RMSNorm(x)                                    only the rows asked for
 * </pre>
 * Every weight matrix is streamed once per pass for all rows ({@link Kernels#matmul}), split over the cores by output
 * rows ({@link Parallel}); attention runs per row and head over that row's own KV cache ({@link Sequence}). A decode
 * step of B sequences is one pass of B rows (each at its own length); a prefill is passes of up to
 * {@value #PREFILL_CHUNK} rows of one sequence, so a prompt also reads the weights once per chunk.
 *
 * <p>Not thread-safe for one sequence; different sequences may be advanced from different threads.
 */
public final class DecodeEngine implements StepDecoder {
    /** Rows of one prefill pass: bounds the activations ([rows × intermediate] floats) of long prompts. */
    static final int PREFILL_CHUNK = 128;

    /**
     * What one multiply-add of attention costs in matrix multiply-adds, for {@link Parallel}'s decision to split: on
     * llama-10M's decode (one thread) attention ran at ~4 multiply-adds/ns against ~15 for the matrices.
     */
    static final int ATTENTION_COST = 4;

    private final ModelConfig config;
    private final Kernels kernels;
    private final float[] invFreq;
    private final int d, heads, kvHeads, hd, kvDim, qDim, groups, ff, vocab, maxPositions;
    private final double eps;
    private final Integer window;
    private final float scale;
    private volatile Weights weights;

    DecodeEngine(Weights weights, Kernels kernels) {
        this.config = weights.config;
        this.weights = weights;
        this.kernels = kernels;
        this.invFreq = RotaryEmbedding.inverseFrequencies(config);
        this.d = config.hiddenSize();
        this.heads = config.numAttentionHeads();
        this.kvHeads = config.numKeyValueHeads();
        this.hd = config.headDim();
        this.kvDim = kvHeads * hd;
        this.qDim = heads * hd;
        this.groups = heads / kvHeads;
        this.ff = config.intermediateSize();
        this.vocab = config.vocabSize();
        this.maxPositions = config.maxPositionEmbeddings();
        this.eps = config.rmsNormEps();
        this.window = weights.family.slidingWindow();
        this.scale = (float) (1.0 / Math.sqrt(hd));
    }

    /** An F32 engine over a copy of the model's current parameters. */
    public static DecodeEngine of(CausalLM model) {
        return of(model, Quantization.F32);
    }

    /** An engine over a copy of the model's current parameters, its matrices held at {@code quantization}. */
    public static DecodeEngine of(CausalLM model, Quantization quantization) {
        return new DecodeEngine(Weights.build(model.config(), quantization, tensors(model)), Kernels.best());
    }

    /** As {@link #of(CausalLM, Quantization)} with the scalar kernels, whatever the JVM offers (for tests). */
    static DecodeEngine scalar(CausalLM model, Quantization quantization) {
        return new DecodeEngine(Weights.build(model.config(), quantization, tensors(model)), new ScalarKernels());
    }

    /** An engine over weights read elsewhere (e.g. an int8 checkpoint). */
    static DecodeEngine of(Weights weights) {
        return new DecodeEngine(weights, Kernels.best());
    }

    /**
     * Copies the model's current parameters again (same quantization): a trainer that samples from the model it is
     * training calls this before sampling. Sequences started before keep their caches, computed with the old weights.
     */
    public void refresh(CausalLM model) {
        if (!model.config().equals(config)) throw new IllegalArgumentException("refresh needs a model of the same config");
        weights = Weights.build(config, weights.quantization, tensors(model));
    }

    static Map<String, float[]> tensors(CausalLM model) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : model.parameters().entrySet()) out.put(e.getKey(), e.getValue().toFloatArray());
        return out;
    }

    public ModelConfig config() { return config; }

    public Quantization quantization() { return weights.quantization; }

    /** Bytes of weights one decode step reads (all layers' matrices and the LM head): the bandwidth roofline's input. */
    public long streamedBytes() { return weights.streamedBytes(); }

    /** Weights, kernels and threads, for logs: e.g. "int8 weights, vector (512-bit) kernels, 2 threads". */
    public String describe() {
        return weights.quantization.label() + " weights, " + kernels.describe() + " kernels, " + Parallel.THREADS
                + " thread" + (Parallel.THREADS == 1 ? "" : "s");
    }

    @Override
    public int vocabSize() { return vocab; }

    @Override
    public int maxPositions() { return maxPositions; }

    @Override
    public State newState() { return new Sequence(); }

    @Override
    public float[] prefill(State state, int[] tokens) {
        Sequence s = own(state);
        if (tokens.length == 0) throw new IllegalArgumentException("prefill needs at least one token");
        room(s, tokens.length);
        float[] last = null;
        for (int from = 0; from < tokens.length; from += PREFILL_CHUNK) {
            int n = Math.min(PREFILL_CHUNK, tokens.length - from);
            Sequence[] seqs = new Sequence[n];
            int[] pos = new int[n];
            boolean[] want = new boolean[n];
            for (int i = 0; i < n; i++) {
                seqs[i] = s;
                pos[i] = s.length + i;
            }
            boolean lastChunk = from + n == tokens.length;
            want[n - 1] = lastChunk;
            float[][] logits = forward(seqs, pos, Arrays.copyOfRange(tokens, from, from + n), want);
            s.length += n;
            if (lastChunk) last = logits[n - 1];
        }
        return last;
    }

    @Override
    public float[][] step(List<State> states, int[] tokens) {
        int n = states.size();
        if (tokens.length != n) {
            throw new IllegalArgumentException(n + " states but " + tokens.length + " tokens");
        }
        if (n == 0) return new float[0][];
        Sequence[] seqs = new Sequence[n];
        int[] pos = new int[n];
        boolean[] want = new boolean[n];
        IdentityHashMap<Sequence, Boolean> seen = new IdentityHashMap<>();
        for (int i = 0; i < n; i++) {
            seqs[i] = own(states.get(i));
            if (seen.put(seqs[i], Boolean.TRUE) != null) {
                throw new IllegalArgumentException("state " + i + " appears twice in one step");
            }
            room(seqs[i], 1);
            pos[i] = seqs[i].length;
            want[i] = true;
        }
        float[][] logits = forward(seqs, pos, tokens, want);
        for (Sequence s : seqs) s.length++;
        return logits;
    }

    private Sequence own(State state) {
        if (!(state instanceof Sequence s) || s.engine() != this) {
            throw new IllegalArgumentException("the state was not made by this engine");
        }
        if (s.closed) throw new IllegalStateException("the state was closed");
        return s;
    }

    private void room(Sequence s, int more) {
        if (s.length + more > maxPositions) {
            throw new IllegalArgumentException("the sequence would hold " + (s.length + more) + " positions, more than "
                    + "the model's " + maxPositions + " (max_position_embeddings)");
        }
        s.reserve(s.length + more);
    }

    /**
     * One pass over rows: row i feeds {@code tokens[i]} at position {@code pos[i]} of {@code seqs[i]} (whose cache
     * must hold room for it); rows of one sequence must come in position order. Returns the logits of the rows with
     * {@code want[i]} (null for the others).
     */
    private float[][] forward(Sequence[] seqs, int[] pos, int[] tokens, boolean[] want) {
        Weights w = weights;
        int n = tokens.length;
        float[][] x = new float[n][d];
        for (int i = 0; i < n; i++) {
            if (tokens[i] < 0 || tokens[i] >= vocab) {
                throw new IllegalArgumentException("token id " + tokens[i] + " is outside the vocabulary [0, " + vocab + ")");
            }
            w.embed.row(tokens[i], x[i]);
        }
        float[][] xn = new float[n][d];
        float[][] q = new float[n][qDim];
        float[][] k = new float[n][kvDim];
        float[][] v = new float[n][kvDim];
        float[][] att = new float[n][qDim];
        float[][] gate = new float[n][ff];
        float[][] up = new float[n][ff];
        float[][] delta = new float[n][d];
        // RoPE's angles depend on the position only: computed once per row, not once per layer
        float[][] cos = new float[n][hd / 2];
        float[][] sin = new float[n][hd / 2];
        for (int i = 0; i < n; i++) rotation(pos[i], cos[i], sin[i]);
        for (int l = 0; l < w.layers.length; l++) {
            Weights.Layer L = w.layers[l];
            for (int i = 0; i < n; i++) rmsNorm(x[i], 0, d, L.inputNorm(), xn[i], 0);
            multiply(w, xn, new Matrix[] {L.q(), L.k(), L.v()}, new float[][][] {q, k, v});
            for (int i = 0; i < n; i++) {
                addBias(q[i], L.qBias());
                addBias(k[i], L.kBias());
                addBias(v[i], L.vBias());
                if (L.qNorm() != null) {
                    for (int h = 0; h < heads; h++) rmsNorm(q[i], h * hd, hd, L.qNorm(), q[i], h * hd);
                    for (int h = 0; h < kvHeads; h++) rmsNorm(k[i], h * hd, hd, L.kNorm(), k[i], h * hd);
                }
                for (int h = 0; h < heads; h++) rotate(q[i], h * hd, cos[i], sin[i]);
                for (int h = 0; h < kvHeads; h++) rotate(k[i], h * hd, cos[i], sin[i]);
                System.arraycopy(k[i], 0, seqs[i].keys[l], pos[i] * kvDim, kvDim);
                System.arraycopy(v[i], 0, seqs[i].values[l], pos[i] * kvDim, kvDim);
            }
            attention(l, seqs, pos, q, att);
            multiply(w, att, new Matrix[] {L.o()}, new float[][][] {delta});
            for (int i = 0; i < n; i++) {
                addBias(delta[i], L.oBias());
                add(x[i], delta[i]);
                rmsNorm(x[i], 0, d, L.postNorm(), xn[i], 0);
            }
            gateUp(w, xn, L.gate(), L.up(), gate, up);
            multiply(w, gate, new Matrix[] {L.down()}, new float[][][] {delta});
            for (int i = 0; i < n; i++) add(x[i], delta[i]);
        }
        int wanted = 0;
        for (boolean b : want) if (b) wanted++;
        float[][] normed = new float[wanted][d];
        int[] rowOf = new int[wanted];
        for (int i = 0, j = 0; i < n; i++) {
            if (!want[i]) continue;
            rmsNorm(x[i], 0, d, w.finalNorm, normed[j], 0);
            rowOf[j++] = i;
        }
        float[][] logits = new float[wanted][vocab];
        if (wanted > 0) multiply(w, normed, new Matrix[] {w.lmHead}, new float[][][] {logits});
        float[][] out = new float[n][];
        for (int j = 0; j < wanted; j++) out[rowOf[j]] = logits[j];
        return out;
    }

    /**
     * {@code outs[m][b] = ms[m] · in[b]} for every matrix m of one input (q/k/v; gate/up): one parallel loop over their
     * rows together, so the cores split the work of all of them with one hand-off.
     */
    private void multiply(Weights w, float[][] in, Matrix[] ms, float[][][] outs) {
        int total = 0;
        long work = 0;
        int[] start = new int[ms.length + 1];
        for (int m = 0; m < ms.length; m++) {
            start[m] = total;
            total += ms[m].rows();
            work += (long) ms[m].rows() * ms[m].cols() * in.length;
        }
        start[ms.length] = total;
        Parallel.forRange(total, work, (from, to) -> {
            for (int m = 0; m < ms.length; m++) {
                int lo = Math.max(from, start[m]);
                int hi = Math.min(to, start[m + 1]);
                if (lo < hi) ms[m].multiply(kernels, in, outs[m], lo - start[m], hi - start[m], w.streaming);
            }
        });
    }

    /**
     * {@code gate[b] = silu(Wgate·in[b]) ⊙ Wup·in[b]}: one parallel loop over the intermediate rows in which each chunk
     * computes its rows of both matrices and then their silu product, so the exps run split over the cores too.
     */
    private void gateUp(Weights w, float[][] in, Matrix g, Matrix u, float[][] gate, float[][] up) {
        long work = 2L * ff * d * in.length;
        Parallel.forRange(ff, work, (from, to) -> {
            g.multiply(kernels, in, gate, from, to, w.streaming);
            u.multiply(kernels, in, up, from, to, w.streaming);
            for (int i = 0; i < in.length; i++) kernels.siluMul(gate[i], up[i], from, to);
        });
    }

    /**
     * softmax(q·kᵀ/√hd)·v per row and query head over the row's cache: positions [lo, pos] with lo = 0, or
     * pos − window + 1 with a sliding window. Query head h reads kv head h / G (HF's repeat_kv order).
     */
    private void attention(int layer, Sequence[] seqs, int[] pos, float[][] q, float[][] out) {
        int n = q.length;
        long work = 0;
        // counted at ATTENTION_COST multiply-adds per q·k and p·v product: per position it also pays an exp, its share
        // of the merged sums and strided cache reads, so it runs at about a quarter of a matrix row's speed
        for (int i = 0; i < n; i++) work += ATTENTION_COST * 2L * heads * (pos[i] + 1) * hd;
        Parallel.forRange(n * heads, work, (from, to) -> {
            float[] scores = new float[0];
            for (int t = from; t < to; t++) {
                int i = t / heads;
                int h = t % heads;
                int kvOff = (h / groups) * hd;
                float[] keys = seqs[i].keys[layer];
                float[] values = seqs[i].values[layer];
                int hi = pos[i];
                int lo = window == null ? 0 : Math.max(0, hi - window + 1);
                int len = hi - lo + 1;
                if (scores.length < len) scores = new float[Math.max(len, 2 * scores.length)];
                kernels.scores(q[i], h * hd, keys, lo * kvDim + kvOff, kvDim, len, hd, scale, scores);
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < len; j++) max = Math.max(max, scores[j]);
                float inv = 1f / kernels.expShifted(scores, len, max);
                kernels.mix(scores, len, inv, values, lo * kvDim + kvOff, kvDim, hd, out[i], h * hd);
            }
        });
    }

    /** {@code out = x · (mean(x²) + ε)^−½ · w} over {@code x[xo, xo + n)}; out may be x. */
    private void rmsNorm(float[] x, int xo, int n, float[] w, float[] out, int oo) {
        float ss = kernels.dot(x, xo, x, xo, n);
        float inv = (float) (1.0 / Math.sqrt(ss / n + eps));
        for (int j = 0; j < n; j++) out[oo + j] = x[xo + j] * inv * w[j];
    }

    /** cos and sin of position·inv_freq[i], in F32 as HF computes the angle. */
    private void rotation(int position, float[] cos, float[] sin) {
        for (int i = 0; i < cos.length; i++) {
            float angle = (float) position * invFreq[i];
            cos[i] = (float) Math.cos(angle);
            sin[i] = (float) Math.sin(angle);
        }
    }

    /** Rotate-half RoPE of one head at {@code x[off, off + hd)}: pairs (i, i + hd/2) turn by the position's angle. */
    private void rotate(float[] x, int off, float[] cos, float[] sin) {
        int half = hd / 2;
        for (int i = 0; i < half; i++) {
            float x1 = x[off + i];
            float x2 = x[off + half + i];
            x[off + i] = x1 * cos[i] - x2 * sin[i];
            x[off + half + i] = x2 * cos[i] + x1 * sin[i];
        }
    }

    private static void addBias(float[] x, float[] bias) {
        if (bias != null) for (int j = 0; j < x.length; j++) x[j] += bias[j];
    }

    private static void add(float[] x, float[] y) {
        for (int j = 0; j < x.length; j++) x[j] += y[j];
    }

    /** The engine holds no resources beyond its weights' arrays, which the garbage collector frees. */
    @Override
    public void close() {}

    /**
     * One sequence's KV cache: per layer, keys (after RoPE) and values of every fed position, position-major
     * ([position][kv head][hd]), grown by doubling up to max_position_embeddings.
     */
    private final class Sequence implements State {
        float[][] keys = new float[config.numHiddenLayers()][];
        float[][] values = new float[config.numHiddenLayers()][];
        int length;
        int capacity;
        boolean closed;

        Sequence() {
            for (int l = 0; l < keys.length; l++) {
                keys[l] = new float[0];
                values[l] = new float[0];
            }
        }

        DecodeEngine engine() { return DecodeEngine.this; }

        void reserve(int positions) {
            if (positions <= capacity) return;
            int grown = Math.min(maxPositions, Math.max(positions, Math.max(16, 2 * capacity)));
            for (int l = 0; l < keys.length; l++) {
                keys[l] = Arrays.copyOf(keys[l], grown * kvDim);
                values[l] = Arrays.copyOf(values[l], grown * kvDim);
            }
            capacity = grown;
        }

        @Override
        public int length() { return length; }

        @Override
        public State copy() {
            if (closed) throw new IllegalStateException("the state was closed");
            Sequence c = new Sequence();
            c.reserve(Math.max(1, length));
            for (int l = 0; l < keys.length; l++) {
                System.arraycopy(keys[l], 0, c.keys[l], 0, length * kvDim);
                System.arraycopy(values[l], 0, c.values[l], 0, length * kvDim);
            }
            c.length = length;
            return c;
        }

        @Override
        public void close() {
            closed = true;
            keys = null;
            values = null;
        }
    }
}
