package dev.distill4j.teacher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.TokenLogprob;
import dev.distill4j.core.Usage;
import java.util.LinkedHashMap;
import java.util.Map;

/** The parts of OpenAI's wire format that chat and legacy completions share. */
final class OpenAiWire {
    /** OpenAI's documented maximum of {@code top_logprobs} (chat) and what vLLM allows by default on both endpoints. */
    static final int MAX_TOP_LOGPROBS = 20;

    private OpenAiWire() {}

    static Map<String, String> headers(TeacherConfig c) {
        Map<String, String> h = new LinkedHashMap<>();
        if (c.apiKey() != null && !c.apiKey().isEmpty()) h.put("Authorization", "Bearer " + c.apiKey());
        return h;
    }

    /**
     * Sampling fields common to both endpoints, in OpenAI's documented order. The seed is offset by the sample's
     * index: several samples of one prompt with one seed would otherwise all be the same answer, while seed + index
     * keeps every sample reproducible and different.
     */
    static void putSampling(ObjectNode body, TeacherSampling s, int sampleIndex) {
        if (s.temperature() != null) body.put("temperature", s.temperature());
        if (s.topP() != null) body.put("top_p", s.topP());
        body.put(s.useMaxCompletionTokens() ? "max_completion_tokens" : "max_tokens", s.maxTokens());
        if (s.seed() != null) body.put("seed", s.seed() + sampleIndex);
        if (!s.stop().isEmpty()) {
            var a = body.putArray("stop");
            s.stop().forEach(a::add);
        }
        body.put("n", 1);
    }

    /**
     * {@code usage}: prompt and completion tokens are required (they are what is billed);
     * {@code prompt_tokens_details.cached_tokens} and {@code completion_tokens_details.reasoning_tokens} are subsets
     * that older servers leave out.
     */
    static Usage usage(JsonNode root) {
        JsonNode u = WireJson.object(root, "usage", "usage");
        return new Usage(WireJson.count(u, "prompt_tokens", "usage.prompt_tokens"),
                WireJson.count(u, "completion_tokens", "usage.completion_tokens"),
                WireJson.optionalCount(WireJson.optional(u, "prompt_tokens_details"), "cached_tokens"),
                WireJson.optionalCount(WireJson.optional(u, "completion_tokens_details"), "reasoning_tokens"));
    }

    /** The first choice, which is the only one since we send {@code n: 1}. */
    static JsonNode firstChoice(JsonNode root) {
        return WireJson.nonEmptyArray(root, "choices", "choices").get(0);
    }

    static String finishReason(JsonNode choice) {
        return WireJson.text(choice, "finish_reason", "choices[0].finish_reason");
    }

    /** {@code {token, logprob, bytes}} as in chat logprobs; null bytes mean the token's UTF-8. */
    static TokenLogprob tokenLogprob(JsonNode n, String path) {
        String token = WireJson.text(n, "token", path + ".token");
        double logprob = WireJson.number(n, "logprob", path + ".logprob");
        JsonNode bytes = WireJson.optional(n, "bytes");
        return new TokenLogprob(token, bytes == null ? null : bytes(bytes, path + ".bytes"), (float) logprob);
    }

    static byte[] bytes(JsonNode array, String path) {
        if (!array.isArray()) throw new WireJson.MalformedException(path + " is not an array of byte values");
        byte[] b = new byte[array.size()];
        for (int i = 0; i < b.length; i++) {
            JsonNode v = array.get(i);
            if (!v.canConvertToInt() || v.asInt() < 0 || v.asInt() > 255) {
                throw new WireJson.MalformedException(path + "[" + i + "] is not a byte value 0..255");
            }
            b[i] = (byte) v.asInt();
        }
        return b;
    }

    static IllegalArgumentException tooManyLogprobs(int k, int max, String what) {
        return new InvalidInputException("--top-logprobs " + k + " is more than " + what + " returns (at most "
                + max + " alternatives per token): use " + max + " or fewer");
    }
}
