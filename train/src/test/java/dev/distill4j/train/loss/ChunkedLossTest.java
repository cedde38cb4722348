package dev.distill4j.train.loss;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.distill4j.train.optim.Gradients;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ChunkedLossTest {
    private static final int N = 11, IN = 4, D = 6, V = 7;

    @Test
    void chunkedBackwardGivesTheWholeBatchGradient() {
        Random random = new Random(3);
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray x = manager.create(random.doubles(N * IN, -1, 1).toArray(), new Shape(N, IN));
            NDArray trunk = manager.create(random.doubles(IN * D, -1, 1).toArray(), new Shape(IN, D));
            NDArray lmHead = manager.create(random.doubles(D * V, -1, 1).toArray(), new Shape(D, V));
            NDArray teacherHead = manager.create(random.doubles(D * V, -2, 2).toArray(), new Shape(D, V));
            NDArray mask = manager.create(new double[] {0, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1});
            NDArray targets = manager.create(new long[] {0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3});
            List<NDArray> params = List.of(trunk, lmHead);
            params.forEach(p -> p.setRequiresGradient(true));
            FullKdLoss loss = new FullKdLoss(new Divergence.GeneralizedJsd(0.5), 2.0, 0.8);

            // Whole batch, one backward.
            double wholeValue;
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray hidden = x.matMul(trunk).tanh();
                NDArray teacher = x.matMul(trunk).tanh().stopGradient().matMul(teacherHead);
                LossSum whole = loss.compute(hidden.matMul(lmHead), teacher, targets, mask);
                collector.backward(whole.mean());
                wholeValue = whole.mean().getDouble();
            }
            double[] trunkGrad = trunk.getGradient().toDoubleArray();
            double[] headGrad = lmHead.getGradient().toDoubleArray();
            Gradients.zero(params);

            // Chunks of 4 rows (4 + 4 + 3), the teacher computed per chunk.
            LossSum chunked;
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray hidden = x.matMul(trunk).tanh();
                long total = Math.round(mask.sum().getDouble());
                chunked = ChunkedLoss.backward(collector, hidden, h -> h.matMul(lmHead), (logits, from, to) -> {
                    NDIndex rows = new NDIndex("{}:{}", from, to);
                    NDArray teacher = hidden.get(rows).stopGradient().matMul(teacherHead);
                    return loss.compute(logits, teacher, targets.get(rows), mask.get(rows));
                }, total, 4);
            }
            assertThat(chunked.mean().getDouble()).isCloseTo(wholeValue, within(1e-12));
            assertThat(chunked.positions()).isEqualTo(9);
            assertThat(trunk.getGradient().toDoubleArray()).containsExactly(trunkGrad, within(1e-12));
            assertThat(lmHead.getGradient().toDoubleArray()).containsExactly(headGrad, within(1e-12));
            assertThat(Gradients.globalNorm(params)).isGreaterThan(1e-3);
        }
    }
}
