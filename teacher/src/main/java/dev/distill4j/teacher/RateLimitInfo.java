package dev.distill4j.teacher;

import java.time.Duration;

/**
 * What a response's headers said about the provider's limits. OpenAI: {@code x-ratelimit-remaining-requests},
 * {@code x-ratelimit-remaining-tokens}, {@code x-ratelimit-reset-requests} ("1s", "6m0s", "20ms"),
 * {@code x-ratelimit-reset-tokens}; Anthropic: {@code anthropic-ratelimit-requests-remaining},
 * {@code anthropic-ratelimit-tokens-remaining}, {@code anthropic-ratelimit-*-reset} (RFC 3339 instants).
 * Unknown values are -1 / null.
 */
public record RateLimitInfo(long limitRequests, long limitTokens, long remainingRequests, long remainingTokens,
                            Duration resetRequests, Duration resetTokens) {
    public static final RateLimitInfo NONE = new RateLimitInfo(-1, -1, -1, -1, null, null);

    public boolean isEmpty() { return this.equals(NONE); }
}
