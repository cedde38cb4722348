package dev.distill4j.model.tokenizer;

/** A chat template failed to render: its own {@code raise_exception(...)}, or a template error, with the reason. */
public final class ChatTemplateException extends RuntimeException {
    public ChatTemplateException(String message) {
        super(message);
    }

    public ChatTemplateException(String message, Throwable cause) {
        super(message, cause);
    }
}
