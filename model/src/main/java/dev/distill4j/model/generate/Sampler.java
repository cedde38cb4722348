package dev.distill4j.model.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Picks the next token from raw logits: greedy, or temperature → top-k → top-p → draw. */
public final class Sampler {
    private Sampler() {}

    /**
     * The tokens sampling may pick and their probabilities, most likely first: softmax(logits / temperature) cut
     * to the top-k, then to the smallest prefix whose mass reaches top-p, renormalised. Greedy parameters give the
     * argmax alone with probability 1.
     *
     * @param ids   token ids, most likely first (ties: lower id first)
     * @param probs their probabilities, summing to 1
     */
    public record Candidates(int[] ids, double[] probs) {
        public int size() { return ids.length; }
    }

    public static Candidates candidates(float[] logits, SamplingParams p) {
        if (p.isGreedy()) return new Candidates(new int[] {argmax(logits)}, new double[] {1});
        int v = logits.length;
        int keep = p.topK() > 0 ? Math.min(p.topK(), v) : v;
        // with top-k only the k best are ordered: a selection, then a sort of k keys, instead of sorting all v
        int[] order = topByLogit(logits, keep);
        // logits scaled by the temperature only where needed: the same double division per kept token
        double t = p.temperature();
        double max = logits[order[0]] / t;
        double[] prob = new double[keep];
        double sum = 0;
        for (int r = 0; r < keep; r++) sum += prob[r] = Math.exp(logits[order[r]] / t - max);
        for (int r = 0; r < keep; r++) prob[r] /= sum;
        if (p.topP() < 1) {
            // smallest prefix whose mass reaches top_p (always at least one token)
            double cum = 0;
            int r = 0;
            while (r < keep) {
                cum += prob[r++];
                if (cum >= p.topP()) break;
            }
            keep = r;
        }
        int[] ids = new int[keep];
        double mass = 0;
        for (int r = 0; r < keep; r++) {
            ids[r] = order[r];
            mass += prob[r];
        }
        double[] probs = Arrays.copyOf(prob, keep);
        for (int r = 0; r < keep; r++) probs[r] /= mass;
        return new Candidates(ids, probs);
    }

    /**
     * Token ids, largest logit first, ties by lower id: one sort of primitive keys {@code (−logit, id)} packed in a
     * long, several times faster than sorting boxed ids with a comparator (a 49k vocabulary is sorted once per
     * sampled token). Dividing by a positive temperature keeps this order (IEEE division rounds monotonically, and
     * two distinct floats stay distinct in double), so it is the order of the scaled logits too.
     */
    static int[] byLogitDescending(float[] logits) {
        return topByLogit(logits, logits.length);
    }

    /**
     * The first {@code k} ids of {@link #byLogitDescending}'s order. For k below the vocabulary the k smallest keys
     * are selected first (quickselect, linear on average) and only they are sorted: top-k sampling over a 49k
     * vocabulary sorts 40 keys, not 49k. The keys are distinct (the id is part of each), so the order is the same
     * total order either way.
     */
    static int[] topByLogit(float[] logits, int k) {
        long[] keys = new long[logits.length];
        for (int i = 0; i < logits.length; i++) {
            // + 0f turns −0 into +0: the former comparator saw them equal (== is IEEE equality) and ordered by id
            int bits = Float.floatToIntBits(logits[i] + 0f);
            int sortable = bits ^ ((bits >> 31) & 0x7fffffff);       // ascending int order = ascending float order
            keys[i] = ((long) ~sortable << 32) | i;                    // ~: descending; low half: the id, ascending
        }
        if (k < keys.length) selectSmallest(keys, k);
        Arrays.sort(keys, 0, k);
        int[] ids = new int[k];
        for (int i = 0; i < k; i++) ids[i] = (int) keys[i];
        return ids;
    }

    /**
     * Moves the {@code k} smallest of the distinct keys into {@code a[0, k)}, in no particular order: Hoare
     * partitions around a median of three, narrowing to the side that holds index k − 1. After 64 rounds (an
     * adversarial order) the rest of the range is simply sorted.
     */
    private static void selectSmallest(long[] a, int k) {
        int lo = 0, hi = a.length - 1;
        for (int round = 0; hi > lo; round++) {
            if (round == 64) {
                Arrays.sort(a, lo, hi + 1);
                return;
            }
            int mid = (lo + hi) >>> 1;
            long x = a[lo], y = a[mid], z = a[hi];
            long pivot = Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
            int i = lo, j = hi;
            while (i <= j) {
                while (a[i] < pivot) i++;
                while (a[j] > pivot) j--;
                if (i <= j) {
                    long t = a[i];
                    a[i++] = a[j];
                    a[j--] = t;
                }
            }
            // now a[lo, j] ≤ pivot ≤ a[i, hi], and a[j + 1, i) equals the pivot
            if (k - 1 <= j) hi = j;
            else if (k - 1 >= i) lo = i;
            else return;
        }
    }

    /** A draw from {@link #candidates}. */
    public static int next(float[] logits, SamplingParams p, SplittableRandom rng) {
        return draw(candidates(logits, p), rng);
    }

    /** Inverse-CDF draw: one uniform, walking the candidates most likely first. */
    public static int draw(Candidates c, SplittableRandom rng) {
        if (c.size() == 1) return c.ids()[0];
        double u = rng.nextDouble();
        for (int r = 0; r < c.size(); r++) {
            u -= c.probs()[r];
            if (u < 0) return c.ids()[r];
        }
        return c.ids()[c.size() - 1];
    }

    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }
}
