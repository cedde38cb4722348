package dev.distill4j.teacher;

import com.fasterxml.jackson.databind.JsonNode;

/** Field access for providers' response bodies that names the missing or ill-typed field when a body is wrong. */
public final class WireJson {
    private WireJson() {}

    /** A 200 body that is not what the provider documents; becomes {@link TeacherException.Kind#MALFORMED_RESPONSE}. */
    public static final class MalformedException extends RuntimeException {
        public MalformedException(String message) { super(message, null, false, false); }
    }

    public static JsonNode object(JsonNode parent, String field, String path) {
        JsonNode n = parent.get(field);
        if (n == null || !n.isObject()) throw missing(path, "an object", n);
        return n;
    }

    public static JsonNode array(JsonNode parent, String field, String path) {
        JsonNode n = parent.get(field);
        if (n == null || !n.isArray()) throw missing(path, "an array", n);
        return n;
    }

    public static JsonNode nonEmptyArray(JsonNode parent, String field, String path) {
        JsonNode n = array(parent, field, path);
        if (n.isEmpty()) throw new MalformedException(path + " is empty");
        return n;
    }

    public static String text(JsonNode parent, String field, String path) {
        JsonNode n = parent.get(field);
        if (n == null || !n.isTextual()) throw missing(path, "a string", n);
        return n.asText();
    }

    /** A string or JSON null (returned as null); absent or another type is malformed. */
    public static String textOrNull(JsonNode parent, String field, String path) {
        JsonNode n = parent.get(field);
        if (n != null && n.isNull()) return null;
        return text(parent, field, path);
    }

    public static double number(JsonNode parent, String field, String path) {
        JsonNode n = parent.get(field);
        if (n == null || !n.isNumber()) throw missing(path, "a number", n);
        return n.asDouble();
    }

    public static long count(JsonNode parent, String field, String path) {
        JsonNode n = parent.get(field);
        if (n == null || !n.canConvertToLong()) throw missing(path, "an integer", n);
        return n.asLong();
    }

    /** An optional count: absent or null is 0. */
    public static long optionalCount(JsonNode parent, String field) {
        if (parent == null) return 0;
        JsonNode n = parent.get(field);
        return n != null && n.canConvertToLong() ? n.asLong() : 0;
    }

    /** The node, or null when absent or JSON null. */
    public static JsonNode optional(JsonNode parent, String field) {
        if (parent == null) return null;
        JsonNode n = parent.get(field);
        return n == null || n.isNull() ? null : n;
    }

    private static MalformedException missing(String path, String expected, JsonNode found) {
        return new MalformedException(found == null ? "lacks " + path
                : path + " is not " + expected + " but " + found.getNodeType().name().toLowerCase(java.util.Locale.ROOT));
    }
}
