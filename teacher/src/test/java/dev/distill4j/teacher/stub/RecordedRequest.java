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
 * @param headers names are case-insensitive
 */
public record RecordedRequest(long seq, String method, String path, Map<String, List<String>> headers, String body) {
    public RecordedRequest {
        TreeMap<String, List<String>> h = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        if (headers != null) headers.forEach((k, v) -> h.put(k, List.copyOf(v)));
        headers = java.util.Collections.unmodifiableMap(h);
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
