package dev.distill4j.teacher;

import java.math.BigDecimal;
import java.net.http.HttpHeaders;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads what providers put in response headers: request ids, retry hints and rate-limit state. Both providers'
 * header families are read from every response, so any OpenAI-compatible proxy in front of either works too.
 */
public final class WireHeaders {
    private static final Pattern GO_DURATION_PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|h|m|s)");

    private WireHeaders() {}

    /** OpenAI sends {@code x-request-id}, Anthropic {@code request-id}. */
    public static String requestId(HttpHeaders h) {
        return h.firstValue("x-request-id").or(() -> h.firstValue("request-id")).orElse(null);
    }

    /**
     * {@code retry-after-ms} (OpenAI, milliseconds, may be fractional) wins over {@code Retry-After} (seconds or an
     * HTTP date); null when neither is there or readable.
     */
    public static Duration retryAfter(HttpHeaders h, Instant now) {
        Optional<String> ms = h.firstValue("retry-after-ms");
        if (ms.isPresent()) {
            try {
                return Duration.ofNanos(new BigDecimal(ms.get().trim()).movePointRight(6).longValue());
            } catch (NumberFormatException ignored) {
                // fall through to Retry-After
            }
        }
        return h.firstValue("retry-after").map(v -> parseRetryAfter(v, now)).orElse(null);
    }

    /** {@code Retry-After}: delta seconds (RFC 9110; decimals tolerated) or an HTTP date. */
    public static Duration parseRetryAfter(String value, Instant now) {
        String v = value.trim();
        try {
            return nonNegative(Duration.ofNanos(new BigDecimal(v).movePointRight(9).longValue()));
        } catch (NumberFormatException notSeconds) {
            try {
                Instant at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
                return nonNegative(Duration.between(now, at));
            } catch (DateTimeParseException notDate) {
                return null;
            }
        }
    }

    /** Both providers' rate-limit headers; {@link RateLimitInfo#NONE} when there are none. */
    public static RateLimitInfo rateLimits(HttpHeaders h, Instant now) {
        if (h.firstValue("x-ratelimit-remaining-requests").isPresent()
                || h.firstValue("x-ratelimit-remaining-tokens").isPresent()
                || h.firstValue("x-ratelimit-limit-requests").isPresent()) {
            return new RateLimitInfo(
                    longOf(h, "x-ratelimit-limit-requests"), longOf(h, "x-ratelimit-limit-tokens"),
                    longOf(h, "x-ratelimit-remaining-requests"), longOf(h, "x-ratelimit-remaining-tokens"),
                    h.firstValue("x-ratelimit-reset-requests").map(WireHeaders::parseGoDuration).orElse(null),
                    h.firstValue("x-ratelimit-reset-tokens").map(WireHeaders::parseGoDuration).orElse(null));
        }
        String a = "anthropic-ratelimit-";
        Family requests = family(h, a + "requests", now);
        // "tokens" is the stricter of the combined limit and the separate input/output limits, since whichever runs
        // out first is the one that makes the next request fail.
        Family tokens = Family.tightest(family(h, a + "tokens", now),
                Family.tightest(family(h, a + "input-tokens", now), family(h, a + "output-tokens", now)));
        if (requests.isEmpty() && tokens.isEmpty()) return RateLimitInfo.NONE;
        return new RateLimitInfo(requests.limit, tokens.limit, requests.remaining, tokens.remaining,
                requests.reset, tokens.reset);
    }

    /**
     * OpenAI's reset durations, Go's {@code time.Duration} format: "1s", "6m0s", "20ms", "1h2m3.5s". Null when
     * unreadable.
     */
    public static Duration parseGoDuration(String s) {
        String v = s.trim();
        if (v.isEmpty()) return null;
        Matcher m = GO_DURATION_PART.matcher(v);
        long nanos = 0;
        int at = 0;
        while (m.find()) {
            if (m.start() != at) return null;
            at = m.end();
            BigDecimal n = new BigDecimal(m.group(1));
            long unitNanos = switch (m.group(2)) {
                case "ns" -> 1L;
                case "us", "µs" -> 1_000L;
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "m" -> 60_000_000_000L;
                default -> 3_600_000_000_000L;
            };
            nanos += n.multiply(BigDecimal.valueOf(unitNanos)).longValue();
        }
        if (at != v.length() || at == 0) {
            // A few compatible servers send plain seconds.
            try {
                return Duration.ofNanos(new BigDecimal(v).movePointRight(9).longValue());
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return Duration.ofNanos(nanos);
    }

    private record Family(long limit, long remaining, Duration reset) {
        boolean isEmpty() { return limit < 0 && remaining < 0 && reset == null; }

        static Family tightest(Family a, Family b) {
            if (a.isEmpty()) return b;
            if (b.isEmpty()) return a;
            if (a.remaining < 0) return b.remaining >= 0 ? b : a;
            if (b.remaining < 0) return a;
            return b.remaining < a.remaining ? b : a;
        }
    }

    private static Family family(HttpHeaders h, String prefix, Instant now) {
        Duration reset = h.firstValue(prefix + "-reset").map(v -> {
            try {
                return nonNegative(Duration.between(now, Instant.parse(v.trim())));
            } catch (DateTimeParseException e) {
                return null;
            }
        }).orElse(null);
        return new Family(longOf(h, prefix + "-limit"), longOf(h, prefix + "-remaining"), reset);
    }

    private static long longOf(HttpHeaders h, String name) {
        return h.firstValue(name).map(v -> {
            try {
                return Long.parseLong(v.trim());
            } catch (NumberFormatException e) {
                return -1L;
            }
        }).orElse(-1L);
    }

    private static Duration nonNegative(Duration d) {
        return d.isNegative() ? Duration.ZERO : d;
    }
}
