package dev.distill4j.cli;

import dev.distill4j.core.InvalidInputException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import picocli.CommandLine;

/**
 * Turns exceptions into one line on stderr and an exit code. Errors a user can fix (bad file, bad flag value, bad
 * key, unreachable host) are {@link UserError}s, {@link InvalidInputException}s (thrown where the library validates
 * input) or I/O errors, and print their message. Anything else, a plain {@code IllegalArgumentException} or
 * {@code IllegalStateException} included, is a bug: it prints "internal error", a one-line summary and how to get the
 * stack trace. {@code --verbose} adds the stack trace.
 */
final class Errors implements CommandLine.IExecutionExceptionHandler, CommandLine.IParameterExceptionHandler {
    static final int FAILURE = 1;
    static final int USAGE = 2;

    @Override
    public int handleExecutionException(Exception ex, CommandLine cl, CommandLine.ParseResult parsed) {
        Throwable e = ex instanceof UncheckedIOException u ? u.getCause() : ex;
        String message = switch (e) {
            case UserError u -> u.getMessage();
            case NoSuchFileException n -> "no such file: " + n.getFile();
            case AccessDeniedException a -> "permission denied: " + a.getFile();
            case FileNotFoundException f -> f.getMessage();
            case IOException io -> io.getMessage();
            case InvalidInputException ii -> ii.getMessage();
            default -> "internal error (" + e.getClass().getSimpleName() + "): " + e.getMessage()
                    + (Distill.verbose ? "" : " — rerun with --verbose for the stack trace and please report it");
        };
        cl.getErr().println(cl.getCommandSpec().qualifiedName() + ": error: " + message);
        if (Distill.verbose) e.printStackTrace(cl.getErr());
        cl.getErr().flush();
        return e instanceof UserError u ? u.exitCode() : FAILURE;
    }

    @Override
    public int handleParseException(CommandLine.ParameterException ex, String[] args) {
        CommandLine cl = ex.getCommandLine();
        cl.getErr().println("distill: " + ex.getMessage());
        if (!CommandLine.UnmatchedArgumentException.printSuggestions(ex, cl.getErr())) {
            cl.getErr().println("Run '" + cl.getCommandSpec().qualifiedName() + " --help' for usage.");
        }
        cl.getErr().flush();
        return USAGE;
    }
}
