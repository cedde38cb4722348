package dev.distill4j.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.AtomicFiles;
import dev.distill4j.core.Json;
import dev.distill4j.core.Message;
import dev.distill4j.core.Prompt;
import dev.distill4j.demo.TaskCorpus.Kind;
import dev.distill4j.demo.TaskCorpus.Task;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Tasks as files. Prompts go out in distill4j's prompt format, one chat per line with the answer in metadata:
 * <pre>{"id":"t1-0","messages":[{"role":"user","content":"..."}],"metadata":{"answer":"213","kind":"arithmetic"}}</pre>
 * Gold files hold the whole task, the worked response included:
 * <pre>{"id":"t1-0","kind":"arithmetic","prompt":"...","answer":"213","rationale":"Step 1: ...\nAnswer: 213"}</pre>
 */
public final class CorpusFiles {
    private CorpusFiles() {}

    /** The task as a chat prompt: one user turn, metadata {answer, kind}. */
    public static Prompt prompt(Task t, String source, long line) {
        ObjectNode meta = Json.object();
        meta.put("answer", t.answer());
        meta.put("kind", t.kind().id());
        return new Prompt(t.id(), null, List.of(Message.user(t.prompt())), meta, source, line);
    }

    public static String promptLine(Task t) {
        ObjectNode n = Json.object();
        n.put("id", t.id());
        n.putArray("messages").addObject().put("role", "user").put("content", t.prompt());
        n.putObject("metadata").put("answer", t.answer()).put("kind", t.kind().id());
        return Json.write(n);
    }

    public static String goldLine(Task t) {
        ObjectNode n = Json.object();
        n.put("id", t.id());
        n.put("kind", t.kind().id());
        n.put("prompt", t.prompt());
        n.put("answer", t.answer());
        n.put("rationale", t.rationale());
        return Json.write(n);
    }

    /** The prompts JSONL text, as {@link #writePrompts} writes it. */
    public static String promptsJsonl(List<Task> tasks) {
        StringBuilder sb = new StringBuilder();
        for (Task t : tasks) sb.append(promptLine(t)).append('\n');
        return sb.toString();
    }

    public static void writePrompts(Path file, List<Task> tasks) throws IOException {
        AtomicFiles.writeString(file, promptsJsonl(tasks));
    }

    public static void writeGold(Path file, List<Task> tasks) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (Task t : tasks) sb.append(goldLine(t)).append('\n');
        AtomicFiles.writeString(file, sb.toString());
    }

    public static List<Task> readGold(Path file) throws IOException {
        List<Task> out = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            long no = 0;
            while ((line = in.readLine()) != null) {
                no++;
                if (line.isBlank()) continue;
                try {
                    JsonNode n = Json.parse(line);
                    out.add(new Task(text(n, "id"), Kind.parse(text(n, "kind")), text(n, "prompt"),
                            text(n, "answer"), text(n, "rationale")));
                } catch (RuntimeException e) {
                    throw new IOException(file + ":" + no + ": not a gold task line (" + e.getMessage() + ")", e);
                }
            }
        }
        return out;
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual()) throw new IllegalArgumentException("\"" + field + "\" is missing");
        return v.asText();
    }
}
