package dev.distill4j.model.ops;

import dev.distill4j.core.io.FileTrees;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;

/**
 * Writes a whole model folder so that it either appears complete or not at all: a new folder is built under a
 * hidden temporary name next to the target and renamed into place. An existing non-empty folder is only written
 * into when the caller says so; then {@link dev.distill4j.model.io.Checkpoint#save} replaces its files one by one,
 * each atomically, and removes stale weight files last.
 */
public final class ModelFolders {
    /** Fills a folder. */
    @FunctionalInterface
    public interface FolderWriter {
        void write(Path dir) throws IOException;
    }

    private ModelFolders() {}

    /** Fails unless {@code write(out, overwrite, ...)} can proceed: call it before long work. */
    public static void checkWritable(Path out, boolean overwrite) throws IOException {
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new IOException(out + " exists and is not a folder: choose another output folder");
        }
        if (!overwrite && Files.isDirectory(out) && !isEmpty(out)) {
            throw new IOException(out + " already exists and is not empty: choose a new output folder, or "
                    + "overwrite its model files (--overwrite)");
        }
    }

    public static void write(Path out, boolean overwrite, FolderWriter writer) throws IOException {
        checkWritable(out, overwrite);
        if (Files.isDirectory(out) && !isEmpty(out)) {
            writer.write(out);
            return;
        }
        Path parent = out.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempDirectory(parent, "." + out.getFileName() + ".partial-");
        try {
            writer.write(tmp);
            if (Files.isDirectory(out)) Files.delete(out);   // empty, checked above
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            FileTrees.deleteQuietly(tmp);   // a leftover hidden .partial folder is harmless
            throw e;
        }
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }
}
