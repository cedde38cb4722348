package dev.distill4j.guard.watermark;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.guard.stats.PValue;
import dev.distill4j.guard.stats.Tails;
import dev.distill4j.model.generate.Sampler;
import dev.distill4j.model.generate.SamplingParams;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * SynthID-Text's tournament sampling (Dathathri et al., Nature 2024) in its non-distortionary form: m layers, two
 * candidates per match. Each layer l has a keyed bit g_l(v | w) ∈ {0, 1} (fair under a random key) for candidate v
 * after window w. A tournament draws 2^m candidates from the sampling distribution p and keeps, at each layer, the
 * one of each pair with the higher g_l (a tie picks either). Its winner has the closed-form distribution
 * <pre>
 *   p_0 = p,   p_l(v) = p_{l−1}(v) · (1 + g_l(v) − Σ_y p_{l−1}(y) g_l(y))     l = 1 … m
 * </pre>
 * so the token is one draw from p_m instead of 2^m draws. Averaged over keys p_m = p: the text's distribution is
 * unchanged. Detection counts the g-values of the chosen tokens: over n tokens, k ones among n·m bits,
 * ~ Binomial(n·m, ½) under H0, p = P(X ≥ k) (the unweighted "mean" score), exact.
 *
 * <p>Candidates whose probability is below 1e-7 of the total are left out of the tournament (their weight could not
 * change a draw at double precision in practice), which bounds the work at large vocabularies. The reported
 * logprobs are the model's own distribution. A greedy request is answered greedily, unmarked.
 */
public final class SynthId implements Watermark {
    private static final long SEED = 0x53594e5448494453L;
    private static final long TUPLE = 0x53594e5448494454L;
    private static final long SEED_TUPLE = 0x53594e5448494457L;

    private final WatermarkKey key;
    private final Prf prf;
    private final int h;
    private final int layers;

    SynthId(WatermarkKey key) {
        this.key = key;
        this.prf = new Prf(key.secret());
        this.h = key.intParam("context");
        this.layers = key.intParam("layers");
        if (h < 1 || h > 64) throw new InvalidInputException("synthid context must be 1..64 tokens, got " + h);
        if (layers < 1 || layers > 64) throw new InvalidInputException("synthid layers must be 1..64, got " + layers);
    }

    /** m = 30 layers and h = 4 (n-gram length 5), SynthID-Text's published configuration. */
    static Map<String, Object> defaults() { return Map.of("context", 4, "layers", 30); }

    @Override public WatermarkKey key() { return key; }

    @Override public int contextWidth() { return h; }

    public int layers() { return layers; }

    @Override
    public int choose(int[] history, int length, float[] logits, SamplingParams params, SplittableRandom rng) {
        Sampler.Candidates c = Sampler.candidates(logits, params);
        if (c.size() == 1) return c.ids()[0];
        int n = 0;
        while (n < c.size() && c.probs()[n] >= 1e-7 * c.probs()[0]) n++;
        int[] ids = java.util.Arrays.copyOf(c.ids(), n);
        double[] p = java.util.Arrays.copyOf(c.probs(), n);
        long seed = seed(history, length);
        for (int l = 0; l < layers; l++) {
            double mean = 0;
            for (int i = 0; i < n; i++) mean += p[i] * g(seed, ids[i], l);
            double total = 0;
            for (int i = 0; i < n; i++) total += p[i] *= 1 + g(seed, ids[i], l) - mean;
            for (int i = 0; i < n; i++) p[i] /= total;   // only rounding moves it from 1
        }
        return Sampler.draw(new Sampler.Candidates(ids, p), rng);
    }

    @Override public boolean marks(SamplingParams params) { return !params.isGreedy(); }

    /** Σ_l g_l(token | window): the number of layers whose bit is 1. */
    @Override public double score(int[] history, int length, int token) {
        long seed = seed(history, length);
        int ones = 0;
        for (int l = 0; l < layers; l++) ones += g(seed, token, l);
        return ones;
    }

    /** g_l(token | window), layer l in [0, m). */
    public int g(int[] history, int length, int token, int layer) {
        return g(seed(history, length), token, layer);
    }

    @Override public long tuple(int[] history, int length, int token) {
        return prf.windowAndToken(TUPLE, history, length, h, token);
    }

    @Override public long seedTuple(int[] history, int length, int token) {
        return prf.hash(new long[] {SEED_TUPLE, seed(history, length)}, 2);
    }

    @Override public PValue pValue(double total, long n) {
        return Tails.binomialUpper(Math.round(total), n * layers, 0.5);
    }

    /** Per token: m layers, each ½. */
    @Override public double nullMean() { return layers * 0.5; }

    @Override public String scoreName() { return "g-values per token"; }

    private long seed(int[] history, int length) {
        return prf.seed(SEED, history, Watermark.windowStart(length, h), length);
    }

    private static int g(long seed, int token, int layer) {
        return (int) (Prf.bits(seed, token, layer) >>> 63);
    }
}
