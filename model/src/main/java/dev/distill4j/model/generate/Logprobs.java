package dev.distill4j.model.generate;

import dev.distill4j.core.TokenLogprob;
import dev.distill4j.core.TokenPosition;
import dev.distill4j.model.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;

/** log_softmax of raw logits and the top-n alternatives, as a {@link TokenPosition} a student can learn from. */
final class Logprobs {
    private Logprobs() {}

    /** log_softmax in double: {@code x − max − log Σ exp(x − max)}. */
    static double[] logSoftmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float x : logits) max = Math.max(max, x);
        double sum = 0;
        for (float x : logits) sum += Math.exp(x - max);
        double logZ = max + Math.log(sum);
        double[] out = new double[logits.length];
        for (int i = 0; i < logits.length; i++) out[i] = logits[i] - logZ;
        return out;
    }

    /** Indices of the n largest values, largest first; ties go to the lower index. */
    static int[] topN(double[] values, int n) {
        n = Math.min(n, values.length);
        if (n <= 0) return new int[0];
        // min-heap of the best n seen: the root is the weakest kept candidate
        PriorityQueue<Integer> heap = new PriorityQueue<>(n, (a, b) -> values[a] != values[b]
                ? Double.compare(values[a], values[b]) : Integer.compare(b, a));
        for (int i = 0; i < values.length; i++) {
            if (heap.size() < n) heap.add(i);
            else if (values[i] > values[heap.peek()]) {
                heap.poll();
                heap.add(i);
            }
        }
        int[] out = new int[heap.size()];
        for (int i = out.length - 1; i >= 0; i--) out[i] = heap.poll();
        return out;
    }

    /** The chosen token with its logprob and the top-n alternatives (which include it when it is among them). */
    static TokenPosition position(TextTokenizer tok, double[] logprobs, int chosen, int n) {
        List<TokenLogprob> alternatives = new ArrayList<>(n);
        for (int id : topN(logprobs, n)) alternatives.add(token(tok, id, logprobs[id]));
        return TokenPosition.of(token(tok, chosen, logprobs[chosen]), alternatives);
    }

    private static TokenLogprob token(TextTokenizer tok, int id, double logprob) {
        return new TokenLogprob(tok.tokenString(id), tok.tokenBytes(id), (float) logprob);
    }
}
