package dev.distill4j.eval;

/**
 * The Wilson score interval of a binomial proportion: with {@code k} successes in {@code n} trials, p̂ = k/n and
 * z the standard normal quantile of the confidence level (1.959964 for 95 %),
 *
 * <pre>
 *   centre     = (p̂ + z²/2n) / (1 + z²/n)
 *   half-width = z / (1 + z²/n) · √(p̂(1 − p̂)/n + z²/4n²)
 * </pre>
 *
 * Unlike the normal ("Wald") interval p̂ ± z√(p̂(1−p̂)/n) it stays inside [0, 1] and does not collapse to a point
 * at 0 % or 100 %, which matters for the small per-kind samples of a scorecard (40 prompts at 100 % still leave
 * [91.2 %, 100 %]).
 */
public record Wilson(int successes, int trials, double low, double high) {
    /** z for a two-sided 95 % interval: Φ⁻¹(0.975). */
    public static final double Z95 = 1.959963984540054;

    public static Wilson of(int successes, int trials) {
        if (trials < 0 || successes < 0 || successes > trials) {
            throw new IllegalArgumentException("need 0 ≤ successes ≤ trials, got " + successes + " of " + trials);
        }
        if (trials == 0) return new Wilson(0, 0, 0, 1);
        double n = trials;
        double p = successes / n;
        double z2 = Z95 * Z95;
        double denominator = 1 + z2 / n;
        double centre = (p + z2 / (2 * n)) / denominator;
        double half = Z95 / denominator * Math.sqrt(p * (1 - p) / n + z2 / (4 * n * n));
        return new Wilson(successes, trials, Math.max(0, centre - half), Math.min(1, centre + half));
    }

    /** The point estimate k/n (0 when there were no trials). */
    public double proportion() {
        return trials == 0 ? 0 : (double) successes / trials;
    }
}
