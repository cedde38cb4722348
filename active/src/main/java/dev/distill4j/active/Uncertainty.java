package dev.distill4j.active;

import dev.distill4j.core.TokenDistribution;
import dev.distill4j.core.TokenLogprob;
import dev.distill4j.core.TokenPosition;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How unsure the student is of its own answer to a prompt, from the top-n alternatives it reports at each token it
 * generated (greedily), averaged over the answer's T tokens. With p₁ ≥ p₂ ≥ … the top-n probabilities at a position
 * and r = 1 − Σ pᵢ the mass outside them:
 * <pre>
 *   entropy           H = (1/T) Σ_t [ −Σ_i p_i log p_i − r log r ]     (the tail counted as one bucket: a lower bound
 *                                                                      on the true entropy, exact when r = 0)
 *   margin            M = (1/T) Σ_t (1 − (p₁ − p₂))                    (1 − the gap between the two best tokens)
 *   least confidence  L = (1/T) Σ_t (1 − p₁)
 * </pre>
 * All three are 0 for a student that is certain of every token and grow with doubt; they differ in what they weigh
 * (the whole spread, the runner-up, the winner alone: Settles, "Active Learning Literature Survey", 2009, §3.1).
 * The mean over tokens, not the sum, keeps long answers from winning by length alone.
 *
 * <p>{@link #disagreement} is the query-by-committee score over several sampled answers of the same student.
 */
public final class Uncertainty {
    private Uncertainty() {}

    /** The three per-token scores of one generated answer; all 0 for an empty answer. */
    public record Scores(double entropy, double margin, double leastConfidence, int tokens) {}

    public static Scores of(TokenDistribution answer) {
        int t = answer.size();
        if (t == 0) return new Scores(0, 0, 0, 0);
        double h = 0, m = 0, l = 0;
        for (TokenPosition pos : answer.positions()) {
            double p1 = 0, p2 = 0, mass = 0, ent = 0;
            List<TokenLogprob> alts = pos.alternatives();
            if (alts.isEmpty()) alts = List.of(pos.chosen());
            for (TokenLogprob a : alts) {
                double p = Math.exp(a.logprob());
                mass += p;
                if (p > 0) ent -= p * a.logprob();
                if (p > p1) {
                    p2 = p1;
                    p1 = p;
                } else if (p > p2) {
                    p2 = p;
                }
            }
            double r = Math.max(0, 1 - mass);
            if (r > 0) ent -= r * Math.log(r);
            h += ent;
            m += 1 - (p1 - p2);
            l += 1 - p1;
        }
        return new Scores(h / t, m / t, l / t, t);
    }

    /**
     * Vote entropy's simplest form over K sampled answers: 1 − (count of the most frequent answer) / K. 0 when all K
     * agree, (K − 1)/K when all differ. Answers are compared after trimming surrounding white space.
     */
    public static double disagreement(List<String> answers) {
        if (answers.isEmpty()) return 0;
        Map<String, Integer> counts = new HashMap<>();
        int best = 0;
        for (String a : answers) best = Math.max(best, counts.merge(a.strip(), 1, Integer::sum));
        return 1.0 - (double) best / answers.size();
    }
}
