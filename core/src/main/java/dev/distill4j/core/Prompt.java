package dev.distill4j.core;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Objects;

/**
 * One prompt of a prompt set. Either {@code text} (a raw-text prompt: {"prompt": "..."}) or {@code messages} (a chat)
 * is the source of truth; {@link #chat()} gives the chat form either way, since chat teachers wrap raw text as one
 * user turn while completion teachers take it as is.
 *
 * @param id        the user's id, or a stable one derived from the content when the line has none
 * @param text      raw prompt text, or null for chat prompts
 * @param messages  chat messages, or empty for raw-text prompts
 * @param metadata  the line's {@code metadata} object (never null; may be empty)
 * @param source    file the prompt came from
 * @param line      1-based line number (record number for CSV) in {@code source}
 */
public record Prompt(String id, String text, List<Message> messages, ObjectNode metadata, String source, long line) {
    public Prompt {
        Objects.requireNonNull(id, "id");
        messages = messages == null ? List.of() : List.copyOf(messages);
        if ((text == null) == messages.isEmpty()) {
            throw new InvalidInputException("a prompt has either text or messages, not both or neither");
        }
        metadata = metadata == null ? Json.object() : metadata;
    }

    public boolean isChat() { return text == null; }

    /** The prompt as chat turns: raw text becomes a single user message. */
    public List<Message> chat() { return isChat() ? messages : List.of(Message.user(text)); }
}
