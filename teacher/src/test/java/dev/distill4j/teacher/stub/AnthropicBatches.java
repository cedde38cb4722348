package dev.distill4j.teacher.stub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * Anthropic's Message Batches API inside {@link AnthropicStub}: {@code POST /v1/messages/batches}
 * ({@code {"requests": [{"custom_id", "params"}]}}, at most 100,000, custom ids {@code ^[a-zA-Z0-9_-]{1,64}$} and
 * unique, else 400), {@code GET /v1/messages/batches/{id}} ({@code processing_status} {@code in_progress} for the
 * plan's polls, then {@code ended}; {@code canceling} after a cancel), {@code GET /v1/messages/batches/{id}/results}
 * (JSONL: {@code succeeded}, {@code errored}, {@code canceled}, {@code expired}),
 * {@code POST /v1/messages/batches/{id}/cancel}, and {@code GET /v1/messages/batches} (the list: newest first,
 * {@code limit} 1 to 1,000, default 20, else 400; {@code after_id} pages to older batches, {@code before_id} to newer,
 * both at once is a 400, an unknown id a 404; {@code {"data", "has_more", "first_id", "last_id"}} with null ids on an
 * empty page and {@code has_more} for the direction asked). Each request is answered through the stub's online path
 * when the batch ends, and billed at the batch price.
 */
final class AnthropicBatches {
    static final int MAX_REQUESTS = 100_000;
    private static final Pattern CUSTOM_ID = Pattern.compile("^[a-zA-Z0-9_-]{1,64}$");

    private static final class Batch {
        final String id;
        final List<JsonNode> requests;
        final BatchPlan plan;
        final Map<String, List<String>> headers;
        final Instant createdAt = Instant.now();
        String status = "in_progress";
        int polls;
        long succeeded;
        long errored;
        long canceled;
        long expired;
        Instant endedAt;
        Instant cancelAt;
        byte[] results;

        Batch(String id, List<JsonNode> requests, BatchPlan plan, Map<String, List<String>> headers) {
            this.id = id;
            this.requests = requests;
            this.plan = plan;
            this.headers = headers;
        }
    }

    private final AnthropicStub stub;
    private final Map<String, Batch> batches = new LinkedHashMap<>();
    private final AtomicLong ids = new AtomicLong();

    AnthropicBatches(AnthropicStub stub) {
        this.stub = stub;
    }

    /** Answers a Message Batches request, or null when the path is not one of theirs. */
    synchronized StubServer.Reply handle(RecordedRequest r) {
        String path = r.path();
        String base = "/v1/messages/batches";
        if (!path.startsWith(base)) return null;
        String m = r.method();
        if (m.equals("POST") && path.equals(base)) return create(r);
        if (m.equals("GET") && path.equals(base)) return list(r);
        String rest = path.substring(base.length());
        if (m.equals("GET") && rest.startsWith("/") && rest.endsWith("/results")) {
            return results(rest.substring(1, rest.length() - "/results".length()));
        }
        if (m.equals("POST") && rest.startsWith("/") && rest.endsWith("/cancel")) {
            return cancel(rest.substring(1, rest.length() - "/cancel".length()));
        }
        if (m.equals("GET") && rest.startsWith("/") && rest.indexOf('/', 1) < 0) return poll(rest.substring(1));
        return stub.error(404, "Not Found", null, null);
    }

    private StubServer.Reply create(RecordedRequest r) {
        ObjectNode body = StubServer.jsonObject(r);
        if (body == null) return stub.error(400, "There was an error parsing the body of your request.", null, null);
        JsonNode requests = body.get("requests");
        if (requests == null || !requests.isArray()) return stub.error(400, "requests: Field required", null, null);
        if (requests.isEmpty()) {
            return stub.error(400, "requests: List should have at least 1 item after validation, not 0", null, null);
        }
        if (requests.size() > MAX_REQUESTS) {
            return stub.error(400, "requests: List should have at most " + MAX_REQUESTS + " items after validation,"
                    + " not " + requests.size(), null, null);
        }
        Set<String> seen = new HashSet<>();
        List<JsonNode> list = new java.util.ArrayList<>();
        for (int i = 0; i < requests.size(); i++) {
            JsonNode q = requests.get(i);
            String customId = q.path("custom_id").asText(null);
            if (customId == null) return stub.error(400, "requests." + i + ".custom_id: Field required", null, null);
            if (!CUSTOM_ID.matcher(customId).matches()) {
                return stub.error(400, "requests." + i + ".custom_id: String should match pattern"
                        + " '^[a-zA-Z0-9_-]{1,64}$'", null, null);
            }
            if (!seen.add(customId)) {
                return stub.error(400, "Found duplicate custom_id " + customId + ". Each custom_id must be unique"
                        + " within a batch.", null, null);
            }
            if (!q.path("params").isObject()) {
                return stub.error(400, "requests." + i + ".params: Field required", null, null);
            }
            list.add(q);
        }
        String id = String.format("msgbatch_01Stub%012d", ids.incrementAndGet());
        Batch b = new Batch(id, list, stub.nextBatchPlan(), r.headers());
        batches.put(id, b);
        return StubServer.Reply.json(200, Map.of(), object(b));
    }

    /** {@code GET /v1/messages/batches}: one page of the workspace's batches, newest first. */
    private StubServer.Reply list(RecordedRequest r) {
        Map<String, String> q = r.queryParams();
        int limit = 20;
        if (q.containsKey("limit")) {
            try {
                limit = Integer.parseInt(q.get("limit"));
            } catch (NumberFormatException e) {
                return stub.error(400, "limit: Input should be a valid integer, unable to parse string as an integer",
                        null, null);
            }
            if (limit < 1) return stub.error(400, "limit: Input should be greater than or equal to 1", null, null);
            if (limit > 1000) {
                return stub.error(400, "limit: Input should be less than or equal to 1000", null, null);
            }
        }
        String before = q.get("before_id");
        String after = q.get("after_id");
        if (before != null && after != null) {
            return stub.error(400, "Only one of before_id and after_id may be given.", null, null);
        }
        List<Batch> newestFirst = new java.util.ArrayList<>(batches.values());
        java.util.Collections.reverse(newestFirst);
        int from;
        int to;
        boolean hasMore;
        String cursor = after != null ? after : before;
        int at = -1;
        if (cursor != null) {
            for (int i = 0; i < newestFirst.size() && at < 0; i++) if (newestFirst.get(i).id.equals(cursor)) at = i;
            if (at < 0) return stub.error(404, "No message batch found with id " + cursor, "not_found_error", null);
        }
        if (before != null) {
            to = at;
            from = Math.max(0, at - limit);
            hasMore = from > 0;
        } else {
            from = at + 1; // 0 without a cursor
            to = Math.min(newestFirst.size(), from + limit);
            hasMore = to < newestFirst.size();
        }
        ObjectNode out = Json.object();
        var data = out.putArray("data");
        List<Batch> page = newestFirst.subList(from, to);
        for (Batch b : page) data.add(object(b));
        out.put("has_more", hasMore);
        if (page.isEmpty()) {
            out.putNull("first_id");
            out.putNull("last_id");
        } else {
            out.put("first_id", page.getFirst().id);
            out.put("last_id", page.getLast().id);
        }
        return StubServer.Reply.json(200, Map.of(), out);
    }

    private StubServer.Reply poll(String id) {
        Batch b = batches.get(id);
        if (b == null) return stub.error(404, "No message batch found with id " + id, "not_found_error", null);
        b.polls++;
        if (b.status.equals("canceling") || (b.status.equals("in_progress") && b.polls > b.plan.pollsInProgress())) {
            run(b);
        }
        return StubServer.Reply.json(200, Map.of(), object(b));
    }

    private StubServer.Reply cancel(String id) {
        Batch b = batches.get(id);
        if (b == null) return stub.error(404, "No message batch found with id " + id, "not_found_error", null);
        if (b.status.equals("in_progress")) {
            b.status = "canceling";
            b.cancelAt = Instant.now();
        }
        return StubServer.Reply.json(200, Map.of(), object(b));
    }

    private StubServer.Reply results(String id) {
        Batch b = batches.get(id);
        if (b == null) return stub.error(404, "No message batch found with id " + id, "not_found_error", null);
        if (b.results == null) {
            return stub.error(400, "Message batch " + id + " has not finished processing; its results are not"
                    + " available yet.", null, null);
        }
        return new StubServer.Reply(200, Map.of("Content-Type", "application/binary"), b.results);
    }

    private void run(Batch b) {
        boolean canceled = b.status.equals("canceling");
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < b.requests.size(); i++) {
            JsonNode q = b.requests.get(i);
            String customId = q.path("custom_id").asText();
            ObjectNode line = Json.object();
            line.put("custom_id", customId);
            ObjectNode result = line.putObject("result");
            if (canceled) {
                result.put("type", "canceled");
                b.canceled++;
            } else if (b.plan.processFirst() >= 0 && i >= b.plan.processFirst()) {
                result.put("type", "expired");
                b.expired++;
            } else {
                Integer fail = b.plan.failures().apply(customId);
                StubServer.Reply reply;
                if (fail != null) {
                    reply = stub.error(fail, fail == 400 ? "max_tokens: Input should be greater than or equal to 1"
                            : fail == 529 ? "Overloaded" : "Internal server error", null, null);
                } else {
                    reply = stub.answerInBatch(new RecordedRequest(0, "POST", "/v1/messages", b.headers,
                            Json.write(q.path("params"))));
                }
                JsonNode body = Json.parse(new String(reply.body(), StandardCharsets.UTF_8));
                if (reply.status() == 200) {
                    result.put("type", "succeeded");
                    result.set("message", body);
                    stub.billBatch(200, body);
                    b.succeeded++;
                } else {
                    result.put("type", "errored");
                    ObjectNode err = result.putObject("error");
                    err.put("type", "error");
                    err.set("error", body.path("error"));
                    err.put("request_id", AnthropicStub.requestId(1_000_000L + i));
                    b.errored++;
                }
            }
            out.append(Json.write(line)).append('\n');
        }
        b.results = out.toString().getBytes(StandardCharsets.UTF_8);
        b.status = "ended";
        b.endedAt = Instant.now();
    }

    private ObjectNode object(Batch b) {
        ObjectNode o = Json.object();
        o.put("id", b.id);
        o.put("type", "message_batch");
        o.put("processing_status", b.status);
        ObjectNode c = o.putObject("request_counts");
        long finished = b.succeeded + b.errored + b.canceled + b.expired;
        c.put("processing", b.requests.size() - finished);
        c.put("succeeded", b.succeeded);
        c.put("errored", b.errored);
        c.put("canceled", b.canceled);
        c.put("expired", b.expired);
        putTime(o, "ended_at", b.endedAt);
        putTime(o, "created_at", b.createdAt);
        putTime(o, "expires_at", b.createdAt.plus(24, ChronoUnit.HOURS));
        o.putNull("archived_at");
        putTime(o, "cancel_initiated_at", b.cancelAt);
        if (b.results == null) o.putNull("results_url");
        else o.put("results_url", stub.baseUrl() + "/v1/messages/batches/" + b.id + "/results");
        return o;
    }

    private static void putTime(ObjectNode o, String field, Instant t) {
        if (t == null) o.putNull(field);
        else o.put(field, t.toString());
    }
}
