package dev.distill4j.guard.audit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import dev.distill4j.core.Message;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One of the provider's watermarked texts as the audit reads it: what the watermarked model wrote ({@code text})
 * and, when known, the chat it answered ({@code prompt}; empty when unknown).
 *
 * <p>Files ({@link #read}): a {@code .jsonl} / {@code .json} file holds one object per line, either
 * {@code {"text": "...", "prompt": "..."}} ({@code prompt} and {@code id} optional; what {@code distill guard detect}
 * reads) or an OpenAI chat line {@code {"messages": [..., {"role": "assistant", "content": "..."}]}} as
 * {@code distill export --format openai-chat} writes it (the last assistant turn is the text, the turns before it the
 * prompt). Any other file is one text, read whole. Blank lines are skipped; a bad line is an error naming
 * {@code file:line}.
 */
public record AuditText(String id, List<Message> prompt, String text) {
    public AuditText {
        prompt = prompt == null ? List.of() : List.copyOf(prompt);
        if (text == null) throw new IllegalArgumentException("text is null");
    }

    public boolean hasPrompt() { return !prompt.isEmpty(); }

    /** Every text of the files, in order. */
    public static List<AuditText> read(List<Path> files) throws IOException {
        List<AuditText> out = new ArrayList<>();
        for (Path f : files) out.addAll(read(f));
        return out;
    }

    public static List<AuditText> read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new NoSuchFileException(file.toString(), null, "no such text file");
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (!name.endsWith(".jsonl") && !name.endsWith(".json")) {
            String text;
            try {
                text = Files.readString(file, StandardCharsets.UTF_8);
            } catch (CharacterCodingException e) {
                throw new InvalidInputException(file + " is not UTF-8 text");
            }
            return List.of(new AuditText(file.getFileName().toString(), List.of(), text));
        }
        List<AuditText> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            long lineNo = 0;
            for (String line; (line = r.readLine()) != null; ) {
                lineNo++;
                if (lineNo == 1 && line.startsWith("\uFEFF")) line = line.substring(1);
                if (line.isBlank()) continue;
                out.add(parse(line, file + ":" + lineNo, file.getFileName() + ":" + lineNo));
            }
        } catch (CharacterCodingException e) {
            throw new InvalidInputException(file + " is not UTF-8 text");
        }
        if (out.isEmpty()) throw new InvalidInputException(file + " holds no texts");
        return out;
    }

    private static AuditText parse(String line, String where, String defaultId) {
        JsonNode o;
        try {
            o = Json.parse(line);
        } catch (RuntimeException e) {
            throw new InvalidInputException(where + ": not a JSON object (" + e.getMessage() + ")");
        }
        if (!o.isObject()) throw new InvalidInputException(where + ": not a JSON object");
        String id = o.hasNonNull("id") ? o.get("id").asText() : defaultId;
        if (o.has("text")) {
            if (!o.get("text").isTextual()) throw new InvalidInputException(where + ": \"text\" is not a string");
            List<Message> prompt = List.of();
            JsonNode p = o.get("prompt");
            if (p != null && !p.isNull()) {
                if (!p.isTextual()) throw new InvalidInputException(where + ": \"prompt\" is not a string");
                prompt = List.of(Message.user(p.asText()));
            }
            return new AuditText(id, prompt, o.get("text").asText());
        }
        JsonNode messages = o.get("messages");
        if (messages == null) {
            throw new InvalidInputException(where + ": has neither \"text\" nor \"messages\" (expected {\"text\": ...,"
                    + " \"prompt\": ...} or an OpenAI chat line ending in the assistant's answer)");
        }
        if (!messages.isArray() || messages.isEmpty()) {
            throw new InvalidInputException(where + ": \"messages\" is not a non-empty array");
        }
        List<Message> turns = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            if (!m.path("role").isTextual() || !m.path("content").isTextual()) {
                throw new InvalidInputException(where + ": messages[" + i + "] needs string \"role\" and \"content\"");
            }
            turns.add(new Message(m.get("role").asText(), m.get("content").asText()));
        }
        Message last = turns.getLast();
        if (!last.role().equals("assistant")) {
            throw new InvalidInputException(where + ": the last message is from '" + last.role() + "', not the "
                    + "assistant: the audit needs the watermarked model's answer");
        }
        return new AuditText(id, turns.subList(0, turns.size() - 1), last.content());
    }
}
