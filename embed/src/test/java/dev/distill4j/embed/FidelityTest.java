package dev.distill4j.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class FidelityTest {
    @Test
    void spearmanMatchesTheTextbookFormulaWithoutTies() {
        // one swapped pair: Σd² = 2, ρ = 1 − 6·2 / (4·15) = 0.8
        assertThat(Fidelity.spearman(new double[] {1, 2, 3, 4}, new double[] {10, 30, 20, 40})).isCloseTo(0.8, within(1e-12));
        assertThat(Fidelity.spearman(new double[] {1, 2, 3}, new double[] {3, 2, 1})).isCloseTo(-1, within(1e-12));
    }

    @Test
    void spearmanAveragesTiedRanks() {
        // ranks of a: [1, 2.5, 2.5, 4]; Pearson with [1, 2, 3, 4] = 4.5 / √(4.5·5) = 0.948683
        assertThat(Fidelity.ranks(new double[] {1, 2, 2, 3})).containsExactly(1, 2.5, 2.5, 4);
        assertThat(Fidelity.spearman(new double[] {1, 2, 2, 3}, new double[] {1, 2, 3, 4}))
                .isCloseTo(4.5 / Math.sqrt(22.5), within(1e-12));
    }

    @Test
    void recallAtKCountsSharedNeighbours() {
        // points on a line at 0°, 10°, 20°, 90°: nearest of each by angle
        float[][] t = {unit(0), unit(10), unit(20), unit(90)};
        assertThat(Fidelity.recallAtK(t, t, 1)).isEqualTo(1.0);
        // student moves point 3 next to point 0: neighbours of 0 (1 → 3) and 3 (2 → 0) change; 1 and 2 keep theirs
        float[][] s = {unit(0), unit(10), unit(20), unit(-3)};
        assertThat(Fidelity.nearest(s, 0, 1)).containsExactly(3);
        assertThat(Fidelity.recallAtK(t, s, 1)).isEqualTo(0.5);
    }

    @Test
    void recallCurveEqualsTheOverlapOfNeighbourSetsAtEveryK() {
        java.util.Random r = new java.util.Random(3);
        float[][] t = new float[40][6], s = new float[40][6];
        for (int i = 0; i < t.length; i++) {
            for (int j = 0; j < 6; j++) {
                t[i][j] = (float) r.nextGaussian();
                s[i][j] = t[i][j] + (float) (0.8 * r.nextGaussian());
            }
        }
        double[] curve = Fidelity.recallCurve(t, s, 10);
        for (int k = 1; k <= 10; k++) {
            double sum = 0;
            for (int i = 0; i < t.length; i++) {
                java.util.Set<Integer> a = new java.util.HashSet<>(), b = new java.util.HashSet<>();
                for (int j : Fidelity.nearest(t, i, k)) a.add(j);
                for (int j : Fidelity.nearest(s, i, k)) b.add(j);
                a.retainAll(b);
                sum += (double) a.size() / k;
            }
            assertThat(curve[k - 1]).as("recall@" + k).isCloseTo(sum / t.length, within(1e-12));
            assertThat(Fidelity.recallAtK(t, s, k)).isEqualTo(curve[k - 1]);
        }
        assertThat(curve[0]).isBetween(0.05, 0.95);   // a noisy student: neither perfect nor random
    }

    @Test
    void linearCkaOfAHandWorkedCase() {
        // centred x = [-1, 0, 1], y = [-1, 1, 0]: (yᵀx)² = 1, xᵀx = yᵀy = 2 → 1 / (2·2)
        float[][] x = {{1}, {2}, {3}}, y = {{1}, {3}, {2}};
        assertThat(Fidelity.linearCka(x, y)).isCloseTo(0.25, within(1e-12));
    }

    @Test
    void linearCkaIgnoresRotationScaleAndDimension() {
        float[][] x = {{1, 0}, {0, 2}, {3, 1}, {-1, 4}, {2, 2}};
        float[][] y = new float[x.length][];
        double c = Math.cos(0.7), s = Math.sin(0.7);
        for (int i = 0; i < x.length; i++) {
            y[i] = new float[] {(float) (3 * (c * x[i][0] - s * x[i][1])), (float) (3 * (s * x[i][0] + c * x[i][1])), 0};
        }
        assertThat(Fidelity.linearCka(x, y)).isCloseTo(1.0, within(1e-6));
    }

    @Test
    void pairwiseCosinesListsEachPairOnce() {
        float[][] v = {{1, 0}, {0, 1}, {1, 1}};
        assertThat(Fidelity.pairwiseCosines(v)).containsExactly(new double[] {0, Math.sqrt(0.5), Math.sqrt(0.5)}, within(1e-7));
    }

    @Test
    void ndcgRewardsTheTeachersTopDocumentsInTheTeachersOrder() {
        // sentences 0 and 5 are queries, 1-4 documents; the teacher ranks d1, d2 first for q0 and d4, d3 for q5
        float[][] teacher = {unit(0), unit(10), unit(20), unit(90), unit(120), unit(180)};
        float[][] student = {unit(0), unit(10), unit(5), unit(90), unit(120), unit(180)};   // q0 sees d2 before d1
        // k = 2: gains 2 and 1; IDCG = 2 + 1/log2(3); q0's swapped list gives 1 + 2/log2(3)
        double l3 = Math.log(3) / Math.log(2);
        double q0 = (1 + 2 / l3) / (2 + 1 / l3);
        assertThat(Fidelity.ndcgAtK(teacher, student, 2)).isCloseTo((q0 + 1) / 2, within(1e-12));
        assertThat(q0).isCloseTo(0.8597186, within(1e-6));
        assertThat(Fidelity.ndcgAtK(teacher, teacher, 2)).isEqualTo(1.0);
    }

    private static float[] unit(double degrees) {
        double r = Math.toRadians(degrees);
        return new float[] {(float) Math.cos(r), (float) Math.sin(r)};
    }
}
