package dev.distill4j.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class WilsonTest {
    @Test
    void matchesHandComputedIntervals() {
        // 8 of 10, z = 1.96: centre = (0.8 + 0.19207)/1.38415 = 0.71674; half = 1.96/1.38415 · √(0.016 + 0.0096036)
        // = 1.41600 · 0.16001 = 0.22657 → [0.4902, 0.9433] (the textbook value for 8/10)
        Wilson w = Wilson.of(8, 10);
        assertThat(w.low()).isCloseTo(0.49016, within(1e-4));
        assertThat(w.high()).isCloseTo(0.94332, within(1e-4));
        assertThat(w.proportion()).isEqualTo(0.8);
        // 0 of 20: [0, z²/(n + z²)] = [0, 3.8415/23.8415] = [0, 0.16113]
        Wilson none = Wilson.of(0, 20);
        assertThat(none.low()).isEqualTo(0);
        assertThat(none.high()).isCloseTo(0.16113, within(1e-4));
        // 40 of 40: [n/(n + z²), 1] = [40/43.8415, 1] = [0.91238, 1]
        Wilson all = Wilson.of(40, 40);
        assertThat(all.low()).isCloseTo(0.91238, within(1e-4));
        assertThat(all.high()).isEqualTo(1);
    }

    @Test
    void symmetricAroundAHalfAndNarrowingWithN() {
        Wilson a = Wilson.of(50, 100);
        assertThat(a.low() + a.high()).isCloseTo(1, within(1e-12));
        assertThat(Wilson.of(500, 1000).high() - Wilson.of(500, 1000).low()).isLessThan(a.high() - a.low());
    }

    @Test
    void refusesImpossibleCounts() {
        assertThatThrownBy(() -> Wilson.of(3, 2)).isInstanceOf(IllegalArgumentException.class);
        assertThat(Wilson.of(0, 0).high()).isEqualTo(1);
    }
}
