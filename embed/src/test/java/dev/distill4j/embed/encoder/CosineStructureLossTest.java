package dev.distill4j.embed.encoder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The layers student's loss: hand-computed values, the NDArray form against the plain one, finite differences. */
class CosineStructureLossTest {
    private static final double C = Math.sqrt(0.5);
    NDManager m;

    @BeforeEach
    void open() { m = Engine.getEngine("PyTorch").newBaseManager(); }

    @AfterEach
    void close() { m.close(); }

    // student: (1,0), (0,1) (cosine 0); teacher: (1,0), (√½,√½) (cosine √½)
    private static final double[][] S = {{1, 0}, {0, 1}};
    private static final double[][] T = {{1, 0}, {C, C}};

    @Test
    void mseTermIsTheMeanSquaredDistancePerSentence() {
        // sentence 0 matches; sentence 1: (0−√½)² + (1−√½)² = 2 − 2√½; mean over 2 sentences = 1 − √½ = 0.29289…
        assertThat(CosineStructureLoss.value(S, T, 0)).isCloseTo(1 - C, within(1e-12));
        assertThat(nd(S, T, 0)).isCloseTo(1 - C, within(1e-12));
    }

    @Test
    void pairTermIsTheMeanSquaredCosineErrorOverOrderedPairs() {
        // pairs (0,1) and (1,0): (0 − √½)² = ½ each, mean ½; with λ = 2: 1 − √½ + 2·½ = 2 − √½ = 1.29289…
        assertThat(CosineStructureLoss.value(S, T, 2)).isCloseTo(2 - C, within(1e-12));
        assertThat(nd(S, T, 2)).isCloseTo(2 - C, within(1e-12));
    }

    @Test
    void pairTermIgnoresARotationOfTheWholeBatch() {
        // the student is the teacher rotated by 90°: every cosine is kept, so only the MSE term is left
        double[][] t = {{1, 0}, {C, C}, {0, 1}};
        double[][] s = {{0, 1}, {-C, C}, {-1, 0}};
        double mse = CosineStructureLoss.value(s, t, 0);
        assertThat(mse).isCloseTo(2, within(1e-12));                      // ‖Rx − x‖² = 2 − 2cos 90° for unit x
        assertThat(CosineStructureLoss.value(s, t, 5)).isCloseTo(mse, within(1e-12));
        assertThat(nd(s, t, 5)).isCloseTo(mse, within(1e-12));
    }

    @Test
    void aBatchOfOneHasNoPairTerm() {
        double[][] s = {{0.6, 0.8}}, t = {{1, 0}};
        double mse = 0.4 * 0.4 + 0.8 * 0.8;
        assertThat(CosineStructureLoss.value(s, t, 3)).isCloseTo(mse, within(1e-12));
        assertThat(nd(s, t, 3)).isCloseTo(mse, within(1e-12));
    }

    @Test
    void ndArrayFormAgreesWithThePlainOneOnRandomBatches() {
        Random r = new Random(11);
        for (int trial = 0; trial < 5; trial++) {
            double[][] s = random(r, 2 + trial, 5), t = random(r, 2 + trial, 5);
            double w = r.nextDouble() * 3;
            assertThat(nd(s, t, w)).isCloseTo(CosineStructureLoss.value(s, t, w), within(1e-10));
        }
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        Random r = new Random(5);
        double[][] s = random(r, 4, 3), t = random(r, 4, 3);
        double w = 0.7;
        NDArray sa = m.create(flat(s), new Shape(4, 3));
        sa.setRequiresGradient(true);
        try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            gc.backward(CosineStructureLoss.of(sa, m.create(flat(t), new Shape(4, 3)), w));
        }
        double[] analytic = sa.getGradient().toDoubleArray();
        double h = 1e-6;
        for (int i = 0; i < 4; i++) {
            for (int k = 0; k < 3; k++) {
                double keep = s[i][k];
                s[i][k] = keep + h;
                double up = CosineStructureLoss.value(s, t, w);
                s[i][k] = keep - h;
                double down = CosineStructureLoss.value(s, t, w);
                s[i][k] = keep;
                assertThat(analytic[i * 3 + k]).as("∂L/∂s[%d][%d]", i, k).isCloseTo((up - down) / (2 * h), within(1e-7));
            }
        }
    }

    private double nd(double[][] s, double[][] t, double w) {
        Shape shape = new Shape(s.length, s[0].length);
        return CosineStructureLoss.of(m.create(flat(s), shape), m.create(flat(t), shape), w).getDouble();
    }

    private static double[][] random(Random r, int b, int d) {
        double[][] x = new double[b][d];
        for (double[] row : x) for (int k = 0; k < d; k++) row[k] = r.nextGaussian();
        return x;
    }

    private static double[] flat(double[][] x) {
        double[] f = new double[x.length * x[0].length];
        for (int i = 0; i < x.length; i++) System.arraycopy(x[i], 0, f, i * x[i].length, x[i].length);
        return f;
    }
}
