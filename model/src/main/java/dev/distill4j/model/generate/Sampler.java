package dev.distill4j.model.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Picks the next token from raw logits: greedy, or temperature → top-k → top-p → draw. */
final class Sampler {
    private Sampler() {}

    static int next(float[] logits, SamplingParams p, SplittableRandom rng) {
        if (p.isGreedy()) return argmax(logits);
        int v = logits.length;
        double[] scaled = new double[v];
        for (int i = 0; i < v; i++) scaled[i] = logits[i] / p.temperature();
        Integer[] order = new Integer[v];
        for (int i = 0; i < v; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> scaled[a] != scaled[b] ? Double.compare(scaled[b], scaled[a]) : Integer.compare(a, b));
        int keep = p.topK() > 0 ? Math.min(p.topK(), v) : v;
        // probabilities of the kept tokens, most likely first
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
        double mass = 0;
        for (int r = 0; r < keep; r++) mass += prob[r];
        double u = rng.nextDouble() * mass;
        for (int r = 0; r < keep; r++) {
            u -= prob[r];
            if (u < 0) return order[r];
        }
        return order[keep - 1];
    }

    static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }
}
