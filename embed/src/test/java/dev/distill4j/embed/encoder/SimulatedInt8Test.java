package dev.distill4j.embed.encoder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The int8 rounding simulated in training ({@link SimulatedInt8}), by hand, and its straight-through gradient. */
class SimulatedInt8Test {
    @Test
    void roundsToTheUint8GridOfTheTensorsRangeAsDynamicQuantizeLinear() {
        try (NDManager m = NDManager.newBaseManager()) {
            // range [−1, 2]: Δ = 3/255, zero point round(85) = 85; 0.5/Δ = 42.5 rounds half to even (42)
            float[] x = SimulatedInt8.roundTrip(m.create(new float[] {-1f, 0f, 0.5f, 2f, 1f / 3})).toFloatArray();
            double step = 3.0 / 255;
            assertThat((double) x[0]).isCloseTo(-1, within(1e-6));
            assertThat(x[1]).isZero();
            assertThat((double) x[2]).isCloseTo(42 * step, within(1e-6));
            assertThat((double) x[3]).isCloseTo(2, within(1e-6));
            assertThat((double) x[4]).isCloseTo(28 * step, within(1e-6));   // (1/3)/Δ = 28.33
            // a range that excludes zero is widened to include it (zero stays exact): [0.61, 1] → [0, 1]
            float[] y = SimulatedInt8.roundTrip(m.create(new float[] {0.61f, 1f})).toFloatArray();
            assertThat((double) y[0]).isCloseTo(156 / 255.0, within(1e-6));   // 0.61 · 255 = 155.55
            assertThat((double) y[1]).isCloseTo(1, within(1e-6));
        }
    }

    @Test
    void theGradientIsTheIdentitysAndTheLayerSeesTheRoundedValues() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new float[] {-1f, 0.3f, 0.5f, 2f}, new Shape(1, 1, 4));
            x.setRequiresGradient(true);
            NDArray w = m.create(new float[] {1f, -2f, 3f, 0.5f}, new Shape(1, 1, 4));
            try (GradientCollector c = Engine.getInstance().newGradientCollector()) {
                NDArray y = SimulatedInt8.roundTrip(x);
                c.backward(y.mul(w).sum());
            }
            assertThat(x.getGradient().toFloatArray()).containsExactly(1f, -2f, 3f, 0.5f);

            // a layer's hook: smoothing s from the channel maxima and W_2, then the rounding; s cancels exactly in the
            // gradient and nearly in the value
            Map<String, NDArray> params = new LinkedHashMap<>();
            params.put("encoder.layer.0.output.dense.weight", m.create(new float[] {0.5f, 0.1f, 0.2f, 0.9f}, new Shape(1, 4)));
            SimulatedInt8 hook = new SimulatedInt8(params, new float[][] {{0.15f, 3f, 0.4f, 0.05f}}, 0.75);
            NDArray g = m.create(new float[] {-0.1f, 3f, 0.2f, 0.05f, -0.15f, 1f, 0.4f, 0.01f}, new Shape(1, 2, 4));
            float[] out = hook.apply(0, g).toFloatArray(), in = g.toFloatArray();
            for (int i = 0; i < in.length; i++) assertThat((double) out[i]).isCloseTo(in[i], within(0.02));
            assertThat(out).isNotEqualTo(in);
        }
    }
}
