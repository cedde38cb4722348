package dev.distill4j.model.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.AtomicFiles;
import dev.distill4j.core.Json;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes F32 tensors to a {@code .safetensors} file as F32, BF16 or F16, laid out the way the Hugging Face
 * {@code safetensors} library does: {@code __metadata__ {"format": "pt"}} first, tensors in name order, data packed
 * back to back, and the JSON header padded with spaces so the data starts 8-byte aligned. The file appears
 * atomically (temp name, then rename).
 */
public final class SafetensorsWriter {
    private static final int CHUNK = 1 << 18;

    /** Where a tensor's values come from when the file is written; NDArrays are copied out only then. */
    private sealed interface Source permits ArraySource, NDSource {
        long[] shape();

        float[] floats();
    }

    private record ArraySource(float[] data, long[] shape) implements Source {
        @Override
        public float[] floats() { return data; }
    }

    private record NDSource(NDArray array, long[] shape) implements Source {
        @Override
        public float[] floats() {
            if (array.getDataType() == DataType.FLOAT32) return array.toFloatArray();
            try (NDArray f = array.toType(DataType.FLOAT32, true)) {
                return f.toFloatArray();
            }
        }
    }

    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final Map<String, Source> tensors = new TreeMap<>();

    public SafetensorsWriter() {
        metadata.put("format", "pt");
    }

    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    public SafetensorsWriter add(String name, float[] data, long... shape) {
        long numel = numel(shape);
        if (numel != data.length) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape) + " holds "
                    + numel + " elements but " + data.length + " were given");
        }
        put(name, new ArraySource(data, shape.clone()));
        return this;
    }

    public SafetensorsWriter add(String name, NDArray array) {
        put(name, new NDSource(array, array.getShape().getShape()));
        return this;
    }

    private void put(String name, Source s) {
        if (name.equals("__metadata__") || name.isEmpty()) {
            throw new IllegalArgumentException("'" + name + "' cannot be a tensor name");
        }
        if (tensors.putIfAbsent(name, s) != null) {
            throw new IllegalArgumentException("tensor '" + name + "' added twice");
        }
    }

    public int size() { return tensors.size(); }

    /** Bytes of tensor data (header excluded) this file will hold in {@code dtype}. */
    public long dataBytes(DType dtype) {
        long total = 0;
        for (Source s : tensors.values()) total += numel(s.shape()) * dtype.bytes();
        return total;
    }

    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public void write(Path file, DType dtype) throws IOException {
        if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.F16) {
            throw new IllegalArgumentException("weights are written as F32, BF16 or F16, not " + dtype);
        }
        byte[] header = header(dtype);
        AtomicFiles.write(file, out -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
            out.write(len.array());
            out.write(header);
            ByteBuffer buf = ByteBuffer.allocate(CHUNK * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
            for (Source s : tensors.values()) writeData(out, s.floats(), dtype, buf);
        });
    }

    private byte[] header(DType dtype) {
        ObjectNode root = Json.object();
        ObjectNode meta = root.putObject("__metadata__");
        metadata.forEach(meta::put);
        long offset = 0;
        for (Map.Entry<String, Source> e : tensors.entrySet()) {
            long[] shape = e.getValue().shape();
            long bytes = numel(shape) * dtype.bytes();
            ObjectNode t = root.putObject(e.getKey());
            t.put("dtype", dtype.name());
            var sa = t.putArray("shape");
            for (long d : shape) sa.add(d);
            t.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json = Json.write(root).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    private static void writeData(OutputStream out, float[] v, DType dtype, ByteBuffer buf) throws IOException {
        for (int from = 0; from < v.length; from += CHUNK) {
            int to = Math.min(v.length, from + CHUNK);
            buf.clear();
            for (int i = from; i < to; i++) {
                switch (dtype) {
                    case F32 -> buf.putFloat(v[i]);
                    case BF16 -> buf.putShort(Floats.floatToBf16(v[i]));
                    case F16 -> buf.putShort(Floats.floatToF16(v[i]));
                    default -> throw new AssertionError(dtype);
                }
            }
            out.write(buf.array(), 0, buf.position());
        }
    }
}
