package dev.distill4j.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.zip.GZIPOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code distill serve --request-log DIR}: one JSON line per request (format in docs/guard.md), appended
 * to {@code DIR/requests-current.jsonl} by one background thread and rotated — past a size (default 64 MiB), at UTC
 * midnight, at start (a file left by a crash) and at close — into {@code requests-<yyyyMMdd-HHmmss>.jsonl.gz}, named
 * by the UTC time the file was started. The gzip is written under a hidden temporary name and renamed, so a reader
 * never sees half a file.
 *
 * <p>The request thread only offers an {@link Entry} (references, no JSON work) to a bounded queue; when the queue
 * is full the record is dropped and counted, so a slow disk never slows serving. Building the record — reading the
 * body's fields, hashing the prompt — happens on the writer thread.
 */
final class RequestLog implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RequestLog.class);
    static final String CURRENT = "requests-current.jsonl";
    static final long DEFAULT_ROTATE_BYTES = 64L << 20;
    static final int DEFAULT_QUEUE = 65_536;
    private static final long DAY_MS = 86_400_000;
    private static final DateTimeFormatter NAME = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    /** Whether records carry the prompt text ({@code FULL}) or only its SHA-256 ({@code HASH}). */
    enum Prompts { FULL, HASH }

    /**
     * What a request leaves for its record. {@code body} is the parsed request when the handler got that far, else
     * {@code rawBody} is parsed here (a 401 still records what was asked); both null for GET requests.
     */
    record Entry(long startMillis, String requestId, String account, String client, String endpoint, int status,
                 long latencyMs, JsonNode body, byte[] rawBody, Long promptTokens, Long completionTokens) {}

    private final Path dir;
    private final Path current;
    private final Prompts prompts;
    private final long rotateBytes;
    private final LongSupplier clock;
    private final Metrics metrics;
    private final BlockingQueue<Entry> queue;
    private final Thread writer;
    private volatile boolean closing;

    private OutputStream out;         // the writer thread's alone
    private long written;
    private long fileStart;           // time of the current file's first record; -1 while it is empty

    RequestLog(Path dir, Prompts prompts, long rotateBytes, int queueCapacity, LongSupplier clock, Metrics metrics)
            throws IOException {
        this.dir = dir;
        this.current = dir.resolve(CURRENT);
        this.prompts = prompts;
        this.rotateBytes = rotateBytes;
        this.clock = clock;
        this.metrics = metrics;
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
        Files.createDirectories(dir);
        if (Files.exists(current) && Files.size(current) > 0) {
            rotate(Files.getLastModifiedTime(current).toMillis());   // left by a crash: keep it, compressed
        }
        open();
        writer = Thread.ofPlatform().name("distill-serve-request-log").daemon(true).start(this::run);
    }

    /** Never blocks: a full queue drops the record and counts it. */
    void offer(Entry e) {
        if (closing || !queue.offer(e)) metrics.requestLogDropped();
    }

    private void run() {
        List<Entry> batch = new ArrayList<>(256);
        while (true) {
            try {
                Entry first = queue.poll(250, TimeUnit.MILLISECONDS);
                if (first != null) {
                    batch.add(first);
                    queue.drainTo(batch, 255);
                    for (Entry e : batch) write(e);
                    batch.clear();
                }
                if (queue.isEmpty()) {
                    out.flush();      // a reader sees every record within a second of an idle moment
                    if (fileStart >= 0 && clock.getAsLong() / DAY_MS != fileStart / DAY_MS) {
                        rotate(fileStart);       // midnight with no traffic since
                        open();
                    }
                    if (closing) break;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (IOException | RuntimeException e) {
                log.error("request log {}: {}", dir, e.toString());
                batch.clear();
                if (out == null) {
                    try {
                        open();
                    } catch (IOException again) {
                        log.error("request log {}: cannot open {}: {}", dir, CURRENT, again.toString());
                    }
                }
            }
        }
        try {
            if (out != null) out.close();
            if (fileStart >= 0) rotate(fileStart);
            else Files.deleteIfExists(current);
        } catch (IOException e) {
            log.error("request log {}: could not rotate at close: {}", dir, e.toString());
        }
    }

    private void write(Entry e) throws IOException {
        if (fileStart >= 0 && (written >= rotateBytes || e.startMillis() / DAY_MS != fileStart / DAY_MS)) {
            rotate(fileStart);
            open();
        }
        if (fileStart < 0) fileStart = e.startMillis();
        // UTF-8 bytes straight from the tree: one encoding, no intermediate String (this thread shares the cores)
        byte[] line = Json.MAPPER.writeValueAsBytes(record(e));
        out.write(line);
        out.write('\n');
        written += line.length + 1;
        metrics.requestLogWritten();
    }

    /** Appends: after a failed rotation the records still in the current file are kept and rotated later. */
    private void open() throws IOException {
        out = new BufferedOutputStream(Files.newOutputStream(current, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND), 1 << 16);
        written = Files.size(current);
        fileStart = written > 0 ? Files.getLastModifiedTime(current).toMillis() : -1;
    }

    /** Compresses the current file to its dated name (temp + rename) and removes it. */
    private void rotate(long startedAt) throws IOException {
        if (out != null) out.close();
        out = null;
        String stamp = NAME.format(Instant.ofEpochMilli(startedAt));
        Path target = dir.resolve("requests-" + stamp + ".jsonl.gz");
        for (int i = 1; Files.exists(target); i++) target = dir.resolve("requests-" + stamp + "-" + i + ".jsonl.gz");
        Path tmp = dir.resolve("." + target.getFileName() + ".tmp");
        try (InputStream in = Files.newInputStream(current);
             OutputStream gz = new GZIPOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
            in.transferTo(gz);
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        Files.delete(current);
    }

    /** The record of docs/guard.md. */
    ObjectNode record(Entry e) {
        ObjectNode r = Json.object();
        r.put("time", TIME.format(Instant.ofEpochMilli(e.startMillis())));
        r.put("request_id", e.requestId());
        r.put("account", e.account());
        r.put("client", e.client());
        r.put("endpoint", e.endpoint());
        JsonNode body = e.body();
        if (body == null && e.rawBody() != null && e.rawBody().length > 0) {
            try {
                body = Json.MAPPER.readTree(e.rawBody());
            } catch (IOException ignored) {
                body = null;       // not JSON: the record says what it can
            }
        }
        if (body != null && !body.isObject()) body = null;
        JsonNode model = body == null ? null : body.get("model");
        if (model != null && model.isTextual()) r.put("model", model.asText());
        else r.putNull("model");
        r.put("status", e.status());
        r.put("latency_ms", e.latencyMs());
        boolean embeddings = e.endpoint().equals("/v1/embeddings");
        if (!embeddings) r.set("params", params(body, e.endpoint().equals("/v1/completions")));
        putLong(r, "prompt_tokens", e.promptTokens());
        putLong(r, "completion_tokens", e.completionTokens());
        JsonNode text = body == null ? null
                : body.get(embeddings ? "input" : e.endpoint().equals("/v1/chat/completions") ? "messages" : "prompt");
        String hashed = text == null ? null : embeddings ? joined(text) : promptText(text);
        r.put("prompt_sha256", hashed == null ? null : HexFormat.of().formatHex(KeyFile.sha256(hashed)));
        if (embeddings) {
            if (text != null) r.put("input_count", text.isArray() && !(text.size() > 0 && text.get(0).isNumber())
                    ? text.size() : 1);
            else r.putNull("input_count");
        } else if (prompts == Prompts.FULL && text != null) {
            r.set(e.endpoint().equals("/v1/chat/completions") ? "messages" : "prompt", text);
        }
        return r;
    }

    private static void putLong(ObjectNode r, String field, Long v) {
        if (v == null) r.putNull(field);
        else r.put(field, v);
    }

    /**
     * The sampling parameters as the client sent them (null when left out). The legacy endpoint's
     * {@code logprobs: k} is {@code logprobs: true, top_logprobs: k}; chat's {@code max_completion_tokens} is
     * {@code max_tokens}.
     */
    private static ObjectNode params(JsonNode body, boolean legacy) {
        ObjectNode p = Json.object();
        copy(p, "temperature", body, "temperature");
        copy(p, "top_p", body, "top_p");
        copy(p, "n", body, "n");
        JsonNode mct = body == null ? null : body.get("max_completion_tokens");
        copy(p, "max_tokens", body, mct != null && !mct.isNull() ? "max_completion_tokens" : "max_tokens");
        if (legacy) {
            JsonNode lp = body == null ? null : body.get("logprobs");
            if (lp == null || lp.isNull()) {
                p.putNull("logprobs");
                p.putNull("top_logprobs");
            } else {
                p.put("logprobs", true);
                p.set("top_logprobs", lp);
            }
        } else {
            copy(p, "logprobs", body, "logprobs");
            copy(p, "top_logprobs", body, "top_logprobs");
        }
        copy(p, "seed", body, "seed");
        copy(p, "stream", body, "stream");
        return p;
    }

    private static void copy(ObjectNode to, String field, JsonNode body, String from) {
        JsonNode v = body == null ? null : body.get(from);
        if (v == null || v.isNull() || v.isContainerNode()) to.putNull(field);
        else to.set(field, v);
    }

    /**
     * The text a prompt hash covers: chat messages' contents (text parts concatenated) joined by "\n"; a legacy
     * prompt string itself, or an array of prompts joined by "\n".
     */
    static String promptText(JsonNode node) {
        if (node.isTextual()) return node.asText();
        if (!node.isArray()) return null;
        List<String> parts = new ArrayList<>(node.size());
        for (JsonNode m : node) {
            if (m.isTextual()) parts.add(m.asText());
            else if (m.isObject()) parts.add(content(m.get("content")));
            else parts.add(m.toString());
        }
        return String.join("\n", parts);
    }

    private static String content(JsonNode c) {
        if (c == null || c.isNull()) return "";
        if (c.isTextual()) return c.asText();
        StringBuilder sb = new StringBuilder();
        if (c.isArray()) for (JsonNode part : c) sb.append(part.path("text").asText());
        return sb.toString();
    }

    /** Embedding inputs: strings joined by "\n"; token-id input as its JSON text. */
    private static String joined(JsonNode input) {
        if (input.isTextual()) return input.asText();
        if (input.isArray() && !input.isEmpty() && input.get(0).isTextual()) {
            List<String> parts = new ArrayList<>(input.size());
            for (JsonNode s : input) parts.add(s.asText());
            return String.join("\n", parts);
        }
        return input.toString();
    }

    /** Writes what is queued, rotates the current file, and stops the writer. */
    @Override
    public void close() {
        // no interrupt: it would close the file channel under a write; the writer sees the flag within 250 ms
        closing = true;
        try {
            writer.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
