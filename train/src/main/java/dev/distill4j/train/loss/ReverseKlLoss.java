package dev.distill4j.train.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.distill4j.model.nn.Scalars;

/**
 * On-policy distillation from a teacher that only scores text (a remote API): the per-token reverse KL from the
 * student to the teacher on the student's own samples (GKD with β = 1, Agarwal et al. 2024; Thinking Machines,
 * "On-Policy Distillation", 2025).
 *
 * <p>At a position with context c the student s = softmax(z) sampled the token y; the teacher's log-probability
 * log t(y | c) of that token is known, and with {@code logprobs: k} also its top-k alternatives. The objective is
 * <pre>
 *   KL(s ‖ t) = Σ_v s(v) (log s(v) − log t(v))          at every sampled position, with the context held fixed
 * </pre>
 * (no credit to earlier tokens for the contexts they lead to: the per-token form, "discount 0" in Thinking
 * Machines' words). Its gradient is
 * <pre>
 *   ∇KL = Σ_v s(v) (log s(v) − log t(v)) ∇log s(v) + Σ_v s(v) ∇log s(v)      and the second sum is ∇Σ s = 0
 *       = E_{y∼s} [ (log s(y) − log t(y)) ∇log s(y) ]
 * </pre>
 * so one sampled token gives an unbiased estimate. Two estimators, by what the teacher returned:
 *
 * <ul>
 *   <li><b>Sampled</b> ({@link Estimator#SAMPLED}, the teacher's logprob of the sampled token only): the
 *       per-token advantage A = −(log s(y) − log t(y)), held constant, times the score function, as a policy
 *       gradient with reward log t − log s:
 *       <pre>
 *         d      = log s(y) − log t(y)                       the k1 estimate of KL(s ‖ t) at this position
 *         ℓ      = d̄ · (log s(y) − log s̄(y)) + d̄            d̄, s̄: values taken out of the graph (constants)
 *         value  = d,   ∇ℓ = d · ∇log s(y) = d · (onehot(y) − s) w.r.t. z
 *       </pre>
 *       The surrogate's value is the KL estimate itself (what metrics show), its gradient the estimator above.</li>
 *   <li><b>Top-k</b> ({@link Estimator#TOP_K}, the teacher's top-k alternatives too): the exact reverse KL between
 *       the two distributions coarsened to the k + 1 buckets of the row (the listed student tokens, one of which is
 *       y, and the tail of everything else, as {@link TopKKdLoss} builds them):
 *       <pre>
 *         ℓ = Σ_b s_b (log s_b − log q_b)          b over the listed ids + the tail;   s_tail = Σ_{v ∉ ids} s(v)
 *       </pre>
 *       a lower bound of the full KL (coarsening never increases a divergence) computed without sampling noise
 *       over the listed tokens. The teacher's bucket probabilities are floored at {@value #Q_FLOOR}: rounded
 *       logprobs can leave a tail of exactly 0, where the reverse KL of any student with tail mass would be
 *       infinite.</li>
 * </ul>
 *
 * With the top-k rows the divergence can also be GKD's generalized JSD over the same buckets ({@code --beta β},
 * Agarwal et al.; {@link Divergence.GeneralizedJsd}, TRL's convention):
 * <pre>
 *   m_b = β q_b + (1 − β) s_b,     ℓ = β Σ_b q_b log(q_b / m_b) + (1 − β) Σ_b s_b log(s_b / m_b)
 *   β = 1: the reverse KL above (the default);   β = 0: the forward KL Σ_b q_b log(q_b / s_b) on the student's text
 * </pre>
 * The forward end is top-k KD's loss ({@link TopKKdLoss}) at the contexts the student wrote: mode-covering where the
 * reverse KL is mode-seeking, which GKD found the better choice for some tasks and student sizes.
 *
 * <p>The sampling distribution must be the student's own (T = 1) for the expectation above; a sampler at another
 * temperature makes the sampled estimator that of a related, tempered objective.
 */
public final class ReverseKlLoss {
    /** Floor of the teacher's bucket probabilities in the top-k estimator. */
    public static final double Q_FLOOR = 1e-8;

    /** Which estimator of the reverse KL a position uses. */
    public enum Estimator { SAMPLED, TOP_K }

    private final Estimator estimator;
    private final double beta;

    /** The reverse KL (β = 1). */
    public ReverseKlLoss(Estimator estimator) {
        this(estimator, 1.0);
    }

    /**
     * @param beta GKD's β over the top-k buckets (1: reverse KL, 0: forward KL); the sampled estimator has only the
     *             sampled token's score, so it is the reverse KL alone
     */
    public ReverseKlLoss(Estimator estimator, double beta) {
        this.estimator = java.util.Objects.requireNonNull(estimator);
        if (!(beta >= 0 && beta <= 1)) throw new IllegalArgumentException("beta must be in [0, 1], got " + beta);
        if (estimator == Estimator.SAMPLED && beta != 1) {
            throw new IllegalArgumentException("the sampled estimator is the reverse KL (beta 1): a divergence with"
                    + " beta " + beta + " needs the teacher's top-k alternatives (top logprobs > 0)");
        }
        this.beta = beta;
    }

    public Estimator estimator() { return estimator; }

    /**
     * @param logits  student logits [N, V] (T = 1)
     * @param teacher per position the student's sampled token first ({@code ids[i·k] = targets[i]}) with the
     *                teacher's log-probability of it, then (top-k) the other listed student tokens; a row whose first
     *                id is not the sampled token carries no signal and is left out
     * @param targets the sampled token at each position
     * @param mask    1 on positions to learn
     * @return the summed surrogate (value: Σ of the per-position KL estimates), with {@code kdSum} the same sum and
     *         {@code ceSum} the student's NLL of its own samples
     */
    public LossSum compute(NDArray logits, TopKTeacher teacher, NDArray targets, NDArray mask) {
        NDArray z = Rows.of(logits, teacher);
        long n = z.getShape().get(0);
        long vocab = z.getShape().get(1);
        DataType type = z.getDataType();
        NDManager manager = z.getManager();
        int k = teacher.k();
        long[] y = Rows.perRow(targets, n, DataType.INT64, "target").toLongArray();
        float[] m = Rows.perRow(mask, n, DataType.FLOAT32, "mask").toFloatArray();
        // signal: the row lists the sampled token first, with a finite teacher logprob
        float[] signal = new float[(int) n];
        double[] logT = new double[(int) n];
        for (int i = 0; i < n; i++) {
            boolean own = teacher.ids()[i * k] == y[i] && Float.isFinite(teacher.logprobs()[i * k]);
            signal[i] = own && m[i] > 0 ? 1f : 0f;
            logT[i] = own ? teacher.logprobs()[i * k] : 0.0;
        }
        NDArray w = manager.create(signal).toType(type, false);

        NDArray logS = z.logSoftmax(1);
        NDArray index = manager.create(y).maximum(0).reshape(n, 1);
        NDArray logSy = logS.gather(index, 1).reshape(n);
        double[] logSyValue = logSy.toType(DataType.FLOAT64, false).toDoubleArray();

        NDArray perPosition;
        double[] kd = new double[(int) n];
        if (estimator == Estimator.SAMPLED) {
            for (int i = 0; i < n; i++) kd[i] = signal[i] > 0 ? logSyValue[i] - logT[i] : 0.0;
            NDArray d = manager.create(kd).toType(type, false);
            NDArray anchor = manager.create(logSyValue).toType(type, false);
            perPosition = d.mul(logSy.sub(anchor)).add(d);
        } else {
            NDArray logSBuckets = TopKKdLoss.logSListed(logS, teacher, vocab)
                    .concat(TopKKdLoss.logSTail(logS, teacher, vocab), 1);
            double[] q = teacher.bucketProbabilities(1.0);
            double[] logQ = new double[q.length];
            float[] valid = new float[q.length];
            for (int i = 0; i < n; i++) {
                for (int b = 0; b <= k; b++) {
                    int at = i * (k + 1) + b;
                    valid[at] = b == k || teacher.ids()[i * k + b] >= 0 ? 1f : 0f;
                    logQ[at] = Math.log(Math.max(q[at], Q_FLOOR));
                }
            }
            NDArray logQArr = manager.create(logQ, new Shape(n, k + 1)).toType(type, false);
            NDArray validArr = manager.create(valid, new Shape(n, k + 1)).toType(type, false);
            perPosition = buckets(logSBuckets, logQArr).mul(validArr).sum(new int[] {1});
            double[] values = perPosition.toType(DataType.FLOAT64, false).toDoubleArray();
            for (int i = 0; i < n; i++) kd[i] = signal[i] > 0 ? values[i] : 0.0;
        }
        NDArray sum = perPosition.mul(w).sum();
        long positions = 0;
        double kdSum = 0, ceSum = 0;
        for (int i = 0; i < n; i++) {
            if (signal[i] == 0) continue;
            positions++;
            kdSum += kd[i];
            ceSum -= logSyValue[i];
        }
        return new LossSum(sum, positions, positions, kdSum, ceSum);
    }

    /** Each bucket's term [N, k + 1] of the divergence, from the two bucket log-distributions. */
    private NDArray buckets(NDArray logS, NDArray logQ) {
        NDArray s = logS.exp();
        if (beta == 1) return s.mul(logS.sub(logQ));
        NDArray q = logQ.exp();
        if (beta == 0) return q.mul(logQ.sub(logS));
        NDArray logM = Scalars.mul(q, beta).add(Scalars.mul(s, 1 - beta)).log();
        return Scalars.mul(q.mul(logQ.sub(logM)), beta).add(Scalars.mul(s.mul(logS.sub(logM)), 1 - beta));
    }
}
