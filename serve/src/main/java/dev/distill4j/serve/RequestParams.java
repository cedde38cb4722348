package dev.distill4j.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.model.config.GenerationConfig;
import dev.distill4j.model.generate.SamplingDefaults;
import dev.distill4j.model.generate.SamplingParams;
import java.util.ArrayList;
import java.util.List;

/**
 * The sampling fields both endpoints share, read and range-checked as OpenAI checks them. A wrong type or range is
 * a 400 naming the parameter.
 */
record RequestParams(String model, int n, double temperature, double topP, int topK, long seed,
                     Integer maxTokens, List<String> stop, boolean stream, boolean includeUsage) {
    static final int MAX_N = 128;
    static final int MAX_STOP = 4;

    static RequestParams read(ObjectNode body, GenerationConfig defaults, boolean legacy) {
        JsonNode m = body.get("model");
        if (m == null || m.isNull()) throw OpenAiError.badRequest("model", "you must provide a model parameter");
        if (!m.isTextual()) throw invalidType("model", "a string", m);
        int n = intIn(body, "n", 1, 1, MAX_N);
        Double temperature = optNumber(body, "temperature", 0, 2);
        Double topP = optNumber(body, "top_p", 0, 1);
        // top_k is vLLM's extension; -1 and 0 both mean off
        Integer topK = body.hasNonNull("top_k") ? intIn(body, "top_k", 0, -1, Integer.MAX_VALUE) : null;
        JsonNode s = body.get("seed");
        Long seed = null;
        if (s != null && !s.isNull()) {
            if (!(s.isIntegralNumber() && s.canConvertToLong())) throw invalidType("seed", "an integer", s);
            seed = s.asLong();
        }
        // what the request leaves open comes from generation_config.json, then OpenAI's defaults, as in generate
        SamplingDefaults.Choice choice = SamplingDefaults.resolve(defaults, temperature, topP, topK, seed, false);
        Integer maxTokens;
        if (legacy) {
            // the legacy endpoint allows 0 (score a prompt with echo) and defaults to 16, as OpenAI's did
            maxTokens = intIn(body, "max_tokens", 16, 0, Integer.MAX_VALUE);
        } else {
            JsonNode mct = body.get("max_completion_tokens");
            String field = mct != null && !mct.isNull() ? "max_completion_tokens" : "max_tokens";
            JsonNode t = body.get(field);
            maxTokens = t == null || t.isNull() ? null : intIn(body, field, 0, 1, Integer.MAX_VALUE);
        }
        List<String> stop = stop(body.get("stop"));
        boolean stream = bool(body, "stream", false);
        boolean includeUsage = false;
        JsonNode so = body.get("stream_options");
        if (so != null && !so.isNull()) {
            if (!stream) throw OpenAiError.badRequest("stream_options",
                    "The 'stream_options' parameter is only allowed when 'stream' is enabled.");
            if (!so.isObject()) throw invalidType("stream_options", "an object", so);
            includeUsage = bool((ObjectNode) so, "include_usage", false);
        }
        for (String unsupported : List.of("frequency_penalty", "presence_penalty")) {
            JsonNode p = body.get(unsupported);
            if (p != null && !p.isNull() && !(p.isNumber() && p.asDouble() == 0)) {
                throw OpenAiError.invalidValue(unsupported, "'" + unsupported + "' is not supported by this server; "
                        + "leave it out or set it to 0.");
            }
        }
        JsonNode tools = body.get("tools");
        if (tools != null && !tools.isNull() && !(tools.isArray() && tools.isEmpty())) {
            throw OpenAiError.invalidValue("tools", "tool calling is not supported by this server; leave 'tools' out.");
        }
        return new RequestParams(m.asText(), n, choice.temperature(), choice.topP(), choice.topK(), choice.seed(),
                maxTokens, stop, stream, includeUsage);
    }

    /**
     * Sampling parameters of choice {@code index}. Sampled choices get {@code seed + index}, so n choices differ but
     * each is reproducible, alone or batched; greedy ones are normalised (seed 0, no top-k/top-p) since they draw
     * nothing.
     */
    SamplingParams sampling(int maxNewTokens, List<Integer> eos, int topLogprobs, int index) {
        boolean greedy = temperature <= 0 || topK == 1;
        return new SamplingParams(maxNewTokens, greedy ? 0 : temperature, greedy ? 0 : topK, greedy ? 1 : topP,
                greedy ? 0 : seed + index, eos, stop, topLogprobs);
    }

    static int intIn(ObjectNode body, String field, int dflt, int min, int max) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) return dflt;
        if (!v.isIntegralNumber() || !v.canConvertToInt()) throw invalidType(field, "an integer", v);
        int x = v.asInt();
        if (x < min) throw OpenAiError.invalidValue(field, "Invalid '" + field + "': integer below minimum value. "
                + "Expected a value >= " + min + ", but got " + x + " instead.");
        if (x > max) throw OpenAiError.invalidValue(field, "Invalid '" + field + "': integer above maximum value. "
                + "Expected a value <= " + max + ", but got " + x + " instead.");
        return x;
    }

    static double number(ObjectNode body, String field, double dflt, double min, double max) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) return dflt;
        if (!v.isNumber()) throw invalidType(field, "a number", v);
        double x = v.asDouble();
        if (!(x >= min && x <= max)) throw OpenAiError.invalidValue(field, "Invalid '" + field + "': expected a "
                + "value between " + num(min) + " and " + num(max) + ", but got " + v + " instead.");
        return x;
    }

    /** A number in [min, max], or null when the request leaves it out. */
    static Double optNumber(ObjectNode body, String field, double min, double max) {
        return body.hasNonNull(field) ? number(body, field, 0, min, max) : null;
    }

    static boolean bool(ObjectNode body, String field, boolean dflt) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) return dflt;
        if (!v.isBoolean()) throw invalidType(field, "a boolean", v);
        return v.asBoolean();
    }

    private static List<String> stop(JsonNode v) {
        List<String> out = new ArrayList<>();
        if (v == null || v.isNull()) return out;
        if (v.isTextual()) out.add(v.asText());
        else if (v.isArray()) {
            if (v.size() > MAX_STOP) throw OpenAiError.invalidValue("stop", "Invalid 'stop': array too long. "
                    + "Expected an array with maximum length " + MAX_STOP + ", but got an array with length "
                    + v.size() + " instead.");
            for (JsonNode s : v) {
                if (!s.isTextual()) throw invalidType("stop", "a string or an array of strings", v);
                out.add(s.asText());
            }
        } else throw invalidType("stop", "a string or an array of strings", v);
        if (out.stream().anyMatch(String::isEmpty)) throw OpenAiError.invalidValue("stop", "Invalid 'stop': "
                + "stop sequences must not be empty.");
        return out;
    }

    static OpenAiError invalidType(String field, String expected, JsonNode got) {
        return new OpenAiError(400, "invalid_request_error", field, "invalid_type", "Invalid type for '" + field
                + "': expected " + expected + ", but got " + typeName(got) + " instead.");
    }

    private static String typeName(JsonNode n) {
        return switch (n.getNodeType()) {
            case STRING -> "a string";
            case NUMBER -> n.isIntegralNumber() ? "an integer" : "a decimal";
            case BOOLEAN -> "a boolean";
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            default -> "null";
        };
    }

    private static String num(double d) { return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d); }
}
