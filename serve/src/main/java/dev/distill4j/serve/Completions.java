package dev.distill4j.serve;

import dev.distill4j.model.local.LocalModel;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.core.TokenLogprob;
import dev.distill4j.core.TokenPosition;
import dev.distill4j.model.generate.Generation;
import dev.distill4j.model.generate.Scorer;
import dev.distill4j.model.tokenizer.HfTokenizer;
import io.javalin.http.Context;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@code POST /v1/completions}, the legacy text endpoint: raw prompts (no chat template), {@code logprobs: k} in the
 * legacy shape, and {@code echo} — which with logprobs scores the prompt's own tokens (teacher forcing), so a served
 * model can score text.
 */
final class Completions {
    private final OpenAiServer server;

    Completions(OpenAiServer server) { this.server = server; }

    /** One prompt's work: its tokens, its n generations, and the prompt's scores when echoed with logprobs. */
    private record PromptWork(String text, int[] ids, List<BatchScheduler.Generate> generations,
                              BatchScheduler.Score score) {}

    void handle(Context ctx) {
        LocalModel model = server.model();
        HfTokenizer tok = model.tokenizer();
        ObjectNode body = OpenAiServer.body(ctx);
        RequestParams p = RequestParams.read(body, model.generationConfig(), true);
        server.checkModel(p.model());
        if (p.stream()) {
            throw OpenAiError.invalidValue("stream", "Streaming is supported on /v1/chat/completions only; send "
                    + "'stream': false to /v1/completions.");
        }
        JsonNode suffix = body.get("suffix");
        if (suffix != null && !suffix.isNull()) {
            throw OpenAiError.invalidValue("suffix", "'suffix' (insertion) is not supported by this server.");
        }
        List<String> prompts = prompts(body.get("prompt"));
        boolean echo = RequestParams.bool(body, "echo", false);
        JsonNode lpNode = body.get("logprobs");
        boolean logprobs = lpNode != null && !lpNode.isNull();
        int k = RequestParams.intIn(body, "logprobs", 0, 0, ChatCompletions.MAX_TOP_LOGPROBS);

        List<PromptWork> work = new ArrayList<>(prompts.size());
        List<BatchScheduler.Job> jobs = new ArrayList<>();
        long worstCase = 0;
        for (String text : prompts) {
            int[] ids = tok.encode(text, true);
            if (ids.length == 0) {
                throw OpenAiError.invalidValue("prompt", "The prompt is empty; give at least one character.");
            }
            int maxTokens = server.completionBudget(p.maxTokens(), ids.length, "prompt");
            worstCase += ids.length + (long) p.n() * maxTokens;
            List<BatchScheduler.Generate> gens = new ArrayList<>(p.n());
            for (int j = 0; j < p.n(); j++) {
                gens.add(new BatchScheduler.Generate(ids, p.sampling(maxTokens, model.eosTokenIds(), k, j)));
            }
            jobs.addAll(gens);
            BatchScheduler.Score score = null;
            if (echo && logprobs && ids.length > 1) {
                score = new BatchScheduler.Score(Arrays.copyOf(ids, 1), Arrays.copyOfRange(ids, 1, ids.length), k);
                jobs.add(score);
            }
            work.add(new PromptWork(text, ids, gens, score));
        }
        server.admitTokens(ctx, worstCase);
        server.scheduler().submit(jobs);

        ObjectNode root = Json.object();
        root.put("id", server.requestId(ctx, "cmpl-"));
        root.put("object", "text_completion");
        root.put("created", server.createdNow());
        root.put("model", server.servedModelName());
        root.put("system_fingerprint", server.fingerprint());
        ArrayNode choices = root.putArray("choices");
        long promptTokens = 0;
        long completionTokens = 0;
        int index = 0;
        for (PromptWork w : work) {
            promptTokens += w.ids().length;
            Scorer.Scored scored = w.score() == null ? null : OpenAiServer.await(w.score().result());
            for (BatchScheduler.Generate job : w.generations()) {
                Generation g = OpenAiServer.await(job.result());
                completionTokens += g.usage().completionTokens();
                ObjectNode c = choices.addObject();
                c.put("text", echo ? w.text() + g.text() : g.text());
                c.put("index", index++);
                if (logprobs) c.set("logprobs", legacyLogprobs(tok, w, scored, g, echo));
                else c.putNull("logprobs");
                c.put("finish_reason", g.finishReason().openAiName());
            }
        }
        server.recordTokens(ctx, promptTokens, completionTokens);
        root.set("usage", Wire.usage(promptTokens, completionTokens));
        ctx.contentType("application/json").result(Json.write(root));
    }

    private static List<String> prompts(JsonNode node) {
        if (node == null || node.isNull()) {
            throw OpenAiError.badRequest("prompt", "Missing required parameter: 'prompt'.");
        }
        if (node.isTextual()) return List.of(node.asText());
        if (node.isArray() && !node.isEmpty()) {
            List<String> out = new ArrayList<>(node.size());
            for (JsonNode s : node) {
                if (!s.isTextual()) {
                    throw RequestParams.invalidType("prompt", "a string or an array of strings", node);
                }
                out.add(s.asText());
            }
            return out;
        }
        throw RequestParams.invalidType("prompt", "a string or an array of strings", node);
    }

    /**
     * {@code {tokens, token_logprobs, top_logprobs, text_offset}}. With echo the prompt's tokens come first; the
     * first has no logprob (nothing precedes it), as OpenAI reports it. Offsets are in characters of the returned
     * text; without echo they start at the prompt's length, as OpenAI's do.
     */
    private static ObjectNode legacyLogprobs(HfTokenizer tok, PromptWork w, Scorer.Scored scored, Generation g,
                                             boolean echo) {
        ObjectNode lp = Json.object();
        ArrayNode tokens = lp.putArray("tokens");
        ArrayNode tokenLogprobs = lp.putArray("token_logprobs");
        ArrayNode top = lp.putArray("top_logprobs");
        ArrayNode offsets = lp.putArray("text_offset");
        if (echo) {
            List<TokenPosition> prompt = new ArrayList<>(w.ids().length);
            int first = w.ids()[0];
            prompt.add(new TokenPosition(new TokenLogprob(tok.tokenString(first), tok.tokenBytes(first), 0),
                    List.of(), 0));
            if (scored != null) prompt.addAll(scored.distribution().positions());
            add(prompt, w.text(), 0, true, tokens, tokenLogprobs, top, offsets);
        }
        add(g.distribution().positions(), g.text(), w.text().length(), false, tokens, tokenLogprobs, top, offsets);
        return lp;
    }

    private static void add(List<TokenPosition> positions, String text, int base, boolean firstUnscored,
                            ArrayNode tokens, ArrayNode tokenLogprobs, ArrayNode top, ArrayNode offsets) {
        int bytes = 0;
        for (int i = 0; i < positions.size(); i++) {
            TokenPosition pos = positions.get(i);
            tokens.add(Wire.display(pos.chosen()));
            offsets.add(base + Wire.charsInBytes(text, bytes));
            bytes += pos.chosen().bytes().length;
            if (i == 0 && firstUnscored) {
                tokenLogprobs.addNull();
                top.addNull();
                continue;
            }
            tokenLogprobs.add(pos.chosen().logprob());
            ObjectNode alts = top.addObject();
            for (TokenLogprob a : pos.alternatives()) {
                String key = Wire.display(a);
                if (!alts.has(key)) alts.put(key, a.logprob());
            }
        }
    }
}
