package dev.distill4j.train.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class LrScheduleTest {
    private final LrSchedule schedule = new LrSchedule(1e-3, 1e-4, 10, 110);

    @Test
    void warmupRisesLinearlyFromZero() {
        assertThat(schedule.at(0)).isZero();
        assertThat(schedule.at(1)).isCloseTo(1e-4, within(1e-15));
        assertThat(schedule.at(5)).isCloseTo(5e-4, within(1e-15));
        assertThat(schedule.at(10)).isCloseTo(1e-3, within(1e-15));
    }

    @Test
    void cosineDecaysToTheFloorAndStaysThere() {
        // Halfway through the decay the cosine factor is ½: lr = min + (peak − min)/2.
        assertThat(schedule.at(60)).isCloseTo(1e-4 + 0.5 * 9e-4, within(1e-15));
        // A quarter in: ½(1 + cos(π/4)).
        assertThat(schedule.at(35)).isCloseTo(1e-4 + 9e-4 * 0.5 * (1 + Math.sqrt(0.5)), within(1e-15));
        assertThat(schedule.at(110)).isCloseTo(1e-4, within(1e-15));
        assertThat(schedule.at(500)).isCloseTo(1e-4, within(1e-15));
        for (long s = 10; s < 110; s++) assertThat(schedule.at(s + 1)).isLessThanOrEqualTo(schedule.at(s));
    }

    @Test
    void withoutWarmupStartsAtPeakAndMinZeroMatchesHfCosine() {
        LrSchedule hf = new LrSchedule(2e-5, 0, 0, 100);
        assertThat(hf.at(0)).isEqualTo(2e-5);
        assertThat(hf.at(100)).isZero();
        assertThat(hf.at(30)).isCloseTo(2e-5 * 0.5 * (1 + Math.cos(Math.PI * 0.3)), within(1e-18));
    }

    @Test
    void invalidSchedulesAreRejected() {
        assertThatThrownBy(() -> new LrSchedule(1e-3, 2e-3, 0, 10)).hasMessageContaining("min learning rate");
        assertThatThrownBy(() -> new LrSchedule(1e-3, 0, 20, 10)).hasMessageContaining("warmup steps <= total steps");
        assertThatThrownBy(() -> new LrSchedule(0, 0, 0, 10)).hasMessageContaining("must be > 0");
    }
}
