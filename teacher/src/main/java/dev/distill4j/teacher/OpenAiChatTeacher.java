package dev.distill4j.teacher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Capability;
import dev.distill4j.core.Json;
import dev.distill4j.core.Message;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.TokenDistribution;
import dev.distill4j.core.TokenLogprob;
import dev.distill4j.core.TokenPosition;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code POST {base}/chat/completions} on OpenAI or any compatible server (vLLM, llama.cpp, Ollama, our serve).
 *
 * <p>A refusal ({@code message.content} null, {@code message.refusal} set) is recorded as the refusal's text with
 * finish reason {@code content_filter}, and its tokens from {@code logprobs.refusal}: it is what the teacher said,
 * and the finish reason lets a user filter refusals out of training data or keep them on purpose.
 */
public final class OpenAiChatTeacher extends HttpTeacher {
    public OpenAiChatTeacher(TeacherConfig config) {
        int k = config.sampling().topLogprobs();
        if (k > OpenAiWire.MAX_TOP_LOGPROBS) {
            throw OpenAiWire.tooManyLogprobs(k, OpenAiWire.MAX_TOP_LOGPROBS, "OpenAI's chat API");
        }
        super(config, BaseUrls.openAi(config.baseUrl(), "chat/completions"),
                BaseUrls.openAiRoot(config.baseUrl()).toString(), OpenAiWire.headers(config));
    }

    @Override public Capability capability() {
        return sampling.topLogprobs() > 0 ? Capability.topK(sampling.topLogprobs()) : Capability.TEXT;
    }

    @Override protected ObjectNode body(Prompt prompt, int sampleIndex) {
        ObjectNode body = Json.object();
        body.put("model", config.model());
        var messages = body.putArray("messages");
        if (sampling.system() != null) messages.addObject().put("role", "system").put("content", sampling.system());
        for (Message m : prompt.chat()) messages.addObject().put("role", m.role()).put("content", m.content());
        OpenAiWire.putSampling(body, sampling, sampleIndex);
        if (sampling.topLogprobs() > 0) {
            body.put("logprobs", true);
            body.put("top_logprobs", sampling.topLogprobs());
        }
        return body;
    }

    @Override protected HttpTransport.Answer parse(JsonNode root) {
        JsonNode choice = OpenAiWire.firstChoice(root);
        JsonNode message = WireJson.object(choice, "message", "choices[0].message");
        String finish = OpenAiWire.finishReason(choice);
        String content = WireJson.optional(message, "content") == null ? null
                : WireJson.text(message, "content", "choices[0].message.content");
        String refusal = WireJson.optional(message, "refusal") == null ? null
                : WireJson.text(message, "refusal", "choices[0].message.refusal");
        String text;
        String logprobsField;
        if (content == null && refusal != null) {
            text = refusal;
            finish = "content_filter";
            logprobsField = "refusal";
        } else {
            text = content == null ? "" : content;
            logprobsField = "content";
        }
        TokenDistribution tokens = TokenDistribution.EMPTY;
        if (sampling.topLogprobs() > 0) {
            JsonNode logprobs = WireJson.optional(choice, "logprobs");
            JsonNode entries = logprobs == null ? null : WireJson.optional(logprobs, logprobsField);
            if (entries == null && !text.isEmpty()) {
                throw new WireJson.MalformedException("lacks choices[0].logprobs." + logprobsField
                        + " although top_logprobs was asked for (a server without logprobs support ignores it:"
                        + " drop --top-logprobs to distil from text)");
            }
            if (entries != null) tokens = distribution(entries, "choices[0].logprobs." + logprobsField);
        }
        return new HttpTransport.Answer(text, finish, tokens, OpenAiWire.usage(root));
    }

    private static TokenDistribution distribution(JsonNode entries, String path) {
        if (!entries.isArray()) throw new WireJson.MalformedException(path + " is not an array");
        List<TokenPosition> positions = new ArrayList<>(entries.size());
        for (int i = 0; i < entries.size(); i++) {
            String at = path + "[" + i + "]";
            JsonNode e = entries.get(i);
            TokenLogprob chosen = OpenAiWire.tokenLogprob(e, at);
            JsonNode top = WireJson.optional(e, "top_logprobs");
            List<TokenLogprob> alternatives = new ArrayList<>(top == null ? 0 : top.size());
            if (top != null) {
                if (!top.isArray()) throw new WireJson.MalformedException(at + ".top_logprobs is not an array");
                for (int j = 0; j < top.size(); j++) {
                    alternatives.add(OpenAiWire.tokenLogprob(top.get(j), at + ".top_logprobs[" + j + "]"));
                }
            }
            positions.add(TokenPosition.of(chosen, alternatives));
        }
        return new TokenDistribution(positions);
    }
}
