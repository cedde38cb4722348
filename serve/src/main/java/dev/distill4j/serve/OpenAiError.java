package dev.distill4j.serve;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;

/**
 * An error answered in OpenAI's shape, {@code {"error": {"message", "type", "param", "code"}}}, with its HTTP status.
 * Messages follow OpenAI's wording where clients match on it.
 */
public final class OpenAiError extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;
    private final String code;
    private final long retryAfterMs;

    public OpenAiError(int status, String type, String param, String code, String message) {
        this(status, type, param, code, message, status == 429 ? 1000 : -1);
    }

    private OpenAiError(int status, String type, String param, String code, String message, long retryAfterMs) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
        this.retryAfterMs = retryAfterMs;
    }

    /**
     * An account past one of its limits, worded as OpenAI words it; type {@code requests} or {@code tokens}, code
     * {@code rate_limit_exceeded}. A request larger than the limit itself can never pass: it says so and carries
     * no {@code Retry-After}.
     */
    static OpenAiError rateLimited(String account, RateLimiter.Refusal r) {
        if (r.retryAfterMs() < 0) {
            return new OpenAiError(429, r.type(), null, "rate_limit_exceeded", "Request too large for account "
                    + account + " on " + r.limitName() + ": Limit " + r.limit() + ", Requested " + r.requested()
                    + ". The input or output tokens must be reduced in order to run successfully.", -1);
        }
        return new OpenAiError(429, r.type(), null, "rate_limit_exceeded", "Rate limit reached for account "
                + account + " on " + r.limitName() + ": Limit " + r.limit() + ", Used " + r.used() + ", Requested "
                + r.requested() + ". Please try again in " + RateLimiter.goDuration(r.retryAfterMs()) + ".",
                r.retryAfterMs());
    }

    /**
     * An account the {@code --guard} policy blocked: 403, type {@code request_forbidden} (OpenAI's type for a 403),
     * code {@code account_blocked}. No {@code Retry-After}: retrying does not help.
     */
    static OpenAiError accountBlocked(String account) {
        return new OpenAiError(403, "request_forbidden", null, "account_blocked", "Account " + account
                + " has been blocked for usage that violates the usage policies of this API. Contact the operator "
                + "of this server if you believe this is an error.", -1);
    }

    /** An account the {@code --guard} policy throttled, past its lowered requests-per-minute cap: 429. */
    static OpenAiError accountThrottled(String account, int rpm, long retryAfterMs) {
        return new OpenAiError(429, "requests", null, "rate_limit_exceeded", "Rate limit reached for account "
                + account + " on requests per min (RPM): Limit " + rpm + " (lowered for this account by the server's "
                + "usage policy). Please try again in " + RateLimiter.goDuration(retryAfterMs) + ".", retryAfterMs);
    }

    public static OpenAiError badRequest(String param, String message) {
        return new OpenAiError(400, "invalid_request_error", param, null, message);
    }

    public static OpenAiError invalidValue(String param, String message) {
        return new OpenAiError(400, "invalid_request_error", param, "invalid_value", message);
    }

    public static OpenAiError invalidJson(String detail) {
        return new OpenAiError(400, "invalid_request_error", null, null, "We could not parse the JSON body of your "
                + "request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API "
                + "expects a JSON payload, but what was sent was not valid JSON. " + detail + ")");
    }

    public static OpenAiError missingKey() {
        return new OpenAiError(401, "invalid_request_error", null, "invalid_api_key", "You didn't provide an API key. "
                + "You need to provide your API key in an Authorization header using Bearer auth (i.e. "
                + "Authorization: Bearer YOUR_KEY).");
    }

    public static OpenAiError wrongKey() {
        // never echoes the key, not even a prefix: request logs and client errors must not leak it
        return new OpenAiError(401, "invalid_request_error", null, "invalid_api_key", "Incorrect API key provided.");
    }

    public static OpenAiError unknownModel(String model) {
        return new OpenAiError(404, "invalid_request_error", "model", "model_not_found",
                "The model `" + model + "` does not exist or you do not have access to it.");
    }

    /** A generation endpoint asked for the served embedding model (OpenAI answers 404 for a model of the wrong kind). */
    public static OpenAiError notAChatModel(String endpoint, String model) {
        return new OpenAiError(404, "invalid_request_error", "model", null, "This is not a chat model and thus not "
                + "supported in the " + endpoint + " endpoint. `" + model + "` is an embedding model: use v1/embeddings.");
    }

    /** {@code /v1/embeddings} asked for the served chat model. */
    public static OpenAiError notAnEmbeddingModel(String model) {
        return new OpenAiError(404, "invalid_request_error", "model", null, "This is not an embedding model and thus "
                + "not supported in the v1/embeddings endpoint. `" + model + "` is a chat model: use "
                + "v1/chat/completions.");
    }

    public static OpenAiError contextTooLong(int limit, int prompt, int completion, String what) {
        return new OpenAiError(400, "invalid_request_error", what, "context_length_exceeded",
                "This model's maximum context length is " + limit + " tokens. However, you requested "
                        + (prompt + completion) + " tokens (" + prompt + " in the " + what + ", " + completion
                        + " in the completion). Please reduce the length of the " + what + " or completion.");
    }

    public static OpenAiError queueFull(int capacity) {
        return new OpenAiError(429, "rate_limit_exceeded", null, "rate_limit_exceeded", "The server is busy: "
                + capacity + " sequences are already waiting. Please retry after a short wait.");
    }

    public static OpenAiError notFound(String method, String path) {
        return new OpenAiError(404, "invalid_request_error", null, "unknown_url",
                "Unrecognized request URL (" + method + " " + path + ").");
    }

    public static OpenAiError internal(String detail) {
        return new OpenAiError(500, "server_error", null, null, "The server had an error while processing your "
                + "request: " + detail);
    }

    public int status() { return status; }

    /** For a 429: when a retry can pass, in milliseconds; -1 when retrying cannot help or for other statuses. */
    public long retryAfterMs() { return retryAfterMs; }

    public String type() { return type; }

    public String param() { return param; }

    public String code() { return code; }

    public ObjectNode toJson() {
        ObjectNode e = Json.object();
        e.put("message", getMessage());
        e.put("type", type);
        e.put("param", param);
        e.put("code", code);
        ObjectNode root = Json.object();
        root.set("error", e);
        return root;
    }
}
