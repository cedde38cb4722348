package dev.distill4j.teacher;

import java.time.Duration;

/**
 * A failed attempt, classified so the harvester can decide: retry (rate limit, server error, timeout, connection
 * reset, 408/409, a 200 whose body is cut short or not JSON), stop the whole harvest (bad key, unknown model,
 * unreachable host), or record this sample as failed and go on (bad request, a 200 of the wrong shape).
 *
 * <p>It also says what the attempt may have cost ({@link #billing()}): a lost answer was still billed, and a budget
 * that is never to be exceeded must count it.
 */
public final class TeacherException extends Exception {
    public enum Kind {
        /** 429. */
        RATE_LIMITED(true),
        /** 5xx, 408, 409, and Anthropic's 529 overloaded. */
        SERVER(true),
        /** No full response in time. */
        TIMEOUT(true),
        /** Connection reset or refused mid-harvest. */
        CONNECTION(true),
        /** The host cannot be reached at all (DNS failure, nothing listening): fatal when it happens before any success. */
        UNREACHABLE(true),
        /** 401 / 403: fatal, names the key's env var. */
        AUTH(false),
        /** 404 unknown model or endpoint: fatal. */
        NOT_FOUND(false),
        /** Other 4xx: this sample fails, the run goes on. */
        BAD_REQUEST(false),
        /**
         * 200 whose body is not JSON (cut short by a proxy or a dropped connection that still ended the message, an
         * HTML error page): transient, retried; the answer was billed.
         */
        UNREADABLE_RESPONSE(true),
        /**
         * 200 whose JSON lacks a documented field or has one of the wrong type (a server that speaks another
         * dialect, or ignores top_logprobs): asking again gets the same, so this sample fails and the run goes on.
         */
        MALFORMED_RESPONSE(false);

        private final boolean retryable;

        Kind(boolean retryable) { this.retryable = retryable; }

        public boolean retryable() { return retryable; }

        /** Kinds that make every later request fail too, so the harvest stops with one clear message. */
        public boolean fatal() { return this == AUTH || this == NOT_FOUND; }
    }

    /** What a failed attempt may have cost, for the budget. */
    public enum Billing {
        /** Nothing was billed: the request never reached the teacher, or it answered with an error status. */
        NONE,
        /** The teacher answered and its usage was read: {@link #billedUsage()} is what it billed. */
        USAGE,
        /**
         * The teacher may have produced (and billed) an answer whose usage we cannot read: a 2xx body that did not
         * parse, a connection that broke or a timeout after the request was sent. Counted at the request's worst case.
         */
        WORST_CASE
    }

    private final Kind kind;
    private final Billing billing;
    private final dev.distill4j.core.Usage billedUsage;
    private final int status;
    private final Duration retryAfter;
    private final String bodyExcerpt;
    private final String requestId;
    private final RateLimitInfo rateLimits;

    public TeacherException(Kind kind, int status, String message, Duration retryAfter, String bodyExcerpt,
                            String requestId, RateLimitInfo rateLimits, Throwable cause) {
        this(kind, status, message, retryAfter, bodyExcerpt, requestId, rateLimits, cause, Billing.NONE, null);
    }

    /**
     * @param billing     what the attempt may have cost
     * @param billedUsage the billed usage when {@code billing} is {@link Billing#USAGE}, else ignored
     */
    public TeacherException(Kind kind, int status, String message, Duration retryAfter, String bodyExcerpt,
                            String requestId, RateLimitInfo rateLimits, Throwable cause, Billing billing,
                            dev.distill4j.core.Usage billedUsage) {
        super(message, cause);
        if (billing == Billing.USAGE && billedUsage == null) {
            throw new IllegalArgumentException("Billing.USAGE needs the billed usage");
        }
        this.billing = billing;
        this.billedUsage = billing == Billing.USAGE ? billedUsage : null;
        this.kind = kind;
        this.status = status;
        this.retryAfter = retryAfter;
        this.bodyExcerpt = bodyExcerpt;
        this.requestId = requestId;
        this.rateLimits = rateLimits == null ? RateLimitInfo.NONE : rateLimits;
    }

    public Kind kind() { return kind; }

    /** HTTP status, or 0 when no response came. */
    public int status() { return status; }

    /** From {@code retry-after-ms} or {@code Retry-After} (seconds or HTTP date); null when absent. */
    public Duration retryAfter() { return retryAfter; }

    /** The first few hundred characters of the response body, or null. */
    public String bodyExcerpt() { return bodyExcerpt; }

    public String requestId() { return requestId; }

    public RateLimitInfo rateLimits() { return rateLimits; }

    public Billing billing() { return billing; }

    /** What the teacher billed for this attempt when {@link #billing()} is {@link Billing#USAGE}; else null. */
    public dev.distill4j.core.Usage billedUsage() { return billedUsage; }
}
