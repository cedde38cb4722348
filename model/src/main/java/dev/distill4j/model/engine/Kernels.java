package dev.distill4j.model.engine;

/**
 * The inner loops of the engine: dot products of weight rows (F32 or int8 blocks) with activation vectors, and
 * attention's scores, softmax and weighted sum of values. Two implementations compute the same sums: {@link
 * VectorKernels} on the Vector API ({@code jdk.incubator.vector}, SIMD as wide as the CPU offers) and {@link
 * ScalarKernels} in plain Java, used when the JVM was started without {@code --add-modules jdk.incubator.vector}
 * (e.g. a test's child JVM), so the engine runs everywhere and is fast where the launcher enables the module.
 */
abstract sealed class Kernels permits ScalarKernels, VectorKernels {
    /** Weights per int8 block: one F32 scale per 32 consecutive weights of a row, as llama.cpp's Q8_0. */
    static final int BLOCK = 32;

    /** Σ a[ao + i]·b[bo + i] for i in [0, n). */
    abstract float dot(float[] a, int ao, float[] b, int bo, int n);

    /**
     * Rows [r0, r1) of {@code out[b] = W·x[b]} for every b, W an F32 [rows, cols] matrix in row-major order. Each weight
     * row is read once from memory for all B vectors (it stays in L1 while they pass), so a step of B sequences
     * streams the matrix once.
     */
    abstract void matmul(float[] w, int cols, float[][] x, float[][] out, int r0, int r1);

    /**
     * As {@link #matmul(float[], int, float[][], float[][], int, int)}, told whether the weights stream from memory
     * (a model larger than the caches) rather than sit in cache, which may pick another access and summation order
     * (see {@link VectorKernels}).
     */
    void matmul(float[] w, int cols, float[][] x, float[][] out, int r0, int r1, boolean streaming) {
        matmul(w, cols, x, out, r0, r1);
    }

    /**
     * As {@link #matmul} for an int8 matrix: weight (r, c) = q[r·cols + c] · scale[r·blocks + c / 32] with
     * blocks = ⌈cols / 32⌉ (the last block of a row may be shorter).
     */
    abstract void matmulQ8(byte[] q, float[] scale, int cols, float[][] x, float[][] out, int r0, int r1);

    /** As {@link #matmulQ8(byte[], float[], int, float[][], float[][], int, int)}, told whether the weights stream. */
    void matmulQ8(byte[] q, float[] scale, int cols, float[][] x, float[][] out, int r0, int r1, boolean streaming) {
        matmulQ8(q, scale, cols, x, out, r0, r1);
    }

    /**
     * Attention scores of one query head against n cached keys: {@code out[j] = scale · Σ_c q[qo + c] · keys[ko +
     * j·stride + c]} for j in [0, n), c in [0, hd).
     */
    abstract void scores(float[] q, int qo, float[] keys, int ko, int stride, int n, int hd, float scale, float[] out);

    /**
     * Attention's weighted sum of cached values: {@code out[oo + c] = scale · Σ_j p[j] · v[vo + j·stride + c]} for c in
     * [0, hd), j in [0, n).
     */
    abstract void mix(float[] p, int n, float scale, float[] v, int vo, int stride, int hd, float[] out, int oo);

    /** {@code x[i] = exp(x[i] − max)} for i in [0, n); returns their sum (softmax's denominator). */
    abstract float expShifted(float[] x, int n, float max);

    /** {@code g[j] = silu(g[j]) · u[j] = g[j] / (1 + exp(−g[j])) · u[j]} for j in [from, to): SwiGLU's product. */
    abstract void siluMul(float[] g, float[] u, int from, int to);

    /**
     * {@code log Σ exp(x[i])} over {@code x[0, n)}, shifted by the maximum so nothing overflows: the normaliser of
     * log_softmax, which every generated token's logprob needs (a cost per token that does not shrink with the model:
     * one exp per vocabulary entry). Infinite or NaN inputs give what the double formula gives.
     */
    abstract double logSumExp(float[] x, int n);

    /** Which implementation: "vector (512-bit)" or "scalar". */
    abstract String describe();

    private static final Kernels BEST = choose();

    /**
     * The Vector API kernels when the {@code jdk.incubator.vector} module is in the boot layer (and not disabled with
     * {@code -Ddistill4j.engine.kernels=scalar}), else the scalar ones.
     */
    static Kernels best() { return BEST; }

    private static Kernels choose() {
        if ("scalar".equals(System.getProperty("distill4j.engine.kernels"))) return new ScalarKernels();
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) return new ScalarKernels();
        try {
            // by name: the class links against jdk.incubator.vector, which must not load when the module is absent
            return (Kernels) Class.forName("dev.distill4j.model.engine.VectorKernels").getDeclaredConstructor()
                    .newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            return new ScalarKernels();
        }
    }

    static int blocks(int cols) { return (cols + BLOCK - 1) / BLOCK; }
}
