package dev.distill4j.teacher;

import dev.distill4j.core.InvalidInputException;
import java.time.Duration;
import java.util.Random;

/**
 * Exponential backoff with full jitter (a uniformly random wait between 0 and base·factor^(attempt−1), capped): the
 * scheme that spreads a crowd of failed callers out best, so they do not all come back in the same instant. A
 * provider's Retry-After is a floor, never shortened.
 */
public final class Backoff {
    public static final Duration BASE = Duration.ofMillis(500);
    public static final double FACTOR = 2.0;
    public static final Duration CAP = Duration.ofSeconds(60);
    public static final int DEFAULT_MAX_ATTEMPTS = 6;

    private final Duration base;
    private final double factor;
    private final Duration cap;
    private final int maxAttempts;
    private final Random random;

    public Backoff() {
        this(DEFAULT_MAX_ATTEMPTS, new Random());
    }

    public Backoff(int maxAttempts) {
        this(maxAttempts, new Random());
    }

    /** Seeded, for reproducible tests. */
    public Backoff(int maxAttempts, long seed) {
        this(maxAttempts, new Random(seed));
    }

    private Backoff(int maxAttempts, Random random) {
        this(BASE, FACTOR, CAP, maxAttempts, random);
    }

    public Backoff(Duration base, double factor, Duration cap, int maxAttempts, Random random) {
        if (maxAttempts < 1) throw new InvalidInputException("max attempts must be ≥ 1, got " + maxAttempts);
        if (factor < 1) throw new InvalidInputException("backoff factor must be ≥ 1, got " + factor);
        this.base = base;
        this.factor = factor;
        this.cap = cap;
        this.maxAttempts = maxAttempts;
        this.random = random;
    }

    /** Attempts per sample in all, the first one included. */
    public int maxAttempts() { return maxAttempts; }

    /** True when a sample that has failed {@code attempts} times may try again. */
    public boolean canRetry(int attempts) { return attempts < maxAttempts; }

    /** The upper end of the jitter range after {@code attempt} failures. */
    public Duration ceiling(int attempt) {
        double nanos = base.toNanos() * Math.pow(factor, Math.max(0, attempt - 1));
        return nanos >= cap.toNanos() ? cap : Duration.ofNanos((long) nanos);
    }

    /**
     * The wait before the next attempt.
     *
     * @param attempt    failures so far (1 after the first failed attempt)
     * @param retryAfter the provider's Retry-After, or null
     */
    public Duration delay(int attempt, Duration retryAfter) {
        long ceiling = ceiling(attempt).toNanos();
        long jittered;
        synchronized (random) {
            jittered = (long) (random.nextDouble() * ceiling);
        }
        Duration d = Duration.ofNanos(jittered);
        return retryAfter != null && retryAfter.compareTo(d) > 0 ? retryAfter : d;
    }
}
