package dev.distill4j.teacher.stub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * OpenAI's Files and Batch API inside {@link OpenAiStub}: {@code POST /v1/files} (multipart, {@code purpose=batch}),
 * {@code GET /v1/files/{id}/content}, {@code POST /v1/batches}, {@code GET /v1/batches/{id}}, {@code GET /v1/batches}
 * (one page), {@code POST /v1/batches/{id}/cancel}. A batch goes {@code validating} (until its first poll) →
 * {@code in_progress} (for its plan's polls) → {@code finalizing} (its requests are answered now, through the
 * stub's online path, and billed at the batch price) → {@code completed}, or {@code expired} when its plan lets the
 * window run out, or {@code failed} when its input file is invalid (a line that is not JSON, lacks custom_id, names
 * another url, or repeats a custom_id; more than 50,000 lines) or its plan says so.
 */
final class OpenAiBatches {
    static final int MAX_REQUESTS = 50_000;
    static final long MAX_FILE_BYTES = 200L * 1000 * 1000;
    private static final List<String> ENDPOINTS = List.of("/v1/responses", "/v1/chat/completions", "/v1/embeddings",
            "/v1/completions", "/v1/moderations");

    private record StubFile(String id, String filename, String purpose, byte[] content, long createdAt) {}

    private final class Batch {
        final String id;
        final String endpoint;
        final String inputFileId;
        final JsonNode metadata;
        final BatchPlan plan;
        final Map<String, List<String>> headers;
        final long createdAt = StubServer.createdNow();
        String status = "validating";
        int polls;
        long total;
        long completed;
        long failed;
        String outputFileId;
        String errorFileId;
        ArrayNode errors;
        final Map<String, Long> at = new LinkedHashMap<>();

        Batch(String id, String endpoint, String inputFileId, JsonNode metadata, BatchPlan plan,
              Map<String, List<String>> headers) {
            this.id = id;
            this.endpoint = endpoint;
            this.inputFileId = inputFileId;
            this.metadata = metadata;
            this.plan = plan;
            this.headers = headers;
        }
    }

    private final OpenAiStub stub;
    private final Map<String, StubFile> files = new LinkedHashMap<>();
    private final Map<String, Batch> batches = new LinkedHashMap<>();
    private final AtomicLong ids = new AtomicLong();

    OpenAiBatches(OpenAiStub stub) {
        this.stub = stub;
    }

    /** Answers a Files or Batch API request, or null when the path is not one of theirs. */
    synchronized StubServer.Reply handle(RecordedRequest r) {
        String path = r.path();
        String m = r.method();
        if (m.equals("POST") && path.equals("/v1/files")) return upload(r);
        if (m.equals("GET") && path.startsWith("/v1/files/") && path.endsWith("/content")) {
            return content(path.substring("/v1/files/".length(), path.length() - "/content".length()));
        }
        if (m.equals("POST") && path.equals("/v1/batches")) return create(r);
        if (m.equals("GET") && path.equals("/v1/batches")) return list(r);
        if (m.equals("POST") && path.startsWith("/v1/batches/") && path.endsWith("/cancel")) {
            return cancel(path.substring("/v1/batches/".length(), path.length() - "/cancel".length()));
        }
        if (m.equals("GET") && path.startsWith("/v1/batches/")) return poll(path.substring("/v1/batches/".length()));
        return null;
    }

    // ------------------------------------------------------------------------------------------------ files

    private StubServer.Reply upload(RecordedRequest r) {
        String type = r.header("Content-Type");
        if (type == null || !type.startsWith("multipart/form-data") || !type.contains("boundary=")) {
            return stub.error(400, "Invalid Content-Type header (" + type + "), expected multipart/form-data.",
                    null, null);
        }
        String boundary = type.substring(type.indexOf("boundary=") + "boundary=".length()).replace("\"", "");
        Map<String, String> fields = new LinkedHashMap<>();
        String filename = null;
        byte[] content = null;
        for (String part : r.body().split("--" + java.util.regex.Pattern.quote(boundary))) {
            int split = part.indexOf("\r\n\r\n");
            if (split < 0) continue;
            String head = part.substring(0, split);
            String value = part.substring(split + 4);
            if (value.endsWith("\r\n")) value = value.substring(0, value.length() - 2);
            String name = attribute(head, "name");
            if (name == null) continue;
            if (name.equals("file")) {
                filename = attribute(head, "filename");
                content = value.getBytes(StandardCharsets.UTF_8);
            } else {
                fields.put(name, value);
            }
        }
        String purpose = fields.get("purpose");
        if (purpose == null) return stub.error(400, "Missing required parameter: 'purpose'.", null, null);
        if (!List.of("assistants", "batch", "fine-tune", "vision", "user_data", "evals").contains(purpose)) {
            return stub.error(400, "'" + purpose + "' is not one of ['fine-tune', 'assistants', 'batch', 'user_data',"
                    + " 'responses', 'vision', 'evals'] - 'purpose'", null, null);
        }
        if (content == null) return stub.error(400, "Missing required parameter: 'file'.", null, null);
        if (content.length > MAX_FILE_BYTES) {
            return stub.error(413, "File is too large. Maximum size is 200 MB for batch files.", null, null);
        }
        String id = "file-stub" + ids.incrementAndGet();
        StubFile f = new StubFile(id, filename, purpose, content, StubServer.createdNow());
        files.put(id, f);
        return StubServer.Reply.json(200, Map.of(), fileObject(f));
    }

    private static String attribute(String head, String name) {
        var mt = java.util.regex.Pattern.compile("[; ]" + name + "=\"([^\"]*)\"").matcher(head);
        return mt.find() ? mt.group(1) : null;
    }

    private static ObjectNode fileObject(StubFile f) {
        ObjectNode o = Json.object();
        o.put("object", "file");
        o.put("id", f.id());
        o.put("purpose", f.purpose());
        o.put("filename", f.filename());
        o.put("bytes", f.content().length);
        o.put("created_at", f.createdAt());
        o.putNull("expires_at");
        o.put("status", "processed");
        o.putNull("status_details");
        return o;
    }

    private StubServer.Reply content(String id) {
        StubFile f = files.get(id);
        if (f == null) return stub.error(404, "No such File object: " + id, null, null);
        return new StubServer.Reply(200, Map.of("Content-Type", "application/octet-stream"), f.content());
    }

    // ------------------------------------------------------------------------------------------------ batches

    private StubServer.Reply create(RecordedRequest r) {
        ObjectNode body = StubServer.jsonObject(r);
        if (body == null) {
            return stub.error(400, "We could not parse the JSON body of your request.", null, null);
        }
        for (String f : new String[] {"input_file_id", "endpoint", "completion_window"}) {
            if (!body.path(f).isTextual()) {
                return stub.error(400, "Missing required parameter: '" + f + "'.", null, "missing_required_parameter");
            }
        }
        String window = body.get("completion_window").asText();
        if (!window.equals("24h")) {
            return stub.error(400, "Invalid value for 'completion_window': '" + window + "'. Supported values are:"
                    + " '24h'.", null, "invalid_value");
        }
        String endpoint = body.get("endpoint").asText();
        if (!ENDPOINTS.contains(endpoint)) {
            return stub.error(400, "Invalid value for 'endpoint': '" + endpoint + "'.", null, "invalid_value");
        }
        StubFile input = files.get(body.get("input_file_id").asText());
        if (input == null) {
            return stub.error(404, "No such File object: " + body.get("input_file_id").asText(), null, null);
        }
        if (!input.purpose().equals("batch")) {
            return stub.error(400, "The file " + input.id() + " has purpose '" + input.purpose() + "', not 'batch'.",
                    null, "invalid_value");
        }
        JsonNode metadata = body.get("metadata");
        if (metadata != null && !metadata.isNull() && metadata.size() > 16) {
            return stub.error(400, "Invalid 'metadata': too many properties. Expected an object with at most 16"
                    + " properties.", null, "invalid_value");
        }
        String id = "batch_stub" + String.format("%08d", ids.incrementAndGet());
        Batch b = new Batch(id, endpoint, input.id(), metadata, stub.nextBatchPlan(), r.headers());
        b.total = lines(input.content()).size();
        batches.put(id, b);
        return StubServer.Reply.json(200, Map.of(), object(b));
    }

    /** {@code GET /v1/batches}: one page of the organisation's batches, newest first ({@code limit} 1–100, {@code after}). */
    private StubServer.Reply list(RecordedRequest r) {
        Map<String, String> q = r.queryParams();
        int limit = 20;
        if (q.containsKey("limit")) {
            try {
                limit = Integer.parseInt(q.get("limit"));
            } catch (NumberFormatException e) {
                return stub.error(400, "Invalid 'limit': expected an integer, but got a string instead.", null,
                        "invalid_type");
            }
            if (limit < 1) {
                return stub.error(400, "Invalid 'limit': integer below minimum value. Expected a value >= 1, but got "
                        + limit + " instead.", null, "integer_below_min_value");
            }
            if (limit > 100) {
                return stub.error(400, "Invalid 'limit': integer above maximum value. Expected a value <= 100, but got "
                        + limit + " instead.", null, "integer_above_max_value");
            }
        }
        List<Batch> newestFirst = new ArrayList<>(batches.values());
        java.util.Collections.reverse(newestFirst);
        int from = 0;
        String after = q.get("after");
        if (after != null) {
            int at = -1;
            for (int i = 0; i < newestFirst.size() && at < 0; i++) if (newestFirst.get(i).id.equals(after)) at = i;
            if (at < 0) return stub.error(404, "No batch found with id '" + after + "'.", null, null);
            from = at + 1;
        }
        int to = Math.min(newestFirst.size(), from + limit);
        List<Batch> page = newestFirst.subList(from, to);
        ObjectNode out = Json.object();
        out.put("object", "list");
        ArrayNode data = out.putArray("data");
        for (Batch b : page) data.add(object(b));
        if (page.isEmpty()) {
            out.putNull("first_id");
            out.putNull("last_id");
        } else {
            out.put("first_id", page.getFirst().id);
            out.put("last_id", page.getLast().id);
        }
        out.put("has_more", to < newestFirst.size());
        return StubServer.Reply.json(200, Map.of(), out);
    }

    private StubServer.Reply cancel(String id) {
        Batch b = batches.get(id);
        if (b == null) return stub.error(404, "No batch found with id '" + id + "'.", null, null);
        if (List.of("completed", "failed", "expired", "cancelled").contains(b.status)) {
            return stub.error(409, "Cannot cancel a batch with status '" + b.status + "'.", null, null);
        }
        b.status = "cancelling";
        b.at.put("cancelling_at", StubServer.createdNow());
        return StubServer.Reply.json(200, Map.of(), object(b));
    }

    private StubServer.Reply poll(String id) {
        Batch b = batches.get(id);
        if (b == null) return stub.error(404, "No batch found with id '" + id + "'.", null, null);
        b.polls++;
        switch (b.status) {
            case "validating" -> validate(b);
            case "in_progress" -> {
                if (b.polls > b.plan.pollsInProgress()) run(b);
            }
            case "finalizing" -> finish(b);
            case "cancelling" -> {
                run(b);
                b.status = "cancelled";
                b.at.put("cancelled_at", StubServer.createdNow());
            }
            default -> { /* ended */ }
        }
        return StubServer.Reply.json(200, Map.of(), object(b));
    }

    private void validate(Batch b) {
        ArrayNode errors = Json.MAPPER.createArrayNode();
        if (b.plan.validationError() != null) {
            errors.addObject().put("code", "invalid_request").put("message", b.plan.validationError())
                    .putNull("param").putNull("line");
        }
        List<String> lines = lines(files.get(b.inputFileId).content());
        if (lines.size() > MAX_REQUESTS) {
            errors.addObject().put("code", "too_many_tasks").put("message", "The input file contains "
                    + lines.size() + " requests; a batch may hold at most " + MAX_REQUESTS + ".")
                    .putNull("param").putNull("line");
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < lines.size() && errors.size() < 10; i++) {
            JsonNode line;
            try {
                line = Json.MAPPER.readTree(lines.get(i));
            } catch (Exception e) {
                errors.addObject().put("code", "invalid_json_line").put("message", "This line is not parseable as"
                        + " valid JSON.").putNull("param").put("line", i + 1);
                continue;
            }
            String customId = line.path("custom_id").asText(null);
            if (customId == null) {
                errors.addObject().put("code", "missing_required_parameter").put("message",
                        "Missing required parameter: 'custom_id'.").put("param", "custom_id").put("line", i + 1);
            } else if (!seen.add(customId)) {
                errors.addObject().put("code", "duplicate_custom_id").put("message", "The custom_id for this request"
                        + " is a duplicate of another request. The custom_id parameter must be unique for each"
                        + " request in a batch.").put("param", "custom_id").put("line", i + 1);
            }
            if (!b.endpoint.equals(line.path("url").asText())) {
                errors.addObject().put("code", "mismatched_url").put("message", "The provided url '"
                        + line.path("url").asText() + "' does not match the batch endpoint '" + b.endpoint + "'.")
                        .put("param", "url").put("line", i + 1);
            }
            if (!"POST".equals(line.path("method").asText())) {
                errors.addObject().put("code", "invalid_method").put("message", "Only POST is supported.")
                        .put("param", "method").put("line", i + 1);
            }
        }
        if (!errors.isEmpty()) {
            b.errors = errors;
            b.status = "failed";
            b.at.put("failed_at", StubServer.createdNow());
            return;
        }
        b.status = "in_progress";
        b.polls = 0;
        b.at.put("in_progress_at", StubServer.createdNow());
    }

    /** Answers the batch's requests (those its plan lets run before the window ends) and writes its files. */
    private void run(Batch b) {
        List<String> lines = lines(files.get(b.inputFileId).content());
        StringBuilder output = new StringBuilder();
        StringBuilder errors = new StringBuilder();
        boolean cancelled = b.status.equals("cancelling");
        boolean expired = false;
        for (int i = 0; i < lines.size(); i++) {
            JsonNode line = Json.parse(lines.get(i));
            String customId = line.path("custom_id").asText();
            ObjectNode out = Json.object();
            out.put("id", String.format("batch_req_stub%s_%06d", b.id.substring("batch_stub".length()), i));
            out.put("custom_id", customId);
            boolean notRun = cancelled || (b.plan.processFirst() >= 0 && i >= b.plan.processFirst());
            if (notRun) {
                expired |= !cancelled;
                out.putNull("response");
                out.putObject("error").put("code", cancelled ? "batch_cancelled" : "batch_expired")
                        .put("message", cancelled ? "This request was cancelled before it could be executed."
                                : "This request could not be executed before the completion window expired.");
                errors.append(Json.write(out)).append('\n');
                b.failed++;
                continue;
            }
            String requestId = String.format("req_batchstub%06d%s", i, b.id.substring("batch_stub".length()));
            Integer fail = b.plan.failures().apply(customId);
            int status;
            JsonNode body;
            if (fail != null) {
                StubServer.Reply e = stub.error(fail, fail == 400 ? "Invalid 'max_tokens': integer below minimum"
                        + " value." : fail == 429 ? "Rate limit reached." : "The server had an error while processing"
                        + " your request. Sorry about that!", null, null);
                status = fail;
                body = Json.MAPPER.valueToTree(Json.parse(new String(e.body(), StandardCharsets.UTF_8)));
            } else {
                RecordedRequest inner = new RecordedRequest(0, "POST", line.path("url").asText(), b.headers,
                        Json.write(line.path("body")));
                StubServer.Reply reply = stub.answerInBatch(inner);
                status = reply.status();
                body = Json.parse(new String(reply.body(), StandardCharsets.UTF_8));
                stub.billBatch(status, body);
            }
            ObjectNode response = out.putObject("response");
            response.put("status_code", status);
            response.put("request_id", requestId);
            response.set("body", body);
            out.putNull("error");
            if (status == 200) {
                output.append(Json.write(out)).append('\n');
                b.completed++;
            } else {
                errors.append(Json.write(out)).append('\n');
                b.failed++;
            }
        }
        if (!output.isEmpty()) b.outputFileId = newFile("batch_" + b.id + "_output.jsonl", "batch_output", output);
        if (!errors.isEmpty()) b.errorFileId = newFile("batch_" + b.id + "_error.jsonl", "batch_output", errors);
        if (cancelled) return;
        b.status = expired ? "expired" : "finalizing";
        b.at.put(expired ? "expired_at" : "finalizing_at", StubServer.createdNow());
    }

    private void finish(Batch b) {
        b.status = "completed";
        b.at.put("completed_at", StubServer.createdNow());
    }

    private String newFile(String name, String purpose, StringBuilder content) {
        String id = "file-stub" + ids.incrementAndGet();
        files.put(id, new StubFile(id, name, purpose, content.toString().getBytes(StandardCharsets.UTF_8),
                StubServer.createdNow()));
        return id;
    }

    private ObjectNode object(Batch b) {
        ObjectNode o = Json.object();
        o.put("id", b.id);
        o.put("object", "batch");
        o.put("endpoint", b.endpoint);
        if (b.errors == null) {
            o.putNull("errors");
        } else {
            ObjectNode e = o.putObject("errors");
            e.put("object", "list");
            e.set("data", b.errors);
        }
        o.put("input_file_id", b.inputFileId);
        o.put("completion_window", "24h");
        o.put("status", b.status);
        putOrNull(o, "output_file_id", b.outputFileId);
        putOrNull(o, "error_file_id", b.errorFileId);
        o.put("created_at", b.createdAt);
        for (String f : new String[] {"in_progress_at", "expires_at", "finalizing_at", "completed_at", "failed_at",
                "expired_at", "cancelling_at", "cancelled_at"}) {
            Long t = f.equals("expires_at") ? Long.valueOf(b.createdAt + 86_400) : b.at.get(f);
            if (t == null) o.putNull(f);
            else o.put(f, t);
        }
        ObjectNode c = o.putObject("request_counts");
        c.put("total", b.status.equals("validating") || b.status.equals("failed") ? 0 : b.total);
        c.put("completed", b.completed);
        c.put("failed", b.failed);
        if (b.metadata == null || b.metadata.isNull()) o.putNull("metadata");
        else o.set("metadata", b.metadata);
        return o;
    }

    private static void putOrNull(ObjectNode o, String field, String value) {
        if (value == null) o.putNull(field);
        else o.put(field, value);
    }

    private static List<String> lines(byte[] content) {
        List<String> out = new ArrayList<>();
        for (String l : new String(content, StandardCharsets.UTF_8).split("\n")) if (!l.isBlank()) out.add(l);
        return out;
    }
}
