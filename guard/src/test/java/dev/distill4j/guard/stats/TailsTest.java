package dev.distill4j.guard.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import org.junit.jupiter.api.Test;

/** The tails against values computed by hand and against exact rational sums (BigInteger / BigDecimal). */
class TailsTest {

    /**
     * The extraction scanner's cases (training_signal_share; exact values from rational arithmetic, Python's fractions
     * and math.comb): the session-8 support bot's 8 of 26 and 10 of 33 logprobs requests against 0.3, a harvester's
     * 25 of 25 (0.3²⁵), a campaign asking on about half of its requests (12 and 13 of 25, 20 of 40); and a long log
     * far beyond a double's resolution.
     */
    @Test
    void binomialTailsOfTheScannersCases() {
        assertThat(Tails.binomialUpper(8, 26, 0.3).value()).isCloseTo(0.5395095479362422, within(1e-12));
        assertThat(Tails.binomialUpper(10, 33, 0.3).value()).isCloseTo(0.5502519059250452, within(1e-12));
        assertThat(Tails.binomialUpper(25, 25, 0.3).value()).isCloseTo(Math.pow(0.3, 25), within(1e-25));
        assertThat(Tails.binomialUpper(12, 25, 0.3).value()).isCloseTo(0.04424649739128246, within(1e-12));
        assertThat(Tails.binomialUpper(13, 25, 0.3).value()).isCloseTo(0.017469740526057695, within(1e-12));
        assertThat(Tails.binomialUpper(20, 40, 0.3).value()).isCloseTo(0.006254504372435027, within(1e-12));
        assertThat(Tails.binomialUpper(5000, 10_000, 0.3).value()).isEqualTo(0.0);
        assertThat(Tails.binomialUpper(2900, 10_000, 0.3).value()).isBetween(0.98, 1.0);
    }

    @Test
    void binomialTailMatchesAHandComputedValue() {
        // P(X ≥ 8), X ~ Bin(10, 1/4) = [C(10,8)·3² + C(10,9)·3 + 1] / 4^10 = (405 + 30 + 1) / 1048576
        assertThat(Tails.binomialUpper(8, 10, 0.25).value()).isCloseTo(436.0 / 1048576, within(1e-13 * 436.0 / 1048576));
        // P(X ≥ 1), X ~ Bin(3, 1/2) = 7/8; P(X ≥ 0) = 1; P(X ≥ 4) = 0
        assertThat(Tails.binomialUpper(1, 3, 0.5).value()).isCloseTo(0.875, within(1e-15));
        assertThat(Tails.binomialUpper(0, 3, 0.5).value()).isEqualTo(1.0);
        assertThat(Tails.binomialUpper(4, 3, 0.5).value()).isEqualTo(0.0);
    }

    @Test
    void binomialTailIsExactAcrossTheRangeDownToTinyValues() {
        long[][] cases = {{10, 3}, {50, 20}, {200, 50}, {200, 51}, {200, 49}, {200, 120}, {1000, 260}, {2000, 1000},
            {2000, 1900}, {5000, 1250}, {5000, 1400}, {3000, 2999}};
        for (long[] c : cases) {
            for (int[] q : new int[][] {{1, 4}, {1, 2}}) {
                double exact = exactBinomialUpperLn(c[1], c[0], q[0], q[1]);
                double got = Tails.binomialUpper(c[1], c[0], (double) q[0] / q[1]).ln();
                assertThat(got).as("n=%d k=%d q=%d/%d", c[0], c[1], q[0], q[1])
                        .isCloseTo(exact, within(1e-11 * Math.max(1, Math.abs(exact))));
            }
        }
    }

    @Test
    void binomialTailOfAMillionTrials() {
        // the detectors pool 10⁶ tokens; the mean is exactly the median here, so P(X ≥ n/4) is just over ½
        double p = Tails.binomialUpper(250_000, 1_000_000, 0.25).value();
        assertThat(p).isBetween(0.5, 0.501);
        // 0.26 green over 10⁶ tokens: z ≈ 23, p ≈ 1e-117 (Chernoff: ln p ≤ −n·KL(0.26‖0.25) = −264.7)
        double ln = Tails.binomialUpper(260_000, 1_000_000, 0.25).ln();
        assertThat(ln).isLessThan(-264.0).isGreaterThan(-275.0);
    }

    @Test
    void gammaTailMatchesHandComputedValues() {
        // Gamma(1,1) is Exp(1): P(S ≥ s) = e^{−s}
        assertThat(Tails.gammaUpper(1, 2.5).value()).isCloseTo(Math.exp(-2.5), within(1e-16));
        // P(Gamma(3,1) ≥ 2) = e^{−2} (1 + 2 + 2²/2) = 5 e^{−2}
        assertThat(Tails.gammaUpper(3, 2).value()).isCloseTo(5 * Math.exp(-2), within(1e-15));
        assertThat(Tails.gammaUpper(3, 0).value()).isEqualTo(1.0);
    }

    @Test
    void gammaTailIsExactAcrossTheRangeDownToTinyValues() {
        long[][] cases = {{1, 7}, {5, 2}, {5, 9}, {100, 80}, {100, 100}, {100, 130}, {1000, 1100}, {1000, 1500},
            {3000, 6000}, {20, 200}};
        for (long[] c : cases) {
            double exact = exactGammaUpperLn(c[0], c[1]);
            double got = Tails.gammaUpper(c[0], c[1]).ln();
            assertThat(got).as("n=%d s=%d", c[0], c[1]).isCloseTo(exact, within(1e-11 * Math.max(1, Math.abs(exact))));
        }
    }

    @Test
    void pValuesPrintAtAnyMagnitude() {
        assertThat(PValue.of(0.4213).toString()).isEqualTo("0.421");
        assertThat(PValue.of(3.2e-5).toString()).isEqualTo("3.2e-05");
        assertThat(new PValue(-412.3 * Math.log(10)).toString()).isEqualTo("5.0e-413");
        assertThat(PValue.of(1e-3).times(10).value()).isCloseTo(1e-2, within(1e-15));
        assertThat(PValue.of(0.5).times(10)).isEqualTo(PValue.ONE);
    }

    /** ln Σ_{j≥k} C(n,j) a^j (b−a)^{n−j} / b^n, computed exactly then logged. */
    private static double exactBinomialUpperLn(long k, long n, int a, int b) {
        BigInteger sum = BigInteger.ZERO;
        BigInteger c = BigInteger.ONE;    // C(n, j), built up from j = 0
        for (long j = 0; j <= n; j++) {
            if (j > 0) c = c.multiply(BigInteger.valueOf(n - j + 1)).divide(BigInteger.valueOf(j));
            if (j >= k) {
                sum = sum.add(c.multiply(BigInteger.valueOf(a).pow((int) j))
                        .multiply(BigInteger.valueOf(b - a).pow((int) (n - j))));
            }
        }
        return ln(sum) - n * Math.log(b);
    }

    /** ln( e^{−s} Σ_{j<n} s^j / j! ) with the sum in 60-digit decimal arithmetic. */
    private static double exactGammaUpperLn(long n, long s) {
        MathContext mc = new MathContext(60);
        BigDecimal term = BigDecimal.ONE;
        BigDecimal sum = BigDecimal.ZERO;
        for (long j = 0; j < n; j++) {
            if (j > 0) term = term.multiply(BigDecimal.valueOf(s), mc).divide(BigDecimal.valueOf(j), mc);
            sum = sum.add(term, mc);
        }
        return -s + ln(sum.toBigInteger().max(BigInteger.ONE)) + Math.log(sum.divide(new BigDecimal(
                sum.toBigInteger().max(BigInteger.ONE)), mc).doubleValue());
    }

    /** ln of a positive integer of any size: its top 60 bits as a double, plus the shift. */
    private static double ln(BigInteger x) {
        int shift = Math.max(0, x.bitLength() - 60);
        return Math.log(x.shiftRight(shift).doubleValue()) + shift * Math.log(2);
    }
}
