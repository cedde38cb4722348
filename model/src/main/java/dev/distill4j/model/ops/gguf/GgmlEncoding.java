package dev.distill4j.model.ops.gguf;

/**
 * Encodes F32 weights into ggml's byte layouts (little-endian), as ggml's reference quantizers do, so a file
 * written here holds the bytes llama.cpp's own converter would write for the same weights.
 *
 * <p><b>Q8_0</b> ({@code quantize_row_q8_0_ref}): each block of 32 consecutive weights x of a row gets
 * <pre>
 *   d = max|x| / 127,   q_j = roundf(x_j / d)  (half away from zero; q = 0 when d = 0),
 *   stored as d in IEEE half (2 bytes) then the 32 int8 q_j; dequantized weight = half(d) · q_j.
 * </pre>
 * The error per weight is at most d/2 (plus the half rounding of d), i.e. 0.4 % of the block's largest weight.
 *
 * <p><b>F16</b>: IEEE 754 binary16, round to nearest even ({@link Float#floatToFloat16}), as numpy's
 * {@code astype(float16)}.
 */
public final class GgmlEncoding {
    private GgmlEncoding() {}

    /** Encodes {@code src[from .. from+count)} into {@code dst} from offset 0; returns the bytes written. */
    public static int encode(GgmlType type, float[] src, int from, int count, byte[] dst) {
        return switch (type) {
            case F32 -> {
                for (int i = 0; i < count; i++) putInt(dst, 4 * i, Float.floatToRawIntBits(src[from + i]));
                yield 4 * count;
            }
            case F16 -> {
                for (int i = 0; i < count; i++) putShort(dst, 2 * i, Float.floatToFloat16(src[from + i]));
                yield 2 * count;
            }
            case Q8_0 -> {
                if (count % 32 != 0) throw new IllegalArgumentException("Q8_0 needs whole blocks of 32, got " + count);
                int o = 0;
                for (int b = from; b < from + count; b += 32) {
                    o = quantizeBlockQ8_0(src, b, dst, o);
                }
                yield o;
            }
        };
    }

    /** One Q8_0 block of the 32 weights at {@code src[from]}, written at {@code dst[o]}; returns the next offset. */
    static int quantizeBlockQ8_0(float[] src, int from, byte[] dst, int o) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(src[from + j]));
        float d = amax / 127f;
        float id = d != 0 ? 1f / d : 0f;
        putShort(dst, o, Float.floatToFloat16(d));
        for (int j = 0; j < 32; j++) dst[o + 2 + j] = (byte) roundf(src[from + j] * id);
        return o + 34;
    }

    /** C's {@code roundf}: to nearest, halves away from zero ({@link Math#round} rounds them up instead). */
    static int roundf(float v) {
        return v < 0 ? -Math.round(-v) : Math.round(v);
    }

    /** Decodes one Q8_0 block at {@code src[o]} into 32 floats at {@code dst[to]} (the inverse, for checks). */
    public static void dequantizeBlockQ8_0(byte[] src, int o, float[] dst, int to) {
        float d = Float.float16ToFloat((short) ((src[o] & 0xff) | (src[o + 1] & 0xff) << 8));
        for (int j = 0; j < 32; j++) dst[to + j] = d * src[o + 2 + j];
    }

    private static void putInt(byte[] b, int o, int v) {
        b[o] = (byte) v;
        b[o + 1] = (byte) (v >>> 8);
        b[o + 2] = (byte) (v >>> 16);
        b[o + 3] = (byte) (v >>> 24);
    }

    private static void putShort(byte[] b, int o, short v) {
        b[o] = (byte) v;
        b[o + 1] = (byte) (v >>> 8);
    }
}
