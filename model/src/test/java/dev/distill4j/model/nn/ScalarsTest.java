package dev.distill4j.model.nn;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * A backward pass must not depend on the garbage collector. Between the forward and the backward pass this test
 * runs collections and fills fresh native memory with a byte pattern, which is what a training step's allocations
 * do: a constant that autograd kept but nothing else did would then read as garbage.
 */
class ScalarsTest {

    @Test
    void gradientsThroughScalarOpsSurviveACollectionBetweenForwardAndBackward() {
        check(v -> Scalars.pow(v, -0.5));
        check(v -> Scalars.mul(v, 3.0));
        check(v -> Scalars.div(v, 7.0));
        check(v -> Scalars.maximum(v, 0.25));
    }

    @Test
    void rmsNormGradientSurvivesACollection() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w = m.create(new float[] {1f, 0.5f, 2f, 1.5f});
            check(x -> RmsNorm.apply(x, w, 1e-6));
        }
    }

    /** The gradient of sum(f(x)) with and without garbage collections and scribbled memory in between. */
    private static void check(UnaryOperator<NDArray> f) {
        float[] quiet = gradient(f, false);
        for (int round = 0; round < 5; round++) {
            assertThat(gradient(f, true)).as("round %d", round).containsExactly(quiet);
        }
    }

    private static float[] gradient(UnaryOperator<NDArray> f, boolean collect) {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new float[] {0.5f, 1.5f, 2f, 3f, 0.1f, 4f, 2.5f, 1f}, new Shape(2, 4));
            x.setRequiresGradient(true);
            List<ByteBuffer> scribbles = new ArrayList<>();
            try (GradientCollector c = Engine.getInstance().newGradientCollector()) {
                NDArray y = f.apply(x).sum();
                if (collect) {
                    for (int i = 0; i < 3; i++) {
                        System.gc();
                        for (int k = 0; k < 2000; k++) {
                            ByteBuffer b = ByteBuffer.allocateDirect(4 + (k % 3) * 4);
                            while (b.hasRemaining()) b.put((byte) 0x7f);
                            scribbles.add(b);
                        }
                    }
                }
                c.backward(y);
            }
            return x.getGradient().toFloatArray();
        }
    }
}
