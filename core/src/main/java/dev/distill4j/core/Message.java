package dev.distill4j.core;

import java.util.Objects;

/**
 * One chat turn in OpenAI's shape. Content is plain text: array-of-parts content is flattened to its text parts
 * when read, because every teacher and student we drive is text-in/text-out.
 */
public record Message(String role, String content) {
    public Message {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
    }

    public static Message system(String content) { return new Message("system", content); }
    public static Message user(String content) { return new Message("user", content); }
    public static Message assistant(String content) { return new Message("assistant", content); }
}
