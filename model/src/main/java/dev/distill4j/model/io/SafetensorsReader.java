package dev.distill4j.model.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Reads a {@code .safetensors} file through one memory mapping of the whole file. The file is
 * {@code [u64 little-endian header length n][n bytes of JSON header][data]}; the header maps each tensor name to
 * {@code {dtype, shape, data_offsets: [begin, end]}} with offsets relative to the start of the data. Every offset
 * is a {@code long} and the mapping is a {@link MemorySegment}, so files and tensors past 2 GiB read like small ones.
 *
 * <p>The header is validated when the file opens, so a truncated download or a corrupt header fails here with
 * the file and tensor named, not later inside a matrix multiply.
 */
public final class SafetensorsReader implements AutoCloseable {
    /** The reference implementation refuses headers over 100 MB; so do we, before allocating them. */
    static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Elements converted per bulk copy, so 16-bit formats need only a small scratch buffer. */
    private static final int CHUNK = 1 << 20;

    private final Path file;
    private final Arena arena;
    private final MemorySegment data;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafetensorsReader(Path file, Arena arena, MemorySegment data, Map<String, TensorInfo> tensors,
                              Map<String, String> metadata) {
        this.file = file;
        this.arena = arena;
        this.data = data;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    public static SafetensorsReader open(Path file) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new IOException(file + ": not a safetensors file (" + size
                        + " bytes, shorter than the 8-byte header length)");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, file);
            long headerLen = lenBuf.getLong(0);
            if (headerLen <= 0 || headerLen > MAX_HEADER_BYTES) {
                throw new IOException(file + ": header length " + Long.toUnsignedString(headerLen)
                        + " is not plausible (must be 1.." + MAX_HEADER_BYTES + "): not a safetensors file?");
            }
            if (8 + headerLen > size) {
                throw new IOException(file + ": header length " + headerLen + " runs past the end of the file ("
                        + size + " bytes): truncated?");
            }
            ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
            readFully(ch, headerBuf, 8, file);
            String header = new String(headerBuf.array(), StandardCharsets.UTF_8);
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, TensorInfo> tensors = parseHeader(file, header, 8 + headerLen, size, metadata);
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return new SafetensorsReader(file, arena, seg, tensors, metadata);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position, Path file) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) throw new IOException(file + ": unexpected end of file at byte " + pos);
            pos += n;
        }
    }

    static Map<String, TensorInfo> parseHeader(Path file, String header, long dataStart, long fileSize,
                                               Map<String, String> metadataOut) throws IOException {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(header.strip());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(file + ": header is not valid JSON (" + e.getOriginalMessage() + "): corrupt file?",
                    e);
        }
        if (root == null || !root.isObject()) {
            throw new IOException(file + ": header is not a JSON object: corrupt file?");
        }
        Map<String, TensorInfo> out = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            JsonNode v = e.getValue();
            if (name.equals("__metadata__")) {
                if (!v.isObject()) throw new IOException(file + ": __metadata__ must be an object of strings");
                v.fields().forEachRemaining(m -> metadataOut.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            out.put(name, parseEntry(file, name, v, dataStart, fileSize));
        }
        checkOverlaps(file, out.values());
        return Collections.unmodifiableMap(out);
    }

    private static TensorInfo parseEntry(Path file, String name, JsonNode v, long dataStart, long fileSize)
            throws IOException {
        String where = file + ": tensor '" + name + "'";
        if (!v.isObject()) throw new IOException(where + ": header entry is not an object");
        DType dtype = DType.parse(v.path("dtype").asText(null));
        if (dtype == null || !v.path("dtype").asText("").equals(dtype.name())) {
            throw new IOException(where + ": unsupported dtype " + v.get("dtype") + " (supported: F64, F32, F16, "
                    + "BF16, I64, I32, I16, I8, U8, BOOL)");
        }
        JsonNode shapeNode = v.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) throw new IOException(where + ": missing shape");
        long[] shape = new long[shapeNode.size()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0) {
                throw new IOException(where + ": shape " + shapeNode + " has an invalid dimension");
            }
            shape[i] = d.asLong();
            try {
                numel = Math.multiplyExact(numel, shape[i]);
            } catch (ArithmeticException ex) {
                throw new IOException(where + ": shape " + shapeNode + " overflows");
            }
        }
        JsonNode offs = v.get("data_offsets");
        if (offs == null || !offs.isArray() || offs.size() != 2 || !offs.get(0).isIntegralNumber()
                || !offs.get(1).isIntegralNumber()) {
            throw new IOException(where + ": data_offsets must be [begin, end]");
        }
        long begin = offs.get(0).asLong();
        long end = offs.get(1).asLong();
        if (begin < 0 || end < begin) {
            throw new IOException(where + ": data_offsets " + offs + " are not a valid range");
        }
        long expected;
        try {
            expected = Math.multiplyExact(numel, dtype.bytes());
        } catch (ArithmeticException ex) {
            throw new IOException(where + ": shape " + shapeNode + " overflows");
        }
        if (end - begin != expected) {
            throw new IOException(where + ": shape " + shapeNode + " of " + dtype + " needs " + expected
                    + " bytes but data_offsets " + offs + " span " + (end - begin) + ": corrupt header?");
        }
        long absBegin = dataStart + begin;
        long absEnd = dataStart + end;
        if (absEnd > fileSize) {
            throw new IOException(where + " ends at byte " + absEnd + " but the file has " + fileSize
                    + " bytes (truncated?)");
        }
        return new TensorInfo(name, dtype, shape, absBegin, absEnd);
    }

    private static void checkOverlaps(Path file, java.util.Collection<TensorInfo> infos) throws IOException {
        List<TensorInfo> sorted = new ArrayList<>(infos);
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        for (int i = 1; i < sorted.size(); i++) {
            TensorInfo a = sorted.get(i - 1);
            TensorInfo b = sorted.get(i);
            if (b.begin() < a.end() && b.byteSize() > 0 && a.byteSize() > 0) {
                throw new IOException(file + ": tensors '" + a.name() + "' and '" + b.name()
                        + "' overlap (bytes " + b.begin() + ".." + a.end() + "): corrupt header?");
            }
        }
    }

    public Path file() { return file; }

    /** Tensor names, sorted. */
    public Set<String> names() { return tensors.keySet(); }

    public boolean contains(String name) { return tensors.containsKey(name); }

    /** The {@code __metadata__} entries (HF writes {@code {"format": "pt"}}); empty when absent. */
    public Map<String, String> metadata() { return Collections.unmodifiableMap(metadata); }

    public TensorInfo info(String name) throws IOException {
        TensorInfo t = tensors.get(name);
        if (t == null) throw new IOException(file + ": no tensor '" + name + "'");
        return t;
    }

    /** All elements of a float tensor (F32, F16, BF16 or F64), widened or narrowed to F32. */
    public float[] readFloats(String name) throws IOException {
        TensorInfo t = info(name);
        long n = t.numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IOException(file + ": tensor '" + name + "' has " + n
                    + " elements, more than a Java array holds; read it in parts with readFloats(name, from, dst, 0, count)");
        }
        float[] out = new float[(int) n];
        readFloats(name, 0, out, 0, out.length);
        return out;
    }

    /** Elements {@code [from, from + count)} of a float tensor in row-major order, converted to F32. */
    public void readFloats(String name, long from, float[] dst, int dstOffset, int count) throws IOException {
        TensorInfo t = info(name);
        if (!t.dtype().isFloating()) {
            throw new IOException(file + ": tensor '" + name + "' is " + t.dtype() + ", not a float type");
        }
        if (from < 0 || count < 0 || from + count > t.numel()) {
            throw new IndexOutOfBoundsException("elements " + from + ".." + (from + count) + " of " + t);
        }
        long base = t.begin() + from * t.dtype().bytes();
        switch (t.dtype()) {
            case F32 -> MemorySegment.copy(data, F32, base, dst, dstOffset, count);
            case F64 -> {
                for (int i = 0; i < count; i++) dst[dstOffset + i] = (float) data.get(F64, base + 8L * i);
            }
            case F16, BF16 -> {
                short[] scratch = new short[Math.min(count, CHUNK)];
                boolean bf16 = t.dtype() == DType.BF16;
                for (int done = 0; done < count; ) {
                    int k = Math.min(scratch.length, count - done);
                    MemorySegment.copy(data, I16, base + 2L * done, scratch, 0, k);
                    for (int i = 0; i < k; i++) {
                        dst[dstOffset + done + i] = bf16 ? Floats.bf16ToFloat(scratch[i]) : Floats.f16ToFloat(scratch[i]);
                    }
                    done += k;
                }
            }
            default -> throw new AssertionError(t.dtype());
        }
    }

    /** All elements of an integer or bool tensor, widened to long. */
    public long[] readLongs(String name) throws IOException {
        TensorInfo t = info(name);
        if (t.dtype().isFloating()) {
            throw new IOException(file + ": tensor '" + name + "' is " + t.dtype() + ", not an integer type");
        }
        long n = t.numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IOException(file + ": tensor '" + name + "' has " + n + " elements, more than a Java array holds");
        }
        long[] out = new long[(int) n];
        long b = t.begin();
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (t.dtype()) {
                case I64 -> data.get(I64, b + 8L * i);
                case I32 -> data.get(I32, b + 4L * i);
                case I16 -> data.get(I16, b + 2L * i);
                case I8 -> data.get(ValueLayout.JAVA_BYTE, b + i);
                case U8, BOOL -> data.get(ValueLayout.JAVA_BYTE, b + i) & 0xFF;
                default -> throw new AssertionError(t.dtype());
            };
        }
        return out;
    }

    /**
     * The tensor as an F32 {@link NDArray} of its shape, owned by {@code manager}. The values are converted
     * straight into a direct buffer that the PyTorch engine adopts as the tensor's storage, so a tensor costs one
     * copy and no Java array. (The mapped file itself is never handed over: the tensor would alias memory that
     * {@link #close()} unmaps.)
     */
    public NDArray read(NDManager manager, String name) throws IOException {
        return read(manager, name, Integer.MAX_VALUE - 8);
    }

    /** As {@link #read(NDManager, String)}, building tensors over {@code maxBufferBytes} from row blocks. */
    NDArray read(NDManager manager, String name, long maxBufferBytes) throws IOException {
        TensorInfo t = info(name);
        if (!t.dtype().isFloating()) {
            throw new IOException(file + ": tensor '" + name + "' is " + t.dtype() + ", not a float type");
        }
        long[] shape = t.shape();
        if (4 * t.numel() <= maxBufferBytes || shape.length == 0 || shape[0] <= 1) {
            return readBlock(manager, t, 0, t.numel(), shape);
        }
        // a buffer holds at most 2 GiB: build the tensor from blocks of whole rows, then join them
        long rowElems = t.numel() / shape[0];
        long rowsPerBlock = Math.max(1, maxBufferBytes / (4 * rowElems));
        NDList blocks = new NDList();
        try {
            for (long r = 0; r < shape[0]; r += rowsPerBlock) {
                long rows = Math.min(rowsPerBlock, shape[0] - r);
                long[] blockShape = shape.clone();
                blockShape[0] = rows;
                blocks.add(readBlock(manager, t, r * rowElems, rows * rowElems, blockShape));
            }
            return NDArrays.concat(blocks, 0);
        } finally {
            blocks.close();
        }
    }

    private NDArray readBlock(NDManager manager, TensorInfo t, long from, long count, long[] shape) throws IOException {
        if (4 * count > Integer.MAX_VALUE - 8) {
            throw new IOException(file + ": tensor '" + t.name() + "' has rows of more than 2 GiB");
        }
        ByteBuffer buf = manager.allocateDirect((int) (4 * count));
        if (t.dtype() == DType.F32 && buf.order() == ByteOrder.LITTLE_ENDIAN) {
            MemorySegment.copy(data, t.begin() + 4 * from, MemorySegment.ofBuffer(buf), 0, 4 * count);
        } else {
            FloatBuffer out = buf.asFloatBuffer();
            float[] scratch = new float[(int) Math.min(count, CHUNK)];
            for (long done = 0; done < count; ) {
                int k = (int) Math.min(scratch.length, count - done);
                readFloats(t.name(), from + done, scratch, 0, k);
                out.put(scratch, 0, k);
                done += k;
            }
        }
        return manager.create(buf, new Shape(shape), DataType.FLOAT32);
    }

    @Override
    public void close() {
        arena.close();
    }
}
