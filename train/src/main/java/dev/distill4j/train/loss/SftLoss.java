package dev.distill4j.train.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/**
 * Sequence-level distillation: plain next-token cross-entropy on the teacher's text.
 *
 * <pre>
 *   CE_i = −log softmax(z_i)[y_i]
 *   L    = Σ_i m_i · CE_i / Σ_i m_i
 * </pre>
 *
 * with z_i the student's logits at position i, y_i the target token and m_i ∈ {0, 1} the response mask. Targets at
 * masked-out positions may hold anything (−100, padding); they are never read into the loss.
 */
public final class SftLoss {

    /**
     * The per-position cross-entropy CE_i = −log softmax(z_i)[y_i], shape [N]. Shared by the distillation losses for
     * their hard-label term.
     *
     * @param rows    student logits [N, V]
     * @param targets target ids, N elements of any integer type
     */
    public static NDArray tokenCrossEntropy(NDArray rows, NDArray targets) {
        return crossEntropyFromLogProbs(rows.logSoftmax(1), targets);
    }

    /** CE_i = −log p_i[y_i] from log-probabilities [N, V] a loss has already computed. */
    static NDArray crossEntropyFromLogProbs(NDArray logProbs, NDArray targets) {
        long n = logProbs.getShape().get(0);
        NDArray index = Rows.perRow(targets, n, DataType.INT64, "target").maximum(0).reshape(n, 1);
        return logProbs.gather(index, 1).reshape(n).neg();
    }

    /**
     * @param logits  student logits [N, V] or [B, T, V]
     * @param targets target ids, one per position
     * @param mask    1 where the position is part of the response, 0 elsewhere; one per position
     */
    public LossSum compute(NDArray logits, NDArray targets, NDArray mask) {
        NDArray z = Rows.of(logits);
        long n = z.getShape().get(0);
        NDArray m = Rows.perRow(mask, n, z.getDataType(), "mask");
        NDArray sum = tokenCrossEntropy(z, targets).mul(m).sum();
        return new LossSum(sum, Rows.count(m), 0, 0.0, Rows.value(sum));
    }
}
