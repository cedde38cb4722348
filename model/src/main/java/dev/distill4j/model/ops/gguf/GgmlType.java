package dev.distill4j.model.ops.gguf;

/**
 * The tensor encodings a GGUF export writes, with ggml's type ids ({@code enum ggml_type}) and the
 * {@code general.file_type} value ({@code enum llama_ftype}) of a file whose matrices use them.
 *
 * <pre>
 *   type   ggml id  bytes per 32 weights                    file_type
 *   F32    0        128                                      0 (ALL_F32)
 *   F16    1        64   IEEE half, round to nearest even    1 (MOSTLY_F16)
 *   Q8_0   8        34   per block of 32: f16 scale d,        7 (MOSTLY_Q8_0)
 *                        32 × int8 q, weight = d · q
 * </pre>
 */
public enum GgmlType {
    F32(0, 1, 4, 0),
    F16(1, 1, 2, 1),
    Q8_0(8, 32, 34, 7);

    private final int id;
    private final int blockSize;
    private final int blockBytes;
    private final int fileType;

    GgmlType(int id, int blockSize, int blockBytes, int fileType) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
        this.fileType = fileType;
    }

    /** ggml's {@code enum ggml_type} value, written in each tensor's info. */
    public int id() { return id; }

    /** Weights per block: a row's length must be a multiple of it. */
    public int blockSize() { return blockSize; }

    /** Bytes of {@code count} weights ({@code count} a multiple of {@link #blockSize()}). */
    public long bytes(long count) {
        if (count % blockSize != 0) {
            throw new IllegalArgumentException(count + " weights are not a whole number of " + this + " blocks");
        }
        return count / blockSize * blockBytes;
    }

    /** {@code general.file_type} of a file whose matrices are of this type. */
    public int fileType() { return fileType; }
}
