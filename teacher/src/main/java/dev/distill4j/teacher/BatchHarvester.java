package dev.distill4j.teacher;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.Sample;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.Usage;
import dev.distill4j.core.io.PromptDuplicates;
import dev.distill4j.core.io.PromptReader;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.core.store.StoredBatch;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Harvests a prompt file through a provider's batch API ({@link BatchApi}: OpenAI's Batch API, Anthropic's Message
 * Batches) instead of one request per sample: half the price, answers within the provider's window (24 h).
 *
 * <p>The same run, keys, store and budget as {@link Harvester}: a sample's content key does not depend on how it was
 * asked, so a run may mix online and batch harvests, and {@code inspect}/{@code export}/{@code train} see no
 * difference. What differs:
 *
 * <ol>
 *   <li><b>Submit.</b> The prompt file is streamed as by {@link Harvester}; samples that are not stored as done (or
 *       failed, unless {@code retryFailed}) and are in no open batch go into batch files up to the provider's limits
 *       ({@link BatchApi#maxRequests()}, {@link BatchApi#maxBytes()}). Before a batch is sent, its worst case (every
 *       request's prompt bound plus {@code max_tokens}) is reserved in the {@link Budget}, whose prices are the
 *       batch prices; a batch is closed early when the next request would not fit, and reading stops there. The
 *       batch and its sample keys are stored ({@link StoredBatch.State#SUBMITTING}) <em>before</em> the provider is
 *       asked, and marked open with the provider's id after.</li>
 *   <li><b>Poll.</b> Every open batch is polled, first after {@code pollInterval}, then at intervals growing by
 *       half up to {@code maxPollInterval} while nothing changes (back to the first interval when a count
 *       moves).</li>
 *   <li><b>Collect.</b> An ended batch's results are matched to its samples by {@code custom_id} (the sample key)
 *       and stored with the batch marked collected in one transaction; the reservation is settled at what was
 *       billed. Answers are done samples. A request the provider failed for good (400-type) is a failed sample, as
 *       online; one that failed in a retryable way (5xx, overloaded, rate limited), that the window left undone
 *       (expired, cancelled), or that is missing from the results is <b>re-queued</b>: it stays pending (with its
 *       attempt counted and the cause recorded) and goes into the next batch of this run, until
 *       {@code maxAttempts} attempts, after which it is failed (and {@code --retry-failed} asks again later).</li>
 * </ol>
 *
 * <p><b>Resuming.</b> Killed at any point, the same command picks up where it was: open batches are polled again
 * (their worst case held in the budget, since it is already committed), collected batches are never fetched again,
 * and their samples are never submitted again while a batch holds them.
 *
 * <p><b>A create call whose answer was lost</b> (a timeout or a broken connection after the request went out, or a
 * kill between the create call and the store's commit) may have made the batch, so before its samples are sent again
 * the provider is asked for it ({@link BatchApi#candidates}): OpenAI's by our id in its metadata, Anthropic's (no
 * metadata) by a creation time near ours and our request count. Batches this run already knows are never candidates.
 * Then:
 *
 * <ul>
 *   <li><b>one candidate</b>: adopted as ours, polled and collected like any other. Its results are matched to our
 *       samples by {@code custom_id}, so a wrong adoption (another client's batch of the same size at the same time)
 *       stores nothing of it: our samples are missing from it, re-queued and asked again, never bought twice;</li>
 *   <li><b>none</b>: the create never made a batch, and its samples are submitted again;</li>
 *   <li><b>several</b>: those that have ended are told apart by their results: the one that holds our sample keys
 *       is ours. If none of them does and some are still running, the run stops with {@link UnconfirmedBatchException}
 *       naming them: rerun once they have ended (their results then say), or set
 *       {@link Options#resubmitUnconfirmed} to submit the samples again knowingly (bought twice if one was ours).</li>
 * </ul>
 *
 * <p>This happens at once within the run (after the retry's backoff, so that a create still under way at the
 * provider has made its batch before we look) and, for a batch a stopped run left stored as submitting, when the
 * next run starts.
 */
public final class BatchHarvester {
    private static final Logger LOG = LoggerFactory.getLogger(BatchHarvester.class);
    private static final int CHUNK = 512;

    /**
     * @param promptsFile         JSONL or CSV prompt file
     * @param samplesPerPrompt    samples per prompt (each its own request and key)
     * @param retryFailed         ask again for samples stored as failed
     * @param strict              abort on the first malformed prompt line instead of skipping it
     * @param maxAttempts         attempts per sample over batches (a re-queued sample counts one per batch), and per
     *                            control call (upload, create, poll, download) for retryable HTTP errors
     * @param pollInterval        first wait between polls
     * @param maxPollInterval     longest wait between polls
     * @param maxRequestsPerBatch most requests per batch, at most the provider's limit (lower it to split a harvest)
     * @param resubmitUnconfirmed submit again the samples of a batch whose create answer was lost when several
     *                            batches at the provider may be it and none can be told apart yet (instead of
     *                            stopping with {@link UnconfirmedBatchException}); one that was ours is bought twice
     */
    public record Options(Path promptsFile, int samplesPerPrompt, boolean retryFailed, boolean strict,
                          int maxAttempts, Duration pollInterval, Duration maxPollInterval, int maxRequestsPerBatch,
                          boolean resubmitUnconfirmed) {
        public Options {
            if (samplesPerPrompt < 1) throw new InvalidInputException("--samples-per-prompt must be ≥ 1");
            if (maxAttempts < 1) throw new InvalidInputException("--max-attempts must be ≥ 1");
            if (maxRequestsPerBatch < 1) throw new InvalidInputException("--batch-size must be ≥ 1");
            if (pollInterval.isNegative() || pollInterval.isZero()) {
                throw new InvalidInputException("--poll-interval must be positive");
            }
            if (maxPollInterval.compareTo(pollInterval) < 0) maxPollInterval = pollInterval;
        }
    }

    /** What the harvest is doing. */
    public enum Phase { RESUMING, SUBMITTING, POLLING, COLLECTING, FINISHED }

    /**
     * A live view for the progress line.
     *
     * @param submitted      requests this run put into new batches
     * @param resumed        requests in open batches an earlier run submitted
     * @param openBatches    batches submitted and not yet collected
     * @param openRequests   requests in them
     * @param openFinished   of those, finished at the provider by its last count
     * @param requeued       samples re-queued for another batch (retryable failure, expired, cancelled, missing)
     * @param nextPoll       time to the next poll (zero while not waiting)
     */
    public record Progress(Phase phase, long promptsRead, long malformed, long samplesSeen, long alreadyDone,
                           long inOpenBatch, long submitted, long resumed, int openBatches, long openRequests,
                           long openFinished, long done, long failed, long requeued, long retries,
                           long promptTokens, long completionTokens, double spentUsd, Duration elapsed,
                           Duration nextPoll, long batchesSubmitted, long batchesCollected) {}

    /**
     * @param fatal what ended the run when {@code outcome} is {@code FATAL}: a {@link TeacherException} from the
     *              provider, or an {@link UnconfirmedBatchException}
     * @param notes lines for the user: batches found again or submitted again after a kill, batches that failed
     *              validation
     */
    public record Result(Harvester.Outcome outcome, Progress progress, Exception fatal,
                         List<String> malformedLines, PromptDuplicates duplicates, List<String> notes) {}

    /**
     * A create call's answer was lost and several batches at the provider may be the one it made, none of which can
     * be told apart yet: nothing of that batch is submitted again until they end or the user says so
     * ({@link Options#resubmitUnconfirmed}).
     */
    public static final class UnconfirmedBatchException extends Exception {
        private final List<String> candidateIds;

        UnconfirmedBatchException(String message, List<String> candidateIds) {
            super(message);
            this.candidateIds = List.copyOf(candidateIds);
        }

        /** The provider's ids of the batches that may be ours. */
        public List<String> candidateIds() { return candidateIds; }
    }

    private final HttpTeacher teacher;
    private final BatchApi api;
    private final RunStore store;
    private final Options options;
    private final Budget budget;
    private final Backoff backoff;

    private final Map<String, OpenBatch> open = new LinkedHashMap<>();
    private final List<Sample> requeue = new ArrayList<>();
    private final List<String> malformedLines = new ArrayList<>();
    private final List<String> notes = java.util.Collections.synchronizedList(new ArrayList<>());
    private final AtomicLong promptsRead = new AtomicLong();
    private final AtomicLong malformed = new AtomicLong();
    private final AtomicLong samplesSeen = new AtomicLong();
    private final AtomicLong alreadyDone = new AtomicLong();
    private final AtomicLong inOpenBatch = new AtomicLong();
    private final AtomicLong submitted = new AtomicLong();
    private final AtomicLong resumed = new AtomicLong();
    private final AtomicLong done = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong requeued = new AtomicLong();
    private final AtomicLong retries = new AtomicLong();
    private final AtomicLong promptTokens = new AtomicLong();
    private final AtomicLong completionTokens = new AtomicLong();
    private final AtomicLong batchesSubmitted = new AtomicLong();
    private final AtomicLong batchesCollected = new AtomicLong();
    private final AtomicReference<Harvester.Outcome> stopReason = new AtomicReference<>();
    /** The budget holds no room for the next request: nothing more is submitted, open batches are still collected. */
    private volatile boolean budgetReached;
    private volatile Phase phase = Phase.RESUMING;
    private volatile long nextPollAtNanos;
    private volatile Thread runner;
    private volatile boolean sleeping;
    private volatile long startNanos;
    private volatile Map<String, BatchApi.Counts> lastCounts = Map.of();
    private PromptDuplicates checked;
    private Builder current;

    /** A batch the provider holds, with the budget reservation of its worst case. */
    private record OpenBatch(StoredBatch stored, Budget.Reservation reservation) {}

    /**
     * @param budget priced at the batch prices (the CLI halves the online prices), so reservations and stored costs
     *               are what the batch is billed
     */
    public BatchHarvester(HttpTeacher teacher, BatchApi api, RunStore store, Options options, Budget budget,
                          Backoff backoff) {
        this.teacher = teacher;
        this.api = api;
        this.store = store;
        this.options = options;
        this.budget = budget;
        this.backoff = backoff;
    }

    /** As {@link Harvester#withCheckedPrompts}. */
    public BatchHarvester withCheckedPrompts(PromptDuplicates scanned) {
        this.checked = java.util.Objects.requireNonNull(scanned, "scanned");
        return this;
    }

    /**
     * Stops polling (Ctrl-C): an HTTP call under way finishes, nothing new is submitted, and the batches stay open at
     * the provider and in the run, so the same command resumes them.
     */
    public void stop() {
        stopReason.compareAndSet(null, Harvester.Outcome.INTERRUPTED);
        Thread t = runner;
        if (t != null && sleeping) t.interrupt();
    }

    public Progress progress() {
        long elapsed = startNanos == 0 ? 0 : System.nanoTime() - startNanos;
        long openRequests = 0;
        long openFinished = 0;
        int openCount;
        synchronized (open) {
            openCount = open.size();
            for (OpenBatch b : open.values()) openRequests += b.stored().requests();
        }
        for (BatchApi.Counts c : lastCounts.values()) openFinished += c.finished();
        long wait = sleeping ? Math.max(0, nextPollAtNanos - System.nanoTime()) : 0;
        return new Progress(phase, promptsRead.get(), malformed.get(), samplesSeen.get(), alreadyDone.get(),
                inOpenBatch.get(), submitted.get(), resumed.get(), openCount, openRequests, openFinished, done.get(),
                failed.get(), requeued.get(), retries.get(), promptTokens.get(), completionTokens.get(),
                budget.spentUsd(), Duration.ofNanos(elapsed), Duration.ofNanos(wait), batchesSubmitted.get(),
                batchesCollected.get());
    }

    public Result run() throws IOException, InterruptedException {
        runner = Thread.currentThread();
        PromptDuplicates duplicates = checked != null ? checked : PromptDuplicates.scan(options.promptsFile(), store);
        startNanos = System.nanoTime();
        Exception fatal = null;
        try {
            resume();
            phase = Phase.SUBMITTING;
            submitPromptFile();
            while (stopReason.get() == null) {
                phase = Phase.POLLING;
                pollUntilCollected();
                if (stopReason.get() != null || requeue.isEmpty() || budgetReached) break;
                phase = Phase.SUBMITTING;
                submitRequeued();
            }
        } catch (TeacherException | UnconfirmedBatchException e) {
            fatal = e;
        } finally {
            if (current != null) current.discard();
            sleeping = false;
        }
        phase = Phase.FINISHED;
        Harvester.Outcome outcome = fatal != null ? Harvester.Outcome.FATAL
                : stopReason.get() != null ? stopReason.get()
                : budgetReached ? Harvester.Outcome.BUDGET_REACHED : Harvester.Outcome.COMPLETE;
        return new Result(outcome, progress(), fatal, List.copyOf(malformedLines), duplicates, List.copyOf(notes));
    }

    // ------------------------------------------------------------------------------------------------ resume

    /** Finds the batches an earlier run left: submissions never confirmed, and open batches to poll again. */
    private void resume() throws TeacherException, InterruptedException, UnconfirmedBatchException {
        for (StoredBatch b : store.batches(StoredBatch.State.SUBMITTING)) {
            if (!b.provider().equals(api.provider())) continue;
            switch (confirm(b)) {
                case Adopted(BatchApi.Status s, String how) -> {
                    store.updateBatch(b.accepted(s.providerId(), null, s.status(), s.json()));
                    notes.add("batch " + s.providerId() + " (" + b.requests() + " requests) was submitted before the"
                            + " last run stopped, without its id being stored; found it again by " + how);
                }
                case NotMade(String why) -> {
                    store.dropBatch(b.id());
                    notes.add(b.requests() + " requests whose batch submission was never confirmed are submitted"
                            + " again (" + why + ")");
                }
            }
        }
        for (StoredBatch b : store.batches(StoredBatch.State.OPEN)) {
            if (!b.provider().equals(api.provider())) {
                notes.add("batch " + b.providerId() + " of " + b.provider() + " is open in this run: harvest with"
                        + " --provider " + b.provider() + " --batch to collect it");
                continue;
            }
            synchronized (open) {
                open.put(b.id(), new OpenBatch(b, budget.hold(b.reservedUsd())));
            }
            resumed.addAndGet(b.requests());
        }
    }

    // ------------------------------------------------------------------------------------------------ submit

    private void submitPromptFile() throws IOException, InterruptedException, TeacherException,
            UnconfirmedBatchException {
        PromptDuplicates duplicates = checked;
        try (PromptReader reader = duplicates == null ? PromptReader.openUnique(options.promptsFile())
                : PromptReader.openUnique(options.promptsFile(), duplicates)) {
            List<Prompt> chunk = new ArrayList<>(CHUNK);
            boolean first = true;
            while (reader.hasNext() && stopReason.get() == null && !budgetReached) {
                switch (reader.next()) {
                    case PromptReader.Ok ok -> {
                        chunk.add(ok.prompt());
                        promptsRead.incrementAndGet();
                    }
                    case PromptReader.Malformed bad -> onMalformed(bad);
                }
                if (chunk.size() == CHUNK) {
                    queueChunk(chunk, first);
                    first = false;
                    chunk.clear();
                }
            }
            if (!chunk.isEmpty() && stopReason.get() == null && !budgetReached) queueChunk(chunk, first);
        }
        if (stopReason.get() == null) flush();
    }

    private void onMalformed(PromptReader.Malformed bad) throws Harvester.MalformedPromptException {
        String where = bad.file() + ":" + bad.line() + ": " + bad.reason();
        if (options.strict()) {
            throw new Harvester.MalformedPromptException("malformed prompt at " + where
                    + " (fix the line, or drop --strict to skip malformed lines)");
        }
        malformed.incrementAndGet();
        if (malformedLines.size() < 20) malformedLines.add(where);
        LOG.warn("skipping malformed prompt at {}", where);
    }

    /** Stores a chunk's prompts, decides which of its samples to ask for, and adds them to batches. */
    private void queueChunk(List<Prompt> chunk, boolean firstChunk)
            throws IOException, InterruptedException, TeacherException, UnconfirmedBatchException {
        List<Sample> candidates = Harvester.candidates(teacher, chunk, options.samplesPerPrompt(), Instant.now());
        List<String> keys = candidates.stream().map(Sample::key).toList();
        store.putPrompts(chunk);
        Map<String, Sample> existing = store.find(keys);
        Set<String> inBatch = store.keysInOpenBatches(keys);
        List<Sample> fresh = new ArrayList<>();
        List<Sample> todo = new ArrayList<>();
        for (Sample c : candidates) {
            samplesSeen.incrementAndGet();
            Sample old = existing.get(c.key());
            if (old != null && (old.status() == SampleStatus.DONE
                    || (old.status() == SampleStatus.FAILED && !options.retryFailed()))) {
                alreadyDone.incrementAndGet();
            } else if (inBatch.contains(c.key())) {
                inOpenBatch.incrementAndGet();
            } else if (old == null) {
                fresh.add(c);
                todo.add(c);
            } else {
                todo.add(old);
            }
        }
        store.putPending(fresh);
        Map<String, Prompt> byId = new HashMap<>();
        for (Prompt p : chunk) byId.put(p.id(), p);
        List<Sample> invalid = new ArrayList<>();
        for (Sample s : todo) {
            if (stopReason.get() != null || budgetReached) break;
            Prompt prompt = byId.get(s.promptId());
            ObjectNode body;
            try {
                body = teacher.body(prompt, s.sampleIndex());
            } catch (IllegalArgumentException e) {
                if (firstChunk && s == todo.getFirst() && prompt == chunk.getFirst()) {
                    throw new InvalidInputException(prompt.source() + ":" + prompt.line() + ": " + e.getMessage(), e);
                }
                failed.incrementAndGet();
                invalid.add(s.toBuilder().status(SampleStatus.FAILED).error("invalid prompt: " + e.getMessage(), null)
                        .updatedAt(Instant.now()).build());
                continue;
            }
            add(s, prompt, body);
        }
        if (!invalid.isEmpty()) store.upsertSamples(invalid);
    }

    /** Puts the samples re-queued by collected batches into new batches. */
    private void submitRequeued() throws IOException, InterruptedException, TeacherException,
            UnconfirmedBatchException {
        List<Sample> again = List.copyOf(requeue);
        requeue.clear();
        Map<String, Prompt> prompts = store.prompts(again.stream().map(Sample::promptId).toList());
        for (Sample s : again) {
            if (stopReason.get() != null || budgetReached) break;
            Prompt p = prompts.get(s.promptId());
            if (p == null) continue; // its prompt is not stored: nothing to ask
            add(s, p, teacher.body(p, s.sampleIndex()));
        }
        if (stopReason.get() == null) flush();
    }

    /** Adds one request to the batch being built, sending that batch first when the request does not fit in it. */
    private void add(Sample s, Prompt prompt, ObjectNode body) throws IOException, InterruptedException,
            TeacherException, UnconfirmedBatchException {
        byte[] line = api.line(s.key(), body);
        Usage worst = teacher.size(new TeacherRequest(prompt, s.sampleIndex(), s.key())).worstCase();
        long limitBytes = api.maxBytes();
        int limitRequests = Math.min(api.maxRequests(), options.maxRequestsPerBatch());
        if (current != null && (current.count >= limitRequests || current.bytesWith(line) > limitBytes)) flush();
        if (current != null && !fits(current.worst.plus(worst))) flush();
        if (!fits(worst)) {
            // nothing more fits in the budget once the batches in flight are paid at their worst case
            budgetReached = true;
            return;
        }
        if (line.length + api.prefix().length + api.suffix().length > limitBytes) {
            failed.incrementAndGet();
            store.upsertSamples(List.of(s.toBuilder().status(SampleStatus.FAILED)
                    .error("bad_request: the request alone is larger than a batch may be (" + limitBytes
                            + " bytes)", null).updatedAt(Instant.now()).build()));
            return;
        }
        if (current == null) current = new Builder(store.runDir());
        current.add(s.key(), line, worst);
    }

    private boolean fits(Usage worstCase) {
        return budget.remainingUsd() >= budget.cost(worstCase);
    }

    /** Sends the batch being built: reserve its worst case, store it as submitting, submit, store it as open. */
    private void flush() throws IOException, InterruptedException, TeacherException, UnconfirmedBatchException {
        Builder b = current;
        current = null;
        if (b == null || b.count == 0) {
            if (b != null) b.discard();
            return;
        }
        try {
            Path file = b.finish();
            Budget.Reservation reservation = budget.tryReserve(b.worst.promptTokens(), b.worst.completionTokens())
                    .orElse(null);
            if (reservation == null) {
                // cannot happen: add() checked that it fits, and only this thread reserves
                budgetReached = true;
                return;
            }
            StoredBatch stored = new StoredBatch(b.localId, api.provider(), null, null, StoredBatch.State.SUBMITTING,
                    null, b.count, reservation.usd(), null, Instant.now(), Instant.now());
            store.putBatch(stored, b.keys);
            BatchApi.Submitted sub;
            try {
                sub = submit(stored, file);
            } catch (TeacherException e) {
                if (e.billing() == TeacherException.Billing.NONE) {
                    // the provider refused it (an error status) or never heard of it: nothing was bought
                    store.dropBatch(b.localId);
                    budget.release(reservation);
                }
                // else the answer was lost after the request was sent: the batch may exist, so it stays stored as
                // submitting and the next run looks it up before submitting its samples again
                throw e;
            }
            StoredBatch accepted = stored.accepted(sub.providerId(), sub.inputFileId(), sub.status().status(),
                    sub.status().json());
            store.updateBatch(accepted);
            synchronized (open) {
                open.put(b.localId, new OpenBatch(accepted, reservation));
            }
            submitted.addAndGet(b.count);
            batchesSubmitted.incrementAndGet();
            LOG.info("submitted batch {} ({} requests)", sub.providerId(), b.count);
        } finally {
            b.discard();
        }
    }

    /**
     * Submits a batch file, retrying as {@link #retrying} does, except that a create call whose answer was lost (a
     * timeout, a broken connection, a 2xx that could not be read) may have made the batch: after the backoff's wait
     * (so that a create still under way at the provider has made its batch), the provider is asked for it
     * ({@link #confirm}) before anything is sent again, also after the last attempt. Stopped meanwhile, or when the
     * provider cannot be asked, the failure ends the run with the batch stored as submitting, and the next run asks.
     */
    private BatchApi.Submitted submit(StoredBatch stored, Path file)
            throws TeacherException, InterruptedException, UnconfirmedBatchException {
        for (int attempt = 1; ; attempt++) {
            try {
                return api.submit(stored.id(), file, stored.requests());
            } catch (TeacherException e) {
                boolean lost = e.billing() != TeacherException.Billing.NONE;
                boolean again = e.kind().retryable() && attempt < backoff.maxAttempts() && stopReason.get() == null;
                if (!lost && !again) throw e;
                if (!sleep(backoff.delay(attempt, e.retryAfter()))) throw e;
                if (lost && confirmAfterLoss(stored, e) instanceof Adopted(BatchApi.Status s, String how)) {
                    notes.add("batch " + s.providerId() + " (" + stored.requests() + " requests): the answer to its"
                            + " create call was lost; found it by " + how);
                    return new BatchApi.Submitted(s.providerId(), null, s);
                }
                if (!again) throw e;
                retries.incrementAndGet();
            }
        }
    }

    /**
     * {@link #confirm} within the run. When the provider cannot be asked, the error says so and counts as a lost
     * answer ({@code WORST_CASE}), so that {@link #flush} keeps the batch stored as submitting for the next run.
     */
    private Confirmation confirmAfterLoss(StoredBatch stored, TeacherException lost)
            throws TeacherException, InterruptedException, UnconfirmedBatchException {
        try {
            return confirm(stored);
        } catch (TeacherException e) {
            TeacherException t = new TeacherException(e.kind(), e.status(), "the answer to the create call of batch "
                    + stored.id() + " was lost (" + lost.getMessage() + "), and looking for the batch at the provider"
                    + " failed: " + e.getMessage() + "; it stays in the run and the next run looks for it again",
                    e.retryAfter(), e.bodyExcerpt(), e.requestId(), e.rateLimits(), e,
                    TeacherException.Billing.WORST_CASE, null);
            t.addSuppressed(lost);
            throw t;
        }
    }

    // ------------------------------------------------------------------------------------------------ confirm

    /** What the provider says of a batch whose create answer was lost. */
    private sealed interface Confirmation permits Adopted, NotMade {}

    /** This batch at the provider is ours; {@code how} says how it was told, for the user's note. */
    private record Adopted(BatchApi.Status status, String how) implements Confirmation {}

    /** No batch at the provider is ours (or the user chose to submit again); {@code why}, for the note. */
    private record NotMade(String why) implements Confirmation {}

    /**
     * Asks the provider for the batch {@code b} whose create answer was lost: one candidate is adopted; several are
     * told apart by the results of those that have ended (the one holding our sample keys is ours); several that
     * cannot be told apart stop the run unless {@link Options#resubmitUnconfirmed}. Batches the run already holds are
     * never candidates (a harvest's full batches all have the same size).
     */
    private Confirmation confirm(StoredBatch b)
            throws TeacherException, InterruptedException, UnconfirmedBatchException {
        Set<String> known = new HashSet<>();
        for (StoredBatch x : store.batches(null)) if (x.providerId() != null) known.add(x.providerId());
        List<BatchApi.Status> candidates = new ArrayList<>();
        for (BatchApi.Status s : retrying("look for batch " + b.id(),
                () -> api.candidates(b.id(), b.createdAt(), b.requests()))) {
            if (!known.contains(s.providerId())) candidates.add(s);
        }
        if (candidates.isEmpty()) return new NotMade("the provider holds no batch that may be it");
        if (candidates.size() == 1) return new Adopted(candidates.getFirst(), api.candidatesMatchedBy());
        Set<String> keys = new HashSet<>(store.batchSampleKeys(b.id()));
        List<BatchApi.Status> ours = new ArrayList<>();
        List<BatchApi.Status> running = new ArrayList<>();
        for (BatchApi.Status s : candidates) {
            if (!s.ended()) {
                running.add(s);
            } else if (holdsAny(s, keys)) {
                ours.add(s);
            }
        }
        if (!ours.isEmpty()) {
            if (ours.size() > 1) {
                notes.add("batches " + ids(ours) + " all hold requests of batch " + b.id() + " (its create call was"
                        + " answered more than once); " + ours.getFirst().providerId() + " is collected, the others"
                        + " were bought too");
            }
            return new Adopted(ours.getFirst(), "its results, which hold this batch's requests (one of "
                    + candidates.size() + " batches of " + b.requests() + " requests made at that time)");
        }
        if (running.isEmpty()) {
            return new NotMade("the " + candidates.size() + " batches of that size made at that time have ended"
                    + " without any of its requests");
        }
        if (options.resubmitUnconfirmed()) {
            notes.add("--resubmit-unconfirmed: batch " + b.id() + " (" + b.requests() + " requests) is submitted again"
                    + " although " + ids(running) + " may be it; if one is, its requests are bought twice");
            return new NotMade("--resubmit-unconfirmed");
        }
        throw new UnconfirmedBatchException("the create call of batch " + b.id() + " (" + b.requests()
                + " requests, sent at " + b.createdAt().truncatedTo(ChronoUnit.SECONDS) + ") got no answer, and "
                + candidates.size() + " batches at the provider may be it, matched by " + api.candidatesMatchedBy()
                + ": "
                + describe(candidates) + ". Nothing was submitted again. Rerun the same command once "
                + (running.size() == 1 ? "it has" : "they have") + " ended (their results then show which is"
                + " this run's), or rerun with --resubmit-unconfirmed to submit these requests again (if one of"
                + " those batches is this run's, they are bought twice)", ids(candidates));
    }

    /** Whether an ended batch's results hold any of {@code keys}. */
    private boolean holdsAny(BatchApi.Status ended, Set<String> keys) throws TeacherException, InterruptedException {
        return retrying("read the results of batch " + ended.providerId(), () -> {
            boolean[] hit = {false};
            api.results(ended, item -> hit[0] |= keys.contains(item.customId()));
            return hit[0];
        });
    }

    private static List<String> ids(List<BatchApi.Status> batches) {
        return batches.stream().map(BatchApi.Status::providerId).toList();
    }

    private static String describe(List<BatchApi.Status> batches) {
        List<String> out = new ArrayList<>();
        for (BatchApi.Status s : batches) {
            out.add(s.providerId() + " (" + s.status()
                    + (s.createdAt() == null ? "" : ", made " + s.createdAt().truncatedTo(ChronoUnit.SECONDS)) + ")");
        }
        return String.join(", ", out);
    }

    /** The batch being built: its requests in a temporary file in the run folder, their keys and worst case. */
    private final class Builder {
        final String localId = "b-" + UUID.randomUUID();
        final List<String> keys = new ArrayList<>();
        final Path file;
        final OutputStream out;
        Usage worst = Usage.ZERO;
        int count;
        long bytes;

        Builder(Path runDir) throws IOException {
            file = Files.createTempFile(runDir, "batch-", ".part");
            out = new java.io.BufferedOutputStream(Files.newOutputStream(file), 1 << 16);
            byte[] prefix = api.prefix();
            out.write(prefix);
            bytes = prefix.length;
        }

        long bytesWith(byte[] line) {
            return bytes + (count == 0 ? 0 : api.separator().length) + line.length + api.suffix().length;
        }

        void add(String key, byte[] line, Usage w) throws IOException {
            if (count > 0) {
                out.write(api.separator());
                bytes += api.separator().length;
            }
            out.write(line);
            bytes += line.length;
            keys.add(key);
            worst = worst.plus(w);
            count++;
        }

        Path finish() throws IOException {
            out.write(api.suffix());
            out.close();
            return file;
        }

        void discard() {
            try {
                out.close();
            } catch (IOException ignored) {
                // deleting it anyway
            }
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                LOG.warn("could not delete {}: {}", file, e.getMessage());
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ poll

    private void pollUntilCollected() throws InterruptedException, TeacherException, IOException {
        Duration interval = options.pollInterval();
        boolean first = true;
        while (stopReason.get() == null) {
            List<OpenBatch> batches;
            synchronized (open) {
                batches = List.copyOf(open.values());
            }
            if (batches.isEmpty()) return;
            // the first poll at once (a resumed batch may have ended long ago), then at the growing interval
            if (!first && !sleep(interval)) return;
            first = false;
            boolean moved = false;
            Map<String, BatchApi.Counts> counts = new HashMap<>(lastCounts);
            for (OpenBatch b : batches) {
                if (stopReason.get() != null) return;
                BatchApi.Status s;
                try {
                    s = retrying("poll batch " + b.stored().providerId(), () -> api.poll(b.stored().providerId()));
                } catch (TeacherException e) {
                    if (e.kind() != TeacherException.Kind.NOT_FOUND) throw e;
                    throw new TeacherException(e.kind(), e.status(), "the provider does not know batch "
                            + b.stored().providerId() + " of this run (404: deleted, or past its retention), so its "
                            + b.stored().requests() + " requests cannot be collected; check the provider's"
                            + " console, the API key's project, and --base-url: " + e.getMessage(), null,
                            e.bodyExcerpt(), e.requestId(), e.rateLimits(), e);
                }
                BatchApi.Counts before = counts.put(b.stored().id(), s.counts());
                if (!s.counts().equals(before) || !s.status().equals(b.stored().status())) moved = true;
                if (s.ended()) {
                    phase = Phase.COLLECTING;
                    collect(b, s);
                    counts.remove(b.stored().id());
                    phase = Phase.POLLING;
                } else if (!s.status().equals(b.stored().status())) {
                    StoredBatch updated = b.stored().with(StoredBatch.State.OPEN, s.status(), s.json());
                    store.updateBatch(updated);
                    synchronized (open) {
                        open.put(updated.id(), new OpenBatch(updated, b.reservation()));
                    }
                }
            }
            lastCounts = Map.copyOf(counts);
            interval = moved ? options.pollInterval()
                    : min(options.maxPollInterval(), Duration.ofNanos((long) (interval.toNanos() * 1.5)));
        }
    }

    /** Waits {@code d}; false when stopped meanwhile. */
    private boolean sleep(Duration d) {
        nextPollAtNanos = System.nanoTime() + d.toNanos();
        sleeping = true;
        try {
            if (stopReason.get() != null) return false;
            Thread.sleep(d);
            return stopReason.get() == null;
        } catch (InterruptedException e) {
            return false;
        } finally {
            sleeping = false;
            Thread.interrupted(); // a stop() that raced the end of the sleep must not break the next HTTP call
        }
    }

    private static Duration min(Duration a, Duration b) { return a.compareTo(b) <= 0 ? a : b; }

    // ------------------------------------------------------------------------------------------------ collect

    /** Stores an ended batch's results and settles its reservation. */
    private void collect(OpenBatch b, BatchApi.Status s) throws TeacherException, InterruptedException {
        List<String> keys = store.batchSampleKeys(b.stored().id());
        Map<String, BatchApi.Item> items = new HashMap<>();
        if (s.outputFileId() == null && s.errorFileId() == null && s.resultsUrl() == null && s.errors() != null) {
            // OpenAI: the input file failed validation, nothing ran
            notes.add("batch " + s.providerId() + " failed validation: " + s.errors());
            TeacherException e = new TeacherException(TeacherException.Kind.BAD_REQUEST, 0,
                    "the batch failed validation: " + s.errors(), null, null, null, null, null);
            for (String k : keys) items.put(k, new BatchApi.Failed(k, e, Usage.ZERO));
        } else {
            retrying("download the results of batch " + s.providerId(), () -> {
                items.clear();
                api.results(s, item -> items.put(item.customId(), item));
                return null;
            });
        }
        Map<String, Sample> existing = store.find(keys);
        List<Sample> results = new ArrayList<>(keys.size());
        Usage billed = Usage.ZERO;
        List<String> lostPrompts = new ArrayList<>();
        long latency = Math.max(0, Instant.now().toEpochMilli() - b.stored().createdAt().toEpochMilli());
        Instant now = Instant.now();
        for (String key : keys) {
            Sample prev = existing.get(key);
            if (prev == null) continue; // not stored as pending: cannot happen, pending is stored before submitting
            if (prev.status() == SampleStatus.DONE) {
                // answered meanwhile (an online harvest of the same run): keep that answer, but this one was billed
                if (items.get(key) instanceof BatchApi.Answered a) billed = billed.plus(a.answer().usage());
                continue;
            }
            int attempts = prev.attempts() + 1;
            BatchApi.Item item = items.getOrDefault(key,
                    new BatchApi.NotRun(key, "missing from the batch's results"));
            switch (item) {
                case BatchApi.Answered a -> {
                    HttpTransport.Answer r = a.answer();
                    billed = billed.plus(r.usage());
                    done.incrementAndGet();
                    promptTokens.addAndGet(r.usage().promptTokens());
                    completionTokens.addAndGet(r.usage().completionTokens());
                    results.add(prev.toBuilder().status(SampleStatus.DONE).text(r.text())
                            .finishReason(r.finishReason()).capability(teacher.capability()).tokens(r.tokens())
                            .usage(r.usage()).costUsd(prev.costUsd() + budget.cost(r.usage())).latencyMs(latency)
                            .requestId(a.requestId()).error(null, null).attempts(attempts).updatedAt(now).build());
                }
                case BatchApi.Failed f -> {
                    double cost = 0;
                    if (f.billed() != null) {
                        billed = billed.plus(f.billed());
                        cost = budget.cost(f.billed());
                    } else {
                        lostPrompts.add(prev.promptId());
                    }
                    TeacherException e = f.error();
                    String cause = e.kind().name().toLowerCase(Locale.ROOT)
                            + (e.status() > 0 ? " (http " + e.status() + ")" : "") + ": " + e.getMessage();
                    results.add(requeueOrFail(prev.toBuilder().costUsd(prev.costUsd() + cost)
                            .requestId(e.requestId()).error(cause, e.bodyExcerpt()).attempts(attempts).updatedAt(now),
                            e.kind().retryable(), attempts));
                }
                case BatchApi.NotRun n -> {
                    String cause = "not_run: the batch did not run it (" + n.why() + ")";
                    results.add(requeueOrFail(prev.toBuilder().error(cause, null).attempts(attempts).updatedAt(now),
                            true, attempts));
                }
            }
        }
        // an answer billed but unreadable costs its worst case, as online (docs/teachers.md)
        if (!lostPrompts.isEmpty()) billed = billed.plus(worstCaseOf(lostPrompts, results));
        store.collectBatch(b.stored().with(StoredBatch.State.OPEN, s.status(), s.json()), results);
        budget.settle(b.reservation(), billed);
        synchronized (open) {
            open.remove(b.stored().id());
        }
        batchesCollected.incrementAndGet();
        LOG.info("collected batch {}: {} ({})", s.providerId(), s.status(), s.counts());
    }

    /**
     * A sample a batch did not answer: pending again and re-queued for the next batch when it may be asked again
     * ({@code retryable}, attempts left), else failed.
     */
    private Sample requeueOrFail(Sample.Builder unanswered, boolean retryable, int attempts) {
        if (retryable && attempts < options.maxAttempts()) {
            Sample again = unanswered.status(SampleStatus.PENDING).build();
            requeue.add(again);
            requeued.incrementAndGet();
            return again;
        }
        failed.incrementAndGet();
        return unanswered.status(SampleStatus.FAILED).build();
    }

    /** The worst case of the samples whose answers were billed but lost, added to their stored cost. */
    private Usage worstCaseOf(List<String> promptIds, List<Sample> results) {
        Map<String, Prompt> prompts = store.prompts(promptIds);
        Usage total = Usage.ZERO;
        for (int i = 0; i < results.size(); i++) {
            Sample s = results.get(i);
            if (s.status() == SampleStatus.DONE || !promptIds.contains(s.promptId())) continue;
            Prompt p = prompts.get(s.promptId());
            if (p == null || s.errorCause() == null || !s.errorCause().startsWith("malformed_response")) continue;
            Usage w = teacher.size(new TeacherRequest(p, s.sampleIndex(), s.key())).worstCase();
            total = total.plus(w);
            results.set(i, s.toBuilder().costUsd(s.costUsd() + budget.cost(w)).build());
        }
        return total;
    }

    // ------------------------------------------------------------------------------------------------ retries

    @FunctionalInterface
    private interface Call<T> {
        T call() throws TeacherException;
    }

    /**
     * One control call (upload, create, poll, download) with the online harvest's retry rules: retryable kinds
     * (429 with its Retry-After, 5xx, timeouts, broken connections) wait out {@link Backoff} up to its attempts;
     * anything else, or the last failure, is thrown and ends this run (the batches stay in the run for the next).
     */
    private <T> T retrying(String what, Call<T> call) throws TeacherException, InterruptedException {
        for (int attempt = 1; ; attempt++) {
            try {
                return call.call();
            } catch (TeacherException e) {
                if (!e.kind().retryable() || attempt >= backoff.maxAttempts() || stopReason.get() != null) throw e;
                Duration delay = backoff.delay(attempt, e.retryAfter());
                retries.incrementAndGet();
                LOG.debug("{} failed ({}): {}; retrying in {} ms", what, e.kind(), e.getMessage(), delay.toMillis());
                if (!sleep(delay)) throw e;
            }
        }
    }
}
