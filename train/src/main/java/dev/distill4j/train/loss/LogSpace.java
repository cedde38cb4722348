package dev.distill4j.train.loss;

import ai.djl.ndarray.NDArray;

/**
 * The log-domain primitives the losses are written in. DJL has no logsumexp and no log1p, so they live here,
 * written in the stable forms.
 */
final class LogSpace {
    private LogSpace() {}

    /**
     * log Σ_j exp(x_j) along the last axis, as c + log Σ_j exp(x_j − c) with c = max_j x_j. The shift is detached:
     * the expression does not depend on c, so its gradient through c is zero and need not be computed.
     */
    static NDArray logSumExp(NDArray x) {
        int axis = x.getShape().dimension() - 1;
        NDArray c = x.max(new int[] {axis}, true).stopGradient();
        return x.sub(c).exp().sum(new int[] {axis}, true).log().add(c).squeeze(axis);
    }

    /** log(e^a + e^b) elementwise, as m + log(e^(a−m) + e^(b−m)) with m = max(a, b) detached. */
    static NDArray logAddExp(NDArray a, NDArray b) {
        NDArray m = a.maximum(b).stopGradient();
        return a.sub(m).exp().add(b.sub(m).exp()).log().add(m);
    }

    /** log(w·a + (1−w)·b) from log a and log b, for 0 < w < 1. */
    static NDArray logMix(NDArray logA, NDArray logB, double w) {
        return logAddExp(logA.add(Math.log(w)), logB.add(Math.log1p(-w)));
    }

    /** KL(p‖q) = Σ_j p_j (log p_j − log q_j) along the last axis, from log p and log q. */
    static NDArray kl(NDArray logP, NDArray logQ) {
        int axis = logP.getShape().dimension() - 1;
        return logP.exp().mul(logP.sub(logQ)).sum(new int[] {axis});
    }
}
