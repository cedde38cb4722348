package dev.distill4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import dev.distill4j.model.nn.CausalLM;
import dev.distill4j.train.data.Batch;
import dev.distill4j.train.data.TrainingExample;
import dev.distill4j.train.loss.TopKTeacher;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The positions of a batch whose next token is learned, and what they learn. Position i of row b is kept when
 * {@code labels[b, i + 1] != IGNORE}; it becomes row {@code b·T + i} of the flattened [B·T, D] hidden states, and
 * predicts {@code labels[b, i + 1]} with the teacher's recorded top-k at position i + 1 as its soft target. Only
 * these N rows ever reach the LM head, so prompt and padding positions cost no [·, V] logits.
 *
 * @param rows     [N] row indices into the flattened [B·T, D] hidden states
 * @param targets  [N] the token each row predicts
 * @param topK     the recorded teacher top-k per row ([N, k] ids and logprobs, -1 / -∞ where absent); null when the
 *                 loss is not top-k and the batch carries none
 */
record LearnedRows(long[] rows, long[] targets, TopKTeacher topK) {
    /** N, the learned positions. */
    int size() { return rows.length; }

    /** The learned rows of {@code b}; the top-k teacher is kept for {@link LossMode#TOPK} or when the batch has one. */
    static LearnedRows of(Batch b, LossMode mode) {
        int t = b.seqLen();
        int k = Math.max(1, b.kdK());
        List<Long> rowList = new ArrayList<>();
        for (int row = 0; row < b.size(); row++) {
            for (int i = 0; i + 1 < t; i++) {
                if (b.labels()[row * t + i + 1] != TrainingExample.IGNORE) rowList.add((long) row * t + i);
            }
        }
        int n = rowList.size();
        long[] rows = new long[n];
        long[] targets = new long[n];
        long[] ids = new long[n * k];
        float[] logprobs = new float[n * k];
        Arrays.fill(ids, -1);
        Arrays.fill(logprobs, Float.NEGATIVE_INFINITY);
        for (int r = 0; r < n; r++) {
            rows[r] = rowList.get(r);
            int next = (int) rows[r] + 1;   // the position whose token (and teacher distribution) row r predicts
            targets[r] = b.labels()[next];
            if (b.kdK() > 0 && b.kdPresent()[next]) {
                for (int j = 0; j < b.kdK(); j++) {
                    float lp = b.kdLogprobs()[next * b.kdK() + j];
                    if (lp != Float.NEGATIVE_INFINITY) {
                        ids[r * k + j] = b.kdIds()[next * b.kdK() + j];
                        logprobs[r * k + j] = lp;
                    }
                }
            }
        }
        TopKTeacher teacher = mode == LossMode.TOPK || b.kdK() > 0 ? TopKTeacher.of(k, ids, logprobs) : null;
        return new LearnedRows(rows, targets, teacher);
    }

    /** N of {@link #of} without building the rows: the learned positions of {@code b}. */
    static long count(Batch b) {
        long n = 0;
        int t = b.seqLen();
        for (int row = 0; row < b.size(); row++) {
            for (int i = 1; i < t; i++) if (b.labels()[row * t + i] != TrainingExample.IGNORE) n++;
        }
        return n;
    }

    /** {@code model}'s hidden states [N, D] at these rows, for ids and attention [B, T], in the ids' manager. */
    NDArray hidden(CausalLM model, NDArray ids, NDArray attention) {
        NDArray hidden = model.forwardHidden(ids, attention);
        long width = hidden.getShape().get(2);
        NDArray index = ids.getManager().create(rows);
        return hidden.reshape(-1, width).get(new NDIndex("{}", index));
    }
}
