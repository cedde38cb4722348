package dev.distill4j.train.loss;

import dev.distill4j.model.nn.Scalars;
import ai.djl.ndarray.NDArray;

/**
 * Distillation from a teacher whose full logits over the student's vocabulary are available (a local teacher
 * loaded in-process).
 *
 * <pre>
 *   p_t  = softmax(z_t / T),  p_s = softmax(z_s / T)
 *   KD_i = T² · D(p_t, p_s)                         D = a {@link Divergence}
 *   ℓ_i  = α·KD_i + (1 − α)·CE_i                    CE_i = −log softmax(z_s)[y_i]; α = 1 needs no targets
 *   L    = Σ_i m_i ℓ_i / Σ_i m_i
 * </pre>
 *
 * The T² factor (Hinton et al.) is applied for every divergence, so T trades smoothness without changing the
 * gradient scale; TRL's GKD loss omits it, which only matters at T ≠ 1.
 *
 * <p>Every row is processed over its whole vocabulary, but rows are independent, so callers pass a chunk of rows
 * at a time and add the {@link LossSum}s: the teacher's [tokens × V] logits for the whole batch never need to
 * exist at once. To bound memory during backward as well, back-propagate each chunk's {@code sum / totalPositions}
 * as soon as it is computed (see docs/losses.md).
 *
 * <p>Teacher logits are detached and floored at −1e30, so a teacher that masks tokens with −∞ gives those tokens
 * probability 0 instead of 0·∞ = NaN.
 */
public final class FullKdLoss {
    private static final double TEACHER_LOGIT_FLOOR = -1e30;

    private final Divergence divergence;
    private final double temperature;
    private final double alpha;

    /** Pure distillation: α = 1, no cross-entropy term. */
    public FullKdLoss(Divergence divergence, double temperature) {
        this(divergence, temperature, 1.0);
    }

    /**
     * @param divergence which divergence between teacher and student
     * @param temperature T &gt; 0 applied to both logits
     * @param alpha       weight of the KD term in [0, 1]; below 1 the targets for the CE term are required
     */
    public FullKdLoss(Divergence divergence, double temperature, double alpha) {
        if (!(temperature > 0)) throw new IllegalArgumentException("temperature must be > 0, got " + temperature);
        if (!(alpha >= 0 && alpha <= 1)) throw new IllegalArgumentException("alpha must be in [0, 1], got " + alpha);
        this.divergence = divergence;
        this.temperature = temperature;
        this.alpha = alpha;
    }

    public Divergence divergence() { return divergence; }

    /** The loss over a chunk of rows, KD term only; requires α = 1. */
    public LossSum compute(NDArray studentLogits, NDArray teacherLogits, NDArray mask) {
        if (alpha != 1.0) {
            throw new IllegalStateException("this FullKdLoss mixes in cross-entropy (alpha = " + alpha
                    + "); pass the target tokens");
        }
        return compute(studentLogits, teacherLogits, null, mask);
    }

    /**
     * The loss over a chunk of rows.
     *
     * @param studentLogits [N, V] or [B, T, V]
     * @param teacherLogits same shape, same vocabulary
     * @param targets       chosen token per position for the CE term; may be null when α = 1
     * @param mask          1 on response positions, 0 elsewhere
     */
    public LossSum compute(NDArray studentLogits, NDArray teacherLogits, NDArray targets, NDArray mask) {
        NDArray zs = Rows.of(studentLogits);
        NDArray zt = Rows.of(teacherLogits).stopGradient();
        if (!zs.getShape().equals(zt.getShape())) {
            throw new IllegalArgumentException("student logits " + zs.getShape() + " and teacher logits "
                    + zt.getShape() + " differ; full-logit distillation needs the same positions and vocabulary");
        }
        if (alpha < 1.0 && targets == null) {
            throw new IllegalArgumentException("alpha = " + alpha + " mixes in cross-entropy; pass the target tokens");
        }
        long n = zs.getShape().get(0);
        NDArray m = Rows.perRow(mask, n, zs.getDataType(), "mask");
        if (zt.getDataType() != zs.getDataType()) zt = zt.toType(zs.getDataType(), false);

        NDArray logPt = Rows.tempered(zt.maximum(TEACHER_LOGIT_FLOOR), temperature).logSoftmax(1);
        NDArray logPs = Rows.tempered(zs, temperature).logSoftmax(1);
        NDArray kd = Scalars.mul(divergence.perPosition(logPt, logPs), temperature * temperature);

        NDArray perPosition = kd;
        double ceSum = Double.NaN;
        if (targets != null) {
            NDArray ce = SftLoss.crossEntropyFromLogProbs(temperature == 1.0 ? logPs : zs.logSoftmax(1), targets);
            ceSum = Rows.value(ce.mul(m).sum());
            perPosition = Scalars.mul(kd, alpha).add(Scalars.mul(ce, 1 - alpha));
        }
        NDArray sum = perPosition.mul(m).sum();
        long positions = Rows.count(m);
        return new LossSum(sum, positions, positions, Rows.value(kd.mul(m).sum()), ceSum);
    }
}
