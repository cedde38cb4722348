package dev.distill4j.core;

import java.time.Instant;

/**
 * One teacher answer to one prompt (or its failure), as kept in the run store.
 *
 * <p>Seventeen fields read badly as positional arguments: build one with {@link #builder} (a sample is identified by
 * key, prompt and index; every other field has the default of a fresh pending sample), and derive "the same sample,
 * now done / failed" with {@link #toBuilder}. The canonical constructor stays for code that maps every column, as
 * the run store's row reader does.
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

    /**
     * A builder for sample {@code sampleIndex} of prompt {@code promptId} under {@code key}, starting as a fresh
     * pending sample: no text, {@link Capability#TEXT}, no tokens, {@link Usage#ZERO}, no cost, no attempts, no times.
     */
    public static Builder builder(String key, String promptId, int sampleIndex) {
        return new Builder(key, promptId, sampleIndex);
    }

    /** A builder holding every field of this sample, to derive a changed copy (a new status, another attempt). */
    public Builder toBuilder() {
        return new Builder(key, promptId, sampleIndex).status(status).text(text).finishReason(finishReason)
                .capability(capability).tokens(tokens).usage(usage).costUsd(costUsd).latencyMs(latencyMs)
                .requestId(requestId).error(errorCause, errorBody).attempts(attempts).createdAt(createdAt)
                .updatedAt(updatedAt);
    }

    /** Builds a {@link Sample} field by field; the fields are those of the record, documented there. */
    public static final class Builder {
        private final String key;
        private final String promptId;
        private final int sampleIndex;
        private SampleStatus status = SampleStatus.PENDING;
        private String text;
        private String finishReason;
        private Capability capability;
        private TokenDistribution tokens;
        private Usage usage;
        private double costUsd;
        private long latencyMs;
        private String requestId;
        private String errorCause;
        private String errorBody;
        private int attempts;
        private Instant createdAt;
        private Instant updatedAt;

        private Builder(String key, String promptId, int sampleIndex) {
            this.key = key;
            this.promptId = promptId;
            this.sampleIndex = sampleIndex;
        }

        public Builder status(SampleStatus status) { this.status = status; return this; }

        public Builder text(String text) { this.text = text; return this; }

        public Builder finishReason(String finishReason) { this.finishReason = finishReason; return this; }

        public Builder capability(Capability capability) { this.capability = capability; return this; }

        public Builder tokens(TokenDistribution tokens) { this.tokens = tokens; return this; }

        public Builder usage(Usage usage) { this.usage = usage; return this; }

        public Builder costUsd(double costUsd) { this.costUsd = costUsd; return this; }

        public Builder latencyMs(long latencyMs) { this.latencyMs = latencyMs; return this; }

        public Builder requestId(String requestId) { this.requestId = requestId; return this; }

        /** The last failure: its short cause and an excerpt of the response body (either may be null). */
        public Builder error(String cause, String body) {
            this.errorCause = cause;
            this.errorBody = body;
            return this;
        }

        public Builder attempts(int attempts) { this.attempts = attempts; return this; }

        public Builder createdAt(Instant createdAt) { this.createdAt = createdAt; return this; }

        public Builder updatedAt(Instant updatedAt) { this.updatedAt = updatedAt; return this; }

        /** Both times at once: a sample stored for the first time. */
        public Builder stored(Instant at) { return createdAt(at).updatedAt(at); }

        public Sample build() {
            return new Sample(key, promptId, sampleIndex, status, text, finishReason, capability, tokens, usage,
                    costUsd, latencyMs, requestId, errorCause, errorBody, attempts, createdAt, updatedAt);
        }
    }
}
