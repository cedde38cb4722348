package dev.distill4j.eval;

import java.util.Arrays;
import java.util.regex.Pattern;

/**
 * ROUGE-L F1 on whitespace tokens (Lin 2004, sentence level; tokens are split on runs of Unicode whitespace):
 * with L the length of the longest common subsequence of the hypothesis' and the reference's tokens, {@code P = L / |hyp|}, {@code R = L / |ref|},
 * {@code F1 = 2PR / (P + R)}. Tokens are compared exactly (no case folding, no stemming); two empty texts score 1,
 * one empty text 0.
 */
public final class RougeL {
    private static final Pattern WHITESPACE = Pattern.compile("(?U)\\s+");

    private RougeL() {}

    public static double f1(String hypothesis, String reference) {
        String[] h = tokens(hypothesis);
        String[] r = tokens(reference);
        if (h.length == 0 && r.length == 0) return 1;
        if (h.length == 0 || r.length == 0) return 0;
        int lcs = lcs(h, r);
        if (lcs == 0) return 0;
        double p = (double) lcs / h.length;
        double rec = (double) lcs / r.length;
        return 2 * p * rec / (p + rec);
    }

    /** Tokens between runs of Unicode whitespace. */
    static String[] tokens(String s) {
        return Arrays.stream(WHITESPACE.split(s)).filter(t -> !t.isEmpty()).toArray(String[]::new);
    }

    /** Length of the longest common subsequence, in O(|a|·|b|) time and O(|b|) memory. */
    static int lcs(String[] a, String[] b) {
        int[] prev = new int[b.length + 1];
        int[] cur = new int[b.length + 1];
        for (String x : a) {
            for (int j = 1; j <= b.length; j++) {
                cur[j] = x.equals(b[j - 1]) ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length];
    }
}
