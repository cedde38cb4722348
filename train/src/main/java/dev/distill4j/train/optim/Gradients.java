package dev.distill4j.train.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Operations on the gradients of a set of parameters.
 *
 * <p>DJL's PyTorch engine accumulates gradients: every {@code backward} adds into each parameter's gradient, across
 * gradient collectors too, until something zeroes it. That is what gradient accumulation needs — call
 * {@code backward(microBatch.sum() / totalPositions)} for each micro-batch of a step, then clip, step and
 * {@link #zero} — and what a trainer must not forget.
 *
 * <p>Every gradient is fetched through {@link NDArray#getGradient()}, which hands out a fresh wrapper each call;
 * the wrappers are closed here so a long run does not leak one per parameter per step.
 */
public final class Gradients {
    private Gradients() {}

    /** Runs {@code action} on each parameter's gradient inside a scope that closes the temporaries it creates. */
    static void forEach(Collection<NDArray> parameters, Consumer<NDArray> action) {
        for (NDArray parameter : parameters) {
            if (!parameter.hasGradient()) continue;
            try (NDManager scope = parameter.getManager().newSubManager()) {
                NDArray gradient = parameter.getGradient();
                gradient.attach(scope);
                action.accept(gradient);
            }
        }
    }

    /** ‖g‖ over all gradients together: sqrt(Σ_p Σ_i g_{p,i}²), accumulated in double. */
    public static double globalNorm(Collection<NDArray> parameters) {
        double[] sumOfSquares = {0.0};
        forEach(parameters, g -> sumOfSquares[0] += g.square().sum().toType(DataType.FLOAT64, false).getDouble());
        return Math.sqrt(sumOfSquares[0]);
    }

    /**
     * The names of the parameters whose gradient holds a NaN or ±∞, in map order: what a warning about a skipped
     * step names, so a user (or a bug hunt) can tell which part of the model went non-finite.
     */
    public static List<String> nonFinite(Map<String, NDArray> parameters) {
        List<String> names = new ArrayList<>();
        for (Map.Entry<String, NDArray> e : parameters.entrySet()) {
            boolean[] bad = {false};
            forEach(List.of(e.getValue()), g -> bad[0] = !Double.isFinite(g.abs().max().toType(DataType.FLOAT64, false).getDouble()));
            if (bad[0]) names.add(e.getKey());
        }
        return names;
    }

    /** g ← factor · g for every gradient, in place. */
    public static void scale(Collection<NDArray> parameters, double factor) {
        forEach(parameters, g -> g.muli(factor));
    }

    /**
     * g ← 0 for every gradient, in place, with PyTorch's {@code zero_()} in one native call per parameter: no
     * gradient wrapper and no probe, and NaN or ±∞ are overwritten too, so a run recovers from a skipped
     * non-finite step. Parameters live on the PyTorch engine, the only one distill4j trains with.
     */
    public static void zero(Collection<NDArray> parameters) {
        for (NDArray parameter : parameters) {
            if (parameter.hasGradient()) JniUtils.zeroGrad((PtNDArray) parameter);
        }
    }
}
