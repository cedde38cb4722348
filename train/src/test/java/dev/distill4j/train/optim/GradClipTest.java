package dev.distill4j.train.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.util.List;
import org.junit.jupiter.api.Test;

class GradClipTest {

    private static List<NDArray> withGradients(NDManager manager, float[] g1, float[] g2) {
        NDArray a = manager.zeros(new ai.djl.ndarray.types.Shape(g1.length));
        NDArray b = manager.zeros(new ai.djl.ndarray.types.Shape(g2.length));
        a.setRequiresGradient(true);
        b.setRequiresGradient(true);
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            collector.backward(a.mul(manager.create(g1)).sum().add(b.mul(manager.create(g2)).sum()));
        }
        return List.of(a, b);
    }

    @Test
    void scalesAllGradientsByTheGlobalNorm() {
        try (NDManager manager = NDManager.newBaseManager()) {
            // ‖g‖ = sqrt(3² + 4² + 12²) = 13; clipped to 6.5 every gradient halves (up to the 1e−6 guard).
            List<NDArray> params = withGradients(manager, new float[] {3, 4}, new float[] {12});
            double norm = GradClip.clip(params, 6.5);
            assertThat(norm).isCloseTo(13.0, within(1e-6));
            double c = 6.5 / (13 + 1e-6);
            assertThat(params.get(0).getGradient().toFloatArray()).containsExactly(new float[] {(float) (3 * c), (float) (4 * c)}, within(1e-6f));
            assertThat(params.get(1).getGradient().getFloat(0)).isCloseTo((float) (12 * c), within(1e-6f));
            assertThat(Gradients.globalNorm(params)).isCloseTo(6.5, within(1e-5));
        }
    }

    @Test
    void leavesGradientsBelowTheLimitAlone() {
        try (NDManager manager = NDManager.newBaseManager()) {
            List<NDArray> params = withGradients(manager, new float[] {3, 4}, new float[] {0});
            assertThat(GradClip.clip(params, 10)).isCloseTo(5.0, within(1e-6));
            assertThat(params.get(0).getGradient().toFloatArray()).containsExactly(3, 4);
        }
    }

    @Test
    void nonFiniteNormIsReportedAndZeroingRecovers() {
        try (NDManager manager = NDManager.newBaseManager()) {
            List<NDArray> params = withGradients(manager, new float[] {Float.NaN, 1}, new float[] {2});
            assertThat(GradClip.clip(params, 1.0)).isNaN();
            java.util.Map<String, NDArray> named = new java.util.LinkedHashMap<>();
            named.put("a", params.get(0));
            named.put("b", params.get(1));
            assertThat(Gradients.nonFinite(named)).containsExactly("a");
            Gradients.zero(params);
            assertThat(Gradients.nonFinite(named)).isEmpty();
            assertThat(params.get(0).getGradient().toFloatArray()).containsExactly(0, 0);
            assertThat(params.get(1).getGradient().toFloatArray()).containsExactly(0);
        }
    }

    @Test
    void gradientsAccumulateAcrossBackwardCallsUntilZeroed() {
        try (NDManager manager = NDManager.newBaseManager()) {
            List<NDArray> params = withGradients(manager, new float[] {1, 2}, new float[] {3});
            NDArray a = params.get(0);
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                collector.backward(a.mul(manager.create(new float[] {10, 10})).sum());
            }
            assertThat(a.getGradient().toFloatArray()).containsExactly(11, 12);
            Gradients.zero(params);
            assertThat(Gradients.globalNorm(params)).isZero();
        }
    }
}
