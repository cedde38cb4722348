package dev.distill4j.model.nn;

import ai.djl.ndarray.NDArray;

/** Root-mean-square layer norm (Zhang &amp; Sennrich 2019): {@code y = x / sqrt(mean(x²) + ε) · w}, over the last axis. */
public final class RmsNorm {
    private RmsNorm() {}

    /**
     * @param x      [..., d] in F32 (the engine holds no lower precision)
     * @param weight [d]
     */
    public static NDArray apply(NDArray x, NDArray weight, double eps) {
        int last = x.getShape().dimension() - 1;
        NDArray rms = x.square().mean(new int[] {last}, true).add((float) eps).sqrt();  // [..., 1]
        return x.div(rms).mul(weight);
    }
}
