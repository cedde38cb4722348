package dev.distill4j.train.loss;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The on-policy reverse-KL losses: hand-computed values, their gradients against finite differences, and the
 * sampled estimator's expectation over the student's own tokens against the gradient of the exact reverse KL.
 */
class ReverseKlLossTest {
    private static final double LN2 = Math.log(2);

    /** s = softmax(ln [1, 2, 1]) = [0.25, 0.5, 0.25]. */
    private static final double[] Z = {0, LN2, 0};

    @Test
    void sampledEstimatorIsLogRatioOfTheSampledTokenWithItsScoreFunctionGradient() {
        // y = 1: log s(y) = ln 0.5, the teacher's log t(y) = ln 0.25 → d = ln 2; ∇_z = d · (onehot(y) − s)
        TopKTeacher teacher = TopKTeacher.of(1, new long[] {1}, new float[] {(float) Math.log(0.25)});
        Result r = run(new ReverseKlLoss(ReverseKlLoss.Estimator.SAMPLED), Z, new Shape(1, 3), teacher, new long[] {1});
        assertThat(r.value).isCloseTo(LN2, within(1e-6));
        assertThat(r.sum.kdSum()).isCloseTo(LN2, within(1e-6));
        assertThat(r.sum.ceSum()).isCloseTo(-Math.log(0.5), within(1e-6));   // the student's NLL of its own token
        assertThat(r.sum.positions()).isEqualTo(1);
        assertThat(r.grad).containsExactly(new double[] {-0.25 * LN2, 0.5 * LN2, -0.25 * LN2}, within(1e-6));
    }

    @Test
    void topKEstimatorIsTheExactReverseKlOverTheListedBuckets() {
        // teacher: t(1) = 0.25, t(0) = 0.5, tail 0.25; student buckets [s(1), s(0), s(2)] = [0.5, 0.25, 0.25]
        // KL = 0.5 ln(0.5/0.25) + 0.25 ln(0.25/0.5) + 0.25 ln(0.25/0.25) = 0.25 ln 2
        TopKTeacher teacher = TopKTeacher.of(2, new long[] {1, 0},
                new float[] {(float) Math.log(0.25), (float) Math.log(0.5)});
        Result r = run(new ReverseKlLoss(ReverseKlLoss.Estimator.TOP_K), Z, new Shape(1, 3), teacher, new long[] {1});
        assertThat(r.value).isCloseTo(0.25 * LN2, within(1e-6));
        assertThat(r.sum.kdSum()).isCloseTo(0.25 * LN2, within(1e-6));
        // the student equal to the teacher on the buckets: zero
        double[] same = {Math.log(0.5), Math.log(0.25), Math.log(0.25)};
        assertThat(run(new ReverseKlLoss(ReverseKlLoss.Estimator.TOP_K), same, new Shape(1, 3), teacher,
                new long[] {1}).value).isCloseTo(0.0, within(1e-6));
    }

    @Test
    void betaGivesTheForwardKlAndTheGeneralizedJsdOverTheSameBuckets() {
        // the buckets of the test above: q = [0.25, 0.5, 0.25] (t(1), t(0), tail), s = [0.5, 0.25, 0.25]
        TopKTeacher teacher = TopKTeacher.of(2, new long[] {1, 0},
                new float[] {(float) Math.log(0.25), (float) Math.log(0.5)});
        // β = 0, student softmax(ln [1, 3, 1]) = [0.2, 0.6, 0.2], buckets s = [0.6, 0.2, 0.2]:
        // Σ q ln(q/s) = 0.25 ln(0.25/0.6) + 0.5 ln(0.5/0.2) + 0.25 ln(0.25/0.2) (the reverse KL: 0.2974)
        double[] z3 = {0, Math.log(3), 0};
        assertThat(run(new ReverseKlLoss(ReverseKlLoss.Estimator.TOP_K, 0), z3, new Shape(1, 3), teacher,
                new long[] {1}).value).isCloseTo(0.25 * Math.log(0.25 / 0.6) + 0.5 * Math.log(2.5)
                + 0.25 * Math.log(1.25), within(1e-6));
        // β = 0.5: m = [0.375, 0.375, 0.25]; ½ Σ q ln(q/m) + ½ Σ s ln(s/m) = 0.5 ln(4/3) + 0.25 ln(2/3)
        Result half = run(new ReverseKlLoss(ReverseKlLoss.Estimator.TOP_K, 0.5), Z, new Shape(1, 3), teacher,
                new long[] {1});
        assertThat(half.value).isCloseTo(0.5 * Math.log(4.0 / 3) + 0.25 * Math.log(2.0 / 3), within(1e-6));
        assertThat(half.sum.kdSum()).isCloseTo(half.value, within(1e-6));
        // β = 1 is the reverse KL of the test above
        assertThat(run(new ReverseKlLoss(ReverseKlLoss.Estimator.TOP_K, 1), Z, new Shape(1, 3), teacher,
                new long[] {1}).value).isCloseTo(0.25 * LN2, within(1e-6));
    }

    @Test
    void forwardAndJsdGradientsMatchFiniteDifferences() {
        Random rnd = new Random(5);
        double[] z = new double[3 * 6];
        for (int i = 0; i < z.length; i++) z[i] = rnd.nextGaussian() * 1.5;
        TopKTeacher teacher = TopKTeacher.of(3, new long[] {2, 0, 5, 3, -1, 1, 4, 4, 0},
                new float[] {-1.2f, -0.9f, -2.5f, -0.3f, Float.NEGATIVE_INFINITY, -2.0f, -1.0f, -1.5f, -2.2f});
        for (double beta : new double[] {0, 0.3}) {
            ReverseKlLoss loss = new ReverseKlLoss(ReverseKlLoss.Estimator.TOP_K, beta);
            GradCheck.check(z, new Shape(3, 6), x -> loss.compute(x, teacher,
                    x.getManager().create(new long[] {2, 3, 4}), x.getManager().ones(new Shape(3))).sum());
        }
    }

    @Test
    void theSampledEstimatorHasNoOtherDivergence() {
        org.assertj.core.api.Assertions.assertThatThrownBy(
                () -> new ReverseKlLoss(ReverseKlLoss.Estimator.SAMPLED, 0.5))
                .hasMessageContaining("top-k alternatives");
    }

    @Test
    void topKGradientMatchesFiniteDifferences() {
        Random rnd = new Random(3);
        double[] z = new double[3 * 6];
        for (int i = 0; i < z.length; i++) z[i] = rnd.nextGaussian() * 1.5;
        // rows: own token first, then alternatives; an unused slot (-1); a repeated id merged by TopKTeacher.of
        TopKTeacher teacher = TopKTeacher.of(3, new long[] {2, 0, 5, 3, -1, 1, 4, 4, 0},
                new float[] {-1.2f, -0.9f, -2.5f, -0.3f, Float.NEGATIVE_INFINITY, -2.0f, -1.0f, -1.5f, -2.2f});
        ReverseKlLoss loss = new ReverseKlLoss(ReverseKlLoss.Estimator.TOP_K);
        GradCheck.check(z, new Shape(3, 6), x -> loss.compute(x, teacher, x.getManager().create(new long[] {2, 3, 4}),
                x.getManager().ones(new Shape(3))).sum());
    }

    @Test
    void sampledGradientIsTheLogRatioTimesTheFiniteDifferenceGradientOfLogS() {
        Random rnd = new Random(5);
        double[] z = new double[7];
        for (int i = 0; i < z.length; i++) z[i] = rnd.nextGaussian();
        int y = 4;
        float logT = -2.3f;
        TopKTeacher teacher = TopKTeacher.of(1, new long[] {y}, new float[] {logT});
        Result r = run(new ReverseKlLoss(ReverseKlLoss.Estimator.SAMPLED), z, new Shape(1, 7), teacher, new long[] {y});
        double d = logSoftmax(z)[y] - logT;
        assertThat(r.value).isCloseTo(d, within(1e-6));
        double h = 1e-5;
        for (int i = 0; i < z.length; i++) {
            double[] plus = z.clone();
            double[] minus = z.clone();
            plus[i] += h;
            minus[i] -= h;
            double fd = d * (logSoftmax(plus)[y] - logSoftmax(minus)[y]) / (2 * h);
            assertThat(r.grad[i]).as("∂/∂z_" + i).isCloseTo(fd, within(1e-7));
        }
    }

    /**
     * E_{y∼s}[∇ℓ(y)] = ∇KL(s ‖ t): the sampled estimator, averaged over every token y the student could sample with
     * its probability, is the gradient of the exact reverse KL (finite differences of KL computed here in double).
     */
    @Test
    void sampledEstimatorIsUnbiasedForTheGradientOfTheReverseKl() {
        Random rnd = new Random(11);
        int v = 6;
        double[] z = new double[v];
        double[] logT = new double[v];
        for (int i = 0; i < v; i++) z[i] = rnd.nextGaussian() * 1.3;
        double[] tz = new double[v];
        for (int i = 0; i < v; i++) tz[i] = rnd.nextGaussian() * 1.3;
        logT = logSoftmax(tz);
        double[] s = exp(logSoftmax(z));
        double[] expected = new double[v];
        for (int y = 0; y < v; y++) {
            TopKTeacher teacher = TopKTeacher.of(1, new long[] {y}, new float[] {(float) logT[y]});
            Result r = run(new ReverseKlLoss(ReverseKlLoss.Estimator.SAMPLED), z, new Shape(1, v), teacher,
                    new long[] {y});
            for (int i = 0; i < v; i++) expected[i] += s[y] * r.grad[i];
        }
        double h = 1e-5;
        for (int i = 0; i < v; i++) {
            double[] plus = z.clone();
            double[] minus = z.clone();
            plus[i] += h;
            minus[i] -= h;
            double fd = (kl(plus, logT) - kl(minus, logT)) / (2 * h);
            assertThat(expected[i]).as("E[∇] vs ∇KL at z_" + i).isCloseTo(fd, within(1e-5));
        }
    }

    @Test
    void rowsWhoseFirstIdIsNotTheSampledTokenCarryNoSignal() {
        TopKTeacher teacher = TopKTeacher.of(1, new long[] {0, -1}, new float[] {-1f, Float.NEGATIVE_INFINITY});
        Result r = run(new ReverseKlLoss(ReverseKlLoss.Estimator.SAMPLED), new double[] {0, 1, 2, 3, 4, 5},
                new Shape(2, 3), teacher, new long[] {1, 2});
        assertThat(r.sum.positions()).isZero();
        assertThat(r.value).isZero();
        assertThat(r.grad).containsOnly(0.0);
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private record Result(double value, double[] grad, LossSum sum) {}

    private static Result run(ReverseKlLoss loss, double[] z, Shape shape, TopKTeacher teacher, long[] targets) {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(z, shape);
            x.setRequiresGradient(true);
            LossSum sum;
            double value;
            try (GradientCollector c = Engine.getInstance().newGradientCollector()) {
                sum = loss.compute(x, teacher, m.create(targets), m.ones(new Shape(targets.length)));
                value = sum.sum().getDouble();
                c.backward(sum.sum());
            }
            return new Result(value, x.getGradient().toDoubleArray(), sum);
        }
    }

    private static double[] logSoftmax(double[] z) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) max = Math.max(max, v);
        double sum = 0;
        for (double v : z) sum += Math.exp(v - max);
        double log = max + Math.log(sum);
        double[] out = new double[z.length];
        for (int i = 0; i < z.length; i++) out[i] = z[i] - log;
        return out;
    }

    private static double[] exp(double[] x) {
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) out[i] = Math.exp(x[i]);
        return out;
    }

    private static double kl(double[] z, double[] logT) {
        double[] logS = logSoftmax(z);
        double kl = 0;
        for (int i = 0; i < z.length; i++) kl += Math.exp(logS[i]) * (logS[i] - logT[i]);
        return kl;
    }
}
