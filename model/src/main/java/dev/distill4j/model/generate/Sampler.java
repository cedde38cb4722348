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
        double[] scaled = new double[v];
        for (int i = 0; i < v; i++) scaled[i] = logits[i] / p.temperature();
        int[] order = byLogitDescending(logits);
        int keep = p.topK() > 0 ? Math.min(p.topK(), v) : v;
        double max = scaled[order[0]];
        double[] prob = new double[keep];
        double sum = 0;
        for (int r = 0; r < keep; r++) sum += prob[r] = Math.exp(scaled[order[r]] - max);
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
        long[] keys = new long[logits.length];
        for (int i = 0; i < logits.length; i++) {
            // + 0f turns −0 into +0: the former comparator saw them equal (== is IEEE equality) and ordered by id
            int bits = Float.floatToIntBits(logits[i] + 0f);
            int sortable = bits ^ ((bits >> 31) & 0x7fffffff);       // ascending int order = ascending float order
            keys[i] = ((long) ~sortable << 32) | i;                    // ~: descending; low half: the id, ascending
        }
        Arrays.sort(keys);
        int[] ids = new int[logits.length];
        for (int i = 0; i < ids.length; i++) ids[i] = (int) keys[i];
        return ids;
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
