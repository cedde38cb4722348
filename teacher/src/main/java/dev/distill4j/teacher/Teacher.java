package dev.distill4j.teacher;

import dev.distill4j.core.Capability;
import dev.distill4j.core.Prompt;

/**
 * A model that answers prompts: a remote API or a local model behind an adapter. One call is one attempt; retries,
 * rate limits and budget belong to the {@link Harvester}, so every teacher gets them the same way.
 *
 * <p>Calls block and are made from virtual threads, so a thousand in flight cost a thousand cheap threads.
 */
public interface Teacher extends AutoCloseable {
    /** Provider name as written into run.json: openai, anthropic, local. */
    String provider();

    /** Model name as the teacher knows it. */
    String model();

    /** Base URL for remote teachers, null for local ones. */
    String baseUrl();

    /** chat or completions. */
    String endpoint();

    /** The sampling parameters every request is sent with; part of each sample's content key. */
    TeacherSampling sampling();

    /** What this teacher reveals per token with the configured sampling parameters. */
    Capability capability();

    /**
     * Sends one request for one sample.
     *
     * @throws TeacherException with its kind set, so the caller can decide whether to retry
     */
    TeacherResponse complete(TeacherRequest request) throws TeacherException;

    /**
     * Expected prompt tokens of the request as sent (system prompt and chat framing included), for rate limits and
     * the expected cost, before the teacher has told us the real count.
     */
    default long estimatePromptTokens(TeacherRequest request) {
        return TokenEstimator.estimate(request.prompt(), sampling().system(),
                TokenEstimator.chatFraming(request.prompt(), endpoint()));
    }

    /** At least as many prompt tokens as the teacher can bill for the request: what the budget reserves. */
    default long promptTokenBound(TeacherRequest request) {
        return TokenEstimator.bound(request.prompt(), sampling().system(),
                TokenEstimator.chatFraming(request.prompt(), endpoint()));
    }

    /**
     * The request's size before it is sent: prompt estimate and bound, {@code max_tokens}, and one choice (every
     * teacher sends {@code n: 1}; more samples per prompt are more requests).
     */
    default RequestSize size(TeacherRequest request) {
        return new RequestSize(estimatePromptTokens(request), promptTokenBound(request), sampling().maxTokens(), 1);
    }

    /**
     * Throws {@link IllegalArgumentException} with a message for the user when this teacher cannot take the prompt
     * at all, e.g. a chat prompt on a raw-text completions endpoint. Checking every prompt before a harvest turns
     * what would be one failed sample per prompt into one clear error. Nothing to check by default.
     */
    default void validate(Prompt prompt) {}

    @Override
    default void close() {}
}
