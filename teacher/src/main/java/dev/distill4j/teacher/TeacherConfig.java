package dev.distill4j.teacher;

import dev.distill4j.core.InvalidInputException;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * How to reach one remote teacher. Nulls get defaults: endpoint {@code chat}, the provider's public base URL, the
 * provider's usual key variable ({@code OPENAI_API_KEY}, {@code ANTHROPIC_API_KEY}), a 10-minute request timeout
 * (what the vendors' own SDKs allow a non-streamed answer).
 *
 * @param provider       {@code openai} (any OpenAI-compatible server: OpenAI, vLLM, llama.cpp, Ollama, our serve)
 *                       or {@code anthropic}
 * @param endpoint       {@code chat}, {@code completions} (legacy raw-text completions; OpenAI-compatible only) or
 *                       {@code embeddings} ({@code /v1/embeddings}, for {@link OpenAiEmbeddingTeacher}; OpenAI-compatible only)
 * @param baseUrl        API base URL; see {@link BaseUrls} for how a path-less URL is completed
 * @param model          model name as the teacher knows it
 * @param apiKeyEnv      name of the environment variable the key came from; error messages name it
 * @param apiKey         the resolved key, or null for servers that need none; never logged: {@link #toString()} hides it
 * @param sampling       sampling parameters sent with every request; null for embeddings, which have none
 * @param requestTimeout limit for one request, from send to the full body
 * @param extraHeaders   more headers for every request (e.g. {@code OpenAI-Organization}, a proxy's auth)
 */
public record TeacherConfig(String provider, String endpoint, URI baseUrl, String model, String apiKeyEnv,
                            String apiKey, TeacherSampling sampling, Duration requestTimeout,
                            Map<String, String> extraHeaders) {
    public static final String OPENAI = "openai";
    public static final String ANTHROPIC = "anthropic";
    public static final String CHAT = "chat";
    public static final String COMPLETIONS = "completions";
    public static final String EMBEDDINGS = "embeddings";
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(10);

    public TeacherConfig {
        Objects.requireNonNull(provider, "provider");
        provider = provider.trim().toLowerCase(Locale.ROOT);
        if (!provider.equals(OPENAI) && !provider.equals(ANTHROPIC)) {
            throw new InvalidInputException("unknown teacher provider '" + provider
                    + "': use openai (any OpenAI-compatible server) or anthropic");
        }
        endpoint = endpoint == null ? CHAT : endpoint.trim().toLowerCase(Locale.ROOT);
        if (!endpoint.equals(CHAT) && !endpoint.equals(COMPLETIONS) && !endpoint.equals(EMBEDDINGS)) {
            throw new InvalidInputException("unknown endpoint '" + endpoint + "': use chat or completions");
        }
        if (provider.equals(ANTHROPIC) && endpoint.equals(COMPLETIONS)) {
            throw new InvalidInputException("Anthropic has no raw-text completions endpoint: use --endpoint chat");
        }
        if (provider.equals(ANTHROPIC) && endpoint.equals(EMBEDDINGS)) {
            throw new InvalidInputException("Anthropic has no embeddings endpoint: use an OpenAI-compatible server");
        }
        if (model == null || model.isBlank()) throw new InvalidInputException("a teacher model name is required");
        baseUrl = baseUrl == null ? defaultBaseUrl(provider) : baseUrl;
        String scheme = baseUrl.getScheme();
        if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))
                || baseUrl.getHost() == null) {
            throw new InvalidInputException("teacher base URL '" + baseUrl
                    + "' is not an http(s) URL with a host, e.g. http://localhost:8000/v1");
        }
        apiKeyEnv = apiKeyEnv == null ? defaultApiKeyEnv(provider) : apiKeyEnv;
        if (!endpoint.equals(EMBEDDINGS)) Objects.requireNonNull(sampling, "sampling");
        requestTimeout = requestTimeout == null ? DEFAULT_TIMEOUT : requestTimeout;
        if (requestTimeout.isNegative() || requestTimeout.isZero()) {
            throw new InvalidInputException("request timeout must be positive, got " + requestTimeout);
        }
        extraHeaders = extraHeaders == null ? Map.of() : Map.copyOf(extraHeaders);
    }

    /** A config with defaults for everything but the essentials; the key is read from the provider's usual variable. */
    public static TeacherConfig of(String provider, String model, URI baseUrl, TeacherSampling sampling) {
        String env = defaultApiKeyEnv(provider.trim().toLowerCase(Locale.ROOT));
        return new TeacherConfig(provider, CHAT, baseUrl, model, env, env == null ? null : System.getenv(env),
                sampling, null, null);
    }

    /** An OpenAI-compatible {@code /v1/embeddings} teacher; the key is read later with {@link #withApiKeyFrom}. */
    public static TeacherConfig embeddings(URI baseUrl, String model, String apiKeyEnv, Duration requestTimeout) {
        return new TeacherConfig(OPENAI, EMBEDDINGS, baseUrl, model, apiKeyEnv, null, null, requestTimeout, null);
    }

    public static URI defaultBaseUrl(String provider) {
        return URI.create(provider.equals(ANTHROPIC) ? "https://api.anthropic.com" : "https://api.openai.com/v1");
    }

    public static String defaultApiKeyEnv(String provider) {
        return provider.equals(ANTHROPIC) ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY";
    }

    /**
     * This config with the key read from {@code env} (normally {@link System#getenv()}) under {@link #apiKeyEnv()}.
     * An unset variable leaves the key null, which local servers accept; for the vendors' own hosts, which never
     * do, it is an error that says which variable to set.
     */
    public TeacherConfig withApiKeyFrom(Map<String, String> env) {
        String key = env.get(apiKeyEnv);
        if (key != null && key.isBlank()) key = null;
        if (key == null && isVendorHost()) {
            throw new InvalidInputException((provider.equals(ANTHROPIC) ? "Anthropic" : "OpenAI")
                    + " needs an API key, but $" + apiKeyEnv + " is not set: export " + apiKeyEnv
                    + "=... or name another variable with --api-key-env");
        }
        return withApiKey(key);
    }

    /** True for api.openai.com and api.anthropic.com, which always want a key. */
    public boolean isVendorHost() {
        String host = baseUrl.getHost().toLowerCase(Locale.ROOT);
        return host.equals("api.openai.com") || host.equals("api.anthropic.com");
    }

    public TeacherConfig withApiKey(String key) {
        return new TeacherConfig(provider, endpoint, baseUrl, model, apiKeyEnv, key, sampling, requestTimeout,
                extraHeaders);
    }

    public TeacherConfig withSampling(TeacherSampling s) {
        return new TeacherConfig(provider, endpoint, baseUrl, model, apiKeyEnv, apiKey, s, requestTimeout,
                extraHeaders);
    }

    public TeacherConfig withRequestTimeout(Duration t) {
        return new TeacherConfig(provider, endpoint, baseUrl, model, apiKeyEnv, apiKey, sampling, t, extraHeaders);
    }

    /** Keys must never reach logs, so the key is shown only as set or not. */
    @Override public String toString() {
        return "TeacherConfig[provider=" + provider + ", endpoint=" + endpoint + ", baseUrl=" + baseUrl
                + ", model=" + model + ", apiKeyEnv=" + apiKeyEnv + ", apiKey=" + (apiKey == null ? "unset" : "***")
                + ", sampling=" + sampling + ", requestTimeout=" + requestTimeout
                + ", extraHeaders=" + extraHeaders.keySet() + "]";
    }
}
