package dev.distill4j.teacher;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class RateLimiterTest {
    static final long S = 1_000_000_000L;

    /** A clock that only moves when someone sleeps. */
    static final class FakeTicker implements RateLimiter.Ticker {
        long now = 1_000 * S;
        final List<Long> sleeps = new ArrayList<>();
        Runnable onFirstSleep;

        @Override public long nanos() { return now; }

        @Override public void sleep(long nanos) {
            sleeps.add(nanos);
            if (onFirstSleep != null) {
                Runnable r = onFirstSleep;
                onFirstSleep = null;
                r.run();
            }
            now += nanos;
        }
    }

    @Test void requestsPerMinuteArePaced() throws Exception {
        var clock = new FakeTicker();
        var limiter = new RateLimiter(120, 0, clock);   // 2 per second, a burst of 2
        limiter.acquire(1000);
        limiter.acquire(1000);
        assertThat(clock.sleeps).isEmpty();
        limiter.acquire(1000);
        limiter.acquire(1000);
        assertThat(clock.sleeps).containsExactly(S / 2, S / 2);
    }

    @Test void tokensPerMinuteArePacedAndBigRequestsGetThrough() throws Exception {
        var clock = new FakeTicker();
        var limiter = new RateLimiter(0, 6000, clock);   // 100 tokens per second
        limiter.acquire(300);                              // bigger than the bucket: runs into debt
        assertThat(clock.sleeps).containsExactly(2 * S);
        limiter.acquire(50);
        assertThat(clock.sleeps).containsExactly(2 * S, S / 2);
    }

    @Test void unlimitedNeverWaits() throws Exception {
        var clock = new FakeTicker();
        var limiter = new RateLimiter(0, 0, clock);
        for (int i = 0; i < 10_000; i++) limiter.acquire(100_000);
        assertThat(clock.sleeps).isEmpty();
    }

    @Test void aRateLimitPausesEveryone() throws Exception {
        var clock = new FakeTicker();
        var limiter = new RateLimiter(0, 0, clock);
        limiter.onRateLimited(Duration.ofSeconds(5));
        assertThat(limiter.pauseRemaining()).isEqualTo(Duration.ofSeconds(5));
        limiter.acquire(1);
        limiter.acquire(1);
        assertThat(clock.sleeps).containsExactly(5 * S);
        limiter.onRateLimited(null);
        limiter.acquire(1);
        assertThat(clock.sleeps).containsExactly(5 * S, RateLimiter.DEFAULT_PAUSE.toNanos());
    }

    @Test void noCreditBuildsUpDuringAPause() throws Exception {
        var clock = new FakeTicker();
        var limiter = new RateLimiter(60, 0, clock);   // 1 per second
        limiter.onRateLimited(Duration.ofSeconds(10));
        limiter.acquire(1);
        limiter.acquire(1);
        // paced from the end of the pause, not a burst of what ten seconds would have refilled
        assertThat(clock.sleeps).containsExactly(11 * S, S);
    }

    @Test void aPauseCalledWhileSleepingStillApplies() throws Exception {
        var clock = new FakeTicker();
        var limiter = new RateLimiter(60, 0, clock);
        limiter.acquire(1);
        clock.onFirstSleep = () -> limiter.onRateLimited(Duration.ofSeconds(10));
        limiter.acquire(1);
        assertThat(clock.sleeps).containsExactly(S, 9 * S);
    }

    @Test void exhaustedHeadersPauseUntilTheReset() throws Exception {
        var clock = new FakeTicker();
        var limiter = new RateLimiter(0, 0, clock);
        limiter.observe(new RateLimitInfo(100, 10_000, 0, 5_000, Duration.ofMillis(1500), Duration.ofSeconds(1)));
        limiter.acquire(100);
        assertThat(clock.sleeps).containsExactly(1500 * 1_000_000L);

        limiter.acquire(400);
        // typical request is now 0.9·100 + 0.1·400 = 130 tokens; 120 left is less: wait for the token reset
        limiter.observe(new RateLimitInfo(100, 10_000, 50, 140, Duration.ofSeconds(1), Duration.ofSeconds(3)));
        limiter.acquire(100);
        assertThat(clock.sleeps).containsExactly(1500 * 1_000_000L);
        limiter.observe(new RateLimitInfo(100, 10_000, 50, 120, Duration.ofSeconds(1), Duration.ofSeconds(3)));
        limiter.acquire(100);
        assertThat(clock.sleeps).containsExactly(1500 * 1_000_000L, 3 * S);

        limiter.observe(new RateLimitInfo(100, 10_000, 50, 9_000, Duration.ofSeconds(1), Duration.ofSeconds(3)));
        limiter.observe(RateLimitInfo.NONE);
        limiter.acquire(100);
        assertThat(clock.sleeps).hasSize(2);
    }

    @Test void headersShrinkAConfiguredLimit() throws Exception {
        var clock = new FakeTicker();
        var limiter = new RateLimiter(6000, 0, clock);
        limiter.observe(new RateLimitInfo(60, -1, 59, -1, null, null));
        assertThat(limiter.requestsPerMinute()).isEqualTo(60);
        limiter.acquire(1);
        limiter.acquire(1);
        assertThat(clock.sleeps).containsExactly(S);
    }

    @Test void manyVirtualThreadsAllGetThrough() throws Exception {
        var limiter = new RateLimiter(600_000, 60_000_000);   // generous: the test checks progress, not timing
        var done = new AtomicInteger();
        try (var exec = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 2000; i++) {
                exec.submit(() -> {
                    limiter.acquire(100);
                    done.incrementAndGet();
                    return null;
                });
            }
        }
        assertThat(done.get()).isEqualTo(2000);
    }

    @Test void aWaitingCallerCanBeInterrupted() throws Exception {
        var limiter = new RateLimiter(0, 0);
        limiter.onRateLimited(Duration.ofMinutes(5));
        var failure = new AtomicReference<Throwable>();
        var started = new CountDownLatch(1);
        Thread t = Thread.ofVirtual().start(() -> {
            started.countDown();
            try {
                limiter.acquire(1);
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        started.await();
        t.interrupt();
        t.join(Duration.ofSeconds(10));
        assertThat(t.isAlive()).isFalse();
        assertThat(failure.get()).isInstanceOf(InterruptedException.class);
    }

    @Test void negativeOrZeroLimitsMeanUnlimited() {
        var limiter = new RateLimiter(-1, 0);
        assertThat(limiter.requestsPerMinute()).isZero();
        assertThat(limiter.tokensPerMinute()).isZero();
    }
}
