package dev.distill4j.guard.scan;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import java.io.BufferedReader;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * Reads request logs: every {@code *.jsonl} and {@code *.jsonl.gz} file under a folder (recursively, in name order),
 * one JSON object per line, in either of two shapes.
 *
 * <ul>
 *   <li><b>distill serve's log</b>: {@code {"time", "account", "client", "endpoint", "model", "status",
 *       "latency_ms", "params": {"temperature", "top_p", "n", "max_tokens", "logprobs", "top_logprobs", "seed",
 *       "stream"}, "prompt_tokens", "completion_tokens", "prompt_sha256", "messages" | "prompt"}}</li>
 *   <li><b>OpenAI-compatible gateway export</b>: {@code {"timestamp", "user", "ip", "request": {an OpenAI
 *       chat/completions or completions request body}, "response": {the response body, with usage}}}; optional
 *       {@code "endpoint"} and {@code "status"}. {@code timestamp} is ISO-8601 or epoch seconds (or milliseconds
 *       when above 10^12).</li>
 * </ul>
 *
 * A line that is not such an object is not fatal: it is counted and reported with its {@code file:line} and why,
 * and the rest is read. A {@code .gz} file cut short (still being written) ends its records where it breaks.
 */
public final class LogReader {
    /** A line that could not be read: where and why. */
    public record Malformed(String source, String reason) {}

    /** The records (in time order) and the lines that were skipped. */
    public record Result(List<LogRecord> records, List<Malformed> malformed, List<Path> files) {}

    private LogReader() {}

    /** All log files under {@code dir}, in name order; {@code dir} may also be one file. */
    public static List<Path> files(Path dir) throws IOException {
        if (Files.isRegularFile(dir)) return List.of(dir);
        if (!Files.isDirectory(dir)) throw new java.nio.file.NoSuchFileException(dir.toString());
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).filter(p -> {
                String n = p.getFileName().toString();
                return n.endsWith(".jsonl") || n.endsWith(".jsonl.gz");
            }).sorted(Comparator.comparing(Path::toString)).toList();
        }
    }

    public static Result read(Path dir) throws IOException {
        List<Path> files = files(dir);
        List<LogRecord> records = new ArrayList<>();
        List<Malformed> bad = new ArrayList<>();
        for (Path f : files) {
            Path rel = Files.isDirectory(dir) ? dir.relativize(f) : f.getFileName();
            try (InputStream raw = Files.newInputStream(f);
                 InputStream in = f.toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw;
                 BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                int line = 0;
                while (true) {
                    String text;
                    try {
                        text = r.readLine();
                    } catch (EOFException e) { // a compressed file still being written: keep what came before
                        bad.add(new Malformed(rel + ":" + (line + 1), "compressed file ends early (still being "
                                + "written?)"));
                        break;
                    }
                    if (text == null) break;
                    line++;
                    if (text.isBlank()) continue;
                    String source = rel + ":" + line;
                    try {
                        records.add(parse(text, source));
                    } catch (IllegalArgumentException e) {
                        bad.add(new Malformed(source, e.getMessage()));
                    }
                }
            }
        }
        records.sort(Comparator.comparing(LogRecord::time));
        return new Result(List.copyOf(records), List.copyOf(bad), files);
    }

    /** One line in either shape; an {@link IllegalArgumentException} says what is wrong with it. */
    public static LogRecord parse(String line, String source) {
        JsonNode o;
        try {
            o = Json.MAPPER.readTree(line);
        } catch (IOException e) {
            throw new IllegalArgumentException("not JSON: " + firstLine(e.getMessage()));
        }
        if (o == null || !o.isObject()) throw new IllegalArgumentException("not a JSON object");
        return o.get("request") instanceof JsonNode req && req.isObject() ? gateway(o, req, source) : native_(o, source);
    }

    private static LogRecord native_(JsonNode o, String source) {
        Instant time = time(o.get("time"), "time");
        String account = text(o, "account");
        if (account == null || account.isEmpty()) throw new IllegalArgumentException("no \"account\"");
        JsonNode p = o.path("params");
        String query = query(o);
        boolean lp = logprobs(p.get("logprobs"));
        return new LogRecord(time, account, textOr(o, "client", ""), textOr(o, "endpoint", ""),
                textOr(o, "model", ""), o.path("status").asInt(200), temperature(p), Math.max(1, p.path("n").asInt(1)),
                lp, topLogprobs(p), o.path("prompt_tokens").asInt(0), o.path("completion_tokens").asInt(0), query,
                text(o, "prompt_sha256"), source);
    }

    private static LogRecord gateway(JsonNode o, JsonNode req, String source) {
        JsonNode t = o.has("timestamp") ? o.get("timestamp") : o.get("time");
        Instant time = time(t, "timestamp");
        String account = text(o, "user");
        if (account == null) account = text(o, "account");
        if (account == null) account = text(req, "user"); // OpenAI's end-user id in the body
        if (account == null || account.isEmpty()) throw new IllegalArgumentException("no \"user\"");
        String client = text(o, "ip");
        if (client == null) client = textOr(o, "client", "");
        String endpoint = text(o, "endpoint");
        if (endpoint == null) endpoint = req.has("messages") ? "/v1/chat/completions" : "/v1/completions";
        JsonNode resp = o.path("response");
        int status = o.has("status") ? o.get("status").asInt() : resp.has("error") ? 400 : 200;
        JsonNode usage = resp.path("usage");
        return new LogRecord(time, account, client, endpoint, textOr(req, "model", ""), status, temperature(req),
                Math.max(1, req.path("n").asInt(1)), logprobs(req.get("logprobs")), topLogprobs(req),
                usage.path("prompt_tokens").asInt(0), usage.path("completion_tokens").asInt(0), query(req),
                text(o, "prompt_sha256"), source);
    }

    /** The query: the last user message's text, else the prompt (the first, when a list). */
    static String query(JsonNode o) {
        JsonNode msgs = o.get("messages");
        if (msgs != null && msgs.isArray()) {
            for (int i = msgs.size() - 1; i >= 0; i--) {
                JsonNode m = msgs.get(i);
                if ("user".equals(m.path("role").asText())) return content(m.get("content"));
            }
            return null;
        }
        JsonNode p = o.get("prompt");
        if (p == null || p.isNull()) return null;
        if (p.isArray()) return p.isEmpty() ? null : p.get(0).isTextual() ? p.get(0).asText() : null;
        return p.isTextual() ? p.asText() : null;
    }

    /** A message's content: a string, or the text parts of a content-part array joined by newlines. */
    private static String content(JsonNode c) {
        if (c == null || c.isNull()) return null;
        if (c.isTextual()) return c.asText();
        if (c.isArray()) {
            StringBuilder b = new StringBuilder();
            for (JsonNode part : c) {
                if ("text".equals(part.path("type").asText()) && part.has("text")) {
                    if (!b.isEmpty()) b.append('\n');
                    b.append(part.get("text").asText());
                }
            }
            return b.isEmpty() ? null : b.toString();
        }
        return null;
    }

    /** Chat's boolean {@code logprobs}; legacy completions' integer {@code logprobs} (alternatives, 0 included). */
    private static boolean logprobs(JsonNode v) {
        if (v == null || v.isNull()) return false;
        if (v.isBoolean()) return v.asBoolean();
        return v.isNumber();
    }

    private static int topLogprobs(JsonNode p) {
        if (p.path("top_logprobs").isNumber()) return p.get("top_logprobs").asInt();
        return p.path("logprobs").isNumber() ? p.get("logprobs").asInt() : 0;
    }

    private static double temperature(JsonNode p) {
        JsonNode t = p.get("temperature");
        return t != null && t.isNumber() ? t.asDouble() : 1.0;
    }

    private static Instant time(JsonNode t, String field) {
        if (t == null || t.isNull()) throw new IllegalArgumentException("no \"" + field + "\"");
        if (t.isNumber()) {
            double v = t.asDouble();
            long ms = v > 1e12 ? (long) v : (long) (v * 1000);
            return Instant.ofEpochMilli(ms);
        }
        String s = t.asText();
        try {
            return Instant.parse(s);
        } catch (DateTimeParseException e) {
            try {
                return OffsetDateTime.parse(s).toInstant();
            } catch (DateTimeParseException e2) {
                throw new IllegalArgumentException("\"" + field + "\" is not an ISO-8601 time: " + s);
            }
        }
    }

    private static String text(JsonNode o, String field) {
        JsonNode v = o.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static String textOr(JsonNode o, String field, String dflt) {
        String s = text(o, field);
        return s == null ? dflt : s;
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int i = s.indexOf('\n');
        return i < 0 ? s : s.substring(0, i);
    }
}
