package dev.distill4j.teacher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Capability;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import dev.distill4j.core.Message;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.TokenDistribution;
import dev.distill4j.core.Usage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Anthropic's Messages API, {@code POST {base}/v1/messages}. Text only: the API returns no logprobs, so a harvest
 * from Claude distils from text ({@link Capability#TEXT}) and asking for top logprobs is an error up front.
 *
 * <p>System turns of the prompt and the configured system prompt become the top-level {@code system} (the API has
 * no system role), joined by a blank line, the configured one first. {@code seed} is not sent: the API has none.
 * Usage follows OpenAI's meaning: prompt tokens include cache reads and cache writes
 * ({@code input_tokens} counts only the uncached rest), and cache reads are the cached subset.
 */
public final class AnthropicTeacher extends HttpTeacher {
    public static final String API_VERSION = "2023-06-01";

    public AnthropicTeacher(TeacherConfig config) {
        if (config.sampling().topLogprobs() > 0) {
            throw new InvalidInputException("Anthropic's API returns no logprobs, so --top-logprobs "
                    + config.sampling().topLogprobs() + " cannot be served: drop it to distil from text only");
        }
        super(config, BaseUrls.anthropicMessages(config.baseUrl()),
                BaseUrls.anthropicRoot(config.baseUrl()).toString(), headers(config));
    }

    static Map<String, String> headers(TeacherConfig c) {
        Map<String, String> h = new LinkedHashMap<>();
        if (c.apiKey() != null && !c.apiKey().isEmpty()) h.put("x-api-key", c.apiKey());
        h.put("anthropic-version", API_VERSION);
        return h;
    }

    @Override public Capability capability() { return Capability.TEXT; }

    @Override protected ObjectNode body(Prompt prompt, int sampleIndex) {
        List<String> system = new ArrayList<>();
        if (sampling.system() != null) system.add(sampling.system());
        List<Message> turns = new ArrayList<>();
        for (Message m : prompt.chat()) {
            switch (m.role()) {
                case "system", "developer" -> system.add(m.content());
                case "user", "assistant" -> turns.add(m);
                default -> throw new InvalidInputException("prompt '" + prompt.id() + "' has a '" + m.role()
                        + "' message; Anthropic's API takes user and assistant turns (and a system prompt) only");
            }
        }
        if (turns.isEmpty()) {
            throw new InvalidInputException("prompt '" + prompt.id() + "' has no user or assistant message;"
                    + " Anthropic's API needs at least one");
        }
        ObjectNode body = Json.object();
        body.put("model", config.model());
        body.put("max_tokens", sampling.maxTokens());
        if (!system.isEmpty()) body.put("system", String.join("\n\n", system));
        var messages = body.putArray("messages");
        for (Message m : turns) messages.addObject().put("role", m.role()).put("content", m.content());
        if (sampling.temperature() != null) body.put("temperature", sampling.temperature());
        if (sampling.topP() != null) body.put("top_p", sampling.topP());
        if (!sampling.stop().isEmpty()) {
            var a = body.putArray("stop_sequences");
            sampling.stop().forEach(a::add);
        }
        return body;
    }

    @Override protected HttpTransport.Answer parse(JsonNode root) {
        JsonNode content = WireJson.array(root, "content", "content");
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < content.size(); i++) {
            JsonNode block = content.get(i);
            if ("text".equals(block.path("type").asText())) text.append(WireJson.text(block, "text", "content[" + i + "].text"));
        }
        String stop = WireJson.textOrNull(root, "stop_reason", "stop_reason");
        JsonNode u = WireJson.object(root, "usage", "usage");
        long cacheRead = WireJson.optionalCount(u, "cache_read_input_tokens");
        long cacheWrite = WireJson.optionalCount(u, "cache_creation_input_tokens");
        Usage usage = new Usage(WireJson.count(u, "input_tokens", "usage.input_tokens") + cacheRead + cacheWrite,
                WireJson.count(u, "output_tokens", "usage.output_tokens"), cacheRead, 0);
        return new HttpTransport.Answer(text.toString(), finishReason(stop), TokenDistribution.EMPTY, usage);
    }

    /** Anthropic's stop reasons in OpenAI's words, which is what samples store. */
    static String finishReason(String stopReason) {
        if (stopReason == null) return "stop";
        return switch (stopReason) {
            case "end_turn", "stop_sequence", "pause_turn" -> "stop";
            case "max_tokens", "model_context_window_exceeded" -> "length";
            case "refusal" -> "content_filter";
            case "tool_use" -> "tool_calls";
            default -> stopReason;
        };
    }
}
