package dev.distill4j.guard.bench;

import dev.distill4j.guard.stats.Tails;
import dev.distill4j.guard.watermark.Gumbel;
import dev.distill4j.guard.watermark.Kgw;
import dev.distill4j.guard.watermark.SynthId;
import dev.distill4j.guard.watermark.Watermark;
import java.util.Arrays;
import java.util.Locale;

/**
 * The statistics of the calibration benchmark: empirical false-positive rates with exact (Clopper–Pearson) 95 %
 * intervals, the Kolmogorov–Smirnov test of p-values against U(0, 1), and randomized p-values.
 *
 * <p>Why randomized p-values: KGW and SynthID count successes, so their exact p-value P(X ≥ k) takes only the
 * values of a discrete tail; under H0, P(p ≤ u) ≤ u with equality only at those values (the test is conservative),
 * and the empirical CDF of the p-values is a staircase below the diagonal, which a KS test on 10⁵ p-values
 * rejects although nothing is wrong. Splitting the atom at k with an independent U ~ U(0, 1),
 * <pre>   p̃ = P(X &gt; k) + U · P(X = k)</pre>
 * is exactly U(0, 1) under H0 (the probability integral transform of a discrete variable, Brockwell 2007), so
 * a KS rejection of p̃ would mean a real miscalibration. The detector reports the exact p, never p̃.
 */
final class NullStats {
    private NullStats() {}

    /** p̃ for a scheme's score total over n scored tokens; Gumbel's p is continuous and returned as it is. */
    static double randomized(Watermark wm, double total, long n, double u) {
        long k = Math.round(total);
        long trials;
        double q;
        switch (wm) {
            case Kgw kgw -> {
                trials = n;
                q = kgw.gamma();
            }
            case SynthId s -> {
                trials = n * s.layers();
                q = 0.5;
            }
            case Gumbel g -> {
                return n == 0 ? u : wm.pValue(total, n).value();
            }
        }
        if (trials == 0) return u;
        double above = Tails.binomialUpper(k + 1, trials, q).value();
        double atK = Math.exp(Tails.logBinomialPmf(k, trials, q));
        return Math.min(1, above + u * atK);
    }

    /** The 95 % Clopper–Pearson interval of a binomial proportion k/n, by bisection on the exact tails. */
    static double[] clopperPearson(long k, long n) {
        double lo = k == 0 ? 0 : bisect(q -> Tails.binomialUpper(k, n, q).value() - 0.025, true);
        double hi = k == n ? 1 : bisect(q -> 1 - Tails.binomialUpper(k + 1, n, q).value() - 0.025, false);
        return new double[] {lo, hi};
    }

    /** Root in (0, 1) of f, increasing in q when {@code increasing}. */
    private static double bisect(java.util.function.DoubleUnaryOperator f, boolean increasing) {
        double a = 0, b = 1;
        for (int i = 0; i < 200; i++) {
            double m = 0.5 * (a + b);
            double v = f.applyAsDouble(m);
            if ((v < 0) == increasing) a = m;
            else b = m;
            if (b - a < 1e-15 * Math.max(m, 1e-300) || b - a < 1e-300) break;
        }
        return 0.5 * (a + b);
    }

    /** KS statistic D = sup |F_n(u) − u| of the sample against U(0, 1), and its asymptotic p-value. */
    record Ks(double d, double pValue) {}

    static Ks ks(double[] p) {
        double[] s = p.clone();
        Arrays.sort(s);
        int n = s.length;
        double d = 0;
        for (int i = 0; i < n; i++) {
            d = Math.max(d, Math.max((i + 1.0) / n - s[i], s[i] - (double) i / n));
        }
        double sq = Math.sqrt(n);
        return new Ks(d, kolmogorovQ((sq + 0.12 + 0.11 / sq) * d));   // Stephens' small-sample correction
    }

    /** Q(λ) = 2 Σ_{j≥1} (−1)^{j−1} e^{−2 j² λ²}, the Kolmogorov distribution's upper tail. */
    static double kolmogorovQ(double lambda) {
        if (lambda < 0.2) return 1;
        double sum = 0;
        for (int j = 1; j <= 200; j++) {
            double term = Math.exp(-2.0 * j * j * lambda * lambda);
            sum += (j % 2 == 1 ? term : -term);
            if (term < 1e-17) break;
        }
        return Math.max(0, Math.min(1, 2 * sum));
    }

    /** One line per α: rejections, FPR and its interval. */
    static String fprLine(double[] p, double alpha) {
        long k = Arrays.stream(p).filter(x -> x <= alpha).count();
        double[] ci = clopperPearson(k, p.length);
        return String.format(Locale.ROOT, "α=%.0e: %d/%d = %.2e [%.2e, %.2e]%s", alpha, k, p.length,
                (double) k / p.length, ci[0], ci[1], ci[0] > alpha ? "  ** above α **" : "");
    }
}
