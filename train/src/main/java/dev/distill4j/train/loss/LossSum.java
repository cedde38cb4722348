package dev.distill4j.train.loss;

import dev.distill4j.model.nn.Scalars;
import ai.djl.ndarray.NDArray;

/**
 * A loss summed over the response positions of one chunk of rows, with the counts needed to turn sums into means.
 *
 * <p>Losses return sums, not means, so that chunks of one batch and micro-batches of one optimizer step compose
 * exactly: the step's loss is {@code Σ sum / Σ positions}. A trainer that knows the step's total position count in
 * advance (it is the sum of the masks) can call {@code backward(chunk.sum() / total)} chunk by chunk and get the
 * same gradient as one big mean.
 *
 * @param sum         Σ over masked positions of the per-position loss; a scalar that is part of the autograd graph
 * @param positions   number of positions with mask = 1
 * @param kdPositions number of those positions that carried a teacher distribution (0 for {@link SftLoss})
 * @param kdSum       Σ of the distillation term (temperature-scaled divergence) over the {@code kdPositions}, for
 *                    metrics; not differentiable
 * @param ceSum       Σ of the token cross-entropy over all {@code positions}, for metrics; NaN where the loss did not
 *                    compute it (pure divergence without targets)
 */
public record LossSum(NDArray sum, long positions, long kdPositions, double kdSum, double ceSum) {

    /** The mean over masked positions, {@code sum / max(1, positions)}, still differentiable. */
    public NDArray mean() {
        return Scalars.div(sum, Math.max(1L, positions));
    }

    /** Mean distillation term over positions with teacher signal; NaN when there were none. */
    public double kdMean() {
        return kdPositions == 0 ? Double.NaN : kdSum / kdPositions;
    }

    /** Mean cross-entropy over masked positions; NaN when there were none or it was not computed. */
    public double ceMean() {
        return positions == 0 ? Double.NaN : ceSum / positions;
    }

    /** Share of masked positions that carried a teacher distribution. */
    public double kdShare() {
        return positions == 0 ? 0.0 : (double) kdPositions / positions;
    }

    /** Adds another chunk's sums and counts; the summed loss stays differentiable through both. */
    public LossSum plus(LossSum other) {
        return new LossSum(sum.add(other.sum), positions + other.positions, kdPositions + other.kdPositions,
                kdSum + other.kdSum, ceSum + other.ceSum);
    }
}
