package dev.distill4j.train.loss;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.function.Function;

/** Compares autograd's gradient of a scalar loss with central finite differences, in float64. */
final class GradCheck {
    private static final double H = 1e-3;

    private GradCheck() {}

    /** Asserts ‖g_auto − g_fd‖ / ‖g_fd‖ &lt; 1e-4 and that the gradient is not trivially zero. */
    static void check(double[] logits, Shape shape, Function<NDArray, NDArray> loss) {
        double[] auto;
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray x = manager.create(logits, shape);
            x.setRequiresGradient(true);
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                collector.backward(loss.apply(x));
            }
            auto = x.getGradient().toDoubleArray();
        }
        double[] numeric = new double[logits.length];
        for (int i = 0; i < logits.length; i++) {
            double[] plus = logits.clone();
            double[] minus = logits.clone();
            plus[i] += H;
            minus[i] -= H;
            numeric[i] = (evaluate(plus, shape, loss) - evaluate(minus, shape, loss)) / (2 * H);
        }
        double diff = 0, norm = 0;
        for (int i = 0; i < logits.length; i++) {
            diff += (auto[i] - numeric[i]) * (auto[i] - numeric[i]);
            norm += numeric[i] * numeric[i];
        }
        assertThat(Math.sqrt(norm)).as("gradient norm").isGreaterThan(1e-3);
        assertThat(Math.sqrt(diff / norm)).as("relative gradient error").isLessThan(1e-4);
    }

    private static double evaluate(double[] logits, Shape shape, Function<NDArray, NDArray> loss) {
        try (NDManager manager = NDManager.newBaseManager()) {
            return loss.apply(manager.create(logits, shape)).getDouble();
        }
    }
}
