package dev.distill4j.teacher;

import dev.distill4j.core.TokenDistribution;
import dev.distill4j.core.Usage;

/**
 * A successful answer.
 *
 * @param text         generated text
 * @param finishReason normalised to OpenAI's words: stop, length, content_filter, tool_calls
 * @param tokens       per-token distribution, empty for TEXT teachers
 * @param usage        billed tokens
 * @param requestId    the provider's request id header, or null
 * @param latencyMs    time from send to full body
 * @param rateLimits   rate-limit headers of this response (may be {@link RateLimitInfo#NONE})
 */
public record TeacherResponse(String text, String finishReason, TokenDistribution tokens, Usage usage,
                              String requestId, long latencyMs, RateLimitInfo rateLimits)
        implements RequestLoop.Billed {}
