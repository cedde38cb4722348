package dev.distill4j.core;

/**
 * Token counts as the teacher billed them. {@code cachedPromptTokens} and {@code reasoningTokens} are the subsets
 * OpenAI reports in {@code prompt_tokens_details} / {@code completion_tokens_details} (0 when absent).
 */
public record Usage(long promptTokens, long completionTokens, long cachedPromptTokens, long reasoningTokens) {
    public static final Usage ZERO = new Usage(0, 0, 0, 0);

    public Usage(long promptTokens, long completionTokens) { this(promptTokens, completionTokens, 0, 0); }

    public long totalTokens() { return promptTokens + completionTokens; }

    public Usage plus(Usage o) {
        return new Usage(promptTokens + o.promptTokens, completionTokens + o.completionTokens,
                cachedPromptTokens + o.cachedPromptTokens, reasoningTokens + o.reasoningTokens);
    }
}
