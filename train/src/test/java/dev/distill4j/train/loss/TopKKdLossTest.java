package dev.distill4j.train.loss;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

class TopKKdLossTest {

    /** KD term for one row in double math: T²·KL(q ‖ s) over the listed ids and the tail. */
    private static double referenceKd(double[] z, long[] ids, double[] logprobs, double temperature) {
        double[] s = Reference.softmax(z, temperature);
        int k = ids.length;
        double[] p = new double[k + 1];
        double[] sb = new double[k + 1];
        double listedTeacher = 0, listedStudent = 0;
        for (int i = 0; i < k; i++) {
            if (ids[i] < 0) continue;
            p[i] = Math.exp(logprobs[i]);
            sb[i] = s[(int) ids[i]];
            listedTeacher += p[i];
            listedStudent += sb[i];
        }
        p[k] = 1 - listedTeacher;
        sb[k] = 1 - listedStudent;
        double norm = 0;
        for (int b = 0; b <= k; b++) norm += Math.pow(p[b], 1 / temperature);
        double[] q = new double[k + 1];
        for (int b = 0; b <= k; b++) q[b] = Math.pow(p[b], 1 / temperature) / norm;
        return temperature * temperature * Reference.kl(q, sb);
    }

    @Test
    void klOverBucketsByHandAtTemperatureOne() {
        try (NDManager manager = NDManager.newBaseManager()) {
            // Student over V = 3 with logits 0: s = (1/3, 1/3, 1/3). Teacher: token 2 with 0.5, token 0 with 0.25,
            // tail 0.25. Buckets: q = (0.5, 0.25, 0.25), s = (1/3, 1/3, 1/3) →
            // KL = 0.5·log 1.5 + 0.25·log 0.75 + 0.25·log 0.75.
            double expected = 0.5 * Math.log(1.5) + 0.5 * Math.log(0.75);
            TopKTeacher teacher = TopKTeacher.of(2, new long[] {2, 0}, new float[] {(float) Math.log(0.5), (float) Math.log(0.25)});
            LossSum result = new TopKKdLoss(1.0, 1.0).compute(manager.zeros(new Shape(1, 3)), teacher,
                    manager.create(new long[] {2}), manager.create(new float[] {1}));
            assertThat(result.mean().getFloat()).isCloseTo((float) expected, within(1e-6f));
            assertThat(result.kdMean()).isCloseTo(expected, within(1e-6));
            assertThat(result.kdPositions()).isEqualTo(1);
        }
    }

    @Test
    void matchesDoubleReferenceWithTemperatureMixingAndUnmappedIds() {
        double[] z = {1.0, 0.0, 2.0, -1.0, 0.5, 0.3, -0.4, 1.7, 0.9, -2.0};
        long[] ids = {2, 0, -1, 3, 4, 1};
        float[] lp = {(float) Math.log(0.6), (float) Math.log(0.3), (float) Math.log(0.05),
                (float) Math.log(0.2), (float) Math.log(0.15), (float) Math.log(0.1)};
        long[] targets = {2, 4};
        double alpha = 0.7, temperature = 2.0;
        try (NDManager manager = NDManager.newBaseManager()) {
            LossSum result = new TopKKdLoss(alpha, temperature).compute(manager.create(z, new Shape(2, 5)),
                    TopKTeacher.of(3, ids, lp), manager.create(targets), manager.create(new double[] {1, 1}));
            double expected = 0;
            for (int row = 0; row < 2; row++) {
                double[] zr = Reference.row(z, row, 5);
                double[] lpr = new double[3];
                for (int i = 0; i < 3; i++) lpr[i] = lp[row * 3 + i];
                double kd = referenceKd(zr, java.util.Arrays.copyOfRange(ids, row * 3, row * 3 + 3), lpr, temperature);
                expected += alpha * kd + (1 - alpha) * Reference.crossEntropy(zr, (int) targets[row]);
            }
            assertThat(result.mean().getDouble()).isCloseTo(expected / 2, within(1e-9));
        }
    }

    @Test
    void unmappedIdMassGoesToTheTail() {
        TopKTeacher teacher = TopKTeacher.of(2, new long[] {2, -1}, new float[] {(float) Math.log(0.6), (float) Math.log(0.3)});
        double[] q = teacher.bucketProbabilities(1.0);
        assertThat(q[0]).isCloseTo(0.6, within(1e-6));
        assertThat(q[1]).isZero();
        assertThat(q[2]).isCloseTo(0.4, within(1e-6));
    }

    @Test
    void repeatedIdsMergeTheirProbability() {
        TopKTeacher teacher = TopKTeacher.of(3, new long[] {4, 1, 4}, new float[] {(float) Math.log(0.5), (float) Math.log(0.2), (float) Math.log(0.1)});
        assertThat(teacher.ids()).containsExactly(4, 1, -1);
        assertThat(Math.exp(teacher.logprobs()[0])).isCloseTo(0.6, within(1e-6));
        assertThat(teacher.bucketProbabilities(1.0)[3]).isCloseTo(0.2, within(1e-6));
    }

    @Test
    void temperedTeacherRenormalisesAndIsExactAtOne() {
        TopKTeacher teacher = TopKTeacher.of(2, new long[] {0, 1}, new float[] {(float) Math.log(0.64), (float) Math.log(0.27)});
        double[] q1 = teacher.bucketProbabilities(1.0);
        assertThat(q1[0]).isCloseTo(0.64, within(1e-6));
        assertThat(q1[2]).isCloseTo(0.09, within(1e-6));
        // T = 2: weights √0.64 = 0.8, √0.27, √0.09 = 0.3.
        double norm = 0.8 + Math.sqrt(0.27) + 0.3;
        double[] q2 = teacher.bucketProbabilities(2.0);
        assertThat(q2[0]).isCloseTo(0.8 / norm, within(1e-6));
        assertThat(q2[2]).isCloseTo(0.3 / norm, within(1e-6));
    }

    @Test
    void positionsWithoutTeacherSignalContributeCrossEntropyOnly() {
        double[] z = {1.0, 0.0, 2.0, -1.0, 0.5, 0.3, -0.4, 1.7};
        try (NDManager manager = NDManager.newBaseManager()) {
            TopKTeacher teacher = TopKTeacher.of(2, new long[] {1, 3, -1, -1}, new float[] {-0.5f, -1.5f, 0f, 0f});
            LossSum result = new TopKKdLoss(0.5, 1.0).compute(manager.create(z, new Shape(2, 4)), teacher,
                    manager.create(new long[] {1, 2}), manager.create(new double[] {1, 1}));
            double kd0 = referenceKd(Reference.row(z, 0, 4), new long[] {1, 3}, new double[] {-0.5f, -1.5f}, 1.0);
            double ce0 = Reference.crossEntropy(Reference.row(z, 0, 4), 1);
            double ce1 = Reference.crossEntropy(Reference.row(z, 1, 4), 2);
            assertThat(result.sum().getDouble()).isCloseTo(0.5 * kd0 + 0.5 * ce0 + ce1, within(1e-9));
            assertThat(result.positions()).isEqualTo(2);
            assertThat(result.kdPositions()).isEqualTo(1);
            assertThat(result.kdShare()).isEqualTo(0.5);
            assertThat(result.kdMean()).isCloseTo(kd0, within(1e-9));
        }
    }

    @Test
    void tinyStudentTailStaysAccurateInFloat32() {
        // The listed token holds all but ~1e-8 of the student's mass: 1 − s₀ is 0 in float32, so a naive tail is
        // log 0. The complement log-sum-exp keeps it.
        double[] z = {20, 0, 0, 0, 0};
        float lp = (float) Math.log1p(-1e-6);
        double expected = referenceKd(z, new long[] {0}, new double[] {lp}, 1.0);
        try (NDManager manager = NDManager.newBaseManager()) {
            LossSum result = new TopKKdLoss(1.0, 1.0).compute(manager.create(new float[] {20, 0, 0, 0, 0}, new Shape(1, 5)),
                    TopKTeacher.of(1, new long[] {0}, new float[] {lp}), manager.create(new long[] {0}),
                    manager.create(new float[] {1}));
            assertThat(expected).isGreaterThan(1e-6);
            // float32 rounds log s₀ ≈ −8e−9 to 0, an absolute error of ~1e−8; a floored or naive tail is off by
            // orders of magnitude more (≥ 5e−5 here) or infinite.
            assertThat((double) result.sum().getFloat()).isCloseTo(expected, within(expected * 1e-2));
        }
    }

    @Test
    void rowListingTheWholeVocabularyStaysFinite() {
        try (NDManager manager = NDManager.newBaseManager()) {
            TopKTeacher teacher = TopKTeacher.of(3, new long[] {0, 1, 2},
                    new float[] {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.2)});
            LossSum result = new TopKKdLoss(1.0, 1.0).compute(manager.create(new float[] {0.5f, 0.1f, -0.3f}, new Shape(1, 3)),
                    teacher, manager.create(new long[] {0}), manager.create(new float[] {1}));
            double[] s = Reference.softmax(new double[] {0.5, 0.1, -0.3}, 1);
            assertThat((double) result.sum().getFloat()).isCloseTo(Reference.kl(new double[] {0.5, 0.3, 0.2}, s), within(1e-5));
        }
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        double[] z = {1.0, 0.0, 2.0, -1.0, 0.5, 0.2, 0.3, -0.4, 1.7, 0.9, -2.0, 0.1, 0.6, 0.6, -0.1, 0.0, 1.2, -0.8};
        long[] ids = {2, 0, 5, 3, -1, 1, -1, -1, -1};
        float[] lp = {-0.7f, -1.4f, -2.5f, -0.4f, -3f, -1.9f, 0f, 0f, 0f};
        TopKTeacher teacher = TopKTeacher.of(3, ids, lp);
        for (double temperature : new double[] {1.0, 2.0}) {
            TopKKdLoss loss = new TopKKdLoss(0.6, temperature);
            GradCheck.check(z, new Shape(3, 6), x -> loss.compute(x, teacher, x.getManager().create(new long[] {2, 3, 4}),
                    x.getManager().create(new double[] {1, 1, 1})).mean());
        }
    }

    @Test
    void chunksOfRowsAddUpToTheWholeBatch() {
        double[] z = {1.0, 0.0, 2.0, -1.0, 0.5, 0.2, 0.3, -0.4, 1.7, 0.9, -2.0, 0.1, 0.6, 0.6, -0.1, 0.0, 1.2, -0.8};
        TopKTeacher teacher = TopKTeacher.of(2, new long[] {2, 0, 5, -1, -1, -1}, new float[] {-0.7f, -1.4f, -0.4f, 0f, 0f, 0f});
        TopKKdLoss loss = new TopKKdLoss(0.5, 2.0);
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray logits = manager.create(z, new Shape(3, 6));
            NDArray targets = manager.create(new long[] {2, 5, 1});
            NDArray mask = manager.create(new double[] {1, 1, 1});
            LossSum whole = loss.compute(logits, teacher, targets, mask);
            LossSum chunked = loss.compute(logits.get("0:1"), teacher.rows(0, 1), targets.get("0:1"), mask.get("0:1"))
                    .plus(loss.compute(logits.get("1:3"), teacher.rows(1, 3), targets.get("1:3"), mask.get("1:3")));
            assertThat(chunked.sum().getDouble()).isCloseTo(whole.sum().getDouble(), within(1e-12));
            assertThat(chunked.kdPositions()).isEqualTo(whole.kdPositions()).isEqualTo(2);
            assertThat(chunked.kdSum()).isCloseTo(whole.kdSum(), within(1e-12));
        }
    }

    @Test
    void idsOutsideTheStudentVocabularyAreRejected() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray z = manager.zeros(new Shape(1, 4));
            assertThatThrownBy(() -> new TopKKdLoss(1, 1).compute(z, TopKTeacher.of(1, new long[] {7}, new float[] {-1f}),
                    manager.create(new long[] {0}), manager.create(new float[] {1})))
                    .hasMessageContaining("outside the student vocabulary of 4");
            assertThatThrownBy(() -> new TopKKdLoss(1.5, 1)).hasMessageContaining("alpha must be in [0, 1]");
        }
    }
}
