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
    private final LongAdder embeddings = new LongAdder();
    private final LongAdder cancelled = new LongAdder();
    private final AtomicLong queueDepth = new AtomicLong();
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

    void tokens(long prompt, long completion) {
        promptTokens.add(prompt);
        completionTokens.add(completion);
    }

    void embeddings(long inputs) { embeddings.add(inputs); }

    void cancelled() { cancelled.increment(); }

    void queueDepth(int depth) { queueDepth.set(depth); }

    void batch(int size) { batchSize.observe(size); }

    /** Embedding requests waiting for the model. */
    void embeddingQueue(int depth) { embeddingQueue.set(depth); }

    /** One embedding model call that served {@code requests} requests with {@code inputs} inputs in all. */
    void embeddingBatch(int requests, int inputs) {
        embeddingBatchRequests.observe(requests);
        embeddingBatchInputs.observe(inputs);
    }

    String render() {
        StringBuilder out = new StringBuilder(2048);
        out.append("# HELP distill4j_requests_total HTTP requests by endpoint and status.\n");
        out.append("# TYPE distill4j_requests_total counter\n");
        for (var e : new TreeMap<>(requests).entrySet()) {
            String[] k = e.getKey().split("\0", 2);
            out.append("distill4j_requests_total{endpoint=\"").append(escape(k[0])).append("\",status=\"").append(k[1])
                    .append("\"} ").append(e.getValue().sum()).append('\n');
        }
        out.append("# HELP distill4j_prompt_tokens_total Prompt tokens processed.\n");
        out.append("# TYPE distill4j_prompt_tokens_total counter\n");
        out.append("distill4j_prompt_tokens_total ").append(promptTokens.sum()).append('\n');
        out.append("# HELP distill4j_completion_tokens_total Tokens generated.\n");
        out.append("# TYPE distill4j_completion_tokens_total counter\n");
        out.append("distill4j_completion_tokens_total ").append(completionTokens.sum()).append('\n');
        out.append("# HELP distill4j_embeddings_total Inputs embedded by /v1/embeddings.\n");
        out.append("# TYPE distill4j_embeddings_total counter\n");
        out.append("distill4j_embeddings_total ").append(embeddings.sum()).append('\n');
        out.append("# HELP distill4j_requests_cancelled_total Requests aborted because their client disconnected.\n");
        out.append("# TYPE distill4j_requests_cancelled_total counter\n");
        out.append("distill4j_requests_cancelled_total ").append(cancelled.sum()).append('\n');
        out.append("# HELP distill4j_queue_depth Sequences waiting for the model.\n");
        out.append("# TYPE distill4j_queue_depth gauge\n");
        out.append("distill4j_queue_depth ").append(queueDepth.get()).append('\n');
        out.append("# HELP distill4j_batch_size Sequences per model batch.\n");
        out.append("# TYPE distill4j_batch_size histogram\n");
        batchSize.render(out, "distill4j_batch_size", "");
        out.append("# HELP distill4j_embedding_queue_depth Embedding requests waiting for the model.\n");
        out.append("# TYPE distill4j_embedding_queue_depth gauge\n");
        out.append("distill4j_embedding_queue_depth ").append(embeddingQueue.get()).append('\n');
        out.append("# HELP distill4j_embedding_batch_requests Requests merged into one embedding model call.\n");
        out.append("# TYPE distill4j_embedding_batch_requests histogram\n");
        embeddingBatchRequests.render(out, "distill4j_embedding_batch_requests", "");
        out.append("# HELP distill4j_embedding_batch_inputs Inputs embedded by one embedding model call.\n");
        out.append("# TYPE distill4j_embedding_batch_inputs histogram\n");
        embeddingBatchInputs.render(out, "distill4j_embedding_batch_inputs", "");
        out.append("# HELP distill4j_request_duration_seconds Request latency by endpoint.\n");
        out.append("# TYPE distill4j_request_duration_seconds histogram\n");
        for (var e : new TreeMap<>(latency).entrySet()) {
            e.getValue().render(out, "distill4j_request_duration_seconds", "endpoint=\"" + escape(e.getKey()) + "\"");
        }
        return out.toString();
    }

    private static String num(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
