package dev.distill4j.teacher;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpHeaders;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WireHeadersTest {
    static final Instant NOW = Instant.parse("2026-01-02T03:04:05Z");

    static HttpHeaders headers(String... kv) {
        Map<String, List<String>> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put(kv[i], List.of(kv[i + 1]));
        return HttpHeaders.of(m, (a, b) -> true);
    }

    @Test void goDurations() {
        assertThat(WireHeaders.parseGoDuration("1s")).isEqualTo(Duration.ofSeconds(1));
        assertThat(WireHeaders.parseGoDuration("6m0s")).isEqualTo(Duration.ofMinutes(6));
        assertThat(WireHeaders.parseGoDuration("20ms")).isEqualTo(Duration.ofMillis(20));
        assertThat(WireHeaders.parseGoDuration("1h2m3.5s")).isEqualTo(Duration.ofMillis(3_723_500));
        assertThat(WireHeaders.parseGoDuration("59.123s")).isEqualTo(Duration.ofMillis(59_123));
        assertThat(WireHeaders.parseGoDuration("0s")).isEqualTo(Duration.ZERO);
        assertThat(WireHeaders.parseGoDuration("250us")).isEqualTo(Duration.ofNanos(250_000));
        assertThat(WireHeaders.parseGoDuration("2")).isEqualTo(Duration.ofSeconds(2));
        assertThat(WireHeaders.parseGoDuration("soon")).isNull();
        assertThat(WireHeaders.parseGoDuration("1s later")).isNull();
    }

    @Test void retryAfterInSecondsDatesAndMilliseconds() {
        assertThat(WireHeaders.retryAfter(headers("Retry-After", "7"), NOW)).isEqualTo(Duration.ofSeconds(7));
        assertThat(WireHeaders.retryAfter(headers("retry-after", "1.5"), NOW)).isEqualTo(Duration.ofMillis(1500));
        String date = DateTimeFormatter.RFC_1123_DATE_TIME.format(NOW.plusSeconds(30).atOffset(ZoneOffset.UTC));
        assertThat(WireHeaders.retryAfter(headers("Retry-After", date), NOW)).isEqualTo(Duration.ofSeconds(30));
        String past = DateTimeFormatter.RFC_1123_DATE_TIME.format(NOW.minusSeconds(30).atOffset(ZoneOffset.UTC));
        assertThat(WireHeaders.retryAfter(headers("Retry-After", past), NOW)).isEqualTo(Duration.ZERO);
        assertThat(WireHeaders.retryAfter(headers("retry-after-ms", "120.5", "Retry-After", "9"), NOW))
                .isEqualTo(Duration.ofNanos(120_500_000));
        assertThat(WireHeaders.retryAfter(headers("Retry-After", "whenever"), NOW)).isNull();
        assertThat(WireHeaders.retryAfter(headers(), NOW)).isNull();
    }

    @Test void requestIds() {
        assertThat(WireHeaders.requestId(headers("x-request-id", "req_a"))).isEqualTo("req_a");
        assertThat(WireHeaders.requestId(headers("request-id", "req_b"))).isEqualTo("req_b");
        assertThat(WireHeaders.requestId(headers())).isNull();
    }

    @Test void openAiRateLimits() {
        RateLimitInfo r = WireHeaders.rateLimits(headers(
                "x-ratelimit-limit-requests", "500", "x-ratelimit-limit-tokens", "200000",
                "x-ratelimit-remaining-requests", "499", "x-ratelimit-remaining-tokens", "199000",
                "x-ratelimit-reset-requests", "120ms", "x-ratelimit-reset-tokens", "1m30s"), NOW);
        assertThat(r).isEqualTo(new RateLimitInfo(500, 200000, 499, 199000, Duration.ofMillis(120),
                Duration.ofSeconds(90)));
    }

    @Test void anthropicRateLimitsTakeTheTightestTokenFamily() {
        RateLimitInfo r = WireHeaders.rateLimits(headers(
                "anthropic-ratelimit-requests-limit", "50", "anthropic-ratelimit-requests-remaining", "0",
                "anthropic-ratelimit-requests-reset", "2026-01-02T03:04:15Z",
                "anthropic-ratelimit-input-tokens-limit", "40000",
                "anthropic-ratelimit-input-tokens-remaining", "30000",
                "anthropic-ratelimit-input-tokens-reset", "2026-01-02T03:04:06Z",
                "anthropic-ratelimit-output-tokens-limit", "8000",
                "anthropic-ratelimit-output-tokens-remaining", "100",
                "anthropic-ratelimit-output-tokens-reset", "2026-01-02T03:04:25Z"), NOW);
        assertThat(r).isEqualTo(new RateLimitInfo(50, 8000, 0, 100, Duration.ofSeconds(10), Duration.ofSeconds(20)));

        RateLimitInfo combined = WireHeaders.rateLimits(headers(
                "anthropic-ratelimit-tokens-limit", "1000", "anthropic-ratelimit-tokens-remaining", "10",
                "anthropic-ratelimit-tokens-reset", "2026-01-02T03:04:00Z"), NOW);
        assertThat(combined).isEqualTo(new RateLimitInfo(-1, 1000, -1, 10, null, Duration.ZERO));
    }

    @Test void noHeadersNoInfo() {
        assertThat(WireHeaders.rateLimits(headers("content-type", "application/json"), NOW).isEmpty()).isTrue();
    }

    @Test void providerMessages() {
        assertThat(HttpTransport.providerMessage("""
                {"error":{"message":"Bad","type":"invalid_request_error","param":"top_logprobs","code":null}}"""
                .getBytes())).isEqualTo("Bad [type invalid_request_error, param top_logprobs]");
        assertThat(HttpTransport.providerMessage("""
                {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}""".getBytes()))
                .isEqualTo("Overloaded [type overloaded_error]");
        assertThat(HttpTransport.providerMessage("""
                {"object":"error","message":"model x not found","type":"NotFoundError","code":404}""".getBytes()))
                .isEqualTo("model x not found [type NotFoundError, code 404]");
        assertThat(HttpTransport.providerMessage("{\"error\":\"model 'x' not found\"}".getBytes()))
                .isEqualTo("model 'x' not found");
        assertThat(HttpTransport.providerMessage("{\"detail\":\"Not Found\"}".getBytes())).isEqualTo("Not Found");
        assertThat(HttpTransport.providerMessage("<html>".getBytes())).isNull();
    }
}
