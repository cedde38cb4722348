package dev.distill4j.serve;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The server's counters, written in Prometheus' text exposition format (version 0.0.4) by {@link #render()}.
 * Hand-written: a handful of metric families do not justify a client library and its registry.
 */
final class Metrics {
    private static final double[] LATENCY_BUCKETS = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
    private static final double[] BATCH_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128};
    private static final double[] EMBED_REQUEST_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128, 256};
    private static final double[] EMBED_INPUT_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048};

    private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();   // "endpoint\0status"
    private final Map<String, Histogram> latency = new ConcurrentHashMap<>();    // by endpoint
    private final LongAdder promptTokens = new LongAdder();
    private final LongAdder completionTokens = new LongAdder();
    private final LongAdder watermarkedTokens = new LongAdder();
    private final LongAdder embeddings = new LongAdder();
    private final LongAdder cancelled = new LongAdder();
    private final Map<String, LongAdder> accountRequests = new ConcurrentHashMap<>();   // by account name
    private final Map<String, LongAdder> rejected = new ConcurrentHashMap<>();          // by reason
    private final LongAdder logWritten = new LongAdder();
    private final LongAdder logDropped = new LongAdder();
    private final Map<String, LongAdder> guardDecisions = new ConcurrentHashMap<>();    // by action
    private final LongAdder guardDropped = new LongAdder();
    private final AtomicLong queueDepth = new AtomicLong();
    private final AtomicLong running = new AtomicLong();
    private final LongAdder prefills = new LongAdder();
    private final Histogram batchSize = new Histogram(BATCH_BUCKETS);
    private final AtomicLong embeddingQueue = new AtomicLong();
    private final Histogram embeddingBatchRequests = new Histogram(EMBED_REQUEST_BUCKETS);
    private final Histogram embeddingBatchInputs = new Histogram(EMBED_INPUT_BUCKETS);

    /** A cumulative histogram: counts per upper bound, plus sum and count. */
    private static final class Histogram {
        final double[] bounds;
        final LongAdder[] counts;
        final LongAdder count = new LongAdder();
        final java.util.concurrent.atomic.DoubleAdder sum = new java.util.concurrent.atomic.DoubleAdder();

        Histogram(double[] bounds) {
            this.bounds = bounds;
            this.counts = new LongAdder[bounds.length];
            for (int i = 0; i < bounds.length; i++) counts[i] = new LongAdder();
        }

        void observe(double v) {
            for (int i = 0; i < bounds.length; i++) if (v <= bounds[i]) counts[i].increment();
            count.increment();
            sum.add(v);
        }

        void render(StringBuilder out, String name, String labels) {
            String sep = labels.isEmpty() ? "" : labels + ",";
            for (int i = 0; i < bounds.length; i++) {
                out.append(name).append("_bucket{").append(sep).append("le=\"").append(num(bounds[i])).append("\"} ")
                        .append(counts[i].sum()).append('\n');
            }
            out.append(name).append("_bucket{").append(sep).append("le=\"+Inf\"} ").append(count.sum()).append('\n');
            String braces = labels.isEmpty() ? "" : "{" + labels + "}";
            out.append(name).append("_sum").append(braces).append(' ').append(sum.sum()).append('\n');
            out.append(name).append("_count").append(braces).append(' ').append(count.sum()).append('\n');
        }
    }

    void request(String endpoint, int status, double seconds) {
        requests.computeIfAbsent(endpoint + '\0' + status, k -> new LongAdder()).increment();
        latency.computeIfAbsent(endpoint, k -> new Histogram(LATENCY_BUCKETS)).observe(seconds);
    }

    /** One request of {@code account} ("-" without --keys), whatever its status. */
    void accountRequest(String account) { accountRequests.computeIfAbsent(account, k -> new LongAdder()).increment(); }

    /** One request refused before it ran: "invalid_api_key", "requests" (rpm) or "tokens" (tpm, daily). */
    void rejected(String reason) { rejected.computeIfAbsent(reason, k -> new LongAdder()).increment(); }

    /** An account's guard state changed to {@code action} (allow, flag, throttle, block). */
    void guardDecision(String action) { guardDecisions.computeIfAbsent(action, k -> new LongAdder()).increment(); }

    /** A finished request the guard did not see because its queue was full. */
    void guardDropped() { guardDropped.increment(); }

    void requestLogWritten() { logWritten.increment(); }

    /** A request log record dropped because the writer's queue was full. */
    void requestLogDropped() { logDropped.increment(); }

    void tokens(long prompt, long completion) {
        promptTokens.add(prompt);
        completionTokens.add(completion);
    }

    /** One generated token that its {@code TokenChooser} marked (a watermark applied under the request's params). */
    void watermarkedToken() { watermarkedTokens.increment(); }

    void embeddings(long inputs) { embeddings.add(inputs); }

    void cancelled() { cancelled.increment(); }

    void queueDepth(int depth) { queueDepth.set(depth); }

    /** One decode step of {@code size} running sequences. */
    void batch(int size) { batchSize.observe(size); }

    /** Sequences in the running batch. */
    void runningSequences(int n) { running.set(n); }

    /** One prompt prefilled (the n choices of a request share one). */
    void prefill() { prefills.increment(); }

    /** Embedding requests waiting for the model. */
    void embeddingQueue(int depth) { embeddingQueue.set(depth); }

    /** One embedding model call that served {@code requests} requests with {@code inputs} inputs in all. */
    void embeddingBatch(int requests, int inputs) {
        embeddingBatchRequests.observe(requests);
        embeddingBatchInputs.observe(inputs);
    }

    String render() {
        StringBuilder out = new StringBuilder(2048);
        header(out, "distill4j_requests_total", "counter", "HTTP requests by endpoint and status.");
        for (var e : new TreeMap<>(requests).entrySet()) {
            String[] k = e.getKey().split("\0", 2);
            out.append("distill4j_requests_total{endpoint=\"").append(escape(k[0])).append("\",status=\"").append(k[1])
                    .append("\"} ").append(e.getValue().sum()).append('\n');
        }
        header(out, "distill4j_account_requests_total", "counter", "Requests by account ('-': no --keys).");
        for (var e : new TreeMap<>(accountRequests).entrySet()) {
            out.append("distill4j_account_requests_total{account=\"").append(escape(e.getKey())).append("\"} ")
                    .append(e.getValue().sum()).append('\n');
        }
        header(out, "distill4j_requests_rejected_total", "counter",
                "Requests refused before they ran, by reason (invalid_api_key, requests, tokens, account_blocked, "
                        + "account_throttled).");
        for (var e : new TreeMap<>(rejected).entrySet()) {
            out.append("distill4j_requests_rejected_total{reason=\"").append(escape(e.getKey())).append("\"} ")
                    .append(e.getValue().sum()).append('\n');
        }
        header(out, "distill4j_guard_decisions_total", "counter",
                "Changes of an account's --guard state, by the new action (allow, flag, throttle, block).");
        for (var e : new TreeMap<>(guardDecisions).entrySet()) {
            out.append("distill4j_guard_decisions_total{action=\"").append(escape(e.getKey())).append("\"} ")
                    .append(e.getValue().sum()).append('\n');
        }
        single(out, "distill4j_guard_dropped_total", "counter",
                "Finished requests the --guard did not score because its queue was full.", guardDropped.sum());
        single(out, "distill4j_request_log_records_total", "counter", "Records written to the request log.",
                logWritten.sum());
        single(out, "distill4j_request_log_dropped_total", "counter",
                "Request log records dropped because the writer's queue was full.", logDropped.sum());
        single(out, "distill4j_prompt_tokens_total", "counter", "Prompt tokens processed.", promptTokens.sum());
        single(out, "distill4j_completion_tokens_total", "counter", "Tokens generated.", completionTokens.sum());
        single(out, "distill4j_watermarked_tokens_total", "counter",
                "Generated tokens that carry the served watermark (0 without one).", watermarkedTokens.sum());
        single(out, "distill4j_embeddings_total", "counter", "Inputs embedded by /v1/embeddings.", embeddings.sum());
        single(out, "distill4j_requests_cancelled_total", "counter",
                "Requests aborted because their client disconnected.", cancelled.sum());
        single(out, "distill4j_queue_depth", "gauge", "Sequences waiting for the model.", queueDepth.get());
        single(out, "distill4j_running_sequences", "gauge", "Sequences in the running batch.", running.get());
        single(out, "distill4j_prefills_total", "counter",
                "Prompts prefilled; the n choices of a request share one.", prefills.sum());
        header(out, "distill4j_batch_size", "histogram", "Sequences per decode step (continuous batching).");
        batchSize.render(out, "distill4j_batch_size", "");
        single(out, "distill4j_embedding_queue_depth", "gauge", "Embedding requests waiting for the model.",
                embeddingQueue.get());
        header(out, "distill4j_embedding_batch_requests", "histogram", "Requests merged into one embedding model call.");
        embeddingBatchRequests.render(out, "distill4j_embedding_batch_requests", "");
        header(out, "distill4j_embedding_batch_inputs", "histogram", "Inputs embedded by one embedding model call.");
        embeddingBatchInputs.render(out, "distill4j_embedding_batch_inputs", "");
        header(out, "distill4j_request_duration_seconds", "histogram", "Request latency by endpoint.");
        for (var e : new TreeMap<>(latency).entrySet()) {
            e.getValue().render(out, "distill4j_request_duration_seconds", "endpoint=\"" + escape(e.getKey()) + "\"");
        }
        return out.toString();
    }

    /** A metric's HELP and TYPE lines (Prometheus text format). */
    private static void header(StringBuilder out, String name, String type, String help) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    /** A metric with one unlabelled sample. */
    private static void single(StringBuilder out, String name, String type, String help, long value) {
        header(out, name, type, help);
        out.append(name).append(' ').append(value).append('\n');
    }

    private static String num(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
