package dev.distill4j.cli;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * One status line on stderr, redrawn in place on a terminal, or printed every {@code plainEvery} when stderr is a
 * file or pipe (CI logs), so long steps always show they are alive. Every long step in the CLI uses it.
 */
final class ProgressBar implements AutoCloseable {
    private final PrintStream out;
    private final Supplier<String> line;
    private final boolean terminal;
    private final long plainEveryNanos;
    private final Thread ticker;
    private volatile boolean closed;
    private int lastWidth;

    ProgressBar(PrintStream out, boolean quiet, Supplier<String> line) {
        this(out, quiet, line, Duration.ofSeconds(10));
    }

    ProgressBar(PrintStream out, boolean quiet, Supplier<String> line, Duration plainEvery) {
        this.out = out;
        this.line = line;
        this.terminal = System.console() != null && System.getenv("CI") == null;
        this.plainEveryNanos = plainEvery.toNanos();
        this.ticker = quiet ? null : Thread.ofPlatform().daemon().name("progress").start(this::tick);
    }

    private void tick() {
        long lastPlain = System.nanoTime();
        while (!closed) {
            try {
                Thread.sleep(terminal ? 200 : 500);
            } catch (InterruptedException e) {
                return;
            }
            if (closed) return;
            if (terminal) draw();
            else if (System.nanoTime() - lastPlain >= plainEveryNanos) {
                lastPlain = System.nanoTime();
                synchronized (this) { out.println(line.get()); }
            }
        }
    }

    private synchronized void draw() {
        String s = line.get();
        int pad = Math.max(0, lastWidth - s.length());
        out.print("\r" + s + " ".repeat(pad));
        out.flush();
        lastWidth = s.length();
    }

    /** Stops the ticker and leaves the last state on screen. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (ticker == null) return;
        ticker.interrupt();
        try {
            ticker.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (terminal) {
            draw();
            out.println();
        }
    }

    /** A text bar: {@code [#######.......]}. */
    static String bar(double fraction, int width) {
        int filled = (int) Math.round(Math.max(0, Math.min(1, fraction)) * width);
        return "[" + "#".repeat(filled) + ".".repeat(width - filled) + "]";
    }

    static String duration(Duration d) {
        long s = d.toSeconds();
        if (s < 60) return String.format(Locale.ROOT, "%.1fs", d.toMillis() / 1000.0);
        if (s < 3600) return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
    }

    static String count(long n) { return String.format(Locale.ROOT, "%,d", n); }
}
