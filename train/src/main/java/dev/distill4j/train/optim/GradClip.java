package dev.distill4j.train.optim;

import ai.djl.ndarray.NDArray;
import java.util.Collection;

/**
 * Clipping by the global gradient norm, with {@code torch.nn.utils.clip_grad_norm_} semantics. DJL only clamps
 * gradients element by element, which changes their direction; this rescales all of them together.
 *
 * <pre>
 *   ‖g‖  = sqrt(Σ_p ‖g_p‖²)                        over every parameter's gradient
 *   c    = max_norm / (‖g‖ + 1e−6)
 *   g_p ← c · g_p          for every p, when c &lt; 1
 * </pre>
 */
public final class GradClip {
    private static final double EPS = 1e-6;

    private GradClip() {}

    /**
     * Clips the gradients in place and returns ‖g‖ before clipping. When ‖g‖ is NaN or infinite the gradients are
     * left as they are (scaling cannot repair them) and the norm is returned so the caller can skip the step.
     *
     * @param parameters the parameters whose gradients to clip (those without a gradient are ignored)
     * @param maxNorm    the largest allowed global norm, &gt; 0
     */
    public static double clip(Collection<NDArray> parameters, double maxNorm) {
        if (!(maxNorm > 0)) throw new IllegalArgumentException("max gradient norm must be > 0, got " + maxNorm);
        double norm = Gradients.globalNorm(parameters);
        double coefficient = maxNorm / (norm + EPS);
        if (Double.isFinite(norm) && coefficient < 1.0) {
            Gradients.scale(parameters, coefficient);
        }
        return norm;
    }
}
