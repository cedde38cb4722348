package dev.distill4j.guard.watermark;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.guard.stats.PValue;
import dev.distill4j.guard.stats.Tails;
import dev.distill4j.model.generate.Sampler;
import dev.distill4j.model.generate.SamplingParams;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Aaronson's exponential-minimum ("Gumbel") watermark. With p the sampling distribution (temperature, top-k,
 * top-p applied) and r_v = U(PRF(w), v) a uniform per candidate, keyed on the window w of the h tokens before:
 * <pre>
 *   x_t = argmax_v r_v^(1/p_v)           (= argmax_v ln(r_v) / p_v)
 *   score(x_t) = −ln(1 − r_{x_t})        ~ Exp(1) under H0
 *   S = Σ scores over n tokens           ~ Gamma(n, 1) under H0, p = P(Gamma(n, 1) ≥ S), exact
 * </pre>
 * Over a random key the choice is a draw from p exactly (the Gumbel-max trick), so the text's distribution is
 * unchanged; but given the key it is deterministic: the same prompt gets the same answer, and {@code n} choices of
 * one request are identical. The reported logprobs are the model's own (unbiased) distribution. A greedy request has
 * nothing to hide the watermark in and is answered greedily, unmarked.
 */
public final class Gumbel implements Watermark {
    private static final long SEED = 0x47554d42454c2d53L;
    private static final long TUPLE = 0x47554d42454c2d54L;
    private static final long SEED_TUPLE = 0x47554d42454c2d57L;

    private final WatermarkKey key;
    private final Prf prf;
    private final int h;

    Gumbel(WatermarkKey key) {
        this.key = key;
        this.prf = new Prf(key.secret());
        this.h = key.intParam("context");
        if (h < 1 || h > 64) throw new InvalidInputException("gumbel context must be 1..64 tokens, got " + h);
    }

    /** h = 4, as MarkLLM's EXP scheme. */
    static Map<String, Object> defaults() { return Map.of("context", 4); }

    @Override public WatermarkKey key() { return key; }

    @Override public int contextWidth() { return h; }

    @Override
    public int choose(int[] history, int length, float[] logits, SamplingParams params, SplittableRandom rng) {
        Sampler.Candidates c = Sampler.candidates(logits, params);
        if (c.size() == 1) return c.ids()[0];
        long seed = seed(history, length);
        int best = c.ids()[0];
        double bestKey = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < c.size(); i++) {
            double k = Math.log(Prf.uniform(Prf.bits(seed, c.ids()[i], 0))) / c.probs()[i];
            if (k > bestKey) {
                bestKey = k;
                best = c.ids()[i];
            }
        }
        return best;
    }

    @Override public boolean marks(SamplingParams params) { return !params.isGreedy(); }

    /** r of {@code token} after its window. */
    public double r(int[] history, int length, int token) {
        return Prf.uniform(Prf.bits(seed(history, length), token, 0));
    }

    @Override public double score(int[] history, int length, int token) {
        return -Math.log1p(-r(history, length, token));
    }

    @Override public long tuple(int[] history, int length, int token) {
        return prf.windowAndToken(TUPLE, history, length, h, token);
    }

    @Override public long seedTuple(int[] history, int length, int token) {
        return prf.hash(new long[] {SEED_TUPLE, seed(history, length)}, 2);
    }

    @Override public PValue pValue(double total, long n) {
        return n == 0 ? PValue.ONE : Tails.gammaUpper(n, total);
    }

    @Override public double nullMean() { return 1; }

    @Override public String scoreName() { return "mean -ln(1-r)"; }

    private long seed(int[] history, int length) {
        return prf.seed(SEED, history, Watermark.windowStart(length, h), length);
    }
}
