package dev.distill4j.guard.stats;

import java.util.Locale;

/**
 * A p-value kept as its natural logarithm, so that the tiny values strong evidence gives (10⁻⁵⁰⁰ after a few
 * thousand watermarked tokens) are reported instead of underflowing to 0.
 *
 * @param ln ln p, in [−∞, 0]
 */
public record PValue(double ln) implements Comparable<PValue> {
    public static final PValue ONE = new PValue(0);

    public PValue {
        if (Double.isNaN(ln) || ln > 1e-12) throw new IllegalArgumentException("ln p must be <= 0, got " + ln);
        ln = Math.min(ln, 0);
    }

    public static PValue of(double p) {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("p must be in [0, 1], got " + p);
        return new PValue(Math.log(p));
    }

    /** p itself; 0 when it is below the smallest double (use {@link #log10()} then). */
    public double value() { return Math.exp(ln); }

    public double log10() { return ln / Math.log(10); }

    /** {@code min(1, p · m)}: Bonferroni's correction for the best of {@code m} tests. */
    public PValue times(double m) { return new PValue(Math.min(0, ln + Math.log(m))); }

    @Override public int compareTo(PValue o) { return Double.compare(ln, o.ln); }

    /** "0.42", "3.2e-05", "1.7e-412" (any magnitude), "0" only for an impossible observation. */
    @Override public String toString() {
        if (ln == Double.NEGATIVE_INFINITY) return "0";
        double p = value();
        if (p >= 1e-3) return String.format(Locale.ROOT, "%.3g", p);
        double l10 = log10();
        double exp = Math.floor(l10);
        double mantissa = Math.pow(10, l10 - exp);
        if (mantissa >= 9.95) {         // rounds up to 10.0
            mantissa = 1;
            exp++;
        }
        return String.format(Locale.ROOT, "%.1fe%s%02d", mantissa, exp < 0 ? "-" : "+", (long) Math.abs(exp));
    }
}
