package dev.distill4j.cli;

import java.io.PrintStream;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * How a long command shows its stages on stderr: a title line per stage ({@code [n] title} when numbered), a live
 * progress line under it with the stage's elapsed time, and an indented summary when the stage is done. The demo's
 * pipelines and the active harvest loop report through it; their listener interfaces share these two methods.
 */
class StageLines {
    private final PrintStream err;
    private final boolean quiet;
    private final boolean numbered;
    private ProgressBar bar;
    private int n;

    StageLines(PrintStream err, boolean quiet, boolean numbered) {
        this.err = err;
        this.quiet = quiet;
        this.numbered = numbered;
    }

    public synchronized void stage(String title, Supplier<String> progress) {
        close();
        n++;
        err.println(numbered ? "[" + n + "] " + title : title);
        long t0 = System.nanoTime();
        bar = new ProgressBar(err, quiet, () -> "    " + ProgressBar.duration(
                Duration.ofNanos(System.nanoTime() - t0)) + "  " + progress.get());
    }

    public synchronized void stageDone(String summary) {
        close();
        err.println("    " + summary);
    }

    /** A line of the command's own between stages (the progress line is ended first). */
    synchronized void line(String text) {
        close();
        err.println(text);
    }

    synchronized void close() {
        if (bar != null) bar.close();
        bar = null;
    }
}
