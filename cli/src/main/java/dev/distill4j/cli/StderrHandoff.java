package dev.distill4j.cli;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Gives the process its real stderr back once {@code main} starts, so users see only distill4j's own output.
 *
 * <p>Why: the inference engine's kernels use the Vector API, an incubator module, and the JVM prints
 * "WARNING: Using incubator modules: jdk.incubator.vector" to stderr while it boots, before any Java code runs; no
 * JVM option turns that line off. So the launcher ({@code ./distill}) starts the JVM with the real stderr saved as
 * file descriptor 3 and fd 2 on a pipe through a filter that drops exactly that line
 * ({@code 3>&2 2> >(grep -vxF ...)}), and says so with {@code -Ddistill.stderr.fd=3}. Here, first thing in main,
 * fd 3 is duplicated back onto fd 2 ({@code dup2}) and closed: from then on Java and native code alike write to the
 * terminal (or file) directly: no pipe, no reordering, a terminal stays a terminal. Anything the JVM says while
 * booting (other warnings, a failure to start) still reaches the user through the filter.
 *
 * <p>Without the property (tests, {@code java -cp ...} by hand) nothing happens.
 */
final class StderrHandoff {
    static final String PROPERTY = "distill.stderr.fd";

    private StderrHandoff() {}

    /** Restores the launcher's saved stderr onto fd 2; a failure leaves stderr as it was (through the filter). */
    static void restore() {
        String fd = System.getProperty(PROPERTY);
        if (fd == null) return;
        try {
            int saved = Integer.parseInt(fd);
            Linker linker = Linker.nativeLinker();
            MethodHandle dup2 = linker.downcallHandle(linker.defaultLookup().find("dup2").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            MethodHandle close = linker.downcallHandle(linker.defaultLookup().find("close").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            System.err.flush();
            if ((int) dup2.invokeExact(saved, 2) == 2) {
                int ignored = (int) close.invokeExact(saved);
            }
        } catch (Throwable e) {
            // stderr keeps working through the launcher's filter; only the handoff is lost
        }
    }
}
