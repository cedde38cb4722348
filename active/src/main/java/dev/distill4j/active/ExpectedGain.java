package dev.distill4j.active;

import dev.distill4j.core.TokenDistribution;
import dev.distill4j.core.TokenPosition;
import java.util.List;

/**
 * What buying a pool prompt's answer is expected to teach the student per dollar, predicted from the held-out answers
 * the run has already bought ({@code --select gain}).
 *
 * <p>Each held-out prompt h, whose teacher answer y_h cost c_h, tells how far the current student is from the teacher
 * there and what that cost to learn:
 * <pre>
 *   excess_h = max(0, log p_T(y_h | x_h) − log p_S(y_h | x_h))      nats: the one-sample estimate of the sequence-level
 *                                                                  KL(teacher ‖ student) that distillation on y_h lowers
 *   value_h  = excess_h / c_h                                       nats per USD
 *   gain(x)  = (1/K) Σ_{h ∈ K nearest held-out prompts of x} value_h    (cosine of the student's prompt embeddings)
 * </pre>
 * Subtracting the teacher's own log-probability of its answer is what the raw uncertainty scores lack: where the
 * teacher itself is unsure (it guesses a name, a digit), the student cannot match its answer however much it is taught
 * there, and such prompts would otherwise look like the most valuable. Both log-probabilities are of the same text,
 * which does not depend on how either model cuts it into tokens. A teacher that reports no per-token log-probabilities
 * counts as certain of its answer (log p_T = 0): the excess is then the student's whole surprise.
 *
 * <p>Dividing by the cost puts long, cheap answers ahead of long prompts with short answers (a prompt token is cheaper
 * than an answer token but teaches nothing): the budget is what the loop optimises.
 */
public final class ExpectedGain {
    /** Held-out neighbours a pool prompt's gain is averaged over. */
    public static final int NEIGHBOURS = 10;

    private ExpectedGain() {}

    /**
     * One held-out prompt: the student's embedding of it (kept at unit length: only its direction is compared) and
     * what its answer showed.
     */
    public record Reference(String promptId, float[] embedding, double excessNats, double costUsd) {
        public Reference {
            embedding = Selection.normalized(embedding);
        }

        /** Nats of excess divergence per USD; 0 for an answer that cost nothing to hold (nothing to learn from its price). */
        public double value() { return costUsd > 0 ? excessNats / costUsd : 0; }
    }

    /**
     * The excess of one answer: −log p_S(y) as measured by the student minus the teacher's −log p_T(y) from its
     * per-token log-probabilities, floored at 0.
     */
    public static double excess(double studentNats, TokenDistribution teacherTokens) {
        double teacherNats = 0;
        for (TokenPosition pos : teacherTokens.positions()) teacherNats -= pos.chosen().logprob();
        return Math.max(0, studentNats - teacherNats);
    }

    /** gain(x) for one pool prompt's embedding: the mean value of its {@link #NEIGHBOURS} most similar references. */
    public static double predict(float[] embedding, List<Reference> references) {
        return predict(embedding, references, -1);
    }

    /**
     * How well gain(x) predicts: Spearman's ρ between each reference's own value and its prediction from the other
     * references (leave-one-out). Near 0, the embedding says nothing of where the student is behind and a gain draw
     * is about as good as a uniform one; NaN with fewer than {@link #NEIGHBOURS} + 2 references.
     */
    public static double leaveOneOutSpearman(List<Reference> references) {
        int m = references.size();
        if (m < NEIGHBOURS + 2) return Double.NaN;
        double[] actual = new double[m], predicted = new double[m];
        for (int i = 0; i < m; i++) {
            actual[i] = references.get(i).value();
            predicted[i] = predict(references.get(i).embedding(), references, i);
        }
        return Calibration.spearman(predicted, actual);
    }

    /** As {@link #predict(float[], List)}, leaving out reference {@code skip} (−1: none). */
    private static double predict(float[] embedding, List<Reference> references, int skip) {
        if (references.size() <= (skip >= 0 ? 1 : 0)) {
            throw new IllegalArgumentException("no held-out reference to predict from");
        }
        int k = Math.min(NEIGHBOURS, references.size() - (skip >= 0 ? 1 : 0));
        float[] unit = Selection.normalized(embedding);
        double[] sim = new double[references.size()];
        for (int i = 0; i < sim.length; i++) sim[i] = Selection.dot(unit, references.get(i).embedding());
        // the k largest similarities by partial selection; ties go to the earlier reference
        boolean[] taken = new boolean[sim.length];
        if (skip >= 0) taken[skip] = true;
        double sum = 0;
        for (int j = 0; j < k; j++) {
            int best = -1;
            for (int i = 0; i < sim.length; i++) if (!taken[i] && (best < 0 || sim[i] > sim[best])) best = i;
            taken[best] = true;
            sum += references.get(best).value();
        }
        return sum / k;
    }
}
