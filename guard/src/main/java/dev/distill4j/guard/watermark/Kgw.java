package dev.distill4j.guard.watermark;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.guard.stats.PValue;
import dev.distill4j.guard.stats.Tails;
import dev.distill4j.model.generate.Sampler;
import dev.distill4j.model.generate.SamplingParams;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The green-list watermark of Kirchenbauer et al. (2023, "A Watermark for Large Language Models"; SelfHash from
 * "On the Reliability of Watermarks for Large Language Models").
 *
 * <p>For the next token v after window w = x_{t−h} … x_{t−1}:
 * <pre>
 *   green(v | w) = [ U(seed, v) &lt; γ ]                 U uniform from the PRF
 *   LeftHash:  seed = PRF(w)
 *   SelfHash:  seed = PRF(x_{t−1}, argmin_{y ∈ w ∪ {v}} H(y))   H a keyed per-token hash (anchored min-hash)
 *   logits'(v) = logits(v) + δ · green(v | w)         then ordinary sampling (greedy too)
 * </pre>
 * Detection counts green tokens among n scored ones: k ~ Binomial(n, γ) under H0, p = P(X ≥ k), exact.
 *
 * <p>The logits are changed in place, so the reported logprobs are those of the biased distribution, the one the
 * token was drawn from. SelfHash puts the candidate itself into the min-hash, so an edit changes fewer green lists
 * (more robust, at h = 4 in the paper); LeftHash with h = 1 is the original scheme.
 */
public final class Kgw implements Watermark {
    private static final long LEFT = 0x4b47572d4c454654L;      // domains of the PRF's uses
    private static final long SELF = 0x4b47572d53454c46L;
    private static final long TOKEN = 0x4b47572d544f4b4eL;
    private static final long TUPLE = 0x4b47572d54555045L;
    private static final long SEED_TUPLE = 0x4b47572d53454544L;

    private final WatermarkKey key;
    private final Prf prf;
    private final double gamma;
    private final double delta;
    private final int h;
    private final boolean selfHash;
    private final long[] tokenHash;     // SelfHash's H(y), by id

    Kgw(WatermarkKey key) {
        this.key = key;
        this.prf = new Prf(key.secret());
        this.gamma = key.doubleParam("gamma");
        this.delta = key.doubleParam("delta");
        this.h = key.intParam("context");
        String hash = key.stringParam("hash");
        if (!(gamma > 0 && gamma < 1)) throw new InvalidInputException("kgw gamma (green share) must be in (0, 1), got " + gamma);
        if (!(delta > 0) || Double.isInfinite(delta)) throw new InvalidInputException("kgw delta (logit bias) must be > 0, got " + delta);
        if (h < 1 || h > 64) throw new InvalidInputException("kgw context must be 1..64 tokens, got " + h);
        switch (hash) {
            case "left" -> selfHash = false;
            case "self" -> selfHash = true;
            default -> throw new InvalidInputException("kgw hash must be 'left' or 'self', got '" + hash + "'");
        }
        this.tokenHash = new long[key.tokenizer().vocabSize()];
        for (int y = 0; y < tokenHash.length; y++) tokenHash[y] = prf.hash(new long[] {TOKEN, y}, 2);
    }

    /** γ = 0.25, δ = 2; LeftHash with h = 1, or SelfHash with h = 4 when {@code hash = self} is given. */
    static Map<String, Object> defaults(Map<String, Object> given) {
        boolean self = "self".equals(given.get("hash"));
        return Map.of("gamma", 0.25, "delta", 2.0, "context", self ? 4 : 1, "hash", self ? "self" : "left");
    }

    @Override public WatermarkKey key() { return key; }

    @Override public int contextWidth() { return h; }

    public double gamma() { return gamma; }

    public double delta() { return delta; }

    public boolean selfHash() { return selfHash; }

    @Override
    public int choose(int[] history, int length, float[] logits, SamplingParams params, SplittableRandom rng) {
        if (selfHash) {
            int from = Watermark.windowStart(length, h);
            int anchor = length > 0 ? history[length - 1] : -1;
            int windowMin = argminHash(history, from, length);
            long common = selfSeed(anchor, windowMin);
            for (int v = 0; v < logits.length; v++) {
                long seed = windowMin < 0 || hashOf(v) < hashOf(windowMin) ? selfSeed(anchor, v) : common;
                if (isGreen(seed, v)) logits[v] += (float) delta;
            }
        } else {
            long seed = leftSeed(history, length);
            for (int v = 0; v < logits.length; v++) if (isGreen(seed, v)) logits[v] += (float) delta;
        }
        return Sampler.next(logits, params, rng);
    }

    /** KGW biases the logits, so even a greedy pick carries the watermark. */
    @Override public boolean marks(SamplingParams params) { return true; }

    /** Whether {@code token} is on the green list of its window. */
    public boolean green(int[] history, int length, int token) {
        return isGreen(seedFor(history, length, token), token);
    }

    @Override public double score(int[] history, int length, int token) {
        return green(history, length, token) ? 1 : 0;
    }

    @Override public long tuple(int[] history, int length, int token) {
        if (selfHash) {
            int anchor = length > 0 ? history[length - 1] : -1;
            return prf.hash(new long[] {TUPLE, anchor, selfMin(history, length, token), token}, 4);
        }
        return prf.windowAndToken(TUPLE, history, length, h, token);
    }

    @Override public long seedTuple(int[] history, int length, int token) {
        return prf.hash(new long[] {SEED_TUPLE, seedFor(history, length, token)}, 2);
    }

    @Override public PValue pValue(double total, long n) {
        return Tails.binomialUpper(Math.round(total), n, gamma);
    }

    @Override public double nullMean() { return gamma; }

    @Override public String scoreName() { return "green fraction"; }

    private long seedFor(int[] history, int length, int token) {
        if (!selfHash) return leftSeed(history, length);
        int anchor = length > 0 ? history[length - 1] : -1;
        return selfSeed(anchor, selfMin(history, length, token));
    }

    private long leftSeed(int[] history, int length) {
        return prf.seed(LEFT, history, Watermark.windowStart(length, h), length);
    }

    private long selfSeed(int anchor, int minToken) {
        return prf.hash(new long[] {SELF, anchor, minToken}, 3);
    }

    /** The token of w ∪ {token} with the smallest H. */
    private int selfMin(int[] history, int length, int token) {
        int m = argminHash(history, Watermark.windowStart(length, h), length);
        return m < 0 || hashOf(token) < hashOf(m) ? token : m;
    }

    private int argminHash(int[] history, int from, int to) {
        int best = -1;
        for (int i = from; i < to; i++) if (best < 0 || hashOf(history[i]) < hashOf(best)) best = history[i];
        return best;
    }

    /** H(y); ids past the key's vocabulary (a model whose matrix is padded) hash on the fly. */
    private long hashOf(int y) {
        return y < tokenHash.length ? tokenHash[y] : prf.hash(new long[] {TOKEN, y}, 2);
    }

    private boolean isGreen(long seed, int v) {
        return Prf.uniform(Prf.bits(seed, v, 0)) < gamma;
    }
}
