package dev.distill4j.teacher.stub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.distill4j.core.Json;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * A real HTTP server on 127.0.0.1 that speaks a provider's wire format, for tests and benchmarks. Each request runs
 * on its own virtual thread. Faults are programmed per request: {@link #enqueue} queues faults for the next requests
 * in arrival order; {@link #onRequest} decides per request (e.g. by {@code X-Client-Request-Id}); a request gets
 * the queued fault if there is one, else the function's, else a normal answer.
 *
 * <p>Every request is recorded ({@link #requests()}) unless recording is off ({@link #recording(boolean)}), the
 * cheap mode for benchmarks, where only the counters run.
 */
public abstract class StubServer<S extends StubServer<S>> implements AutoCloseable {
    /** A reply: status, headers, body. */
    protected record Reply(int status, Map<String, String> headers, byte[] body) {
        protected static Reply json(int status, Map<String, String> headers, JsonNode body) {
            Map<String, String> h = new LinkedHashMap<>(headers);
            h.put("Content-Type", "application/json");
            return new Reply(status, h, Json.write(body).getBytes(StandardCharsets.UTF_8));
        }
    }

    static {
        // The JDK server closes a connection that goes idle while 200 others already are; a client that reuses it
        // from its pool then reads EOF. A harvest keeps hundreds of connections alive, so allow many idle ones
        // (and send small answers without Nagle's delay). Read once, when the JDK server class loads.
        if (System.getProperty("sun.net.httpserver.maxIdleConnections") == null) {
            System.setProperty("sun.net.httpserver.maxIdleConnections", "100000");
        }
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
    }

    private final HttpServer server;
    private final ExecutorService executor;
    private final ConcurrentLinkedQueue<Fault> faults = new ConcurrentLinkedQueue<>();
    private final List<RecordedRequest> requests = new ArrayList<>();
    private final AtomicLong sequence = new AtomicLong();
    private final LongAdder answered = new LongAdder();
    private final LongAdder faulted = new LongAdder();
    private final LongAdder billedPrompt = new LongAdder();
    private final LongAdder billedCompletion = new LongAdder();
    private final LongAdder billedAnswers = new LongAdder();
    private final LongAdder batchBilledPrompt = new LongAdder();
    private final LongAdder batchBilledCompletion = new LongAdder();
    private final LongAdder batchBilledAnswers = new LongAdder();
    private final ConcurrentLinkedQueue<BatchPlan> batchPlans = new ConcurrentLinkedQueue<>();
    private volatile BatchPlan defaultBatchPlan = BatchPlan.normal();
    private final Map<String, String> headerOverrides = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile Function<RecordedRequest, Fault> faultFunction;
    private volatile boolean recording = true;
    private volatile Duration latency = Duration.ZERO;
    private volatile String apiKey;
    private volatile List<String> models = List.of();
    private volatile int answerTokens = 8;
    private volatile Function<String, String> writer;

    protected StubServer(int port) {
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 4096);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the stub on port " + port, e);
        }
        executor = Executors.newVirtualThreadPerTaskExecutor();
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    // ---- what a provider stub says --------------------------------------------------------------------------------

    /** A normal answer to a request that passed no fault: checks key, path, model and parameters, then answers. */
    protected abstract Reply answer(RecordedRequest request);

    /** An error in the provider's shape; {@code type}/{@code code} may be null for the provider's default. */
    protected abstract Reply error(int status, String message, String type, String code);

    /** A 200 body that lacks what clients need. */
    protected abstract JsonNode bodyWithoutRequiredFields(long seq);

    /** Headers of every response: request id and rate-limit state. */
    protected abstract Map<String, String> standardHeaders(long seq);

    @SuppressWarnings("unchecked")
    private S self() { return (S) this; }

    // ---- configuration --------------------------------------------------------------------------------------------

    public int port() { return server.getAddress().getPort(); }

    /** {@code http://127.0.0.1:port}, without any API path. */
    public URI rootUri() { return URI.create("http://127.0.0.1:" + port()); }

    /** The key clients must send; null (the default) accepts any or none. */
    public S requireApiKey(String key) { this.apiKey = key; return self(); }

    public String apiKey() { return apiKey; }

    /** Models that exist; empty (the default) accepts any name. */
    public S models(String... names) { this.models = List.of(names); return self(); }

    public List<String> models() { return models; }

    /** Tokens in a full answer (default 8). */
    public S answerTokens(int n) { this.answerTokens = n; return self(); }

    public int answerTokens() { return answerTokens; }

    /**
     * Answers with {@code writer}'s text for the prompt (the last user message), token by token at whitespace
     * boundaries, instead of echoing the prompt: for features that parse what the model wrote (e.g. prompt synthesis).
     */
    public S writer(Function<String, String> writer) { this.writer = writer; return self(); }

    /** The answer to {@code prompt}: the writer's text if one is set, else the echo of {@link StubAnswer#generate}. */
    protected StubAnswer answerFor(String prompt, int maxTokens, List<String> stop) {
        Function<String, String> w = writer;
        return w == null ? StubAnswer.generate(prompt, answerTokens, maxTokens, stop)
                : StubAnswer.of(w.apply(prompt), maxTokens, stop);
    }

    /** Delay before every answer. */
    public S latency(Duration d) { this.latency = d; return self(); }

    /** Records requests (default) or only counts them. */
    public S recording(boolean on) { this.recording = on; return self(); }

    /** Adds or replaces a header on every reply (e.g. rate-limit headers); a null value removes it. */
    public S header(String name, String value) {
        if (value == null) headerOverrides.put(name.toLowerCase(java.util.Locale.ROOT), "");
        else headerOverrides.put(name.toLowerCase(java.util.Locale.ROOT), value);
        return self();
    }

    /** Faults for the next requests, in arrival order. */
    public S enqueue(Fault... f) { faults.addAll(List.of(f)); return self(); }

    /** A fault (or null for none) for each request that finds the queue empty. */
    public S onRequest(Function<RecordedRequest, Fault> f) { this.faultFunction = f; return self(); }

    public S clearFaults() { faults.clear(); faultFunction = null; return self(); }

    // ---- what happened --------------------------------------------------------------------------------------------

    public List<RecordedRequest> requests() {
        synchronized (requests) {
            return List.copyOf(requests);
        }
    }

    public RecordedRequest lastRequest() {
        synchronized (requests) {
            return requests.isEmpty() ? null : requests.getLast();
        }
    }

    /** Requests received, recorded or not. */
    public long requestCount() { return sequence.get(); }

    /** Requests answered 200 normally (not by a fault). */
    public long answeredCount() { return answered.sum(); }

    /** Requests that got a fault. */
    public long faultCount() { return faulted.sum(); }

    /**
     * Prompt tokens billed: the sum of the {@code usage} of every 2xx answer the stub generated, whether the client
     * could read it or not (a body cut short, a connection dropped mid-body): a provider bills what it generated.
     */
    public long billedPromptTokens() { return billedPrompt.sum(); }

    /** Completion tokens billed, counted as {@link #billedPromptTokens()}. */
    public long billedCompletionTokens() { return billedCompletion.sum(); }

    /** Answers billed (generated with a 2xx status), read by the client or not. */
    public long billedAnswers() { return billedAnswers.sum(); }

    /** Prompt tokens billed for answers generated inside batches (at the batch price: half). */
    public long batchBilledPromptTokens() { return batchBilledPrompt.sum(); }

    /** Completion tokens billed for answers generated inside batches. */
    public long batchBilledCompletionTokens() { return batchBilledCompletion.sum(); }

    /** Answers generated (and billed) inside batches. */
    public long batchBilledAnswers() { return batchBilledAnswers.sum(); }

    /**
     * What the stub bills in USD at the given list prices (per million tokens): online answers at the list price,
     * batch answers at half of it, as OpenAI and Anthropic bill their batch APIs.
     */
    public double billedUsd(double inputUsdPerMillion, double outputUsdPerMillion) {
        return (billedPromptTokens() * inputUsdPerMillion + billedCompletionTokens() * outputUsdPerMillion
                + 0.5 * (batchBilledPromptTokens() * inputUsdPerMillion
                        + batchBilledCompletionTokens() * outputUsdPerMillion)) / 1e6;
    }

    /** Plans for the next batches created, in order; later batches get the default plan. */
    public S batchPlans(BatchPlan... plans) { batchPlans.addAll(List.of(plans)); return self(); }

    /** The plan of batches with no queued plan (default {@link BatchPlan#normal()}). */
    public S defaultBatchPlan(BatchPlan plan) { this.defaultBatchPlan = plan; return self(); }

    /** The plan for a batch being created now. */
    protected BatchPlan nextBatchPlan() {
        BatchPlan p = batchPlans.poll();
        return p != null ? p : defaultBatchPlan;
    }

    /**
     * Adds an answer generated inside a batch to the batch ledger (2xx only), as {@link #billedPromptTokens()} does
     * for online answers.
     */
    protected void billBatch(int status, JsonNode body) {
        if (status / 100 != 2) return;
        JsonNode u = body.path("usage");
        if (u.has("prompt_tokens")) {
            batchBilledPrompt.add(u.path("prompt_tokens").asLong());
            batchBilledCompletion.add(u.path("completion_tokens").asLong());
        } else if (u.has("input_tokens")) {
            batchBilledPrompt.add(u.path("input_tokens").asLong() + u.path("cache_read_input_tokens").asLong()
                    + u.path("cache_creation_input_tokens").asLong());
            batchBilledCompletion.add(u.path("output_tokens").asLong());
        } else {
            return;
        }
        batchBilledAnswers.increment();
    }

    /** The stub's own answer to one request of a batch, as if it had come online (key, model and body checks). */
    protected Reply answerInBatch(RecordedRequest request) {
        return answer(request);
    }

    public void resetRecords() {
        synchronized (requests) {
            requests.clear();
        }
    }

    // ---- helpers for subclasses -----------------------------------------------------------------------------------

    protected boolean modelKnown(String model) {
        List<String> m = models;
        return m.isEmpty() || m.contains(model);
    }

    protected static long createdNow() { return System.currentTimeMillis() / 1000; }

    /** Parses a request body as a JSON object, or null. */
    protected static ObjectNode jsonObject(RecordedRequest r) {
        JsonNode n = r.json();
        return n instanceof ObjectNode o ? o : null;
    }

    // ---- plumbing -------------------------------------------------------------------------------------------------

    private void handle(HttpExchange ex) {
        try (ex) {
            byte[] raw = ex.getRequestBody().readAllBytes();
            long seq = sequence.incrementAndGet();
            RecordedRequest req = new RecordedRequest(seq, ex.getRequestMethod(), ex.getRequestURI().getRawPath(),
                    ex.getRequestHeaders(), new String(raw, StandardCharsets.UTF_8), ex.getRequestURI().getRawQuery());
            if (recording) {
                synchronized (requests) {
                    requests.add(req);
                }
            }
            Fault fault = faults.poll();
            if (fault == null) {
                var fn = faultFunction;
                if (fn != null) fault = fn.apply(req);
            }
            Duration lat = latency;
            if (!lat.isZero()) Thread.sleep(lat);
            if (fault == null) {
                Reply r = bill(answer(req));
                if (r.status() == 200) answered.increment();
                send(ex, r, seq);
                return;
            }
            faulted.increment();
            switch (fault) {
                case Fault.RateLimited rl -> {
                    Reply r = error(429, "Rate limit reached for requests. Please try again later.", null, null);
                    Map<String, String> h = new LinkedHashMap<>(r.headers());
                    if (rl.retryAfterSeconds() != null) h.put("retry-after", rl.retryAfterSeconds().toString());
                    if (rl.retryAfterMs() != null) h.put("retry-after-ms", rl.retryAfterMs().toString());
                    send(ex, new Reply(429, h, r.body()), seq);
                }
                case Fault.Status s -> send(ex, error(s.status(), defaultMessage(s.status()), null, null), seq);
                case Fault.Slow s -> {
                    Thread.sleep(s.delay());
                    send(ex, bill(answer(req)), seq);
                }
                case Fault.SlowBody sb -> {
                    Reply r = bill(answer(req));
                    headers(ex, r, seq);
                    ex.sendResponseHeaders(r.status(), r.body().length);
                    OutputStream out = ex.getResponseBody();
                    int half = r.body().length / 2;
                    out.write(r.body(), 0, half);
                    out.flush();
                    Thread.sleep(sb.pause());
                    out.write(r.body(), half, r.body().length - half);
                    out.close();
                }
                case Fault.TruncatedBody t -> {
                    Reply r = bill(answer(req));
                    headers(ex, r, seq);
                    ex.sendResponseHeaders(r.status(), r.body().length + 100L);
                    OutputStream out = ex.getResponseBody();
                    out.write(r.body(), 0, r.body().length / 2);
                    out.flush();
                    // Closing the exchange with bytes still owed makes the server drop the connection.
                }
                case Fault.MalformedJson m -> {
                    Reply r = bill(answer(req));
                    byte[] cut = java.util.Arrays.copyOf(r.body(), Math.max(1, r.body().length / 2));
                    send(ex, new Reply(200, r.headers(), cut), seq);
                }
                case Fault.MissingFields m ->
                        send(ex, Reply.json(200, Map.of(), bodyWithoutRequiredFields(seq)), seq);
                case Fault.ConnectionReset c -> {
                    // Nothing sent: closing the exchange closes the connection before any response byte.
                }
                case Fault.Raw r -> send(ex, new Reply(r.status(), r.headers(),
                        r.body().getBytes(StandardCharsets.UTF_8)), seq);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            // the client went away (timeouts, truncation tests): nothing to answer
        } catch (RuntimeException e) {
            // a bug in the stub itself: the client sees a dropped connection, the test log says why
            System.err.println("stub failed on " + ex.getRequestMethod() + " " + ex.getRequestURI() + ": " + e);
            e.printStackTrace();
        }
    }

    /**
     * Adds a 2xx reply's usage to the ledger: OpenAI's {@code prompt_tokens}/{@code completion_tokens}, Anthropic's
     * {@code input_tokens} (+ cache reads and writes)/{@code output_tokens}.
     */
    private Reply bill(Reply r) {
        if (r.status() / 100 != 2) return r;
        JsonNode u;
        try {
            u = Json.MAPPER.readTree(r.body()).path("usage");
        } catch (IOException e) {
            return r;
        }
        if (u.has("prompt_tokens")) {
            billedPrompt.add(u.path("prompt_tokens").asLong());
            billedCompletion.add(u.path("completion_tokens").asLong());
        } else if (u.has("input_tokens")) {
            billedPrompt.add(u.path("input_tokens").asLong() + u.path("cache_read_input_tokens").asLong()
                    + u.path("cache_creation_input_tokens").asLong());
            billedCompletion.add(u.path("output_tokens").asLong());
        } else {
            return r;
        }
        billedAnswers.increment();
        return r;
    }

    private static String defaultMessage(int status) {
        return switch (status) {
            case 500 -> "The server had an error while processing your request. Sorry about that!";
            case 503 -> "The engine is currently overloaded, please try again later.";
            case 529 -> "Overloaded";
            case 408 -> "Request timed out.";
            case 409 -> "Conflict.";
            default -> "Request failed with status " + status + ".";
        };
    }

    private void headers(HttpExchange ex, Reply r, long seq) {
        var h = ex.getResponseHeaders();
        standardHeaders(seq).forEach(h::set);
        r.headers().forEach(h::set);
        headerOverrides.forEach((k, v) -> {
            if (v.isEmpty()) h.remove(k);
            else h.set(k, v);
        });
    }

    private void send(HttpExchange ex, Reply r, long seq) throws IOException {
        headers(ex, r, seq);
        ex.sendResponseHeaders(r.status(), r.body().length == 0 ? -1 : r.body().length);
        if (r.body().length > 0) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(r.body());
            }
        }
    }

    /** Stops at once; in-flight requests are dropped. */
    @Override public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
