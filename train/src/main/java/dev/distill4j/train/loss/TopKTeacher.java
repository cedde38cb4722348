package dev.distill4j.train.loss;

import java.util.Arrays;

/**
 * What a {@code TOP_K} teacher said about N positions, already mapped into the student's vocabulary: at each
 * position k token ids with the teacher's log-probabilities. Row-major, position i owns entries [i·k, (i+1)·k).
 *
 * <p>An id of −1 marks an unused entry: a row with fewer than k student tokens, or an entry the caller could not
 * give a student token. Whatever probability the listed ids do not hold is the tail bucket,
 * {@code tail = 1 − Σ_{valid i} exp(logprob_i)}: the teacher's mass outside its top-k, and the mass of teacher
 * alternatives with no student token. {@code TokenAligner} leaves those alternatives out of a row rather than
 * listing them as −1, which comes to the same tail; it also turns the teacher's tokens into student-token
 * probabilities where the tokenizers differ (docs/losses.md, "Top-k targets across tokenizers").
 *
 * <p>Two teacher tokens that map to the same student id are one student outcome, so the factory merges them into
 * one entry with the summed probability; the loss relies on ids being distinct within a row.
 *
 * @param positions N
 * @param k         entries per position
 * @param ids       N·k student token ids, −1 for none; distinct within a row
 * @param logprobs  N·k teacher log-probabilities (natural log); ignored where the id is −1
 */
public record TopKTeacher(int positions, int k, long[] ids, float[] logprobs) {

    public TopKTeacher {
        if (k < 1) throw new IllegalArgumentException("k must be at least 1, got " + k);
        if (ids.length != (long) positions * k || logprobs.length != ids.length) {
            throw new IllegalArgumentException("a top-k teacher for " + positions + " positions with k = " + k
                    + " needs " + (long) positions * k + " ids and logprobs, got " + ids.length + " and "
                    + logprobs.length);
        }
        for (long id : ids) {
            if (id < -1) throw new IllegalArgumentException("token id " + id + " is invalid; use -1 for 'no token'");
        }
    }

    /**
     * Builds the teacher input, merging repeated ids within a position: their probabilities add, so their
     * log-probabilities combine as log(e^a + e^b); the repeat becomes −1.
     */
    public static TopKTeacher of(int k, long[] ids, float[] logprobs) {
        long[] mergedIds = ids.clone();
        float[] mergedLogprobs = logprobs.clone();
        int positions = k < 1 ? 0 : ids.length / k;
        for (int row = 0; row < positions; row++) {
            int from = row * k;
            for (int a = from; a < from + k; a++) {
                if (mergedIds[a] < 0) continue;
                for (int b = a + 1; b < from + k; b++) {
                    if (mergedIds[b] != mergedIds[a]) continue;
                    double hi = Math.max(mergedLogprobs[a], mergedLogprobs[b]);
                    double lo = Math.min(mergedLogprobs[a], mergedLogprobs[b]);
                    mergedLogprobs[a] = (float) (hi + Math.log1p(Math.exp(lo - hi)));
                    mergedIds[b] = -1;
                }
            }
        }
        return new TopKTeacher(positions, k, mergedIds, mergedLogprobs);
    }

    /** Positions [from, to) as their own teacher input, for a loss computed chunk by chunk. */
    public TopKTeacher rows(int from, int to) {
        if (from < 0 || to > positions || from > to) {
            throw new IndexOutOfBoundsException("rows [" + from + ", " + to + ") of " + positions + " positions");
        }
        return new TopKTeacher(to - from, k, Arrays.copyOfRange(ids, from * k, to * k),
                Arrays.copyOfRange(logprobs, from * k, to * k));
    }

    /** True at positions where at least one id is a student token, i.e. where there is a distribution to match. */
    public boolean[] hasSignal() {
        boolean[] signal = new boolean[positions];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] >= 0) signal[i / k] = true;
        }
        return signal;
    }

    /**
     * The teacher distribution over k + 1 buckets (the k entries, then the tail) re-tempered at temperature T,
     * row-major [N, k + 1]; entries with id −1 get 0.
     *
     * <pre>
     *   p_i    = exp(logprob_i)                      for valid ids
     *   p_tail = max(0, 1 − Σ_i p_i)                 computed as −expm1(lp_max) − Σ_{others} p_i
     *   q_b    = p_b^(1/T) / Σ_b' p_b'^(1/T)         over the k + 1 buckets
     * </pre>
     *
     * At T = 1 this is the teacher's bucket distribution exactly (the renormalisation only matters when rounded
     * logprobs sum past 1). At T ≠ 1 it is an approximation: tempering the real teacher distribution would raise
     * each tail token to 1/T separately, but only their sum is known, so the tail is tempered as one outcome.
     */
    public double[] bucketProbabilities(double temperature) {
        int buckets = k + 1;
        double[] q = new double[positions * buckets];
        for (int row = 0; row < positions; row++) {
            int from = row * k;
            int best = -1;
            for (int i = from; i < from + k; i++) {
                if (ids[i] >= 0 && (best < 0 || logprobs[i] > logprobs[best])) best = i;
            }
            double tail = 1.0;
            if (best >= 0) {
                // 1 − e^lp loses all its digits when lp → 0; −expm1(lp) keeps them.
                tail = -Math.expm1(logprobs[best]);
                for (int i = from; i < from + k; i++) {
                    if (ids[i] >= 0 && i != best) tail -= Math.exp(logprobs[i]);
                }
            }
            tail = Math.max(0.0, tail);
            double norm = 0.0;
            for (int i = 0; i < k; i++) {
                int e = from + i;
                double w = ids[e] >= 0 ? Math.exp(logprobs[e] / temperature) : 0.0;
                q[row * buckets + i] = w;
                norm += w;
            }
            double tailWeight = tail > 0 ? Math.exp(Math.log(tail) / temperature) : 0.0;
            q[row * buckets + k] = tailWeight;
            norm += tailWeight;
            for (int b = 0; b < buckets; b++) q[row * buckets + b] /= norm;
        }
        return q;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TopKTeacher t && positions == t.positions && k == t.k && Arrays.equals(ids, t.ids)
                && Arrays.equals(logprobs, t.logprobs);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * positions + k) + 31 * Arrays.hashCode(ids) + Arrays.hashCode(logprobs);
    }

    @Override
    public String toString() {
        return "TopKTeacher[positions=" + positions + ", k=" + k + "]";
    }
}
