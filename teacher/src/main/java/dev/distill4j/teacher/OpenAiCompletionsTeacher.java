package dev.distill4j.teacher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Capability;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.TokenDistribution;
import dev.distill4j.core.TokenLogprob;
import dev.distill4j.core.TokenPosition;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Legacy {@code POST {base}/completions}: raw text in, raw text out, as base models are served (OpenAI's
 * {@code gpt-3.5-turbo-instruct}, vLLM, llama.cpp). It takes raw-text prompts only: rendering a chat as text would
 * invent a chat template the teacher was never trained on, so chat prompts are refused with a pointer to
 * {@code --endpoint chat}.
 *
 * <p>{@code logprobs: k} asks for k alternatives per token. OpenAI itself allows at most 5; vLLM allows what its
 * {@code --max-logprobs} says (20 by default), so 20 is the limit here except against api.openai.com.
 */
public final class OpenAiCompletionsTeacher extends HttpTeacher {
    static final int OPENAI_MAX_LOGPROBS = 5;

    public OpenAiCompletionsTeacher(TeacherConfig config) {
        int k = config.sampling().topLogprobs();
        boolean openAi = config.baseUrl().getHost().toLowerCase(Locale.ROOT).endsWith("api.openai.com");
        if (openAi && k > OPENAI_MAX_LOGPROBS) {
            throw OpenAiWire.tooManyLogprobs(k, OPENAI_MAX_LOGPROBS, "OpenAI's legacy completions API");
        }
        if (k > OpenAiWire.MAX_TOP_LOGPROBS) {
            throw OpenAiWire.tooManyLogprobs(k, OpenAiWire.MAX_TOP_LOGPROBS, "an OpenAI-compatible completions API");
        }
        if (config.sampling().system() != null) {
            throw new InvalidInputException("a system prompt needs a chat endpoint: the completions endpoint takes"
                    + " raw text; drop --system or use --endpoint chat");
        }
        super(config, BaseUrls.openAi(config.baseUrl(), "completions"),
                BaseUrls.openAiRoot(config.baseUrl()).toString(), OpenAiWire.headers(config));
    }

    @Override public Capability capability() {
        return sampling.topLogprobs() > 0 ? Capability.topK(sampling.topLogprobs()) : Capability.TEXT;
    }

    @Override protected ObjectNode body(Prompt prompt, int sampleIndex) {
        if (prompt.isChat()) {
            throw new InvalidInputException("prompt '" + prompt.id() + "' (" + prompt.source() + ":" + prompt.line()
                    + ") is a chat, but the completions endpoint takes raw text only: use --endpoint chat, or give"
                    + " raw-text prompts ({\"prompt\": \"...\"})");
        }
        ObjectNode body = Json.object();
        body.put("model", config.model());
        body.put("prompt", prompt.text());
        OpenAiWire.putSampling(body, sampling, sampleIndex);
        if (sampling.topLogprobs() > 0) body.put("logprobs", sampling.topLogprobs());
        return body;
    }

    @Override protected HttpTransport.Answer parse(JsonNode root) {
        JsonNode choice = OpenAiWire.firstChoice(root);
        String text = WireJson.text(choice, "text", "choices[0].text");
        String finish = OpenAiWire.finishReason(choice);
        TokenDistribution tokens = TokenDistribution.EMPTY;
        if (sampling.topLogprobs() > 0) {
            JsonNode logprobs = WireJson.optional(choice, "logprobs");
            if (logprobs == null && !text.isEmpty()) {
                throw new WireJson.MalformedException("lacks choices[0].logprobs although logprobs was asked for (a"
                        + " server without logprobs support ignores it: drop --top-logprobs to distil from text)");
            }
            if (logprobs != null) tokens = distribution(logprobs);
        }
        return new HttpTransport.Answer(text, finish, tokens, OpenAiWire.usage(root));
    }

    /** Parallel arrays: {@code tokens[i]}, {@code token_logprobs[i]}, {@code top_logprobs[i] = {token: logprob}}. */
    private static TokenDistribution distribution(JsonNode lp) {
        String p = "choices[0].logprobs";
        JsonNode tokens = WireJson.array(lp, "tokens", p + ".tokens");
        JsonNode logprobs = WireJson.array(lp, "token_logprobs", p + ".token_logprobs");
        JsonNode top = WireJson.optional(lp, "top_logprobs");
        if (logprobs.size() != tokens.size() || (top != null && top.size() != tokens.size())) {
            throw new WireJson.MalformedException(p + " has arrays of different lengths");
        }
        List<TokenPosition> positions = new ArrayList<>(tokens.size());
        for (int i = 0; i < tokens.size(); i++) {
            JsonNode t = tokens.get(i);
            JsonNode l = logprobs.get(i);
            if (!t.isTextual()) throw new WireJson.MalformedException(p + ".tokens[" + i + "] is not a string");
            if (!l.isNumber()) throw new WireJson.MalformedException(p + ".token_logprobs[" + i + "] is not a number");
            TokenLogprob chosen = token(t.asText(), l.asDouble());
            List<TokenLogprob> alternatives = new ArrayList<>();
            JsonNode alt = top == null ? null : top.get(i);
            if (alt != null && !alt.isNull()) {
                if (!alt.isObject()) {
                    throw new WireJson.MalformedException(p + ".top_logprobs[" + i + "] is not an object");
                }
                for (Iterator<Map.Entry<String, JsonNode>> it = alt.fields(); it.hasNext(); ) {
                    var e = it.next();
                    if (!e.getValue().isNumber()) {
                        throw new WireJson.MalformedException(p + ".top_logprobs[" + i + "] has a non-number value");
                    }
                    alternatives.add(token(e.getKey(), e.getValue().asDouble()));
                }
            }
            positions.add(TokenPosition.of(chosen, alternatives));
        }
        return new TokenDistribution(positions);
    }

    /**
     * The legacy endpoint has no bytes field; a token that is not whole UTF-8 is written {@code bytes:\xe2\x80}
     * (OpenAI and vLLM), which is decoded to its bytes here so that alignment stays exact.
     */
    static TokenLogprob token(String token, double logprob) {
        if (token.startsWith("bytes:")) {
            byte[] b = escapedBytes(token.substring(6));
            if (b != null) return new TokenLogprob(token, b, (float) logprob);
        }
        return new TokenLogprob(token, token.getBytes(StandardCharsets.UTF_8), (float) logprob);
    }

    private static byte[] escapedBytes(String s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int i = 0;
        while (i < s.length()) {
            if (s.startsWith("\\x", i) && i + 4 <= s.length()) {
                try {
                    out.write(Integer.parseInt(s.substring(i + 2, i + 4), 16));
                } catch (NumberFormatException e) {
                    return null;
                }
                i += 4;
            } else {
                byte[] ch = new String(Character.toChars(s.codePointAt(i))).getBytes(StandardCharsets.UTF_8);
                out.writeBytes(ch);
                i += Character.charCount(s.codePointAt(i));
            }
        }
        return out.toByteArray();
    }
}
