package dev.distill4j.guard.scan;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;

/**
 * Maximum mean discrepancy between a window of query embeddings and a benign reference pool, and the calibration of
 * its threshold by benign-vs-benign permutation.
 *
 * <p>Kernel: RBF {@code k(x, y) = exp(-|x - y|² / (2 σ²))} on unit-norm embeddings, σ the median pairwise distance
 * in the pool (the median heuristic). Statistic: the unbiased estimate
 * <pre>
 *   MMD²_u(X, R) = Σ_{i≠j} k(x_i, x_j) / (m(m-1)) + Σ_{i≠j} k(r_i, r_j) / (r(r-1)) - 2 Σ_{i,j} k(x_i, r_j) / (m r)
 * </pre>
 * with X the window (m queries) and R the pool less the window's own account's queries. Calibration: draw W, a
 * random m-subset of the pool, and compute MMD²_u(W, pool \ W), {@code B} times; the threshold at a false-positive
 * rate α is the (1 − α) quantile of those null values, and a window's empirical p-value is
 * {@code (1 + #{null ≥ observed}) / (B + 1)}. The pool's kernel matrix is computed once, so a permutation costs
 * O(m²) lookups; thresholds are cached per window size.
 */
public final class Mmd {
    private final float[][] pool;
    private final int p;
    private final float[] k; // p × p kernel matrix, row-major
    private final double[] rowSum; // Σ_{j≠i} k(i, j)
    private final double total; // Σ_{i≠j} k(i, j)
    private final double sigma;
    private final int permutations;
    private final double fpr;
    private final long seed;
    private final ConcurrentHashMap<Integer, double[]> nulls = new ConcurrentHashMap<>();
    private final java.util.Map<float[], Double> poolSums = java.util.Collections.synchronizedMap(
            new java.util.WeakHashMap<>());

    /** A null distribution's summary for one window size. */
    public record Calibration(int windowSize, int permutations, double threshold, double nullMean, double nullSd) {}

    public Mmd(float[][] pool, double fpr, int permutations, long seed) {
        if (pool.length < 4) throw new IllegalArgumentException("the baseline has " + pool.length + " queries; "
                + "at least 4 are needed");
        this.pool = pool;
        this.p = pool.length;
        this.fpr = fpr;
        this.permutations = permutations;
        this.seed = seed;
        this.sigma = medianDistance(pool, seed);
        double gamma = 1 / (2 * sigma * sigma);
        k = new float[p * p];
        IntStream.range(0, p).parallel().forEach(i -> {
            for (int j = 0; j < p; j++) k[i * p + j] = (float) Math.exp(-gamma * sqDist(pool[i], pool[j]));
        });
        rowSum = new double[p];
        double t = 0;
        for (int i = 0; i < p; i++) {
            double s = 0;
            for (int j = 0; j < p; j++) if (j != i) s += k[i * p + j];
            rowSum[i] = s;
            t += s;
        }
        total = t;
    }

    public double sigma() { return sigma; }

    public int poolSize() { return p; }

    /** The largest window the pool can calibrate: half the pool, so a null window and its complement both fit. */
    public int maxWindow() { return p / 2; }

    /**
     * MMD²_u between {@code window} and the pool less the pool indices in {@code exclude} (the tested account's
     * own queries when the pool comes from the same log).
     */
    public double statistic(float[][] window, int[] exclude) {
        boolean[] out = new boolean[p];
        for (int e : exclude) out[e] = true;
        int m = window.length;
        double gamma = 1 / (2 * sigma * sigma);
        double xx = 0;
        for (int i = 0; i < m; i++) {
            for (int j = i + 1; j < m; j++) xx += 2 * Math.exp(-gamma * sqDist(window[i], window[j]));
        }
        double rr = total;
        for (int e : exclude) rr -= 2 * rowSum[e];
        for (int a : exclude) for (int b : exclude) if (a != b) rr += k[a * p + b];
        int r = p - exclude.length;
        double xr = 0;
        for (float[] x : window) {
            xr += poolSum(x, gamma);
            for (int e : exclude) xr -= Math.exp(-gamma * sqDist(x, pool[e]));
        }
        return xx / (m * (m - 1.0)) + rr / (r * (r - 1.0)) - 2 * xr / ((double) m * r);
    }

    /**
     * {@code Σ_j k(x, r_j)} over the whole pool, remembered per vector (by identity, weakly): a query scanned in
     * several windows or entities (an account's and its cluster's, the evaluation harness's windows) costs one pass
     * over the pool, not one per window.
     */
    private double poolSum(float[] x, double gamma) {
        Double cached = poolSums.get(x);
        if (cached != null) return cached;
        double s = 0;
        for (int j = 0; j < p; j++) s += Math.exp(-gamma * sqDist(x, pool[j]));
        poolSums.put(x, s);
        return s;
    }

    /** The threshold at the configured FPR for windows of {@code m} queries. */
    public Calibration calibration(int m) {
        double[] nul = nulls(m);
        double mean = Arrays.stream(nul).average().orElse(0);
        double var = Arrays.stream(nul).map(v -> (v - mean) * (v - mean)).sum() / Math.max(1, nul.length - 1);
        return new Calibration(m, nul.length, quantile(nul, 1 - fpr), mean, Math.sqrt(var));
    }

    /** The empirical p-value of an observed statistic for windows of {@code m} queries. */
    public double pValue(int m, double observed) {
        double[] nul = nulls(m);
        int i = Arrays.binarySearch(nul, observed);
        if (i < 0) i = -i - 1;
        while (i > 0 && nul[i - 1] >= observed) i--;
        return (1.0 + nul.length - i) / (nul.length + 1.0);
    }

    private double[] nulls(int m) {
        if (m < 2 || m > maxWindow()) throw new IllegalArgumentException("window " + m + " outside 2.." + maxWindow());
        return nulls.computeIfAbsent(m, size -> {
            double[] v = IntStream.range(0, permutations).parallel().mapToDouble(b -> {
                SplittableRandom rnd = new SplittableRandom(seed * 1_000_003L + size * 7919L + b);
                return nullDraw(size, rnd);
            }).toArray();
            Arrays.sort(v);
            return v;
        });
    }

    private double nullDraw(int m, SplittableRandom rnd) {
        int[] idx = new int[p];
        for (int i = 0; i < p; i++) idx[i] = i;
        for (int i = 0; i < m; i++) { // partial Fisher-Yates: idx[0..m) is a uniform m-subset
            int j = i + rnd.nextInt(p - i);
            int t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        double ww = 0, rows = 0;
        for (int a = 0; a < m; a++) {
            int ia = idx[a] * p;
            rows += rowSum[idx[a]];
            for (int b = 0; b < m; b++) if (a != b) ww += k[ia + idx[b]];
        }
        double wr = rows - ww;
        double rr = total - 2 * rows + ww;
        int r = p - m;
        return ww / (m * (m - 1.0)) + rr / (r * (r - 1.0)) - 2 * wr / ((double) m * r);
    }

    /** The (q)-quantile of sorted values: the smallest value with at least a q share at or below it. */
    static double quantile(double[] sorted, double q) {
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    static double sqDist(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            double d = a[i] - b[i];
            s += d * d;
        }
        return s;
    }

    /** The median of pairwise distances over (up to 20,000 random) pairs of the pool. */
    static double medianDistance(float[][] pool, long seed) {
        int n = pool.length;
        long pairs = (long) n * (n - 1) / 2;
        double[] d;
        if (pairs <= 20_000) {
            d = new double[(int) pairs];
            int c = 0;
            for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) d[c++] = Math.sqrt(sqDist(pool[i], pool[j]));
        } else {
            SplittableRandom rnd = new SplittableRandom(seed);
            d = new double[20_000];
            for (int c = 0; c < d.length; c++) {
                int i = rnd.nextInt(n), j = rnd.nextInt(n - 1);
                if (j >= i) j++;
                d[c] = Math.sqrt(sqDist(pool[i], pool[j]));
            }
        }
        Arrays.sort(d);
        double med = d[d.length / 2];
        return med > 0 ? med : 1.0; // all copies of one text: any bandwidth gives MMD 0
    }
}
