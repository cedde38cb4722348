package dev.distill4j.train.loss;

import dev.distill4j.model.nn.Scalars;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.GradientCollector;
import java.util.function.UnaryOperator;

/**
 * Computes a per-row loss and its gradient chunk by chunk over the rows, so that only one chunk's [rows × V]
 * tensors (student logits, teacher logits, softmaxes) exist at a time, in the forward pass and in the backward.
 *
 * <p>Summing the chunks' losses and back-propagating once would keep every chunk's graph, and with it every
 * [rows × V] intermediate, alive until the end. Instead the trunk's output h is cut from the graph:
 *
 * <pre>
 *   ĥ = detach(h), a leaf that collects ∂L/∂ĥ
 *   for each chunk c:   L_c = loss(head(ĥ_c)) / P;   backward(L_c)      → ∂L/∂ĥ_c, ∂L/∂head accumulate
 *   backward(Σ h ⊙ ∂L/∂ĥ)                                               → the trunk, once
 * </pre>
 *
 * where P is the step's total count of masked positions. By the chain rule this is exactly the gradient of
 * L = Σ_c L_c; the head runs once per chunk, the trunk once.
 */
public final class ChunkedLoss {
    /**
     * glibc's largest mmap threshold (32 MiB on 64-bit; the launcher sets it): a buffer this big or bigger is a
     * fresh mmap whose pages the kernel zero-fills on first touch, every step; smaller ones are reused from the heap.
     */
    static final long MMAP_THRESHOLD_BYTES = 32L << 20;
    /** Room for the allocator's alignment and header. */
    private static final long ALLOCATOR_SLACK_BYTES = 64L << 10;
    static final int MAX_ROWS = 512;
    static final int MIN_ROWS = 16;

    private ChunkedLoss() {}

    /**
     * The default rows per chunk for a vocabulary of {@code vocab}: as many as keep one chunk's F32 [rows × V]
     * logits under the mmap threshold, within [16, 512]. For llama-25M (V = 16,384) 511 rows instead of 512 took
     * the loss and backward from 1.74–1.78 s to 1.60–1.70 s per step (docs/benchmarks.md, "Training").
     */
    public static int rowsFor(long vocab) {
        long rows = (MMAP_THRESHOLD_BYTES - ALLOCATOR_SLACK_BYTES) / (Float.BYTES * Math.max(1, vocab));
        return (int) Math.max(MIN_ROWS, Math.min(MAX_ROWS, rows));
    }

    /**
     * The loss of rows [from, to): the caller slices its teacher logits or top-k, targets and mask to match. The
     * student logits live in the chunk's own {@link NDManager}, closed after the chunk's backward; create the
     * chunk's teacher tensors there too ({@code studentLogits.getManager()}) so they go with it.
     */
    @FunctionalInterface
    public interface RowLoss {
        LossSum compute(NDArray studentLogits, long from, long to);
    }

    /**
     * Runs forward and backward over the rows in chunks inside {@code collector}.
     *
     * @param collector      the step's (only) gradient collector
     * @param hidden         the trunk's final hidden states, [N, d] or [B, T, d], computed in {@code collector} from
     *                       parameters that require gradients
     * @param head           hidden rows [n, d] → student logits [n, V] (the LM head)
     * @param loss           the loss of one chunk
     * @param totalPositions P, the masked positions of the whole optimizer step (all micro-batches)
     * @param chunkRows      rows per chunk
     * @return the summed losses and counts; {@code sum} is a detached value, the gradients are already applied
     */
    public static LossSum backward(GradientCollector collector, NDArray hidden, UnaryOperator<NDArray> head,
            RowLoss loss, long totalPositions, int chunkRows) {
        if (chunkRows < 1) throw new IllegalArgumentException("chunk size must be at least 1 row, got " + chunkRows);
        long width = hidden.getShape().get(hidden.getShape().dimension() - 1);
        NDArray flat = hidden.reshape(-1, width);
        long rows = flat.getShape().get(0);
        double normaliser = Math.max(1L, totalPositions);
        NDManager manager = hidden.getManager();

        double sum = 0, kdSum = 0, ceSum = 0;
        long positions = 0, kdPositions = 0;
        try (NDManager cut = manager.newSubManager()) {
            NDArray leaf = flat.stopGradient();
            leaf.attach(cut);
            leaf.setRequiresGradient(true);
            for (long from = 0; from < rows; from += chunkRows) {
                long to = Math.min(rows, from + chunkRows);
                try (NDManager scope = cut.newSubManager()) {
                    scope.tempAttachAll(leaf);
                    LossSum chunk = loss.compute(head.apply(leaf.get(new NDIndex("{}:{}", from, to))), from, to);
                    collector.backward(Scalars.div(chunk.sum(), normaliser));
                    sum += Rows.value(chunk.sum());
                    positions += chunk.positions();
                    kdPositions += chunk.kdPositions();
                    kdSum += chunk.kdSum();
                    ceSum += chunk.ceSum();
                }
            }
            // DJL's hasGradient() is false for non-leaf arrays, so the trunk's part of the graph cannot be probed;
            // the hidden states must come from trainable parameters.
            NDArray upstream = leaf.getGradient();
            upstream.attach(cut);
            collector.backward(flat.mul(upstream).sum());
        }
        return new LossSum(manager.create(sum), positions, kdPositions, kdSum, ceSum);
    }
}
