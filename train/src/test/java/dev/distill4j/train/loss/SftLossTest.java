package dev.distill4j.train.loss;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

class SftLossTest {
    private final SftLoss loss = new SftLoss();

    @Test
    void meanCrossEntropyOverMaskedPositionsByHand() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray logits = manager.create(new float[] {1, 2, 3, 0, 0, 0, 5, 1, -1}, new Shape(3, 3));
            // The third position is masked out and carries an ignore label, as a prompt token would.
            LossSum result = loss.compute(logits, manager.create(new long[] {2, 1, -100}),
                    manager.create(new float[] {1, 1, 0}));
            // CE_0 = log(e + e² + e³) − 3 = log(1 + e⁻¹ + e⁻²); CE_1 = log 3.
            double ce0 = Math.log(1 + Math.exp(-1) + Math.exp(-2));
            double ce1 = Math.log(3);
            assertThat(ce0).isCloseTo(0.4076059644, within(1e-9));
            assertThat(result.positions()).isEqualTo(2);
            assertThat(result.kdPositions()).isZero();
            assertThat(result.mean().getFloat()).isCloseTo((float) ((ce0 + ce1) / 2), within(1e-6f));
            assertThat(result.ceMean()).isCloseTo((ce0 + ce1) / 2, within(1e-6));
        }
    }

    @Test
    void batchShapedLogitsEqualTheirRows() {
        try (NDManager manager = NDManager.newBaseManager()) {
            double[] z = {0.3, -1.2, 2.0, 0.1, 1.5, -0.7, 0.0, 0.4, -2.2, 1.1, 0.9, 0.2};
            NDArray targets = manager.create(new long[] {0, 2, 1, 2});
            NDArray mask = manager.create(new float[] {1, 0, 1, 1});
            double batched = loss.compute(manager.create(z, new Shape(2, 2, 3)), targets.reshape(2, 2),
                    mask.reshape(2, 2)).mean().getDouble();
            double expected = (Reference.crossEntropy(Reference.row(z, 0, 3), 0)
                    + Reference.crossEntropy(Reference.row(z, 2, 3), 1)
                    + Reference.crossEntropy(Reference.row(z, 3, 3), 2)) / 3;
            assertThat(batched).isCloseTo(expected, within(1e-12));
        }
    }

    @Test
    void chunksComposeToTheWholeBatchMean() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray z = manager.randomNormal(new Shape(6, 4));
            NDArray targets = manager.create(new long[] {0, 1, 2, 3, 0, 1});
            NDArray mask = manager.create(new float[] {1, 1, 0, 1, 1, 0});
            double whole = loss.compute(z, targets, mask).mean().getFloat();
            LossSum first = loss.compute(z.get("0:2"), targets.get("0:2"), mask.get("0:2"));
            LossSum second = loss.compute(z.get("2:"), targets.get("2:"), mask.get("2:"));
            assertThat(first.plus(second).mean().getFloat()).isCloseTo((float) whole, within(1e-6f));
            assertThat(first.plus(second).positions()).isEqualTo(4);
        }
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        double[] z = {0.3, -1.2, 2.0, 0.1, 1.5, -0.7, 0.0, 0.4, -2.2, 1.1, 0.9, 0.2};
        GradCheck.check(z, new Shape(3, 4), x -> loss.compute(x, x.getManager().create(new long[] {3, 0, 2}),
                x.getManager().create(new double[] {1, 1, 0.0})).mean());
    }

    @Test
    void mismatchedMaskIsRejected() {
        try (NDManager manager = NDManager.newBaseManager()) {
            assertThatThrownBy(() -> loss.compute(manager.zeros(new Shape(3, 4)), manager.create(new long[] {0, 0, 0}),
                    manager.create(new float[] {1, 1})))
                    .hasMessageContaining("mask has 2 elements but the logits have 3 rows");
        }
    }
}
