package dev.distill4j.model.nn;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The model's gradients against central finite differences, parameter by parameter, in float64: a bug that
 * leaves a gradient zero, of the wrong sign or scale, or missing a path (attention's queries and keys are the
 * fragile ones: a model whose attention does not learn still lowers its loss through the MLPs and embeddings, so
 * "the loss goes down" does not catch it). The loss is a fixed random projection of the log-probabilities over a
 * padded batch, so every logit, position and the padding mask take part. The model is float32 (as it trains), so
 * the step is 1e-2 and the tolerance 2e-3 + 5 % of the difference quotient (float rounding and the step's
 * curvature); a missing path, a zero or a flipped sign is far outside it.
 */
class CausalLMGradientTest {
    @Test
    void everyParameterMatchesFiniteDifferences() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            CausalLM model = CausalLM.init(CausalLMTest.tinyLlama(2), m, 3);
            CausalLM model64 = model;
            model64.setTrainable(true);
            int[] tokens = {1, 5, 9, 13, 17, 21, 25, 29, 0, 0, 7, 7, 8, 8, 9, 9, 10, 10};
            int[] mask = {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1};   // row 2 left-padded
            NDArray ids = m.create(tokens, new Shape(2, 9));
            NDArray attention = m.create(mask, new Shape(2, 9));
            Random r = new Random(7);
            float[] w = new float[2 * 9 * 64];
            // padding positions carry no loss, as in training: their query rows see only masked keys (-1e30), whose
            // scores a float32 forward cannot move, while autograd would still send them a gradient
            for (int i = 0; i < w.length; i++) w[i] = mask[i / 64] == 0 ? 0f : (float) r.nextGaussian();
            NDArray weights = m.create(w, new Shape(2, 9, 64));

            Map<String, NDArray> params = model64.parameters();
            double[][] grads = new double[params.size()][];
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                gc.backward(loss(model64, ids, attention, weights));
                int j = 0;
                for (NDArray p : params.values()) {
                    float[] g = p.getGradient().toFloatArray();
                    grads[j] = new double[g.length];
                    for (int q = 0; q < g.length; q++) grads[j][q] = g[q];
                    j++;
                }
            }
            model64.setTrainable(false);
            int at = 0;
            int checked = 0;
            int nonZero = 0;
            for (var e : params.entrySet()) {
                NDArray p = e.getValue();
                double[] grad = grads[at++];
                float[] values = p.toFloatArray();
                for (int k = 0; k < 4; k++) {
                    int i = r.nextInt(values.length);
                    double eps = 1e-2;   // float32: L is good to ~1e-7 relative, so the step cannot be tiny
                    float keep = values[i];
                    values[i] = (float) (keep + eps);
                    p.set(values);
                    double up = loss(model64, ids, attention, weights).getFloat();
                    values[i] = (float) (keep - eps);
                    p.set(values);
                    double down = loss(model64, ids, attention, weights).getFloat();
                    values[i] = keep;
                    p.set(values);
                    double numeric = (up - down) / ((double) (float) (keep + eps) - (float) (keep - eps));
                    assertThat(grad[i]).as("%s[%d]: autograd vs finite difference", e.getKey(), i)
                            .isCloseTo(numeric, org.assertj.core.data.Offset.offset(2e-3 + 5e-2 * Math.abs(numeric)));
                    if (Math.abs(numeric) > 1e-2) nonZero++;
                    checked++;
                }
            }
            assertThat(checked).isEqualTo(4 * params.size());
            assertThat(nonZero).as("coordinates with a clear gradient").isGreaterThan(checked / 2);
        }
    }

    private static NDArray loss(CausalLM model, NDArray ids, NDArray mask, NDArray weights) {
        NDArray logits = model.forward(ids, mask, null);
        return logits.logSoftmax(2).mul(weights).sum();
    }
}
