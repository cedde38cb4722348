package dev.distill4j.core.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** Deleting a folder with everything in it: the one recursive delete the modules share. */
public final class FileTrees {
    private FileTrees() {}

    /**
     * Deletes {@code root} (a file or a folder and all it holds); nothing happens when it does not exist. Deepest
     * paths go first, so every folder is empty when its turn comes. Symbolic links are deleted, never followed.
     */
    public static void delete(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) return;
        List<Path> paths;
        try (Stream<Path> walk = Files.walk(root)) {
            paths = walk.sorted(Comparator.reverseOrder()).toList();
        }
        for (Path p : paths) Files.deleteIfExists(p);
    }

    /**
     * {@link #delete} for cleaning up after a failure, where the first error must not be masked by a second: what
     * cannot be deleted stays (a leftover temporary folder, named for what it is, is harmless).
     */
    public static void deleteQuietly(Path root) {
        try {
            delete(root);
        } catch (IOException | RuntimeException ignored) {
            // best effort, see above
        }
    }
}
