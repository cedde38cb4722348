package dev.distill4j.guard.scan;

import java.time.Instant;

/**
 * One API request as {@code distill guard scan} sees it, whichever log shape it came from ({@link LogReader}).
 *
 * @param time         when the request arrived
 * @param account      the account (API key name, or the gateway's user id)
 * @param client       the client address as logged ("" when unknown)
 * @param endpoint     {@code /v1/chat/completions}, {@code /v1/completions}, ...
 * @param temperature  the sampling temperature (OpenAI's default 1 when the request gave none)
 * @param n            completions asked for (default 1)
 * @param logprobs     whether token log-probabilities were asked for
 * @param topLogprobs  alternatives per token asked for (0 when none)
 * @param query        the query text (the last user message, or the prompt); null when only a hash was logged
 * @param promptSha256 the logged hash of the prompt, or null
 * @param source       {@code file:line}, for evidence
 */
public record LogRecord(Instant time, String account, String client, String endpoint, String model, int status,
                        double temperature, int n, boolean logprobs, int topLogprobs, int promptTokens,
                        int completionTokens, String query, String promptSha256, String source) {}
