package dev.distill4j.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.distill4j.train.loss.Divergence;
import dev.distill4j.train.loss.FullKdLoss;
import dev.distill4j.train.loss.LossSum;
import dev.distill4j.train.loss.TopKKdLoss;
import dev.distill4j.train.loss.TopKTeacher;
import dev.distill4j.train.optim.AdamW;
import dev.distill4j.train.optim.GradClip;
import dev.distill4j.train.optim.Gradients;
import dev.distill4j.train.optim.LrSchedule;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * A linear "student" (logits = x·W) distilled from a fixed linear teacher with the real losses and optimizer: the
 * teacher is reachable, so a working loss + AdamW + clipping + schedule must drive the divergence towards 0.
 */
class DistillationConvergenceTest {
    private static final int N = 48, D = 12, V = 24, K = 5, STEPS = 60;

    private final Random random = new Random(42);
    private final float[] features = gaussian(N * D, 1.0);
    private final float[] teacherWeights = gaussian(D * V, 0.6);

    private float[] gaussian(int size, double scale) {
        float[] values = new float[size];
        for (int i = 0; i < size; i++) values[i] = (float) (random.nextGaussian() * scale);
        return values;
    }

    /** Trains W from zero with the given per-step loss; returns the loss's KD mean at the first and last step. */
    private double[] train(NDManager manager, Function<NDArray, LossSum> loss) {
        NDArray x = manager.create(features, new Shape(N, D));
        NDArray w = manager.zeros(new Shape(D, V));
        w.setRequiresGradient(true);
        Map<String, NDArray> params = Map.of("lm_head.weight", w);
        LrSchedule schedule = new LrSchedule(0.1, 0.01, 10, STEPS);
        double first = Double.NaN, last = Double.NaN;
        try (AdamW adamW = AdamW.builder().optWeightDecay(0.0).build()) {
            for (int step = 0; step < STEPS; step++) {
                try (NDManager scope = manager.newSubManager()) {
                    scope.tempAttachAll(x, w);
                    try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                        LossSum result = loss.apply(x.matMul(w));
                        collector.backward(result.mean());
                        if (step == 0) first = result.kdMean();
                        last = result.kdMean();
                    }
                }
                GradClip.clip(params.values(), 5.0);
                adamW.step(params, schedule.at(step + 1));
                Gradients.zero(params.values());
            }
        }
        return new double[] {first, last};
    }

    @Test
    void topKDistillationConverges() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray teacherLogits = manager.create(features, new Shape(N, D)).matMul(manager.create(teacherWeights, new Shape(D, V)));
            NDArray teacherLogProbs = teacherLogits.logSoftmax(1);
            var top = teacherLogProbs.topK(K, 1, true, true);
            float[] logprobs = top.get(0).toFloatArray();
            long[] ids = top.get(1).toLongArray();
            TopKTeacher teacher = TopKTeacher.of(K, ids, logprobs);
            NDArray chosen = manager.create(ids, new Shape(N, K)).get(":, 0");
            NDArray mask = manager.ones(new Shape(N));
            TopKKdLoss loss = new TopKKdLoss(1.0, 1.0);

            double[] kd = train(manager, logits -> loss.compute(logits, teacher, chosen, mask));
            assertThat(kd[0]).isGreaterThan(0.1);
            assertThat(kd[1]).isLessThan(kd[0] / 10);
        }
    }

    @Test
    void fullLogitForwardKlConverges() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray teacherLogits = manager.create(features, new Shape(N, D)).matMul(manager.create(teacherWeights, new Shape(D, V)));
            NDArray mask = manager.ones(new Shape(N));
            FullKdLoss loss = new FullKdLoss(new Divergence.ForwardKl(), 1.0);

            double[] kd = train(manager, logits -> loss.compute(logits, teacherLogits, mask));
            assertThat(kd[0]).isGreaterThan(0.1);
            assertThat(kd[1]).isLessThan(kd[0] / 10);
        }
    }
}
