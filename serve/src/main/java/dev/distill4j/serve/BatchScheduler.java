package dev.distill4j.serve;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.TokenPosition;
import dev.distill4j.model.generate.Generation;
import dev.distill4j.model.generate.SamplingParams;
import dev.distill4j.model.generate.Scorer;
import dev.distill4j.model.generate.Sequence;
import dev.distill4j.model.generate.StepDecoder;
import dev.distill4j.model.generate.TokenChooser;
import dev.distill4j.model.generate.TokenListener;
import dev.distill4j.model.local.LocalModel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the model on one worker thread with continuous batching, as vLLM and llama.cpp's server do: sequences join
 * and leave the running batch at every decode step.
 *
 * <p>The worker's loop, once anything waits: (1) <b>admit</b> waiting sequences, oldest first, while the running
 * batch has fewer than {@code maxBatch} rows, prefilling each newcomer's prompt — the {@code n} choices of a request
 * pass the same prompt array and share one prefill (the others start from {@link StepDecoder.State#copy copies}),
 * even when the batch has room for only some of them now (the prefilled state waits for the rest); (2) <b>choose</b>
 * one token for every running row from its latest logits, each row with its own {@link SamplingParams} and its own
 * random generator (seeded per request and per choice, see {@link Sequence}), so neither seeds nor temperatures nor
 * stops nor max tokens split batches, and a seed gives the same tokens alone or beside any others; a row whose
 * sequence stopped leaves, its result completing at once; (3) <b>step</b> all remaining rows together through the
 * {@link StepDecoder}, whatever their lengths. A row whose request was {@link #cancel cancelled} leaves before its
 * next token is chosen, so it costs at most the step already under way. Scoring jobs (legacy completions with
 * {@code echo}) run between steps, one forward each.
 *
 * <p>Each sequence's tokens go to its own {@link TokenSink} as they are chosen, so a streamed response is routed out
 * of the shared batch. The queue holds at most {@code maxQueue} waiting sequences; a request that would overflow it
 * is refused whole. With a {@link TokenChooser} (a watermark) every token is picked by it; it sees one sequence's
 * own history, so batching, {@code n} and streaming are unaffected.
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
     * go on; {@code sink} hears its tokens before that. The choices of one request pass the same {@code prompt}
     * array, which is how the worker knows they can share one prefill.
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

    record Score(int[] prompt, int[] continuation, int topLogprobs, CompletableFuture<Scorer.Scored> result)
            implements Job {
        Score(int[] prompt, int[] continuation, int topLogprobs) {
            this(prompt, continuation, topLogprobs, new CompletableFuture<>());
        }

        @Override public void fail(Throwable t) { result.completeExceptionally(t); }
    }

    /** A running row: its job, its sequence's bookkeeping, its decoder state and the logits of its next token. */
    private static final class Row {
        final Generate job;
        final Sequence sequence;
        final StepDecoder.State state;
        float[] logits;

        Row(Generate job, Sequence sequence, StepDecoder.State state, float[] logits) {
            this.job = job;
            this.sequence = sequence;
            this.state = state;
            this.logits = logits;
        }
    }

    /** A prompt's prefilled state and logits, kept while more of its choices wait for room in the batch. */
    private record Prefilled(StepDecoder.State state, float[] logits) {}

    private final LocalModel model;
    private final TokenChooser chooser;
    private final int maxBatch;
    private final int maxQueue;
    private final Metrics metrics;
    private final TokenListener hook;
    private final WorkQueue<Job> queue;
    private volatile boolean closing;
    private volatile int active;        // rows in the running batch, for tests and the gauge

    // the worker thread's own: the decoder, the running rows, and prompts whose other choices still wait
    private StepDecoder decoder;
    private final List<Row> rows = new ArrayList<>();
    private final Map<int[], Prefilled> waitingPrefills = new IdentityHashMap<>();

    BatchScheduler(LocalModel model, int maxBatch, int maxQueue, Metrics metrics) {
        this(model, null, maxBatch, maxQueue, metrics, TokenListener.NONE);
    }

    BatchScheduler(LocalModel model, int maxBatch, int maxQueue, Metrics metrics, TokenListener hook) {
        this(model, null, maxBatch, maxQueue, metrics, hook);
    }

    /**
     * @param chooser picks every generated token (a watermark); null: plain sampling ({@link TokenChooser#SAMPLE})
     * @param hook    hears every token the worker chooses, after its sequence's sink, with the row's index in the
     *                running batch (tests use it to hold the worker mid-generation, and to count tokens)
     */
    BatchScheduler(LocalModel model, TokenChooser chooser, int maxBatch, int maxQueue, Metrics metrics,
                   TokenListener hook) {
        if (maxBatch < 1) throw new InvalidInputException("max batch must be >= 1, got " + maxBatch);
        if (maxQueue < 1) throw new InvalidInputException("max queue must be >= 1, got " + maxQueue);
        this.model = model;
        this.chooser = chooser == null ? TokenChooser.SAMPLE : chooser;
        this.maxBatch = maxBatch;
        this.maxQueue = maxQueue;
        this.metrics = metrics;
        this.hook = hook;
        this.queue = new WorkQueue<>("distill4j-batcher", metrics::queueDepth, this::pick, this::run);
    }

    /** Queues all jobs or none: a request with n choices never half-runs. */
    void submit(List<? extends Job> jobs) { queue.add(jobs, maxQueue); }

    int queueDepth() { return queue.size(); }

    /** Sequences in the running batch; 0 when the worker is idle. A stopped or cancelled one leaves at once. */
    int activeSequences() { return active; }

    /**
     * Aborts a request's sequences because its client went away: waiting ones leave the queue, running ones leave
     * the batch before their next token, and each unfinished one's result fails with a
     * {@link CancellationException}. Counted in the metrics and logged once when anything was still unfinished.
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

    /** Under the queue's lock, on the worker: the oldest waiting jobs while the batch has room (scores take none). */
    private List<Job> pick(ArrayDeque<Job> waiting) {
        List<Job> taken = new ArrayList<>();
        int room = maxBatch - rows.size();
        for (Iterator<Job> it = waiting.iterator(); it.hasNext(); ) {
            Job j = it.next();
            if (j instanceof Generate) {
                if (room == 0) break;
                room--;
            }
            taken.add(j);
            it.remove();
        }
        return taken;
    }

    /** Runs the batch from {@code first} until nothing runs and nothing waits; called by the queue's worker. */
    private void run(List<Job> first) {
        List<Job> incoming = first;
        while (true) {
            if (closing) {
                shutDown(incoming);
                return;
            }
            try {
                admit(incoming);
                if (!waitingPrefills.isEmpty()) dropWaitingPrefills();
                chooseTokens();
                if (!rows.isEmpty()) step();
            } catch (RuntimeException | Error e) {
                // a chooser or sink that threw: the rows' states cannot be trusted, but the worker must go on
                log.error("generation of {} sequences failed", rows.size(), e);
                resetDecoder(e);
            }
            incoming = queue.poll(this::pick);
            if (rows.isEmpty() && incoming.isEmpty()) {
                dropWaitingPrefills();     // nothing waits any more: a kept prefill's choices were cancelled
                return;
            }
        }
    }

    /** Prefills newcomers (once per prompt) and adds them as rows; runs scoring jobs. */
    private void admit(List<Job> jobs) {
        // the live choices admitted now, grouped by prompt array (a request's choices share it), in order
        Map<int[], List<Generate>> byPrompt = new IdentityHashMap<>();
        List<int[]> order = new ArrayList<>();
        for (Job j : jobs) {
            switch (j) {
                case Score s -> score(s);
                case Generate g -> {
                    if (!g.live()) continue;     // cancelled while it was being taken
                    if (g.prompt().length + g.params().maxNewTokens() > model.contextLength()) {
                        // the handlers cap max tokens by the context; this keeps one bad job from failing a step
                        g.fail(OpenAiError.internal("prompt (" + g.prompt().length + " tokens) + max tokens ("
                                + g.params().maxNewTokens() + ") exceed the model's context of "
                                + model.contextLength()));
                        continue;
                    }
                    if (g.params().maxNewTokens() == 0) {   // nothing to compute
                        g.result().complete(new Sequence(g.prompt(), g.params(), model.tokenizer()).result());
                        continue;
                    }
                    byPrompt.computeIfAbsent(g.prompt(), k -> {
                        order.add(k);
                        return new ArrayList<>();
                    }).add(g);
                }
            }
        }
        for (int[] prompt : order) {
            List<Generate> choices = byPrompt.get(prompt);
            Prefilled p = waitingPrefills.remove(prompt);
            if (p == null) {
                StepDecoder.State state = decoder().newState();
                try {
                    p = new Prefilled(state, decoder().prefill(state, prompt));
                } catch (RuntimeException | Error e) {
                    // only this prompt's new state took part: the running rows are untouched
                    log.error("prefill of a {}-token prompt failed", prompt.length, e);
                    state.close();
                    for (Generate g : choices) g.fail(e);
                    continue;
                }
                metrics.prefill();
            }
            // more choices of this prompt still wait for room: keep the prefill for them
            boolean more = queue.anyWaiting(w -> w instanceof Generate g && g.prompt() == prompt && g.live());
            for (int i = 0; i < choices.size(); i++) {
                Generate g = choices.get(i);
                boolean last = i == choices.size() - 1 && !more;
                StepDecoder.State state = last ? p.state() : p.state().copy();
                // a request that is not streamed reads only the final text: its sequence skips the per-step deltas
                // (decoded once at the end) unless stop strings need them
                rows.add(new Row(g, new Sequence(prompt, g.params(), model.tokenizer(), g.sink() != TokenSink.NONE),
                        state, p.logits()));
            }
            if (more) waitingPrefills.put(prompt, p);
        }
        active = rows.size();
        metrics.runningSequences(rows.size());
    }

    /** Frees kept prefills whose remaining choices are no longer waiting (cancelled). */
    private void dropWaitingPrefills() {
        for (Iterator<Map.Entry<int[], Prefilled>> it = waitingPrefills.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<int[], Prefilled> e = it.next();
            int[] prompt = e.getKey();
            if (!queue.anyWaiting(w -> w instanceof Generate g && g.prompt() == prompt && g.live())) {
                e.getValue().state().close();
                it.remove();
            }
        }
    }

    /** One token for every running row from its latest logits; stopped and cancelled rows leave. */
    private void chooseTokens() {
        int vocab = rows.isEmpty() ? 0 : decoder().vocabSize();
        int index = 0;
        for (Iterator<Row> it = rows.iterator(); it.hasNext(); index++) {
            Row r = it.next();
            Generate job = r.job;
            if (job.cancelled().get()) {
                r.state.close();
                it.remove();
                continue;
            }
            Sequence.Step step = r.sequence.next(r.logits, 0, vocab, chooser);
            r.logits = null;
            if (!job.cancelled().get()) {
                job.sink().token(step.tokenId(), step.textDelta(), step.position());
                if (chooser.marks(job.params())) metrics.watermarkedToken();
            }
            hook.onToken(index, step.tokenId(), step.textDelta(), step.position());
            if (r.sequence.done()) {
                job.result().complete(r.sequence.result());
                r.state.close();
                it.remove();
            } else if (job.cancelled().get()) {
                r.state.close();
                it.remove();
            }
        }
        active = rows.size();
        metrics.runningSequences(rows.size());
    }

    /** One decode step of every running row, together; a row cancelled since its token was chosen leaves first. */
    private void step() {
        if (rows.removeIf(r -> {
            if (!r.job.cancelled().get()) return false;
            r.state.close();
            return true;
        })) {
            active = rows.size();
            metrics.runningSequences(rows.size());
            if (rows.isEmpty()) return;
        }
        List<StepDecoder.State> states = new ArrayList<>(rows.size());
        int[] tokens = new int[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            states.add(rows.get(i).state);
            tokens[i] = rows.get(i).sequence.lastToken();
        }
        float[][] logits;
        try {
            logits = decoder().step(states, tokens);
        } catch (RuntimeException | Error e) {
            log.error("decode step of {} sequences failed", rows.size(), e);
            resetDecoder(e);
            return;
        }
        metrics.batch(rows.size());
        for (int i = 0; i < rows.size(); i++) rows.get(i).logits = logits[i];
    }

    private void score(Score s) {
        try {
            s.result().complete(model.scorer().score(s.prompt(), s.continuation(), s.topLogprobs()));
        } catch (RuntimeException | Error e) {
            log.error("scoring a {}-token text failed", s.prompt().length + s.continuation().length, e);
            s.fail(e);
        }
    }

    private StepDecoder decoder() {
        if (decoder == null) decoder = model.stepDecoder();
        return decoder;
    }

    /** After a failure the decoder's states may be inconsistent: every running row fails, and a new decoder starts. */
    private void resetDecoder(Throwable cause) {
        for (Row r : rows) r.job.fail(cause);
        rows.clear();
        waitingPrefills.clear();
        active = 0;
        metrics.runningSequences(0);
        if (decoder != null) decoder.close();
        decoder = null;
    }

    private void shutDown(List<Job> incoming) {
        OpenAiError shutdown = OpenAiError.internal("the server is shutting down");
        for (Job j : incoming) j.fail(shutdown);
        for (Row r : rows) r.job.fail(shutdown);
        rows.clear();
        active = 0;
        metrics.runningSequences(0);
    }

    @Override
    public void close() {
        closing = true;
        OpenAiError shutdown = OpenAiError.internal("the server is shutting down");
        boolean ended = queue.close(j -> j.fail(shutdown));
        if (ended && decoder != null) {   // the worker is gone: its decoder can be freed from here
            decoder.close();
            decoder = null;
        }
    }
}
