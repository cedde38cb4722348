package dev.distill4j.core;

import java.time.Instant;

/**
 * One teacher answer to one prompt (or its failure), as kept in the run store.
 *
 * @param key          content key: hash of prompt + teacher + sampling parameters + sample index (see SampleKey)
 * @param promptId     the prompt's id
 * @param sampleIndex  0-based index among the samples of this prompt
 * @param status       pending / done / failed
 * @param text         the generated text (null unless done)
 * @param finishReason the teacher's reason, normalised to OpenAI's words (stop, length, content_filter, tool_calls)
 * @param capability   what this sample's teacher revealed
 * @param tokens       per-token distribution (empty for TEXT)
 * @param usage        billed tokens
 * @param costUsd      cost at the run's prices (0 when no price was given), over all attempts: answers lost after
 *                     they were billed count at their worst case (docs/teachers.md)
 * @param latencyMs    wall time of the successful attempt
 * @param requestId    the teacher's request id header (x-request-id / request-id), if any
 * @param errorCause   short cause of the last failure (e.g. "http 400: invalid_request_error"), null if none
 * @param errorBody    excerpt of the failing response body, null if none
 * @param attempts     number of requests made for this sample, over all harvests
 * @param createdAt    first time the sample was stored
 * @param updatedAt    last change
 */
public record Sample(String key, String promptId, int sampleIndex, SampleStatus status, String text,
                     String finishReason, Capability capability, TokenDistribution tokens, Usage usage, double costUsd,
                     long latencyMs, String requestId, String errorCause, String errorBody, int attempts,
                     Instant createdAt, Instant updatedAt) {
    public Sample {
        tokens = tokens == null ? TokenDistribution.EMPTY : tokens;
        usage = usage == null ? Usage.ZERO : usage;
        capability = capability == null ? Capability.TEXT : capability;
    }
}
