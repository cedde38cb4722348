package dev.distill4j.embed.encoder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The token-level layer loss: hand-computed values, padding ignored, the NDArray form against the plain one, finite differences. */
class HiddenStateLossTest {
    NDManager m;

    @BeforeEach
    void open() { m = Engine.getEngine("PyTorch").newBaseManager(); }

    @AfterEach
    void close() { m.close(); }

    @Test
    void oneLayerIsTheErrorRelativeToTheTeachersEnergy() {
        // one sentence of two tokens, D = 2. teacher (3,4), (0,2): energy 25 + 4 = 29.
        // student (3,3), (1,2): error 1 + 1 = 2. L = 2/29
        double[][][][] s = {{{{3, 3}, {1, 2}}}}, t = {{{{3, 4}, {0, 2}}}};
        double[][] keep = {{1, 1}};
        assertThat(HiddenStateLoss.value(s, t, keep)).isCloseTo(2.0 / 29, within(1e-15));
        assertThat(nd(s, t, keep)).isCloseTo(2.0 / 29, within(1e-12));
    }

    @Test
    void layersCountAlikeWhateverTheirScale() {
        // layer 0: error 1 on energy 1 → 1; layer 1: the same picture ×10, error 100 on energy 100 → 1; mean 1.
        // An absolute MSE would give layer 1 a hundred times the weight.
        double[][][][] s = {{{{0}}}, {{{0}}}}, t = {{{{1}}}, {{{10}}}};
        double[][] keep = {{1}};
        assertThat(HiddenStateLoss.value(s, t, keep)).isCloseTo(1, within(1e-15));
        assertThat(nd(s, t, keep)).isCloseTo(1, within(1e-12));
        // layer 1 exact: (1 + 0) / 2
        s[1][0][0][0] = 10;
        assertThat(nd(s, t, keep)).isCloseTo(0.5, within(1e-12));
    }

    @Test
    void paddingCountsNeither() {
        // sentence 0 has one real token, sentence 1 two. The padded position holds garbage in both student and
        // teacher; without the mask it would add 100² to the error and 7² to the energy.
        double[][][][] s = {{{{1}, {100}}, {{2}, {2}}}}, t = {{{{2}, {7}}, {{2}, {4}}}};
        double[][] keep = {{1, 0}, {1, 1}};
        // error (1−2)² + 0 + (2−4)² = 5; energy 4 + 4 + 16 = 24
        assertThat(HiddenStateLoss.value(s, t, keep)).isCloseTo(5.0 / 24, within(1e-15));
        assertThat(nd(s, t, keep)).isCloseTo(5.0 / 24, within(1e-12));
    }

    @Test
    void ndArrayFormAgreesWithThePlainOneOnRandomStates() {
        Random r = new Random(3);
        for (int trial = 0; trial < 4; trial++) {
            int layers = 1 + trial % 3, b = 2 + trial, t = 3 + trial, d = 4;
            double[][][][] s = random(r, layers, b, t, d), x = random(r, layers, b, t, d);
            double[][] keep = mask(r, b, t);
            assertThat(nd(s, x, keep)).isCloseTo(HiddenStateLoss.value(s, x, keep), within(1e-10));
        }
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        Random r = new Random(9);
        int layers = 2, b = 2, t = 3, d = 2;
        double[][][][] s = random(r, layers, b, t, d), x = random(r, layers, b, t, d);
        double[][] keep = mask(r, b, t);
        List<NDArray> student = arrays(s);
        for (NDArray a : student) a.setRequiresGradient(true);
        try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            gc.backward(HiddenStateLoss.of(student, arrays(x), m.create(flat(keep), new Shape(b, t))));
        }
        double h = 1e-6;
        for (int k = 0; k < layers; k++) {
            double[] analytic = student.get(k).getGradient().toDoubleArray();
            for (int i = 0; i < b; i++) {
                for (int j = 0; j < t; j++) {
                    for (int c = 0; c < d; c++) {
                        double was = s[k][i][j][c];
                        s[k][i][j][c] = was + h;
                        double up = HiddenStateLoss.value(s, x, keep);
                        s[k][i][j][c] = was - h;
                        double down = HiddenStateLoss.value(s, x, keep);
                        s[k][i][j][c] = was;
                        assertThat(analytic[(i * t + j) * d + c]).as("∂L/∂S[%d][%d][%d][%d]", k, i, j, c)
                                .isCloseTo((up - down) / (2 * h), within(1e-7));
                    }
                }
            }
        }
    }

    private double nd(double[][][][] s, double[][][][] t, double[][] keep) {
        return HiddenStateLoss.of(arrays(s), arrays(t), m.create(flat(keep), new Shape(keep.length, keep[0].length))).getDouble();
    }

    private List<NDArray> arrays(double[][][][] layers) {
        List<NDArray> out = new ArrayList<>();
        for (double[][][] l : layers) {
            int b = l.length, t = l[0].length, d = l[0][0].length;
            double[] f = new double[b * t * d];
            for (int i = 0; i < b; i++) for (int j = 0; j < t; j++) System.arraycopy(l[i][j], 0, f, (i * t + j) * d, d);
            out.add(m.create(f, new Shape(b, t, d)));
        }
        return out;
    }

    private static double[][][][] random(Random r, int layers, int b, int t, int d) {
        double[][][][] x = new double[layers][b][t][d];
        for (double[][][] l : x) for (double[][] s : l) for (double[] tok : s) for (int c = 0; c < d; c++) tok[c] = r.nextGaussian();
        return x;
    }

    /** Real tokens first, then padding; every sentence has at least one real token. */
    private static double[][] mask(Random r, int b, int t) {
        double[][] keep = new double[b][t];
        for (double[] row : keep) {
            int real = 1 + r.nextInt(t);
            for (int j = 0; j < real; j++) row[j] = 1;
        }
        return keep;
    }

    private static double[] flat(double[][] x) {
        double[] f = new double[x.length * x[0].length];
        for (int i = 0; i < x.length; i++) System.arraycopy(x[i], 0, f, i * x[i].length, x[i].length);
        return f;
    }
}
