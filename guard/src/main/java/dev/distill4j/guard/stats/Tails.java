package dev.distill4j.guard.stats;

/**
 * Exact tail probabilities of the null distributions of watermark scores, never a normal approximation.
 *
 * <ul>
 *   <li>{@link #binomialUpper}: P(X ≥ k) for X ~ Binomial(n, q) — KGW's green count (q = γ), SynthID's g-value count
 *       (n·m trials, q = ½);</li>
 *   <li>{@link #gammaUpper}: P(S ≥ s) for S ~ Gamma(n, 1), the sum of n Exp(1) scores −ln(1 − r) of the Gumbel
 *       scheme. For integer n it equals P(Poisson(s) ≤ n − 1) = e^{−s} Σ_{j&lt;n} s^j / j!.</li>
 * </ul>
 *
 * <p>Both are sums of probability masses. Each sum starts at its largest term, computed in log space with Loader's
 * saddle-point form (the one R's {@code dbinom}/{@code dpois} use: Stirling's error term and a cancellation-free
 * {@code bd0}), and walks away from the mode with the ratio of successive terms until they stop adding to the sum;
 * the side of the mode a tail lies on decides whether it is summed directly or as 1 − the other tail. Relative
 * accuracy is about 1e-13 however small the tail (checked against exact rational sums in the tests).
 */
public final class Tails {
    private static final double LN_2PI = Math.log(2 * Math.PI);

    private Tails() {}

    /** P(X ≥ k), X ~ Binomial(n, q). */
    public static PValue binomialUpper(long k, long n, double q) {
        if (n < 0) throw new IllegalArgumentException("n must be >= 0, got " + n);
        if (!(q >= 0 && q <= 1)) throw new IllegalArgumentException("q must be in [0, 1], got " + q);
        if (k <= 0) return PValue.ONE;
        if (k > n) return new PValue(Double.NEGATIVE_INFINITY);
        if (q == 0) return new PValue(Double.NEGATIVE_INFINITY);
        if (q == 1) return PValue.ONE;
        double odds = q / (1 - q);
        long mode = (long) Math.floor((n + 1) * q);
        if (k >= mode) {
            // terms fall from k on: t_{j+1}/t_j = (n−j)/(j+1) · q/(1−q)
            double sum = 1, term = 1;
            for (long j = k; j < n; j++) {
                term *= (double) (n - j) / (j + 1) * odds;
                sum += term;
                if (term < 1e-17 * sum) break;
            }
            return new PValue(Math.min(0, logBinomialPmf(k, n, q) + Math.log(sum)));
        }
        // 1 − P(X ≤ k−1); terms fall from k−1 down: t_{j−1}/t_j = j/(n−j+1) · (1−q)/q
        double sum = 1, term = 1;
        for (long j = k - 1; j > 0; j--) {
            term *= (double) j / (n - j + 1) / odds;
            sum += term;
            if (term < 1e-17 * sum) break;
        }
        double lower = Math.exp(logBinomialPmf(k - 1, n, q)) * sum;
        return new PValue(Math.log1p(-Math.min(lower, 1)));
    }

    /** P(S ≥ s), S ~ Gamma(shape n, scale 1), for an integer shape n ≥ 1. */
    public static PValue gammaUpper(long n, double s) {
        if (n < 1) throw new IllegalArgumentException("shape must be >= 1, got " + n);
        if (Double.isNaN(s)) throw new IllegalArgumentException("s is NaN");
        if (s <= 0) return PValue.ONE;
        if (s == Double.POSITIVE_INFINITY) return new PValue(Double.NEGATIVE_INFINITY);
        long mode = (long) Math.floor(s);
        if (n - 1 <= mode) {
            // P(Poisson(s) ≤ n−1): terms fall from n−1 down: t_{j−1}/t_j = j/s
            double sum = 1, term = 1;
            for (long j = n - 1; j > 0; j--) {
                term *= j / s;
                sum += term;
                if (term < 1e-17 * sum) break;
            }
            return new PValue(Math.min(0, logPoissonPmf(n - 1, s) + Math.log(sum)));
        }
        // 1 − P(Poisson(s) ≥ n): terms fall from n up: t_{j+1}/t_j = s/(j+1)
        double sum = 1, term = 1;
        for (long j = n; ; j++) {
            term *= s / (j + 1);
            sum += term;
            if (term < 1e-17 * sum) break;
        }
        double upper = Math.exp(logPoissonPmf(n, s)) * sum;
        return new PValue(Math.log1p(-Math.min(upper, 1)));
    }

    /** ln P(X = k), X ~ Binomial(n, q), by Loader's saddle-point form. */
    public static double logBinomialPmf(long k, long n, double q) {
        if (k < 0 || k > n) return Double.NEGATIVE_INFINITY;
        double p = 1 - q;
        if (q == 0) return k == 0 ? 0 : Double.NEGATIVE_INFINITY;
        if (p == 0) return k == n ? 0 : Double.NEGATIVE_INFINITY;
        if (k == 0) return n == 0 ? 0 : q < 0.1 ? -bd0(n, n * p) - n * q : n * Math.log(p);
        if (k == n) return p < 0.1 ? -bd0(n, n * q) - n * p : n * Math.log(q);
        double lc = stirlerr(n) - stirlerr(k) - stirlerr(n - k) - bd0(k, n * q) - bd0(n - k, n * p);
        double lf = LN_2PI + Math.log(k) + Math.log1p(-(double) k / n);
        return lc - 0.5 * lf;
    }

    /** ln P(X = x), X ~ Poisson(λ), by Loader's saddle-point form. */
    public static double logPoissonPmf(long x, double lambda) {
        if (x < 0) return Double.NEGATIVE_INFINITY;
        if (x == 0) return -lambda;
        return -stirlerr(x) - bd0(x, lambda) - 0.5 * (LN_2PI + Math.log(x));
    }

    /**
     * Stirling's error, ln n! − ((n + ½) ln n − n + ½ ln 2π). Small n from the exactly representable factorials,
     * larger n from the asymptotic series (its next term is below 1e-16 at n = 16).
     */
    static double stirlerr(long n) {
        if (n <= 15) {
            double f = 1;
            for (int i = 2; i <= n; i++) f *= i;     // exact in double up to 22!
            return Math.log(f) - (n + 0.5) * Math.log(n) + n - 0.5 * LN_2PI;
        }
        double nn = (double) n * n;
        final double s0 = 1.0 / 12, s1 = 1.0 / 360, s2 = 1.0 / 1260, s3 = 1.0 / 1680, s4 = 1.0 / 1188;
        return (s0 - (s1 - (s2 - (s3 - s4 / nn) / nn) / nn) / nn) / n;
    }

    /**
     * {@code x ln(x/np) + np − x}, the deviance term, without the cancellation the direct form suffers when x is
     * near np (a series in v = (x − np)/(x + np)).
     */
    static double bd0(double x, double np) {
        if (Math.abs(x - np) < 0.1 * (x + np)) {
            double v = (x - np) / (x + np);
            double s = (x - np) * v;
            double ej = 2 * x * v;
            double v2 = v * v;
            for (int j = 1; j < 1000; j++) {
                ej *= v2;
                double s1 = s + ej / (2 * j + 1);
                if (s1 == s) return s1;
                s = s1;
            }
            return s;
        }
        return x * Math.log(x / np) + np - x;
    }
}
