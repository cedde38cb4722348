package dev.distill4j.embed;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.SampleKey;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.core.store.StoredEmbedding;
import dev.distill4j.teacher.Backoff;
import dev.distill4j.teacher.Budget;
import dev.distill4j.teacher.OpenAiEmbeddingTeacher;
import dev.distill4j.teacher.RateLimiter;
import dev.distill4j.teacher.RequestLoop;
import dev.distill4j.teacher.TeacherConfig;
import dev.distill4j.teacher.TeacherException;
import dev.distill4j.teacher.TokenEstimator;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;

/**
 * An embedding teacher behind an OpenAI-compatible {@code /v1/embeddings} API, harvested into a run store.
 *
 * <p>{@link #embed} looks every text up in the run's {@code embeddings} table first (by
 * {@link SampleKey#embedding}: text, teacher, model, requested dims) and asks the API only for the texts that are
 * missing, each distinct text once, in batches of {@code batchSize}, up to {@code concurrency} batches at once,
 * within the rate limits and the budget, with the retries of {@link RequestLoop} (the same loop as a text harvest).
 * Each answered batch is stored in its own transaction as soon as it arrives, so a killed process keeps every
 * finished batch and the next run asks only for the rest.
 *
 * <p>Vectors are returned L2-normalised (the {@link EmbeddingModel} contract) and stored as the server sent them.
 */
public final class ApiEmbeddingTeacher implements EmbeddingModel {
    public static final String DEFAULT_API_KEY_ENV = "OPENAI_API_KEY";
    public static final int DEFAULT_BATCH = 256;
    public static final int DEFAULT_CONCURRENCY = 4;

    /**
     * How to reach and pace an API teacher.
     *
     * @param model        model name as the server knows it (required)
     * @param apiKeyEnv    environment variable holding the key; null = {@value #DEFAULT_API_KEY_ENV}; the key itself
     *                     is never stored or logged
     * @param runDir       run folder whose store keeps the embeddings; null = {@code runs/embed-<model>}
     * @param batchSize    texts per request (OpenAI allows up to 2,048)
     * @param concurrency  requests in flight at most
     * @param rpm          requests per minute, 0 = no client-side limit
     * @param tpm          tokens per minute, 0 = no client-side limit
     * @param dimensions   {@code dimensions} to ask for, null for the model's own
     * @param encoding     wire encoding; null = base64
     * @param timeout      per request; null = 10 minutes
     * @param maxAttempts  attempts per batch, the first included
     * @param priceIn      USD per million input tokens, for the cost figure and the budget
     * @param budgetUsd    stop before spending more, or null
     */
    public record Options(String model, String apiKeyEnv, Path runDir, int batchSize, int concurrency, long rpm,
                          long tpm, Integer dimensions, OpenAiEmbeddingTeacher.Encoding encoding, Duration timeout,
                          int maxAttempts, double priceIn, Double budgetUsd) {
        public Options {
            if (model == null || model.isBlank()) {
                throw new InvalidInputException("an API teacher needs a model name (--teacher-model)");
            }
            if (apiKeyEnv == null) apiKeyEnv = DEFAULT_API_KEY_ENV;
            if (runDir == null) runDir = Path.of("runs", "embed-" + model.replaceAll("[^A-Za-z0-9._-]+", "_"));
            if (batchSize < 1 || batchSize > 2048) throw new InvalidInputException("--batch-size must be in 1..2048");
            if (concurrency < 1) throw new InvalidInputException("--concurrency must be ≥ 1");
            if (maxAttempts < 1) throw new InvalidInputException("--max-attempts must be ≥ 1");
            if (dimensions != null && dimensions < 1) throw new InvalidInputException("--teacher-dims must be ≥ 1");
            if (encoding == null) encoding = OpenAiEmbeddingTeacher.Encoding.BASE64;
        }

        /** Defaults for everything but the model. */
        public static Options of(String model) {
            return new Options(model, null, null, DEFAULT_BATCH, DEFAULT_CONCURRENCY, 0, 0, null, null, null,
                    Backoff.DEFAULT_MAX_ATTEMPTS, 0, null);
        }

        public Options withRunDir(Path dir) {
            return new Options(model, apiKeyEnv, dir, batchSize, concurrency, rpm, tpm, dimensions, encoding, timeout,
                    maxAttempts, priceIn, budgetUsd);
        }

        public Options withBatching(int batchSize, int concurrency) {
            return new Options(model, apiKeyEnv, runDir, batchSize, concurrency, rpm, tpm, dimensions, encoding,
                    timeout, maxAttempts, priceIn, budgetUsd);
        }

        public Options withApiKeyEnv(String env) {
            return new Options(model, env, runDir, batchSize, concurrency, rpm, tpm, dimensions, encoding, timeout,
                    maxAttempts, priceIn, budgetUsd);
        }
    }

    /** What {@link #harvest} did. */
    public record Harvest(int texts, int distinct, int alreadyStored, int fetched, long requests, long retries,
                          long promptTokens, double costUsd, Duration elapsed) {}

    /** The API could not embed everything asked for; the message says why and what to do. */
    public static final class EmbeddingApiException extends IllegalStateException {
        public EmbeddingApiException(String message, Throwable cause) { super(message, cause); }
    }

    private final OpenAiEmbeddingTeacher client;
    private final RunStore store;
    private final boolean ownsStore;
    private final RequestLoop loop;
    private final int batchSize;
    private final int concurrency;
    private final int requestedDims;
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong retries = new AtomicLong();
    private final AtomicLong fetchedTokens = new AtomicLong();
    private volatile int dimension;

    /**
     * @param ownsStore close {@code store} with this teacher
     */
    public ApiEmbeddingTeacher(OpenAiEmbeddingTeacher client, RunStore store, boolean ownsStore, RequestLoop loop,
                               int batchSize, int concurrency) {
        this.client = client;
        this.store = store;
        this.ownsStore = ownsStore;
        this.loop = loop;
        this.batchSize = batchSize;
        this.concurrency = concurrency;
        this.requestedDims = client.dimensions() == null ? 0 : client.dimensions();
    }

    /**
     * Connects to the server at {@code baseUrl} and opens (or creates) the run store in {@code o.runDir()}.
     *
     * @param env where the key is read from (normally {@link System#getenv()})
     */
    public static ApiEmbeddingTeacher open(URI baseUrl, Options o, Map<String, String> env) throws IOException {
        TeacherConfig config = TeacherConfig.embeddings(baseUrl, o.model(), o.apiKeyEnv(), o.timeout())
                .withApiKeyFrom(env);
        OpenAiEmbeddingTeacher client = new OpenAiEmbeddingTeacher(config, o.dimensions(), o.encoding());
        RunStore store;
        try {
            store = RunStore.open(o.runDir());
        } catch (IOException | RuntimeException e) {
            client.close();
            throw e;
        }
        RequestLoop loop = new RequestLoop(new RateLimiter(o.rpm(), o.tpm()), new Budget(o.priceIn(), 0, o.budgetUsd()),
                new Backoff(o.maxAttempts()));
        return new ApiEmbeddingTeacher(client, store, true, loop, o.batchSize(), o.concurrency());
    }

    @Override
    public float[][] embed(List<String> texts) {
        Map<String, float[]> byKey = fetch(texts, null).vectors;
        float[][] out = new float[texts.size()][];
        for (int i = 0; i < out.length; i++) out[i] = Vectors.normalize(byKey.get(key(texts.get(i))).clone());
        return out;
    }

    /**
     * Makes sure every text's embedding is stored, asking the API only for the missing ones; {@code progress} hears
     * (texts fetched, texts to fetch) after each batch.
     */
    public Harvest harvest(List<String> texts, BiConsumer<Integer, Integer> progress) {
        return fetch(texts, progress).harvest;
    }

    private record Fetched(Map<String, float[]> vectors, Harvest harvest) {}

    private Fetched fetch(List<String> texts, BiConsumer<Integer, Integer> progress) {
        long start = System.nanoTime();
        long requestsBefore = requests.get(), retriesBefore = retries.get(), tokensBefore = fetchedTokens.get();
        double spentBefore = loop.budget().spentUsd();
        Map<String, String> distinct = new LinkedHashMap<>();  // key → text, each text once
        for (int i = 0; i < texts.size(); i++) {
            String t = texts.get(i);
            if (t == null || t.isEmpty()) {
                throw new InvalidInputException("text " + i + " is empty: an embeddings API rejects empty inputs");
            }
            distinct.putIfAbsent(key(t), t);
        }
        Map<String, float[]> vectors = new ConcurrentHashMap<>();
        store.findEmbeddings(distinct.keySet()).forEach((k, e) -> vectors.put(k, e.vector()));
        int stored = vectors.size();
        List<String> missing = new ArrayList<>();
        distinct.forEach((k, t) -> { if (!vectors.containsKey(k)) missing.add(t); });
        if (!missing.isEmpty()) fetchMissing(missing, vectors, progress);
        int dims = -1;
        for (float[] v : vectors.values()) {
            if (dims < 0) dims = v.length;
            else if (v.length != dims) {
                throw new EmbeddingApiException("the run store " + store.dbFile() + " holds " + client.model()
                        + " vectors of " + dims + " and " + v.length + " dimensions: use a new --run folder", null);
            }
        }
        if (dims > 0) dimension = dims;
        Harvest h = new Harvest(texts.size(), distinct.size(), stored, missing.size(), requests.get() - requestsBefore,
                retries.get() - retriesBefore, fetchedTokens.get() - tokensBefore,
                loop.budget().spentUsd() - spentBefore, Duration.ofNanos(System.nanoTime() - start));
        return new Fetched(vectors, h);
    }

    private void fetchMissing(List<String> missing, Map<String, float[]> vectors,
                              BiConsumer<Integer, Integer> progress) {
        AtomicReference<TeacherException> fatal = new AtomicReference<>();
        AtomicReference<RequestLoop.Outcome.Failed<?>> failed = new AtomicReference<>();
        AtomicReference<RuntimeException> storeError = new AtomicReference<>();
        AtomicReference<Boolean> budgetReached = new AtomicReference<>(false);
        AtomicLong successes = new AtomicLong();
        AtomicLong done = new AtomicLong();
        RequestLoop.Hooks hooks = new RequestLoop.Hooks() {
            @Override public boolean stopped() {
                return fatal.get() != null || failed.get() != null || storeError.get() != null || budgetReached.get();
            }

            @Override public void budgetReached() { budgetReached.set(true); }

            @Override public boolean fatal(TeacherException e) {
                if (!RequestLoop.stopsEverything(e, successes.get() > 0)) return false;
                fatal.compareAndSet(null, e);
                return true;
            }

            @Override public void retrying(int attempt, TeacherException e, Duration delay) { retries.incrementAndGet(); }
        };
        Semaphore slots = new Semaphore(concurrency);
        List<Thread> threads = new ArrayList<>();
        try {
            for (int from = 0; from < missing.size() && !hooks.stopped(); from += batchSize) {
                List<String> batch = missing.subList(from, Math.min(missing.size(), from + batchSize));
                slots.acquire();
                threads.add(Thread.ofVirtual().name("embed-batch").start(() -> {
                    try {
                        var outcome = loop.run(OpenAiEmbeddingTeacher.estimateTokens(batch), 0, 0, () -> {
                            requests.incrementAndGet();
                            return client.embed(batch, "emb-" + key(batch.getFirst()));
                        }, hooks);
                        switch (outcome) {
                            case RequestLoop.Outcome.Done<OpenAiEmbeddingTeacher.Response>(var r, int attempts) -> {
                                successes.incrementAndGet();
                                try {
                                    store.putEmbeddings(toStore(batch, r));
                                } catch (RuntimeException e) {
                                    storeError.compareAndSet(null, e);
                                    return;
                                }
                                fetchedTokens.addAndGet(r.usage().promptTokens());
                                for (int i = 0; i < batch.size(); i++) vectors.put(key(batch.get(i)), r.vectors()[i]);
                                long n = done.addAndGet(batch.size());
                                if (progress != null) progress.accept((int) n, missing.size());
                            }
                            case RequestLoop.Outcome.Failed<OpenAiEmbeddingTeacher.Response> f -> failed.compareAndSet(null, f);
                            case RequestLoop.Outcome.Abandoned<OpenAiEmbeddingTeacher.Response> a -> { }
                        }
                    } finally {
                        slots.release();
                    }
                }));
            }
            for (Thread t : threads) t.join();
        } catch (InterruptedException e) {
            threads.forEach(Thread::interrupt);
            Thread.currentThread().interrupt();
            throw new EmbeddingApiException("interrupted while embedding through " + client.url()
                    + "; finished batches are stored", e);
        }
        long left = missing.size() - done.get();
        String kept = done.get() + " of " + missing.size() + " missing texts were embedded and stored in "
                + store.dbFile() + "; a rerun asks only for the other " + left;
        if (storeError.get() != null) {
            throw new EmbeddingApiException("could not store embeddings: " + storeError.get().getMessage(),
                    storeError.get());
        }
        TeacherException why = fatal.get() != null ? fatal.get()
                : failed.get() != null ? failed.get().last() : null;
        if (why != null) {
            String attempts = failed.get() != null && fatal.get() == null
                    ? " (after " + failed.get().attempts() + " attempts)" : "";
            throw new EmbeddingApiException(why.getMessage() + attempts + "; " + kept, why);
        }
        if (budgetReached.get()) {
            throw new EmbeddingApiException(String.format(Locale.ROOT, "the budget of $%.4f is spent; %s",
                    loop.budget().limitUsd(), kept), null);
        }
    }

    /** Rows for one answered batch; the batch's billed tokens are shared out by each text's estimated size. */
    private List<StoredEmbedding> toStore(List<String> batch, OpenAiEmbeddingTeacher.Response r) {
        long[] shares = shares(batch, r.usage().promptTokens());
        Instant now = Instant.now();
        List<StoredEmbedding> rows = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            rows.add(new StoredEmbedding(key(batch.get(i)), client.provider(), client.model(), requestedDims,
                    batch.get(i), r.vectors()[i], shares[i], r.requestId(), now));
        }
        return rows;
    }

    static long[] shares(List<String> texts, long total) {
        long[] w = new long[texts.size()];
        long sum = 0;
        for (int i = 0; i < w.length; i++) sum += w[i] = Math.max(1, TokenEstimator.textTokens(texts.get(i)));
        long[] s = new long[w.length];
        long given = 0;
        for (int i = 0; i < w.length; i++) given += s[i] = total * w[i] / sum;
        s[w.length - 1] += total - given;
        return s;
    }

    private String key(String text) {
        return SampleKey.embedding(client.provider(), client.model(), requestedDims, text);
    }

    /** The run store the embeddings are kept in. */
    public RunStore store() { return store; }

    public OpenAiEmbeddingTeacher client() { return client; }

    /** USD spent by this teacher so far (0 without a price). */
    public double spentUsd() { return loop.budget().spentUsd(); }

    /**
     * The vector size: from the dimensions asked for, else from a stored vector, else from one request (whose
     * answer is stored too).
     */
    @Override
    public int dimension() {
        if (dimension > 0) return dimension;
        if (requestedDims > 0) return dimension = requestedDims;
        int stored = store.embeddingStats(client.provider(), client.model(), 0).dims();
        if (stored > 0) return dimension = stored;
        return dimension = embed(List.of("dimension probe"))[0].length;
    }

    @Override
    public String name() { return client.model(); }

    @Override
    public void close() {
        client.close();
        if (ownsStore) store.close();
    }

    @Override
    public String toString() {
        return "ApiEmbeddingTeacher[" + client + ", store " + store.dbFile() + "]";
    }
}
