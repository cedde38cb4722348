package dev.distill4j.teacher.stub;

import java.util.function.Function;

/**
 * How a stub runs one batch (OpenAI's Batch API, Anthropic's Message Batches), programmed per batch with
 * {@link StubServer#batchPlans}: how many polls it stays in progress, whether the window runs out after some
 * requests (the rest expire, unbilled), which requests fail and with what status, and (OpenAI) whether the input
 * file fails validation.
 *
 * @param pollsInProgress polls answered "in progress" before the batch is processed (at least 1)
 * @param processFirst    requests processed before the window runs out, in file order; -1 for all
 * @param failures        the HTTP status a request fails with, by custom_id (400 invalid, 500 server error, 529
 *                        Anthropic overloaded, 429), or null for a normal answer
 * @param validationError OpenAI: the message of a failed validation (the batch ends {@code failed}, nothing runs);
 *                        null for a valid file
 */
public record BatchPlan(int pollsInProgress, int processFirst, Function<String, Integer> failures,
                        String validationError) {
    public BatchPlan {
        pollsInProgress = Math.max(1, pollsInProgress);
        failures = failures == null ? id -> null : failures;
    }

    /** Every request answered after one poll in progress. */
    public static BatchPlan normal() { return new BatchPlan(1, -1, null, null); }

    public BatchPlan pollsInProgress(int n) { return new BatchPlan(n, processFirst, failures, validationError); }

    /** Only the first {@code n} requests run; the window runs out on the rest (expired, not billed). */
    public BatchPlan expireAfter(int n) { return new BatchPlan(pollsInProgress, n, failures, validationError); }

    public BatchPlan failing(Function<String, Integer> f) {
        return new BatchPlan(pollsInProgress, processFirst, f, validationError);
    }

    public BatchPlan failValidation(String message) {
        return new BatchPlan(pollsInProgress, processFirst, failures, message);
    }
}
