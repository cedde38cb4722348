package dev.distill4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.distill4j.model.nn.CausalLM;
import dev.distill4j.train.data.Batch;
import dev.distill4j.train.data.Batcher;
import dev.distill4j.train.loss.Divergence;
import dev.distill4j.train.loss.FullKdLoss;
import dev.distill4j.train.loss.LossSum;
import dev.distill4j.train.loss.TopKKdLoss;
import java.util.Arrays;
import java.util.List;

/**
 * The evaluation on the held-out prompts (--eval-fraction), over the learned positions P of every held-out batch:
 * <pre>
 *   loss  = Σ_P training loss / |P|                               the training objective, off-policy
 *   top1  = |{p ∈ P : argmax student(p) = target(p)}| / |P|       agreement with the teacher's token
 *   kl    = Σ_P' KL(teacher ‖ student) / |P'|                     P' ⊆ P: positions with a teacher distribution
 * </pre>
 * KL is over the recorded top-k + tail buckets where the run has them ({@link TopKKdLoss} at α = 1, τ = 1), the full
 * forward KL with a local teacher; NaN where no position has either. The batches are epoch 0's order of the held-out
 * examples, the same at every evaluation; no gradient is taken.
 */
final class HeldOutEval {
    private final Batcher batcher;
    private final long seed;
    private final NDManager manager;
    private final CausalLM student;
    private final MicroBatchLoss loss;
    private final TopKKdLoss topKl = new TopKKdLoss(1.0, 1.0);
    private final FullKdLoss forwardKl = new FullKdLoss(new Divergence.ForwardKl(), 1.0);

    HeldOutEval(Batcher batcher, long seed, NDManager manager, CausalLM student, MicroBatchLoss loss) {
        this.batcher = batcher;
        this.seed = seed;
        this.manager = manager;
        this.student = student;
        this.loss = loss;
    }

    /** Evaluates the student as it is after optimizer step {@code step}. */
    Trainer.EvalMetrics evaluate(long step) {
        double lossSum = 0, klSum = 0;
        long positions = 0, agree = 0, klPositions = 0;
        int chunkRows = loss.chunkRows();
        List<int[]> plan = batcher.plan(seed, 0);
        for (int i = 0; i < plan.size(); i++) {
            Batch b = batcher.batch(i, plan.get(i));
            LearnedRows rows = loss.rows(b);
            if (rows.size() == 0) continue;
            try (NDManager scope = manager.newSubManager()) {
                NDArray ids = scope.create(b.inputIds(), new Shape(b.size(), b.seqLen()));
                NDArray attention = scope.create(b.attentionMask(), new Shape(b.size(), b.seqLen()));
                NDArray hidden = rows.hidden(student, ids, attention).stopGradient();
                NDArray teacherRows = loss.teacherHidden(ids, attention, rows);
                for (long from = 0; from < rows.size(); from += chunkRows) {
                    long to = Math.min(rows.size(), from + chunkRows);
                    try (NDManager chunk = scope.newSubManager()) {
                        NDArray h = hidden.get(new NDIndex("{}:{}", from, to));
                        h.attach(chunk);
                        NDArray logits = student.logits(h);
                        LossSum part = loss.loss(logits, rows, teacherRows, from, to, false);
                        lossSum += MicroBatchLoss.value(part.sum());
                        positions += part.positions();
                        NDArray targets = chunk.create(Arrays.copyOfRange(rows.targets(), (int) from, (int) to));
                        agree += logits.argMax(1).eq(targets).sum().toType(DataType.INT64, false).getLong();
                        NDArray mask = chunk.ones(new Shape(to - from));
                        LossSum kl = null;
                        if (teacherRows != null) {
                            kl = forwardKl.compute(logits, loss.teacherLogits(teacherRows, chunk, from, to), mask);
                        } else if (rows.topK() != null) {
                            kl = topKl.compute(logits, rows.topK().rows((int) from, (int) to), targets, mask);
                        }
                        if (kl != null) {
                            klSum += kl.kdSum();
                            klPositions += kl.kdPositions();
                        }
                    }
                }
            }
        }
        return new Trainer.EvalMetrics(step, lossSum / Math.max(1, positions), (double) agree / Math.max(1, positions),
                klPositions == 0 ? Double.NaN : klSum / klPositions, positions);
    }
}
