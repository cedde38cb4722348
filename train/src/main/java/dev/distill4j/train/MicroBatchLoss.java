package dev.distill4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.distill4j.model.nn.CausalLM;
import dev.distill4j.train.data.Batch;
import dev.distill4j.train.loss.ChunkedLoss;
import dev.distill4j.train.loss.Divergence;
import dev.distill4j.train.loss.FullKdLoss;
import dev.distill4j.train.loss.LossSum;
import dev.distill4j.train.loss.ReverseKlLoss;
import dev.distill4j.train.loss.SftLoss;
import dev.distill4j.train.loss.TopKKdLoss;
import java.util.Arrays;

/**
 * The training loss of one micro-batch, and its backward pass:
 * <pre>
 *   rows   = LearnedRows.of(batch)                          N positions whose next token is learned
 *   h      = student trunk(input)[rows]                     [N, D]
 *   h_T    = teacher trunk(input)[rows]                     [N, D], --loss full only, no gradient
 *   L      = Σ_chunks loss(lm_head(h_chunk), target_chunk)  ChunkedLoss: never a whole [N × V] tensor
 *   backward(L / P)                                         P = learned positions in the whole optimizer step
 * </pre>
 * where the per-row loss is {@link SftLoss} (cross-entropy), {@link TopKKdLoss} (the recorded top-k) or
 * {@link FullKdLoss} (the local teacher's full distribution, through {@code --beta}'s divergence). On the student's
 * own samples (on-policy steps) the full-logit loss is the divergence alone: cross-entropy on the student's own tokens
 * would reinforce whatever it sampled. With a remote teacher ({@code --on-policy-teacher}) an on-policy batch carries
 * the teacher's scores as its KD rows and the loss is {@link ReverseKlLoss} (per-token reverse KL, or with the
 * teacher's top-k and {@code --beta} GKD's generalized JSD over the listed buckets).
 */
final class MicroBatchLoss {
    private final NDManager manager;
    private final CausalLM student;
    private final CausalLM teacher;   // null unless mode is FULL
    private final LossMode mode;
    private final int chunkRows;
    private final SftLoss sft = new SftLoss();
    private final TopKKdLoss topK;
    private final FullKdLoss full;
    private final FullKdLoss onPolicy;
    private final ReverseKlLoss remote;   // null without --on-policy-teacher

    MicroBatchLoss(TrainConfig config, NDManager manager, CausalLM student, CausalLM teacher, LossMode mode) {
        this.manager = manager;
        this.student = student;
        this.teacher = teacher;
        this.mode = mode;
        this.chunkRows = config.chunkRows() > 0 ? config.chunkRows()
                : ChunkedLoss.rowsFor(student.config().vocabSize());
        this.topK = new TopKKdLoss(config.alpha(), config.temperature());
        Divergence divergence = config.beta() == null ? new Divergence.ForwardKl()
                : new Divergence.GeneralizedJsd(config.beta());
        this.full = new FullKdLoss(divergence, config.temperature(), config.alpha());
        this.onPolicy = new FullKdLoss(divergence, config.temperature());
        this.remote = config.onPolicyTeacher() == null ? null : new ReverseKlLoss(
                config.onPolicyTeacher().topLogprobs() > 0 ? ReverseKlLoss.Estimator.TOP_K
                        : ReverseKlLoss.Estimator.SAMPLED, config.beta() == null ? 1.0 : config.beta());
    }

    /**
     * Accumulates the gradient of {@code L / stepPositions} into {@code collector}. The micro-batch's tensors live in
     * a sub-manager closed here; the returned sums' total is moved to the trainer's manager for the caller to close.
     */
    LossSum backward(GradientCollector collector, Batch b, long stepPositions, boolean onPolicyStep) {
        LearnedRows rows = rows(b, onPolicyStep);
        try (NDManager scope = manager.newSubManager()) {
            NDArray ids = scope.create(b.inputIds(), new Shape(b.size(), b.seqLen()));
            NDArray attention = scope.create(b.attentionMask(), new Shape(b.size(), b.seqLen()));
            NDArray teacherRows = teacherHidden(ids, attention, rows);
            NDArray hidden = rows.hidden(student, ids, attention);
            LossSum sum = ChunkedLoss.backward(collector, hidden, student::logits,
                    (logits, from, to) -> loss(logits, rows, teacherRows, from, to, onPolicyStep), stepPositions,
                    chunkRows);
            sum.sum().attach(manager);
            return sum;
        }
    }

    /** The rows of {@code b} this loss learns. */
    LearnedRows rows(Batch b) {
        return LearnedRows.of(b, mode);
    }

    /** Rows of an on-policy batch scored by the remote teacher: its KD rows are the teacher's scores. */
    private LearnedRows rows(Batch b, boolean onPolicyStep) {
        return onPolicyStep && remote != null ? LearnedRows.of(b, LossMode.TOPK) : rows(b);
    }

    /** The teacher's hidden states [N, D] at the rows, without gradient; null without a local teacher. */
    NDArray teacherHidden(NDArray ids, NDArray attention, LearnedRows rows) {
        return mode == LossMode.FULL ? rows.hidden(teacher, ids, attention).stopGradient() : null;
    }

    /** The training loss of rows [from, to) given their student logits [to - from, V]. */
    LossSum loss(NDArray logits, LearnedRows rows, NDArray teacherRows, long from, long to, boolean onPolicyStep) {
        NDManager m = logits.getManager();
        NDArray targets = m.create(Arrays.copyOfRange(rows.targets(), (int) from, (int) to));
        NDArray mask = m.ones(new Shape(to - from));
        if (onPolicyStep && remote != null) return remote.compute(logits, rows.topK().rows((int) from, (int) to),
                targets, mask);
        return switch (mode) {
            case SFT, AUTO -> sft.compute(logits, targets, mask);
            case TOPK -> topK.compute(logits, rows.topK().rows((int) from, (int) to), targets, mask);
            case FULL -> (onPolicyStep ? onPolicy : full).compute(logits, teacherLogits(teacherRows, m, from, to),
                    targets, mask);
        };
    }

    /** The teacher's logits [to - from, V] of hidden rows [from, to), in {@code m}. */
    NDArray teacherLogits(NDArray teacherRows, NDManager m, long from, long to) {
        NDArray h = teacherRows.get(new NDIndex("{}:{}", from, to));
        h.attach(m);
        NDArray logits = teacher.logits(h);
        logits.attach(m);
        return logits;
    }

    /** Rows per LM-head chunk: --chunk-rows, or what keeps a chunk's [rows × V] logits small. */
    int chunkRows() { return chunkRows; }

    static double value(NDArray scalar) {
        return scalar.toType(DataType.FLOAT64, false).getDouble();
    }
}
