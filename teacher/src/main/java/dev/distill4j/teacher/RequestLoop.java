package dev.distill4j.teacher;

import dev.distill4j.core.Usage;
import java.net.ConnectException;
import java.time.Duration;

/**
 * One request's way through budget → rate limit → call → retries, shared by every harvest (text samples,
 * embeddings): the worst case is reserved before the call ({@link Budget#reserve}: waits while requests in flight may
 * free room, refuses once none are) and settled after it at what the attempt cost (the billed usage; nothing for an
 * error status; the worst case for an answer that was lost but may have been billed), the provider's rate-limit
 * headers and 429s pace everyone, retryable failures wait out {@link Backoff} (never less than a Retry-After), and
 * the caller's {@link Hooks} decide what stops the whole harvest.
 */
public final class RequestLoop {
    /** What a successful call reports for billing and pacing. */
    public interface Billed {
        Usage usage();

        RateLimitInfo rateLimits();
    }

    @FunctionalInterface
    public interface Call<T extends Billed> {
        T call() throws TeacherException;
    }

    /** The harvest around the request. */
    public interface Hooks {
        /** True once the harvest is stopping: no new attempt starts. */
        boolean stopped();

        /** The budget refused the next attempt. */
        void budgetReached();

        /** True when {@code e} must stop the whole harvest (the request is then abandoned, not recorded). */
        boolean fatal(TeacherException e);

        /** Attempt {@code attempt} failed with {@code e} and will be retried after {@code delay}. */
        default void retrying(int attempt, TeacherException e, Duration delay) {}

        /** The failed attempt {@code e} was counted as spent ({@code usd}): its answer was billed but lost. */
        default void charged(TeacherException e, double usd) {}
    }

    public sealed interface Outcome<T> {
        /** The call succeeded; {@code attempts} counts every attempt of this request, earlier runs' included. */
        record Done<T>(T response, int attempts) implements Outcome<T> {}

        /** Every allowed attempt failed, or the failure was not retryable: the request is recorded as failed. */
        record Failed<T>(TeacherException last, int attempts) implements Outcome<T> {}

        /** Stopped, out of budget or fatal: nothing to record, a later run asks again. */
        record Abandoned<T>() implements Outcome<T> {}
    }

    private final RateLimiter rateLimiter;
    private final Budget budget;
    private final Backoff backoff;

    public RequestLoop(RateLimiter rateLimiter, Budget budget, Backoff backoff) {
        this.rateLimiter = rateLimiter;
        this.budget = budget;
        this.backoff = backoff;
    }

    public Budget budget() { return budget; }

    /**
     * Errors that would make every later request fail too. A host that refuses connections before any request has
     * succeeded is a wrong URL, not a hiccup; after successes it is an outage worth retrying.
     */
    public static boolean stopsEverything(TeacherException e, boolean succeededBefore) {
        if (e.kind().fatal()) return true;
        if (succeededBefore) return false;
        return e.kind() == TeacherException.Kind.UNREACHABLE
                || (e.kind() == TeacherException.Kind.CONNECTION && e.getCause() instanceof ConnectException);
    }

    /**
     * Carries one request through its attempts; its prompt estimate stands in for the prompt bound, so the budget
     * holds only as far as the estimate is not low. Prefer {@link #run(RequestSize, int, Call, Hooks)}.
     *
     * @param estimatedPromptTokens what the budget and the token bucket hold for the input
     * @param maxOutputTokens       worst-case output (0 for embeddings)
     * @param attemptsBefore        attempts earlier runs already made
     */
    public <T extends Billed> Outcome<T> run(long estimatedPromptTokens, long maxOutputTokens, int attemptsBefore,
                                            Call<T> call, Hooks hooks) {
        return run(new RequestSize(estimatedPromptTokens, estimatedPromptTokens, maxOutputTokens, 1), attemptsBefore,
                call, hooks);
    }

    /**
     * Carries one request through its attempts.
     *
     * @param size           the budget reserves {@link RequestSize#worstCase()}, the token bucket
     *                       {@link RequestSize#rateLimitTokens()}
     * @param attemptsBefore attempts earlier runs already made
     */
    public <T extends Billed> Outcome<T> run(RequestSize size, int attemptsBefore, Call<T> call, Hooks hooks) {
        int attempts = attemptsBefore;
        for (int attempt = 1; ; attempt++) {
            if (hooks.stopped()) return new Outcome.Abandoned<>();
            Budget.Reservation reservation;
            try {
                reservation = budget.reserve(size.worstCase()).orElse(null);
            } catch (InterruptedException e) {
                return new Outcome.Abandoned<>();
            }
            if (reservation == null) {
                hooks.budgetReached();
                return new Outcome.Abandoned<>();
            }
            try {
                rateLimiter.acquire(size.rateLimitTokens());
            } catch (InterruptedException e) {
                budget.release(reservation);
                return new Outcome.Abandoned<>();
            }
            if (hooks.stopped()) {
                budget.release(reservation);
                return new Outcome.Abandoned<>();
            }
            attempts++;
            try {
                T r = call.call();
                budget.settle(reservation, r.usage());
                rateLimiter.observe(r.rateLimits());
                return new Outcome.Done<>(r, attempts);
            } catch (TeacherException e) {
                double charged = switch (e.billing()) {
                    case NONE -> {
                        budget.release(reservation);
                        yield 0;
                    }
                    case USAGE -> budget.settle(reservation, e.billedUsage());
                    case WORST_CASE -> budget.settleAtWorstCase(reservation);
                };
                if (charged > 0) hooks.charged(e, charged);
                rateLimiter.observe(e.rateLimits());
                if (e.kind() == TeacherException.Kind.RATE_LIMITED) rateLimiter.onRateLimited(e.retryAfter());
                if (hooks.fatal(e)) return new Outcome.Abandoned<>();
                if (!e.kind().retryable() || attempt >= backoff.maxAttempts()) return new Outcome.Failed<>(e, attempts);
                Duration delay = backoff.delay(attempt, e.retryAfter());
                hooks.retrying(attempt, e, delay);
                try {
                    Thread.sleep(delay);
                } catch (InterruptedException ie) {
                    return new Outcome.Abandoned<>();
                }
            }
        }
    }
}
