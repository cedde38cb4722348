package dev.distill4j.guard.detect;

import dev.distill4j.guard.stats.PValue;
import dev.distill4j.guard.watermark.Watermark;
import java.util.Arrays;

/**
 * The scored tokens of one text, in order: for each, its index in the text's token ids and its score. Tokens
 * skipped because their tuple was scored before (or lies in the prompt) are counted in {@code duplicates}.
 *
 * @param positions index of each scored token in the text's ids
 * @param scores    its score under the scheme
 * @param skipped   tokens not scored because their (window, token) tuple had been scored already
 */
public record TokenScores(int[] positions, double[] scores, int skipped) {

    public int scored() { return scores.length; }

    public double total() {
        double s = 0;
        for (double x : scores) s += x;
        return s;
    }

    /** The p-value of all scored tokens together. */
    public PValue pValue(Watermark wm) { return wm.pValue(total(), scored()); }

    /** Accumulates scores as a text is read. */
    static final class Builder {
        private int[] positions = new int[64];
        private double[] scores = new double[64];
        private int n;
        private int skipped;

        void add(int position, double score) {
            if (n == scores.length) {
                positions = Arrays.copyOf(positions, 2 * n);
                scores = Arrays.copyOf(scores, 2 * n);
            }
            positions[n] = position;
            scores[n++] = score;
        }

        void skip() { skipped++; }

        TokenScores build() {
            return new TokenScores(Arrays.copyOf(positions, n), Arrays.copyOf(scores, n), skipped);
        }
    }
}
