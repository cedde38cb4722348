package dev.distill4j.serve;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import java.util.function.Predicate;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Work waiting for one worker thread that serves it in batches: what {@link BatchScheduler} (generation) and
 * {@link EmbeddingBatcher} (embeddings) share. Request threads {@link #add} items; whenever the worker is free it
 * lets the owner's {@link Picker} take a batch from the waiting items and runs it; {@link #close} fails what never
 * ran. The owner decides what goes together; this class only guards the queue and runs the loop.
 */
final class WorkQueue<T> {
    /** Takes the next batch out of {@code waiting} (under the queue's lock); empty when nothing there can run. */
    @FunctionalInterface
    interface Picker<T> {
        List<T> pick(ArrayDeque<T> waiting);
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private final ArrayDeque<T> waiting = new ArrayDeque<>();
    private final IntConsumer depth;
    private final Thread worker;
    private volatile boolean closed;

    /**
     * Starts the worker: a platform thread, because model calls are long native calls that would pin a virtual
     * thread's carrier anyway.
     *
     * @param depth told the number of waiting items whenever it changes (a metrics gauge)
     */
    WorkQueue(String threadName, IntConsumer depth, Picker<T> picker, Consumer<List<T>> run) {
        this.depth = depth;
        this.worker = Thread.ofPlatform().name(threadName).daemon().start(() -> {
            for (List<T> batch; (batch = next(picker)) != null; ) run.accept(batch);
        });
    }

    /** Queues all items or none; refused when closed, or when the queue would exceed {@code limit} items. */
    void add(Collection<? extends T> items, int limit) {
        lock.lock();
        try {
            if (closed) throw OpenAiError.internal("the server is shutting down");
            if (waiting.size() + items.size() > limit) throw OpenAiError.queueFull(limit);
            waiting.addAll(items);
            depth.accept(waiting.size());
            work.signal();
        } finally {
            lock.unlock();
        }
    }

    /** Takes waiting items out of the queue, e.g. those of a request whose client went away. */
    void removeIf(Predicate<? super T> which) {
        lock.lock();
        try {
            if (waiting.removeIf(which)) depth.accept(waiting.size());
        } finally {
            lock.unlock();
        }
    }

    /** Whether any waiting item matches. */
    boolean anyWaiting(Predicate<? super T> which) {
        lock.lock();
        try {
            for (T t : waiting) if (which.test(t)) return true;
            return false;
        } finally {
            lock.unlock();
        }
    }

    int size() {
        lock.lock();
        try {
            return waiting.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * What the picker takes from the waiting items now, without waiting; empty when nothing waits or the queue is
     * closed. For a worker that admits more work into a batch it is running (continuous batching).
     */
    List<T> poll(Picker<T> picker) {
        lock.lock();
        try {
            if (waiting.isEmpty() || closed) return List.of();
            List<T> batch = picker.pick(waiting);
            depth.accept(waiting.size());
            return batch;
        } finally {
            lock.unlock();
        }
    }

    /** Blocks for work; the picker's batch, or null once closed. */
    private List<T> next(Picker<T> picker) {
        lock.lock();
        try {
            while (true) {
                while (waiting.isEmpty() && !closed) work.await();
                if (closed) return null;
                List<T> batch = picker.pick(waiting);
                depth.accept(waiting.size());
                if (!batch.isEmpty()) return batch;
            }
        } catch (InterruptedException e) {
            return null;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Refuses new items, hands each waiting one to {@code fail}, and waits (up to a minute) for the running batch.
     *
     * @return whether the worker has ended (false: the running batch is still going after a minute)
     */
    boolean close(Consumer<? super T> fail) {
        List<T> left;
        lock.lock();
        try {
            closed = true;
            left = new ArrayList<>(waiting);
            waiting.clear();
            depth.accept(0);
            work.signalAll();
        } finally {
            lock.unlock();
        }
        left.forEach(fail);
        try {
            worker.join(60_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return !worker.isAlive();
    }
}
