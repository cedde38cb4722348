package dev.distill4j.active;

import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which uncertainty score predicts where the student is furthest from the teacher, learned from a pilot round of
 * uniformly drawn prompts whose teacher answers were bought: for each score, the Spearman rank correlation ρ between
 * the student's score of a prompt (taken before the purchase) and its divergence on the teacher's answer,
 * {@code D = −(1/T) Σ_t log p_student(y_t | prompt, y_<t)} (the student's cross-entropy on the teacher's T answer
 * tokens: what distillation on that answer lowers). The score with the highest ρ is chosen; a tie goes to the
 * earlier of {@link ScoreKind#measurable}.
 *
 * <p>ρ is Pearson's correlation of the ranks, ties given their mean rank. NaN scores (disagreement without several
 * student samples) take no part.
 */
public final class Calibration {
    private Calibration() {}

    /** The correlations per score and the chosen score. */
    public record Result(Map<ScoreKind, Double> spearman, ScoreKind chosen, int prompts) {}

    /**
     * @param pilot      the pilot prompts' candidates, scored before their answers were bought
     * @param divergence D per prompt id, for the prompts whose answers came
     */
    public static Result choose(List<Candidate> pilot, Map<String, Double> divergence, List<ScoreKind> kinds) {
        List<Candidate> used = pilot.stream().filter(c -> divergence.containsKey(c.promptId())).toList();
        double[] d = used.stream().mapToDouble(c -> divergence.get(c.promptId())).toArray();
        Map<ScoreKind, Double> rho = new LinkedHashMap<>();
        ScoreKind best = kinds.getFirst();
        double bestRho = Double.NEGATIVE_INFINITY;
        for (ScoreKind k : kinds) {
            double[] s = used.stream().mapToDouble(c -> c.score(k)).toArray();
            double r = spearman(s, d);
            rho.put(k, r);
            if (!Double.isNaN(r) && r > bestRho) {
                bestRho = r;
                best = k;
            }
        }
        return new Result(rho, best, used.size());
    }

    /** Spearman's ρ of two equally long samples; NaN with fewer than 3 pairs, a NaN value, or a constant sample. */
    public static double spearman(double[] x, double[] y) {
        if (x.length != y.length) throw new IllegalArgumentException("samples of unequal length");
        if (x.length < 3) return Double.NaN;
        for (int i = 0; i < x.length; i++) if (Double.isNaN(x[i]) || Double.isNaN(y[i])) return Double.NaN;
        return pearson(ranks(x), ranks(y));
    }

    /** 1-based ranks, ties at their mean rank. */
    static double[] ranks(double[] v) {
        Integer[] order = new Integer[v.length];
        for (int i = 0; i < v.length; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingDouble(i -> v[i]));
        double[] r = new double[v.length];
        int i = 0;
        while (i < v.length) {
            int j = i;
            while (j + 1 < v.length && v[order[j + 1]] == v[order[i]]) j++;
            double mean = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) r[order[k]] = mean;
            i = j + 1;
        }
        return r;
    }

    static double pearson(double[] x, double[] y) {
        double mx = Arrays.stream(x).average().orElse(0), my = Arrays.stream(y).average().orElse(0);
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.length; i++) {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }
        if (sxx == 0 || syy == 0) return Double.NaN;
        return sxy / Math.sqrt(sxx * syy);
    }

}
