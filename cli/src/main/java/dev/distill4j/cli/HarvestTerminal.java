package dev.distill4j.cli;

import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.teacher.Harvester;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The terminal around a harvest (online or {@code --batch}): a progress line on stderr while it runs, Ctrl-C that
 * stops it and lets it store what it had and print its summary ({@link CtrlC}), the summary lines both kinds share,
 * and the exit code of how it ended.
 */
final class HarvestTerminal {
    private HarvestTerminal() {}

    /**
     * Runs {@code harvest} under a progress line and Ctrl-C, then prints its summary on stdout.
     *
     * @param stop     asks the harvest to stop (Ctrl-C); it then returns its result as usual
     * @param progress the progress line, redrawn while the harvest runs
     */
    static <R> R run(boolean quiet, Runnable stop, Supplier<String> progress, Callable<R> harvest,
                     Consumer<R> summary) throws Exception {
        try (CtrlC ctrlC = new CtrlC("harvest-interrupt", stop)) {
            R result;
            try (ProgressBar bar = new ProgressBar(System.err, quiet, progress)) {
                result = harvest.call();
            }
            summary.accept(result);
            System.out.flush();
            return result;
        }
    }

    /**
     * The exit code of a harvest that ended with {@code outcome}: 0 when it did what it could (complete, or stopped at
     * the budget), 130 when interrupted; a fatal error is thrown as a {@link UserError} (exit 1) with {@code fatal}'s
     * message and {@code kept}, what the user may rely on and do next (null when the message says it already).
     */
    static int exitCode(Harvester.Outcome outcome, Exception fatal, String kept) {
        return switch (outcome) {
            case COMPLETE, BUDGET_REACHED -> 0;
            case FATAL -> throw new UserError(fatal.getMessage() + (kept == null ? "" : " — " + kept));
            case INTERRUPTED -> CtrlC.EXIT_CODE;
        };
    }

    /** The summary's {@code prompts} line: how many were read, and the first malformed line skipped. */
    static void promptsLine(PrintStream out, long read, long malformed, List<String> malformedLines) {
        out.printf(Locale.ROOT, "  prompts   %s read%s%n", ProgressBar.count(read),
                malformed > 0 ? " (" + malformed + " malformed lines skipped: " + malformedLines.getFirst()
                        + (malformed > 1 ? ", ..." : "") + ")" : "");
    }

    /** The summary's {@code tokens} line. */
    static void tokensLine(PrintStream out, long promptTokens, long completionTokens) {
        out.printf(Locale.ROOT, "  tokens    %s prompt + %s completion%n", ProgressBar.count(promptTokens),
                ProgressBar.count(completionTokens));
    }

    /** The summary's {@code run} line: the store's counts, then {@code more} (may be empty). */
    static void runLine(PrintStream out, Path run, RunStore store, String more) {
        out.printf(Locale.ROOT, "  run       %s: %s done, %s failed, %s pending in store%s%n", run,
                ProgressBar.count(store.count(SampleStatus.DONE)), ProgressBar.count(store.count(SampleStatus.FAILED)),
                ProgressBar.count(store.count(SampleStatus.PENDING)), more);
    }

    /** Where to look when samples failed, now or in an earlier run, and how to ask again. */
    static void failuresLine(PrintStream out, Path run, RunStore store, long failedNow) {
        if (failedNow > 0 || store.count(SampleStatus.FAILED) > 0) {
            out.println("  failures  see 'distill inspect " + run + "'; rerun with --retry-failed to ask again");
        }
    }

    /** How the harvest ended, for the summary's first line; {@code interrupted} words a stop by Ctrl-C. */
    static String how(Harvester.Outcome outcome, Double budgetUsd, String interrupted) {
        return switch (outcome) {
            case COMPLETE -> "complete";
            case BUDGET_REACHED -> String.format(Locale.ROOT, "stopped at the budget of $%.4f", budgetUsd);
            case FATAL -> "stopped by an error";
            case INTERRUPTED -> interrupted;
        };
    }
}
