package dev.distill4j.teacher;

import dev.distill4j.core.Usage;

/**
 * What one request may cost in tokens, known before it is sent.
 *
 * <p>worst case = (promptTokenBound prompt tokens, maxOutputTokens × choices completion tokens): what the budget
 * reserves. expected = promptTokens + maxOutputTokens × choices: what the token-rate limiter holds.
 *
 * @param promptTokens     the prompt estimate (exact where the teacher has its tokenizer)
 * @param promptTokenBound at least as many prompt tokens as the teacher can bill for the request
 * @param maxOutputTokens  {@code max_tokens} of one answer (0 for embeddings)
 * @param choices          answers the request asks for ({@code n}); each is billed up to {@code maxOutputTokens}
 */
public record RequestSize(long promptTokens, long promptTokenBound, long maxOutputTokens, int choices) {
    public RequestSize {
        if (promptTokens < 0 || maxOutputTokens < 0) throw new IllegalArgumentException("token counts must be ≥ 0");
        if (choices < 1) throw new IllegalArgumentException("choices must be ≥ 1, got " + choices);
        promptTokenBound = Math.max(promptTokens, promptTokenBound);
    }

    /** The most the request can be billed for. */
    public Usage worstCase() {
        return new Usage(promptTokenBound, Math.multiplyExact(maxOutputTokens, (long) choices));
    }

    /** Prompt estimate plus the whole output: what a tokens-per-minute limit counts. */
    public long rateLimitTokens() {
        return promptTokens + maxOutputTokens * choices;
    }
}
