package dev.distill4j.guard.detect;

import dev.distill4j.guard.stats.PValue;
import dev.distill4j.guard.watermark.Watermark;

/**
 * Finds a watermarked passage inside unwatermarked text, after WinMax (Kirchenbauer et al. 2023b): among all windows
 * of consecutive scored tokens of at least {@code minWindow}, the one whose own p-value is smallest.
 *
 * <p>For a fixed window length the p-value falls as the window's score sum rises, so one sliding pass per length
 * finds that length's best window and one tail is computed per length. Taking the best of many windows is
 * multiple testing, so the reported p-value is Bonferroni-corrected by the number of windows compared (all
 * positions of every length tried): conservative, but a valid p-value, unlike the uncorrected minimum. Lengths go
 * in steps of ⌈n/2000⌉ so long texts stay O(n · 2000).
 */
public final class Localizer {
    private Localizer() {}

    /**
     * @param from      first scored token of the passage (index into the scores)
     * @param to        one past its last
     * @param pValue    the passage's own p-value, as if it had been chosen in advance
     * @param corrected {@code pValue} times the number of windows compared: the p-value to act on
     */
    public record Passage(int from, int to, double meanScore, PValue pValue, PValue corrected, long windowsCompared) {}

    /** The best window, or null when there are fewer than {@code minWindow} scored tokens. */
    public static Passage best(double[] scores, Watermark wm, int minWindow) {
        int n = scores.length;
        if (minWindow < 1) throw new IllegalArgumentException("minimum window must be >= 1, got " + minWindow);
        if (n < minWindow) return null;
        double[] prefix = new double[n + 1];
        for (int i = 0; i < n; i++) prefix[i + 1] = prefix[i] + scores[i];
        int step = Math.max(1, (n + 1999) / 2000);
        long compared = 0;
        Passage best = null;
        for (int len = minWindow; len <= n; len += step) {
            int bestStart = 0;
            double bestSum = Double.NEGATIVE_INFINITY;
            for (int s = 0; s + len <= n; s++) {
                double sum = prefix[s + len] - prefix[s];
                if (sum > bestSum + 1e-9) {
                    bestSum = sum;
                    bestStart = s;
                }
            }
            compared += n - len + 1;
            PValue p = wm.pValue(bestSum, len);
            if (best == null || p.compareTo(best.pValue()) < 0) {
                best = new Passage(bestStart, bestStart + len, bestSum / len, p, p, 0);
            }
        }
        return new Passage(best.from(), best.to(), best.meanScore(), best.pValue(), best.pValue().times(compared),
                compared);
    }
}
