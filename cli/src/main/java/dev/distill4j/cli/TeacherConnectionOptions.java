package dev.distill4j.cli;

import dev.distill4j.core.RunManifest;
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
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * Which teacher a command asks and how its requests go (provider, model, URL, key, concurrency, rate limits, timeout,
 * retries, prices and budget): one picocli mixin for every command that sends a teacher requests through the
 * harvester ({@code distill harvest}, {@code distill prompts generate}), so that their {@code --help} says the same
 * thing the same way and the flags are checked by the same code. Sampling flags (temperature, max tokens) stay each
 * command's own: their defaults differ for a reason.
 *
 * <p>Left out, {@code --provider}, {@code --model}, {@code --base-url} and {@code --api-key-env} fall back to a value
 * the command passes in (a harvest resuming a run: the run's teacher), then to the defaults below.
 */
final class TeacherConnectionOptions {
    @Option(names = "--provider", paramLabel = "NAME",
            description = "openai (any OpenAI-compatible API: OpenAI, vLLM, llama.cpp, Ollama, xAI), anthropic, "
                    + "or local (a model folder run in-process: --model-dir). Default: openai.")
    String provider;

    @Option(names = "--model", paramLabel = "NAME", description = "Teacher model name (not with --provider local).")
    String model;

    @Option(names = "--base-url", paramLabel = "URL",
            description = "API base URL, e.g. http://localhost:8000/v1. Default: the provider's public API.")
    String baseUrl;

    @Option(names = "--api-key-env", paramLabel = "VAR",
            description = "Environment variable holding the API key. Default: OPENAI_API_KEY or ANTHROPIC_API_KEY.")
    String apiKeyEnv;

    @Option(names = "--model-dir", paramLabel = "DIR",
            description = "With --provider local: the teacher's Hugging Face model folder, run in-process.")
    Path modelDir;

    @Option(names = "--concurrency", paramLabel = "N", defaultValue = "16",
            description = "Requests in flight at most (default ${DEFAULT-VALUE}).")
    int concurrency;

    @Option(names = "--rpm", paramLabel = "N", defaultValue = "0",
            description = "Requests per minute at most (0 = no client-side limit; server limits still apply).")
    long rpm;

    @Option(names = "--tpm", paramLabel = "N", defaultValue = "0",
            description = "Tokens per minute at most, counting prompt estimate + max tokens (0 = no limit).")
    long tpm;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "600",
            description = "Per-request timeout (default ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Option(names = "--max-attempts", paramLabel = "N", defaultValue = "6",
            description = "Attempts per request for retryable errors (429, 408/409/5xx, timeouts, broken "
                    + "connections, a 200 whose body is cut short or not JSON; default ${DEFAULT-VALUE}).")
    int maxAttempts;

    @Option(names = "--price-in", paramLabel = "USD_PER_MTOK", defaultValue = "0",
            description = "Price of 1 M prompt tokens, for spend and budget.")
    double priceIn;

    @Option(names = "--price-out", paramLabel = "USD_PER_MTOK", defaultValue = "0",
            description = "Price of 1 M completion tokens, for spend and budget.")
    double priceOut;

    @Option(names = "--budget-usd", paramLabel = "X",
            description = "Never spend more than X: every request reserves its worst case (prompt with system "
                    + "prompt and chat framing at 1 token per byte, plus max tokens) until its answer settles it; "
                    + "lost answers count at their worst case. Needs --price-in/--price-out.")
    Double budgetUsd;

    /** Checks the flags that need no teacher: concurrency, and a budget that has prices to count with. */
    void validate() {
        if (concurrency < 1 || concurrency > 100_000) {
            throw new UserError("--concurrency must be in 1..100000", Errors.USAGE);
        }
        if (budgetUsd != null && priceIn == 0 && priceOut == 0) {
            throw new UserError("--budget-usd needs prices: give --price-in and --price-out (USD per 1 M tokens)",
                    Errors.USAGE);
        }
        if (timeoutSeconds < 1) throw new UserError("--timeout must be ≥ 1 second", Errors.USAGE);
        if (maxAttempts < 1) throw new UserError("--max-attempts must be ≥ 1", Errors.USAGE);
    }

    /** {@code --provider}, else {@code fallback} (may be null), else openai; lower case, and one this CLI knows. */
    String provider(String fallback) {
        String p = (provider != null ? provider : fallback != null ? fallback : TeacherConfig.OPENAI)
                .toLowerCase(Locale.ROOT);
        if (!p.equals(TeacherConfig.OPENAI) && !p.equals(TeacherConfig.ANTHROPIC) && !p.equals(LocalTeacher.PROVIDER)) {
            throw new UserError("unknown --provider '" + p + "' (use openai, anthropic or local)", Errors.USAGE);
        }
        return p;
    }

    /**
     * The teacher these flags name, for a command that resumes no run ({@code distill prompts generate}): an HTTP
     * teacher at {@code endpoint}, or the model folder of {@code --provider local}.
     */
    Teacher open(TeacherSampling sampling, String endpoint) throws IOException {
        validate();
        String prov = provider(null);
        if (prov.equals(LocalTeacher.PROVIDER)) return openLocal(sampling, endpoint);
        return Teachers.create(http(prov, endpoint, null, null, sampling, true));
    }

    /** The model folder of {@code --provider local}, run in-process with {@code endpoint} (chat or completions). */
    Teacher openLocal(TeacherSampling sampling, String endpoint) throws IOException {
        if (modelDir == null) {
            throw new UserError("--provider local needs --model-dir DIR (the teacher's model folder)", Errors.USAGE);
        }
        if (baseUrl != null) throw new UserError("--base-url does not apply to --provider local", Errors.USAGE);
        if (!Files.isDirectory(modelDir)) throw new UserError("no model folder at " + modelDir);
        if (!endpoint.equals(LocalTeacher.CHAT) && !endpoint.equals(LocalTeacher.COMPLETIONS)) {
            throw new UserError("--endpoint must be chat or completions, not '" + endpoint + "'", Errors.USAGE);
        }
        return LocalTeacher.open(modelDir, sampling, endpoint);
    }

    /**
     * The configuration of an HTTP teacher ({@code openai}, {@code anthropic}).
     *
     * @param run         the run being resumed when it was harvested from the same provider, or null: its base URL
     *                    and key variable fill in flags left out
     * @param modelOfRun  the model a resumed run was harvested from (any provider), or null
     * @param keyRequired false when nothing is sent (a dry run)
     */
    TeacherConfig http(String prov, String endpoint, RunManifest run, String modelOfRun, TeacherSampling sampling,
                       boolean keyRequired) {
        String modelName = model != null ? model : modelOfRun;
        if (modelName == null) {
            throw new UserError("--model is required (the teacher's model name)", Errors.USAGE);
        }
        String url = baseUrl != null ? baseUrl : run != null ? run.baseUrl() : null;
        String keyEnv = apiKeyEnv != null ? apiKeyEnv : run != null && run.apiKeyEnv() != null ? run.apiKeyEnv()
                : defaultKeyEnv(prov);
        String key = System.getenv(keyEnv);
        // a server of one's own (--base-url) may need no key; a named variable or a public API does
        if ((key == null || key.isBlank()) && keyRequired && (apiKeyEnv != null || url == null)) {
            throw new UserError("no API key: set " + keyEnv + " (or name another variable with --api-key-env)");
        }
        return new TeacherConfig(prov, endpoint, url == null ? null : parseUrl(url), modelName, keyEnv, key,
                sampling, Duration.ofSeconds(timeoutSeconds), Map.of());
    }

    /** The variable a run records for the teacher's key: {@code --api-key-env} or the provider's usual one. */
    String apiKeyEnvFor(Teacher teacher) {
        if (teacher.provider().equals(LocalTeacher.PROVIDER)) return null;
        return apiKeyEnv != null ? apiKeyEnv : defaultKeyEnv(teacher.provider());
    }

    private static String defaultKeyEnv(String provider) {
        return provider.equals(TeacherConfig.ANTHROPIC) ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY";
    }

    /** The budget at {@code priceFactor} × the prices (a batch's half), less what earlier runs already spent. */
    Budget budget(double priceFactor, double alreadySpentUsd) {
        return new Budget(priceIn * priceFactor, priceOut * priceFactor,
                budgetUsd == null ? null : Math.max(0, budgetUsd - alreadySpentUsd));
    }

    RateLimiter rateLimiter() { return new RateLimiter(rpm, tpm); }

    Backoff backoff() { return new Backoff(maxAttempts); }

    static URI parseUrl(String url) {
        try {
            URI u = URI.create(url);
            if (u.getScheme() == null || u.getHost() == null
                    || !(u.getScheme().equals("http") || u.getScheme().equals("https"))) {
                throw new IllegalArgumentException();
            }
            return u;
        } catch (IllegalArgumentException e) {
            throw new UserError("--base-url '" + url + "' is not an http(s) URL (e.g. http://localhost:8000/v1)",
                    Errors.USAGE);
        }
    }
}
