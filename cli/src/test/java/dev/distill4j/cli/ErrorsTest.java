package dev.distill4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.distill4j.core.InvalidInputException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.NoSuchFileException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Only errors the user can fix print as one plain line; a library bug says "internal error" and how to see more. */
class ErrorsTest {
    @CommandLine.Command(name = "thing")
    static final class Thing implements Runnable {
        @Override public void run() {}
    }

    private final StringWriter err = new StringWriter();

    private int handle(Exception e) {
        CommandLine cl = new CommandLine(new Thing());
        cl.setErr(new PrintWriter(err, true));
        return new Errors().handleExecutionException(e, cl, null);
    }

    @AfterEach
    void quiet() { Distill.verbose = false; }

    @Test
    void userErrorsAreOneLine() {
        assertThat(handle(new InvalidInputException("--dims must be at least 1, got 0"))).isEqualTo(Errors.FAILURE);
        assertThat(handle(new UserError("--port must be 0..65535, got 70000", Errors.USAGE))).isEqualTo(Errors.USAGE);
        handle(new NoSuchFileException("prompts.jsonl"));
        assertThat(err.toString()).isEqualTo("""
                thing: error: --dims must be at least 1, got 0
                thing: error: --port must be 0..65535, got 70000
                thing: error: no such file: prompts.jsonl
                """);
    }

    @Test
    void aLibraryBugSaysInternalErrorAndHowToGetTheTrace() {
        assertThat(handle(new IllegalArgumentException("shape [2, 3] does not match [3]"))).isEqualTo(Errors.FAILURE);
        handle(new IllegalStateException("run store is closed"));
        assertThat(err.toString().lines()).containsExactly(
                "thing: error: internal error (IllegalArgumentException): shape [2, 3] does not match [3] — rerun "
                        + "with --verbose for the stack trace and please report it",
                "thing: error: internal error (IllegalStateException): run store is closed — rerun with --verbose "
                        + "for the stack trace and please report it");
    }

    @Test
    void verboseAddsTheTrace() {
        Distill.verbose = true;
        handle(new IllegalArgumentException("boom"));
        assertThat(err.toString()).startsWith("thing: error: internal error (IllegalArgumentException): boom\n")
                .contains("\tat dev.distill4j.cli.ErrorsTest");
    }
}
