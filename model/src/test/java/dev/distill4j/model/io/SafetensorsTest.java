package dev.distill4j.model.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    @TempDir Path dir;

    @Test
    void f32RoundTripIsBitExact() throws IOException {
        float[] v = {0f, -0f, 1f, -2.5f, 3.14159f, Float.MIN_VALUE, Float.MAX_VALUE, Float.NaN,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1e-30f};
        float[] w = new float[6 * 7];
        for (int i = 0; i < w.length; i++) w[i] = (float) Math.sin(i) * 1e3f;
        Path f = dir.resolve("model.safetensors");
        new SafetensorsWriter().add("v", v, v.length).add("w", w, 6, 7).write(f, DType.F32);
        try (SafetensorsReader r = SafetensorsReader.open(f)) {
            assertThat(r.names()).containsExactly("v", "w");
            assertThat(r.metadata()).containsEntry("format", "pt");
            assertThat(r.info("w").shape()).containsExactly(6, 7);
            assertThat(r.info("w").dtype()).isEqualTo(DType.F32);
            assertThat(bits(r.readFloats("v"))).containsExactly(bits(v));
            assertThat(bits(r.readFloats("w"))).containsExactly(bits(w));
        }
        // data starts 8-byte aligned, header padded with spaces as the safetensors library does
        byte[] bytes = Files.readAllBytes(f);
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertThat(n % 8).isZero();
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertThat(header).startsWith("{\"__metadata__\":{\"format\":\"pt\"},\"v\":{\"dtype\":\"F32\",\"shape\":[11],"
                + "\"data_offsets\":[0,44]},\"w\":");
        assertThat(header.strip()).endsWith("}");
        assertThat(bytes.length).isEqualTo(8 + n + 4L * (v.length + w.length));
    }

    private static int[] bits(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) b[i] = Float.floatToRawIntBits(v[i]);
        return b;
    }

    @Test
    void bf16RoundsToNearestEven() throws IOException {
        // hand-converted: keep the top 16 bits of the F32 pattern, rounding the dropped half (ties to even)
        float[] v = {1.0f, -2.5f, 3.14159f, 1.00390625f, 1.01171875f, 1.0f + 0x1.01p-8f};
        // 0x3F800000, 0xC0200000, 0x40490FD0 (down), 0x3F808000 (tie, even stays), 0x3F818000 (tie, odd rounds
        // up), 0x3F808080 (above half, up)
        short[] expectedBits = {0x3F80, (short) 0xC020, 0x4049, 0x3F80, 0x3F82, 0x3F81};
        float[] expected = {1.0f, -2.5f, 3.140625f, 1.0f, 1.015625f, 1.0078125f};
        Path f = dir.resolve("bf16.safetensors");
        new SafetensorsWriter().add("t", v, 2, 3).write(f, DType.BF16);
        byte[] bytes = Files.readAllBytes(f);
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        ByteBuffer data = ByteBuffer.wrap(bytes, (int) (8 + n), 12).order(ByteOrder.LITTLE_ENDIAN);
        for (short b : expectedBits) assertThat(data.getShort()).isEqualTo(b);
        try (SafetensorsReader r = SafetensorsReader.open(f)) {
            assertThat(r.info("t").dtype()).isEqualTo(DType.BF16);
            assertThat(r.readFloats("t")).containsExactly(expected);
        }
        assertThat(Floats.floatToBf16(Float.NaN) & 0x7FFF).isGreaterThan(0x7F80);
        assertThat(Floats.floatToBf16(Float.MAX_VALUE)).isEqualTo((short) 0x7F80); // rounds up to +inf, like torch
    }

    @Test
    void f16MatchesHandConvertedValues() throws IOException {
        float[] v = {1.0f, -2.5f, 3.14159f, 65504f, 1e5f, 0x1p-24f};
        // 1.0 = 0x3C00, -2.5 = 0xC100, pi ≈ 0x4248 (3.140625), max normal 0x7BFF, overflow to inf 0x7C00,
        // smallest subnormal 0x0001
        float[] expected = {1.0f, -2.5f, 3.140625f, 65504f, Float.POSITIVE_INFINITY, 0x1p-24f};
        Path f = dir.resolve("f16.safetensors");
        new SafetensorsWriter().add("t", v, 6).write(f, DType.F16);
        try (SafetensorsReader r = SafetensorsReader.open(f)) {
            assertThat(r.info("t").dtype()).isEqualTo(DType.F16);
            assertThat(r.readFloats("t")).containsExactly(expected);
        }
    }

    /** A file built byte by byte, independent of our writer: no metadata, unpadded header, mixed dtypes. */
    @Test
    void readsHandBuiltFile() throws IOException {
        String header = "{\"b\":{\"dtype\":\"BF16\",\"shape\":[1,2],\"data_offsets\":[8,12]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"ids\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[12,20]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + 20).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        b.putFloat(0.5f).putFloat(-7f);
        b.putShort((short) 0x4049).putShort((short) 0xBF80);
        b.putLong(42);
        Path f = dir.resolve("hand.safetensors");
        Files.write(f, b.array());
        try (SafetensorsReader r = SafetensorsReader.open(f); NDManager m = NDManager.newBaseManager()) {
            assertThat(r.names()).containsExactly("a", "b", "ids");
            assertThat(r.metadata()).isEmpty();
            assertThat(r.readFloats("a")).containsExactly(0.5f, -7f);
            assertThat(r.readFloats("b")).containsExactly(3.140625f, -1f);
            assertThat(r.readLongs("ids")).containsExactly(42L);
            NDArray nd = r.read(m, "b");
            assertThat(nd.getShape()).isEqualTo(new Shape(1, 2));
            assertThat(nd.toFloatArray()).containsExactly(3.140625f, -1f);
            assertThatThrownBy(() -> r.readFloats("ids")).hasMessageContaining("'ids' is I64, not a float type");
            assertThatThrownBy(() -> r.info("nope")).hasMessageContaining("no tensor 'nope'");
        }
    }

    @Test
    void truncatedFileNamesFileAndTensor() throws IOException {
        Path f = dir.resolve("model.safetensors");
        new SafetensorsWriter().add("model.layers.0.mlp.up_proj.weight", new float[16], 4, 4)
                .add("model.norm.weight", new float[4], 4).write(f, DType.F32);
        long size = Files.size(f);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.truncate(size - 3);
        }
        // the last tensor in the data section is model.norm.weight (names sorted)
        assertThatThrownBy(() -> SafetensorsReader.open(f))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(f.toString())
                .hasMessageContaining("tensor 'model.norm.weight' ends at byte " + size)
                .hasMessageContaining("the file has " + (size - 3) + " bytes (truncated?)");
    }

    @Test
    void corruptHeadersFailClearly() throws IOException {
        Path f = dir.resolve("bad.safetensors");
        Files.write(f, withHeader("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offs"));
        assertThatThrownBy(() -> SafetensorsReader.open(f)).hasMessageContaining(f + ": header is not valid JSON");

        Files.write(f, new byte[] {1, 2, 3});
        assertThatThrownBy(() -> SafetensorsReader.open(f)).hasMessageContaining("not a safetensors file");

        ByteBuffer huge = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40);
        Files.write(f, huge.array());
        assertThatThrownBy(() -> SafetensorsReader.open(f)).hasMessageContaining("header length 1099511627776");

        Files.write(f, withHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8));
        assertThatThrownBy(() -> SafetensorsReader.open(f))
                .hasMessageContaining("tensor 'w': shape [3] of F32 needs 12 bytes but data_offsets [0,8] span 8");

        Files.write(f, withHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8));
        assertThatThrownBy(() -> SafetensorsReader.open(f)).hasMessageContaining("tensors 'w' and 'x' overlap");

        Files.write(f, withHeader("{\"w\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,1]}}", 8));
        assertThatThrownBy(() -> SafetensorsReader.open(f)).hasMessageContaining("tensor 'w': unsupported dtype \"Q4\"");
    }

    private static byte[] withHeader(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h)
                .array();
    }

    private static byte[] withHeader(String header) {
        return withHeader(header, 0);
    }

    /**
     * A tensor beyond the 2 GiB mark of a 3 GiB file. The file is sparse, so it costs no disk, and it proves every
     * offset on the read path is a long.
     */
    @Test
    void readsTensorPastTwoGibInSparseFile() throws IOException {
        long offset = (5L << 29) + 12; // 2.5 GiB + 12: not a multiple of anything convenient
        String header = "{\"far\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[" + offset + "," + (offset + 16)
                + "]},\"near\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[0,2]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        Path f = dir.resolve("big.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(3L << 30);
            raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
            raf.write(h);
            raf.write(new byte[] {(byte) 0x80, 0x3F});
            raf.seek(8 + h.length + offset);
            ByteBuffer d = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            d.putFloat(1.5f).putFloat(-2f).putFloat(1e-3f).putFloat(42f);
            raf.write(d.array());
        }
        try (SafetensorsReader r = SafetensorsReader.open(f)) {
            assertThat(r.info("far").begin()).isEqualTo(8 + h.length + offset);
            assertThat(r.readFloats("far")).containsExactly(1.5f, -2f, 1e-3f, 42f);
            assertThat(r.readFloats("near")).containsExactly(1f);
            float[] part = new float[2];
            r.readFloats("far", 2, part, 0, 2);
            assertThat(part).containsExactly(1e-3f, 42f);
        }
    }

    @Test
    void writesNDArrays() throws IOException {
        Path f = dir.resolve("nd.safetensors");
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.arange(6f).reshape(2, 3);
            new SafetensorsWriter().add("a", a).write(f, DType.BF16);
            try (SafetensorsReader r = SafetensorsReader.open(f)) {
                NDArray back = r.read(m, "a");
                assertThat(back.getShape()).isEqualTo(new Shape(2, 3));
                assertThat(back.toFloatArray()).containsExactly(0f, 1f, 2f, 3f, 4f, 5f);
            }
        }
        // tensors too big for one buffer are assembled from row blocks; forced here with a tiny block size
        float[] v = new float[7 * 5];
        for (int i = 0; i < v.length; i++) v[i] = i * 0.25f - 3f;
        Path g = dir.resolve("blocks.safetensors");
        new SafetensorsWriter().add("w", v, 7, 5).write(g, DType.BF16);
        try (SafetensorsReader r = SafetensorsReader.open(g); NDManager m = NDManager.newBaseManager()) {
            NDArray whole = r.read(m, "w");
            NDArray blocked = r.read(m, "w", 2 * 5 * 4);
            assertThat(blocked.getShape()).isEqualTo(new Shape(7, 5));
            assertThat(blocked.toFloatArray()).containsExactly(whole.toFloatArray()).containsExactly(v);
        }
        assertThatThrownBy(() -> new SafetensorsWriter().add("x", new float[3], 2, 2))
                .hasMessageContaining("tensor 'x': shape [2, 2] holds 4 elements but 3 were given");
    }
}
