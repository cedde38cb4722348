package dev.distill4j.core;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Every file the project writes goes through here: written to a temp name beside the target, fsynced, then renamed,
 * so a killed process leaves either the old file or the new one, never half of one.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    @FunctionalInterface
    public interface Writer {
        void write(OutputStream out) throws IOException;
    }

    public static void write(Path target, Writer writer) throws IOException {
        write(target, writer, false);
    }

    /**
     * As {@link #write(Path, Writer)} for a secret (a key): on a POSIX file system the temporary file is created
     * readable and writable by its owner only before a byte is written, so the content is never readable by others,
     * not even for the moment between writing and renaming; the renamed file keeps those permissions.
     */
    public static void writePrivate(Path target, Writer writer) throws IOException {
        write(target, writer, true);
    }

    private static void write(Path target, Writer writer, boolean ownerOnly) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve("." + target.getFileName() + ".tmp-" + ProcessHandle.current().pid() + "-"
                + Thread.currentThread().threadId());
        try {
            Files.deleteIfExists(tmp);   // a leftover of a killed writer would keep its old permissions
            if (ownerOnly && dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
                Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            }
            try (OutputStream out = Files.newOutputStream(tmp)) {
                writer.write(out);
            }
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    public static void writeString(Path target, String content) throws IOException {
        write(target, out -> out.write(content.getBytes(StandardCharsets.UTF_8)));
    }

    public static void writeBytes(Path target, byte[] content) throws IOException {
        write(target, out -> out.write(content));
    }
}
