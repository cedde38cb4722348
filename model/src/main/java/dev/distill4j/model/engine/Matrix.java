package dev.distill4j.model.engine;

/**
 * A weight matrix in Hugging Face's [out, in] layout (row r produces output r), held either as F32 or as int8
 * blocks. The engine only multiplies it with activation vectors and reads single rows (embedding lookup).
 */
sealed interface Matrix permits Matrix.F32, Matrix.Q8 {
    int rows();

    int cols();

    /** Rows [r0, r1) of {@code out[b] = W·x[b]} for every b. */
    default void multiply(Kernels k, float[][] x, float[][] out, int r0, int r1) {
        multiply(k, x, out, r0, r1, false);
    }

    /** As {@link #multiply(Kernels, float[][], float[][], int, int)}, told whether the weights stream from memory. */
    void multiply(Kernels k, float[][] x, float[][] out, int r0, int r1, boolean streaming);

    /** Row r as floats (dequantized for int8) into {@code dst[0, cols)}. */
    void row(int r, float[] dst);

    /** Bytes one pass over the matrix reads. */
    long bytes();

    /** Row-major F32 weights. */
    record F32(float[] w, int rows, int cols) implements Matrix {
        public F32 {
            if ((long) rows * cols != w.length) throw new IllegalArgumentException("matrix size mismatch");
        }

        @Override
        public void multiply(Kernels k, float[][] x, float[][] out, int r0, int r1, boolean streaming) {
            k.matmul(w, cols, x, out, r0, r1, streaming);
        }

        @Override
        public void row(int r, float[] dst) { System.arraycopy(w, r * cols, dst, 0, cols); }

        @Override
        public long bytes() { return 4L * w.length; }
    }

    /**
     * int8 weights with one F32 scale per block of 32 consecutive weights of a row (llama.cpp's Q8_0, with an F32
     * instead of an F16 scale): weight (r, c) ≈ q[r·cols + c] · scale[r·blocks + c / 32], blocks = ⌈cols / 32⌉.
     * 1.125 bytes per weight instead of 4.
     */
    record Q8(byte[] q, float[] scale, int rows, int cols) implements Matrix {
        public Q8 {
            if ((long) rows * cols != q.length || (long) rows * Kernels.blocks(cols) != scale.length) {
                throw new IllegalArgumentException("int8 matrix size mismatch");
            }
        }

        /**
         * Symmetric round-to-nearest per block: scale = max|w| / 127, q = round(w / scale) ∈ [−127, 127]; a block of
         * zeros gets scale 0. The error of each weight is at most scale / 2.
         */
        static Q8 quantize(float[] w, int rows, int cols) {
            int blocks = Kernels.blocks(cols);
            byte[] q = new byte[w.length];
            float[] scale = new float[rows * blocks];
            for (int r = 0; r < rows; r++) {
                for (int k = 0; k < blocks; k++) {
                    int c0 = r * cols + k * Kernels.BLOCK;
                    int c1 = Math.min(r * cols + cols, c0 + Kernels.BLOCK);
                    float max = 0;
                    for (int i = c0; i < c1; i++) max = Math.max(max, Math.abs(w[i]));
                    float s = max / 127f;
                    scale[r * blocks + k] = s;
                    if (s == 0) continue;
                    float inv = 1f / s;
                    for (int i = c0; i < c1; i++) {
                        q[i] = (byte) Math.max(-127, Math.min(127, Math.round(w[i] * inv)));
                    }
                }
            }
            return new Q8(q, scale, rows, cols);
        }

        /** The weights this matrix stands for, as F32 [rows·cols]. */
        float[] dequantize() {
            float[] w = new float[q.length];
            for (int r = 0; r < rows; r++) row(r, w, r * cols);
            return w;
        }

        @Override
        public void multiply(Kernels k, float[][] x, float[][] out, int r0, int r1, boolean streaming) {
            k.matmulQ8(q, scale, cols, x, out, r0, r1, streaming);
        }

        @Override
        public void row(int r, float[] dst) { row(r, dst, 0); }

        private void row(int r, float[] dst, int at) {
            int blocks = Kernels.blocks(cols);
            for (int c = 0; c < cols; c++) dst[at + c] = q[r * cols + c] * scale[r * blocks + c / Kernels.BLOCK];
        }

        @Override
        public long bytes() { return q.length + 4L * scale.length; }
    }
}
