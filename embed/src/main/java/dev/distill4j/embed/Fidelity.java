package dev.distill4j.embed;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Comparator;

/**
 * Label-free agreement between a teacher's and a student's embeddings of the same sentences: do they rank
 * sentence pairs alike (Spearman of pairwise cosines), find the same neighbours (recall@k), and share the
 * geometry of the set (linear CKA)?
 */
public final class Fidelity {
    private Fidelity() {}

    /** Spearman's ρ: Pearson correlation of the ranks, ties given their average rank. */
    public static double spearman(double[] a, double[] b) {
        if (a.length != b.length) throw new IllegalArgumentException("lengths differ: " + a.length + " vs " + b.length);
        return pearson(ranks(a), ranks(b));
    }

    public static double pearson(double[] a, double[] b) {
        int n = a.length;
        double ma = 0, mb = 0;
        for (int i = 0; i < n; i++) { ma += a[i]; mb += b[i]; }
        ma /= n;
        mb /= n;
        double sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < n; i++) {
            double da = a[i] - ma, db = b[i] - mb;
            sab += da * db;
            saa += da * da;
            sbb += db * db;
        }
        return saa == 0 || sbb == 0 ? 0 : sab / Math.sqrt(saa * sbb);
    }

    /** 1-based ranks, ties averaged. */
    static double[] ranks(double[] x) {
        Integer[] order = new Integer[x.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingDouble(i -> x[i]));
        double[] r = new double[x.length];
        for (int i = 0; i < order.length; ) {
            int j = i;
            while (j + 1 < order.length && x[order[j + 1]] == x[order[i]]) j++;
            double avg = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) r[order[k]] = avg;
            i = j + 1;
        }
        return r;
    }

    /** The cosines of all pairs i &lt; j, in a fixed order. */
    public static double[] pairwiseCosines(float[][] v) {
        int n = v.length;
        double[] out = new double[n * (n - 1) / 2];
        int p = 0;
        for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) out[p++] = Vectors.cosine(v[i], v[j]);
        return out;
    }

    /** Spearman between the teacher's and the student's pairwise cosine similarities. */
    public static double similaritySpearman(float[][] teacher, float[][] student) {
        return spearman(pairwiseCosines(teacher), pairwiseCosines(student));
    }

    /**
     * Mean over sentences of |teacher's k nearest ∩ student's k nearest| / k (the sentence itself excluded; ties
     * broken by index so the result is deterministic).
     */
    public static double recallAtK(float[][] teacher, float[][] student, int k) {
        return recallCurve(teacher, student, k)[k - 1];
    }

    /**
     * recall@1 … recall@maxK in one pass: each sentence's neighbours are ranked once, and recall@k compares the
     * first k of the teacher's list with the first k of the student's.
     */
    public static double[] recallCurve(float[][] teacher, float[][] student, int maxK) {
        int n = teacher.length;
        if (n != student.length) throw new IllegalArgumentException("teacher has " + n + " vectors, student " + student.length);
        if (maxK < 1 || maxK > n - 1) throw new IllegalArgumentException("recall@" + maxK + " needs more than " + maxK + " sentences, got " + n);
        double[] sum = new double[maxK];
        int[] seenBy = new int[n];  // 1 = in the teacher's first k, 2 = in the student's, 3 = both
        for (int i = 0; i < n; i++) {
            int[] t = nearest(teacher, i, maxK), s = nearest(student, i, maxK);
            Arrays.fill(seenBy, 0);
            int hit = 0;
            for (int k = 0; k < maxK; k++) {
                // growing both lists by one adds a shared neighbour when either new entry was already in the other list
                if ((seenBy[t[k]] |= 1) == 3) hit++;
                if ((seenBy[s[k]] |= 2) == 3) hit++;
                sum[k] += (double) hit / (k + 1);
            }
        }
        for (int k = 0; k < maxK; k++) sum[k] /= n;
        return sum;
    }

    /** Every {@value #QUERY_EVERY}th sentence of an evaluation set is a query for {@link #ndcgAtK}; the rest are documents. */
    public static final int QUERY_EVERY = 5;

    /**
     * nDCG@k of the student's retrieval against the teacher's ranking, on a query/document split of one sentence
     * set: sentences {@code i % 5 == 0} are queries, the others the documents searched. The teacher's ranking is
     * the ground truth, with graded gains: the teacher's r-th nearest document (r = 1..k) has relevance
     * {@code k + 1 − r}, every other document 0. For each query the student ranks all documents by cosine;
     *
     * <pre>
     *   DCG@k  = Σ_{i=1..k} rel(student's i-th document) / log2(i + 1)
     *   nDCG@k = DCG@k / IDCG@k        IDCG: the teacher's own order (rel k, k−1, …, 1)
     * </pre>
     *
     * averaged over queries. 1 = the student returns the teacher's top k in the teacher's order; unlike recall@k
     * it weighs the top of the list most, which is what a search user sees.
     */
    public static double ndcgAtK(float[][] teacher, float[][] student, int k) {
        int n = teacher.length;
        if (n != student.length) throw new IllegalArgumentException("teacher has " + n + " vectors, student " + student.length);
        List<Integer> queries = new ArrayList<>(), docs = new ArrayList<>();
        for (int i = 0; i < n; i++) (i % QUERY_EVERY == 0 ? queries : docs).add(i);
        if (k < 1 || docs.size() < k || queries.isEmpty()) {
            throw new IllegalArgumentException("nDCG@" + k + " needs at least " + (k + 1) + " documents and a query; "
                    + n + " sentences give " + queries.size() + " queries and " + docs.size() + " documents");
        }
        double idcg = 0;
        for (int i = 1; i <= k; i++) idcg += (k + 1 - i) / log2(i + 1);
        double sum = 0;
        double[] rel = new double[n];
        for (int q : queries) {
            int[] t = topDocuments(teacher, q, docs, k), s = topDocuments(student, q, docs, k);
            Arrays.fill(rel, 0);
            for (int r = 0; r < k; r++) rel[t[r]] = k - r;
            double dcg = 0;
            for (int i = 0; i < k; i++) dcg += rel[s[i]] / log2(i + 2);
            sum += dcg / idcg;
        }
        return sum / queries.size();
    }

    private static double log2(double x) { return Math.log(x) / Math.log(2); }

    /** The {@code k} documents nearest to {@code q} by cosine, ties broken by index. */
    static int[] topDocuments(float[][] v, int q, List<Integer> docs, int k) {
        double[] sim = new double[v.length];
        Integer[] order = docs.toArray(new Integer[0]);
        for (int d : order) sim[d] = Vectors.cosine(v[q], v[d]);
        Arrays.sort(order, (a, b) -> sim[a] != sim[b] ? Double.compare(sim[b], sim[a]) : Integer.compare(a, b));
        int[] out = new int[k];
        for (int j = 0; j < k; j++) out[j] = order[j];
        return out;
    }

    static int[] nearest(float[][] v, int i, int k) {
        int n = v.length;
        double[] sim = new double[n];
        Integer[] order = new Integer[n - 1];
        int p = 0;
        for (int j = 0; j < n; j++) {
            if (j == i) continue;
            sim[j] = Vectors.cosine(v[i], v[j]);
            order[p++] = j;
        }
        Arrays.sort(order, (a, b) -> sim[a] != sim[b] ? Double.compare(sim[b], sim[a]) : Integer.compare(a, b));
        int[] out = new int[k];
        for (int j = 0; j < k; j++) out[j] = order[j];
        return out;
    }

    /**
     * Linear CKA (Kornblith et al. 2019) of X [n, d1] and Y [n, d2] with columns centred:
     * {@code ‖YᵀX‖²_F / (‖XᵀX‖_F · ‖YᵀY‖_F)}; invariant to rotation and scale, so dimensions may differ.
     */
    public static double linearCka(float[][] x, float[][] y) {
        if (x.length != y.length) throw new IllegalArgumentException("X has " + x.length + " rows, Y " + y.length);
        double[][] xc = centred(x), yc = centred(y);
        double xy = frobeniusSquared(crossProduct(yc, xc));
        double xx = Math.sqrt(frobeniusSquared(crossProduct(xc, xc)));
        double yy = Math.sqrt(frobeniusSquared(crossProduct(yc, yc)));
        return xx == 0 || yy == 0 ? 0 : xy / (xx * yy);
    }

    private static double[][] centred(float[][] x) {
        int n = x.length, d = x[0].length;
        double[] mean = new double[d];
        for (float[] r : x) for (int j = 0; j < d; j++) mean[j] += r[j];
        for (int j = 0; j < d; j++) mean[j] /= n;
        double[][] c = new double[n][d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) c[i][j] = x[i][j] - mean[j];
        return c;
    }

    /** Aᵀ·B for A [n, p], B [n, q]. */
    private static double[][] crossProduct(double[][] a, double[][] b) {
        int n = a.length, p = a[0].length, q = b[0].length;
        double[][] out = new double[p][q];
        for (int i = 0; i < n; i++) {
            double[] ai = a[i], bi = b[i];
            for (int r = 0; r < p; r++) {
                double v = ai[r];
                if (v == 0) continue;
                double[] row = out[r];
                for (int c = 0; c < q; c++) row[c] += v * bi[c];
            }
        }
        return out;
    }

    private static double frobeniusSquared(double[][] m) {
        double s = 0;
        for (double[] r : m) for (double v : r) s += v * v;
        return s;
    }
}
