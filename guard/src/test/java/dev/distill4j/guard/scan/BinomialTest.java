package dev.distill4j.guard.scan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** {@link Binomial}: exact upper tails by hand, the Clopper–Pearson bound, edges. */
class BinomialTest {
    /**
     * P(X ≥ 3), X ~ Bin(5, 0.3) = C(5,3)·0.3³·0.7² + C(5,4)·0.3⁴·0.7 + 0.3⁵ = 0.1323 + 0.02835 + 0.00243 = 0.16308;
     * P(X ≥ 2), X ~ Bin(4, 1/2) = (6 + 4 + 1) / 16 = 0.6875; P(X ≥ 1), X ~ Bin(3, 0.1) = 1 − 0.9³ = 0.271.
     */
    @Test
    void smallTailsByHand() {
        assertThat(Binomial.upperTail(3, 5, 0.3)).isCloseTo(0.16308, within(1e-12));
        assertThat(Binomial.upperTail(2, 4, 0.5)).isCloseTo(0.6875, within(1e-12));
        assertThat(Binomial.upperTail(1, 3, 0.1)).isCloseTo(0.271, within(1e-12));
        assertThat(Binomial.upperTail(5, 5, 0.3)).isCloseTo(0.00243, within(1e-14));
    }

    /**
     * The benchmark's cases (exact values from rational arithmetic, Python's fractions and math.comb): the session-8
     * support bot's 8 of 26 logprobs requests against 0.3, a harvester's 25 of 25 (0.3²⁵), a campaign asking on
     * half its requests (12 and 13 of 25, 20 of 40).
     */
    @Test
    void benchmarkCasesAgainstExactRationals() {
        assertThat(Binomial.upperTail(8, 26, 0.3)).isCloseTo(0.5395095479362422, within(1e-12));
        assertThat(Binomial.upperTail(10, 33, 0.3)).isCloseTo(0.5502519059250452, within(1e-12));
        assertThat(Binomial.upperTail(25, 25, 0.3)).isCloseTo(Math.pow(0.3, 25), within(1e-25));
        assertThat(Binomial.upperTail(12, 25, 0.3)).isCloseTo(0.04424649739128246, within(1e-12));
        assertThat(Binomial.upperTail(13, 25, 0.3)).isCloseTo(0.017469740526057695, within(1e-12));
        assertThat(Binomial.upperTail(20, 40, 0.3)).isCloseTo(0.006254504372435027, within(1e-12));
    }

    @Test
    void edges() {
        assertThat(Binomial.upperTail(0, 10, 0.3)).isEqualTo(1);
        assertThat(Binomial.upperTail(11, 10, 0.3)).isEqualTo(0);
        assertThat(Binomial.upperTail(1, 10, 0)).isEqualTo(0);
        assertThat(Binomial.upperTail(10, 10, 1)).isEqualTo(1);
        assertThat(Binomial.upperTail(0, 0, 0.3)).isEqualTo(1);
        // a long log: 5,000 of 10,000 against 0.3 is far beyond any double's resolution, and not NaN
        assertThat(Binomial.upperTail(5000, 10_000, 0.3)).isEqualTo(0.0);
        assertThat(Binomial.upperTail(2900, 10_000, 0.3)).isBetween(0.98, 1.0);
        assertThatThrownBy(() -> Binomial.upperTail(1, -1, 0.3)).isInstanceOf(IllegalArgumentException.class);
    }

    /**
     * Clopper–Pearson: with k = n the bound solves p^n = α, so 25 of 25 at α = 0.01 gives 0.01^(1/25) = 0.83176;
     * with k = 1 it solves 1 − (1 − p)^n = α, so 1 of 10 gives 1 − 0.99^(1/10) = 0.0010045. The bound and the test
     * agree: the tail at the bound is α, and a bound above 0.3 is a tail at 0.3 below α.
     */
    @Test
    void lowerBoundSolvesTheTail() {
        assertThat(Binomial.lowerBound(25, 25, 0.01)).isCloseTo(Math.pow(0.01, 1 / 25.0), within(1e-9));
        assertThat(Binomial.lowerBound(1, 10, 0.01)).isCloseTo(1 - Math.pow(0.99, 0.1), within(1e-9));
        assertThat(Binomial.lowerBound(0, 10, 0.01)).isEqualTo(0);
        double b = Binomial.lowerBound(20, 40, 0.01);
        assertThat(Binomial.upperTail(20, 40, b)).isCloseTo(0.01, within(1e-6));
        assertThat(b).isGreaterThan(0.3); // P(X ≥ 20 | 40, 0.3) = 0.0063 < 0.01
        assertThat(Binomial.lowerBound(8, 26, 0.01)).isLessThan(0.3);
    }
}
