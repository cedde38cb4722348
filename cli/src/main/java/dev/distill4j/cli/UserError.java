package dev.distill4j.cli;

/** A mistake the user can fix; its message says how. Printed without a stack trace. */
final class UserError extends RuntimeException {
    private final int exitCode;

    UserError(String message) { this(message, Errors.FAILURE); }

    UserError(String message, int exitCode) {
        super(message);
        this.exitCode = exitCode;
    }

    int exitCode() { return exitCode; }
}
