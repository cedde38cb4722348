package dev.distill4j.train;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.TokenDistribution;
import dev.distill4j.core.TokenPosition;
import dev.distill4j.core.Usage;
import dev.distill4j.core.store.ScoreStore;
import dev.distill4j.model.tokenizer.HfTokenizer;
import dev.distill4j.teacher.Backoff;
import dev.distill4j.teacher.Budget;
import dev.distill4j.teacher.OpenAiScorer;
import dev.distill4j.teacher.RateLimiter;
import dev.distill4j.teacher.RequestLoop;
import dev.distill4j.teacher.RequestSize;
import dev.distill4j.teacher.TeacherException;
import dev.distill4j.train.data.Batch;
import dev.distill4j.train.data.KdTargets;
import dev.distill4j.train.data.TokenAligner;
import dev.distill4j.train.data.TrainingExample;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The remote teacher's side of an on-policy step: the student's sampled rows go out as text, come back as the
 * teacher's log-probabilities of that text, and are laid onto the student's tokens as KD rows.
 * <pre>
 *   text_i   = bytes of row i's tokens (special tokens as their literal text; what the tokenizer adds itself, e.g.
 *              a BOS, left out)                                      prompt + the student's continuation
 *   key_i    = SHA-256(model, k, text_i)
 *   score_i  = the run's stored score of key_i, else bought: POST /v1/completions (echo + logprobs, or
 *              prompt_logprobs), through RequestLoop (budget → rate limit → call → retries), then stored
 *   row_i    = TokenAligner.align(teacher tokens of text_i → student tokens of the continuation): per student
 *              position its own token first with the teacher's log-probability, then the other listed tokens
 * </pre>
 * Requests of one micro-batch run concurrently (at most {@code --on-policy-concurrency} in flight), and
 * {@link #submit} returns at once, so the trainer samples the next micro-batch and trains the previous one while
 * they are in flight. A score is stored before it is used: a resumed run, which samples the same texts from the same
 * weights, finds every score the interrupted run bought and buys none of them again.
 *
 * <p>Which dialect the server speaks is found once by {@link #start} (a probe, itself a scored text) and stored in
 * the run ({@code teacher_dialects}); later runs read it.
 */
final class RemoteScorer implements AutoCloseable {
    /** Sampled rows out for scoring; {@link #await} turns them into the batch to train on. */
    static final class Pending {
        private final Batch sampled;
        private final long step;
        private final List<CompletableFuture<ScoreStore.Score>> rows;
        private final int[] skip;
        private final int[] promptLen;
        private final int[] len;
        private final byte[][] text;
        private final int[] replyStart;

        private Pending(Batch sampled, long step, int n) {
            this.sampled = sampled;
            this.step = step;
            this.rows = new ArrayList<>(n);
            this.skip = new int[n];
            this.promptLen = new int[n];
            this.len = new int[n];
            this.text = new byte[n][];
            this.replyStart = new int[n];
        }
    }

    /** What the run has bought and reused so far in this process. */
    record Counts(long bought, long reused, long failed, long teacherTokens) {}

    private final OnPolicyTeacher spec;
    private final HfTokenizer tokenizer;
    private final TokenAligner aligner;
    private final int[] added;
    private final ScoreStore store;
    private final OpenAiScorer scorer;
    private final RequestLoop loop;
    private final Budget budget;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final Semaphore inFlight;
    private final TrainListener listener;
    private final AtomicBoolean stopped = new AtomicBoolean();
    private final AtomicBoolean budgetReached = new AtomicBoolean();
    private final AtomicBoolean succeeded = new AtomicBoolean();
    private final AtomicReference<TeacherException> fatal = new AtomicReference<>();
    private final AtomicLong bought = new AtomicLong();
    private final AtomicLong reused = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong boughtTokens = new AtomicLong();
    private final AtomicBoolean warnedFailure = new AtomicBoolean();
    private OpenAiScorer.Dialect dialect;

    RemoteScorer(OnPolicyTeacher spec, Path runDir, HfTokenizer tokenizer, TrainListener listener)
            throws IOException {
        this.spec = spec;
        this.tokenizer = tokenizer;
        this.aligner = new TokenAligner(tokenizer);
        this.added = tokenizer.encode("", true);
        this.listener = listener;
        this.store = ScoreStore.open(runDir);
        ScoreStore.Spend before = store.spend(spec.model());
        // the budget covers the whole run: what earlier runs (and the run before a resume) bought counts
        if (spec.maxTeacherTokens() > 0) {
            // priced at 1 "dollar" per token, the budget counts billed tokens exactly
            this.budget = new Budget(1e6, 1e6, (double) Math.max(0, spec.maxTeacherTokens() - before.tokens()));
        } else if (spec.budgetUsd() != null) {
            this.budget = new Budget(spec.inputUsdPerMillion(), spec.outputUsdPerMillion(),
                    Math.max(0, spec.budgetUsd() - before.costUsd()));
        } else {
            this.budget = new Budget(spec.inputUsdPerMillion(), spec.outputUsdPerMillion(), null);
        }
        this.loop = new RequestLoop(new RateLimiter(spec.requestsPerMinute(), spec.tokensPerMinute()), budget,
                new Backoff(spec.maxAttempts()));
        this.inFlight = new Semaphore(spec.concurrency());
        try {
            this.scorer = new OpenAiScorer(spec.teacherConfig());
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /** The server's scoring dialect: stored by an earlier run, or probed now with {@code sampleText}. */
    OpenAiScorer.Dialect start(String sampleText) {
        String server = scorer.url().toString();
        var stored = store.dialect(server, spec.model());
        if (stored.isPresent()) {
            dialect = OpenAiScorer.Dialect.ofWireName(stored.get());
            return dialect;
        }
        String key = ScoreStore.key(spec.model(), spec.topLogprobs(), sampleText);
        RequestLoop.Outcome<OpenAiScorer.Probe> out = loop.run(size(sampleText.getBytes(StandardCharsets.UTF_8)
                .length, 1), 0, () -> scorer.probe(sampleText, spec.topLogprobs(), key), hooks());
        switch (out) {
            case RequestLoop.Outcome.Done<OpenAiScorer.Probe> d -> {
                dialect = d.response().dialect();
                store.putDialect(server, spec.model(), dialect.wireName());
                store(key, sampleText, d.response().scored(), d.attempts(), 0);
                succeeded.set(true);
                return dialect;
            }
            case RequestLoop.Outcome.Failed<OpenAiScorer.Probe> f -> throw unusable(f.last());
            case RequestLoop.Outcome.Abandoned<OpenAiScorer.Probe> a -> {
                if (fatal.get() != null) throw unusable(fatal.get());
                throw new InvalidInputException("the teacher budget does not allow even the first scoring request to "
                        + scorer.url() + ": raise --max-teacher-tokens / --budget-usd");
            }
        }
    }

    private InvalidInputException unusable(TeacherException e) {
        return new InvalidInputException("cannot score the student's samples with the on-policy teacher "
                + spec.describe() + ": " + e.getMessage() + (e.kind() == TeacherException.Kind.UNREACHABLE
                ? " (start the server, e.g. distill serve --model DIR --port N, or fix --on-policy-teacher)" : ""));
    }

    /**
     * Sends every row of {@code sampled} that has a continuation for scoring (stored scores are read, not bought),
     * and returns at once.
     *
     * @param step the 1-based step the batch trains in (recorded with the scores it buys)
     */
    Pending submit(Batch sampled, long step) {
        int n = sampled.size();
        int t = sampled.seqLen();
        Pending p = new Pending(sampled, step, n);
        List<String> keys = new ArrayList<>(n);
        String[] texts = new String[n];
        for (int row = 0; row < n; row++) {
            int len = 0;
            while (len < t && sampled.attentionMask()[row * t + len] == 1) len++;
            int first = 0;
            while (first < len && sampled.labels()[row * t + first] == TrainingExample.IGNORE) first++;
            int skip = 0;
            while (skip < added.length && skip < first && sampled.inputIds()[row * t + skip] == added[skip]) skip++;
            if (skip < added.length) skip = 0;
            p.skip[row] = skip;
            p.promptLen[row] = first;
            p.len[row] = len;
            if (first >= len) {
                keys.add(null);
                continue;
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (int i = skip; i < len; i++) {
                int id = sampled.inputIds()[row * t + i];
                if (i == first) p.replyStart[row] = out.size();
                out.writeBytes(tokenizer.isSpecial(id) ? tokenizer.tokenString(id).getBytes(StandardCharsets.UTF_8)
                        : tokenizer.tokenBytes(id));
            }
            // bytes that are not whole UTF-8 (a sample cut inside a character) cannot travel as JSON text: they are
            // replaced, and the student positions over them find no teacher bytes (no signal there)
            texts[row] = new String(out.toByteArray(), StandardCharsets.UTF_8);
            p.text[row] = texts[row].getBytes(StandardCharsets.UTF_8);
            keys.add(ScoreStore.key(spec.model(), spec.topLogprobs(), texts[row]));
        }
        Map<String, ScoreStore.Score> stored = store.find(keys.stream().filter(k -> k != null).toList());
        for (int row = 0; row < n; row++) {
            String key = keys.get(row);
            if (key == null) {
                p.rows.add(CompletableFuture.completedFuture(null));
            } else if (stored.containsKey(key)) {
                reused.incrementAndGet();
                p.rows.add(CompletableFuture.completedFuture(stored.get(key)));
            } else {
                String text = texts[row];
                p.rows.add(CompletableFuture.supplyAsync(() -> buy(key, text, step), executor));
            }
        }
        return p;
    }

    /** One score through the request loop, stored; null when it failed or was abandoned. */
    private ScoreStore.Score buy(String key, String text, long step) {
        try {
            inFlight.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
        try {
            RequestLoop.Outcome<OpenAiScorer.Scored> out = loop.run(
                    size(text.getBytes(StandardCharsets.UTF_8).length, dialect == OpenAiScorer.Dialect.ECHO ? 0 : 1),
                    0, () -> scorer.score(dialect, text, spec.topLogprobs(), key), hooks());
            return switch (out) {
                case RequestLoop.Outcome.Done<OpenAiScorer.Scored> d -> {
                    succeeded.set(true);
                    bought.incrementAndGet();
                    yield store(key, text, d.response(), d.attempts(), step);
                }
                case RequestLoop.Outcome.Failed<OpenAiScorer.Scored> f -> {
                    failed.incrementAndGet();
                    if (warnedFailure.compareAndSet(false, true)) {
                        listener.onWarning("the on-policy teacher could not score a sample (" + f.last().getMessage()
                                + "); its tokens get no teacher signal in this step (further failures are counted,"
                                + " not printed)");
                    }
                    yield null;
                }
                case RequestLoop.Outcome.Abandoned<OpenAiScorer.Scored> a -> null;
            };
        } finally {
            inFlight.release();
        }
    }

    private ScoreStore.Score store(String key, String text, OpenAiScorer.Scored s, int attempts, long step) {
        ScoreStore.Score score = new ScoreStore.Score(key, scorer.url().toString(), spec.model(),
                dialect.wireName(), spec.topLogprobs(), text, new TokenDistribution(s.positions()), s.usage(),
                budget.cost(s.usage()), s.requestId(), s.latencyMs(), attempts, step);
        store.put(score);
        boughtTokens.addAndGet(s.usage().totalTokens());
        return score;
    }

    /** The prompt bound is one token per byte (plus one for a BOS); the output is what the dialect generates. */
    private static RequestSize size(int bytes, int maxOutput) {
        return new RequestSize(Math.max(1, bytes / 4), bytes + 1L, maxOutput, 1);
    }

    private RequestLoop.Hooks hooks() {
        return new RequestLoop.Hooks() {
            @Override public boolean stopped() { return stopped.get(); }

            @Override public void budgetReached() { budgetReached.set(true); }

            @Override public boolean fatal(TeacherException e) {
                if (!RequestLoop.stopsEverything(e, succeeded.get())) return false;
                fatal.compareAndSet(null, e);
                stopped.set(true);
                return true;
            }

            @Override public void retrying(int attempt, TeacherException e, Duration delay) {
                listener.onWarning("on-policy teacher: attempt " + attempt + " failed (" + e.getMessage()
                        + "), retrying in " + delay.toMillis() + " ms");
            }
        };
    }

    /** A scored batch and the teacher tokens of the scores it used that were bought for its step. */
    record Scored(Batch batch, long teacherTokens) {}

    /**
     * Waits for {@code p}'s scores and lays them onto the student's tokens: the sampled batch with KD rows (own
     * token first) wherever the teacher's bytes cover a continuation token; elsewhere no row (no signal).
     *
     * @throws InvalidInputException when the teacher failed for good (unreachable, key, unknown model)
     */
    Scored await(Pending p) {
        Batch b = p.sampled;
        int n = b.size();
        int t = b.seqLen();
        KdTargets[] rows = new KdTargets[n];
        int k = 1;
        long tokens = 0;
        for (int row = 0; row < n; row++) {
            ScoreStore.Score score;
            try {
                score = p.rows.get(row).get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the on-policy teacher", e);
            } catch (ExecutionException e) {
                throw new IllegalStateException("scoring a sample failed: " + e.getCause(), e.getCause());
            }
            if (fatal.get() != null) throw unusable(fatal.get());
            if (score == null) continue;
            if (score.step() == p.step) tokens += score.usage().totalTokens();
            int skip = p.skip[row];
            int[] ids = Arrays.copyOfRange(b.inputIds(), row * t + skip, row * t + p.len[row]);
            TokenAligner.Spans spans = aligner.spans(ids, p.text[row]);
            List<TokenPosition> positions = score.tokens().positions();
            TokenAligner.Result r = aligner.align(positions, 0, p.replyStart[row], p.text[row].length, spans,
                    p.promptLen[row] - skip, p.len[row] - skip, 0);
            rows[row] = r.targets();
            if (r.targets() != null) k = Math.max(k, r.targets().k());
        }
        int[] kdIds = new int[n * t * k];
        float[] kdLogprobs = new float[n * t * k];
        Arrays.fill(kdLogprobs, Float.NEGATIVE_INFINITY);
        float[] kdTail = new float[n * t];
        boolean[] kdPresent = new boolean[n * t];
        for (int row = 0; row < n; row++) {
            KdTargets kd = rows[row];
            if (kd == null) continue;
            for (int r = 0; r < kd.length(); r++) {
                if (!kd.present()[r]) continue;
                int pos = row * t + p.skip[row] + kd.start() + r;
                kdPresent[pos] = true;
                kdTail[pos] = kd.tail()[r];
                System.arraycopy(kd.ids(), r * kd.k(), kdIds, pos * k, kd.k());
                System.arraycopy(kd.logprobs(), r * kd.k(), kdLogprobs, pos * k, kd.k());
            }
        }
        return new Scored(new Batch(b.index(), n, t, b.exampleIndices(), b.capabilities(), b.inputIds(),
                b.attentionMask(), b.labels(), k, kdIds, kdLogprobs, kdTail, kdPresent), tokens);
    }

    /** True once the budget refused a score: the trainer stops after the current step. */
    boolean budgetReached() { return budgetReached.get(); }

    String dialect() { return dialect == null ? null : dialect.wireName(); }

    Counts counts() { return new Counts(bought.get(), reused.get(), failed.get(), boughtTokens.get()); }

    /** Billed teacher tokens of the scores stored for this model with step ≤ {@code step} (resume's starting count). */
    long tokensThrough(long step) { return store.tokensThrough(spec.model(), step); }

    ScoreStore.Spend spend() { return store.spend(spec.model()); }

    @Override public void close() {
        stopped.set(true);
        executor.shutdownNow();
        scorer.close();
        store.close();
    }
}
