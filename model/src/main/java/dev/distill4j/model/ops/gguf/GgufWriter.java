package dev.distill4j.model.ops.gguf;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.IntConsumer;

/**
 * Writes a GGUF file (version 3), the single-file format llama.cpp, Ollama and LM Studio load. Layout, all
 * little-endian:
 *
 * <pre>
 *   "GGUF"  u32 version=3  u64 tensor_count  u64 kv_count
 *   kv_count × (string key, u32 value_type, value)          string = u64 byte length + UTF-8 bytes
 *   tensor_count × (string name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset)
 *   zero padding to general.alignment (32)
 *   tensor data, each tensor starting at data_start + offset, offsets multiples of the alignment
 * </pre>
 *
 * {@code ne} lists dimensions innermost first: a PyTorch {@code [rows, cols]} weight is {@code ne = [cols, rows]}
 * with the same row-major bytes. Metadata is collected first, tensor data is loaded and encoded one tensor at a
 * time while streaming, so a model larger than the heap's headroom exports with one tensor in memory.
 */
public final class GgufWriter {
    public static final int ALIGNMENT = 32;
    private static final int VERSION = 3;

    /** GGUF's metadata value types ({@code enum gguf_type}). */
    private static final int UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7, STRING = 8, ARRAY = 9;

    /** A tensor's weights as F32, row-major in PyTorch order, loaded when the writer reaches it. */
    @FunctionalInterface
    public interface TensorData {
        float[] load() throws IOException;
    }

    private record Kv(String key, ValueWriter value) {}

    private record Tensor(String name, long[] ne, GgmlType type, TensorData data) {
        long count() {
            long n = 1;
            for (long d : ne) n *= d;
            return n;
        }
    }

    @FunctionalInterface
    private interface ValueWriter {
        void write(Out out) throws IOException;
    }

    private final List<Kv> kvs = new ArrayList<>();
    private final List<Tensor> tensors = new ArrayList<>();
    private final Set<String> keys = new HashSet<>();
    private final Set<String> names = new HashSet<>();

    public GgufWriter putString(String key, String v) {
        return put(key, o -> { o.u32(STRING); o.string(v); });
    }

    public GgufWriter putU32(String key, long v) {
        if (v < 0 || v > 0xffffffffL) throw new IllegalArgumentException(key + "=" + v + " does not fit in u32");
        return put(key, o -> { o.u32(UINT32); o.u32(v); });
    }

    public GgufWriter putI32(String key, int v) {
        return put(key, o -> { o.u32(INT32); o.u32(v); });
    }

    public GgufWriter putF32(String key, float v) {
        return put(key, o -> { o.u32(FLOAT32); o.u32(Float.floatToRawIntBits(v)); });
    }

    public GgufWriter putBool(String key, boolean v) {
        return put(key, o -> { o.u32(BOOL); o.u8(v ? 1 : 0); });
    }

    public GgufWriter putStrings(String key, List<String> v) {
        List<String> copy = List.copyOf(v);
        return put(key, o -> {
            o.u32(ARRAY);
            o.u32(STRING);
            o.u64(copy.size());
            for (String s : copy) o.string(s);
        });
    }

    public GgufWriter putI32s(String key, int[] v) {
        int[] copy = v.clone();
        return put(key, o -> {
            o.u32(ARRAY);
            o.u32(INT32);
            o.u64(copy.length);
            for (int x : copy) o.u32(x);
        });
    }

    private GgufWriter put(String key, ValueWriter w) {
        if (!keys.add(key)) throw new IllegalArgumentException("metadata key " + key + " written twice");
        kvs.add(new Kv(key, w));
        return this;
    }

    /**
     * Adds a tensor.
     *
     * @param shape PyTorch order ([rows, cols] for a matrix); written reversed as ggml's {@code ne}
     * @param type  its encoding; the innermost dimension must be a whole number of the type's blocks
     */
    public GgufWriter addTensor(String name, long[] shape, GgmlType type, TensorData data) {
        if (!names.add(name)) throw new IllegalArgumentException("tensor " + name + " added twice");
        long[] ne = new long[shape.length];
        for (int i = 0; i < shape.length; i++) ne[i] = shape[shape.length - 1 - i];
        if (ne[0] % type.blockSize() != 0) {
            throw new IllegalArgumentException(name + ": rows of " + ne[0] + " weights are not whole " + type
                    + " blocks of " + type.blockSize());
        }
        tensors.add(new Tensor(name, ne, type, data));
        return this;
    }

    /** Tensors added so far. */
    public int tensorCount() { return tensors.size(); }

    /** Bytes the tensor data section will take, padding included. */
    public long dataBytes() {
        long n = 0;
        for (Tensor t : tensors) n = align(n + t.type.bytes(t.count()));
        return n;
    }

    /**
     * Streams the file to {@code os}; {@code progress} hears the index of each tensor once it is written.
     */
    public void write(OutputStream os, IntConsumer progress) throws IOException {
        Out out = new Out(new BufferedOutputStream(os, 1 << 20));
        out.bytes(new byte[] {'G', 'G', 'U', 'F'});
        out.u32(VERSION);
        out.u64(tensors.size());
        out.u64(kvs.size());
        for (Kv kv : kvs) {
            out.string(kv.key);
            kv.value.write(out);
        }
        long offset = 0;
        for (Tensor t : tensors) {
            out.string(t.name);
            out.u32(t.ne.length);
            for (long d : t.ne) out.u64(d);
            out.u32(t.type.id());
            out.u64(offset);
            offset = align(offset + t.type.bytes(t.count()));
        }
        out.pad();
        long dataStart = out.position;
        byte[] buf = new byte[1 << 16];
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            float[] w = t.data.load();
            if (w.length != t.count()) {
                throw new IOException(t.name + ": expected " + t.count() + " weights " + Arrays.toString(t.ne)
                        + ", got " + w.length);
            }
            // chunks of whole blocks, at most buf's size once encoded
            int chunk = (int) (buf.length / t.type.bytes(t.type.blockSize()) * t.type.blockSize());
            for (int from = 0; from < w.length; from += chunk) {
                int n = Math.min(chunk, w.length - from);
                out.bytes(buf, GgmlEncoding.encode(t.type, w, from, n, buf));
            }
            out.pad();
            progress.accept(i);
        }
        if (out.position - dataStart != dataBytes()) throw new IllegalStateException("tensor data size mismatch");
        out.flush();
    }

    static long align(long n) {
        return (n + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    /** Little-endian primitives over a stream, counting the bytes written. */
    private static final class Out {
        private final OutputStream os;
        private final byte[] scratch = new byte[8];
        long position;

        Out(OutputStream os) { this.os = os; }

        void u8(int v) throws IOException {
            os.write(v);
            position++;
        }

        void u32(long v) throws IOException {
            for (int i = 0; i < 4; i++) scratch[i] = (byte) (v >>> (8 * i));
            bytes(scratch, 4);
        }

        void u64(long v) throws IOException {
            for (int i = 0; i < 8; i++) scratch[i] = (byte) (v >>> (8 * i));
            bytes(scratch, 8);
        }

        void string(String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            bytes(b);
        }

        void bytes(byte[] b) throws IOException { bytes(b, b.length); }

        void bytes(byte[] b, int n) throws IOException {
            os.write(b, 0, n);
            position += n;
        }

        void pad() throws IOException {
            while (position % ALIGNMENT != 0) u8(0);
        }

        void flush() throws IOException { os.flush(); }
    }
}
