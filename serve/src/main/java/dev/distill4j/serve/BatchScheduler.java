package dev.distill4j.serve;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.model.local.LocalModel;
import dev.distill4j.core.TokenPosition;
import dev.distill4j.model.generate.Generation;
import dev.distill4j.model.generate.SamplingParams;
import dev.distill4j.model.generate.Scorer;
import dev.distill4j.model.generate.TokenListener;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the model on one worker thread, batching waiting sequences.
 *
 * <p>Policy (static batching, no waiting window): when the worker is free it takes the oldest waiting sequence and
 * every other waiting sequence with equal {@link SamplingParams}, up to {@code maxBatch}, and generates them together
 * (left-padded, one prefill, shared decode steps) until the whole batch has stopped. Sequences that arrive meanwhile
 * wait for the next batch. Equal parameters are required because the batched {@code Generator} applies one set of
 * parameters to a batch; greedy requests are normalised (seed 0) so they always group. Scoring jobs (legacy
 * completions with {@code echo}) run alone. Each sequence's tokens go to its own {@link TokenSink} as they are
 * generated, and its result completes when it stops, so a streamed response is routed out of the shared batch. The queue holds at most {@code maxQueue} waiting sequences; a request
 * that would overflow it is refused whole.
 *
 * <p>{@link #cancel} aborts a request whose client went away, as vLLM does: its waiting sequences leave the queue,
 * its running ones get no more tokens, and once every unfinished sequence of a batch is cancelled the worker drops
 * the batch at its next decode step and takes the next one. A cancelled sequence whose batch-mates are still
 * generating keeps its row until the batch ends (the batch is rectangular, as for a sequence that stopped early):
 * the generator still computes its tokens, but they go nowhere.
 */
final class BatchScheduler implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BatchScheduler.class);

    sealed interface Job permits Generate, Score {
        void fail(Throwable t);
    }

    /** Receives one sequence's tokens on the worker thread as they are generated; must not block. */
    @FunctionalInterface
    interface TokenSink {
        void token(int tokenId, String textDelta, TokenPosition position);

        TokenSink NONE = (tokenId, textDelta, position) -> {};
    }

    /**
     * One sequence to generate. {@code result} completes as soon as this sequence stops, even while its batch-mates
     * go on; {@code sink} hears its tokens before that.
     */
    record Generate(int[] prompt, SamplingParams params, TokenSink sink, CompletableFuture<Generation> result,
                    AtomicBoolean cancelled) implements Job {
        Generate(int[] prompt, SamplingParams params) { this(prompt, params, TokenSink.NONE); }

        Generate(int[] prompt, SamplingParams params, TokenSink sink) {
            this(prompt, params, sink, new CompletableFuture<>(), new AtomicBoolean());
        }

        @Override public void fail(Throwable t) { result.completeExceptionally(t); }

        /** Whether the worker still owes this sequence tokens. */
        boolean live() { return !cancelled.get() && !result.isDone(); }
    }

    /** Thrown through the generator to drop a batch whose sequences were all cancelled; no stack trace needed. */
    private static final class BatchCancelled extends RuntimeException {
        BatchCancelled() { super("every unfinished sequence of the batch was cancelled", null, false, false); }
    }

    record Score(int[] prompt, int[] continuation, int topLogprobs, CompletableFuture<Scorer.Scored> result)
            implements Job {
        Score(int[] prompt, int[] continuation, int topLogprobs) {
            this(prompt, continuation, topLogprobs, new CompletableFuture<>());
        }

        @Override public void fail(Throwable t) { result.completeExceptionally(t); }
    }

    private final LocalModel model;
    private final int maxBatch;
    private final int maxQueue;
    private final Metrics metrics;
    private final TokenListener hook;
    private final WorkQueue<Job> queue;
    private volatile List<Job> running = List.of();     // the worker's current batch

    BatchScheduler(LocalModel model, int maxBatch, int maxQueue, Metrics metrics) {
        this(model, maxBatch, maxQueue, metrics, TokenListener.NONE);
    }

    /**
     * {@code hook} hears every token the worker computes, after its sequence's sink (tests use it to hold a batch
     * mid-generation, and to count what a cancelled sequence still cost).
     */
    BatchScheduler(LocalModel model, int maxBatch, int maxQueue, Metrics metrics, TokenListener hook) {
        if (maxBatch < 1) throw new InvalidInputException("max batch must be >= 1, got " + maxBatch);
        if (maxQueue < 1) throw new InvalidInputException("max queue must be >= 1, got " + maxQueue);
        this.model = model;
        this.maxBatch = maxBatch;
        this.maxQueue = maxQueue;
        this.metrics = metrics;
        this.hook = hook;
        this.queue = new WorkQueue<>("distill4j-batcher", metrics::queueDepth, this::pick, this::run);
    }

    /** Queues all jobs or none: a request with n choices never half-runs. */
    void submit(List<? extends Job> jobs) { queue.add(jobs, maxQueue); }

    int queueDepth() { return queue.size(); }

    /**
     * Sequences in the batch the worker is computing now; 0 when it is idle. Finished and cancelled sequences count
     * until their batch ends, because they keep their rows in it.
     */
    int activeSequences() { return running.size(); }

    /**
     * Aborts a request's sequences because its client went away: waiting ones leave the queue, running ones get no
     * more tokens, and each unfinished one's result fails with a {@link CancellationException}. Counted in the
     * metrics and logged once when anything was still unfinished.
     *
     * @param requestId the request's id, for the log line
     * @param why       what was noticed, for the log line
     * @return how many sequences were still unfinished
     */
    int cancel(String requestId, List<Generate> jobs, String why) {
        List<Generate> stopped = new ArrayList<>(jobs.size());
        for (Generate j : jobs) {
            if (!j.live()) continue;
            j.cancelled().set(true);   // first: a worker that takes it meanwhile sends it nothing
            stopped.add(j);
        }
        if (stopped.isEmpty()) return 0;
        queue.removeIf(w -> stopped.stream().anyMatch(j -> j == w));
        CancellationException e = new CancellationException("request " + requestId + " was cancelled: " + why);
        for (Generate j : stopped) j.result().completeExceptionally(e);
        metrics.cancelled();
        log.info("cancelled {} ({}): stopped {} of its {} sequences", requestId, why, stopped.size(), jobs.size());
        return stopped.size();
    }

    /** The oldest waiting job, and with a generation every waiting one with equal parameters, up to maxBatch. */
    private List<Job> pick(ArrayDeque<Job> waiting) {
        Job head = waiting.poll();
        List<Job> batch = new ArrayList<>();
        batch.add(head);
        if (head instanceof Generate g) {
            for (Iterator<Job> it = waiting.iterator(); it.hasNext() && batch.size() < maxBatch; ) {
                if (it.next() instanceof Generate other && other.params().equals(g.params())) {
                    batch.add(other);
                    it.remove();
                }
            }
        }
        return batch;
    }

    private void run(List<Job> batch) {
        running = batch;
        try {
            switch (batch.getFirst()) {
                case Generate g -> {
                    List<int[]> prompts = new ArrayList<>(batch.size());
                    for (Job j : batch) prompts.add(((Generate) j).prompt());
                    metrics.batch(batch.size());
                    List<Generation> out = model.generator().generate(prompts, g.params(), new TokenListener() {
                        @Override public void onToken(int seq, int tokenId, String delta, TokenPosition position) {
                            Generate job = (Generate) batch.get(seq);
                            if (!job.cancelled().get()) job.sink().token(tokenId, delta, position);
                            hook.onToken(seq, tokenId, delta, position);
                            // the generator calls this only while some sequence has not stopped in its eyes
                            if (job.cancelled().get() && batch.stream().noneMatch(j -> ((Generate) j).live())) {
                                throw new BatchCancelled();
                            }
                        }

                        @Override public void onFinish(int seq, Generation generation) {
                            ((Generate) batch.get(seq)).result().complete(generation);
                        }
                    });
                    for (int i = 0; i < batch.size(); i++) ((Generate) batch.get(i)).result().complete(out.get(i));
                }
                case Score s -> {
                    metrics.batch(1);
                    s.result().complete(model.scorer().score(s.prompt(), s.continuation(), s.topLogprobs()));
                }
            }
        } catch (BatchCancelled e) {
            log.debug("batch of {} dropped: all its unfinished sequences were cancelled", batch.size());
        } catch (RuntimeException | Error e) {
            log.error("batch of {} failed", batch.size(), e);
            for (Job j : batch) j.fail(e);
        } finally {
            running = List.of();
        }
    }

    @Override
    public void close() {
        OpenAiError shutdown = OpenAiError.internal("the server is shutting down");
        queue.close(j -> j.fail(shutdown));
    }
}
