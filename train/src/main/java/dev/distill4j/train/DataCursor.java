package dev.distill4j.train;

import dev.distill4j.train.data.Batch;
import dev.distill4j.train.data.Batcher;
import java.util.ArrayList;
import java.util.List;

/**
 * The position in the stream of micro-batches: the epoch, and the next batch within it. Epoch e's batch order is
 * {@code batcher.plan(seed, e)}, a function of the seed and the epoch alone, so a cursor rebuilt from a checkpoint's
 * (epoch, batch) yields the same batches an uninterrupted run would have taken next.
 *
 * <p>Without {@code --max-steps} the stream ends after {@code --epochs}; with it the data cycles through further
 * epochs until the trainer stops taking.
 */
final class DataCursor {
    private final Batcher batcher;
    private final long seed;
    private final int epochs;
    private final boolean cycles;
    private int epoch;
    private int batch;
    private List<int[]> plan;   // epoch's batches: example indices per batch
    private boolean exhausted;

    /**
     * @param epochs  --epochs, the stream's length when it does not cycle
     * @param cycles  --max-steps was given: the data cycles instead of ending after {@code epochs}
     */
    DataCursor(Batcher batcher, long seed, int epochs, boolean cycles, int epoch, int batch) {
        this.batcher = batcher;
        this.seed = seed;
        this.epochs = epochs;
        this.cycles = cycles;
        this.epoch = epoch;
        this.plan = batcher.plan(seed, epoch);
        if (batch < 0 || batch > plan.size()) {
            throw new IllegalArgumentException("batch " + batch + " is outside epoch " + epoch + " ("
                    + plan.size() + " batches): the checkpoint was made with other data or --batch-tokens");
        }
        this.batch = batch;
        advanceEpoch();
    }

    /** Moves past a finished epoch; with --max-steps the data cycles, otherwise it ends after --epochs. */
    private void advanceEpoch() {
        if (batch < plan.size()) return;
        if (!cycles && epoch + 1 >= epochs) {
            exhausted = true;
            return;
        }
        epoch++;
        batch = 0;
        plan = batcher.plan(seed, epoch);
    }

    /** The next {@code n} micro-batches, fewer (or none) where the stream ends. */
    List<Batch> take(int n) {
        List<Batch> out = new ArrayList<>(n);
        while (out.size() < n && !exhausted) {
            out.add(batcher.batch(batch, plan.get(batch)));
            batch++;
            advanceEpoch();
        }
        return out;
    }

    boolean exhausted() { return exhausted; }

    /** Epoch of the next micro-batch (a checkpoint's {@code epoch}). */
    int epoch() { return epoch; }

    /** Index of the next micro-batch within {@link #epoch()} (a checkpoint's {@code batchInEpoch}). */
    int batch() { return batch; }

    /** Epochs done, fractional: {@code epoch + batch / batchesInEpoch}. */
    double epochProgress() {
        return exhausted ? epoch + 1 : epoch + (double) batch / plan.size();
    }
}
