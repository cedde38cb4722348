package dev.distill4j.teacher;

import java.time.Duration;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Client-side limits on requests per minute and tokens per minute, so a harvest stays under a provider's quota
 * instead of learning it from 429s. Each limit is a token bucket refilled at limit/60 per second holding at most one
 * second's worth (providers enforce per-minute limits in shorter windows, so a minute's worth at once would draw 429s).
 *
 * <p>{@link #acquire} reserves in arrival order and may run a bucket into debt: a caller learns under the lock when
 * its turn comes and sleeps until then outside it. Callers are served first come first served, nobody spins, and a
 * request larger than a bucket still gets through (after the debt it makes is repaid). Sleeping is
 * {@link Thread#sleep}, which frees a virtual thread's carrier.
 *
 * <p>The provider's answers adjust the limiter: {@link #observe} pauses everyone until the reset when a response says
 * the requests or tokens left are about to run out, and shrinks the buckets to what the headers report;
 * {@link #onRateLimited} pauses everyone after a 429.
 */
public final class RateLimiter {
    /** Time source and sleeper, so tests run on a fake clock without sleeping. */
    public interface Ticker {
        long nanos();

        void sleep(long nanos) throws InterruptedException;

        Ticker SYSTEM = new Ticker() {
            @Override public long nanos() { return System.nanoTime(); }

            @Override public void sleep(long nanos) throws InterruptedException {
                Thread.sleep(Duration.ofNanos(nanos));
            }
        };
    }

    /** Pause after a 429 that gave no Retry-After. */
    public static final Duration DEFAULT_PAUSE = Duration.ofSeconds(1);
    private static final long MINUTE = 60_000_000_000L;

    private final Ticker ticker;
    private final ReentrantLock lock = new ReentrantLock();
    private final Bucket requests;
    private final Bucket tokens;
    /** Nobody starts before this instant (ticker nanos); read outside the lock by sleepers re-checking. */
    private volatile long pausedUntil;
    /** Running average of tokens per request: what "about to run out" means for the token quota. */
    private double typicalTokens = 0;

    /**
     * @param requestsPerMinute ≤ 0 for no request limit
     * @param tokensPerMinute   ≤ 0 for no token limit
     */
    public RateLimiter(long requestsPerMinute, long tokensPerMinute) {
        this(requestsPerMinute, tokensPerMinute, Ticker.SYSTEM);
    }

    public RateLimiter(long requestsPerMinute, long tokensPerMinute, Ticker ticker) {
        this.ticker = ticker;
        long now = ticker.nanos();
        this.requests = new Bucket(requestsPerMinute, now);
        this.tokens = new Bucket(tokensPerMinute, now);
        this.pausedUntil = now;
    }

    public static RateLimiter unlimited() { return new RateLimiter(0, 0); }

    /**
     * Waits until one request of about {@code tokens} tokens (prompt estimate plus max output) may start.
     */
    public void acquire(long tokens) throws InterruptedException {
        long start;
        lock.lock();
        try {
            long now = ticker.nanos();
            typicalTokens = typicalTokens == 0 ? tokens : 0.9 * typicalTokens + 0.1 * tokens;
            start = Math.max(now, pausedUntil);
            start = Math.max(start, this.requests.reserve(1, now));
            start = Math.max(start, this.tokens.reserve(Math.max(0, tokens), now));
        } finally {
            lock.unlock();
        }
        // A pause can be called while we sleep (a 429 elsewhere); it applies to us too.
        for (;;) {
            long now = ticker.nanos();
            long until = Math.max(start, pausedUntil);
            if (until <= now) return;
            ticker.sleep(until - now);
        }
    }

    /** Takes in what a response's headers said about the provider's limits. */
    public void observe(RateLimitInfo info) {
        if (info == null || info.isEmpty()) return;
        lock.lock();
        try {
            long now = ticker.nanos();
            requests.shrink(info.limitRequests(), info.remainingRequests(), now);
            tokens.shrink(info.limitTokens(), info.remainingTokens(), now);
            if (info.remainingRequests() == 0 && info.resetRequests() != null) {
                pauseLocked(now, info.resetRequests());
            }
            if (info.remainingTokens() >= 0 && info.resetTokens() != null
                    && info.remainingTokens() < Math.max(1, typicalTokens)) {
                pauseLocked(now, info.resetTokens());
            }
        } finally {
            lock.unlock();
        }
    }

    /** A 429: everyone waits {@code retryAfter} (or {@link #DEFAULT_PAUSE} when the provider gave none). */
    public void onRateLimited(Duration retryAfter) {
        lock.lock();
        try {
            pauseLocked(ticker.nanos(), retryAfter == null ? DEFAULT_PAUSE : retryAfter);
        } finally {
            lock.unlock();
        }
    }

    /** How long a caller arriving now would wait at least because of a pause (0 when none). */
    public Duration pauseRemaining() {
        return Duration.ofNanos(Math.max(0, pausedUntil - ticker.nanos()));
    }

    public long requestsPerMinute() { return requests.perMinute; }

    public long tokensPerMinute() { return tokens.perMinute; }

    private void pauseLocked(long now, Duration d) {
        long until = now + Math.max(0, d.toNanos());
        if (until <= pausedUntil) return;
        pausedUntil = until;
        // No credit builds up while paused, so the restart is paced rather than a burst into the same wall.
        requests.freezeUntil(now, until);
        tokens.freezeUntil(now, until);
    }

    /** Guarded by {@link #lock}. */
    private static final class Bucket {
        long perMinute;
        double capacity;
        double ratePerNano;
        double level;
        long last;

        Bucket(long perMinute, long now) {
            setLimit(perMinute);
            level = capacity;
            last = now;
        }

        private void setLimit(long perMinute) {
            this.perMinute = Math.max(0, perMinute);
            this.capacity = Math.max(1.0, this.perMinute / 60.0);
            this.ratePerNano = (double) this.perMinute / MINUTE;
        }

        boolean unlimited() { return perMinute == 0; }

        /** Takes {@code n} and returns when the taker may start. */
        long reserve(long n, long now) {
            if (unlimited()) return now;
            refill(now);
            level -= n;
            long from = Math.max(now, last);
            return level >= 0 ? from : from + (long) Math.ceil(-level / ratePerNano);
        }

        void refill(long now) {
            if (now > last) {
                level = Math.min(capacity, level + (now - last) * ratePerNano);
                last = now;
            }
        }

        /** The provider's word beats our configuration when it is stricter. */
        void shrink(long limit, long remaining, long now) {
            if (unlimited()) return;
            refill(now);
            if (limit > 0 && limit < perMinute) {
                setLimit(limit);
                level = Math.min(level, capacity);
            }
            if (remaining >= 0) level = Math.min(level, remaining);
        }

        void freezeUntil(long now, long until) {
            if (unlimited()) return;
            refill(now);
            level = Math.min(level, 0);
            last = Math.max(last, until);
        }
    }
}
