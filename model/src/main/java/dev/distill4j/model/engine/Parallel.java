package dev.distill4j.model.engine;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Splits a loop over output rows across the cores: one shared team of {@link #THREADS} − 1 daemon workers (one per
 * core besides the caller, or {@code -Ddistill4j.engine.threads=N}) serves every engine.
 *
 * <p>Why a team of its own rather than a {@code ForkJoinPool}: a batch-1 decode step of a small model is some 40
 * loops of 5–100 µs each (q/k/v, o, gate/up, down per layer, then the LM head), and a pool worker parks as soon as
 * it finds no task, so every loop paid a wake-up (a futex call, ~10–50 µs) — as much as the loop's own work for
 * llama-10M. A worker here spins for {@link #SPIN_NANOS} (100 µs by default, {@code -Ddistill4j.engine.spin-us})
 * after each loop, which covers the gaps between the loops of a step and between steps, before it parks; a loop
 * that finds it spinning starts it with one volatile write.
 *
 * <p>A loop is cut into contiguous chunks, each claimed once by whichever thread comes first; the caller claims too,
 * so on a busy machine, where a worker may not get a core, the caller runs the chunks no worker has taken and the
 * loop degrades to fewer threads rather than to waiting. Loops with too little work for a hand-off to pay
 * ({@link #chunks}) run on the caller alone, and so does a loop started while the team is busy with another caller's
 * loop (two engines, or two threads of one engine, decoding at once): waiting for the team would cost more than
 * doing the loop alone.
 */
final class Parallel {
    /** Threads a loop may use, the caller included. */
    static final int THREADS = Math.max(1, Integer.getInteger("distill4j.engine.threads",
            Runtime.getRuntime().availableProcessors()));
    /**
     * Multiply-adds below which one more chunk costs more than it saves: a hand-off to a polling worker costs about
     * as much as 8 K multiply-adds (~0.5 µs), so a chunk carries twice that. 16 K against the former 32 K (chosen for
     * pool wake-ups): the demo student 15 % and its teacher 12 % faster in three alternating quiet runs (session 8).
     */
    static final long MIN_WORK_PER_CHUNK = Long.getLong("distill4j.engine.min-work", 16_384);
    /** How long an idle worker polls for the next loop before it parks. */
    static final long SPIN_NANOS = Math.max(0, Long.getLong("distill4j.engine.spin-us", 100)) * 1_000;
    private static final Team TEAM = THREADS > 1 ? new Team(THREADS - 1) : null;

    private Parallel() {}

    /** The body of a loop over [from, to). */
    @FunctionalInterface
    interface Range {
        void run(int from, int to);
    }

    /**
     * Chunks a loop of {@code n} iterations and {@code work} multiply-adds is cut into: one per thread, at most one
     * per iteration, and only as many as carry {@link #MIN_WORK_PER_CHUNK} each.
     */
    static int chunks(int n, long work) {
        return (int) Math.min(Math.min(THREADS, n), Math.max(1, work / MIN_WORK_PER_CHUNK));
    }

    /**
     * Runs {@code body} over [0, n) in {@link #chunks} contiguous chunks; returns when all have run, rethrowing the
     * first failure.
     *
     * @param work the loop's multiply-adds (or a comparable cost), to decide how many chunks pay
     */
    static void forRange(int n, long work, Range body) {
        int chunks = chunks(n, work);
        // a nested loop (a body that loops again) runs inline too: the team is busy with the outer one
        if (chunks <= 1 || TEAM == null || Thread.currentThread() instanceof Worker || TEAM.lock.isHeldByCurrentThread()
                || !TEAM.lock.tryLock()) {
            body.run(0, n);
            return;
        }
        try {
            TEAM.run(new Job(body, n, chunks, Thread.currentThread()));
        } finally {
            TEAM.lock.unlock();
        }
    }

    /**
     * One loop: chunk c covers [n·c/chunks, n·(c+1)/chunks). Its own counters, so a worker still finishing an old
     * loop can never claim a chunk of the next one.
     */
    private static final class Job {
        /** Cleared once the loop is over, so that the team's last job does not keep its arrays alive. */
        Range body;
        final int n, chunks;
        final Thread caller;
        /** The next chunk to claim. */
        final AtomicInteger next = new AtomicInteger();
        /** Chunks not yet finished. */
        final AtomicInteger remaining;
        volatile boolean callerParked;
        volatile Throwable failure;

        Job(Range body, int n, int chunks, Thread caller) {
            this.body = body;
            this.n = n;
            this.chunks = chunks;
            this.caller = caller;
            this.remaining = new AtomicInteger(chunks);
        }

        /** Claims and runs chunks until none is left. */
        void work() {
            for (int c; (c = next.getAndIncrement()) < chunks; ) {
                try {
                    body.run((int) ((long) n * c / chunks), (int) ((long) n * (c + 1) / chunks));
                } catch (Throwable t) {
                    if (failure == null) failure = t;
                } finally {
                    if (remaining.decrementAndGet() == 0 && callerParked) LockSupport.unpark(caller);
                }
            }
        }

        /** The caller's wait for chunks that workers claimed: spin briefly, then park until the last one ends. */
        void await() {
            for (int spins = 0; remaining.get() > 0; spins++) {
                if (spins < 20_000) {
                    Thread.onSpinWait();
                } else {
                    callerParked = true;
                    if (remaining.get() > 0) LockSupport.park(this);
                }
            }
            Throwable t = failure;
            if (t instanceof RuntimeException e) throw e;
            if (t instanceof Error e) throw e;
            if (t != null) throw new IllegalStateException(t);
        }
    }

    /** The workers and the one loop they serve at a time. */
    private static final class Team {
        /** Held by the one caller whose loop the team serves. */
        final ReentrantLock lock = new ReentrantLock();
        final Worker[] workers;
        /** The latest loop; a worker runs each one it has not seen yet. */
        volatile Job job;

        Team(int size) {
            workers = new Worker[size];
            for (int i = 0; i < size; i++) {
                workers[i] = new Worker(this, i + 1);
                workers[i].start();
            }
        }

        void run(Job j) {
            job = j;
            for (Worker w : workers) if (w.parked) LockSupport.unpark(w);
            j.work();
            try {
                j.await();
            } finally {
                j.body = null;   // every chunk has run: no worker reads it again
            }
        }
    }

    /** A team member: runs each new loop's unclaimed chunks, polls for the next loop, parks when none comes. */
    private static final class Worker extends Thread {
        private final Team team;
        volatile boolean parked;

        Worker(Team team, int index) {
            super("distill4j-engine-" + index);
            this.team = team;
            setDaemon(true);
        }

        @Override
        public void run() {
            Job seen = null;
            while (true) {
                Job j = team.job;
                if (j != seen) {
                    seen = j;
                    j.work();
                    continue;
                }
                long until = System.nanoTime() + SPIN_NANOS;
                while ((j = team.job) == seen && System.nanoTime() < until) Thread.onSpinWait();
                if (j != seen) continue;
                parked = true;
                // re-check after announcing: a caller that published before it saw parked = true is seen here
                if (team.job == seen) LockSupport.park(this);
                parked = false;
            }
        }
    }
}
