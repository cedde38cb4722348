package dev.distill4j.eval;

import java.util.HashMap;
import java.util.Map;

/**
 * chrF (Popović 2015) exactly as sacrebleu computes it with its defaults (character order 6, word order 0, β = 2,
 * whitespace excluded): both strings lose all whitespace; for each n in 1..6 the character n-gram counts of the
 * hypothesis and the reference give {@code hyp_n}, {@code ref_n} and the clipped matches {@code match_n}; precision
 * and recall are averaged over the orders where both sides have n-grams (the "effective order"), and
 *
 * <pre>
 *   chrF = 100 · (1 + β²) · P · R / (β² · P + R)        (0 when P + R = 0)
 * </pre>
 *
 * Characters are Unicode code points, as in Python. A corpus score sums the statistics of all pairs first.
 */
public final class ChrF {
    public static final int ORDER = 6;
    public static final double BETA = 2.0;

    private ChrF() {}

    /** The n-gram counts of one or more pairs: {@code [3·(n−1)] hyp, [+1] ref, [+2] matches} for n = 1..ORDER. */
    public record Stats(long[] counts) {
        public static Stats zero() { return new Stats(new long[3 * ORDER]); }

        public Stats plus(Stats o) {
            long[] sum = counts.clone();
            for (int i = 0; i < sum.length; i++) sum[i] += o.counts[i];
            return new Stats(sum);
        }

        /** The chrF of these statistics, 0..100. */
        public double score() {
            double precision = 0;
            double recall = 0;
            int effective = 0;
            for (int n = 0; n < ORDER; n++) {
                long hyp = counts[3 * n];
                long ref = counts[3 * n + 1];
                long match = counts[3 * n + 2];
                if (hyp > 0 && ref > 0) {
                    precision += (double) match / hyp;
                    recall += (double) match / ref;
                    effective++;
                }
            }
            if (effective == 0) return 0;
            precision /= effective;
            recall /= effective;
            if (precision + recall == 0) return 0;
            double b2 = BETA * BETA;
            return 100 * (1 + b2) * precision * recall / (b2 * precision + recall);
        }
    }

    /** Sentence-level chrF of {@code hypothesis} against {@code reference}, 0..100. */
    public static double score(String hypothesis, String reference) {
        return stats(hypothesis, reference).score();
    }

    public static Stats stats(String hypothesis, String reference) {
        int[] hyp = withoutWhitespace(hypothesis);
        int[] ref = withoutWhitespace(reference);
        long[] counts = new long[3 * ORDER];
        for (int n = 1; n <= ORDER; n++) {
            Map<String, Integer> h = ngrams(hyp, n);
            Map<String, Integer> r = ngrams(ref, n);
            long match = 0;
            for (var e : h.entrySet()) match += Math.min(e.getValue(), r.getOrDefault(e.getKey(), 0));
            counts[3 * (n - 1)] = Math.max(0, hyp.length - n + 1);
            counts[3 * (n - 1) + 1] = Math.max(0, ref.length - n + 1);
            counts[3 * (n - 1) + 2] = match;
        }
        return new Stats(counts);
    }

    /** sacrebleu's {@code re.sub(r'\s+', '', x)}: Python's \s is Unicode whitespace. */
    private static int[] withoutWhitespace(String s) {
        return s.codePoints().filter(c -> !isPythonWhitespace(c)).toArray();
    }

    static boolean isPythonWhitespace(int c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || (c >= 0x1C && c <= 0x1F) || c == 0x85;
    }

    private static Map<String, Integer> ngrams(int[] cps, int n) {
        Map<String, Integer> out = new HashMap<>();
        for (int i = 0; i + n <= cps.length; i++) out.merge(new String(cps, i, n), 1, Integer::sum);
        return out;
    }
}
