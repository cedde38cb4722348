package dev.distill4j.train.data;

import java.util.Arrays;

/**
 * The teacher's sparse distribution per student position of one example, over the student's vocabulary, for the
 * positions {@code [start, start + length)} of the example's token sequence (the response; the prompt carries no
 * KD signal, so it is not stored).
 *
 * <p>Row {@code r} (example position {@code start + r}) is the teacher's distribution over the token at that
 * position, i.e. the same position convention as {@link TrainingExample#labels()}: the student predicts it from
 * the logits one position earlier. A row is either absent ({@code present[r] == false}: no KD signal there, CE
 * only) or holds up to {@code k} pairs {@code (ids[r*k + j], logprobs[r*k + j])} plus {@code tail[r]}, the
 * teacher's probability mass outside those pairs. Unused slots have id 0 and logprob −∞ (probability 0).
 *
 * @param start    first example position covered
 * @param length   positions covered
 * @param k        slots per position (the most alternatives any covered position has)
 * @param ids      student token ids, {@code length × k}
 * @param logprobs teacher logprobs, {@code length × k}
 * @param tail     {@code 1 − Σ exp(logprob)} per position, {@code length}
 * @param present  whether the position has a KD target, {@code length}
 */
public record KdTargets(int start, int length, int k, int[] ids, float[] logprobs, float[] tail, boolean[] present) {
    public KdTargets {
        if (start < 0 || length < 0 || k < 0) throw new IllegalArgumentException("negative start, length or k");
        if (ids.length != length * k || logprobs.length != length * k || tail.length != length
                || present.length != length) {
            throw new IllegalArgumentException("KD arrays do not match length " + length + " × k " + k);
        }
    }

    /** Empty rows for {@code length} positions from {@code start}, {@code k} slots each, to be filled in. */
    static KdTargets empty(int start, int length, int k) {
        float[] lp = new float[length * k];
        Arrays.fill(lp, Float.NEGATIVE_INFINITY);
        return new KdTargets(start, length, k, new int[length * k], lp, new float[length], new boolean[length]);
    }

    /** Positions with a KD target. */
    public int presentCount() {
        int n = 0;
        for (boolean p : present) if (p) n++;
        return n;
    }

    /** The same targets, covering only example positions below {@code end} (for truncated examples). */
    KdTargets truncate(int end) {
        int keep = Math.max(0, Math.min(length, end - start));
        if (keep == length) return this;
        return new KdTargets(start, keep, k, Arrays.copyOf(ids, keep * k), Arrays.copyOf(logprobs, keep * k),
                Arrays.copyOf(tail, keep), Arrays.copyOf(present, keep));
    }

    @Override public boolean equals(Object o) {
        return o instanceof KdTargets t && t.start == start && t.length == length && t.k == k
                && Arrays.equals(t.ids, ids) && Arrays.equals(t.logprobs, logprobs) && Arrays.equals(t.tail, tail)
                && Arrays.equals(t.present, present);
    }

    @Override public int hashCode() {
        return Arrays.hashCode(new int[] {start, length, k, Arrays.hashCode(ids), Arrays.hashCode(logprobs),
                Arrays.hashCode(tail), Arrays.hashCode(present)});
    }

    @Override public String toString() {
        return "KdTargets[start=" + start + ", length=" + length + ", k=" + k + ", present=" + presentCount() + "]";
    }
}
