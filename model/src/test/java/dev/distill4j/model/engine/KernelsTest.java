package dev.distill4j.model.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The matrix kernels against a double-precision reference, and the property continuous batching relies on: an
 * output's bits depend only on its weight row and its own vector — not on how many other vectors share the call (the
 * batch-1 path, the four-vector path and the leftovers must sum in one order), nor on where a thread's row range
 * begins — for weights in cache; weights streaming from memory go row by row at batch 1 with the former kernels'
 * order, close but not bit-equal to a batch's. Shapes cover rows and columns that are and are not multiples of the vector width, the int8 block (32)
 * and the four-row blocks.
 */
class KernelsTest {
    private static final int[] ROWS = {1, 3, 4, 7, 16, 37, 64, 100};
    private static final int[] COLS = {5, 16, 40, 96, 100, 256};

    @Test
    void f32OutputsAreTheSameBitsAloneAndInAnyBatchAndRowSplit() {
        for (Kernels k : List.of(Kernels.best(), new ScalarKernels())) {
            SplittableRandom rng = new SplittableRandom(7);
            for (int rows : ROWS) {
                for (int cols : COLS) {
                    float[] w = gaussian(rng, rows * cols);
                    float[][] x = new float[6][];
                    for (int b = 0; b < x.length; b++) x[b] = gaussian(rng, cols);
                    float[][] alone = new float[x.length][rows];
                    for (int b = 0; b < x.length; b++) {
                        float[][] out = {alone[b]};
                        k.matmul(w, cols, new float[][] {x[b]}, out, 0, rows);
                        for (int r = 0; r < rows; r++) {
                            double ref = 0, mag = 0;
                            for (int c = 0; c < cols; c++) {
                                ref += (double) w[r * cols + c] * x[b][c];
                                mag += Math.abs((double) w[r * cols + c] * x[b][c]);
                            }
                            assertThat((double) alone[b][r]).as("%s %dx%d row %d", k.describe(), rows, cols, r)
                                    .isCloseTo(ref, org.assertj.core.api.Assertions.within(1e-5 * mag + 1e-6));
                        }
                    }
                    for (int nb = 1; nb <= x.length; nb++) {
                        for (boolean streaming : new boolean[] {false, true}) {
                            float[][] xs = java.util.Arrays.copyOf(x, nb);
                            float[][] out = new float[nb][rows];
                            int split = rows * 3 / 7;   // two row ranges, as two threads would take them
                            k.matmul(w, cols, xs, out, 0, split, streaming);
                            k.matmul(w, cols, xs, out, split, rows, streaming);
                            for (int b = 0; b < nb; b++) {
                                if (!streaming) {
                                    assertThat(out[b]).as("%s %dx%d vector %d of %d", k.describe(), rows, cols, b, nb)
                                            .containsExactly(alone[b]);
                                } else {
                                    // streaming weights at batch 1 may sum in another order: close, not equal
                                    for (int r = 0; r < rows; r++) {
                                        assertThat(out[b][r]).as("%s %dx%d streaming", k.describe(), rows, cols)
                                                .isCloseTo(alone[b][r], org.assertj.core.api.Assertions.within(
                                                        1e-5f * (1 + Math.abs(alone[b][r])) * cols));
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void int8OutputsAreTheSameBitsAloneAndInAnyBatchAndRowSplit() {
        for (Kernels k : List.of(Kernels.best(), new ScalarKernels())) {
            SplittableRandom rng = new SplittableRandom(8);
            for (int rows : ROWS) {
                for (int cols : COLS) {
                    Matrix.Q8 m = Matrix.Q8.quantize(gaussian(rng, rows * cols), rows, cols);
                    float[] deq = m.dequantize();
                    float[][] x = new float[5][];
                    for (int b = 0; b < x.length; b++) x[b] = gaussian(rng, cols);
                    float[][] alone = new float[x.length][rows];
                    for (int b = 0; b < x.length; b++) {
                        k.matmulQ8(m.q(), m.scale(), cols, new float[][] {x[b]}, new float[][] {alone[b]}, 0, rows);
                        for (int r = 0; r < rows; r++) {
                            double ref = 0, mag = 0;
                            for (int c = 0; c < cols; c++) {
                                ref += (double) deq[r * cols + c] * x[b][c];
                                mag += Math.abs((double) deq[r * cols + c] * x[b][c]);
                            }
                            assertThat((double) alone[b][r]).as("%s int8 %dx%d row %d", k.describe(), rows, cols, r)
                                    .isCloseTo(ref, org.assertj.core.api.Assertions.within(1e-5 * mag + 1e-6));
                        }
                    }
                    for (int nb = 2; nb <= x.length; nb++) {
                        float[][] xs = java.util.Arrays.copyOf(x, nb);
                        float[][] out = new float[nb][rows];
                        int split = rows / 2 + 1 > rows ? rows : rows / 2 + 1;
                        k.matmulQ8(m.q(), m.scale(), cols, xs, out, 0, split);
                        k.matmulQ8(m.q(), m.scale(), cols, xs, out, split, rows);
                        for (int b = 0; b < nb; b++) {
                            assertThat(out[b]).as("%s int8 %dx%d vector %d of %d", k.describe(), rows, cols, b, nb)
                                    .containsExactly(alone[b]);
                        }
                    }
                    // streaming weights: close to the reference as well
                    float[][] streamed = new float[x.length][rows];
                    k.matmulQ8(m.q(), m.scale(), cols, x, streamed, 0, rows, true);
                    for (int b = 0; b < x.length; b++) {
                        for (int r = 0; r < rows; r++) {
                            assertThat(streamed[b][r]).isCloseTo(alone[b][r],
                                    org.assertj.core.api.Assertions.within(1e-5f * (1 + Math.abs(alone[b][r])) * cols));
                        }
                    }
                }
            }
        }
    }

    private static float[] gaussian(SplittableRandom rng, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rng.nextDouble() * 2 - 1);
        return a;
    }
    /**
     * log Σ exp on the vector kernels against the double formula (independent: {@link Math#exp} in double): within
     * 1e-6 relative in the sum over row lengths around the vector width and a 151,936-token vocabulary, logits spread
     * as a trained model's (σ = 4) and very peaked (σ = 40, terms underflow), masked −∞ entries, and the edge cases
     * that go to the scalar path. Then the property sampling relies on: the same bits on every call, from the first
     * (interpreted) to the ten-thousandth (compiled).
     */
    @Test
    void logSumExpMatchesTheDoubleFormulaAndGivesTheSameBitsInEveryJitTier() {
        Kernels k = Kernels.best();
        ScalarKernels ref = new ScalarKernels();
        SplittableRandom rng = new SplittableRandom(11);
        for (int n : new int[] {1, 3, 15, 16, 17, 31, 33, 356, 768, 32_000, 151_936}) {
            for (double sigma : new double[] {4, 40}) {
                float[] x = new float[n];
                for (int i = 0; i < n; i++) x[i] = (float) (rng.nextGaussian() * sigma);
                if (n > 20) {
                    x[5] = Float.NEGATIVE_INFINITY;                 // a masked token (a watermark's or a filter's)
                    x[n - 2] = Float.NEGATIVE_INFINITY;
                }
                double want = ref.logSumExp(x, n);
                double max = 0;
                for (int i = 0; i < n; i++) max = Math.max(max, x[i]);
                // log Σ = max + log s: an error ε relative in s is ε absolute in the result
                assertThat(k.logSumExp(x, n)).as("%s n=%d σ=%s", k.describe(), n, sigma)
                        .isCloseTo(want, org.assertj.core.data.Offset.offset(1e-6));
            }
        }
        // a prefix: only x[0, n) counts
        float[] row = {1f, 2f, 3f, 100f};
        assertThat(k.logSumExp(row, 3)).isCloseTo(ref.logSumExp(row, 3), org.assertj.core.data.Offset.offset(1e-6));
        // by hand: log(e^0 + e^0) = ln 2; all equal to 1000: 1000 + ln 3
        assertThat(k.logSumExp(new float[] {0f, 0f}, 2)).isCloseTo(Math.log(2), org.assertj.core.data.Offset.offset(1e-7));
        assertThat(k.logSumExp(new float[] {1000f, 1000f, 1000f}, 3))
                .isCloseTo(1000 + Math.log(3), org.assertj.core.data.Offset.offset(1e-6));
        // what the double formula answers where the maximum is not finite
        assertThat(k.logSumExp(new float[] {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY}, 2)).isNaN();
        assertThat(k.logSumExp(new float[] {1f, Float.POSITIVE_INFINITY}, 2)).isNaN();
        assertThat(k.logSumExp(new float[] {1f, Float.NaN}, 2)).isNaN();

        float[] x = new float[768];
        for (int i = 0; i < x.length; i++) x[i] = (float) (rng.nextGaussian() * 4);
        long first = Double.doubleToRawLongBits(k.logSumExp(x, x.length));
        for (int call = 0; call < 20_000; call++) {
            assertThat(Double.doubleToRawLongBits(k.logSumExp(x, x.length))).as("call %d", call).isEqualTo(first);
        }
    }

    /**
     * Attention's kernels against double-precision formulas: scores over key counts below, at and past the 16-position
     * blocks and head sizes that are and are not a multiple of the vector width (keys strided as in the cache, the
     * query at an offset, as for head h of a row); exp-and-sum and silu·u within float rounding, including large |g|
     * (the vector silu takes exp of −|g| only, so nothing overflows). Then the same bits on every call.
     */
    @Test
    void attentionScoresSoftmaxAndSiluMatchTheirFormulas() {
        for (Kernels k : List.of(Kernels.best(), new ScalarKernels())) {
            SplittableRandom rng = new SplittableRandom(12);
            for (int hd : new int[] {8, 16, 32, 40, 64}) {
                for (int n : new int[] {1, 5, 15, 16, 17, 33, 64, 100}) {
                    int stride = 3 * hd, ko = hd;             // kv head 1 of 3
                    float[] keys = gaussian(rng, ko + n * stride);
                    float[] q = gaussian(rng, 2 * hd);
                    float[] out = new float[n];
                    float scale = (float) (1 / Math.sqrt(hd));
                    k.scores(q, hd, keys, ko, stride, n, hd, scale, out);
                    for (int j = 0; j < n; j++) {
                        double ref = 0, mag = 0;
                        for (int c = 0; c < hd; c++) {
                            ref += (double) q[hd + c] * keys[ko + j * stride + c];
                            mag += Math.abs((double) q[hd + c] * keys[ko + j * stride + c]);
                        }
                        assertThat((double) out[j]).as("%s hd=%d n=%d j=%d", k.describe(), hd, n, j)
                                .isCloseTo(ref * scale, org.assertj.core.api.Assertions.within(1e-6 * mag + 1e-7));
                    }
                    // the weighted sum of values (hd columns at a stride, as the cache holds them) by the scores
                    float[] mixed = new float[2 * hd + 3];
                    k.mix(out, n, 0.5f, keys, ko, stride, hd, mixed, hd);
                    for (int c = 0; c < hd; c++) {
                        double ref = 0, mag = 0;
                        for (int j = 0; j < n; j++) {
                            ref += (double) out[j] * keys[ko + j * stride + c];
                            mag += Math.abs((double) out[j] * keys[ko + j * stride + c]);
                        }
                        assertThat((double) mixed[hd + c]).as("%s mix hd=%d n=%d c=%d", k.describe(), hd, n, c)
                                .isCloseTo(0.5 * ref, org.assertj.core.api.Assertions.within(1e-6 * mag + 1e-7));
                    }
                    assertThat(mixed[hd - 1]).isZero();
                    assertThat(mixed[2 * hd]).isZero();
                    float[] again = new float[n];
                    for (int call = 0; call < 50; call++) {
                        k.scores(q, hd, keys, ko, stride, n, hd, scale, again);
                        assertThat(again).containsExactly(out);
                    }
                }
            }
            for (int n : new int[] {1, 7, 16, 17, 100}) {
                float[] x = new float[n];
                for (int i = 0; i < n; i++) x[i] = (float) (rng.nextGaussian() * 5);
                float max = Float.NEGATIVE_INFINITY;
                for (float v : x) max = Math.max(max, v);
                float[] e = x.clone();
                float sum = k.expShifted(e, n, max);
                double refSum = 0;
                for (int i = 0; i < n; i++) {
                    double want = Math.exp(x[i] - max);
                    refSum += want;
                    assertThat((double) e[i]).isCloseTo(want, org.assertj.core.api.Assertions.within(3e-7 * want + 1e-30));
                }
                assertThat((double) sum).isCloseTo(refSum, org.assertj.core.api.Assertions.within(1e-6 * refSum));
            }
            float[] g = new float[40], u = new float[40];
            for (int j = 0; j < g.length; j++) {
                g[j] = (float) (rng.nextGaussian() * 4);
                u[j] = (float) rng.nextGaussian();
            }
            g[3] = 120f;          // σ = 1
            g[4] = -120f;         // σ ≈ e^−120: silu ≈ −1e−50, a float 0 (or a denormal's sign)
            g[5] = 0f;
            float[] got = g.clone();
            k.siluMul(got, u, 2, 38);
            for (int j = 0; j < g.length; j++) {
                double want = j < 2 || j >= 38 ? g[j] : g[j] / (1 + Math.exp(-(double) g[j])) * u[j];
                assertThat((double) got[j]).as("%s silu j=%d g=%s", k.describe(), j, g[j])
                        .isCloseTo(want, org.assertj.core.api.Assertions.within(1e-6 * Math.abs(want) + 1e-30));
            }
        }
    }
}
