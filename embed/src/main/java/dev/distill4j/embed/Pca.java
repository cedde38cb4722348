package dev.distill4j.embed;

import java.util.Arrays;
import java.util.Comparator;

/**
 * Principal component analysis in plain Java: the covariance of the centred rows, its eigen decomposition by
 * cyclic Jacobi rotations (exact to rounding for the few hundred dimensions of an encoder), and projection onto
 * the leading eigenvectors.
 */
public final class Pca {
    /** {@code components[k]} is the k-th principal axis (unit length), by decreasing {@code variances[k]}. */
    public record Fit(double[] mean, double[][] components, double[] variances, double totalVariance) {
        /** The share of the variance the kept components explain. */
        public double explained() {
            double kept = 0;
            for (double v : variances) kept += v;
            return totalVariance == 0 ? 0 : kept / totalVariance;
        }

        public float[] project(float[] x) {
            float[] y = new float[components.length];
            for (int k = 0; k < components.length; k++) {
                double s = 0;
                double[] c = components[k];
                for (int i = 0; i < c.length; i++) s += (x[i] - mean[i]) * c[i];
                y[k] = (float) s;
            }
            return y;
        }
    }

    /** Eigenvalues (descending) and matching eigenvectors ({@code vectors[k]} pairs with {@code values[k]}). */
    public record Eigen(double[] values, double[][] vectors) {}

    private Pca() {}

    /** Fits {@code k} components to the non-null rows of {@code x}. */
    public static Fit fit(float[][] x, int k) {
        int d = -1, n = 0;
        for (float[] r : x) if (r != null) { d = r.length; n++; }
        if (n < 2) throw new IllegalArgumentException("PCA needs at least 2 rows, got " + n);
        if (k < 1 || k > d) throw new IllegalArgumentException("PCA to " + k + " dimensions is impossible from " + d);
        double[] mean = new double[d];
        for (float[] r : x) if (r != null) for (int i = 0; i < d; i++) mean[i] += r[i];
        for (int i = 0; i < d; i++) mean[i] /= n;
        double[][] cov = new double[d][d];
        double[] c = new double[d];
        for (float[] r : x) {
            if (r == null) continue;
            for (int i = 0; i < d; i++) c[i] = r[i] - mean[i];
            for (int i = 0; i < d; i++) {
                double ci = c[i];
                double[] row = cov[i];
                for (int j = i; j < d; j++) row[j] += ci * c[j];
            }
        }
        for (int i = 0; i < d; i++) {
            for (int j = i; j < d; j++) {
                cov[i][j] /= n - 1;
                cov[j][i] = cov[i][j];
            }
        }
        double trace = 0;
        for (int i = 0; i < d; i++) trace += cov[i][i];
        Eigen e = symmetricEigen(cov);
        return new Fit(mean, Arrays.copyOf(e.vectors(), k), Arrays.copyOf(e.values(), k), trace);
    }

    /** Cyclic Jacobi: rotate away each off-diagonal entry until the matrix is diagonal to rounding. */
    public static Eigen symmetricEigen(double[][] m) {
        int n = m.length;
        double[][] a = new double[n][];
        for (int i = 0; i < n; i++) a[i] = m[i].clone();
        double[][] v = new double[n][n];
        for (int i = 0; i < n; i++) v[i][i] = 1;
        double scale = 0;
        for (double[] r : a) for (double x : r) scale += x * x;
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = 0;
            for (int p = 0; p < n; p++) for (int q = p + 1; q < n; q++) off += a[p][q] * a[p][q];
            if (off <= 1e-24 * scale || off == 0) break;
            for (int p = 0; p < n - 1; p++) {
                for (int q = p + 1; q < n; q++) {
                    double apq = a[p][q];
                    if (apq == 0) continue;
                    double theta = (a[q][q] - a[p][p]) / (2 * apq);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    if (theta == 0) t = 1;
                    double c = 1 / Math.sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++) {           // A ← A·J (columns p, q)
                        double akp = a[k][p], akq = a[k][q];
                        a[k][p] = c * akp - s * akq;
                        a[k][q] = s * akp + c * akq;
                    }
                    double[] ap = a[p], aq = a[q];           // A ← Jᵀ·A (rows p, q)
                    for (int k = 0; k < n; k++) {
                        double apk = ap[k], aqk = aq[k];
                        ap[k] = c * apk - s * aqk;
                        aq[k] = s * apk + c * aqk;
                    }
                    for (int k = 0; k < n; k++) {           // V ← V·J: columns of V are the eigenvectors
                        double vkp = v[k][p], vkq = v[k][q];
                        v[k][p] = c * vkp - s * vkq;
                        v[k][q] = s * vkp + c * vkq;
                    }
                }
            }
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> a[i][i]).reversed());
        double[] values = new double[n];
        double[][] vectors = new double[n][n];
        for (int r = 0; r < n; r++) {
            int col = order[r];
            values[r] = a[col][col];
            for (int k = 0; k < n; k++) vectors[r][k] = v[k][col];
        }
        return new Eigen(values, vectors);
    }
}
