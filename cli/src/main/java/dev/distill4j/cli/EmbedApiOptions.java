package dev.distill4j.cli;

import dev.distill4j.embed.ApiEmbeddingTeacher;
import dev.distill4j.embed.EmbeddingModels;
import dev.distill4j.teacher.OpenAiEmbeddingTeacher;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The options of an API embedding teacher ({@code --teacher http(s)://...}), shared by {@code distill embed
 * distill|eval|harvest}; names and defaults follow {@code distill harvest}.
 */
final class EmbedApiOptions {
    @Option(names = "--teacher-model", paramLabel = "NAME",
            description = "Model name of an API teacher (--teacher URL), e.g. text-embedding-3-small.")
    String model;

    @Option(names = "--api-key-env", paramLabel = "VAR", defaultValue = ApiEmbeddingTeacher.DEFAULT_API_KEY_ENV,
            description = "Environment variable holding the API key (never logged or stored). Default: ${DEFAULT-VALUE}.")
    String apiKeyEnv;

    @Option(names = "--run", paramLabel = "DIR",
            description = "Run folder keeping the API teacher's embeddings (resumable: stored texts are never asked "
                    + "again). Default: runs/embed-<model>.")
    Path run;

    @Option(names = "--teacher-dims", paramLabel = "N",
            description = "'dimensions' to ask the API for (text-embedding-3-*); default: the model's own.")
    Integer teacherDims;

    @Option(names = "--inputs-per-request", paramLabel = "N", defaultValue = "" + ApiEmbeddingTeacher.DEFAULT_BATCH,
            description = "Texts per /v1/embeddings request (at most 2048). Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--concurrency", paramLabel = "N", defaultValue = "" + ApiEmbeddingTeacher.DEFAULT_CONCURRENCY,
            description = "API requests in flight at most. Default: ${DEFAULT-VALUE}.")
    int concurrency;

    @Option(names = "--rpm", paramLabel = "N", defaultValue = "0",
            description = "Client-side limit on API requests per minute (0 = none).")
    long rpm;

    @Option(names = "--tpm", paramLabel = "N", defaultValue = "0",
            description = "Client-side limit on API tokens per minute (0 = none).")
    long tpm;

    @Option(names = "--encoding-format", paramLabel = "base64|float", defaultValue = "base64",
            description = "How vectors travel: base64 (float32, as OpenAI's SDKs ask) or float. Default: ${DEFAULT-VALUE}.")
    String encoding;

    @Option(names = "--price-in", paramLabel = "USD_PER_MTOK", defaultValue = "0",
            description = "API price per million input tokens, for the cost figure and --budget-usd.")
    double priceIn;

    @Option(names = "--budget-usd", paramLabel = "X", description = "Stop before spending more than this on the API.")
    Double budgetUsd;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "600",
            description = "Limit for one API request. Default: ${DEFAULT-VALUE}.")
    long timeoutSeconds;

    @Option(names = "--max-attempts", paramLabel = "N", defaultValue = "6",
            description = "Attempts per API request, the first included. Default: ${DEFAULT-VALUE}.")
    int maxAttempts;

    /** The options for {@code teacher} when it is a URL; null for built-in and folder teachers. */
    ApiEmbeddingTeacher.Options forTeacher(String teacher) {
        if (!EmbeddingModels.isUrl(teacher)) return null;
        if (model == null) {
            throw new UserError("--teacher " + teacher + " is an API: name its model with --teacher-model "
                    + "(e.g. text-embedding-3-small)", Errors.USAGE);
        }
        if (budgetUsd != null && priceIn == 0) {
            throw new UserError("--budget-usd needs a price: give --price-in (USD per 1 M tokens)", Errors.USAGE);
        }
        return new ApiEmbeddingTeacher.Options(model, apiKeyEnv, run, batchSize, concurrency, rpm, tpm, teacherDims,
                OpenAiEmbeddingTeacher.Encoding.parse(encoding), Duration.ofSeconds(timeoutSeconds), maxAttempts,
                priceIn, budgetUsd);
    }
}
