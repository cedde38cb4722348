package dev.distill4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./distill} launcher rebuilds only when something that goes into the jar changed. Runs the real launcher
 * script (copied into a small fake checkout) in its check-only mode, {@code DISTILL_LAUNCHER_CHECK=1}.
 */
class LauncherTest {
    private static final Path LAUNCHER = Path.of("..", "distill").toAbsolutePath().normalize();
    private static final FileTime BUILT = FileTime.from(Instant.parse("2026-01-01T12:00:00Z"));
    private static final FileTime OLDER = FileTime.from(Instant.parse("2026-01-01T11:00:00Z"));
    private static final FileTime NEWER = FileTime.from(Instant.parse("2026-01-01T13:00:00Z"));

    @TempDir Path root;

    /** A checkout with two modules, every file older than the last build. */
    @BeforeEach
    void checkout() throws IOException {
        Files.copy(LAUNCHER, root.resolve("distill"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        write("pom.xml", "<project><modules>\n  <module>core</module>\n  <module>cli</module>\n</modules></project>\n");
        write(".mvn/wrapper/maven-wrapper.properties", "distributionUrl=x\n");
        for (String m : new String[] {"core", "cli"}) {
            write(m + "/pom.xml", "<project/>\n");
            write(m + "/src/main/java/dev/A.java", "class A {}\n");
            write(m + "/src/main/resources/x.properties", "a=1\n");
            write(m + "/src/test/java/dev/ATest.java", "class ATest {}\n");
        }
        write("runs/demo/samples.db", "x");
        write("docs/x.md", "x");
        write("bench/embed/run.sh", "x");
        write("cli/jvm.options", "-Dx=1\n");
        write("cli/target/distill4j-cli-0.1.0-SNAPSHOT.jar", "jar");
        write("cli/target/.built", "");
        try (var files = Files.walk(root)) {
            for (Path p : files.toList()) Files.setLastModifiedTime(p, OLDER);
        }
        Files.setLastModifiedTime(root.resolve("cli/target/.built"), BUILT);
    }

    @Test
    void nothingChangedIsFresh() throws Exception {
        assertThat(check()).isEqualTo("fresh");
    }

    @Test
    void runsTestSourcesDocsAndBenchDoNotTriggerARebuild() throws Exception {
        for (String f : new String[] {"runs/demo/samples.db", "runs/new/run.json", "core/src/test/java/dev/ATest.java",
                "cli/src/test/java/dev/BTest.java", "docs/x.md", "bench/embed/run.sh", "cli/jvm.options",
                "core/target/classes/A.class"}) {
            touch(f);
        }
        assertThat(check()).isEqualTo("fresh");
    }

    @Test
    void mainSourcesResourcesAndPomsTriggerARebuild() throws Exception {
        for (String f : new String[] {"core/src/main/java/dev/A.java", "core/src/main/resources/x.properties",
                "cli/pom.xml", "pom.xml", ".mvn/wrapper/maven-wrapper.properties"}) {
            checkout();
            touch(f);
            assertThat(check()).as(f).isEqualTo("stale: " + root.resolve(f));
        }
        checkout();
        touch("cli/src/main/java/dev/New.java");
        // a new file also changes its folder's time, which find may report first: both are the change
        assertThat(check()).startsWith("stale: " + root.resolve("cli/src/main/java/dev"));
    }

    @Test
    void aMissingJarOrStampTriggersABuild() throws Exception {
        Files.delete(root.resolve("cli/target/.built"));
        assertThat(check()).startsWith("stale: ");
    }

    private void touch(String relative) throws IOException {
        Path p = root.resolve(relative);
        if (!Files.exists(p)) write(relative, "new");
        Files.setLastModifiedTime(p, NEWER);
    }

    private void write(String relative, String content) throws IOException {
        Path p = root.resolve(relative);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content, StandardCharsets.UTF_8);
    }

    private String check() throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", root.resolve("distill").toString()).redirectErrorStream(true);
        pb.environment().put("DISTILL_LAUNCHER_CHECK", "1");
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process p = pb.start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }
}
