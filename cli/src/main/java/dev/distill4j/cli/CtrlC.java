package dev.distill4j.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Ctrl-C for a long step that can stop cleanly (a harvest, the active loop, prompt synthesis): the JVM's shutdown
 * hook asks the step to stop, then holds the exit until the step is over, i.e. until {@link #close()}, so that what
 * the step had is stored and its summary printed. The hold is bounded (15 s), so a second Ctrl-C is never needed.
 *
 * <pre>{@code
 * try (CtrlC ctrlC = new CtrlC("harvest-interrupt", harvester::stop)) {
 *     result = harvester.run();
 *     printSummary(result);
 * }
 * }</pre>
 */
final class CtrlC implements AutoCloseable {
    /** The exit code of a command stopped by Ctrl-C: 128 + SIGINT, as shells report it. */
    static final int EXIT_CODE = 130;
    private static final long HOLD_SECONDS = 15;

    private final CountDownLatch over = new CountDownLatch(1);
    private final Thread hook;

    /** Registers the hook: on Ctrl-C (or SIGTERM) it calls {@code stop} and waits for {@link #close()}. */
    CtrlC(String threadName, Runnable stop) {
        hook = new Thread(() -> {
            stop.run();
            try {
                over.await(HOLD_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException ignored) {
                // exiting anyway
            }
        }, threadName);
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** The step is over: a Ctrl-C under way may let the JVM exit, and a later one no longer calls {@code stop}. */
    @Override public void close() {
        over.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the JVM is exiting because of Ctrl-C; the step has stopped and stored what it had
        }
    }
}
