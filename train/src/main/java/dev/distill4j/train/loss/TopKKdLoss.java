package dev.distill4j.train.loss;

import dev.distill4j.model.nn.Scalars;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Distillation from a teacher that reveals its top-k tokens per position (OpenAI {@code top_logprobs}, vLLM, ...).
 *
 * <p>The teacher's distribution is only known on k tokens plus the mass of everything else, so both distributions
 * are compared on the same k + 1 buckets: the teacher's k token ids and one tail bucket.
 *
 * <pre>
 *   s      = softmax(z / T)                                   student, tempered
 *   s_b    = s[id_b]            for the k listed ids            (0 where id_b = −1, never read)
 *   s_tail = Σ_{j ∉ ids} s_j  = 1 − Σ_b s_b
 *   q      = teacher buckets, tempered (see {@link TopKTeacher#bucketProbabilities})
 *
 *   KD_i   = T² · KL(q ‖ s) = T² · Σ_b q_b (log q_b − log s_b)     over the k + 1 buckets
 *   CE_i   = −log softmax(z)[y_i]                                y_i = the token the teacher chose
 *   ℓ_i    = α·KD_i + (1 − α)·CE_i      where the teacher gave at least one mappable token
 *   ℓ_i    = CE_i                       where it gave none (all ids −1)
 *   L      = Σ_i m_i ℓ_i / Σ_i m_i
 * </pre>
 *
 * T² (Hinton et al.) keeps the gradient of the KD term on the same scale as CE's when T changes.
 *
 * <p>Numerics: everything is in log space. log s_tail is not computed as log(1 − Σ s_b), which cancels to noise
 * when the listed tokens hold almost all the mass, but as the log-sum-exp of the student's log-probabilities over
 * the complement of the listed ids, which is exact at any tail size. It is floored at log(1e−30) only so that a row
 * listing the whole vocabulary (an empty complement) stays finite; the teacher's tail is 0 there, so the floor
 * never reaches the loss.
 */
public final class TopKKdLoss {
    private static final double LOG_TAIL_FLOOR = Math.log(1e-30);
    /** Written over the listed ids' log-probabilities to drop them from the tail's log-sum-exp. */
    private static final double EXCLUDED = -1e30;

    private final double alpha;
    private final double temperature;

    /**
     * @param alpha       weight of the KD term, in [0, 1]; 1 − α goes to the cross-entropy on the chosen token
     * @param temperature T &gt; 0 applied to the student logits and to the teacher buckets
     */
    public TopKKdLoss(double alpha, double temperature) {
        if (!(alpha >= 0 && alpha <= 1)) throw new IllegalArgumentException("alpha must be in [0, 1], got " + alpha);
        if (!(temperature > 0)) throw new IllegalArgumentException("temperature must be > 0, got " + temperature);
        this.alpha = alpha;
        this.temperature = temperature;
    }

    public double alpha() { return alpha; }

    public double temperature() { return temperature; }

    /**
     * @param logits  student logits [N, V] or [B, T, V]
     * @param teacher the teacher's top-k at the same N positions, in the student's vocabulary
     * @param targets the chosen token at each position (the teacher's sampled token), for the CE term
     * @param mask    1 on response positions, 0 elsewhere
     */
    public LossSum compute(NDArray logits, TopKTeacher teacher, NDArray targets, NDArray mask) {
        if (targets == null) {
            throw new IllegalArgumentException("the top-k loss needs the chosen tokens as targets: positions without"
                    + " teacher signal, and the (1 - alpha) term, train on them");
        }
        NDArray z = Rows.of(logits, teacher);
        long n = z.getShape().get(0);
        long vocab = z.getShape().get(1);
        DataType type = z.getDataType();
        NDManager manager = z.getManager();
        int k = teacher.k();

        NDArray m = Rows.perRow(mask, n, type, "mask");
        NDArray kdMask = m.mul(manager.create(teacher.hasSignal()).toType(type, false));

        NDArray logS = Rows.tempered(z, temperature).logSoftmax(1);
        NDArray logSBuckets = logSListed(logS, teacher, vocab).concat(logSTail(logS, teacher, vocab), 1);

        double[] q = teacher.bucketProbabilities(temperature);
        NDArray qArr = manager.create(q, new Shape(n, k + 1)).toType(type, false);
        NDArray logQ = manager.create(logOrZero(q), new Shape(n, k + 1)).toType(type, false);

        NDArray kd = Scalars.mul(qArr.mul(logQ.sub(logSBuckets)).sum(new int[] {1}), temperature * temperature);
        // At T = 1 the tempered log-probabilities are the CE's: one [N, V] softmax fewer.
        NDArray ce = SftLoss.crossEntropyFromLogProbs(temperature == 1.0 ? logS : z.logSoftmax(1), targets);

        NDArray ceOnly = m.sub(kdMask);
        NDArray perPosition = kdMask.mul(Scalars.mul(kd, alpha).add(Scalars.mul(ce, 1 - alpha))).add(ceOnly.mul(ce));
        NDArray sum = perPosition.sum();
        return new LossSum(sum, Rows.count(m), Rows.count(kdMask), Rows.value(kd.mul(kdMask).sum()),
                Rows.value(ce.mul(m).sum()));
    }

    /** log s_b for the k listed ids, [N, k]; entries with id −1 read token 0 and are multiplied by q_b = 0. */
    static NDArray logSListed(NDArray logS, TopKTeacher teacher, long vocab) {
        long[] index = new long[teacher.ids().length];
        for (int i = 0; i < index.length; i++) {
            long id = teacher.ids()[i];
            if (id >= vocab) {
                throw new IllegalArgumentException("teacher token id " + id + " is outside the student vocabulary of "
                        + vocab + "; map teacher tokens to student ids (or -1) before building the loss input");
            }
            index[i] = Math.max(0, id);
        }
        NDArray idx = logS.getManager().create(index, new Shape(teacher.positions(), teacher.k()));
        return logS.gather(idx, 1);
    }

    /** log s_tail = log Σ_{j ∉ ids} s_j, [N, 1]. */
    static NDArray logSTail(NDArray logS, TopKTeacher teacher, long vocab) {
        int k = teacher.k();
        long[] listed = java.util.stream.IntStream.range(0, teacher.ids().length)
                .filter(i -> teacher.ids()[i] >= 0)
                .mapToLong(i -> (long) (i / k) * vocab + teacher.ids()[i])
                .toArray();
        NDArray complement = logS;
        if (listed.length > 0) {
            // put is differentiable in logS (zero gradient where overwritten) and costs one [N, V] copy.
            NDManager manager = logS.getManager();
            NDArray at = manager.create(listed);
            complement = logS.reshape(-1).put(at, manager.full(at.getShape(), (float) EXCLUDED, logS.getDataType()))
                    .reshape(logS.getShape());
        }
        return Scalars.maximum(LogSpace.logSumExp(complement), LOG_TAIL_FLOOR).reshape(-1, 1);
    }

    private static double[] logOrZero(double[] p) {
        double[] out = new double[p.length];
        for (int i = 0; i < p.length; i++) out[i] = p[i] > 0 ? Math.log(p[i]) : 0.0;
        return out;
    }
}
