package dev.distill4j.guard.bench;

import dev.distill4j.core.AtomicFiles;
import dev.distill4j.embed.EmbeddingModel;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * An embedder that remembers every vector it computed, in memory and in a file between runs: bge-small costs about
 * 10 ms per short query on this machine, and the traffic benchmark scans the same prompts in many windows and runs.
 * The inner model is opened only when a text is missing. File format: int count, then per entry a modified-UTF-8
 * text (DataOutput.writeUTF) and {@code dimension} floats; written whole to a temporary file and renamed, merged with
 * the file's current entries under a lock ({@link #save}).
 */
final class EmbeddingCache implements EmbeddingModel {
    private final Path file;
    private final Supplier<EmbeddingModel> open;
    private final String name;
    private final int dimension;
    private final Map<String, float[]> cache = new ConcurrentHashMap<>();
    private EmbeddingModel inner;
    private int added;
    /** The file's identity and modification time when this cache last read or wrote it (null: never). */
    private List<Object> seen;

    EmbeddingCache(Path file, String name, int dimension, Supplier<EmbeddingModel> open) throws IOException {
        this.file = file;
        this.name = name;
        this.dimension = dimension;
        this.open = open;
        readInto(cache);
    }

    /** Adds the file's entries that {@code into} lacks, unless the file is as this cache last read or wrote it. */
    private void readInto(Map<String, float[]> into) throws IOException {
        if (!Files.isRegularFile(file)) return;
        List<Object> now = stamp();
        if (now.equals(seen)) return;
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
            int n = in.readInt();
            for (int i = 0; i < n; i++) {
                String t = in.readUTF();
                float[] v = new float[dimension];
                for (int j = 0; j < dimension; j++) v[j] = in.readFloat();
                into.putIfAbsent(t, v);
            }
        }
        seen = now;
    }

    int size() { return cache.size(); }

    /** Embeds the missing texts in batches of 64, printing progress, and saves the file when anything was added. */
    void warm(List<String> texts) {
        List<String> missing = texts.stream().filter(t -> t != null && !cache.containsKey(t)).distinct().toList();
        if (missing.isEmpty()) return;
        long t0 = System.nanoTime();
        System.err.printf("embedding %d new texts with %s%n", missing.size(), name);
        for (int s = 0; s < missing.size(); s += 64) {
            embed(missing.subList(s, Math.min(missing.size(), s + 64)));
            if ((s / 64) % 16 == 15) {
                save(); // a run cut short keeps what it computed
                System.err.printf("  embedded %d / %d new texts (%.0f s)%n", Math.min(missing.size(), s + 64),
                        missing.size(), (System.nanoTime() - t0) / 1e9);
            }
        }
        save();
    }

    @Override
    public synchronized float[][] embed(List<String> texts) {
        List<String> missing = texts.stream().filter(t -> !cache.containsKey(t)).distinct().toList();
        if (!missing.isEmpty()) {
            if (inner == null) inner = open.get();
            float[][] v = inner.embed(missing);
            for (int i = 0; i < v.length; i++) cache.put(missing.get(i), v[i]);
            added += missing.size();
        }
        float[][] out = new float[texts.size()][];
        for (int i = 0; i < out.length; i++) out[i] = cache.get(texts.get(i));
        return out;
    }

    /**
     * Writes the cache, merged with what the file holds now: two bench processes warming different splits into one
     * file would otherwise each write only their own view, and the later would drop the other's new vectors. The
     * read-merge-write runs under an exclusive lock on a sibling file; the file is read again only when another
     * process wrote it since this cache last did (its inode or modification time changed), not at every save of a warm-up.
     */
    synchronized void save() {
        if (added == 0) return;
        try {
            Files.createDirectories(file.getParent());
            try (FileChannel lock = FileChannel.open(file.resolveSibling(file.getFileName() + ".lock"),
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE); FileLock held = lock.lock()) {
                readInto(cache);
                write();
            }
            added = 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void write() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(cache.size() * (dimension * 4 + 120));
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            List<Map.Entry<String, float[]>> entries = new ArrayList<>(cache.entrySet());
            out.writeInt(entries.size());
            for (var e : entries) {
                out.writeUTF(e.getKey());
                for (float x : e.getValue()) out.writeFloat(x);
            }
        }
        AtomicFiles.writeBytes(file, bytes.toByteArray());
        seen = stamp();
    }

    /**
     * The file's key (its inode: every write replaces the file by a rename) and modification time; either changes
     * when another process writes it.
     */
    private List<Object> stamp() throws IOException {
        BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
        return java.util.Arrays.asList(a.fileKey(), a.lastModifiedTime());
    }

    @Override
    public int dimension() { return dimension; }

    @Override
    public String name() { return name; }

    @Override
    public void close() {
        save();
        if (inner != null) inner.close();
    }
}
