package dev.distill4j.embed.encoder;

import ai.djl.ndarray.NDArray;
import dev.distill4j.model.nn.Scalars;
import java.util.List;

/**
 * Token-level distillation of a layer-dropped student (TinyBERT's hidden-state loss, Jiao et al. 2020): the output
 * of the student's k-th layer is pulled towards the teacher's output of the layer it was copied from, ℓ_k, at every
 * real token, not only in the pooled sentence vector:
 * <pre>
 *   L_h = (1/K) Σ_k  Σ_{b,t} m_bt ‖S^k_bt − T^{ℓ_k}_bt‖²  /  Σ_{b,t} m_bt ‖T^{ℓ_k}_bt‖²
 * </pre>
 * with m the padding mask. Why: the sentence loss gives one D-vector of targets per sentence, while each sentence
 * has T tokens × K layers of teacher states the student is meant to reproduce, so the same teacher pass teaches far
 * more; and a student whose layer k behaves as the teacher's ℓ_k keeps the next layer's input in the range that layer
 * was trained on. Each layer's error is relative to the teacher's own energy at that layer: BERT's states grow and
 * carry a few large outlier dimensions, and an absolute MSE would weigh the deepest layer and those dimensions only.
 */
public final class HiddenStateLoss {
    private HiddenStateLoss() {}

    /**
     * The loss as a scalar NDArray (differentiable in {@code student}; the teacher's states are constants).
     *
     * @param student the student's layer outputs [B, T, D], in order
     * @param teacher the teacher's outputs of the layers they stand in for, same count and shapes
     * @param keep    [B, T], 1 at real tokens and 0 at padding
     */
    public static NDArray of(List<NDArray> student, List<NDArray> teacher, NDArray keep) {
        if (student.size() != teacher.size() || student.isEmpty()) {
            throw new IllegalArgumentException(student.size() + " student layers against " + teacher.size() + " teacher layers");
        }
        NDArray mask = keep.expandDims(2);                                                       // [B, T, 1]
        NDArray sum = null;
        for (int k = 0; k < student.size(); k++) {
            NDArray t = teacher.get(k);
            NDArray error = student.get(k).sub(t).square().mul(mask).sum();
            NDArray energy = t.square().mul(mask).sum();
            NDArray term = error.div(energy);
            sum = sum == null ? term : sum.add(term);
        }
        return Scalars.div(sum, student.size());
    }

    /** The same loss in plain Java (double precision): {@code [layer][sentence][token][dim]}, the tests' reference. */
    public static double value(double[][][][] student, double[][][][] teacher, double[][] keep) {
        double total = 0;
        for (int k = 0; k < student.length; k++) {
            double error = 0, energy = 0;
            for (int b = 0; b < keep.length; b++) {
                for (int t = 0; t < keep[b].length; t++) {
                    for (int d = 0; d < student[k][b][t].length; d++) {
                        double s = student[k][b][t][d], x = teacher[k][b][t][d];
                        error += keep[b][t] * (s - x) * (s - x);
                        energy += keep[b][t] * x * x;
                    }
                }
            }
            total += error / energy;
        }
        return total / student.length;
    }
}
