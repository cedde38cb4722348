package dev.distill4j.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

class PcaTest {
    @Test
    void eigenOfATwoByTwo() {
        // [[2,1],[1,2]] has eigenvalues 3 (along (1,1)/√2) and 1 (along (1,−1)/√2)
        Pca.Eigen e = Pca.symmetricEigen(new double[][] {{2, 1}, {1, 2}});
        assertThat(e.values()).containsExactly(new double[] {3, 1}, within(1e-12));
        assertThat(Math.abs(e.vectors()[0][0])).isCloseTo(Math.sqrt(0.5), within(1e-12));
        assertThat(e.vectors()[0][0] * e.vectors()[0][1]).isPositive();
    }

    @Test
    void eigenvectorsSatisfyAvEqualsLambdaV() {
        Random r = new Random(3);
        int n = 12;
        double[][] a = new double[n][n];
        for (int i = 0; i < n; i++) for (int j = 0; j <= i; j++) a[i][j] = a[j][i] = r.nextGaussian();
        Pca.Eigen e = Pca.symmetricEigen(a);
        for (int k = 0; k < n; k++) {
            double[] v = e.vectors()[k];
            for (int i = 0; i < n; i++) {
                double av = 0;
                for (int j = 0; j < n; j++) av += a[i][j] * v[j];
                assertThat(av).isCloseTo(e.values()[k] * v[i], within(1e-9));
            }
            if (k > 0) assertThat(e.values()[k]).isLessThanOrEqualTo(e.values()[k - 1]);
        }
    }

    @Test
    void pointsOnALineNeedOneComponent() {
        float[][] x = new float[20][];
        for (int i = 0; i < x.length; i++) x[i] = new float[] {i, 2 * i + 1, -i};
        Pca.Fit fit = Pca.fit(x, 1);
        assertThat(fit.explained()).isCloseTo(1.0, within(1e-9));
        // projections keep distances along the line: |p(x_i) − p(x_j)| = |i − j|·√6
        assertThat(Math.abs(fit.project(x[5])[0] - fit.project(x[2])[0])).isCloseTo((float) (3 * Math.sqrt(6)), within(1e-4f));
    }
}
