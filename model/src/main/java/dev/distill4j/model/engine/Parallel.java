package dev.distill4j.model.engine;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;

/**
 * Splits a loop over output rows across the cores. One shared pool of daemon threads (one per core, or
 * {@code -Ddistill4j.engine.threads=N}) serves every engine. The calling thread runs the first chunk itself, and
 * while it waits for the others it runs those no worker has taken yet, so a busy machine degrades to fewer threads
 * rather than to waiting. Loops with too little work for the hand-off (~10 µs) to pay run on the caller alone.
 */
final class Parallel {
    /** Threads a loop may use. */
    static final int THREADS = Math.max(1, Integer.getInteger("distill4j.engine.threads",
            Runtime.getRuntime().availableProcessors()));
    /** Multiply-adds below which one more chunk costs more than it saves. */
    static final long MIN_WORK_PER_CHUNK = 32_768;
    private static final ForkJoinPool POOL = THREADS > 1 ? new ForkJoinPool(THREADS) : null;

    private Parallel() {}

    /** The body of a loop over [from, to). */
    @FunctionalInterface
    interface Range {
        void run(int from, int to);
    }

    /**
     * Runs {@code body} over [0, n) in up to {@link #THREADS} contiguous chunks.
     *
     * @param work the loop's multiply-adds (or a comparable cost), to decide how many chunks pay
     */
    static void forRange(int n, long work, Range body) {
        int chunks = (int) Math.min(Math.min(THREADS, n), Math.max(1, work / MIN_WORK_PER_CHUNK));
        if (chunks <= 1 || POOL == null) {
            body.run(0, n);
            return;
        }
        ForkJoinTask<?>[] tasks = new ForkJoinTask<?>[chunks - 1];
        for (int c = 1; c < chunks; c++) {
            int from = (int) ((long) n * c / chunks);
            int to = (int) ((long) n * (c + 1) / chunks);
            tasks[c - 1] = POOL.submit(() -> body.run(from, to));
        }
        body.run(0, n / chunks);
        for (ForkJoinTask<?> t : tasks) t.join();
    }
}
