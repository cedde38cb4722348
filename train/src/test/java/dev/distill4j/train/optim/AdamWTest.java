package dev.distill4j.train.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AdamWTest {

    /** Sets each parameter's gradient to the given values through a real backward of Σ g·θ. */
    private static void setGradients(Map<String, NDArray> parameters, Map<String, double[]> gradients) {
        Gradients.zero(parameters.values());
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            for (Map.Entry<String, NDArray> p : parameters.entrySet()) {
                NDArray theta = p.getValue();
                NDArray g = theta.getManager().create(gradients.get(p.getKey()), theta.getShape());
                collector.backward(theta.mul(g).sum());
            }
        }
    }

    @Test
    void twoStepsByHand() {
        try (NDManager manager = NDManager.newBaseManager(); AdamW adamW = AdamW.builder().optWeightDecay(0.1).build()) {
            NDArray theta = manager.create(new double[] {1.0});
            theta.setRequiresGradient(true);
            Map<String, NDArray> params = Map.of("w", theta);
            // Step 1, g = 0.5: θ = 1·(1 − 0.1·0.1) = 0.99; m = 0.05, v = 0.00025; m̂ = 0.5, v̂ = 0.25;
            // θ = 0.99 − 0.1·0.5/(0.5 + 1e−8).
            setGradients(params, Map.of("w", new double[] {0.5}));
            adamW.step(params, 0.1);
            double step1 = 0.99 - 0.1 * 0.5 / (0.5 + 1e-8);
            assertThat(theta.getDouble(0)).isCloseTo(step1, within(1e-15));
            // Step 2, g = −1: θ = step1·0.99; m = 0.045 − 0.1 = −0.055; v = 0.00024975 + 0.001 = 0.00124975;
            // m̂ = −0.055/0.19, √v̂ = √(0.00124975/0.001999).
            setGradients(params, Map.of("w", new double[] {-1.0}));
            adamW.step(params, 0.1);
            double step2 = step1 * 0.99 - 0.1 * (-0.055 / 0.19) / (Math.sqrt(0.00124975 / (1 - 0.998001)) + 1e-8);
            assertThat(step2).isCloseTo(0.9177103542, within(1e-9));
            assertThat(theta.getDouble(0)).isCloseTo(step2, within(1e-12));
            assertThat(adamW.steps()).isEqualTo(2);
        }
    }

    /** AdamW in plain double arrays, the loop torch.optim.AdamW runs. */
    private static final class ReferenceAdamW {
        final double[] theta, m, v;
        final double beta1 = 0.9, beta2 = 0.95, eps = 1e-8, decay;
        int t;

        ReferenceAdamW(double[] theta, double decay) {
            this.theta = theta.clone();
            this.m = new double[theta.length];
            this.v = new double[theta.length];
            this.decay = decay;
        }

        void step(double[] g, double lr) {
            t++;
            for (int i = 0; i < theta.length; i++) {
                theta[i] *= 1 - lr * decay;
                m[i] = beta1 * m[i] + (1 - beta1) * g[i];
                v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
                double mHat = m[i] / (1 - Math.pow(beta1, t));
                double vHat = v[i] / (1 - Math.pow(beta2, t));
                theta[i] -= lr * mHat / (Math.sqrt(vHat) + eps);
            }
        }
    }

    @Test
    void matchesAFloat64ReferenceLoopWithNoDecayForNorms() {
        Random random = new Random(7);
        double[] w0 = random.doubles(12, -1, 1).toArray();
        double[] n0 = random.doubles(4, 0.5, 1.5).toArray();
        ReferenceAdamW refW = new ReferenceAdamW(w0, 0.05);
        ReferenceAdamW refNorm = new ReferenceAdamW(n0, 0.0);
        try (NDManager manager = NDManager.newBaseManager();
             AdamW adamW = AdamW.builder().optBetas(0.9, 0.95).optWeightDecay(0.05).build()) {
            Map<String, NDArray> params = new LinkedHashMap<>();
            params.put("model.layers.0.mlp.up_proj.weight", manager.create(w0, new Shape(3, 4)));
            params.put("model.layers.0.input_layernorm.weight", manager.create(n0));
            params.values().forEach(p -> p.setRequiresGradient(true));
            LrSchedule schedule = new LrSchedule(3e-2, 3e-3, 2, 10);
            for (int s = 0; s < 10; s++) {
                double[] gw = random.doubles(12, -2, 2).toArray();
                double[] gn = random.doubles(4, -2, 2).toArray();
                setGradients(params, Map.of("model.layers.0.mlp.up_proj.weight", gw, "model.layers.0.input_layernorm.weight", gn));
                adamW.step(params, schedule.at(s));
                refW.step(gw, schedule.at(s));
                refNorm.step(gn, schedule.at(s));
            }
            assertThat(params.get("model.layers.0.mlp.up_proj.weight").toDoubleArray()).containsExactly(refW.theta, within(1e-12));
            assertThat(params.get("model.layers.0.input_layernorm.weight").toDoubleArray()).containsExactly(refNorm.theta, within(1e-12));
        }
    }

    @Test
    void noDecaySetFollowsHuggingFace() {
        try (AdamW adamW = AdamW.builder().optWeightDecay(0.1).build()) {
            assertThat(adamW.decays("model.embed_tokens.weight")).isTrue();
            assertThat(adamW.decays("model.layers.3.self_attn.q_proj.weight")).isTrue();
            assertThat(adamW.decays("lm_head.weight")).isTrue();
            assertThat(adamW.decays("model.layers.3.self_attn.q_proj.bias")).isFalse();
            assertThat(adamW.decays("model.layers.3.input_layernorm.weight")).isFalse();
            assertThat(adamW.decays("model.layers.3.post_attention_layernorm.weight")).isFalse();
            assertThat(adamW.decays("model.norm.weight")).isFalse();
            assertThat(adamW.decays("model.layers.3.self_attn.q_norm.weight")).isFalse();
            assertThat(adamW.decays("transformer.h.0.ln_1.weight")).isTrue(); // GPT-2 names need a custom predicate
        }
        try (AdamW none = AdamW.builder().optWeightDecay(0).build()) {
            assertThat(none.decays("model.embed_tokens.weight")).isFalse();
        }
    }

    @Test
    void resumedRunContinuesBitForBit() {
        Random random = new Random(11);
        double[] init = random.doubles(6, -1, 1).toArray();
        double[][] grads = new double[6][];
        for (int i = 0; i < grads.length; i++) grads[i] = random.doubles(6, -1, 1).toArray();
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray straight = manager.create(init, new Shape(2, 3));
            straight.setRequiresGradient(true);
            try (AdamW adamW = AdamW.builder().build()) {
                for (double[] g : grads) {
                    setGradients(Map.of("w", straight), Map.of("w", g));
                    adamW.step(Map.of("w", straight), 1e-2);
                }
            }
            NDArray resumed = manager.create(init, new Shape(2, 3));
            resumed.setRequiresGradient(true);
            Map<String, NDArray> saved;
            double[] savedWeights;
            try (AdamW first = AdamW.builder().build()) {
                for (int i = 0; i < 3; i++) {
                    setGradients(Map.of("w", resumed), Map.of("w", grads[i]));
                    first.step(Map.of("w", resumed), 1e-2);
                }
                saved = first.exportState(manager);
                savedWeights = resumed.toDoubleArray();
            }
            assertThat(saved).containsOnlyKeys("step", "exp_avg.w", "exp_avg_sq.w");
            NDArray restored = manager.create(savedWeights, new Shape(2, 3));
            restored.setRequiresGradient(true);
            try (AdamW second = AdamW.builder().build()) {
                second.importState(saved);
                assertThat(second.steps()).isEqualTo(3);
                for (int i = 3; i < grads.length; i++) {
                    setGradients(Map.of("w", restored), Map.of("w", grads[i]));
                    second.step(Map.of("w", restored), 1e-2);
                }
            }
            assertThat(restored.toDoubleArray()).containsExactly(straight.toDoubleArray());
        }
    }

    @Test
    void stateFromAnotherModelIsRejected() {
        try (NDManager manager = NDManager.newBaseManager(); AdamW adamW = AdamW.builder().build()) {
            Map<String, NDArray> state = new LinkedHashMap<>();
            state.put("step", manager.create(4L));
            state.put("exp_avg.w", manager.zeros(new Shape(5)));
            state.put("exp_avg_sq.w", manager.zeros(new Shape(5)));
            adamW.importState(state);
            NDArray w = manager.zeros(new Shape(2, 3));
            w.setRequiresGradient(true);
            assertThatThrownBy(() -> adamW.step(Map.of("w", w), 1e-3)).hasMessageContaining("belongs to another model");
            assertThatThrownBy(() -> adamW.importState(Map.of("exp_avg.w", manager.zeros(new Shape(5)))))
                    .hasMessageContaining("no 'step' entry");
        }
    }
}
