package dev.distill4j.teacher;

import java.net.URI;

/**
 * Turns the base URL a user typed into the URL of one endpoint.
 *
 * <p>OpenAI-compatible servers mount their API under {@code /v1} (OpenAI, vLLM, llama.cpp, Ollama), and users write
 * the base URL both with and without it. The rule: a trailing slash and a pasted endpoint path
 * ({@code /chat/completions}, {@code /completions}, {@code /embeddings}) are dropped; then a URL with no path gets {@code /v1}, and a URL
 * with any path is taken as the API root as it is (so {@code http://h:p}, {@code http://h:p/} and
 * {@code http://h:p/v1} all mean {@code http://h:p/v1}, while a proxy root such as
 * {@code https://gw.example.com/openai/v1} or {@code https://gw.example.com/api} is kept).
 *
 * <p>Anthropic's paths carry the version themselves ({@code /v1/messages}), so for Anthropic a trailing {@code /v1},
 * {@code /v1/messages} or {@code /messages} is dropped and {@code /v1/messages} appended.
 */
public final class BaseUrls {
    private BaseUrls() {}

    /** The OpenAI-compatible API root, e.g. {@code http://localhost:8000/v1}. */
    public static URI openAiRoot(URI base) {
        String path = stripSlashes(base.getRawPath());
        for (String suffix : new String[] {"/chat/completions", "/completions", "/embeddings"}) {
            if (path.endsWith(suffix)) {
                path = stripSlashes(path.substring(0, path.length() - suffix.length()));
                break;
            }
        }
        if (path.isEmpty()) path = "/v1";
        return withPath(base, path);
    }

    /** {@code root + "/" + endpointPath} for an OpenAI-compatible server. */
    public static URI openAi(URI base, String endpointPath) {
        return URI.create(openAiRoot(base) + "/" + endpointPath);
    }

    /** Anthropic's root without the version, e.g. {@code https://api.anthropic.com}. */
    public static URI anthropicRoot(URI base) {
        String path = stripSlashes(base.getRawPath());
        for (String suffix : new String[] {"/v1/messages", "/messages", "/v1"}) {
            if (path.endsWith(suffix)) {
                path = stripSlashes(path.substring(0, path.length() - suffix.length()));
                break;
            }
        }
        return withPath(base, path);
    }

    public static URI anthropicMessages(URI base) {
        return URI.create(anthropicRoot(base) + "/v1/messages");
    }

    private static String stripSlashes(String path) {
        if (path == null) return "";
        int end = path.length();
        while (end > 0 && path.charAt(end - 1) == '/') end--;
        return path.substring(0, end);
    }

    private static URI withPath(URI base, String path) {
        String authority = base.getRawAuthority();
        return URI.create(base.getScheme() + "://" + authority + path);
    }
}
