package dev.distill4j.embed.encoder;

import dev.distill4j.core.InvalidInputException;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The teacher's sentence vectors kept on disk, so a second training run (another layer choice, loss or learning
 * rate over the same sentences) does not pay the teacher again: bge-small embeds about 100–300 sentences/s on two
 * CPUs, i.e. minutes per 10,000 sentences, while a training epoch over them costs about as much.
 *
 * <p>One file per teacher, append-only:
 * <pre>
 *   header   "D4JTVEC1" · u16 length + UTF-8 teacher name · i32 dimension         (big endian)
 *   record   SHA-256 of the sentence's UTF-8 bytes (32 bytes) · dimension × f32   (little endian)
 * </pre>
 * Records are appended after each chunk of new sentences and forced to disk; a process killed mid-write leaves at
 * most one partial record at the end, which the next open drops (the file is cut back to the last whole record), so
 * every finished chunk survives. A file written for another teacher or dimension is refused rather than mixed.
 */
public final class TeacherVectorCache {
    private static final byte[] MAGIC = "D4JTVEC1".getBytes(StandardCharsets.US_ASCII);
    /** Sentences embedded between two appends: the most a killed run loses. */
    static final int CHUNK = 2048;

    private final Path file;
    private final String teacher;
    private final int dimension;
    private final Map<Key, float[]> vectors = new HashMap<>();

    private TeacherVectorCache(Path file, String teacher, int dimension) {
        this.file = file;
        this.teacher = teacher;
        this.dimension = dimension;
    }

    /** Opens (or creates) the cache of {@code teacher}'s {@code dimension}-float vectors in {@code file}. */
    public static TeacherVectorCache open(Path file, String teacher, int dimension) throws IOException {
        TeacherVectorCache c = new TeacherVectorCache(file, teacher, dimension);
        if (Files.exists(file)) c.load();
        return c;
    }

    /** Vectors stored now. */
    public int size() { return vectors.size(); }

    public Path file() { return file; }

    /**
     * The teacher's vector of each text, in order: stored ones from the file, the others computed by
     * {@code teacher} (given the missing texts, in order) in chunks of {@value #CHUNK} and appended.
     *
     * @param progress called after each chunk with (done, missing); may be null
     */
    public float[][] vectors(List<String> texts, Function<List<String>, float[][]> teacher,
                             java.util.function.BiConsumer<Integer, Integer> progress) throws IOException {
        float[][] out = new float[texts.size()][];
        List<Integer> missing = new ArrayList<>();
        Map<Key, Integer> firstMissing = new HashMap<>();
        for (int i = 0; i < out.length; i++) {
            Key k = Key.of(texts.get(i));
            float[] v = vectors.get(k);
            if (v != null) out[i] = v;
            else if (firstMissing.putIfAbsent(k, i) == null) missing.add(i);
        }
        for (int s = 0; s < missing.size(); s += CHUNK) {
            List<Integer> idx = missing.subList(s, Math.min(missing.size(), s + CHUNK));
            List<String> chunk = new ArrayList<>(idx.size());
            for (int i : idx) chunk.add(texts.get(i));
            float[][] v = teacher.apply(chunk);
            if (v.length != chunk.size()) throw new IllegalStateException("the teacher returned " + v.length + " vectors for " + chunk.size() + " texts");
            append(chunk, v);
            if (progress != null) progress.accept(s + idx.size(), missing.size());
        }
        for (int i = 0; i < out.length; i++) if (out[i] == null) out[i] = vectors.get(Key.of(texts.get(i)));
        return out;
    }

    private void append(List<String> texts, float[][] v) throws IOException {
        boolean fresh = !Files.exists(file) || Files.size(file) == 0;
        if (fresh && file.toAbsolutePath().getParent() != null) Files.createDirectories(file.toAbsolutePath().getParent());
        int rec = 32 + 4 * dimension;
        byte[] name = teacher.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate((fresh ? MAGIC.length + 2 + name.length + 4 : 0) + rec * texts.size());
        if (fresh) {
            buf.put(MAGIC).putShort((short) name.length).put(name).putInt(dimension);
        }
        buf.order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < texts.size(); i++) {
            if (v[i].length != dimension) {
                throw new IllegalStateException("a teacher vector has " + v[i].length + " floats, the cache " + dimension);
            }
            Key k = Key.of(texts.get(i));
            buf.put(k.sha);
            for (float f : v[i]) buf.putFloat(f);
        }
        buf.flip();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            while (buf.hasRemaining()) ch.write(buf);
            ch.force(false);
        }
        for (int i = 0; i < texts.size(); i++) vectors.put(Key.of(texts.get(i)), v[i]);
    }

    private void load() throws IOException {
        long headerBytes;
        long whole;
        try (InputStream raw = Files.newInputStream(file); DataInputStream in = new DataInputStream(new BufferedInputStream(raw, 1 << 16))) {
            byte[] magic = new byte[MAGIC.length];
            try {
                in.readFully(magic);
            } catch (EOFException e) {
                magic = new byte[0];
            }
            if (!Arrays.equals(magic, MAGIC)) {
                throw new InvalidInputException(file + " is not a teacher vector cache (no D4JTVEC1 header); give another "
                        + "--teacher-cache file");
            }
            byte[] name = new byte[in.readUnsignedShort()];
            in.readFully(name);
            int dim = in.readInt();
            String stored = new String(name, StandardCharsets.UTF_8);
            if (!stored.equals(teacher) || dim != dimension) {
                throw new InvalidInputException(file + " holds " + stored + "'s " + dim + "-d vectors, not " + teacher
                        + "'s " + dimension + "-d ones; give another --teacher-cache file");
            }
            headerBytes = MAGIC.length + 2 + name.length + 4;
            int rec = 32 + 4 * dimension;
            long records = (Files.size(file) - headerBytes) / rec;
            byte[] r = new byte[rec];
            ByteBuffer b = ByteBuffer.wrap(r).order(ByteOrder.LITTLE_ENDIAN);
            for (long i = 0; i < records; i++) {
                in.readFully(r);
                float[] v = new float[dimension];
                b.position(32);
                b.asFloatBuffer().get(v);
                vectors.put(new Key(Arrays.copyOf(r, 32)), v);
            }
            whole = headerBytes + records * rec;
        }
        if (Files.size(file) > whole) {                     // a partial record from a killed run: cut it off
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.truncate(whole);
            }
        }
    }

    /** SHA-256 of a text: 32 bytes instead of the text, and the text never leaves the user's corpus file. */
    private record Key(byte[] sha) {
        static Key of(String text) {
            try {
                return new Key(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public boolean equals(Object o) { return o instanceof Key k && Arrays.equals(sha, k.sha); }

        @Override
        public int hashCode() { return Arrays.hashCode(sha); }
    }
}
