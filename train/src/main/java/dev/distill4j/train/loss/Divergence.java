package dev.distill4j.train.loss;

import dev.distill4j.model.nn.Scalars;
import ai.djl.ndarray.NDArray;

/**
 * How far the student's next-token distribution p_s is from the teacher's p_t, per position. Each divergence
 * takes the two log-distributions [N, V] and returns [N].
 */
public sealed interface Divergence {

    /** The divergence at each row, from log p_t and log p_s (both [N, V], normalised along V). */
    NDArray perPosition(NDArray logPt, NDArray logPs);

    /** Forward KL, KL(p_t ‖ p_s) = Σ p_t (log p_t − log p_s): mode-covering, the classic KD objective. */
    record ForwardKl() implements Divergence {
        @Override
        public NDArray perPosition(NDArray logPt, NDArray logPs) {
            return LogSpace.kl(logPt, logPs);
        }
    }

    /** Reverse KL, KL(p_s ‖ p_t) = Σ p_s (log p_s − log p_t): mode-seeking (MiniLLM). */
    record ReverseKl() implements Divergence {
        @Override
        public NDArray perPosition(NDArray logPt, NDArray logPs) {
            return LogSpace.kl(logPs, logPt);
        }
    }

    /**
     * Generalized Jensen–Shannon divergence of GKD (Agarwal et al., 2024), in TRL's {@code generalized_jsd_loss}
     * convention:
     *
     * <pre>
     *   m     = β·p_t + (1 − β)·p_s
     *   JSD_β = β·KL(p_t ‖ m) + (1 − β)·KL(p_s ‖ m)
     * </pre>
     *
     * β = 0 and β = 1 make JSD_β vanish identically, so, like TRL, they are taken to mean the limits it interpolates
     * between: β = 0 is forward KL(p_t ‖ p_s), β = 1 is reverse KL(p_s ‖ p_t). β = 0.5 is the symmetric JSD.
     */
    record GeneralizedJsd(double beta) implements Divergence {
        public GeneralizedJsd {
            if (!(beta >= 0 && beta <= 1)) throw new IllegalArgumentException("JSD beta must be in [0, 1], got " + beta);
        }

        @Override
        public NDArray perPosition(NDArray logPt, NDArray logPs) {
            if (beta == 0) return LogSpace.kl(logPt, logPs);
            if (beta == 1) return LogSpace.kl(logPs, logPt);
            NDArray logM = LogSpace.logMix(logPt, logPs, beta);
            return Scalars.mul(LogSpace.kl(logPt, logM), beta).add(Scalars.mul(LogSpace.kl(logPs, logM), 1 - beta));
        }
    }

    /**
     * Skew KL of DistiLLM (Ko et al., 2024): forward KL against a student smoothed towards the teacher, which
     * stays bounded where the student puts no mass.
     *
     * <pre>
     *   SKL_α = KL(p_t ‖ α·p_t + (1 − α)·p_s),   0 ≤ α &lt; 1   (α = 0 is forward KL; DistiLLM uses 0.1)
     * </pre>
     */
    record SkewKl(double alpha) implements Divergence {
        public SkewKl {
            if (!(alpha >= 0 && alpha < 1)) throw new IllegalArgumentException("skew alpha must be in [0, 1), got " + alpha);
        }

        @Override
        public NDArray perPosition(NDArray logPt, NDArray logPs) {
            NDArray logMix = alpha == 0 ? logPs : LogSpace.logMix(logPt, logPs, alpha);
            return LogSpace.kl(logPt, logMix);
        }
    }

    /**
     * Skew reverse KL of DistiLLM: SRKL_α = KL(p_s ‖ α·p_s + (1 − α)·p_t), 0 ≤ α &lt; 1 (α = 0 is reverse KL).
     */
    record SkewReverseKl(double alpha) implements Divergence {
        public SkewReverseKl {
            if (!(alpha >= 0 && alpha < 1)) throw new IllegalArgumentException("skew alpha must be in [0, 1), got " + alpha);
        }

        @Override
        public NDArray perPosition(NDArray logPt, NDArray logPs) {
            NDArray logMix = alpha == 0 ? logPt : LogSpace.logMix(logPs, logPt, alpha);
            return LogSpace.kl(logPs, logMix);
        }
    }
}
