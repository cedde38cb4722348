package dev.distill4j.guard.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.distill4j.guard.stats.Tails;
import dev.distill4j.guard.watermark.Kgw;
import dev.distill4j.guard.watermark.TokenizerFingerprint;
import dev.distill4j.guard.watermark.Watermark;
import dev.distill4j.guard.watermark.WatermarkKey;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The statistics the calibration benchmark reports are right: its figures are only as good as these. */
class NullStatsTest {

    @Test
    void clopperPearsonMatchesClosedFormsAndTables() {
        // k = 0 and k = n have closed forms: 1 − 0.025^(1/n) and 0.025^(1/n)
        assertThat(NullStats.clopperPearson(0, 10)[1]).isCloseTo(1 - Math.pow(0.025, 0.1), within(1e-9));
        assertThat(NullStats.clopperPearson(10, 10)[0]).isCloseTo(Math.pow(0.025, 0.1), within(1e-9));
        // 5/10: [0.1871, 0.8129] (R: binom.test(5, 10)$conf.int)
        double[] ci = NullStats.clopperPearson(5, 10);
        assertThat(ci[0]).isCloseTo(0.187086, within(1e-6));
        assertThat(ci[1]).isCloseTo(0.812914, within(1e-6));
        // 10/100000: [4.795e-05, 1.839e-04]
        ci = NullStats.clopperPearson(10, 100_000);
        assertThat(ci[0]).isCloseTo(4.7954e-05, within(1e-8));
        assertThat(ci[1]).isCloseTo(1.8390e-04, within(1e-8));
    }

    @Test
    void kolmogorovTailAtItsKnownQuantiles() {
        assertThat(NullStats.kolmogorovQ(1.3581)).isCloseTo(0.05, within(1e-4));
        assertThat(NullStats.kolmogorovQ(1.6276)).isCloseTo(0.01, within(1e-4));
    }

    /** P(p̃ ≤ u) = u exactly for a binomial count, while the exact p is below u between its atoms. */
    @Test
    void randomizedBinomialPValueIsExactlyUniform() {
        Watermark wm = Watermark.of(new WatermarkKey(WatermarkKey.Scheme.KGW,
                Map.of("gamma", 0.25, "delta", 2.0, "context", 1, "hash", "left"), new TokenizerFingerprint("00", 8),
                new byte[32]));
        double gamma = ((Kgw) wm).gamma();
        int n = 20;
        for (double u : new double[] {0.001, 0.05, 0.3, 0.77}) {
            double randomized = 0, exact = 0;
            for (int k = 0; k <= n; k++) {
                double pmf = Math.exp(Tails.logBinomialPmf(k, n, gamma));
                double above = NullStats.randomized(wm, k, n, 0), atom = NullStats.randomized(wm, k, n, 1) - above;
                // P over U of above + U·atom ≤ u
                randomized += pmf * (atom == 0 ? (above <= u ? 1 : 0) : Math.clamp((u - above) / atom, 0, 1));
                exact += Tails.binomialUpper(k, n, gamma).value() <= u ? pmf : 0;
            }
            assertThat(randomized).isCloseTo(u, within(1e-12));
            assertThat(exact).isLessThanOrEqualTo(u);
        }
    }
}
