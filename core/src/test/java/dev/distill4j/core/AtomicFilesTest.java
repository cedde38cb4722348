package dev.distill4j.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    @TempDir Path tmp;

    @Test
    void writeReplacesTheFileWhole() throws Exception {
        Path f = tmp.resolve("a.txt");
        AtomicFiles.writeString(f, "one");
        AtomicFiles.writeString(f, "two");
        assertThat(f).hasContent("two");
        try (Stream<Path> files = Files.list(tmp)) {
            assertThat(files.toList()).containsExactly(f);
        }
    }

    /** A secret is never readable by others, not even in the temporary file while it is being written. */
    @Test
    void privateWritesAreOwnerOnlyFromTheFirstByte() throws Exception {
        Path key = tmp.resolve("secret.key");
        Files.writeString(key, "old, world-readable");
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
        List<Set<PosixFilePermission>> seen = new java.util.ArrayList<>();
        AtomicFiles.writePrivate(key, out -> {
            try (Stream<Path> files = Files.list(tmp)) {
                for (Path p : files.filter(p -> p.getFileName().toString().contains(".tmp-")).toList()) {
                    seen.add(Files.getPosixFilePermissions(p));
                }
            }
            out.write("the secret".getBytes(StandardCharsets.UTF_8));
        });
        assertThat(seen).containsExactly(PosixFilePermissions.fromString("rw-------"));
        assertThat(Files.getPosixFilePermissions(key)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(key).hasContent("the secret");
    }
}
