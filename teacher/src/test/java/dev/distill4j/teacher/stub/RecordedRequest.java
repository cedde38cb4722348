package dev.distill4j.teacher.stub;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One request as a stub received it.
 *
 * @param seq     1-based arrival number
 * @param path    the raw path, without the query
 * @param headers names are case-insensitive
 * @param query   the raw query string (after {@code ?}), or null when there is none
 */
public record RecordedRequest(long seq, String method, String path, Map<String, List<String>> headers, String body,
                              String query) {
    public RecordedRequest {
        TreeMap<String, List<String>> h = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        if (headers != null) headers.forEach((k, v) -> h.put(k, List.copyOf(v)));
        headers = java.util.Collections.unmodifiableMap(h);
    }

    /** A request without a query string. */
    public RecordedRequest(long seq, String method, String path, Map<String, List<String>> headers, String body) {
        this(seq, method, path, headers, body, null);
    }

    /** The query's parameters, decoded; a name given twice keeps its first value. */
    public Map<String, String> queryParams() {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        if (query == null || query.isEmpty()) return out;
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            String name = java.net.URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq),
                    java.nio.charset.StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : java.net.URLDecoder.decode(pair.substring(eq + 1),
                    java.nio.charset.StandardCharsets.UTF_8);
            out.putIfAbsent(name, value);
        }
        return out;
    }

    /** The first value of a header, or null. */
    public String header(String name) {
        List<String> v = headers.get(name);
        return v == null || v.isEmpty() ? null : v.getFirst();
    }

    public String clientRequestId() { return header("X-Client-Request-Id"); }

    /** The body as JSON (null when it is not JSON). */
    public JsonNode json() {
        try {
            return Json.MAPPER.readTree(body);
        } catch (Exception e) {
            return null;
        }
    }
}
