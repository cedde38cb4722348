package dev.distill4j.model.io;

/**
 * Conversions between F32 and the 16-bit float formats. BF16 is the top half of an F32, so widening is a shift and
 * narrowing rounds the dropped half to nearest, ties to even (what PyTorch's {@code tensor.to(torch.bfloat16)} does).
 */
public final class Floats {
    private Floats() {}

    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            // keep sign and make sure the truncated mantissa stays non-zero (a quiet NaN, not infinity)
            return (short) ((bits >>> 16) | 0x0040);
        }
        int lsb = (bits >>> 16) & 1;
        bits += 0x7FFF + lsb;
        return (short) (bits >>> 16);
    }

    public static float f16ToFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    public static short floatToF16(float f) {
        return Float.floatToFloat16(f);
    }
}
