package dev.distill4j.train.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.distill4j.core.InvalidInputException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Adam with decoupled weight decay (Loshchilov &amp; Hutter, 2019), step for step as {@code torch.optim.AdamW}:
 *
 * <pre>
 *   t ← t + 1
 *   θ ← θ · (1 − lr·λ)                              decay, only for parameters that decay
 *   m ← β₁·m + (1 − β₁)·g
 *   v ← β₂·v + (1 − β₂)·g²
 *   θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
 * </pre>
 *
 * The step count t is shared by all parameters (torch keeps one per parameter; they agree unless a parameter
 * sits out steps). Which parameters skip decay is a predicate on the parameter name; the default,
 * {@link #HF_NO_DECAY}, follows Hugging Face's Trainer: biases and normalisation weights do not decay, everything
 * else (embeddings included) does.
 *
 * <p>The moments live in the optimizer's own {@link NDManager}; {@link #close()} frees them. Their state exports
 * to and imports from a flat tensor map, so a resumed run continues bit for bit.
 */
public final class AdamW implements AutoCloseable {

    /**
     * HF Trainer's no-decay rule ({@code get_decay_parameter_names}): a name that mentions a bias or a
     * LayerNorm/RMSNorm/norm module.
     */
    public static final Predicate<String> HF_NO_DECAY = new Predicate<>() {
        private final Pattern pattern = Pattern.compile("bias|layernorm|rmsnorm|(?:^|\\.)norm(?:$|\\.)|_norm(?:$|\\.)");

        @Override
        public boolean test(String name) {
            return pattern.matcher(name.toLowerCase(Locale.ROOT)).find();
        }
    };

    static final String STEP_KEY = "step";
    static final String EXP_AVG = "exp_avg.";
    static final String EXP_AVG_SQ = "exp_avg_sq.";

    private final double beta1;
    private final double beta2;
    private final double epsilon;
    private final double weightDecay;
    private final Predicate<String> noDecay;
    private final NDManager manager = NDManager.newBaseManager();
    private final Map<String, NDArray> expAvg = new HashMap<>();
    private final Map<String, NDArray> expAvgSq = new HashMap<>();
    private long step;

    private AdamW(Builder builder) {
        this.beta1 = builder.beta1;
        this.beta2 = builder.beta2;
        this.epsilon = builder.epsilon;
        this.weightDecay = builder.weightDecay;
        this.noDecay = builder.noDecay;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Number of updates applied so far (t). */
    public long steps() {
        return step;
    }

    /** Whether the named parameter gets weight decay. */
    public boolean decays(String name) {
        return weightDecay != 0 && !noDecay.test(name);
    }

    /**
     * Applies one update to every parameter that has a gradient, in place.
     *
     * @param parameters parameters by name; the names key the optimizer state, so keep them stable across steps
     * @param lr         this step's learning rate (see {@link LrSchedule})
     */
    public void step(Map<String, NDArray> parameters, double lr) {
        step++;
        double biasCorrection1 = 1 - Math.pow(beta1, step);
        double biasCorrection2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
        double stepSize = lr / biasCorrection1;
        for (Map.Entry<String, NDArray> entry : parameters.entrySet()) {
            String name = entry.getKey();
            NDArray theta = entry.getValue();
            if (!theta.hasGradient()) continue;
            NDArray m = moment(expAvg, name, theta);
            NDArray v = moment(expAvgSq, name, theta);
            try (NDManager scope = theta.getManager().newSubManager()) {
                NDArray g = theta.getGradient();
                g.attach(scope);
                scope.tempAttachAll(theta, m, v);
                if (decays(name)) theta.muli(1 - lr * weightDecay);
                m.muli(beta1).addi(g.mul(1 - beta1));
                v.muli(beta2).addi(g.square().muli(1 - beta2));
                NDArray denominator = v.sqrt().divi(biasCorrection2Sqrt).addi(epsilon);
                theta.subi(m.div(denominator).muli(stepSize));
            }
        }
    }

    private NDArray moment(Map<String, NDArray> moments, String name, NDArray theta) {
        NDArray moment = moments.get(name);
        if (moment == null) {
            moment = manager.zeros(theta.getShape(), theta.getDataType(), theta.getDevice());
            moments.put(name, moment);
        } else if (!moment.getShape().equals(theta.getShape())) {
            throw new IllegalStateException("optimizer state for " + name + " has shape " + moment.getShape()
                    + " but the parameter has " + theta.getShape() + "; the checkpoint belongs to another model");
        }
        return moment;
    }

    /**
     * The optimizer state as tensors, copied into {@code target}: {@value #STEP_KEY} (INT64 scalar), and per
     * parameter {@code exp_avg.<name>} and {@code exp_avg_sq.<name>}.
     */
    public Map<String, NDArray> exportState(NDManager target) {
        Map<String, NDArray> state = new LinkedHashMap<>();
        state.put(STEP_KEY, target.create(step));
        expAvg.keySet().stream().sorted().forEach(name -> {
            state.put(EXP_AVG + name, copy(expAvg.get(name), target));
            state.put(EXP_AVG_SQ + name, copy(expAvgSq.get(name), target));
        });
        return state;
    }

    /** Replaces the optimizer state with a copy of one {@link #exportState exported} earlier. */
    public void importState(Map<String, NDArray> state) {
        NDArray stepArray = state.get(STEP_KEY);
        if (stepArray == null) {
            throw new InvalidInputException("optimizer state has no '" + STEP_KEY + "' entry; it was not written by AdamW");
        }
        Map<String, NDArray> avg = new HashMap<>();
        Map<String, NDArray> avgSq = new HashMap<>();
        for (Map.Entry<String, NDArray> entry : state.entrySet()) {
            String key = entry.getKey();
            if (key.startsWith(EXP_AVG_SQ)) avgSq.put(key.substring(EXP_AVG_SQ.length()), copy(entry.getValue(), manager));
            else if (key.startsWith(EXP_AVG)) avg.put(key.substring(EXP_AVG.length()), copy(entry.getValue(), manager));
            else if (!key.equals(STEP_KEY)) throw new InvalidInputException("unknown optimizer state entry '" + key + "'");
        }
        if (!avg.keySet().equals(avgSq.keySet())) {
            throw new InvalidInputException("optimizer state is incomplete: first and second moments cover different parameters");
        }
        expAvg.values().forEach(NDArray::close);
        expAvgSq.values().forEach(NDArray::close);
        expAvg.clear();
        expAvgSq.clear();
        expAvg.putAll(avg);
        expAvgSq.putAll(avgSq);
        step = stepArray.toType(DataType.INT64, false).getLong();
    }

    private static NDArray copy(NDArray array, NDManager target) {
        NDArray copy = array.duplicate();
        copy.attach(target);
        return copy;
    }

    @Override
    public void close() {
        manager.close();
    }

    /** Hyper-parameters, defaults as {@code torch.optim.AdamW}. */
    public static final class Builder {
        private double beta1 = 0.9;
        private double beta2 = 0.999;
        private double epsilon = 1e-8;
        private double weightDecay = 0.01;
        private Predicate<String> noDecay = HF_NO_DECAY;

        private Builder() {}

        public Builder optBetas(double beta1, double beta2) {
            if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
                throw new InvalidInputException("Adam betas must be in [0, 1), got " + beta1 + " and " + beta2);
            }
            this.beta1 = beta1;
            this.beta2 = beta2;
            return this;
        }

        public Builder optEpsilon(double epsilon) {
            if (!(epsilon > 0)) throw new InvalidInputException("Adam epsilon must be > 0, got " + epsilon);
            this.epsilon = epsilon;
            return this;
        }

        public Builder optWeightDecay(double weightDecay) {
            if (!(weightDecay >= 0)) throw new InvalidInputException("weight decay must be >= 0, got " + weightDecay);
            this.weightDecay = weightDecay;
            return this;
        }

        /** Parameters whose name matches do not decay; default {@link #HF_NO_DECAY}. */
        public Builder optNoDecay(Predicate<String> noDecay) {
            this.noDecay = noDecay;
            return this;
        }

        public AdamW build() {
            return new AdamW(this);
        }
    }
}
