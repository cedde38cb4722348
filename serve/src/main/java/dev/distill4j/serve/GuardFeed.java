package dev.distill4j.serve;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries finished requests to an {@link AccountGuard} off the request path: the request thread only offers an
 * {@link Entry} (references, no parsing) to a bounded queue, and one background thread turns it into an
 * {@link AccountGuard.Request} and calls {@link AccountGuard#observe}. A full queue drops the observation and counts
 * it, so a slow guard never slows serving.
 */
final class GuardFeed implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GuardFeed.class);
    static final int DEFAULT_QUEUE = 65_536;

    /** What a finished request leaves for the guard; {@code body} is the parsed request (null if never parsed). */
    record Entry(long startMillis, String account, String client, String endpoint, int status, JsonNode body,
                 Long promptTokens, Long completionTokens) {}

    private final AccountGuard guard;
    private final Metrics metrics;
    private final BlockingQueue<Entry> queue;
    private final Thread worker;
    private volatile boolean closing;

    GuardFeed(AccountGuard guard, int capacity, Metrics metrics) {
        this.guard = guard;
        this.metrics = metrics;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.worker = Thread.ofPlatform().name("distill-serve-guard").daemon(true).start(this::run);
    }

    /** Never blocks. */
    void offer(Entry e) {
        if (closing || !queue.offer(e)) metrics.guardDropped();
    }

    private void run() {
        while (true) {
            Entry e;
            try {
                e = queue.poll(250, TimeUnit.MILLISECONDS);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                return;
            }
            if (e == null) {
                if (closing) return;
                continue;
            }
            try {
                AccountGuard.Action changed = guard.observe(request(e));
                if (changed != null) metrics.guardDecision(changed.wireName());
            } catch (RuntimeException ex) {
                log.error("the guard failed on a request of account {}: {}", e.account(), ex.toString());
            }
        }
    }

    /** The guard's view of a request: the sampling parameters as sent, and the query text. */
    static AccountGuard.Request request(Entry e) {
        JsonNode b = e.body() != null && e.body().isObject() ? e.body() : null;
        boolean legacy = e.endpoint().equals("/v1/completions");
        double temperature = b != null && b.path("temperature").isNumber() ? b.get("temperature").asDouble() : Double.NaN;
        int n = b != null && b.path("n").isNumber() ? Math.max(1, b.get("n").asInt()) : 1;
        boolean logprobs;
        int top;
        if (legacy) {
            JsonNode lp = b == null ? null : b.get("logprobs");
            logprobs = lp != null && lp.isNumber();
            top = logprobs ? lp.asInt() : 0;
        } else {
            logprobs = b != null && b.path("logprobs").asBoolean(false);
            top = b != null && b.path("top_logprobs").isNumber() ? b.get("top_logprobs").asInt() : 0;
        }
        return new AccountGuard.Request(e.startMillis(), e.account(), e.client(), e.endpoint(), e.status(),
                temperature, n, logprobs, top, b == null ? null : query(b, legacy),
                e.promptTokens() == null ? -1 : e.promptTokens(), e.completionTokens() == null ? -1 : e.completionTokens());
    }

    /**
     * The last user message of a chat (a shared system prompt says nothing about one client), or the legacy prompt
     * (the first of an array).
     */
    static String query(JsonNode body, boolean legacy) {
        if (legacy) {
            JsonNode p = body.get("prompt");
            if (p == null) return null;
            if (p.isTextual()) return p.asText();
            if (p.isArray() && !p.isEmpty() && p.get(0).isTextual()) return p.get(0).asText();
            return null;
        }
        JsonNode msgs = body.get("messages");
        if (msgs == null || !msgs.isArray()) return null;
        for (int i = msgs.size() - 1; i >= 0; i--) {
            JsonNode m = msgs.get(i);
            if (m.isObject() && "user".equals(m.path("role").asText())) {
                JsonNode c = m.get("content");
                if (c == null || c.isNull()) return "";
                if (c.isTextual()) return c.asText();
                StringBuilder sb = new StringBuilder();
                if (c.isArray()) for (JsonNode part : c) sb.append(part.path("text").asText());
                return sb.toString();
            }
        }
        return null;
    }

    /** Lets the worker finish what is queued (up to 5 s), then stops it. */
    @Override
    public void close() {
        closing = true;
        try {
            worker.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
