package dev.distill4j.model.engine;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

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
        Chunk[] rest = new Chunk[chunks - 1];
        Thread caller = Thread.currentThread();
        for (int c = 1; c < chunks; c++) {
            rest[c - 1] = new Chunk(body, (int) ((long) n * c / chunks), (int) ((long) n * (c + 1) / chunks), caller);
            POOL.execute(rest[c - 1]);
        }
        body.run(0, n / chunks);
        for (Chunk c : rest) c.run();          // runs here the chunks no worker has claimed yet
        for (Chunk c : rest) c.await();
    }

    /** A chunk that runs exactly once, on whichever thread claims it first (a worker or the caller). */
    private static final class Chunk extends AtomicBoolean implements Runnable {
        private final Range body;
        private final int from, to;
        private final Thread caller;
        private volatile boolean done;
        private volatile Throwable failure;

        Chunk(Range body, int from, int to, Thread caller) {
            this.body = body;
            this.from = from;
            this.to = to;
            this.caller = caller;
        }

        @Override
        public void run() {
            if (!compareAndSet(false, true)) return;
            try {
                body.run(from, to);
            } catch (Throwable t) {
                failure = t;
            } finally {
                done = true;
                LockSupport.unpark(caller);
            }
        }

        void await() {
            for (int spins = 0; !done; spins++) {
                if (spins < 2_000) Thread.onSpinWait();
                else LockSupport.park(this);
            }
            Throwable t = failure;
            if (t instanceof RuntimeException e) throw e;
            if (t instanceof Error e) throw e;
            if (t != null) throw new IllegalStateException(t);
        }
    }
}
