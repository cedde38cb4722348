package dev.distill4j.core;

/**
 * Input the user can fix: a flag value, a file, a model or run folder that is missing, malformed or does not fit.
 * The message says what is wrong and how to fix it; the CLI prints it as one line, without a stack trace. Library
 * code throws it where it validates what a user gave; a plain {@link IllegalArgumentException} or
 * {@link IllegalStateException} means a broken invariant (a bug) and is reported as an internal error.
 *
 * <p>It is an {@code IllegalArgumentException}, so callers and tests that expect one keep working.
 */
public class InvalidInputException extends IllegalArgumentException {
    public InvalidInputException(String message) { super(message); }

    public InvalidInputException(String message, Throwable cause) { super(message, cause); }
}
