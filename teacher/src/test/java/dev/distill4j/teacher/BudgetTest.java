package dev.distill4j.teacher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.distill4j.core.Usage;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

class BudgetTest {
    @Test void costUsesPricesPerMillionAndTheCachedPrice() {
        var b = new Budget(2.5, 1.25, 10.0, null);
        assertThat(b.cost(new Usage(1_000_000, 0))).isCloseTo(2.5, within(1e-12));
        assertThat(b.cost(new Usage(1000, 500))).isCloseTo(0.0025 + 0.005, within(1e-12));
        assertThat(b.cost(new Usage(1000, 0, 400, 0))).isCloseTo(600 * 2.5e-6 + 400 * 1.25e-6, within(1e-12));
        assertThat(new Budget(3, 15, null).cost(new Usage(1000, 0, 1000, 0))).isCloseTo(0.003, within(1e-12));
    }

    @Test void reservesTheWorstCaseAndRefusesBeyondTheLimit() {
        var b = new Budget(1.0, 2.0, 0.01);            // $1 / $2 per M tokens, $0.01 limit
        var r1 = b.tryReserve(1000, 2000).orElseThrow();  // worst case $0.005
        assertThat(r1.usd()).isCloseTo(0.005, within(1e-12));
        assertThat(b.reservedUsd()).isCloseTo(0.005, within(1e-12));
        var r2 = b.tryReserve(1000, 2000).orElseThrow();
        assertThat(b.tryReserve(1, 1)).isEmpty();         // 0.01 + anything > 0.01
        assertThat(b.remainingUsd()).isCloseTo(0, within(1e-12));

        b.settle(r1, new Usage(1000, 500));               // billed $0.002
        assertThat(b.spentUsd()).isCloseTo(0.002, within(1e-12));
        assertThat(b.reservedUsd()).isCloseTo(0.005, within(1e-12));
        assertThat(b.tryReserve(1000, 1000)).isPresent();  // $0.003 fits in what is left

        b.release(r2);
        b.release(r2);                                    // once only
        b.settle(r1, new Usage(1_000_000, 0));            // settled already: ignored
        assertThat(b.reservedUsd()).isCloseTo(0.003, within(1e-12));
        assertThat(b.spentUsd()).isCloseTo(0.002, within(1e-12));
    }

    @Test void unlimitedNeverRefuses() {
        var b = Budget.unlimited();
        assertThat(b.limited()).isFalse();
        assertThat(b.tryReserve(Long.MAX_VALUE / 4, Long.MAX_VALUE / 4)).isPresent();
        var priced = new Budget(5, 15, null);
        for (int i = 0; i < 1000; i++) priced.settle(priced.tryReserve(1_000_000, 1_000_000).orElseThrow(), new Usage(1, 1));
        assertThat(priced.spentUsd()).isCloseTo(1000 * 20e-6, within(1e-9));
    }

    @Test void threadSafeUnderManyCallers() {
        var b = new Budget(1, 1, 1.0);                    // each request worst case $0.0002, billed $0.0001
        try (var exec = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 20_000; i++) {
                exec.submit(() -> b.tryReserve(100, 100).ifPresent(r -> b.settle(r, new Usage(50, 50))));
            }
        }
        assertThat(b.reservedUsd()).isCloseTo(0, within(1e-9));
        assertThat(b.spentUsd()).isLessThanOrEqualTo(1.0 + 1e-9);
        // all 20,000 could be billed ($2) if reservations never overlapped; never more than the limit
        assertThat(b.spentUsd()).isGreaterThan(0.5);
    }

    @Test void reserveWaitsForRequestsInFlightAndRefusesOnlyWhenNoneAre() throws Exception {
        var b = new Budget(1.0, 1.0, 0.003);                 // $1 per M tokens either way
        var first = b.reserve(new Usage(1000, 1000)).orElseThrow();   // worst case $0.002
        var waiter = new java.util.concurrent.CompletableFuture<java.util.Optional<Budget.Reservation>>();
        Thread t = Thread.ofVirtual().start(() -> {
            try {
                waiter.complete(b.reserve(new Usage(1000, 1000)));     // does not fit beside the first
            } catch (InterruptedException e) {
                waiter.completeExceptionally(e);
            }
        });
        Thread.sleep(100);
        assertThat(waiter).as("waits: the first may settle for less").isNotDone();
        b.settle(first, new Usage(500, 200));                // billed $0.0007: now $0.002 fits
        var second = waiter.get(5, java.util.concurrent.TimeUnit.SECONDS).orElseThrow();
        t.join();
        assertThat(b.tryReserve(1000, 1000)).as("tryReserve never waits: $0.0007 + $0.002 + $0.002 > $0.003")
                .isEmpty();
        b.release(second);
        assertThat(b.reserve(new Usage(3000, 0))).as("$0.0007 + $0.003 with nothing in flight").isEmpty();
        assertThat(b.reservedUsd()).isZero();
    }

    @Test void aLostAnswerIsSpentAtItsWorstCase() {
        var b = new Budget(1.0, 2.0, 1.0);
        var r = b.tryReserve(1000, 500).orElseThrow();       // $0.001 + $0.001
        assertThat(b.settleAtWorstCase(r)).isCloseTo(0.002, within(1e-12));
        assertThat(b.settleAtWorstCase(r)).as("once only").isZero();
        assertThat(b.spentUsd()).isCloseTo(0.002, within(1e-12));
        assertThat(b.spentAtWorstCaseUsd()).isCloseTo(0.002, within(1e-12));
        assertThat(b.attemptsAtWorstCase()).isEqualTo(1);
        assertThat(b.reservedUsd()).isZero();
    }
}
