package dev.distill4j.model.engine;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Kernels on the Vector API at the CPU's preferred width (8 floats with AVX2, 16 with AVX-512). Dot products keep
 * four vector accumulators, so that consecutive fused multiply-adds do not wait on each other; a weight row is
 * loaded once per group of four activation vectors. int8 blocks are widened to floats in registers (B2F), multiplied
 * with the activations, and each block's partial sums are scaled once — the weights cross the memory bus as bytes.
 * Loaded by name from {@link Kernels#best()} only when {@code jdk.incubator.vector} is present.
 */
final class VectorKernels extends Kernels {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    /** Bytes with as many lanes as {@link #F}; null where that is narrower than the Vector API allows (64 bits). */
    private static final VectorSpecies<Byte> B8 = L >= 8 && BLOCK % L == 0
            ? VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8)) : null;
    private static final ScalarKernels SCALAR = new ScalarKernels();
    /** Doubles in vectors of {@link #F}'s width: half as many lanes, for sums that must keep their digits. */
    private static final VectorSpecies<Double> D = VectorSpecies.of(double.class, VectorShape.forBitSize(
            F.vectorBitSize()));
    /** Butterfly shuffles i → i xor k for k = L/2, L/4, …, 1: the fixed summation tree of {@link #sum}. */
    @SuppressWarnings("unchecked")
    private static final VectorShuffle<Float>[] BUTTERFLY = buildButterfly();

    private static VectorShuffle<Float>[] buildButterfly() {
        int steps = Integer.numberOfTrailingZeros(L);
        VectorShuffle<Float>[] out = new VectorShuffle[steps];
        for (int s = 0, k = L / 2; k >= 1; s++, k /= 2) {
            int x = k;
            out[s] = VectorShuffle.fromOp(F, i -> i ^ x);
        }
        return out;
    }

    /**
     * Σ of the lanes in a fixed tree order. {@code reduceLanes(ADD)} may add floats in a different order in
     * interpreted and in JIT-compiled code, so the same logits could differ in the last bits from one call to the next
     * (a seeded sample must not); lanewise adds of butterfly shuffles give the same bits in every tier.
     */
    private static float sum(FloatVector v) {
        for (VectorShuffle<Float> sh : BUTTERFLY) v = v.add(v.rearrange(sh));
        return v.lane(0);
    }

    @Override
    float dot(float[] a, int ao, float[] b, int bo, int n) {
        FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F), s2 = FloatVector.zero(F),
                s3 = FloatVector.zero(F);
        int i = 0;
        for (; i + 4 * L <= n; i += 4 * L) {
            s0 = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), s0);
            s1 = FloatVector.fromArray(F, a, ao + i + L).fma(FloatVector.fromArray(F, b, bo + i + L), s1);
            s2 = FloatVector.fromArray(F, a, ao + i + 2 * L).fma(FloatVector.fromArray(F, b, bo + i + 2 * L), s2);
            s3 = FloatVector.fromArray(F, a, ao + i + 3 * L).fma(FloatVector.fromArray(F, b, bo + i + 3 * L), s3);
        }
        for (; i + L <= n; i += L) {
            s0 = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), s0);
        }
        float s = sum(s0.add(s1).add(s2.add(s3)));
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    /**
     * For weights in cache every path here (four rows against one vector, one row against four vectors, one row
     * alone) computes each output as one FMA chain over the row's full vectors, {@link #sum}, then the scalar tail in
     * column order: so a sequence's logits have the same bits whatever else shares its decode step.
     */
    @Override
    void matmul(float[] w, int cols, float[][] x, float[][] out, int r0, int r1) {
        matmul(w, cols, x, out, r0, r1, false);
    }

    /**
     * With {@code streaming} weights (a model larger than the caches) the vectors left over past a multiple of four
     * take one row at a time with four accumulators ({@link #dot}): four rows at once read four interleaved streams,
     * which the hardware prefetchers follow worse than one (on a 40,000 × 256 F32 matrix, one thread, same run: 16–26
     * ms four rows at a time against ~12 ms), and one FMA chain per row lost ~10 % to the four accumulators on
     * llama-25M under load. The price: at batch 1 a streaming model's outputs sum in another order than in a batch
     * of four, so they may differ in the last bits (as before the cache-resident path existed). Weights in cache take
     * four rows per pass: shared activation loads, four independent FMA chains, about 2× on the demo student.
     */
    @Override
    void matmul(float[] w, int cols, float[][] x, float[][] out, int r0, int r1, boolean streaming) {
        int nb = x.length;
        int quads = nb / 4 * 4;
        int r = r0;
        if (streaming && nb == 1) {
            streamRows(w, cols, x[0], out[0], r0, r1);
            return;
        }
        if (L == 16 && quads < nb && !streaming) {
            float[] scratch = r + 16 <= r1 ? new float[4 * L] : null;
            for (; r + 16 <= r1; r += 16) {
                for (int rr = r; rr < r + 16; rr++) {
                    for (int b = 0; b < quads; b += 4) row4(w, rr * cols, cols, x[b], x[b + 1], x[b + 2], x[b + 3], out, b, rr);
                }
                for (int b = quads; b < nb; b++) dot16(w, r * cols, cols, cols, x[b], 0, out[b], r, scratch);
            }
        }
        for (; r + 4 <= r1 && (!streaming || quads == nb); r += 4) {
            for (int rr = r; rr < r + 4; rr++) {
                for (int b = 0; b < quads; b += 4) row4(w, rr * cols, cols, x[b], x[b + 1], x[b + 2], x[b + 3], out, b, rr);
            }
            for (int b = quads; b < nb; b++) rows4(w, cols, x[b], out[b], r);
        }
        for (; r < r1; r++) {
            for (int b = 0; b < quads; b += 4) row4(w, r * cols, cols, x[b], x[b + 1], x[b + 2], x[b + 3], out, b, r);
            for (int b = quads; b < nb; b++) {
                out[b][r] = streaming ? dot(w, r * cols, x[b], 0, cols) : row1(w, r * cols, cols, x[b]);
            }
        }
    }

    /**
     * Batch-1 streaming rows, {@code out[r] = dot(row r, x)} for r in [r0, r1): the same per-row arithmetic as the
     * general loop's, with the vector and output arrays held in locals. Reached through {@code x[b]} and {@code
     * out[b]} inside the row loop they are loaded and bounds-checked again row after row: the int8 kernel ran at 11.6
     * multiply-adds/ns that way and at 15.1 this way (one thread, a 1024 × 384 matrix in cache, session 9).
     */
    private void streamRows(float[] w, int cols, float[] x, float[] out, int r0, int r1) {
        for (int r = r0; r < r1; r++) out[r] = dot(w, r * cols, x, 0, cols);
    }

    /** One weight row against one vector. */
    private static float row1(float[] w, int off, int cols, float[] x) {
        FloatVector a = FloatVector.zero(F);
        int c = 0;
        for (; c + L <= cols; c += L) a = FloatVector.fromArray(F, w, off + c).fma(FloatVector.fromArray(F, x, c), a);
        float s = sum(a);
        for (; c < cols; c++) s += w[off + c] * x[c];
        return s;
    }

    /**
     * Rows [r, r + 4) against one vector (batch-1 decode): each activation vector is loaded once for four rows, and
     * the four independent FMA chains keep the FMA units busy where one row's chain would wait on itself.
     */
    private static void rows4(float[] w, int cols, float[] x, float[] out, int r) {
        int o0 = r * cols, o1 = o0 + cols, o2 = o1 + cols, o3 = o2 + cols;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F),
                a3 = FloatVector.zero(F);
        int c = 0;
        for (; c + L <= cols; c += L) {
            FloatVector xv = FloatVector.fromArray(F, x, c);
            a0 = FloatVector.fromArray(F, w, o0 + c).fma(xv, a0);
            a1 = FloatVector.fromArray(F, w, o1 + c).fma(xv, a1);
            a2 = FloatVector.fromArray(F, w, o2 + c).fma(xv, a2);
            a3 = FloatVector.fromArray(F, w, o3 + c).fma(xv, a3);
        }
        float s0 = sum(a0), s1 = sum(a1);
        float s2 = sum(a2), s3 = sum(a3);
        for (; c < cols; c++) {
            float xc = x[c];
            s0 += w[o0 + c] * xc;
            s1 += w[o1 + c] * xc;
            s2 += w[o2 + c] * xc;
            s3 += w[o3 + c] * xc;
        }
        out[r] = s0;
        out[r + 1] = s1;
        out[r + 2] = s2;
        out[r + 3] = s3;
    }

    /** Lanes j with bit k set, for k = 8, 4, 2, 1: which input a level of {@link #merge} takes lane j from. */
    private static final jdk.incubator.vector.VectorMask<Float>[] HIGH = buildHigh();

    @SuppressWarnings("unchecked")
    private static jdk.incubator.vector.VectorMask<Float>[] buildHigh() {
        jdk.incubator.vector.VectorMask<Float>[] out = new jdk.incubator.vector.VectorMask[BUTTERFLY.length];
        for (int s = 0, k = L / 2; k >= 1; s++, k /= 2) {
            boolean[] bits = new boolean[L];
            for (int j = 0; j < L; j++) bits[j] = (j & k) != 0;
            out[s] = jdk.incubator.vector.VectorMask.fromArray(F, bits, 0);
        }
        return out;
    }

    /**
     * One level s (k = L / 2^(s+1)) of {@link #sum}'s butterfly for two accumulators at once: lane j of the result is
     * p[j] + p[j^k] where bit k of j is clear and q[j] + q[j^k] where it is set, so each half-level keeps the partial
     * sums of both, in {@link #sum}'s order (float addition commutes exactly).
     */
    private static FloatVector merge(FloatVector p, FloatVector q, int s) {
        jdk.incubator.vector.VectorMask<Float> high = HIGH[s];
        return p.blend(q, high).add(q.blend(p, high).rearrange(BUTTERFLY[s]));
    }

    /**
     * Sixteen dot products at once, for 16-lane vectors (AVX-512): {@code out[at + i] = Σ_c w[o + i·stride + c] ·
     * x[xo + c]} for i in [0, 16), c in [0, cols). Sixteen FMA chains, then their sixteen horizontal sums done together:
     * four levels of {@link #merge} leave sum i in lane i, stored with one write. Each sum is the same bits as {@link
     * #sum} of its chain plus the scalar tail in column order (the tree is {@link #sum}'s), so weight rows taken here
     * agree with {@link #rows4} and {@link #row4} bit for bit. It costs 15 merges where sixteen separate sums cost 64
     * shuffles and adds, which is most of the work for rows of a few vectors (the demo student's 96 columns, an
     * attention head's 32). The chains run four at a time ({@link #quad}, whose two merge levels leave a vector in
     * {@code scratch[0, 4L)}): one method holding all sixteen exceeds what the JIT inlines, and a vector op left as a
     * call allocates.
     */
    private static void dot16(float[] w, int o, int stride, int cols, float[] x, int xo, float[] out, int at,
                              float[] scratch) {
        // the first two levels pair sum i with i + 8, then with i + 4: quad j holds sums j, j + 4, j + 8, j + 12
        for (int j = 0; j < 4; j++) quad(w, cols, x, xo, o + j * stride, o + (j + 8) * stride, o + (j + 4) * stride,
                o + (j + 12) * stride, scratch, j * L);
        FloatVector d0 = merge(FloatVector.fromArray(F, scratch, 0), FloatVector.fromArray(F, scratch, 2 * L), 2);
        FloatVector d1 = merge(FloatVector.fromArray(F, scratch, L), FloatVector.fromArray(F, scratch, 3 * L), 2);
        merge(d0, d1, 3).intoArray(out, at);
        for (int c = cols / L * L; c < cols; c++) {
            float xc = x[xo + c];
            for (int i = 0; i < 16; i++) out[at + i] += w[o + i * stride + c] * xc;
        }
    }

    /**
     * Four FMA chains of the rows at o0, o1, o2, o3 (sums i, i + 8, i + 4, i + 12 of a {@link #dot16}) and the first
     * two levels of their sums: {@code merge(merge(a0, a1, 0), merge(a2, a3, 0), 1)} into {@code scratch[at, at + L)}.
     */
    private static void quad(float[] w, int cols, float[] x, int xo, int o0, int o1, int o2, int o3, float[] scratch,
                             int at) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int c = 0; c + L <= cols; c += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xo + c);
            a0 = FloatVector.fromArray(F, w, o0 + c).fma(xv, a0);
            a1 = FloatVector.fromArray(F, w, o1 + c).fma(xv, a1);
            a2 = FloatVector.fromArray(F, w, o2 + c).fma(xv, a2);
            a3 = FloatVector.fromArray(F, w, o3 + c).fma(xv, a3);
        }
        merge(merge(a0, a1, 0), merge(a2, a3, 0), 1).intoArray(scratch, at);
    }

    /**
     * Sixteen key positions at a time with {@link #dot16} (vectors of 16 lanes), the rest one by one with {@link
     * #dot}; then the scale. An attention head's dot products are a few vectors long (32 or 64 floats), so their
     * horizontal sums are most of the work, and sixteen of them share one.
     */
    @Override
    void scores(float[] q, int qo, float[] keys, int ko, int stride, int n, int hd, float scale, float[] out) {
        int j = 0;
        if (L == 16 && n >= 16) {
            float[] scratch = new float[4 * L];
            for (; j + 16 <= n; j += 16) dot16(keys, ko + j * stride, stride, hd, q, qo, out, j, scratch);
        }
        for (; j < n; j++) out[j] = dot(q, qo, keys, ko + j * stride, hd);
        FloatVector sv = FloatVector.broadcast(F, scale);
        int i = 0;
        for (; i + L <= n; i += L) FloatVector.fromArray(F, out, i).mul(sv).intoArray(out, i);
        for (; i < n; i++) out[i] *= scale;
    }

    /**
     * Each block of L output columns is summed in registers over all positions (two chains, even and odd positions,
     * so consecutive fused multiply-adds do not wait on each other) and written once, instead of one axpy per
     * position reading and writing the output.
     */
    @Override
    void mix(float[] p, int n, float scale, float[] v, int vo, int stride, int hd, float[] out, int oo) {
        int c = 0;
        for (; c + L <= hd; c += L) {
            FloatVector e = FloatVector.zero(F), o = FloatVector.zero(F);
            int j = 0;
            for (; j + 2 <= n; j += 2) {
                e = FloatVector.fromArray(F, v, vo + j * stride + c).fma(FloatVector.broadcast(F, p[j]), e);
                o = FloatVector.fromArray(F, v, vo + (j + 1) * stride + c).fma(FloatVector.broadcast(F, p[j + 1]), o);
            }
            if (j < n) e = FloatVector.fromArray(F, v, vo + j * stride + c).fma(FloatVector.broadcast(F, p[j]), e);
            e.add(o).mul(scale).intoArray(out, oo + c);
        }
        for (; c < hd; c++) {
            float s = 0;
            for (int j = 0; j < n; j++) s += p[j] * v[vo + j * stride + c];
            out[oo + c] = s * scale;
        }
    }

    /**
     * exp(x − max) by the polynomial {@link #exp(FloatVector)} (the same bits in every JIT tier), summed lane-wise
     * then by {@link #sum}, the tail in index order.
     */
    @Override
    float expShifted(float[] x, int n, float max) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector e = exp(FloatVector.fromArray(F, x, i).sub(max));
            e.intoArray(x, i);
            acc = acc.add(e);
        }
        float s = sum(acc);
        for (; i < n; i++) {
            float e = exp(x[i] - max);
            x[i] = e;
            s += e;
        }
        return s;
    }

    /**
     * silu(g)·u with σ(g) from e = exp(−|g|) ≤ 1 (no overflow): σ = 1 / (1 + e) for g ≥ 0, e / (1 + e) below.
     */
    @Override
    void siluMul(float[] g, float[] u, int from, int to) {
        FloatVector one = FloatVector.broadcast(F, 1f);
        int j = from;
        for (; j + L <= to; j += L) {
            FloatVector gv = FloatVector.fromArray(F, g, j);
            FloatVector e = exp(gv.abs().neg());
            FloatVector sig = one.blend(e, gv.compare(VectorOperators.LT, 0f)).div(one.add(e));
            gv.mul(sig).mul(FloatVector.fromArray(F, u, j)).intoArray(g, j);
        }
        for (; j < to; j++) {
            float e = exp(-Math.abs(g[j]));
            g[j] = g[j] * ((g[j] < 0 ? e : 1f) / (1f + e)) * u[j];
        }
    }

    /** One weight row against four vectors: each weight vector is loaded once for four FMAs. */
    private static void row4(float[] w, int off, int cols, float[] x0, float[] x1, float[] x2, float[] x3,
                             float[][] out, int b, int r) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F),
                a3 = FloatVector.zero(F);
        int c = 0;
        for (; c + L <= cols; c += L) {
            FloatVector wv = FloatVector.fromArray(F, w, off + c);
            a0 = wv.fma(FloatVector.fromArray(F, x0, c), a0);
            a1 = wv.fma(FloatVector.fromArray(F, x1, c), a1);
            a2 = wv.fma(FloatVector.fromArray(F, x2, c), a2);
            a3 = wv.fma(FloatVector.fromArray(F, x3, c), a3);
        }
        float s0 = sum(a0), s1 = sum(a1);
        float s2 = sum(a2), s3 = sum(a3);
        for (; c < cols; c++) {
            float wc = w[off + c];
            s0 += wc * x0[c];
            s1 += wc * x1[c];
            s2 += wc * x2[c];
            s3 += wc * x3[c];
        }
        out[b][r] = s0;
        out[b + 1][r] = s1;
        out[b + 2][r] = s2;
        out[b + 3][r] = s3;
    }

    @Override
    void matmulQ8(byte[] q, float[] scale, int cols, float[][] x, float[][] out, int r0, int r1) {
        matmulQ8(q, scale, cols, x, out, r0, r1, false);
    }

    /**
     * As {@link #matmul}: in cache every path computes an output as one chain of per-block FMAs, {@link #sum}, the
     * tail, four rows per pass at batch 1; streaming weights go row by row at batch 1 with two running totals
     * ({@link #q8row1}), for the same reasons as F32's.
     */
    @Override
    void matmulQ8(byte[] q, float[] scale, int cols, float[][] x, float[][] out, int r0, int r1, boolean streaming) {
        if (B8 == null) {
            SCALAR.matmulQ8(q, scale, cols, x, out, r0, r1);
            return;
        }
        int blocks = blocks(cols);
        int full = cols / BLOCK;
        int nb = x.length;
        if (streaming && nb == 1) {
            q8streamRows(q, scale, cols, blocks, full, x[0], out[0], r0, r1);
            return;
        }
        int pairs = nb / 2 * 2;
        int r = r0;
        if (L == 16 && pairs < nb && !streaming) {
            float[] scratch = r + 16 <= r1 ? new float[4 * L] : null;
            for (; r + 16 <= r1; r += 16) {
                for (int rr = r; rr < r + 16; rr++) {
                    for (int b = 0; b < pairs; b += 2) q8row2(q, scale, cols, blocks, full, x[b], x[b + 1], out, b, rr);
                }
                q8dot16(q, scale, cols, blocks, full, x[nb - 1], out[nb - 1], r, scratch);
            }
        }
        for (; r + 4 <= r1 && (!streaming || pairs == nb); r += 4) {
            for (int rr = r; rr < r + 4; rr++) {
                for (int b = 0; b < pairs; b += 2) q8row2(q, scale, cols, blocks, full, x[b], x[b + 1], out, b, rr);
            }
            for (int b = pairs; b < nb; b++) q8rows4(q, scale, cols, blocks, full, x[b], out[b], r);
        }
        for (; r < r1; r++) {
            for (int b = 0; b < pairs; b += 2) q8row2(q, scale, cols, blocks, full, x[b], x[b + 1], out, b, r);
            for (int b = pairs; b < nb; b++) {
                int off = r * cols, so = r * blocks;
                if (streaming) {
                    out[b][r] = q8row1(q, scale, off, so, full, cols, x[b]);
                    continue;
                }
                FloatVector t = FloatVector.zero(F);
                for (int k = 0; k < full; k++) {
                    t = block(q, off, x[b], k * BLOCK).fma(FloatVector.broadcast(F, scale[so + k]), t);
                }
                out[b][r] = sum(t) + tail(q, scale, off, so, full, cols, x[b]);
            }
        }
    }

    /** Batch-1 streaming int8 rows, as {@link #streamRows} for F32: the general loop's arithmetic, arrays in locals. */
    private static void q8streamRows(byte[] q, float[] scale, int cols, int blocks, int full, float[] x, float[] out,
                                     int r0, int r1) {
        for (int r = r0; r < r1; r++) out[r] = q8row1(q, scale, r * cols, r * blocks, full, cols, x);
    }

    /** One int8 row against one vector, two running totals: each block's sum waits only on its own FMAs. */
    private static float q8row1(byte[] q, float[] scale, int off, int so, int full, int cols, float[] x) {
        FloatVector t0 = FloatVector.zero(F), t1 = FloatVector.zero(F);
        int k = 0;
        for (; k + 2 <= full; k += 2) {
            t0 = block(q, off, x, k * BLOCK).fma(FloatVector.broadcast(F, scale[so + k]), t0);
            t1 = block(q, off, x, (k + 1) * BLOCK).fma(FloatVector.broadcast(F, scale[so + k + 1]), t1);
        }
        for (; k < full; k++) t0 = block(q, off, x, k * BLOCK).fma(FloatVector.broadcast(F, scale[so + k]), t0);
        return sum(t0.add(t1)) + tail(q, scale, off, so, full, cols, x);
    }

    /** One int8 row against two vectors: each block's bytes are widened once for both. */
    private static void q8row2(byte[] q, float[] scale, int cols, int blocks, int full, float[] x0, float[] x1,
                               float[][] out, int b, int r) {
        int off = r * cols;
        int so = r * blocks;
        FloatVector t0 = FloatVector.zero(F), t1 = FloatVector.zero(F);
        for (int k = 0; k < full; k++) {
            int c0 = k * BLOCK;
            FloatVector p0 = FloatVector.zero(F), p1 = FloatVector.zero(F);
            for (int j = 0; j < BLOCK; j += L) {
                FloatVector wv = widen(q, off + c0 + j);
                p0 = wv.fma(FloatVector.fromArray(F, x0, c0 + j), p0);
                p1 = wv.fma(FloatVector.fromArray(F, x1, c0 + j), p1);
            }
            FloatVector s = FloatVector.broadcast(F, scale[so + k]);
            t0 = p0.fma(s, t0);
            t1 = p1.fma(s, t1);
        }
        out[b][r] = sum(t0) + tail(q, scale, off, so, full, cols, x0);
        out[b + 1][r] = sum(t1) + tail(q, scale, off, so, full, cols, x1);
    }

    /** Four int8 rows against one vector (batch-1 decode): the activations are loaded once per block for all four. */
    private static void q8rows4(byte[] q, float[] scale, int cols, int blocks, int full, float[] x, float[] out, int r) {
        int o0 = r * cols, o1 = o0 + cols, o2 = o1 + cols, o3 = o2 + cols;
        int s0 = r * blocks, s1 = s0 + blocks, s2 = s1 + blocks, s3 = s2 + blocks;
        FloatVector t0 = FloatVector.zero(F), t1 = FloatVector.zero(F), t2 = FloatVector.zero(F),
                t3 = FloatVector.zero(F);
        for (int k = 0; k < full; k++) {
            int c0 = k * BLOCK;
            FloatVector p0 = FloatVector.zero(F), p1 = FloatVector.zero(F), p2 = FloatVector.zero(F),
                    p3 = FloatVector.zero(F);
            for (int j = 0; j < BLOCK; j += L) {
                FloatVector xv = FloatVector.fromArray(F, x, c0 + j);
                p0 = widen(q, o0 + c0 + j).fma(xv, p0);
                p1 = widen(q, o1 + c0 + j).fma(xv, p1);
                p2 = widen(q, o2 + c0 + j).fma(xv, p2);
                p3 = widen(q, o3 + c0 + j).fma(xv, p3);
            }
            t0 = p0.fma(FloatVector.broadcast(F, scale[s0 + k]), t0);
            t1 = p1.fma(FloatVector.broadcast(F, scale[s1 + k]), t1);
            t2 = p2.fma(FloatVector.broadcast(F, scale[s2 + k]), t2);
            t3 = p3.fma(FloatVector.broadcast(F, scale[s3 + k]), t3);
        }
        out[r] = sum(t0) + tail(q, scale, o0, s0, full, cols, x);
        out[r + 1] = sum(t1) + tail(q, scale, o1, s1, full, cols, x);
        out[r + 2] = sum(t2) + tail(q, scale, o2, s2, full, cols, x);
        out[r + 3] = sum(t3) + tail(q, scale, o3, s3, full, cols, x);
    }

    /**
     * Sixteen int8 rows [r, r + 16) against one vector, as {@link #dot16} for F32: four rows at a time ({@link
     * #q8quad}) with the first two levels of their sums merged, then the last two, one store, then each row's shorter
     * last block: the same bits as {@link #q8rows4}'s {@code sum(t) + tail}.
     */
    private static void q8dot16(byte[] q, float[] scale, int cols, int blocks, int full, float[] x, float[] out, int r,
                                float[] scratch) {
        for (int j = 0; j < 4; j++) q8quad(q, scale, cols, blocks, full, x, r + j, r + j + 8, r + j + 4, r + j + 12,
                scratch, j * L);
        FloatVector d0 = merge(FloatVector.fromArray(F, scratch, 0), FloatVector.fromArray(F, scratch, 2 * L), 2);
        FloatVector d1 = merge(FloatVector.fromArray(F, scratch, L), FloatVector.fromArray(F, scratch, 3 * L), 2);
        merge(d0, d1, 3).intoArray(out, r);
        if (full * BLOCK < cols) {
            for (int i = 0; i < 16; i++) out[r + i] += tail(q, scale, (r + i) * cols, (r + i) * blocks, full, cols, x);
        }
    }

    /**
     * Rows r0..r3's per-block chains as in {@link #q8rows4}, merged two levels into {@code scratch[at, at + L)}. The
     * loop repeats {@link #q8rows4}'s on purpose: sharing it (the chains left in scratch for either to sum or merge)
     * made both paths 1.3–1.6× slower in a one-thread A/B, the vectors going through memory and the merges past
     * what C2 inlines.
     */
    private static void q8quad(byte[] q, float[] scale, int cols, int blocks, int full, float[] x, int r0, int r1,
                               int r2, int r3, float[] scratch, int at) {
        int o0 = r0 * cols, o1 = r1 * cols, o2 = r2 * cols, o3 = r3 * cols;
        int s0 = r0 * blocks, s1 = r1 * blocks, s2 = r2 * blocks, s3 = r3 * blocks;
        FloatVector t0 = FloatVector.zero(F), t1 = t0, t2 = t0, t3 = t0;
        for (int k = 0; k < full; k++) {
            int c0 = k * BLOCK;
            FloatVector p0 = FloatVector.zero(F), p1 = p0, p2 = p0, p3 = p0;
            for (int j = 0; j < BLOCK; j += L) {
                FloatVector xv = FloatVector.fromArray(F, x, c0 + j);
                p0 = widen(q, o0 + c0 + j).fma(xv, p0);
                p1 = widen(q, o1 + c0 + j).fma(xv, p1);
                p2 = widen(q, o2 + c0 + j).fma(xv, p2);
                p3 = widen(q, o3 + c0 + j).fma(xv, p3);
            }
            t0 = p0.fma(FloatVector.broadcast(F, scale[s0 + k]), t0);
            t1 = p1.fma(FloatVector.broadcast(F, scale[s1 + k]), t1);
            t2 = p2.fma(FloatVector.broadcast(F, scale[s2 + k]), t2);
            t3 = p3.fma(FloatVector.broadcast(F, scale[s3 + k]), t3);
        }
        merge(merge(t0, t1, 0), merge(t2, t3, 0), 1).intoArray(scratch, at);
    }

    /** Σ over one full block of q·x, per lane. */
    private static FloatVector block(byte[] q, int off, float[] x, int c0) {
        FloatVector p = FloatVector.zero(F);
        for (int j = 0; j < BLOCK; j += L) p = widen(q, off + c0 + j).fma(FloatVector.fromArray(F, x, c0 + j), p);
        return p;
    }

    private static FloatVector widen(byte[] q, int at) {
        return (FloatVector) ByteVector.fromArray(B8, q, at).convertShape(VectorOperators.B2F, F, 0);
    }

    /** The last, shorter block of a row whose length is not a multiple of 32 (0 when there is none). */
    private static float tail(byte[] q, float[] scale, int off, int so, int full, int cols, float[] x) {
        int c0 = full * BLOCK;
        if (c0 == cols) return 0;
        float sum = 0;
        for (int c = c0; c < cols; c++) sum += q[off + c] * x[c];
        return sum * scale[so + full];
    }

    // exp(d) for d ≤ 0 by Cody–Waite reduction, d = k·ln 2 + r with |r| ≤ ln 2 / 2, and exp(r) by its Taylor
    // polynomial of degree 6 (relative error ≤ 1.2e-7 there): only adds, multiplies, fused multiply-adds and exact
    // conversions, each correctly rounded in interpreted and in compiled code. The Vector API's EXP is an intrinsic
    // in compiled code but Math.exp lane by lane in the interpreter, which may round otherwise: a logprob would
    // change its last bits when the JIT compiles the loop.
    private static final float LOG2E = 1.44269504f;
    private static final float NEG_LN2_HI = -0.693145751953125f;     // ln 2 split so that k·LN2_HI is exact
    private static final float NEG_LN2_LO = -1.42860677e-6f;
    private static final float ROUND = 12582912f;                   // 1.5·2²³: (x + ROUND) − ROUND rounds x
    private static final float FLOOR = -87f;                        // exp(−87) ≈ 1.6e−38: k stays ≥ −126 (normal)
    private static final float C2 = 0.5f, C3 = 1f / 6, C4 = 1f / 24, C5 = 1f / 120, C6 = 1f / 720;

    /**
     * The vector max, then exp(x − max) in float lanes with the exp above, summed in double lanes; several times the
     * double loop of {@link ScalarKernels} on a 768-token vocabulary, equal to it within 1e-6 relative in the sum.
     * Rows with NaN or ±∞ as their maximum take the scalar path (its answers).
     */
    @Override
    double logSumExp(float[] x, int n) {
        int i = 0;
        FloatVector mv = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (; i + L <= n; i += L) mv = mv.max(FloatVector.fromArray(F, x, i));
        float max = mv.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) max = Math.max(max, x[i]);
        if (!(max > Float.NEGATIVE_INFINITY && max < Float.POSITIVE_INFINITY)) return SCALAR.logSumExp(x, n);
        // the terms summed in double lanes (a float sum of 150,000 terms would lose digits), the lanes in index order
        DoubleVector lo = DoubleVector.zero(D), hi = DoubleVector.zero(D);
        for (i = 0; i + L <= n; i += L) {
            FloatVector e = exp(FloatVector.fromArray(F, x, i).sub(max));
            lo = lo.add(e.convertShape(VectorOperators.F2D, D, 0));
            hi = hi.add(e.convertShape(VectorOperators.F2D, D, 1));
        }
        double sum = 0;
        for (double v : lo.add(hi).toArray()) sum += v;
        for (; i < n; i++) sum += exp(x[i] - max);
        return max + Math.log(sum);
    }

    private static FloatVector exp(FloatVector d) {
        d = d.max(FLOOR);
        FloatVector k = d.fma(LOG2E, ROUND).sub(ROUND);
        FloatVector r = k.mul(NEG_LN2_HI).add(d);       // k·LN2_HI is exact: LN2_HI has 16 significant bits
        r = k.fma(FloatVector.broadcast(F, NEG_LN2_LO), r);
        FloatVector one = FloatVector.broadcast(F, 1f);
        FloatVector p = FloatVector.broadcast(F, C6).fma(r, FloatVector.broadcast(F, C5))
                .fma(r, FloatVector.broadcast(F, C4)).fma(r, FloatVector.broadcast(F, C3))
                .fma(r, FloatVector.broadcast(F, C2)).fma(r, one).fma(r, one);
        IntVector bits = ((IntVector) k.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        return p.mul(bits.reinterpretAsFloats());
    }

    /** The same exp for one value, for the tail of a row. */
    private static float exp(float d) {
        d = Math.max(d, FLOOR);
        float k = Math.fma(d, LOG2E, ROUND) - ROUND;
        float r = k * NEG_LN2_HI + d;
        r = Math.fma(k, NEG_LN2_LO, r);
        float p = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(C6, r, C5), r, C4), r, C3), r, C2), r, 1f),
                r, 1f);
        return p * Float.intBitsToFloat(((int) k + 127) << 23);
    }

    @Override
    String describe() { return "vector (" + F.vectorBitSize() + "-bit)"; }
}
