package dev.distill4j.model.engine;

/** Plain-Java kernels; four partial sums per dot product so the loop is not one long dependency chain. */
final class ScalarKernels extends Kernels {

    @Override
    float dot(float[] a, int ao, float[] b, int bo, int n) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            s0 += a[ao + i] * b[bo + i];
            s1 += a[ao + i + 1] * b[bo + i + 1];
            s2 += a[ao + i + 2] * b[bo + i + 2];
            s3 += a[ao + i + 3] * b[bo + i + 3];
        }
        for (; i < n; i++) s0 += a[ao + i] * b[bo + i];
        return (s0 + s1) + (s2 + s3);
    }

    @Override
    void matmul(float[] w, int cols, float[][] x, float[][] out, int r0, int r1) {
        for (int r = r0; r < r1; r++) {
            int off = r * cols;
            for (int b = 0; b < x.length; b++) out[b][r] = dot(w, off, x[b], 0, cols);
        }
    }

    @Override
    void matmulQ8(byte[] q, float[] scale, int cols, float[][] x, float[][] out, int r0, int r1) {
        int blocks = blocks(cols);
        for (int r = r0; r < r1; r++) {
            int off = r * cols;
            for (int b = 0; b < x.length; b++) {
                float[] v = x[b];
                float sum = 0;
                for (int k = 0; k < blocks; k++) {
                    int c0 = k * BLOCK;
                    int c1 = Math.min(cols, c0 + BLOCK);
                    float block = 0;
                    for (int c = c0; c < c1; c++) block += q[off + c] * v[c];
                    sum += block * scale[r * blocks + k];
                }
                out[b][r] = sum;
            }
        }
    }

    @Override
    void scores(float[] q, int qo, float[] keys, int ko, int stride, int n, int hd, float scale, float[] out) {
        for (int j = 0; j < n; j++) out[j] = dot(q, qo, keys, ko + j * stride, hd) * scale;
    }

    @Override
    void mix(float[] p, int n, float scale, float[] v, int vo, int stride, int hd, float[] out, int oo) {
        java.util.Arrays.fill(out, oo, oo + hd, 0f);
        for (int j = 0; j < n; j++) {
            float a = p[j] * scale;
            for (int c = 0; c < hd; c++) out[oo + c] += a * v[vo + j * stride + c];
        }
    }

    @Override
    float expShifted(float[] x, int n, float max) {
        float s = 0;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(x[i] - max);
            x[i] = e;
            s += e;
        }
        return s;
    }

    @Override
    void siluMul(float[] g, float[] u, int from, int to) {
        for (int j = from; j < to; j++) g[j] = g[j] / (1f + (float) Math.exp(-g[j])) * u[j];
    }

    /** In double with {@link Math#exp}: the reference the vector kernel is tested against. */
    @Override
    double logSumExp(float[] x, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, x[i]);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.exp(x[i] - max);
        return max + Math.log(sum);
    }

    @Override
    String describe() { return "scalar"; }
}
