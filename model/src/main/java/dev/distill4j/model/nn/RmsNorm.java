package dev.distill4j.model.nn;

import ai.djl.ndarray.NDArray;

/**
 * Root-mean-square layer norm (Zhang &amp; Sennrich 2019): {@code y = x · (mean(x²) + ε)^−½ · w}, over the last axis.
 * Multiplying by the reciprocal root, as HF does with {@code rsqrt}, keeps the [..., d] passes to multiplications,
 * whose backward is cheaper than a division's.
 */
public final class RmsNorm {
    private RmsNorm() {}

    /**
     * @param x      [..., d] in F32 (the engine holds no lower precision)
     * @param weight [d]
     */
    public static NDArray apply(NDArray x, NDArray weight, double eps) {
        int last = x.getShape().dimension() - 1;
        NDArray inverseRms = Scalars.pow(x.square().mean(new int[] {last}, true).add((float) eps), -0.5);  // [..., 1]
        return x.mul(inverseRms).mul(weight);
    }
}
