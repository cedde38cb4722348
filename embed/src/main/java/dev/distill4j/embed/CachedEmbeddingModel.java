package dev.distill4j.embed;

import dev.distill4j.core.InvalidInputException;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * A teacher whose sentence embeddings are kept on disk, so the expensive pass over a training corpus (bge-small:
 * minutes per 10,000 real sentences on two cores) is paid once per sentence, ever: a second student, another
 * dimension or a rerun after a crash asks the teacher only for sentences it has not embedded yet.
 *
 * <p>File {@code DIR/vectors.bin}: a header ({@code "D4JE"}, version 1, the dimension), then one record per text,
 * appended as batches finish: {@code int32 byteLength, UTF-8 bytes, float32 × dim}. Append-only, so a killed process
 * loses at most the record being written; a truncated tail is cut off on the next open. The vectors are the
 * teacher's, unchanged (unit length for in-process teachers). Keyed by exact text, per teacher folder
 * ({@link #defaultDir}: the teacher's name and dimension).
 */
public final class CachedEmbeddingModel implements EmbeddingModel {
    private static final int MAGIC = 0x44344A45, VERSION = 1;
    /** Texts the teacher is handed at once, and how often the file is flushed. */
    static final int CHUNK = 512;
    public static final String ENV = "DISTILL4J_EMBED_CACHE";

    private final EmbeddingModel teacher;
    private final Path file;
    private final int dim;
    private final Map<String, float[]> vectors = new HashMap<>();

    private CachedEmbeddingModel(EmbeddingModel teacher, Path file, int dim) {
        this.teacher = teacher;
        this.file = file;
        this.dim = dim;
    }

    /**
     * {@code $DISTILL4J_EMBED_CACHE/<teacher>-<dim>}, else {@code $XDG_CACHE_HOME/distill4j/embed-teacher/<teacher>-<dim>}
     * (~/.cache/… without XDG_CACHE_HOME).
     */
    public static Path defaultDir(EmbeddingModel teacher) {
        String own = System.getenv(ENV), xdg = System.getenv("XDG_CACHE_HOME");
        Path base = own != null && !own.isBlank() ? Path.of(own)
                : (xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache"))
                        .resolve("distill4j").resolve("embed-teacher");
        return base.resolve(teacher.name().replaceAll("[^A-Za-z0-9._-]", "_") + "-" + teacher.dimension());
    }

    /** Opens (or creates) the cache in {@code dir} for {@code teacher}; the teacher stays the caller's to close. */
    public static CachedEmbeddingModel open(EmbeddingModel teacher, Path dir) throws IOException {
        Files.createDirectories(dir);
        Path f = dir.resolve("vectors.bin");
        int dim = teacher.dimension();
        CachedEmbeddingModel c = new CachedEmbeddingModel(teacher, f, dim);
        if (!Files.exists(f) || Files.size(f) < 12) {
            try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(f))) {
                out.writeInt(MAGIC);
                out.writeInt(VERSION);
                out.writeInt(dim);
            }
            return c;
        }
        long good = 12;
        try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(f), 1 << 16))) {
            if (in.readInt() != MAGIC || in.readInt() != VERSION) throw new IOException(f + " is not a distill4j embedding cache");
            int stored = in.readInt();
            if (stored != dim) {
                throw new InvalidInputException(f + " holds " + stored + "-d vectors but " + teacher.name() + " gives "
                        + dim + "-d: another teacher's cache; delete it or point " + ENV + " elsewhere");
            }
            while (true) {
                int len;
                try {
                    len = in.readInt();
                } catch (EOFException e) {
                    break;
                }
                if (len < 0 || len > (1 << 24)) throw new IOException(f + " is damaged at byte " + good + ": delete it");
                byte[] text = new byte[len];
                float[] v = new float[dim];
                try {
                    in.readFully(text);
                    for (int k = 0; k < dim; k++) v[k] = in.readFloat();
                } catch (EOFException e) {
                    break;   // a record cut off by a killed process: dropped below
                }
                c.vectors.put(new String(text, StandardCharsets.UTF_8), v);
                good += 4 + len + 4L * dim;
            }
        }
        if (good < Files.size(f)) {
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
                ch.truncate(good);
            }
        }
        return c;
    }

    /** Texts already embedded. */
    public int size() { return vectors.size(); }

    /** How many of {@code texts} are not embedded yet (duplicates counted once). */
    public int missing(List<String> texts) {
        return (int) texts.stream().distinct().filter(t -> !vectors.containsKey(t)).count();
    }

    @Override
    public float[][] embed(List<String> texts) {
        try {
            return embed(texts, null);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * Vectors of {@code texts} in order; texts not in the cache go to the teacher in chunks of {@value #CHUNK},
     * each appended to the file as it finishes. {@code progress} gets (embedded now, to embed) after each chunk.
     */
    public synchronized float[][] embed(List<String> texts, BiConsumer<Integer, Integer> progress) throws IOException {
        LinkedHashMap<String, Boolean> todo = new LinkedHashMap<>();
        for (String t : texts) if (!vectors.containsKey(t)) todo.put(t, true);
        List<String> missing = new ArrayList<>(todo.keySet());
        if (!missing.isEmpty()) {
            try (OutputStream os = Files.newOutputStream(file, StandardOpenOption.APPEND);
                 DataOutputStream out = new DataOutputStream(new BufferedOutputStream(os, 1 << 16))) {
                for (int from = 0; from < missing.size(); from += CHUNK) {
                    List<String> chunk = missing.subList(from, Math.min(missing.size(), from + CHUNK));
                    float[][] v = teacher.embed(chunk);
                    for (int i = 0; i < v.length; i++) {
                        byte[] b = chunk.get(i).getBytes(StandardCharsets.UTF_8);
                        out.writeInt(b.length);
                        out.write(b);
                        for (float x : v[i]) out.writeFloat(x);
                        vectors.put(chunk.get(i), v[i]);
                    }
                    out.flush();
                    if (progress != null) progress.accept(from + chunk.size(), missing.size());
                }
            }
        }
        float[][] out = new float[texts.size()][];
        for (int i = 0; i < out.length; i++) out[i] = vectors.get(texts.get(i)).clone();
        return out;
    }

    @Override
    public int dimension() { return dim; }

    @Override
    public String name() { return teacher.name(); }

    /** The cached teacher, for what the cache cannot answer (token ids, the vocabulary pass). */
    public EmbeddingModel teacher() { return teacher; }

    @Override
    public void close() {}
}
