package dev.distill4j.teacher;

import java.time.Duration;

/**
 * A failed attempt, classified so the harvester can decide: retry (rate limit, server error, timeout, connection
 * reset, 408/409), stop the whole harvest (bad key, unknown model, unreachable host), or record this sample as
 * failed and go on (bad request, malformed body).
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
        /** 200 whose body is not valid JSON or lacks fields: this sample fails, the run goes on. */
        MALFORMED_RESPONSE(false);

        private final boolean retryable;

        Kind(boolean retryable) { this.retryable = retryable; }

        public boolean retryable() { return retryable; }

        /** Kinds that make every later request fail too, so the harvest stops with one clear message. */
        public boolean fatal() { return this == AUTH || this == NOT_FOUND; }
    }

    private final Kind kind;
    private final int status;
    private final Duration retryAfter;
    private final String bodyExcerpt;
    private final String requestId;
    private final RateLimitInfo rateLimits;

    public TeacherException(Kind kind, int status, String message, Duration retryAfter, String bodyExcerpt,
                            String requestId, RateLimitInfo rateLimits, Throwable cause) {
        super(message, cause);
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
}
