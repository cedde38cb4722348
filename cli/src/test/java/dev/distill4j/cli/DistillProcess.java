package dev.distill4j.cli;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code distill} as a real child process (the test classpath, the same JVM binary), so tests see exactly what a
 * user sees: exit code, stdout, stderr (JVM warnings included: the JVM gets the launcher's {@code cli/jvm.options}),
 * environment variables for keys, and real signals.
 */
final class DistillProcess {
    record Result(int exitCode, String stdout, String stderr) {
        @Override public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + stdout + "\n--- stderr\n" + stderr;
        }
    }

    /** The launcher's JVM options ({@code ./distill} starts its JVM with the same file), so tests see its output. */
    static final Path JVM_OPTIONS = Path.of("jvm.options").toAbsolutePath();

    private DistillProcess() {}

    static Process start(Map<String, String> env, Path logDir, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx512m");
        cmd.add("@" + JVM_OPTIONS);
        cmd.add("-cp");
        cmd.add(classpath());
        cmd.add("dev.distill4j.cli.Distill");
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("OPENAI_API_KEY");
        pb.environment().remove("ANTHROPIC_API_KEY");
        pb.environment().putAll(env);
        Files.createDirectories(logDir);
        pb.redirectOutput(logDir.resolve("stdout.txt").toFile());
        pb.redirectError(logDir.resolve("stderr.txt").toFile());
        return pb.start();
    }

    static Result run(Map<String, String> env, Path logDir, String... args) throws IOException, InterruptedException {
        return run(env, logDir, 120, args);
    }

    /** As {@link #run(Map, Path, String...)} with a time limit; on time-out the error shows what the process said. */
    static Result run(Map<String, String> env, Path logDir, int seconds, String... args)
            throws IOException, InterruptedException {
        Process p = start(env, logDir, args);
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("distill " + String.join(" ", args) + " did not finish in " + seconds + " s\n"
                    + "--- stderr so far\n" + Files.readString(logDir.resolve("stderr.txt"), StandardCharsets.UTF_8));
        }
        return new Result(p.exitValue(), Files.readString(logDir.resolve("stdout.txt"), StandardCharsets.UTF_8),
                Files.readString(logDir.resolve("stderr.txt"), StandardCharsets.UTF_8));
    }

    /** Surefire puts the real test classpath in java.class.path of the forked JVM. */
    static String classpath() {
        String cp = System.getProperty("java.class.path");
        if (cp.split(File.pathSeparator).length <= 1) {
            String s = System.getProperty("surefire.test.class.path");
            if (s != null) return s;
        }
        return cp;
    }
}
