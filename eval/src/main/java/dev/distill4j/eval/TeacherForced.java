package dev.distill4j.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.distill4j.model.nn.CausalLM;
import dev.distill4j.train.data.KdTargets;
import dev.distill4j.train.data.TrainingExample;
import dev.distill4j.train.loss.LossSum;
import dev.distill4j.train.loss.SftLoss;
import dev.distill4j.train.loss.TopKKdLoss;
import dev.distill4j.train.loss.TopKTeacher;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Teacher-forced fidelity: the student reads the teacher's reply (the training examples of the held-out prompts,
 * built by {@code ExampleBuilder} exactly as for training) and is scored at every learned position, i.e. where
 * {@code labels[t] ≠ −100}, from the logits at {@code t − 1}:
 *
 * <ul>
 *   <li><b>NLL</b>: mean of {@code −log softmax(z)[y]} over learned positions (the training CE); perplexity is
 *       {@code exp(NLL)};
 *   <li><b>top-1 agreement</b>: share of learned positions where the student's most likely token is the teacher's
 *       token {@code y};
 *   <li><b>KL</b>: mean of {@code KL(q ‖ s)} over the k + 1 buckets of {@link TopKKdLoss} at T = 1, over the learned
 *       positions that carry a top-k target (the training KD term with α = 1, T = 1).
 * </ul>
 *
 * Sums come from the training losses themselves ({@link TopKKdLoss}, {@link SftLoss}), so eval and training can
 * never define them differently.
 */
public final class TeacherForced {
    private static final TopKKdLoss KL = new TopKKdLoss(1.0, 1.0);
    private static final SftLoss CE = new SftLoss();

    /**
     * @param examples     scored examples
     * @param positions    learned positions
     * @param nllSum       Σ CE over them
     * @param agreements   positions where the student's argmax is the teacher's token
     * @param klPositions  positions with a top-k target
     * @param klSum        Σ KL over them
     */
    public record Result(int examples, long positions, double nllSum, long agreements, long klPositions,
                         double klSum) {
        public static final Result EMPTY = new Result(0, 0, 0, 0, 0, 0);

        public Result plus(Result o) {
            return new Result(examples + o.examples, positions + o.positions, nllSum + o.nllSum,
                    agreements + o.agreements, klPositions + o.klPositions, klSum + o.klSum);
        }

        public Double nll() { return positions == 0 ? null : nllSum / positions; }

        public Double perplexity() { return positions == 0 ? null : Math.exp(nllSum / positions); }

        public Double top1Agreement() { return positions == 0 ? null : (double) agreements / positions; }

        /** Mean KL over positions with a top-k target; null when no example had one (TEXT teachers). */
        public Double kl() { return klPositions == 0 ? null : klSum / klPositions; }

        /** Share of learned positions that carried a top-k target. */
        public double klShare() { return positions == 0 ? 0 : (double) klPositions / positions; }
    }

    private final CausalLM model;

    public TeacherForced(CausalLM model) {
        this.model = model;
    }

    /** Scores every example, calling {@code progress} with the count done after each. */
    public Result score(List<TrainingExample> examples, IntConsumer progress) {
        Result total = Result.EMPTY;
        int done = 0;
        for (TrainingExample e : examples) {
            total = total.plus(score(e));
            progress.accept(++done);
        }
        return total;
    }

    public Result score(TrainingExample e) {
        int n = e.length() - 1;                    // row t predicts the token at t + 1
        if (n < 1) return new Result(1, 0, 0, 0, 0, 0);
        int vocab = model.config().vocabSize();
        long[] targets = new long[n];
        float[] mask = new float[n];
        for (int t = 0; t < n; t++) {
            int label = e.labels()[t + 1];
            targets[t] = label;
            mask[t] = label == TrainingExample.IGNORE ? 0f : 1f;
        }
        try (NDManager m = model.manager().newSubManager()) {
            NDArray logits = model.forward(m.create(e.inputIds(), new Shape(1, e.length())), null, null)
                    .reshape(e.length(), vocab).get("0:" + n);
            NDArray target = m.create(targets);
            NDArray maskArr = m.create(mask);
            TopKTeacher teacher = topK(e.kd(), n);
            LossSum sum = teacher == null ? CE.compute(logits, target, maskArr)
                    : KL.compute(logits, teacher, target, maskArr);
            long[] argmax = logits.argMax(1).toLongArray();
            long agree = 0;
            for (int t = 0; t < n; t++) if (mask[t] != 0 && argmax[t] == targets[t]) agree++;
            return new Result(1, sum.positions(), sum.ceSum(), agree, sum.kdPositions(), sum.kdSum());
        }
    }

    /**
     * The example's KD targets as the top-k loss's input over rows {@code 0..n−1} (row t = example position t + 1):
     * unused slots (logprob −∞) and rows without a target get id −1. Null when the example has no targets.
     */
    static TopKTeacher topK(KdTargets kd, int rows) {
        if (kd == null || kd.k() == 0 || kd.presentCount() == 0) return null;
        int k = kd.k();
        long[] ids = new long[rows * k];
        float[] logprobs = new float[rows * k];
        Arrays.fill(ids, -1);
        for (int r = 0; r < kd.length(); r++) {
            int row = kd.start() + r - 1;
            if (!kd.present()[r] || row < 0 || row >= rows) continue;
            for (int j = 0; j < k; j++) {
                float lp = kd.logprobs()[r * k + j];
                if (lp == Float.NEGATIVE_INFINITY) continue;
                ids[row * k + j] = kd.ids()[r * k + j];
                logprobs[row * k + j] = lp;
            }
        }
        return TopKTeacher.of(k, ids, logprobs);
    }
}
