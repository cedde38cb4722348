package dev.distill4j.train.loss;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

class FullKdLossTest {
    private static final double[] STUDENT = {0.3, -1.2, 2.0, 0.1, 1.5, -0.7, 0.0, 0.4, -2.2, 1.1, 0.9, 0.2, 1.3, -0.5, 0.8};
    private static final double[] TEACHER = {1.1, -0.2, 1.4, -0.9, 0.5, 0.2, 0.7, -1.4, 0.3, 2.1, -0.6, 0.0, 0.9, 0.4, -1.0};
    private static final double[] MASK = {1, 0, 1};
    private static final int V = 5;

    /** The divergences in double math: D(p_t, p_s). */
    private static final List<Case> CASES = List.of(
            new Case(new Divergence.ForwardKl(), (t, s) -> Reference.kl(t, s)),
            new Case(new Divergence.ReverseKl(), (t, s) -> Reference.kl(s, t)),
            new Case(new Divergence.GeneralizedJsd(0.3), (t, s) -> {
                double[] m = Reference.mix(t, s, 0.3);
                return 0.3 * Reference.kl(t, m) + 0.7 * Reference.kl(s, m);
            }),
            new Case(new Divergence.GeneralizedJsd(0.0), (t, s) -> Reference.kl(t, s)),
            new Case(new Divergence.GeneralizedJsd(1.0), (t, s) -> Reference.kl(s, t)),
            new Case(new Divergence.SkewKl(0.1), (t, s) -> Reference.kl(t, Reference.mix(t, s, 0.1))),
            new Case(new Divergence.SkewReverseKl(0.1), (t, s) -> Reference.kl(s, Reference.mix(s, t, 0.1))));

    private record Case(Divergence divergence, BiFunction<double[], double[], Double> reference) {}

    private static double referenceMean(Case c, double temperature) {
        double sum = 0, count = 0;
        for (int row = 0; row < MASK.length; row++) {
            if (MASK[row] == 0) continue;
            double[] pt = Reference.softmax(Reference.row(TEACHER, row, V), temperature);
            double[] ps = Reference.softmax(Reference.row(STUDENT, row, V), temperature);
            sum += temperature * temperature * c.reference().apply(pt, ps);
            count++;
        }
        return sum / count;
    }

    @Test
    void forwardKlByHand() {
        // Teacher (0.5, 0.5) from logits (0, 0); student (1/(1+e), e/(1+e)) from logits (0, 1):
        // KL = 0.5·log(0.5(1+e)) + 0.5·log(0.5(1+e)/e) = log(0.5(1+e)) − 0.5.
        double expected = Math.log(0.5 * (1 + Math.E)) - 0.5;
        try (NDManager manager = NDManager.newBaseManager()) {
            LossSum result = new FullKdLoss(new Divergence.ForwardKl(), 1.0).compute(manager.create(new float[] {0, 1}, new Shape(1, 2)),
                    manager.create(new float[] {0, 0}, new Shape(1, 2)), manager.create(new float[] {1}));
            assertThat((double) result.mean().getFloat()).isCloseTo(expected, within(1e-6));
        }
    }

    @Test
    void everyDivergenceMatchesDoubleReference() {
        try (NDManager manager = NDManager.newBaseManager()) {
            for (Case c : CASES) {
                for (double temperature : new double[] {1.0, 2.0}) {
                    LossSum result = new FullKdLoss(c.divergence(), temperature).compute(manager.create(STUDENT, new Shape(3, V)),
                            manager.create(TEACHER, new Shape(3, V)), manager.create(MASK));
                    assertThat(result.mean().getDouble()).as(c.divergence() + " at T=" + temperature)
                            .isCloseTo(referenceMean(c, temperature), within(1e-12));
                    assertThat(result.positions()).isEqualTo(2);
                }
            }
        }
    }

    @Test
    void symmetricJsdIsSymmetricAndBounded() {
        try (NDManager manager = NDManager.newBaseManager()) {
            FullKdLoss jsd = new FullKdLoss(new Divergence.GeneralizedJsd(0.5), 1.0);
            NDArray a = manager.create(STUDENT, new Shape(3, V));
            NDArray b = manager.create(TEACHER, new Shape(3, V));
            NDArray mask = manager.create(new double[] {1, 1, 1});
            double ab = jsd.compute(a, b, mask).mean().getDouble();
            double ba = jsd.compute(b, a, mask).mean().getDouble();
            assertThat(ab).isCloseTo(ba, within(1e-12)).isPositive().isLessThan(Math.log(2));
        }
    }

    @Test
    void chunksOfRowsAddUpToTheWholeBatch() {
        try (NDManager manager = NDManager.newBaseManager()) {
            FullKdLoss loss = new FullKdLoss(new Divergence.GeneralizedJsd(0.5), 1.5);
            NDArray s = manager.create(STUDENT, new Shape(3, V));
            NDArray t = manager.create(TEACHER, new Shape(3, V));
            NDArray mask = manager.create(MASK);
            LossSum whole = loss.compute(s, t, mask);
            LossSum chunked = loss.compute(s.get("0:1"), t.get("0:1"), mask.get("0:1"))
                    .plus(loss.compute(s.get("1:3"), t.get("1:3"), mask.get("1:3")));
            assertThat(chunked.mean().getDouble()).isCloseTo(whole.mean().getDouble(), within(1e-12));
            assertThat(chunked.positions()).isEqualTo(whole.positions());
        }
    }

    @Test
    void batchShapedLogitsAreAccepted() {
        try (NDManager manager = NDManager.newBaseManager()) {
            FullKdLoss loss = new FullKdLoss(new Divergence.ForwardKl(), 1.0);
            double[] s = new double[20], t = new double[20];
            System.arraycopy(STUDENT, 0, s, 0, 15);
            System.arraycopy(TEACHER, 0, t, 0, 15);
            double flat = loss.compute(manager.create(s, new Shape(4, V)), manager.create(t, new Shape(4, V)),
                    manager.create(new double[] {1, 0, 1, 0})).mean().getDouble();
            double batched = loss.compute(manager.create(s, new Shape(2, 2, V)), manager.create(t, new Shape(2, 2, V)),
                    manager.create(new double[] {1, 0, 1, 0}, new Shape(2, 2))).mean().getDouble();
            assertThat(batched).isCloseTo(flat, within(1e-15));
        }
    }

    @Test
    void crossEntropyMixesInWithAlpha() {
        try (NDManager manager = NDManager.newBaseManager()) {
            long[] targets = {2, 0, 4};
            LossSum result = new FullKdLoss(new Divergence.ForwardKl(), 2.0, 0.25).compute(manager.create(STUDENT, new Shape(3, V)),
                    manager.create(TEACHER, new Shape(3, V)), manager.create(targets), manager.create(MASK));
            double kd = referenceMean(CASES.getFirst(), 2.0);
            double ce = (Reference.crossEntropy(Reference.row(STUDENT, 0, V), 2) + Reference.crossEntropy(Reference.row(STUDENT, 2, V), 4)) / 2;
            assertThat(result.mean().getDouble()).isCloseTo(0.25 * kd + 0.75 * ce, within(1e-12));
            assertThat(result.ceMean()).isCloseTo(ce, within(1e-12));
            assertThat(result.kdMean()).isCloseTo(kd, within(1e-12));
        }
    }

    @Test
    void teacherMaskingTokensWithNegativeInfinityStaysFinite() {
        try (NDManager manager = NDManager.newBaseManager()) {
            float inf = Float.NEGATIVE_INFINITY;
            NDArray teacher = manager.create(new float[] {0, 0, inf, inf}, new Shape(1, 4));
            NDArray student = manager.create(new float[] {0.5f, -0.5f, 0.1f, 0.2f}, new Shape(1, 4));
            for (Case c : CASES) {
                double value = new FullKdLoss(c.divergence(), 1.0).compute(student, teacher, manager.create(new float[] {1}))
                        .mean().getFloat();
                double expected = c.reference().apply(new double[] {0.5, 0.5, 0, 0}, Reference.softmax(new double[] {0.5, -0.5, 0.1, 0.2}, 1));
                if (c.divergence() instanceof Divergence.ReverseKl || (c.divergence() instanceof Divergence.GeneralizedJsd(double beta) && beta == 1)) {
                    // The student puts mass where the teacher has none: reverse KL is (numerically) unbounded, not NaN.
                    assertThat(value).as(c.divergence().toString()).isGreaterThan(1e20);
                } else {
                    assertThat(value).as(c.divergence().toString()).isCloseTo(expected, within(1e-5));
                }
            }
        }
    }

    @Test
    void gradientMatchesFiniteDifferencesForEveryDivergence() {
        for (Case c : CASES) {
            FullKdLoss loss = new FullKdLoss(c.divergence(), 1.7);
            GradCheck.check(STUDENT, new Shape(3, V), x -> loss.compute(x, x.getManager().create(TEACHER, new Shape(3, V)),
                    x.getManager().create(MASK)).mean());
        }
    }

    @Test
    void misuseIsRejectedWithAClearMessage() {
        try (NDManager manager = NDManager.newBaseManager()) {
            assertThatThrownBy(() -> new FullKdLoss(new Divergence.ForwardKl(), 1.0).compute(manager.zeros(new Shape(2, 4)),
                    manager.zeros(new Shape(2, 5)), manager.ones(new Shape(2))))
                    .hasMessageContaining("same positions and vocabulary");
            assertThatThrownBy(() -> new FullKdLoss(new Divergence.ForwardKl(), 1.0, 0.5).compute(manager.zeros(new Shape(2, 4)),
                    manager.zeros(new Shape(2, 4)), manager.ones(new Shape(2))))
                    .hasMessageContaining("pass the target tokens");
            assertThatThrownBy(() -> new Divergence.SkewKl(1.0)).hasMessageContaining("[0, 1)");
            assertThatThrownBy(() -> new Divergence.GeneralizedJsd(-0.1)).hasMessageContaining("[0, 1]");
        }
    }
}
