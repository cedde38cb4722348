package dev.distill4j.model.generate;

import dev.distill4j.core.TokenLogprob;
import dev.distill4j.core.TokenPosition;
import dev.distill4j.model.engine.Softmax;
import dev.distill4j.model.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;

/** log_softmax of raw logits and the top-n alternatives, as a {@link TokenPosition} a student can learn from. */
final class Logprobs {
    private Logprobs() {}

    /**
     * A row's log-probabilities, read on demand: {@code logit − log Σ exp(logits)}. The normaliser is computed once
     * per row on the engine's kernels ({@link Softmax}); only the chosen token and the top-n alternatives are read,
     * so no array of the whole vocabulary is built per token.
     */
    record Row(float[] logits, double logZ) {
        static Row of(float[] logits) {
            return new Row(logits, Softmax.logSumExp(logits, logits.length));
        }

        double logprob(int id) { return logits[id] - logZ; }
    }

    /** Indices of the n largest values, largest first; ties go to the lower index. */
    static int[] topN(float[] values, int n) {
        n = Math.min(n, values.length);
        if (n <= 0) return new int[0];
        // min-heap of the best n seen: the root is the weakest kept candidate
        PriorityQueue<Integer> heap = new PriorityQueue<>(n, (a, b) -> values[a] != values[b]
                ? Float.compare(values[a], values[b]) : Integer.compare(b, a));
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
    static TokenPosition position(TextTokenizer tok, Row row, int chosen, int n) {
        List<TokenLogprob> alternatives = new ArrayList<>(n);
        // the logits' order is the logprobs' order (one shared normaliser): rank the floats themselves
        for (int id : topN(row.logits(), n)) alternatives.add(token(tok, id, row.logprob(id)));
        return TokenPosition.of(token(tok, chosen, row.logprob(chosen)), alternatives);
    }

    private static TokenLogprob token(TextTokenizer tok, int id, double logprob) {
        return new TokenLogprob(tok.tokenString(id), tok.tokenBytes(id), (float) logprob);
    }
}
