package dev.distill4j.cli;

import dev.distill4j.model.local.LocalTeacher;
import dev.distill4j.teacher.Backoff;
import dev.distill4j.teacher.Budget;
import dev.distill4j.teacher.RateLimiter;
import dev.distill4j.teacher.Teacher;
import dev.distill4j.teacher.TeacherConfig;
import dev.distill4j.teacher.TeacherSampling;
import dev.distill4j.teacher.Teachers;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The teacher a command writes with, and the harvest machinery around its requests (rate limits, retries, budget):
 * for commands that ask a teacher for something other than a run's answers ({@code distill prompts generate}).
 */
final class TeacherOptions {
    @Option(names = "--provider", paramLabel = "NAME", defaultValue = "openai",
            description = "openai (any OpenAI-compatible API), anthropic, or local (a model folder: --model-dir). "
                    + "Default: ${DEFAULT-VALUE}.")
    String provider;

    @Option(names = "--base-url", paramLabel = "URL",
            description = "API base URL, e.g. http://localhost:8000/v1. Default: the provider's public API.")
    String baseUrl;

    @Option(names = "--model", paramLabel = "NAME", description = "Teacher model name (not with --provider local).")
    String model;

    @Option(names = "--model-dir", paramLabel = "DIR", description = "With --provider local: the model folder.")
    Path modelDir;

    @Option(names = "--api-key-env", paramLabel = "VAR",
            description = "Environment variable holding the API key. Default: OPENAI_API_KEY or ANTHROPIC_API_KEY.")
    String apiKeyEnv;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "1.0",
            description = "Sampling temperature (default ${DEFAULT-VALUE}: variety is the point).")
    double temperature;

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "1024",
            description = "Most tokens per teacher reply (default ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--concurrency", paramLabel = "N", defaultValue = "8",
            description = "Requests in flight at most (default ${DEFAULT-VALUE}).")
    int concurrency;

    @Option(names = "--rpm", paramLabel = "N", defaultValue = "0", description = "Requests per minute at most (0 = no limit).")
    long rpm;

    @Option(names = "--tpm", paramLabel = "N", defaultValue = "0", description = "Tokens per minute at most (0 = no limit).")
    long tpm;

    @Option(names = "--price-in", paramLabel = "USD_PER_MTOK", defaultValue = "0",
            description = "Price of 1 M prompt tokens, for spend and budget.")
    double priceIn;

    @Option(names = "--price-out", paramLabel = "USD_PER_MTOK", defaultValue = "0",
            description = "Price of 1 M completion tokens, for spend and budget.")
    double priceOut;

    @Option(names = "--budget-usd", paramLabel = "X",
            description = "Never spend more than X on teacher requests (reserved at their worst case, as in "
                    + "'distill harvest'; spend stored by an earlier run of the same command counts). Needs prices.")
    Double budgetUsd;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "600",
            description = "Per-request timeout (default ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Option(names = "--max-attempts", paramLabel = "N", defaultValue = "6",
            description = "Attempts per request for retryable errors (default ${DEFAULT-VALUE}).")
    int maxAttempts;

    /** The teacher, chat endpoint; raises a {@link UserError} for what the user must fix. */
    Teacher open() throws IOException {
        String prov = provider.toLowerCase(Locale.ROOT);
        TeacherSampling sampling = new TeacherSampling(temperature, null, maxTokens, false, null, List.of(), 0, null);
        if (concurrency < 1) throw new UserError("--concurrency must be ≥ 1", Errors.USAGE);
        if (budgetUsd != null && priceIn == 0 && priceOut == 0) {
            throw new UserError("--budget-usd needs prices: give --price-in and --price-out (USD per 1 M tokens)",
                    Errors.USAGE);
        }
        if (prov.equals(LocalTeacher.PROVIDER)) {
            if (modelDir == null) throw new UserError("--provider local needs --model-dir DIR", Errors.USAGE);
            if (!Files.isDirectory(modelDir)) throw new UserError("no model folder at " + modelDir);
            return LocalTeacher.open(modelDir, sampling, LocalTeacher.CHAT);
        }
        if (!prov.equals(TeacherConfig.OPENAI) && !prov.equals(TeacherConfig.ANTHROPIC)) {
            throw new UserError("unknown --provider '" + provider + "' (use openai, anthropic or local)", Errors.USAGE);
        }
        if (model == null) throw new UserError("--model is required (the teacher's model name)", Errors.USAGE);
        String keyEnv = apiKeyEnv != null ? apiKeyEnv
                : prov.equals(TeacherConfig.ANTHROPIC) ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY";
        String key = System.getenv(keyEnv);
        if ((key == null || key.isBlank()) && (apiKeyEnv != null || baseUrl == null)) {
            throw new UserError("no API key: set " + keyEnv + " (or name another variable with --api-key-env)");
        }
        URI url;
        try {
            url = baseUrl == null ? null : URI.create(baseUrl);
        } catch (IllegalArgumentException e) {
            throw new UserError("--base-url is not a URL: " + baseUrl, Errors.USAGE);
        }
        return Teachers.create(new TeacherConfig(prov, TeacherConfig.CHAT, url, model, keyEnv, key, sampling,
                Duration.ofSeconds(timeoutSeconds), Map.of()));
    }

    /** The budget left after {@code alreadySpentUsd} of earlier runs. */
    Budget budget(double alreadySpentUsd) {
        return new Budget(priceIn, priceOut, budgetUsd == null ? null : Math.max(0, budgetUsd - alreadySpentUsd));
    }

    RateLimiter rateLimiter() { return new RateLimiter(rpm, tpm); }

    Backoff backoff() { return new Backoff(maxAttempts); }
}
