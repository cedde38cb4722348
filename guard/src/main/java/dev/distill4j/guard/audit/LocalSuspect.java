package dev.distill4j.guard.audit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.model.local.LocalModel;
import dev.distill4j.model.nn.CausalLM;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A local model folder as the suspect of an open audit: teacher-forced batched forwards, the argmax of the logits
 * at every position.
 *
 * <p>Sequences are sorted by length and packed into batches of at most {@code batchTokens} padded tokens. Padding
 * is on the right, so no mask is needed: under the causal mask a real token never attends to the padding after it,
 * and position ids start at 0 in every row. The LM head runs on chunks of at most {@link #LOGIT_CHUNK_FLOATS}
 * logits, so no [tokens × vocabulary] tensor for a whole batch ever exists; the argmax is taken on the device and
 * only ids come back. Only the tokenizer's ids are candidates (a model whose embedding matrix is padded past the
 * vocabulary never "predicts" a padding row).
 */
public final class LocalSuspect implements NextTokenPredictor {
    /** Logits computed at once: 32 Mi floats = 128 MiB. */
    static final long LOGIT_CHUNK_FLOATS = 32L << 20;

    private final LocalModel model;
    private final int batchTokens;

    /** @param batchTokens most padded tokens per forward (memory grows with it) */
    public LocalSuspect(LocalModel model, int batchTokens) {
        if (batchTokens < 1) throw new InvalidInputException("batch tokens must be >= 1, got " + batchTokens);
        this.model = model;
        this.batchTokens = batchTokens;
    }

    @Override public int maxLength() { return model.contextLength(); }

    @Override
    public int[][] predict(List<int[]> sequences, Progress progress) {
        int n = sequences.size();
        int[][] out = new int[n][];
        List<Integer> order = new ArrayList<>(n);
        for (int i = 0; i < n; i++) order.add(i);
        order.sort(Comparator.comparingInt(i -> sequences.get(i).length));
        CausalLM lm = model.model();
        int usable = Math.min(lm.config().vocabSize(), model.tokenizer().vocabSize());
        int done = 0;
        int from = 0;
        while (from < n) {
            // sorted ascending: the batch's width is its last sequence's length
            int to = from + 1;
            while (to < n && (long) (to - from + 1) * Math.max(1, sequences.get(order.get(to)).length) <= batchTokens) to++;
            List<int[]> batch = new ArrayList<>(to - from);
            for (int k = from; k < to; k++) batch.add(sequences.get(order.get(k)));
            int[][] predicted = predictBatch(lm, batch, usable);
            for (int k = from; k < to; k++) out[order.get(k)] = predicted[k - from];
            done += to - from;
            progress.done(done);
            from = to;
        }
        return out;
    }

    private static int[][] predictBatch(CausalLM lm, List<int[]> batch, int usable) {
        int b = batch.size();
        int width = 0;
        for (int[] s : batch) width = Math.max(width, s.length);
        int[][] out = new int[b][];
        if (width == 0) {
            for (int i = 0; i < b; i++) out[i] = new int[0];
            return out;
        }
        int[] ids = new int[b * width];          // right-padded with id 0; padded positions are never read
        for (int i = 0; i < b; i++) System.arraycopy(batch.get(i), 0, ids, i * width, batch.get(i).length);
        long[] argmax = new long[b * width];
        try (NDManager m = lm.manager().newSubManager()) {
            NDArray hidden = lm.forwardHidden(m.create(ids, new Shape(b, width)), null);   // [B, T, D]
            long d = hidden.getShape().get(2);
            NDArray rows = hidden.reshape(b * (long) width, d);
            int chunk = (int) Math.max(1, Math.min(b * (long) width, LOGIT_CHUNK_FLOATS / lm.config().vocabSize()));
            for (int r = 0; r < b * width; r += chunk) {
                int end = Math.min(b * width, r + chunk);
                try (NDManager c = m.newSubManager()) {
                    NDArray part = rows.get(r + ":" + end);
                    part.attach(c);                     // freed with the chunk, as are its logits
                    NDArray logits = lm.logits(part);                                          // [rows, V]
                    if (usable < lm.config().vocabSize()) logits = logits.get(":, :" + usable);
                    long[] best = logits.argMax(1).toLongArray();
                    System.arraycopy(best, 0, argmax, r, best.length);
                }
            }
        }
        for (int i = 0; i < b; i++) {
            int len = batch.get(i).length;
            out[i] = new int[len];
            for (int t = 0; t < len; t++) out[i][t] = (int) argmax[i * width + t];
        }
        return out;
    }
}
