package dev.distill4j.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The tuner's pooled-sentence losses: values on hand-computed cases and gradients against finite differences. */
class StaticTunerLossTest {
    NDManager m;

    @BeforeEach
    void open() { m = Engine.getEngine("PyTorch").newBaseManager(); }

    @AfterEach
    void close() { m.close(); }

    // s: two unit vectors; y: targets whose directions are (1,1)/√2 and (0,1), norms √2 and 2
    private NDArray s() { return m.create(new double[] {1, 0, 0, 1}, new Shape(2, 2)); }

    private NDArray y() { return m.create(new double[] {1, 1, 0, 2}, new Shape(2, 2)); }

    @Test
    void cosineLossIsOneMinusTheMeanCosine() {
        double expected = ((1 - Math.sqrt(0.5)) + (1 - 1)) / 2;   // 0.1464…
        assertThat(StaticTuner.loss(s(), y(), StaticTuner.Loss.COSINE, 1).getDouble()).isCloseTo(expected, within(1e-12));
    }

    @Test
    void mseLossIsTheMeanSquaredDifferenceToTheUnnormalisedTarget() {
        // (1−1)² + (0−1)² + (0−0)² + (1−2)² over 4 elements
        assertThat(StaticTuner.loss(s(), y(), StaticTuner.Loss.MSE, 1).getDouble()).isCloseTo(0.5, within(1e-12));
    }

    @Test
    void contrastiveLossIsInBatchCrossEntropyOverScaledCosines() {
        double tau = 0.5, c = Math.sqrt(0.5);
        // logits[i][j] = s_i · ŷ_j / τ: row 0 = (c, 0)/τ, row 1 = (c, 1)/τ; the diagonal is the positive
        double row0 = c / tau - Math.log(Math.exp(c / tau) + Math.exp(0));
        double row1 = 1 / tau - Math.log(Math.exp(c / tau) + Math.exp(1 / tau));
        assertThat(StaticTuner.loss(s(), y(), StaticTuner.Loss.CONTRASTIVE, tau).getDouble())
                .isCloseTo(-(row0 + row1) / 2, within(1e-12));
    }

    @Test
    void pooledVectorIsWhatTheStudentComputesAtInference() {
        Random r = new Random(3);
        float[] table = new float[6 * 4];
        for (int i = 0; i < table.length; i++) table[i] = (float) r.nextGaussian();
        int[][] sentences = {{0, 3, 3, 5}, {2}, {1, 4}};
        // the batch of sentences 0 and 1 reads rows 0, 2, 3, 5 only, and pools over those rows alone
        StaticTuner.Batch b = StaticTuner.Batch.of(sentences, new float[][] {new float[4], new float[4], new float[4]},
                new int[] {0, 1}, 4);
        assertThat(b.rows()).containsExactly(0, 2, 3, 5);
        float[] rows = new float[b.rows().length * 4];
        for (int i = 0; i < b.rows().length; i++) System.arraycopy(table, b.rows()[i] * 4, rows, i * 4, 4);
        float[] pooled = StaticTuner.pool(m.create(rows, new Shape(b.rows().length, 4)),
                m.create(b.ids(), new Shape(2, b.length())), m.create(b.mask(), new Shape(2, b.length()))).toFloatArray();
        for (int i = 0; i < 2; i++) {
            float[] expected = StaticEmbeddingModel.pool(table, 4, sentences[i]);
            for (int k = 0; k < 4; k++) assertThat(pooled[i * 4 + k]).isCloseTo(expected[k], within(1e-6f));
        }
    }

    @Test
    void structureLossIsTheMeanSquaredGapOfPairwiseCosines() {
        // s = rows (1,0), (0,1): student cosine 0; ŷ = (1,1)/√2, (0,1): target cosine √½; two ordered pairs
        assertThat(StaticTuner.structure(s(), y()).getDouble()).isCloseTo(0.5, within(1e-12));
        NDArray s3 = m.create(new double[] {1, 0, 0.6, 0.8, 0, 1}, new Shape(3, 2));
        NDArray y3 = m.create(new double[] {2, 0, 0, 3, 0, 1}, new Shape(3, 2));   // ŷ: (1,0), (0,1), (0,1)
        // pair gaps: (0,1) 0.6 − 0 ; (0,2) 0 − 0 ; (1,2) 0.8 − 1 → (0.36 + 0 + 0.04) · 2 / 6
        assertThat(StaticTuner.structure(s3, y3).getDouble()).isCloseTo(0.8 / 6, within(1e-12));
    }

    @Test
    void gradientOfTheStructureLossMatchesFiniteDifferences() {
        Random r = new Random(5);
        int vocab = 6, dim = 3;
        double[] table = new double[vocab * dim];
        for (int i = 0; i < table.length; i++) table[i] = r.nextGaussian();
        double[] targets = new double[3 * dim];
        for (int i = 0; i < targets.length; i++) targets[i] = r.nextGaussian();
        long[] ids = {0, 1, 1, 2, 3, 4, 0, 0, 2, 0, 0, 0};
        double[] mask = {1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 0, 0};
        NDArray w = m.create(table, new Shape(vocab, dim));
        w.setRequiresGradient(true);
        try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            gc.backward(structureAt(w, ids, mask, targets));
        }
        double[] analytic = w.getGradient().toDoubleArray();
        double h = 1e-6;
        for (int i = 0; i < table.length; i++) {
            double[] plus = table.clone(), minus = table.clone();
            plus[i] += h;
            minus[i] -= h;
            double numeric = (structureAt(m.create(plus, new Shape(vocab, dim)), ids, mask, targets).getDouble()
                    - structureAt(m.create(minus, new Shape(vocab, dim)), ids, mask, targets).getDouble()) / (2 * h);
            assertThat(analytic[i]).as("∂L/∂E[%d][%d]", i / dim, i % dim).isCloseTo(numeric, within(1e-7 + 1e-6 * Math.abs(numeric)));
        }
    }

    private NDArray structureAt(NDArray table, long[] ids, double[] mask, double[] targets) {
        NDArray s = StaticTuner.pool(table, m.create(ids, new Shape(3, 4)), m.create(mask, new Shape(3, 4)));
        return StaticTuner.structure(s, m.create(targets, new Shape(3, 3)).toType(DataType.FLOAT64, false));
    }

    @ParameterizedTest
    @EnumSource(StaticTuner.Loss.class)
    void gradientOfThePooledLossMatchesFiniteDifferences(StaticTuner.Loss loss) {
        Random r = new Random(11);
        int vocab = 6, dim = 3;   // token 5 appears in no sentence
        double[] table = new double[vocab * dim];
        for (int i = 0; i < table.length; i++) table[i] = r.nextGaussian();
        double[] targets = new double[3 * dim];
        for (int i = 0; i < targets.length; i++) targets[i] = r.nextGaussian();
        // three sentences of different lengths (padding masked), one repeating a token, one sharing tokens
        long[] ids = {0, 1, 1, 2, 3, 4, 0, 0, 2, 0, 0, 0};
        double[] mask = {1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 0, 0};

        NDArray w = m.create(table, new Shape(vocab, dim));
        w.setRequiresGradient(true);
        try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            gc.backward(lossAt(w, ids, mask, targets, loss));
        }
        double[] analytic = w.getGradient().toDoubleArray();

        double h = 1e-6;
        for (int i = 0; i < table.length; i++) {
            double[] plus = table.clone(), minus = table.clone();
            plus[i] += h;
            minus[i] -= h;
            double numeric = (lossAt(m.create(plus, new Shape(vocab, dim)), ids, mask, targets, loss).getDouble()
                    - lossAt(m.create(minus, new Shape(vocab, dim)), ids, mask, targets, loss).getDouble()) / (2 * h);
            assertThat(analytic[i]).as("∂L/∂E[%d][%d]", i / dim, i % dim).isCloseTo(numeric, within(1e-7 + 1e-6 * Math.abs(numeric)));
        }
        for (int k = 0; k < dim; k++) assertThat(analytic[5 * dim + k]).isZero();
        assertThat(Math.abs(analytic[0]) + Math.abs(analytic[1]) + Math.abs(analytic[2])).isGreaterThan(1e-6);
    }

    private NDArray lossAt(NDArray table, long[] ids, double[] mask, double[] targets, StaticTuner.Loss loss) {
        NDArray s = StaticTuner.pool(table, m.create(ids, new Shape(3, 4)), m.create(mask, new Shape(3, 4)));
        return StaticTuner.loss(s, m.create(targets, new Shape(3, 3)).toType(DataType.FLOAT64, false), loss, 0.3);
    }

    @Test
    void rowAdamIsAdamWWhenEveryRowIsReadAtEveryStep() {
        int rows = 4, dim = 3, steps = 6;
        Random r = new Random(7);
        float[] table = new float[rows * dim];
        for (int i = 0; i < table.length; i++) table[i] = (float) r.nextGaussian();
        StaticTuner.RowAdam lazy = new StaticTuner.RowAdam(table.clone(), dim);
        NDArray dense = m.create(table.clone(), new Shape(rows, dim));
        dense.setRequiresGradient(true);
        int[] all = {0, 1, 2, 3};
        try (dev.distill4j.train.optim.AdamW adamw = dev.distill4j.train.optim.AdamW.builder().optWeightDecay(0).build()) {
            for (int t = 0; t < steps; t++) {
                float[] g = new float[rows * dim];
                for (int i = 0; i < g.length; i++) g[i] = (float) r.nextGaussian() * 0.1f;   // norm < 1: no clipping
                double lr = 0.01 * (t + 1);
                lazy.step(all, g, lr, 1.0);
                try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                    gc.backward(dense.mul(m.create(g, new Shape(rows, dim))).sum());   // ∂/∂θ = g
                }
                adamw.step(java.util.Map.of("table", dense), lr);
                dense.getGradient().subi(dense.getGradient());
            }
        }
        float[] expected = dense.toFloatArray();
        for (int i = 0; i < expected.length; i++) assertThat(lazy.table()[i]).isCloseTo(expected[i], within(1e-6f));
        assertThat(lazy.steps()).isEqualTo(steps);
    }

    @Test
    void rowAdamLeavesRowsAStepDoesNotReadWhereTheyAre() {
        int dim = 2;
        StaticTuner.RowAdam adam = new StaticTuner.RowAdam(new float[] {1, 1, 2, 2, 3, 3}, dim);
        adam.step(new int[] {0, 1, 2}, new float[] {0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f}, 0.1, 0);
        float[] afterFirst = adam.table().clone();
        // row 1 has momentum from the first step; dense Adam would keep moving it, lazy Adam does not
        adam.step(new int[] {0, 2}, new float[] {0.1f, 0.1f, -0.1f, -0.1f}, 0.1, 0);
        assertThat(adam.table()[2]).isEqualTo(afterFirst[2]);
        assertThat(adam.table()[3]).isEqualTo(afterFirst[3]);
        assertThat(adam.table()[0]).isLessThan(afterFirst[0]);
        assertThat(adam.table()[4]).isNotEqualTo(afterFirst[4]);
    }

    @Test
    void rowAdamClipsTheGradientToTheGlobalNorm() {
        // a gradient of norm 10 clipped to 1 moves a fresh row exactly as the same gradient of norm 1 does
        StaticTuner.RowAdam big = new StaticTuner.RowAdam(new float[] {0, 0}, 2), unit = new StaticTuner.RowAdam(new float[] {0, 0}, 2);
        big.step(new int[] {0}, new float[] {6, 8}, 0.1, 1.0);
        unit.step(new int[] {0}, new float[] {0.6f, 0.8f}, 0.1, 0);
        unit.step(new int[] {0}, new float[] {0.6f, 0.8f}, 0.1, 0);
        big.step(new int[] {0}, new float[] {6, 8}, 0.1, 1.0);
        assertThat(big.table()[0]).isCloseTo(unit.table()[0], within(1e-6f));
        assertThat(big.table()[1]).isCloseTo(unit.table()[1], within(1e-6f));
    }
}
