package dev.distill4j.guard.scan;

/**
 * Exact one-sided binomial test of a share, for the harvest features that count requests of one kind
 * ({@code logprobs_share}, {@code cot_elicitation_share}): does an entity that asked for it in k of its n requests
 * ask for it at a rate above p<sub>0</sub>, or could a client whose habit is p<sub>0</sub> (or less) have sent that
 * many by chance?
 *
 * <pre>
 *   p-value = P(X ≥ k),  X ~ Binomial(n, p0)  =  Σ_{i=k..n} C(n, i) p0^i (1 − p0)^(n − i)
 * </pre>
 *
 * Rejecting at level α is the same as the one-sided (1 − α) Clopper–Pearson lower bound of the rate lying above
 * p<sub>0</sub> ({@link #lowerBound}): the tail grows with p<sub>0</sub>, so the bound is the p<sub>0</sub> at which
 * the tail reaches α. Why it matters: a share compared with a fixed threshold fires by chance for a client whose
 * habit sits just below it — a support bot asking for logprobs on a fifth of its requests showed 8 of 26 (0.31) in
 * some windows of the benchmark (docs/benchmarks.md, session 8), where P(X ≥ 8 | 26, 0.3) = 0.54 says that is no
 * evidence at all, while 25 of 25 gives 0.3<sup>25</sup> ≈ 8.5·10<sup>−14</sup>.
 */
public final class Binomial {
    private Binomial() {}

    /**
     * P(X ≥ k) for X ~ Binomial(n, p): exact, summed in log space from the k-th term (terms as small as 1e-300 and
     * below do not underflow the sum's leading terms).
     */
    public static double upperTail(int k, int n, double p) {
        if (n < 0) throw new IllegalArgumentException("n must be >= 0, not " + n);
        if (k <= 0) return 1;
        if (k > n) return 0;
        if (p <= 0) return 0;
        if (p >= 1) return 1;
        double lp = Math.log(p), lq = Math.log1p(-p);
        // log C(n, k) as a sum (n is a request count: thousands at most per entity)
        double logC = 0;
        for (int j = 1; j <= k; j++) logC += Math.log((double) (n - k + j) / j);
        double[] terms = new double[n - k + 1];
        double max = Double.NEGATIVE_INFINITY;
        for (int i = k; i <= n; i++) {
            terms[i - k] = logC + i * lp + (n - i) * lq;
            max = Math.max(max, terms[i - k]);
            logC += Math.log((double) (n - i) / (i + 1)); // C(n, i+1) = C(n, i) (n − i) / (i + 1)
        }
        double s = 0;
        for (double t : terms) s += Math.exp(t - max);
        return Math.min(1, Math.exp(max + Math.log(s)));
    }

    /**
     * The one-sided (1 − α) Clopper–Pearson lower confidence bound of the rate after k successes in n trials: the
     * p at which {@link #upperTail}(k, n, p) = α (0 when k = 0), by bisection to 1e-12.
     */
    public static double lowerBound(int k, int n, double alpha) {
        if (k <= 0) return 0;
        if (k > n) throw new IllegalArgumentException("k = " + k + " > n = " + n);
        double lo = 0, hi = 1;
        while (hi - lo > 1e-12) {
            double mid = (lo + hi) / 2;
            if (upperTail(k, n, mid) > alpha) hi = mid;
            else lo = mid;
        }
        return (lo + hi) / 2;
    }
}
