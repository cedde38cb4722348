package dev.distill4j.serve;

import dev.distill4j.model.local.LocalModel;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.core.TokenLogprob;
import dev.distill4j.core.TokenPosition;
import dev.distill4j.model.generate.Generation;
import dev.distill4j.model.tokenizer.ChatTemplate;
import dev.distill4j.model.tokenizer.ChatTemplateException;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/** {@code POST /v1/chat/completions}: the chat template, the scheduler, and OpenAI's response or SSE chunks. */
final class ChatCompletions {
    static final int MAX_TOP_LOGPROBS = 20;
    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");

    private final OpenAiServer server;

    ChatCompletions(OpenAiServer server) { this.server = server; }

    void handle(Context ctx) throws IOException, InterruptedException {
        LocalModel model = server.model();
        ObjectNode body = OpenAiServer.body(ctx);
        RequestParams p = RequestParams.read(body, model.generationConfig(), false);
        server.checkModel(p.model());
        List<Map<String, Object>> messages = messages(body.get("messages"));
        boolean logprobs = RequestParams.bool(body, "logprobs", false);
        int top = RequestParams.intIn(body, "top_logprobs", 0, 0, MAX_TOP_LOGPROBS);
        JsonNode topNode = body.get("top_logprobs");
        if (topNode != null && !topNode.isNull() && !logprobs) {
            throw OpenAiError.invalidValue("top_logprobs", "Invalid value for 'top_logprobs': 'logprobs' must be "
                    + "set to true when 'top_logprobs' is used.");
        }
        ChatTemplate template = model.chatTemplate().orElseThrow(() -> OpenAiError.badRequest("messages",
                "This model has no chat template (a base model); use /v1/completions with a prompt instead."));
        String prompt;
        try {
            prompt = template.render(messages, true, Map.of());
        } catch (ChatTemplateException e) {
            throw OpenAiError.badRequest("messages", "The model's chat template rejected the messages: "
                    + e.getMessage());
        }
        int[] ids = model.tokenizer().encode(prompt, false);
        if (ids.length == 0) throw OpenAiError.badRequest("messages", "The messages render to an empty prompt.");
        int maxTokens = server.completionBudget(p.maxTokens(), ids.length, "messages");
        server.admitTokens(ctx, ids.length + (long) p.n() * maxTokens);

        String id = server.requestId(ctx, "chatcmpl-");
        long created = server.createdNow();
        if (p.stream()) {
            stream(ctx, id, created, ids, p, maxTokens, logprobs, logprobs ? top : 0);
            return;
        }
        List<BatchScheduler.Generate> jobs = new ArrayList<>(p.n());
        for (int i = 0; i < p.n(); i++) {
            jobs.add(new BatchScheduler.Generate(ids, p.sampling(maxTokens, model.eosTokenIds(), logprobs ? top : 0, i)));
        }
        server.scheduler().submit(jobs);
        List<Generation> gens = new ArrayList<>(jobs.size());
        for (BatchScheduler.Generate j : jobs) gens.add(OpenAiServer.await(j.result()));
        long completion = 0;
        for (Generation g : gens) completion += g.usage().completionTokens();
        server.recordTokens(ctx, ids.length, completion);
        ObjectNode usage = Wire.usage(ids.length, completion);

        ObjectNode root = header(id, "chat.completion", created);
        ArrayNode choices = root.putArray("choices");
        for (int i = 0; i < gens.size(); i++) {
            Generation g = gens.get(i);
            ObjectNode c = choices.addObject();
            c.put("index", i);
            ObjectNode msg = c.putObject("message");
            msg.put("role", "assistant");
            msg.put("content", g.text());
            msg.putNull("refusal");
            msg.putArray("annotations");
            if (logprobs) c.set("logprobs", logprobs(g.distribution().positions()));
            else c.putNull("logprobs");
            c.put("finish_reason", g.finishReason().openAiName());
        }
        root.set("usage", usage);
        ctx.contentType("application/json").result(Json.write(root));
    }

    private ObjectNode header(String id, String object, long created) {
        ObjectNode root = Json.object();
        root.put("id", id);
        root.put("object", object);
        root.put("created", created);
        root.put("model", server.servedModelName());
        root.put("system_fingerprint", server.fingerprint());
        return root;
    }

    private static ObjectNode logprobs(List<TokenPosition> positions) {
        ObjectNode lp = Json.object();
        ArrayNode content = lp.putArray("content");
        for (TokenPosition pos : positions) content.add(entry(pos));
        lp.putNull("refusal");
        return lp;
    }

    /** {@code {token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}} for one generated token. */
    private static ObjectNode entry(TokenPosition pos) {
        ObjectNode e = Wire.tokenLogprob(pos.chosen());
        ArrayNode alts = e.putArray("top_logprobs");
        for (TokenLogprob a : pos.alternatives()) alts.add(Wire.tokenLogprob(a));
        return e;
    }

    /** What a streamed request hears from the worker, in order per choice. */
    private sealed interface Event {
        record Token(int choice, String delta, TokenPosition position) implements Event {}

        record Done(int choice, Generation generation) implements Event {}

        record Failed(Throwable cause) implements Event {}
    }

    /**
     * Server-sent events as tokens are generated: a role chunk per choice at once, then a content chunk per token
     * (its safe text delta: whole characters, nothing that may still become a stop string; chunks with no text are
     * left out unless they carry logprobs), a final chunk with the finish reason as each choice stops, the usage
     * chunk when asked, and {@code [DONE]}. The worker hands events over through a queue, so a slow client never
     * holds up the batch it shares. The deltas concatenate to exactly the non-streamed content.
     */
    private void stream(Context ctx, String id, long created, int[] ids, RequestParams p, int maxTokens,
                        boolean logprobs, int top) throws IOException, InterruptedException {
        LocalModel model = server.model();
        BlockingQueue<Event> events = new LinkedBlockingQueue<>();
        List<BatchScheduler.Generate> jobs = new ArrayList<>(p.n());
        for (int i = 0; i < p.n(); i++) {
            int choice = i;
            BatchScheduler.Generate job = new BatchScheduler.Generate(ids,
                    p.sampling(maxTokens, model.eosTokenIds(), top, i),
                    (tokenId, delta, position) -> events.add(new Event.Token(choice, delta, position)));
            job.result().whenComplete((g, t) -> events.add(t == null ? new Event.Done(choice, g) : new Event.Failed(t)));
            jobs.add(job);
        }
        server.scheduler().submit(jobs);     // a full queue is still a plain 429: nothing is sent yet
        boolean usageField = p.includeUsage();

        try {
            ctx.status(200);
            ctx.contentType("text/event-stream; charset=utf-8");
            ctx.header("Cache-Control", "no-cache");
            ctx.header("X-Accel-Buffering", "no");
            OutputStream out = ctx.res().getOutputStream();
            for (int i = 0; i < p.n(); i++) {
                ObjectNode delta = Json.object().put("role", "assistant").put("content", "");
                send(out, chunk(id, created, i, delta, null, null, usageField));
            }
            long completion = 0;
            for (int open = p.n(); open > 0; ) {
                switch (events.take()) {
                    case Event.Token t -> {
                        if (t.delta().isEmpty() && !logprobs) continue;
                        ObjectNode lp = null;
                        if (logprobs) {
                            lp = Json.object();
                            lp.putArray("content").add(entry(t.position()));
                            lp.putNull("refusal");
                        }
                        send(out, chunk(id, created, t.choice(), Json.object().put("content", t.delta()), lp, null,
                                usageField));
                    }
                    case Event.Done d -> {
                        open--;
                        completion += d.generation().usage().completionTokens();
                        send(out, chunk(id, created, d.choice(), Json.object(), null,
                                d.generation().finishReason().openAiName(), usageField));
                    }
                    case Event.Failed f -> {
                        // the status line is gone; say it in the stream as vLLM does, and end it
                        OpenAiError e = f.cause() instanceof OpenAiError oe ? oe : OpenAiError.internal(
                                f.cause().getClass().getSimpleName()
                                        + (f.cause().getMessage() == null ? "" : ": " + f.cause().getMessage()));
                        send(out, e.toJson());
                        out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
                        out.flush();
                        return;
                    }
                }
            }
            server.recordTokens(ctx, ids.length, completion);
            if (usageField) {
                ObjectNode last = header(id, "chat.completion.chunk", created);
                last.putArray("choices");
                last.set("usage", Wire.usage(ids.length, completion));
                send(out, last);
            }
            out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            // Jetty fails a write or flush once the client has closed the connection: nobody reads the rest
            server.scheduler().cancel(id, jobs, "client disconnected while streaming");
        }
    }

    private ObjectNode chunk(String id, long created, int index, ObjectNode delta, ObjectNode logprobs,
                             String finishReason, boolean usageField) {
        ObjectNode root = header(id, "chat.completion.chunk", created);
        ObjectNode c = root.putArray("choices").addObject();
        c.put("index", index);
        c.set("delta", delta);
        if (logprobs == null) c.putNull("logprobs");
        else c.set("logprobs", logprobs);
        c.put("finish_reason", finishReason);
        if (usageField) root.putNull("usage");
        return root;
    }

    private static void send(OutputStream out, ObjectNode chunk) throws IOException {
        out.write(("data: " + Json.write(chunk) + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** OpenAI messages to what chat templates read: role and text content (text parts joined). */
    static List<Map<String, Object>> messages(JsonNode node) {
        if (node == null || node.isNull()) {
            throw OpenAiError.badRequest("messages", "Missing required parameter: 'messages'.");
        }
        if (!node.isArray()) throw RequestParams.invalidType("messages", "an array", node);
        if (node.isEmpty()) {
            throw OpenAiError.invalidValue("messages", "Invalid 'messages': empty array. Expected an array with "
                    + "minimum length 1, but got an empty array instead.");
        }
        List<Map<String, Object>> out = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            JsonNode m = node.get(i);
            String where = "messages[" + i + "]";
            if (!m.isObject()) throw RequestParams.invalidType(where, "an object", m);
            JsonNode role = m.get("role");
            if (role == null || !role.isTextual()) {
                throw OpenAiError.badRequest(where + ".role", "Missing required parameter: '" + where + ".role'.");
            }
            if (!ROLES.contains(role.asText())) {
                throw OpenAiError.invalidValue(where + ".role", "Invalid value: '" + role.asText() + "'. Supported "
                        + "values are: 'system', 'developer', 'user', 'assistant' and 'tool'.");
            }
            Map<String, Object> msg = new LinkedHashMap<>();
            // chat templates know "system"; OpenAI's newer "developer" role means the same
            msg.put("role", role.asText().equals("developer") ? "system" : role.asText());
            msg.put("content", content(m.get("content"), where + ".content"));
            JsonNode name = m.get("name");
            if (name != null && name.isTextual()) msg.put("name", name.asText());
            out.add(msg);
        }
        return out;
    }

    private static String content(JsonNode c, String where) {
        if (c == null || c.isNull()) return "";
        if (c.isTextual()) return c.asText();
        if (!c.isArray()) throw RequestParams.invalidType(where, "a string or an array of content parts", c);
        StringBuilder sb = new StringBuilder();
        for (JsonNode part : c) {
            String type = part.path("type").asText();
            if (!type.equals("text")) {
                throw OpenAiError.invalidValue(where, "Content parts of type '" + type + "' are not supported by "
                        + "this text-only model; send text parts.");
            }
            sb.append(part.path("text").asText());
        }
        return sb.toString();
    }
}
