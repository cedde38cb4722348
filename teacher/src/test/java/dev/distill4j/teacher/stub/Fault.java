package dev.distill4j.teacher.stub;

import java.time.Duration;
import java.util.Map;

/** Something a stub does instead of (or before) answering normally; programmed per request. */
public sealed interface Fault {
    /** 429 in the provider's error shape, with {@code Retry-After} (seconds) and/or {@code retry-after-ms}. */
    record RateLimited(Integer retryAfterSeconds, Long retryAfterMs) implements Fault {}

    /** An error status in the provider's error shape: 500, 503, 529 (Anthropic overloaded), 408, 400, ... */
    record Status(int status) implements Fault {}

    /** Waits, then answers normally. */
    record Slow(Duration delay) implements Fault {}

    /** Sends the headers and half of the answer, waits, then sends the rest: a body that trickles in. */
    record SlowBody(Duration pause) implements Fault {}

    /** Declares a Content-Length longer than what it sends, sends half of the answer, and closes the connection. */
    record TruncatedBody() implements Fault {}

    /** 200 with a body that is cut-off JSON. */
    record MalformedJson() implements Fault {}

    /** 200 with a JSON body that lacks the fields clients need (choices / content / usage). */
    record MissingFields() implements Fault {}

    /** Closes the connection without answering. */
    record ConnectionReset() implements Fault {}

    /** Any reply, byte for byte. */
    record Raw(int status, Map<String, String> headers, String body) implements Fault {
        public Raw {
            headers = headers == null ? Map.of() : Map.copyOf(headers);
        }
    }

    static Fault rateLimited(int retryAfterSeconds) { return new RateLimited(retryAfterSeconds, null); }

    static Fault rateLimitedMs(long retryAfterMs) { return new RateLimited(null, retryAfterMs); }

    static Fault rateLimited(Integer retryAfterSeconds, Long retryAfterMs) {
        return new RateLimited(retryAfterSeconds, retryAfterMs);
    }

    static Fault status(int status) { return new Status(status); }

    static Fault slow(Duration delay) { return new Slow(delay); }

    static Fault slowBody(Duration pause) { return new SlowBody(pause); }

    static Fault truncatedBody() { return new TruncatedBody(); }

    static Fault malformedJson() { return new MalformedJson(); }

    static Fault missingFields() { return new MissingFields(); }

    static Fault connectionReset() { return new ConnectionReset(); }

    static Fault raw(int status, String body) { return new Raw(status, Map.of("Content-Type", "application/json"), body); }
}
