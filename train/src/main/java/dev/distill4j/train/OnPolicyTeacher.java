package dev.distill4j.train;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.teacher.TeacherConfig;
import dev.distill4j.teacher.TeacherSampling;
import java.net.URI;
import java.time.Duration;
import java.util.List;

/**
 * A remote teacher that scores the student's samples over HTTP during on-policy training
 * ({@code distill train --on-policy-teacher URL --model NAME}): any OpenAI-compatible server whose legacy
 * {@code /v1/completions} returns the log-probabilities of its prompt ({@code echo} + {@code logprobs}, or vLLM's
 * {@code prompt_logprobs}; see {@code teacher.OpenAiScorer}). Requests go through the teacher module's rate limiter,
 * retry loop and budget, as a harvest's do.
 *
 * @param baseUrl           the server ({@code http://host:port} or its {@code /v1} root)
 * @param model             the model name the server knows
 * @param apiKeyEnv         the environment variable holding the key (named in errors, never the key)
 * @param apiKey            the key, or null for a server without keys
 * @param topLogprobs       alternatives per token asked for (0: the sampled token's logprob only, the sampled
 *                          estimator; k &gt; 0: the top-k reverse KL)
 * @param concurrency       scoring requests in flight at most
 * @param maxTeacherTokens  budget in billed teacher tokens (prompt + completion) over the whole run, resumes
 *                          included; 0 = none
 * @param budgetUsd         budget in dollars at the given prices over the whole run, or null for none
 * @param inputUsdPerMillion  price of a prompt token, per million
 * @param outputUsdPerMillion price of a completion token, per million
 * @param requestsPerMinute requests-per-minute limit (0 = none)
 * @param tokensPerMinute   tokens-per-minute limit (0 = none)
 * @param maxAttempts       attempts per score before it is given up (retryable errors)
 * @param requestTimeout    limit of one request
 */
public record OnPolicyTeacher(URI baseUrl, String model, String apiKeyEnv, String apiKey, int topLogprobs,
                              int concurrency, long maxTeacherTokens, Double budgetUsd, double inputUsdPerMillion,
                              double outputUsdPerMillion, long requestsPerMinute, long tokensPerMinute,
                              int maxAttempts, Duration requestTimeout) {
    public OnPolicyTeacher {
        if (baseUrl == null) throw new InvalidInputException("--on-policy-teacher needs the teacher's URL");
        if (model == null || model.isBlank()) {
            throw new InvalidInputException("--on-policy-teacher needs --model NAME: the model name the server knows"
                    + " (distill serve prints it; GET URL/v1/models lists them)");
        }
        if (topLogprobs < 0 || topLogprobs > 20) {
            throw new InvalidInputException("--on-policy-top-logprobs must be in [0, 20], got " + topLogprobs);
        }
        if (concurrency < 1) throw new InvalidInputException("--on-policy-concurrency must be ≥ 1, got " + concurrency);
        if (maxTeacherTokens < 0) {
            throw new InvalidInputException("--max-teacher-tokens must be ≥ 0, got " + maxTeacherTokens);
        }
        if (budgetUsd != null && !(budgetUsd >= 0)) {
            throw new InvalidInputException("--budget-usd must be ≥ 0, got " + budgetUsd);
        }
        if (budgetUsd != null && maxTeacherTokens > 0) {
            throw new InvalidInputException("give one teacher budget: --max-teacher-tokens or --budget-usd");
        }
        if (maxAttempts < 1) throw new InvalidInputException("--max-attempts must be ≥ 1, got " + maxAttempts);
        if (apiKeyEnv == null) apiKeyEnv = TeacherConfig.defaultApiKeyEnv(TeacherConfig.OPENAI);
        requestTimeout = requestTimeout == null ? Duration.ofMinutes(2) : requestTimeout;
    }

    /** A teacher at {@code baseUrl} serving {@code model}, with defaults: no key, k = 0, 8 in flight, no budget. */
    public static OnPolicyTeacher of(URI baseUrl, String model) {
        return new OnPolicyTeacher(baseUrl, model, null, null, 0, 8, 0, null, 0, 0, 0, 0, 6, null);
    }

    public OnPolicyTeacher withTopLogprobs(int k) {
        return new OnPolicyTeacher(baseUrl, model, apiKeyEnv, apiKey, k, concurrency, maxTeacherTokens, budgetUsd,
                inputUsdPerMillion, outputUsdPerMillion, requestsPerMinute, tokensPerMinute, maxAttempts,
                requestTimeout);
    }

    public OnPolicyTeacher withMaxTeacherTokens(long n) {
        return new OnPolicyTeacher(baseUrl, model, apiKeyEnv, apiKey, topLogprobs, concurrency, n, budgetUsd,
                inputUsdPerMillion, outputUsdPerMillion, requestsPerMinute, tokensPerMinute, maxAttempts,
                requestTimeout);
    }

    public OnPolicyTeacher withConcurrency(int n) {
        return new OnPolicyTeacher(baseUrl, model, apiKeyEnv, apiKey, topLogprobs, n, maxTeacherTokens, budgetUsd,
                inputUsdPerMillion, outputUsdPerMillion, requestsPerMinute, tokensPerMinute, maxAttempts,
                requestTimeout);
    }

    /** The teacher module's config for the scoring client (legacy completions; nothing is sampled). */
    public TeacherConfig teacherConfig() {
        return new TeacherConfig(TeacherConfig.OPENAI, TeacherConfig.COMPLETIONS, baseUrl, model, apiKeyEnv, apiKey,
                new TeacherSampling(0.0, null, 1, false, null, List.of(), topLogprobs, null), requestTimeout, null);
    }

    /** How it is named in messages and the training record: {@code model at URL}. */
    public String describe() { return model + " at " + baseUrl; }

    @Override public String toString() {
        return "OnPolicyTeacher[" + describe() + ", k=" + topLogprobs + ", apiKey=" + (apiKey == null ? "unset" : "***")
                + "]";
    }
}
