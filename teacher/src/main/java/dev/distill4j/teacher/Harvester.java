package dev.distill4j.teacher;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.Sample;
import dev.distill4j.core.SampleKey;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.io.PromptDuplicates;
import dev.distill4j.core.io.PromptReader;
import dev.distill4j.core.store.RunStore;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Queries a teacher over a prompt file and keeps every answer in the run store.
 *
 * <p>Three parts run at once: this thread streams the prompt file in chunks and decides per sample whether it still
 * needs asking (its content key is absent, or failed and {@code retryFailed}); up to {@code concurrency} virtual
 * threads each carry one sample through rate limit → budget → request → retries; one writer thread stores finished
 * samples in batches. A sample is only ever requested when no finished copy of it is stored, so a killed harvest
 * resumes by re-running the same command: stored work is skipped, in-flight work is asked again.
 *
 * <p>Before any of that, the whole prompt file is held to one id per prompt ({@link PromptDuplicates}): the store
 * keeps one prompt per id, so a file that reuses an id for a different prompt, within itself or against the prompts
 * the run already holds, is refused before anything is stored or sent, and lines that repeat an earlier line exactly
 * are asked once.
 */
public final class Harvester {
    private static final Logger LOG = LoggerFactory.getLogger(Harvester.class);
    private static final int CHUNK = 512;
    private static final int WRITE_BATCH = 1024;

    /** How a harvest ended. */
    public enum Outcome {
        /** Every sample has an answer or a recorded failure. */
        COMPLETE,
        /** Stopped before a request that could have pushed spend past the budget. */
        BUDGET_REACHED,
        /** A fatal teacher error (bad key, unknown model, unreachable host) stopped it; see {@link Result#fatal()}. */
        FATAL,
        /** Stopped by {@link #stop()} (Ctrl-C). */
        INTERRUPTED
    }

    /**
     * @param promptsFile      JSONL or CSV prompt file
     * @param samplesPerPrompt samples per prompt (each its own request and content key)
     * @param concurrency      requests in flight at most
     * @param retryFailed      ask again for samples stored as failed
     * @param strict           abort on the first malformed prompt line instead of skipping it
     */
    public record Options(Path promptsFile, int samplesPerPrompt, int concurrency, boolean retryFailed,
                          boolean strict) {
        public Options {
            if (samplesPerPrompt < 1) throw new InvalidInputException("--samples-per-prompt must be ≥ 1");
            if (concurrency < 1) throw new InvalidInputException("--concurrency must be ≥ 1");
        }
    }

    /** A live view of the harvest for progress bars. */
    public record Progress(long promptsRead, long malformed, long samplesSeen, long alreadyDone, long queued,
                           long done, long failed, int inFlight, long retries, long promptTokens,
                           long completionTokens, double spentUsd, Duration elapsed, boolean readingFinished) {
        /** Samples this harvest still has to finish (known so far). */
        public long remaining() { return Math.max(0, queued - done - failed); }
    }

    /** @param duplicates the prompt lines left out because they repeat an earlier line exactly */
    public record Result(Outcome outcome, Progress progress, TeacherException fatal, List<String> malformedLines,
                         PromptDuplicates duplicates) {}

    /** A malformed prompt line with {@code --strict}. */
    public static final class MalformedPromptException extends IOException {
        public MalformedPromptException(String message) { super(message); }
    }

    private final Teacher teacher;
    private final RunStore store;
    private final Options options;
    private final Budget budget;
    private final RequestLoop loop;

    private final AtomicLong promptsRead = new AtomicLong();
    private final AtomicLong malformed = new AtomicLong();
    private final AtomicLong samplesSeen = new AtomicLong();
    private final AtomicLong alreadyDone = new AtomicLong();
    private final AtomicLong queued = new AtomicLong();
    private final AtomicLong done = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLong retries = new AtomicLong();
    private final AtomicLong promptTokens = new AtomicLong();
    private final AtomicLong completionTokens = new AtomicLong();
    private final AtomicLong successes = new AtomicLong();
    private final AtomicReference<TeacherException> fatal = new AtomicReference<>();
    private final AtomicReference<Outcome> stopReason = new AtomicReference<>();
    private final List<String> malformedLines = java.util.Collections.synchronizedList(new ArrayList<>());
    private final Map<Thread, Boolean> workers = new ConcurrentHashMap<>();
    private volatile boolean readingFinished;
    private boolean dispatchedAny;
    private volatile long startNanos;
    private PromptDuplicates checked;

    public Harvester(Teacher teacher, RunStore store, Options options, RateLimiter rateLimiter, Budget budget,
                     Backoff backoff) {
        this.teacher = teacher;
        this.store = store;
        this.options = options;
        this.budget = budget;
        this.loop = new RequestLoop(rateLimiter, budget, backoff);
    }

    /**
     * The manifest a harvest writes: what teacher, sampling and prompt file produced the run. {@code apiKeyEnv}
     * names the key's variable (null for teachers without a key); the key itself never goes into a run.
     */
    public static dev.distill4j.core.RunManifest manifest(Teacher teacher, String apiKeyEnv, Path prompts,
                                                         dev.distill4j.core.RunManifest previous) throws IOException {
        Instant now = Instant.now();
        return new dev.distill4j.core.RunManifest(teacher.provider(), teacher.baseUrl(), teacher.model(),
                teacher.endpoint(), apiKeyEnv, teacher.capability().toString(), teacher.sampling().toJson(),
                prompts.toString(), PromptReader.sha256(prompts), dev.distill4j.core.Version.VERSION,
                previous == null ? now : previous.created(), now);
    }

    /**
     * Takes a {@link PromptDuplicates#scan} of the prompt file that the caller made before creating anything (a run
     * folder), so that a refused file leaves nothing behind and {@link #run} need not read the file an extra time.
     */
    public Harvester withCheckedPrompts(PromptDuplicates scanned) {
        this.checked = java.util.Objects.requireNonNull(scanned, "scanned");
        return this;
    }

    /** Asks the harvest to stop: no new requests; in-flight ones are abandoned and stay pending. */
    public void stop() {
        stopReason.compareAndSet(null, Outcome.INTERRUPTED);
        workers.keySet().forEach(Thread::interrupt);
    }

    public Progress progress() {
        long elapsed = startNanos == 0 ? 0 : System.nanoTime() - startNanos;
        return new Progress(promptsRead.get(), malformed.get(), samplesSeen.get(), alreadyDone.get(), queued.get(),
                done.get(), failed.get(), inFlight.get(), retries.get(), promptTokens.get(), completionTokens.get(),
                budget.spentUsd(), Duration.ofNanos(elapsed), readingFinished);
    }

    public Result run() throws IOException, InterruptedException {
        PromptDuplicates duplicates = checked != null ? checked : PromptDuplicates.scan(options.promptsFile(), store);
        startNanos = System.nanoTime();
        Semaphore slots = new Semaphore(options.concurrency());
        SampleWriter writer = new SampleWriter();
        Thread writerThread = Thread.ofPlatform().name("harvest-writer").start(writer);
        try (PromptReader reader = PromptReader.openUnique(options.promptsFile(), duplicates)) {
            List<Prompt> chunk = new ArrayList<>(CHUNK);
            while (reader.hasNext() && stopReason.get() == null) {
                switch (reader.next()) {
                    case PromptReader.Ok ok -> {
                        chunk.add(ok.prompt());
                        promptsRead.incrementAndGet();
                    }
                    case PromptReader.Malformed bad -> onMalformed(bad);
                }
                if (chunk.size() == CHUNK) {
                    dispatch(chunk, slots, writer);
                    chunk.clear();
                }
            }
            if (!chunk.isEmpty() && stopReason.get() == null) dispatch(chunk, slots, writer);
            readingFinished = stopReason.get() == null;
            // wait for every in-flight sample
            slots.acquire(options.concurrency());
            slots.release(options.concurrency());
        } finally {
            writer.finish();
            writerThread.join();
        }
        if (writer.error != null) throw new IOException("could not store samples: " + writer.error.getMessage(),
                writer.error);
        Outcome outcome = fatal.get() != null ? Outcome.FATAL
                : stopReason.get() != null ? stopReason.get() : Outcome.COMPLETE;
        return new Result(outcome, progress(), fatal.get(), List.copyOf(malformedLines), duplicates);
    }

    private void onMalformed(PromptReader.Malformed bad) throws MalformedPromptException {
        String where = bad.file() + ":" + bad.line() + ": " + bad.reason();
        if (options.strict()) {
            throw new MalformedPromptException("malformed prompt at " + where
                    + " (fix the line, or drop --strict to skip malformed lines)");
        }
        malformed.incrementAndGet();
        if (malformedLines.size() < 20) malformedLines.add(where);
        LOG.warn("skipping malformed prompt at {}", where);
    }

    /** Stores a chunk's prompts, finds which of its samples still need asking, and starts them. */
    private void dispatch(List<Prompt> chunk, Semaphore slots, SampleWriter writer) throws InterruptedException {
        boolean dispatchedBefore = dispatchedAny;
        dispatchedAny = true;
        List<Sample> todo = new ArrayList<>();
        List<Sample> candidates = candidates(teacher, chunk, options.samplesPerPrompt(), Instant.now());
        List<String> keys = candidates.stream().map(Sample::key).toList();
        store.putPrompts(chunk);
        Map<String, Sample> existing = store.find(keys);
        List<Sample> fresh = new ArrayList<>();
        for (Sample c : candidates) {
            samplesSeen.incrementAndGet();
            Sample old = existing.get(c.key());
            if (old == null) {
                fresh.add(c);
                todo.add(c);
            } else if (old.status() == SampleStatus.DONE
                    || (old.status() == SampleStatus.FAILED && !options.retryFailed())) {
                alreadyDone.incrementAndGet();
            } else {
                todo.add(old);
            }
        }
        store.putPending(fresh);
        Map<String, Prompt> byId = new java.util.HashMap<>();
        for (Prompt p : chunk) byId.put(p.id(), p);
        Map<String, String> invalid = new java.util.HashMap<>();
        for (Prompt p : chunk) {
            try {
                teacher.validate(p);
            } catch (IllegalArgumentException e) {
                // a homogeneous prompt file fails on its first line: one clear error beats a run of failed samples
                if (!dispatchedBefore && p == chunk.getFirst()) {
                    throw new InvalidInputException(p.source() + ":" + p.line() + ": " + e.getMessage(), e);
                }
                invalid.put(p.id(), e.getMessage());
            }
        }
        for (Sample s : todo) {
            String why = invalid.get(s.promptId());
            if (why != null) {
                queued.incrementAndGet();
                failed.incrementAndGet();
                writer.add(Sample.builder(s.key(), s.promptId(), s.sampleIndex()).status(SampleStatus.FAILED)
                        .capability(teacher.capability()).error("invalid prompt: " + why, null).attempts(s.attempts())
                        .createdAt(s.createdAt()).updatedAt(Instant.now()).build());
                continue;
            }
            slots.acquire();
            if (stopReason.get() != null) {
                slots.release();
                return;
            }
            queued.incrementAndGet();
            Prompt prompt = byId.get(s.promptId());
            Thread.ofVirtual().start(() -> {
                workers.put(Thread.currentThread(), Boolean.TRUE);
                inFlight.incrementAndGet();
                try {
                    Sample result = harvestOne(prompt, s);
                    if (result != null) writer.add(result);
                } finally {
                    inFlight.decrementAndGet();
                    workers.remove(Thread.currentThread());
                    slots.release();
                }
            });
        }
    }

    /**
     * The pending samples {@code teacher} would be asked for, {@code samplesPerPrompt} per prompt in prompt order,
     * each under its content key ({@link SampleKey}): what a harvest, online or batch, looks up in the store before
     * asking, and where anything that harvested through it finds a stored answer again.
     */
    public static List<Sample> candidates(Teacher teacher, List<Prompt> prompts, int samplesPerPrompt, Instant now) {
        var sampling = teacher.sampling().toJson();
        List<Sample> out = new ArrayList<>(prompts.size() * samplesPerPrompt);
        for (Prompt p : prompts) {
            for (int i = 0; i < samplesPerPrompt; i++) {
                String key = SampleKey.of(p, teacher.provider(), teacher.model(), teacher.endpoint(), sampling, i);
                out.add(Sample.builder(key, p.id(), i).capability(teacher.capability()).stored(now).build());
            }
        }
        return out;
    }

    /**
     * Carries one sample through its attempts. Returns the sample to store, or null when it must stay as it is
     * (stopped, budget reached, fatal error elsewhere).
     */
    private Sample harvestOne(Prompt prompt, Sample pending) {
        TeacherRequest request = new TeacherRequest(prompt, pending.sampleIndex(), pending.key());
        SampleHooks sampleHooks = new SampleHooks();
        RequestLoop.Outcome<TeacherResponse> outcome = loop.run(teacher.size(request), pending.attempts(),
                () -> teacher.complete(request), sampleHooks);
        // attempts whose answers were billed but lost belong to the sample's cost, as the budget spent them; a failed
        // sample asked again (--retry-failed) keeps what its earlier attempts cost, as it keeps their count
        double lostUsd = pending.costUsd() + sampleHooks.chargedUsd;
        return switch (outcome) {
            case RequestLoop.Outcome.Abandoned<TeacherResponse> a -> null;
            case RequestLoop.Outcome.Done<TeacherResponse>(TeacherResponse r, int attempts) -> {
                successes.incrementAndGet();
                done.incrementAndGet();
                promptTokens.addAndGet(r.usage().promptTokens());
                completionTokens.addAndGet(r.usage().completionTokens());
                yield Sample.builder(pending.key(), pending.promptId(), pending.sampleIndex())
                        .status(SampleStatus.DONE).text(r.text()).finishReason(r.finishReason())
                        .capability(teacher.capability()).tokens(r.tokens()).usage(r.usage())
                        .costUsd(budget.cost(r.usage()) + lostUsd).latencyMs(r.latencyMs()).requestId(r.requestId())
                        .attempts(attempts).createdAt(pending.createdAt()).updatedAt(Instant.now()).build();
            }
            case RequestLoop.Outcome.Failed<TeacherResponse>(TeacherException last, int attempts) -> {
                failed.incrementAndGet();
                String cause = last.kind().name().toLowerCase(java.util.Locale.ROOT)
                        + (last.status() > 0 ? " (http " + last.status() + ")" : "") + ": " + last.getMessage();
                yield Sample.builder(pending.key(), pending.promptId(), pending.sampleIndex())
                        .status(SampleStatus.FAILED).capability(teacher.capability()).costUsd(lostUsd)
                        .requestId(last.requestId()).error(cause, last.bodyExcerpt()).attempts(attempts)
                        .createdAt(pending.createdAt()).updatedAt(Instant.now()).build();
            }
        };
    }

    /** What stops this harvest, for {@link RequestLoop}. */
    private final RequestLoop.Hooks hooks = new RequestLoop.Hooks() {
        @Override public boolean stopped() { return stopReason.get() != null; }

        @Override public void budgetReached() { stopReason.compareAndSet(null, Outcome.BUDGET_REACHED); }

        @Override public boolean fatal(TeacherException e) {
            if (!RequestLoop.stopsEverything(e, successes.get() > 0)) return false;
            if (fatal.compareAndSet(null, e)) stop();
            return true;
        }

        @Override public void retrying(int attempt, TeacherException e, Duration delay) {
            retries.incrementAndGet();
            LOG.debug("attempt {} failed ({}): {}; retrying in {} ms", attempt, e.kind(), e.getMessage(),
                    delay.toMillis());
        }
    };

    /** The harvest's hooks, plus what one sample's lost answers cost. */
    private final class SampleHooks implements RequestLoop.Hooks {
        private double chargedUsd;

        @Override public boolean stopped() { return hooks.stopped(); }

        @Override public void budgetReached() { hooks.budgetReached(); }

        @Override public boolean fatal(TeacherException e) { return hooks.fatal(e); }

        @Override public void retrying(int attempt, TeacherException e, Duration delay) {
            hooks.retrying(attempt, e, delay);
        }

        @Override public void charged(TeacherException e, double usd) {
            chargedUsd += usd;
            LOG.debug("a lost answer ({}) was counted as spent: ${}", e.kind(), usd);
        }
    }

    /** Stores finished samples in batches from one thread, so SQLite sees few large transactions. */
    private final class SampleWriter implements Runnable {
        private static final Sample END = Sample.builder("", "", 0).build();
        private final BlockingQueue<Sample> queue = new ArrayBlockingQueue<>(8192);
        private volatile Exception error;

        void add(Sample s) {
            try {
                queue.put(s);
            } catch (InterruptedException e) {
                // the worker was interrupted by stop(): the sample is done but unstored, so it will be asked again
                Thread.currentThread().interrupt();
            }
        }

        void finish() {
            boolean interrupted = Thread.interrupted();
            while (true) {
                try {
                    queue.put(END);
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) Thread.currentThread().interrupt();
        }

        @Override
        public void run() {
            List<Sample> batch = new ArrayList<>(WRITE_BATCH);
            boolean end = false;
            while (!end) {
                try {
                    Sample first = queue.poll(200, TimeUnit.MILLISECONDS);
                    if (first == null) continue;
                    batch.add(first);
                    queue.drainTo(batch, WRITE_BATCH - 1);
                } catch (InterruptedException e) {
                    continue;
                }
                // workers have all returned before finish(), so END is the last element ever queued
                if (batch.getLast() == END) {
                    batch.removeLast();
                    end = true;
                }
                if (!batch.isEmpty() && error == null) {
                    try {
                        store.upsertSamples(batch);
                    } catch (RuntimeException e) {
                        error = e;
                        LOG.error("storing samples failed", e);
                        stop();
                    }
                }
                batch.clear();
            }
        }
    }
}
