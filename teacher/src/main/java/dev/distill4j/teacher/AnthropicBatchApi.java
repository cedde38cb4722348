package dev.distill4j.teacher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.core.Usage;
import java.io.FileNotFoundException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Anthropic's Message Batches API: {@code POST /v1/messages/batches} with {@code {"requests": [{"custom_id",
 * "params": {...}}]}} (each {@code params} the body of an online {@code /v1/messages} request), polled with
 * {@code GET /v1/messages/batches/{id}} until {@code processing_status} is {@code ended} (from {@code in_progress}
 * or {@code canceling}); {@code request_counts} has {@code processing}, {@code succeeded}, {@code errored},
 * {@code canceled}, {@code expired}. The results are JSONL at {@code results_url}, one line per request in no
 * particular order: {@code {"custom_id", "result": {"type": "succeeded", "message": {...}}}}, {@code errored} with
 * {@code error: {"type": "error", "error": {"type", "message"}}}, {@code canceled} or {@code expired}. Same
 * headers as online ({@code x-api-key}, {@code anthropic-version: 2023-06-01}; the API needs no beta header).
 *
 * <p>Limits: 100,000 requests and 256 MB per batch; {@code custom_id} matches {@code ^[a-zA-Z0-9_-]{1,64}$}
 * (our sample keys are 32 hex digits). Errored, canceled and expired requests are not billed.
 *
 * <p><b>Finding a batch whose create answer was lost.</b> A Message Batch carries no metadata, so our id cannot be
 * attached to it. {@link #candidates} lists the workspace's batches instead ({@code GET /v1/messages/batches}, newest
 * first, pages of {@code limit} walked with {@code after_id} = the page's {@code last_id} while {@code has_more}) back
 * to {@link #CANDIDATE_WINDOW_BEFORE} before our submission, and keeps those created from then until
 * {@link #CANDIDATE_WINDOW_AFTER} after it whose request count (the sum of {@code request_counts}) is ours.
 */
public final class AnthropicBatchApi implements BatchApi {
    /** Anthropic's limit on requests per batch. */
    public static final int MAX_REQUESTS = 100_000;
    /** Anthropic's limit on a batch's size: 256 MB. */
    public static final long MAX_BYTES = 256L * 1000 * 1000;
    /**
     * How long before our submission a candidate may have been created: the provider stamps {@code created_at} by its
     * clock, which may differ from this machine's by seconds (NTP) or, on a machine whose clock has drifted, more.
     */
    public static final Duration CANDIDATE_WINDOW_BEFORE = Duration.ofMinutes(2);
    /**
     * How long after our submission a candidate may have been created: the batch is made once its body has arrived,
     * and a body of up to 256 MB may take minutes to upload; a create retried within the run waits out its backoff
     * first (rate limits may ask for a minute or more).
     */
    public static final Duration CANDIDATE_WINDOW_AFTER = Duration.ofMinutes(15);
    /** Batches per page of the list ({@code limit}: 1 to 1,000, the API's default is 20). */
    static final int LIST_PAGE = 100;

    private final AnthropicTeacher teacher;
    private final URI batches;
    private final HttpTransport transport;
    private int listPage = LIST_PAGE;

    AnthropicBatchApi(AnthropicTeacher teacher, TeacherConfig config) {
        this.teacher = teacher;
        this.batches = URI.create(BaseUrls.anthropicRoot(config.baseUrl()) + "/v1/messages/batches");
        this.transport = new HttpTransport(config, AnthropicTeacher.headers(config));
    }

    @Override public String provider() { return TeacherConfig.ANTHROPIC; }

    @Override public int maxRequests() { return MAX_REQUESTS; }

    @Override public long maxBytes() { return MAX_BYTES; }

    @Override public byte[] prefix() { return "{\"requests\":[\n".getBytes(StandardCharsets.UTF_8); }

    @Override public byte[] separator() { return ",\n".getBytes(StandardCharsets.UTF_8); }

    @Override public byte[] suffix() { return "\n]}".getBytes(StandardCharsets.UTF_8); }

    @Override public byte[] line(String customId, ObjectNode body) {
        ObjectNode line = Json.object();
        line.put("custom_id", customId);
        line.set("params", body);
        return Json.write(line).getBytes(StandardCharsets.UTF_8);
    }

    @Override public Submitted submit(String localId, Path file, int requests) throws TeacherException {
        HttpRequest.BodyPublisher body;
        try {
            body = HttpRequest.BodyPublishers.ofFile(file);
        } catch (FileNotFoundException e) {
            throw new TeacherException(TeacherException.Kind.BAD_REQUEST, 0, "cannot read the batch file " + file
                    + ": " + e.getMessage(), null, null, null, null, e);
        }
        Status s = transport.postJson(batches, body, localId, AnthropicBatchApi::status).body();
        return new Submitted(s.providerId(), null, s);
    }

    @Override public Status poll(String providerId) throws TeacherException {
        return transport.getJson(URI.create(batches + "/" + URLEncoder.encode(providerId, StandardCharsets.UTF_8)),
                AnthropicBatchApi::status).body();
    }

    /** Batches per page when {@link #candidates} lists them (tests lower it to walk several pages). */
    AnthropicBatchApi listPage(int limit) {
        if (limit < 1 || limit > 1000) throw new IllegalArgumentException("limit must be in 1..1000: " + limit);
        this.listPage = limit;
        return this;
    }

    @Override public List<Status> candidates(String localId, Instant submittedAt, int requests)
            throws TeacherException {
        Instant from = submittedAt.minus(CANDIDATE_WINDOW_BEFORE);
        Instant to = submittedAt.plus(CANDIDATE_WINDOW_AFTER);
        List<Status> found = new ArrayList<>();
        String after = null;
        while (true) {
            URI url = URI.create(batches + "?limit=" + listPage
                    + (after == null ? "" : "&after_id=" + URLEncoder.encode(after, StandardCharsets.UTF_8)));
            Page page = transport.getJson(url, AnthropicBatchApi::page).body();
            boolean reachedOlder = false;
            for (Status s : page.data()) {
                if (s.createdAt().isBefore(from)) {
                    reachedOlder = true; // newest first: the rest of the list is older still
                } else if (!s.createdAt().isAfter(to) && s.counts().total() == requests) {
                    found.add(s);
                }
            }
            // a server that hands back the same cursor would loop forever: its list ends there
            if (reachedOlder || !page.hasMore() || page.data().isEmpty() || page.lastId() == null
                    || page.lastId().equals(after)) {
                return found;
            }
            after = page.lastId();
        }
    }

    @Override public String candidatesMatchedBy() {
        return "its creation time and request count (Anthropic keeps no metadata on a batch)";
    }

    /** One page of {@code GET /v1/messages/batches}. */
    private record Page(List<Status> data, boolean hasMore, String lastId) {}

    private static Page page(JsonNode list) {
        List<Status> data = new ArrayList<>();
        for (JsonNode b : WireJson.array(list, "data", "data")) {
            Status s = status(b);
            if (s.createdAt() == null) throw new WireJson.MalformedException("lacks data[].created_at");
            data.add(s);
        }
        return new Page(data, list.path("has_more").asBoolean(false), list.path("last_id").asText(null));
    }

    /** The Message Batch object. */
    static Status status(JsonNode b) {
        String id = WireJson.text(b, "id", "id");
        String status = WireJson.text(b, "processing_status", "processing_status");
        JsonNode c = WireJson.object(b, "request_counts", "request_counts");
        long processing = WireJson.count(c, "processing", "request_counts.processing");
        long succeeded = WireJson.count(c, "succeeded", "request_counts.succeeded");
        long errored = WireJson.count(c, "errored", "request_counts.errored");
        long canceled = WireJson.count(c, "canceled", "request_counts.canceled");
        long expired = WireJson.count(c, "expired", "request_counts.expired");
        JsonNode url = b.get("results_url");
        return new Status(id, status, status.equals("ended"),
                new Counts(processing + succeeded + errored + canceled + expired, succeeded, errored, expired,
                        canceled, processing),
                null, null, url == null || url.isNull() ? null : url.asText(), null, Json.write(b), createdAt(b));
    }

    /** {@code created_at} (RFC 3339), or null when absent; one that does not parse is a malformed answer. */
    private static Instant createdAt(JsonNode b) {
        JsonNode n = WireJson.optional(b, "created_at");
        if (n == null) return null;
        String t = n.asText();
        try {
            return OffsetDateTime.parse(t).toInstant();
        } catch (DateTimeParseException e) {
            throw new WireJson.MalformedException("has created_at '" + t + "', not an RFC 3339 time");
        }
    }

    @Override public void results(Status ended, Consumer<Item> sink) throws TeacherException {
        URI url = ended.resultsUrl() != null ? URI.create(ended.resultsUrl())
                : URI.create(batches + "/" + URLEncoder.encode(ended.providerId(), StandardCharsets.UTF_8) + "/results");
        BatchApi.forEachResultLine(transport.getBytes(url).body(),
                (customId, line, n) -> sink.accept(item(customId, line.path("result"), "results line " + n)));
    }

    private Item item(String customId, JsonNode result, String where) {
        String type = result.path("type").asText("");
        switch (type) {
            case "succeeded" -> {
                JsonNode message = result.path("message");
                try {
                    if (!message.isObject()) throw new WireJson.MalformedException("lacks result.message");
                    return new Answered(customId, teacher.parse(message), message.path("id").asText(null));
                } catch (WireJson.MalformedException | IllegalArgumentException e) {
                    Usage billed = HttpTransport.billedUsage(message);
                    String excerpt = HttpTransport.excerpt(Json.write(result).getBytes(StandardCharsets.UTF_8));
                    return new Failed(customId, new TeacherException(TeacherException.Kind.MALFORMED_RESPONSE, 200,
                            "the batch answered (" + where + ") but its message " + e.getMessage() + ": " + excerpt,
                            null, excerpt, null, null, null,
                            billed == null ? TeacherException.Billing.WORST_CASE : TeacherException.Billing.USAGE,
                            billed), billed);
                }
            }
            case "errored" -> {
                JsonNode err = result.path("error");
                JsonNode inner = err.path("error").isObject() ? err.path("error") : err;
                String errType = inner.path("type").asText("api_error");
                String message = inner.path("message").asText("");
                int status = switch (errType) {
                    case "invalid_request_error" -> 400;
                    case "authentication_error" -> 401;
                    case "billing_error" -> 402;
                    case "permission_error" -> 403;
                    case "not_found_error" -> 404;
                    case "request_too_large" -> 413;
                    case "rate_limit_error" -> 429;
                    case "overloaded_error" -> 529;
                    default -> 500;
                };
                String excerpt = HttpTransport.excerpt(Json.write(result).getBytes(StandardCharsets.UTF_8));
                return new Failed(customId, new TeacherException(HttpTransport.kindOf(status), status,
                        "the batch request failed: " + message + " [type " + errType + "]", null, excerpt,
                        err.path("request_id").asText(null), null, null), Usage.ZERO);
            }
            case "canceled" -> { return new NotRun(customId, "canceled"); }
            case "expired" -> { return new NotRun(customId, "expired"); }
            default -> {
                String excerpt = HttpTransport.excerpt(Json.write(result).getBytes(StandardCharsets.UTF_8));
                return new Failed(customId, new TeacherException(TeacherException.Kind.MALFORMED_RESPONSE, 200,
                        "the batch reported an unknown result type '" + type + "' (" + where + ")", null, excerpt,
                        null, null, null), Usage.ZERO);
            }
        }
    }

    @Override public void close() { transport.close(); }
}
