package dev.distill4j.teacher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.core.Usage;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * OpenAI's Batch API (and compatible servers): the requests go up as a JSONL file ({@code POST /v1/files},
 * {@code multipart/form-data} with {@code purpose=batch}), one line per request
 * {@code {"custom_id", "method": "POST", "url": "/v1/chat/completions", "body": {...}}}; {@code POST /v1/batches}
 * with {@code input_file_id}, {@code endpoint}, {@code completion_window: "24h"} and our id in {@code metadata}
 * starts it; {@code GET /v1/batches/{id}} is polled through {@code validating → in_progress → finalizing →
 * completed} (or {@code failed}, {@code expired}, {@code cancelling → cancelled}); the answers are in the
 * {@code output_file_id} file and the failures in the {@code error_file_id} file
 * ({@code GET /v1/files/{id}/content}), one line each,
 * {@code {"id", "custom_id", "response": {"status_code", "request_id", "body"}, "error"}}, in no particular order.
 *
 * <p>Limits: 50,000 requests and 200 MB per input file. A request the window left undone is in the error file with
 * {@code error.code} {@code batch_expired} ({@code batch_cancelled} after a cancel): not run, not billed.
 */
public final class OpenAiBatchApi implements BatchApi {
    /** OpenAI's limit on requests per batch input file. */
    public static final int MAX_REQUESTS = 50_000;
    /** OpenAI's limit on the size of a batch input file: 200 MB. */
    public static final long MAX_BYTES = 200L * 1000 * 1000;
    /** The metadata key that carries our id for a batch. */
    public static final String METADATA_KEY = "distill4j_batch";
    /**
     * How long before our submission our batch may have been stamped {@code created_at} (the provider's clock against
     * ours): once a page of the newest-first list reaches batches older than that, ours is not on a later one.
     */
    public static final java.time.Duration CLOCK_SLACK = java.time.Duration.ofMinutes(2);

    private final HttpTeacher teacher;
    private final String endpointPath;
    private final URI root;
    private final HttpTransport transport;
    private int listPage = 100;

    OpenAiBatchApi(HttpTeacher teacher, TeacherConfig config, String endpointPath) {
        this.teacher = teacher;
        this.endpointPath = endpointPath;
        this.root = BaseUrls.openAiRoot(config.baseUrl());
        this.transport = new HttpTransport(config, OpenAiWire.headers(config));
    }

    @Override public String provider() { return TeacherConfig.OPENAI; }

    @Override public int maxRequests() { return MAX_REQUESTS; }

    @Override public long maxBytes() { return MAX_BYTES; }

    @Override public byte[] prefix() { return new byte[0]; }

    @Override public byte[] separator() { return new byte[] {'\n'}; }

    @Override public byte[] suffix() { return new byte[] {'\n'}; }

    @Override public byte[] line(String customId, ObjectNode body) {
        ObjectNode line = Json.object();
        line.put("custom_id", customId);
        line.put("method", "POST");
        line.put("url", endpointPath);
        line.set("body", body);
        return Json.write(line).getBytes(StandardCharsets.UTF_8);
    }

    @Override public Submitted submit(String localId, Path file, int requests) throws TeacherException {
        String fileId = transport.postMultipart(URI.create(root + "/files"), Map.of("purpose", "batch"), "file",
                "distill4j-" + localId + ".jsonl", file,
                json -> WireJson.text(json, "id", "id")).body();
        ObjectNode create = Json.object();
        create.put("input_file_id", fileId);
        create.put("endpoint", endpointPath);
        create.put("completion_window", "24h");
        create.putObject("metadata").put(METADATA_KEY, localId);
        Status status = transport.exchange(URI.create(root + "/batches"), create, localId, OpenAiBatchApi::status)
                .body();
        return new Submitted(status.providerId(), fileId, status);
    }

    @Override public Status poll(String providerId) throws TeacherException {
        return transport.getJson(URI.create(root + "/batches/" + encode(providerId)), OpenAiBatchApi::status).body();
    }

    /** Batches per page when {@link #candidates} lists them: OpenAI's most, 100 (tests lower it to walk pages). */
    OpenAiBatchApi listPage(int limit) {
        if (limit < 1 || limit > 100) throw new IllegalArgumentException("limit must be in 1..100: " + limit);
        this.listPage = limit;
        return this;
    }

    /**
     * The batch whose {@code metadata} holds {@code localId} ({@code GET /v1/batches}, newest first, {@code after}
     * cursors): the walk goes back as far as {@code submittedAt} less {@link #CLOCK_SLACK}, however many batches the
     * organisation made since, and no further.
     */
    @Override public List<Status> candidates(String localId, Instant submittedAt, int requests)
            throws TeacherException {
        Instant from = submittedAt.minus(CLOCK_SLACK);
        String after = null;
        while (true) {
            URI url = URI.create(root + "/batches?limit=" + listPage + (after == null ? "" : "&after=" + encode(after)));
            JsonNode list = transport.getJson(url, json -> json).body();
            JsonNode data = WireJson.array(list, "data", "data");
            boolean reachedOlder = false;
            for (JsonNode b : data) {
                if (localId.equals(b.path("metadata").path(METADATA_KEY).asText(null))) return List.of(status(b));
                // newest first: past the window, the rest of the list is older still
                if (b.path("created_at").canConvertToLong()
                        && Instant.ofEpochSecond(b.path("created_at").asLong()).isBefore(from)) {
                    reachedOlder = true;
                }
            }
            String last = data.isEmpty() ? null : data.get(data.size() - 1).path("id").asText(null);
            // a server that hands back the same cursor would loop forever: its list ends there
            if (reachedOlder || !list.path("has_more").asBoolean(false) || last == null || last.equals(after)) {
                return List.of();
            }
            after = last;
        }
    }

    @Override public String candidatesMatchedBy() { return "our id in its metadata"; }

    /** The Batch object: {@code id}, {@code status}, {@code request_counts}, file ids, {@code errors}. */
    static Status status(JsonNode b) {
        String id = WireJson.text(b, "id", "id");
        String status = WireJson.text(b, "status", "status");
        JsonNode c = WireJson.optional(b, "request_counts");
        long total = WireJson.optionalCount(c, "total");
        long completed = WireJson.optionalCount(c, "completed");
        long failed = WireJson.optionalCount(c, "failed");
        boolean ended = switch (status) {
            case "completed", "failed", "expired", "cancelled" -> true;
            default -> false;
        };
        String errors = null;
        JsonNode errs = WireJson.optional(b, "errors");
        if (errs != null && errs.path("data").isArray() && !errs.path("data").isEmpty()) {
            StringBuilder sb = new StringBuilder();
            for (JsonNode e : errs.path("data")) {
                if (!sb.isEmpty()) sb.append("; ");
                sb.append(e.path("message").asText(e.toString()));
                if (e.hasNonNull("line")) sb.append(" (line ").append(e.path("line").asLong()).append(')');
                if (e.hasNonNull("code")) sb.append(" [code ").append(e.path("code").asText()).append(']');
            }
            errors = sb.toString();
        }
        return new Status(id, status, ended,
                new Counts(total, completed, failed, 0, 0, ended ? 0 : Math.max(0, total - completed - failed)),
                textOrNull(b, "output_file_id"), textOrNull(b, "error_file_id"), null, errors, Json.write(b),
                b.path("created_at").canConvertToLong() ? Instant.ofEpochSecond(b.path("created_at").asLong()) : null);
    }

    @Override public void results(Status ended, Consumer<Item> sink) throws TeacherException {
        for (String fileId : new String[] {ended.outputFileId(), ended.errorFileId()}) {
            if (fileId == null) continue;
            byte[] content = transport.getBytes(URI.create(root + "/files/" + encode(fileId) + "/content")).body();
            readLines(content, fileId, sink);
        }
    }

    private void readLines(byte[] content, String fileId, Consumer<Item> sink) {
        BatchApi.forEachResultLine(content,
                (customId, line, n) -> sink.accept(item(customId, line, fileId + " line " + n)));
    }

    private Item item(String customId, JsonNode line, String where) {
        JsonNode response = WireJson.optional(line, "response");
        JsonNode error = WireJson.optional(line, "error");
        if (response != null) {
            int statusCode = response.path("status_code").asInt(0);
            String requestId = textOrNull(response, "request_id");
            JsonNode body = response.path("body");
            if (statusCode / 100 == 2) {
                try {
                    if (!body.isObject()) throw new WireJson.MalformedException("has no response body object");
                    return new Answered(customId, teacher.parse(body), requestId);
                } catch (WireJson.MalformedException | IllegalArgumentException e) {
                    Usage billed = HttpTransport.billedUsage(body);
                    String excerpt = HttpTransport.excerpt(Json.write(body).getBytes(StandardCharsets.UTF_8));
                    return new Failed(customId, new TeacherException(TeacherException.Kind.MALFORMED_RESPONSE,
                            statusCode, "the batch answered " + statusCode + " (" + where + ") but its body "
                            + e.getMessage() + ": " + excerpt, null, excerpt, requestId, null, null,
                            billed == null ? TeacherException.Billing.WORST_CASE : TeacherException.Billing.USAGE,
                            billed), billed);
                }
            }
            byte[] raw = Json.write(body).getBytes(StandardCharsets.UTF_8);
            String detail = HttpTransport.providerMessage(raw);
            return new Failed(customId, new TeacherException(HttpTransport.kindOf(statusCode), statusCode,
                    "the batch request failed (" + statusCode + "): " + (detail == null ? HttpTransport.excerpt(raw)
                    : detail), null, HttpTransport.excerpt(raw), requestId, null, null), Usage.ZERO);
        }
        String code = error == null ? null : textOrNull(error, "code");
        String message = error == null ? "no response and no error" : error.path("message").asText("");
        if ("batch_expired".equals(code)) return new NotRun(customId, "expired: " + message);
        if ("batch_cancelled".equals(code)) return new NotRun(customId, "cancelled: " + message);
        String excerpt = HttpTransport.excerpt(Json.write(line).getBytes(StandardCharsets.UTF_8));
        return new Failed(customId, new TeacherException(TeacherException.Kind.BAD_REQUEST, 0,
                "the batch request failed: " + message + (code == null ? "" : " [code " + code + "]"), null,
                excerpt, null, null, null), Usage.ZERO);
    }

    private static String textOrNull(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static String encode(String s) { return URLEncoder.encode(s, StandardCharsets.UTF_8); }

    @Override public void close() { transport.close(); }
}
