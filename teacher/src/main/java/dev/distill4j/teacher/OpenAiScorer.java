package dev.distill4j.teacher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.core.TokenLogprob;
import dev.distill4j.core.TokenPosition;
import dev.distill4j.core.Usage;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A remote teacher's log-probabilities of a given text (teacher forcing over HTTP), the scoring call of on-policy
 * distillation: the student writes, the teacher says how likely each of its own tokens of that text was.
 * OpenAI-compatible servers expose this in two dialects, both on the legacy {@code POST {base}/completions}:
 *
 * <ul>
 *   <li>{@link Dialect#ECHO}: {@code {"model", "prompt": text, "max_tokens": 0, "echo": true, "logprobs": k,
 *       "temperature": 0}} (OpenAI's legacy API, llama.cpp, distill4j's own {@code serve}). The answer's
 *       {@code choices[0].logprobs} lists the prompt's tokens ({@code tokens}, {@code token_logprobs},
 *       {@code top_logprobs}), the first one's logprob {@code null}.</li>
 *   <li>{@link Dialect#PROMPT_LOGPROBS}: vLLM's extension {@code {"model", "prompt": text, "max_tokens": 1,
 *       "prompt_logprobs": k, "temperature": 0}}; the answer's {@code choices[0].prompt_logprobs} is a list, one
 *       entry per prompt token: {@code null} for the first, else {@code {"<token id>": {"logprob", "rank",
 *       "decoded_token"}}} with the prompt's own token first (vLLM builds each entry from the actual token, then the
 *       top-k) and its top-k alternatives after it.</li>
 * </ul>
 *
 * {@link #probe} finds which one a server speaks (one tiny request each, echo first); the caller remembers it.
 *
 * <p>The returned positions spell the text byte for byte. The first token has no logprob (nothing precedes it), and
 * a server may put a BOS before the text or show it under a name that is not its bytes ({@code <s>}), so the first
 * position's bytes are taken to be whatever of the text the later positions do not cover: {@code text[0, L − Σ)}
 * where Σ is the bytes of positions 1.., which must spell the end of the text exactly (else the answer is
 * malformed). A token that is not whole UTF-8 arrives as {@code bytes:\xe2\x80} and is decoded to its bytes.
 */
public final class OpenAiScorer implements AutoCloseable {
    /** How a server returns the log-probabilities of its prompt. */
    public enum Dialect {
        /** {@code echo: true} + {@code logprobs: k} + {@code max_tokens: 0}. */
        ECHO("echo"),
        /** vLLM's {@code prompt_logprobs: k}. */
        PROMPT_LOGPROBS("prompt_logprobs");

        private final String wire;

        Dialect(String wire) { this.wire = wire; }

        /** The name stored in a run and printed: {@code echo} or {@code prompt_logprobs}. */
        public String wireName() { return wire; }

        public static Dialect ofWireName(String s) {
            for (Dialect d : values()) if (d.wire.equals(s)) return d;
            throw new IllegalArgumentException("unknown scoring dialect '" + s + "': echo or prompt_logprobs");
        }
    }

    /**
     * One scored text.
     *
     * @param positions the teacher's tokens of the text, in order, spelling it exactly; position 0 has logprob 0
     *                  and no alternatives (unscored)
     */
    public record Scored(List<TokenPosition> positions, Usage usage, String requestId, long latencyMs,
                         RateLimitInfo rateLimits) implements RequestLoop.Billed {}

    private final TeacherConfig config;
    private final URI url;
    private final HttpTransport transport;

    /** A scorer for {@code config}'s OpenAI-compatible server ({@code config.baseUrl()}, {@code config.model()}). */
    public OpenAiScorer(TeacherConfig config) {
        if (!config.provider().equals(TeacherConfig.OPENAI)) {
            throw new IllegalArgumentException("scoring text needs an OpenAI-compatible completions endpoint;"
                    + " Anthropic's API returns no log-probabilities");
        }
        this.config = config;
        this.url = BaseUrls.openAi(config.baseUrl(), "completions");
        this.transport = new HttpTransport(config, OpenAiWire.headers(config));
    }

    /** The endpoint scoring requests go to. */
    public URI url() { return url; }

    public String model() { return config.model(); }

    /** The request body of {@code dialect} for {@code text} with {@code k} alternatives per token. */
    public ObjectNode body(Dialect dialect, String text, int k) {
        if (k < 0 || k > OpenAiWire.MAX_TOP_LOGPROBS) {
            throw new IllegalArgumentException("top logprobs must be in [0, " + OpenAiWire.MAX_TOP_LOGPROBS
                    + "], got " + k);
        }
        ObjectNode body = Json.object();
        body.put("model", config.model());
        body.put("prompt", text);
        switch (dialect) {
            case ECHO -> {
                body.put("max_tokens", 0);
                body.put("echo", true);
                body.put("logprobs", k);
            }
            case PROMPT_LOGPROBS -> {
                body.put("max_tokens", 1);
                body.put("prompt_logprobs", k);
            }
        }
        body.put("temperature", 0.0);
        return body;
    }

    /**
     * One attempt at scoring {@code text}: its tokens under the teacher with their log-probabilities and up to
     * {@code k} alternatives each. Errors are classified as for any teacher call ({@link HttpTransport}); an answer
     * that does not spell the text is {@link TeacherException.Kind#MALFORMED_RESPONSE}.
     *
     * @param clientRequestId sent as {@code X-Client-Request-Id} (the stored score's key)
     */
    public Scored score(Dialect dialect, String text, int k, String clientRequestId) throws TeacherException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        HttpTransport.Reply<Parsed> r = transport.exchange(url, body(dialect, text, k), clientRequestId,
                root -> parse(dialect, root, bytes));
        return new Scored(r.body().positions(), r.body().usage(), r.requestId(), r.latencyMs(), r.rateLimits());
    }

    /**
     * Which dialect the server speaks: {@code text} is scored with echo first, then with {@code prompt_logprobs}.
     * A dialect fails when the server refuses the request (400/404/422, e.g. vLLM before echo scoring, or a server
     * without {@code prompt_logprobs}) or answers without the prompt's logprobs. Connection errors, keys and rate
     * limits are not answers about the dialect and are thrown as they are.
     *
     * @throws TeacherException the transport error, or {@code BAD_REQUEST} naming both refusals when neither works
     */
    public Probe probe(String text, int k, String clientRequestId) throws TeacherException {
        List<String> refusals = new ArrayList<>();
        for (Dialect d : Dialect.values()) {
            try {
                return new Probe(d, score(d, text, k, clientRequestId));
            } catch (TeacherException e) {
                boolean refused = e.kind() == TeacherException.Kind.BAD_REQUEST
                        || e.kind() == TeacherException.Kind.MALFORMED_RESPONSE
                        || (e.kind() == TeacherException.Kind.NOT_FOUND && e.status() == 404 && d == Dialect.ECHO
                            && e.getMessage().contains("endpoint"));
                if (!refused) throw e;
                refusals.add(d.wireName() + ": " + e.getMessage());
            }
        }
        throw new TeacherException(TeacherException.Kind.BAD_REQUEST, 400, "the teacher at " + url + " scores no"
                + " text: it took neither echo + logprobs (OpenAI legacy completions) nor prompt_logprobs (vLLM) ("
                + String.join("; ", refusals) + "): on-policy scoring needs a server that returns the log-probabilities"
                + " of its prompt", null, null, null, null, null);
    }

    /** The dialect a server speaks, and the probe text's score in it (a billed answer, worth keeping). */
    public record Probe(Dialect dialect, Scored scored) implements RequestLoop.Billed {
        @Override public Usage usage() { return scored.usage(); }

        @Override public RateLimitInfo rateLimits() { return scored.rateLimits(); }
    }

    private record Parsed(List<TokenPosition> positions, Usage usage) {}

    private static Parsed parse(Dialect dialect, JsonNode root, byte[] text) {
        JsonNode choice = OpenAiWire.firstChoice(root);
        List<TokenPosition> scored = switch (dialect) {
            case ECHO -> echoPositions(choice);
            case PROMPT_LOGPROBS -> promptLogprobPositions(choice);
        };
        return new Parsed(spell(scored, text), OpenAiWire.usage(root));
    }

    /**
     * Echo: {@code logprobs.tokens[i]}, {@code token_logprobs[i]} (null for the first), {@code top_logprobs[i]}
     * ({@code {token: logprob}}, null for the first); positions 1.. are returned (position 0 is rebuilt by
     * {@link #spell}). With {@code max_tokens: 0} nothing is generated, so every token is the prompt's.
     */
    private static List<TokenPosition> echoPositions(JsonNode choice) {
        String p = "choices[0].logprobs";
        JsonNode lp = WireJson.optional(choice, "logprobs");
        if (lp == null) {
            throw new WireJson.MalformedException("lacks choices[0].logprobs although echo and logprobs were asked for"
                    + " (the server does not score its prompt this way)");
        }
        JsonNode tokens = WireJson.array(lp, "tokens", p + ".tokens");
        JsonNode logprobs = WireJson.array(lp, "token_logprobs", p + ".token_logprobs");
        JsonNode top = WireJson.optional(lp, "top_logprobs");
        if (tokens.isEmpty() || logprobs.size() != tokens.size() || (top != null && top.size() != tokens.size())) {
            throw new WireJson.MalformedException(p + " has empty arrays or arrays of different lengths");
        }
        List<TokenPosition> out = new ArrayList<>(tokens.size() - 1);
        for (int i = 1; i < tokens.size(); i++) {
            JsonNode t = tokens.get(i);
            JsonNode l = logprobs.get(i);
            if (!t.isTextual()) throw new WireJson.MalformedException(p + ".tokens[" + i + "] is not a string");
            if (!l.isNumber()) {
                throw new WireJson.MalformedException(p + ".token_logprobs[" + i + "] is not a number (the server"
                        + " did not score the echoed prompt)");
            }
            List<TokenLogprob> alternatives = new ArrayList<>();
            JsonNode alt = top == null ? null : top.get(i);
            if (alt != null && !alt.isNull()) {
                if (!alt.isObject()) throw new WireJson.MalformedException(p + ".top_logprobs[" + i + "] is not an object");
                for (Iterator<Map.Entry<String, JsonNode>> it = alt.fields(); it.hasNext(); ) {
                    var e = it.next();
                    if (!e.getValue().isNumber()) {
                        throw new WireJson.MalformedException(p + ".top_logprobs[" + i + "] has a non-number value");
                    }
                    alternatives.add(OpenAiCompletionsTeacher.token(e.getKey(), e.getValue().asDouble()));
                }
            }
            out.add(TokenPosition.of(OpenAiCompletionsTeacher.token(t.asText(), l.asDouble()), alternatives));
        }
        return out;
    }

    /**
     * vLLM: {@code prompt_logprobs[i]} = {@code {"<id>": {"logprob", "rank", "decoded_token"}}}, the prompt's own
     * token first, then the top-k; entry 0 is null. A top-k token equal to the prompt's own is listed once (the dict
     * has one key per id).
     */
    private static List<TokenPosition> promptLogprobPositions(JsonNode choice) {
        String p = "choices[0].prompt_logprobs";
        JsonNode list = WireJson.optional(choice, "prompt_logprobs");
        if (list == null || !list.isArray() || list.isEmpty()) {
            throw new WireJson.MalformedException("lacks " + p + " although prompt_logprobs was asked for (the server"
                    + " is not vLLM, or too old)");
        }
        List<TokenPosition> out = new ArrayList<>(list.size() - 1);
        for (int i = 1; i < list.size(); i++) {
            JsonNode entry = list.get(i);
            if (entry == null || !entry.isObject() || entry.isEmpty()) {
                throw new WireJson.MalformedException(p + "[" + i + "] is not an object of token ids");
            }
            TokenLogprob chosen = null;
            List<TokenLogprob> alternatives = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = entry.fields(); it.hasNext(); ) {
                var e = it.next();
                String at = p + "[" + i + "][\"" + e.getKey() + "\"]";
                String decoded = WireJson.text(e.getValue(), "decoded_token", at + ".decoded_token");
                double logprob = WireJson.number(e.getValue(), "logprob", at + ".logprob");
                TokenLogprob t = OpenAiCompletionsTeacher.token(decoded, logprob);
                if (chosen == null) chosen = t;
                alternatives.add(t);
            }
            out.add(TokenPosition.of(chosen, alternatives));
        }
        return out;
    }

    /**
     * Positions 1.. must spell the end of {@code text}; position 0 becomes the rest of the text before them (empty
     * after a BOS), unscored.
     */
    static List<TokenPosition> spell(List<TokenPosition> scored, byte[] text) {
        int covered = 0;
        for (TokenPosition t : scored) covered += t.chosen().bytes().length;
        int start = text.length - covered;
        int at = start;
        boolean spells = start >= 0;
        for (int i = 0; i < scored.size() && spells; i++) {
            byte[] b = scored.get(i).chosen().bytes();
            spells = Arrays.equals(text, at, at + b.length, b, 0, b.length);
            at += b.length;
        }
        if (!spells) {
            throw new WireJson.MalformedException("returned prompt tokens that do not spell the text sent ("
                    + covered + " bytes of tokens for a text of " + text.length + " bytes): the server changed the text"
                    + " (a normalizer, a chat template on the completions endpoint) or cut it at its context length");
        }
        byte[] first = Arrays.copyOf(text, start);
        String name = new String(first, StandardCharsets.UTF_8);
        List<TokenPosition> out = new ArrayList<>(scored.size() + 1);
        out.add(new TokenPosition(new TokenLogprob(name, first, 0f), List.of(), 0f));
        out.addAll(scored);
        return out;
    }

    @Override public void close() { transport.close(); }

    @Override public String toString() {
        return String.format(Locale.ROOT, "OpenAiScorer[%s at %s]", config.model(), url);
    }
}
