package dev.distill4j.teacher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {
    @Test void ceilingDoublesFromHalfASecondUpToAMinute() {
        var b = new Backoff(6, 1L);
        assertThat(b.ceiling(1)).isEqualTo(Duration.ofMillis(500));
        assertThat(b.ceiling(2)).isEqualTo(Duration.ofSeconds(1));
        assertThat(b.ceiling(5)).isEqualTo(Duration.ofSeconds(8));
        assertThat(b.ceiling(8)).isEqualTo(Duration.ofSeconds(60));
        assertThat(b.ceiling(1000)).isEqualTo(Duration.ofSeconds(60));
    }

    @Test void fullJitterStaysUnderTheCeilingAndSpreadsOut() {
        var b = new Backoff(6, 42L);
        double sum = 0;
        int n = 2000;
        for (int i = 0; i < n; i++) {
            Duration d = b.delay(3, null);
            assertThat(d).isBetween(Duration.ZERO, Duration.ofSeconds(2));
            sum += d.toNanos();
        }
        // uniform on [0, 2 s): mean 1 s
        assertThat(sum / n / 1e9).isBetween(0.9, 1.1);
    }

    @Test void seededBackoffsRepeat() {
        var a = new Backoff(6, 7L);
        var b = new Backoff(6, 7L);
        for (int i = 1; i < 10; i++) assertThat(a.delay(i, null)).isEqualTo(b.delay(i, null));
    }

    @Test void retryAfterIsAFloor() {
        var b = new Backoff(6, 3L);
        assertThat(b.delay(1, Duration.ofSeconds(10))).isEqualTo(Duration.ofSeconds(10));
        for (int i = 0; i < 100; i++) {
            assertThat(b.delay(10, Duration.ofSeconds(1))).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
        }
    }

    @Test void attempts() {
        var b = new Backoff();
        assertThat(b.maxAttempts()).isEqualTo(6);
        assertThat(b.canRetry(5)).isTrue();
        assertThat(b.canRetry(6)).isFalse();
        assertThatThrownBy(() -> new Backoff(0)).hasMessageContaining("max attempts");
    }
}
