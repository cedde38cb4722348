package dev.distill4j.model.ops.gguf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An independent GGUF v3 parser for tests: every metadata value (arrays as lists), every tensor's ne, type and
 * bytes. Written from the format description, not from {@link GgufWriter}, so the two check each other.
 */
final class GgufReader {
    record Tensor(String name, long[] ne, int type, long offset, byte[] data) {}

    final int version;
    final Map<String, Object> meta = new LinkedHashMap<>();
    final Map<String, Tensor> tensors = new LinkedHashMap<>();
    final long dataStart;

    GgufReader(Path file) throws IOException {
        ByteBuffer b;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            b = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size()).order(ByteOrder.LITTLE_ENDIAN);
        }
        byte[] magic = new byte[4];
        b.get(magic);
        if (!new String(magic, StandardCharsets.US_ASCII).equals("GGUF")) throw new IOException("not GGUF");
        version = b.getInt();
        long nTensors = b.getLong();
        long nKv = b.getLong();
        for (long i = 0; i < nKv; i++) {
            String key = string(b);
            meta.put(key, value(b, b.getInt()));
        }
        List<Object[]> infos = new ArrayList<>();
        for (long i = 0; i < nTensors; i++) {
            String name = string(b);
            int dims = b.getInt();
            long[] ne = new long[dims];
            for (int d = 0; d < dims; d++) ne[d] = b.getLong();
            infos.add(new Object[] {name, ne, b.getInt(), b.getLong()});
        }
        long alignment = ((Number) meta.getOrDefault("general.alignment", 32L)).longValue();
        dataStart = (b.position() + alignment - 1) / alignment * alignment;
        for (Object[] t : infos) {
            long[] ne = (long[]) t[1];
            int type = (int) t[2];
            long count = 1;
            for (long d : ne) count *= d;
            long bytes = switch (type) {
                case 0 -> 4 * count;
                case 1 -> 2 * count;
                case 8 -> count / 32 * 34;
                default -> throw new IOException("type " + type);
            };
            byte[] data = new byte[(int) bytes];
            b.get((int) (dataStart + (long) t[3]), data);
            tensors.put((String) t[0], new Tensor((String) t[0], ne, type, (long) t[3], data));
        }
    }

    /** A tensor's values as floats (F32, F16 or dequantized Q8_0). */
    float[] floats(String name) {
        Tensor t = tensors.get(name);
        ByteBuffer b = ByteBuffer.wrap(t.data).order(ByteOrder.LITTLE_ENDIAN);
        return switch (t.type) {
            case 0 -> {
                float[] f = new float[t.data.length / 4];
                b.asFloatBuffer().get(f);
                yield f;
            }
            case 1 -> {
                float[] f = new float[t.data.length / 2];
                for (int i = 0; i < f.length; i++) f[i] = Float.float16ToFloat(b.getShort());
                yield f;
            }
            default -> {
                float[] f = new float[t.data.length / 34 * 32];
                for (int blk = 0; blk < f.length / 32; blk++) {
                    float d = Float.float16ToFloat(b.getShort(blk * 34));
                    for (int j = 0; j < 32; j++) f[blk * 32 + j] = d * t.data[blk * 34 + 2 + j];
                }
                yield f;
            }
        };
    }

    private static String string(ByteBuffer b) {
        byte[] s = new byte[(int) b.getLong()];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }

    private static Object value(ByteBuffer b, int type) throws IOException {
        return switch (type) {
            case 0 -> (long) (b.get() & 0xff);
            case 1 -> (long) b.get();
            case 2 -> (long) (b.getShort() & 0xffff);
            case 3 -> (long) b.getShort();
            case 4 -> b.getInt() & 0xffffffffL;
            case 5 -> (long) b.getInt();
            case 6 -> (double) b.getFloat();
            case 7 -> b.get() != 0;
            case 8 -> string(b);
            case 9 -> {
                int elem = b.getInt();
                long n = b.getLong();
                List<Object> list = new ArrayList<>();
                for (long i = 0; i < n; i++) list.add(value(b, elem));
                yield list;
            }
            case 10, 11 -> b.getLong();
            case 12 -> b.getDouble();
            default -> throw new IOException("metadata type " + type);
        };
    }
}
