package dev.distill4j.embed.encoder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.distill4j.model.nn.Scalars;

/**
 * The layers student's training loss: each sentence's vector towards the teacher's, plus the batch's cosine
 * structure towards the teacher's (the quantity the Spearman of pairwise cosines and recall@k score):
 * <pre>
 *   L = (1/B) Σ_b ‖s_b − t_b‖²  +  λ · 1/(B(B−1)) Σ_{i≠j} (s_i·s_j − t_i·t_j)²
 * </pre>
 * with s the student's and t the teacher's unit-norm sentence vectors of one batch ([B, D] each). The first term
 * alone (λ = 0) is the plain distillation loss (= 2 − 2·cos per sentence); it treats every direction of error
 * alike, while two sentences' errors that move them apart or together cost the same as errors that keep their
 * cosine. The second term (relational distillation, Park et al. 2019, on cosines) is zero exactly when the student
 * reproduces the teacher's Gram matrix of the batch, whatever rotation it uses, and it weighs errors by what the
 * pairwise scores see. A batch of one sentence has no pair: the second term is 0.
 */
public final class CosineStructureLoss {
    private CosineStructureLoss() {}

    /** The loss as a scalar NDArray of {@code s}'s manager (differentiable in {@code s}; {@code t} is a constant). */
    public static NDArray of(NDArray s, NDArray t, double pairWeight) {
        long b = s.getShape().get(0);
        NDArray mse = s.sub(t).square().sum(new int[] {1}).mean();
        if (pairWeight == 0 || b < 2) return mse;
        NDManager m = s.getManager();
        NDArray gs = s.matMul(s.transpose());                                          // [B, B] student cosines
        NDArray gt = t.matMul(t.transpose());                                          // [B, B] teacher cosines
        NDArray offDiagonal = m.eye((int) b).mul(-1).add(1).toType(s.getDataType(), false);
        NDArray pair = gs.sub(gt).square().mul(offDiagonal).sum();
        return mse.add(Scalars.mul(pair, pairWeight / ((double) b * (b - 1))));   // Scalars: the constant outlives the backward
    }

    /** The same loss in plain Java (double precision), the reference the tests check the NDArray form against. */
    public static double value(double[][] s, double[][] t, double pairWeight) {
        int b = s.length;
        double mse = 0;
        for (int i = 0; i < b; i++) {
            for (int k = 0; k < s[i].length; k++) mse += (s[i][k] - t[i][k]) * (s[i][k] - t[i][k]);
        }
        mse /= b;
        if (pairWeight == 0 || b < 2) return mse;
        double pair = 0;
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < b; j++) {
                if (i == j) continue;
                double d = dot(s[i], s[j]) - dot(t[i], t[j]);
                pair += d * d;
            }
        }
        return mse + pairWeight * pair / ((double) b * (b - 1));
    }

    private static double dot(double[] a, double[] b) {
        double d = 0;
        for (int k = 0; k < a.length; k++) d += a[k] * b[k];
        return d;
    }
}
