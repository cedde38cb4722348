package dev.distill4j.teacher;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.core.TokenDistribution;
import dev.distill4j.core.Usage;
import dev.distill4j.teacher.TeacherException.Kind;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one HTTP path of every remote teacher: sends a JSON POST, times it, and turns the outcome into a
 * {@link TeacherResponse} or a classified {@link TeacherException}. Teachers only build bodies and parse answers.
 *
 * <p>Classification: 401/403 AUTH, 404 NOT_FOUND, 429 RATE_LIMITED, 408/409/5xx (and Anthropic's 529) SERVER, other
 * 4xx BAD_REQUEST; no response in time TIMEOUT; unknown host, no route or connection refused UNREACHABLE (nothing
 * to talk to: the harvester stops if that happens before any success); reset, EOF or a body shorter than its
 * Content-Length CONNECTION; a 200 that is not JSON UNREADABLE_RESPONSE; a 200 whose JSON lacks what the provider
 * documents MALFORMED_RESPONSE.
 *
 * <p>Billing ({@link TeacherException#billing()}): an error status and a request that never reached the teacher
 * cost nothing; a 2xx whose body is lost, a timeout and a broken connection after the request was sent may have been
 * billed for a whole answer (providers finish and bill a generation the client stopped waiting for), so the budget
 * counts their worst case; a malformed 2xx whose {@code usage} can still be read is billed at that usage.
 */
public final class HttpTransport implements AutoCloseable {
    /** What a teacher's parser reads from a 200 body. */
    public record Answer(String text, String finishReason, TokenDistribution tokens, Usage usage) {}

    /** Reads a 200 body; throws {@link WireJson.MalformedException} when the body is not the documented shape. */
    @FunctionalInterface
    public interface BodyParser {
        Answer parse(JsonNode body);
    }

    /** A 200 answer of any endpoint: what its parser made of the body, and what the exchange itself told. */
    public record Reply<T>(T body, String requestId, long latencyMs, RateLimitInfo rateLimits) {}

    public static final int EXCERPT_CHARS = 500;
    /** Longest wait for a TCP (and TLS) connection; bounded separately so a dead host does not take the full timeout. */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(30);

    private final TeacherConfig config;
    private final Map<String, String> headers;
    private final Clock clock;
    private final Duration connectTimeout;
    private final HttpClient client;
    private final java.util.concurrent.ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();

    /**
     * @param providerHeaders the provider's own headers (auth, version); the config's extra headers come after, so a
     *                        user can override them
     */
    public HttpTransport(TeacherConfig config, Map<String, String> providerHeaders) {
        this(config, providerHeaders, Clock.systemUTC());
    }

    HttpTransport(TeacherConfig config, Map<String, String> providerHeaders, Clock clock) {
        this.config = config;
        this.clock = clock;
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Content-Type", "application/json");
        h.put("Accept", "application/json");
        h.putAll(providerHeaders);
        h.putAll(config.extraHeaders());
        this.headers = Map.copyOf(h);
        this.connectTimeout = config.requestTimeout().compareTo(CONNECT_TIMEOUT) < 0
                ? config.requestTimeout() : CONNECT_TIMEOUT;
        // HTTP/1.1 everywhere, one pooled connection per request in flight, as the vendors' own SDKs do. Over HTTP/2
        // java.net.http puts every request on one connection and fails those beyond the server's
        // MAX_CONCURRENT_STREAMS (often 100) with "too many concurrent streams" (JDK-8225647) instead of queueing
        // them; and plain-http servers (vLLM, llama.cpp, Ollama) would only be asked to upgrade to h2c for nothing.
        this.client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(connectTimeout)
                .followRedirects(HttpClient.Redirect.NEVER)
                .executor(executor)
                .build();
    }

    /**
     * Sends one request.
     *
     * @param clientRequestId sent as {@code X-Client-Request-Id} (the sample's key) so both sides can correlate
     */
    public TeacherResponse post(URI url, ObjectNode body, String clientRequestId, BodyParser parser)
            throws TeacherException {
        Reply<Answer> r = exchange(url, body, clientRequestId, parser::parse);
        Answer a = r.body();
        return new TeacherResponse(a.text(), a.finishReason(), a.tokens(), a.usage(), r.requestId(), r.latencyMs(),
                r.rateLimits());
    }

    /**
     * Sends one request to any endpoint whose 200 body {@code parser} reads (it throws
     * {@link WireJson.MalformedException} when the body is not the documented shape); errors are classified as for
     * {@link #post}.
     */
    public <T> Reply<T> exchange(URI url, ObjectNode body, String clientRequestId,
                                 java.util.function.Function<JsonNode, T> parser) throws TeacherException {
        return send(request(url, "application/json", "application/json", clientRequestId)
                        .POST(HttpRequest.BodyPublishers.ofByteArray(serialize(body))), url,
                (raw, status, requestId, limits) -> parse(raw, parser, status, url, requestId, limits));
    }

    /** {@code GET url}, its 200 body read as JSON by {@code parser}; errors are classified as for {@link #post}. */
    public <T> Reply<T> getJson(URI url, java.util.function.Function<JsonNode, T> parser) throws TeacherException {
        return send(request(url, null, "application/json", null).GET(), url,
                (raw, status, requestId, limits) -> parse(raw, parser, status, url, requestId, limits));
    }

    /**
     * {@code GET url}, its 200 body as bytes (a file's content, e.g. a batch's JSONL results): errors are classified
     * as for {@link #post}, a body cut short is {@code CONNECTION}.
     */
    public Reply<byte[]> getBytes(URI url) throws TeacherException {
        return send(request(url, null, "*/*", null).GET(), url, (raw, status, requestId, limits) -> raw);
    }

    /**
     * {@code POST url} with a {@code multipart/form-data} body: the text {@code fields}, then one file part
     * {@code fileField} named {@code fileName} holding {@code file}'s bytes (streamed, never all in memory), as
     * OpenAI's {@code /v1/files} takes an upload. The 200 body is read as JSON by {@code parser}.
     */
    public <T> Reply<T> postMultipart(URI url, Map<String, String> fields, String fileField, String fileName,
                                      java.nio.file.Path file, java.util.function.Function<JsonNode, T> parser)
            throws TeacherException {
        String boundary = "distill4j-" + java.util.UUID.randomUUID();
        StringBuilder head = new StringBuilder();
        fields.forEach((k, v) -> head.append("--").append(boundary).append("\r\n")
                .append("Content-Disposition: form-data; name=\"").append(k).append("\"\r\n\r\n")
                .append(v).append("\r\n"));
        head.append("--").append(boundary).append("\r\n")
                .append("Content-Disposition: form-data; name=\"").append(fileField).append("\"; filename=\"")
                .append(fileName).append("\"\r\n")
                .append("Content-Type: application/octet-stream\r\n\r\n");
        String tail = "\r\n--" + boundary + "--\r\n";
        HttpRequest.BodyPublisher body;
        try {
            body = HttpRequest.BodyPublishers.concat(
                    HttpRequest.BodyPublishers.ofByteArray(head.toString().getBytes(StandardCharsets.UTF_8)),
                    HttpRequest.BodyPublishers.ofFile(file),
                    HttpRequest.BodyPublishers.ofByteArray(tail.getBytes(StandardCharsets.UTF_8)));
        } catch (java.io.FileNotFoundException e) {
            throw new TeacherException(Kind.BAD_REQUEST, 0, "cannot read " + file + " to upload it: " + e.getMessage(),
                    null, null, null, null, e);
        }
        return send(request(url, "multipart/form-data; boundary=" + boundary, "application/json", null).POST(body),
                url, (raw, status, requestId, limits) -> parse(raw, parser, status, url, requestId, limits));
    }

    /**
     * {@code POST url} with a JSON body streamed from {@code body} (e.g. a batch of 100,000 requests read from a
     * file, never all in memory), its 200 body read as JSON by {@code parser}.
     */
    public <T> Reply<T> postJson(URI url, HttpRequest.BodyPublisher body, String clientRequestId,
                                 java.util.function.Function<JsonNode, T> parser) throws TeacherException {
        return send(request(url, "application/json", "application/json", clientRequestId).POST(body), url,
                (raw, status, requestId, limits) -> parse(raw, parser, status, url, requestId, limits));
    }

    /** What a 2xx body becomes; throws the classified exception when it cannot be read. */
    @FunctionalInterface
    private interface Success<T> {
        T read(byte[] raw, int status, String requestId, RateLimitInfo limits) throws TeacherException;
    }

    private HttpRequest.Builder request(URI url, String contentType, String accept, String clientRequestId) {
        HttpRequest.Builder b = HttpRequest.newBuilder(url).timeout(config.requestTimeout());
        headers.forEach((k, v) -> {
            if (k.equalsIgnoreCase("Content-Type")) {
                if (contentType != null) b.header(k, contentType);
            } else if (k.equalsIgnoreCase("Accept")) {
                b.header(k, accept);
            } else {
                b.header(k, v);
            }
        });
        if (clientRequestId != null) b.header("X-Client-Request-Id", clientRequestId);
        return b;
    }

    private <T> Reply<T> send(HttpRequest.Builder b, URI url, Success<T> success) throws TeacherException {
        long start = System.nanoTime();
        HttpResponse<byte[]> response;
        // The request timeout of java.net.http ends when the headers arrive; a body that trickles in must not hold
        // a sample forever, so the whole exchange is bounded here and cancelled when it runs over.
        // the status line, once it has come: a body lost after a 2xx status was an answer the teacher billed
        AtomicInteger statusLine = new AtomicInteger();
        CompletableFuture<HttpResponse<byte[]>> call = client.sendAsync(b.build(), info -> {
            statusLine.set(info.statusCode());
            return HttpResponse.BodySubscribers.ofByteArray();
        });
        try {
            response = call.get(config.requestTimeout().toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            call.cancel(true);
            throw classify(new HttpTimeoutException("no complete answer in time"), url, statusLine.get());
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) throw classify(io, url, statusLine.get());
            throw new TeacherException(Kind.CONNECTION, statusLine.get(), "the request to the teacher at " + url
                    + " failed (" + describe(cause) + ")", null, null, null, null, cause,
                    TeacherException.Billing.WORST_CASE, null);
        } catch (InterruptedException e) {
            call.cancel(true);
            Thread.currentThread().interrupt();
            // the request was sent: the teacher may still finish and bill the answer we stop waiting for
            throw new TeacherException(Kind.CONNECTION, statusLine.get(), "interrupted while waiting for the teacher at "
                    + url, null, null, null, null, e, TeacherException.Billing.WORST_CASE, null);
        }
        long latencyMs = (System.nanoTime() - start) / 1_000_000;

        HttpHeaders h = response.headers();
        String requestId = WireHeaders.requestId(h);
        RateLimitInfo limits = WireHeaders.rateLimits(h, clock.instant());
        int status = response.statusCode();
        byte[] raw = response.body() == null ? new byte[0] : response.body();
        if (status / 100 == 2) {
            return new Reply<>(success.read(raw, status, requestId, limits), requestId, latencyMs, limits);
        }
        throw httpError(status, raw, h, url, requestId, limits);
    }

    private <T> T parse(byte[] raw, java.util.function.Function<JsonNode, T> parser, int status, URI url,
                        String requestId, RateLimitInfo limits)
            throws TeacherException {
        String what;
        JsonNode json = null;
        Kind kind = Kind.MALFORMED_RESPONSE;
        try {
            json = Json.MAPPER.readTree(raw);
            if (json == null || !json.isObject()) {
                kind = Kind.UNREADABLE_RESPONSE;
                what = raw.length == 0 ? "its body is empty" : "its body is not a JSON object";
            } else {
                return parser.apply(json);
            }
        } catch (IOException e) {
            kind = Kind.UNREADABLE_RESPONSE;
            what = "its body is not valid JSON (cut short, or not the API's answer)";
        } catch (WireJson.MalformedException e) {
            what = "its body " + e.getMessage();
        } catch (RuntimeException e) {
            what = "its body could not be read (" + describe(e) + ")";
        }
        String excerpt = excerpt(raw);
        Usage billed = kind == Kind.MALFORMED_RESPONSE ? billedUsage(json) : null;
        throw new TeacherException(kind, status,
                "the teacher at " + url + " answered " + status + " but " + what + ": " + excerpt,
                null, excerpt, requestId, limits, null,
                billed == null ? TeacherException.Billing.WORST_CASE : TeacherException.Billing.USAGE, billed);
    }

    /**
     * The {@code usage} of an answer that could not be used, if it can still be read: OpenAI's
     * {@code prompt_tokens}/{@code completion_tokens} (embeddings have only the former) or Anthropic's
     * {@code input_tokens}/{@code output_tokens} plus its cache counts. Null when there is none to trust.
     */
    static Usage billedUsage(JsonNode json) {
        JsonNode u = json == null ? null : json.get("usage");
        if (u == null || !u.isObject()) return null;
        if (count(u, "prompt_tokens") >= 0) {
            long completion = u.has("completion_tokens") ? count(u, "completion_tokens") : 0;
            return completion < 0 ? null : new Usage(count(u, "prompt_tokens"), completion);
        }
        long in = count(u, "input_tokens");
        long out = count(u, "output_tokens");
        if (in < 0 || out < 0) return null;
        long cacheRead = Math.max(0, count(u, "cache_read_input_tokens"));
        long cacheWrite = Math.max(0, count(u, "cache_creation_input_tokens"));
        return new Usage(in + cacheRead + cacheWrite, out, cacheRead, 0);
    }

    /** A non-negative whole count, or -1 when absent or not one. */
    private static long count(JsonNode parent, String field) {
        JsonNode n = parent.get(field);
        return n != null && n.canConvertToLong() && n.asLong() >= 0 && n.isIntegralNumber() ? n.asLong() : -1;
    }

    private TeacherException httpError(int status, byte[] raw, HttpHeaders h, URI url, String requestId,
                                       RateLimitInfo limits) {
        String excerpt = excerpt(raw);
        String detail = providerMessage(raw);
        if (detail == null) detail = excerpt.isEmpty() ? "(empty body)" : excerpt;
        Duration retryAfter = WireHeaders.retryAfter(h, clock.instant());
        Kind kind;
        String message;
        if (status == 401 || status == 403) {
            kind = Kind.AUTH;
            message = config.apiKey() == null
                    ? "the teacher at " + url + " wants an API key but $" + config.apiKeyEnv() + " is not set ("
                            + status + "): " + detail + "; export it or name another variable with --api-key-env"
                    : "the teacher rejected the API key from $" + config.apiKeyEnv() + " (" + status + "): " + detail;
        } else if (status == 404) {
            kind = Kind.NOT_FOUND;
            message = "unknown model '" + config.model() + "' or endpoint at " + url + " (404): " + detail;
        } else if (status == 429) {
            kind = Kind.RATE_LIMITED;
            message = "the teacher is rate limiting us (429): " + detail
                    + (retryAfter == null ? "" : "; retry after " + retryAfter.toMillis() + " ms");
        } else if (status == 408 || status == 409 || status >= 500) {
            kind = Kind.SERVER;
            message = "the teacher at " + url + " failed (" + status + "): " + detail;
        } else {
            kind = Kind.BAD_REQUEST;
            message = "the teacher rejected the request (" + status + "): " + detail;
        }
        return new TeacherException(kind, status, message, retryAfter, excerpt, requestId, limits, null);
    }

    /** How an error status is classified: the table in docs/teachers.md. */
    static Kind kindOf(int status) {
        if (status == 401 || status == 403) return Kind.AUTH;
        if (status == 404) return Kind.NOT_FOUND;
        if (status == 429) return Kind.RATE_LIMITED;
        if (status == 408 || status == 409 || status >= 500) return Kind.SERVER;
        return Kind.BAD_REQUEST;
    }

    /** @param status the status line that came before the failure, or 0 when none did */
    private TeacherException classify(IOException e, URI url, int status) {
        Kind kind = Kind.CONNECTION;
        String why = null;
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof HttpConnectTimeoutException) {
                // Nothing answered the connection attempt at all: a firewalled or wrong host.
                kind = Kind.UNREACHABLE;
                why = "no connection within " + connectTimeout.toMillis() + " ms";
                break;
            }
            if (t instanceof HttpTimeoutException) {
                kind = Kind.TIMEOUT;
                break;
            }
            if (t instanceof UnresolvedAddressException || t instanceof UnknownHostException) {
                kind = Kind.UNREACHABLE;
                why = "unknown host " + url.getHost();
                break;
            }
            if (t instanceof NoRouteToHostException) {
                kind = Kind.UNREACHABLE;
                why = "no route to host " + url.getHost();
                break;
            }
            if (t instanceof ConnectException) {
                kind = Kind.UNREACHABLE;
                // A refused connection: the JDK often gives no message, only a ClosedChannelException cause.
                if (t.getMessage() == null || t.getMessage().isBlank()) why = "connection refused";
            }
        }
        if (why == null) why = describe(e);
        String during = status / 100 == 2 ? " while its " + status + " answer was arriving" : "";
        String message = switch (kind) {
            case TIMEOUT -> "no " + (during.isEmpty() ? "" : "complete ") + "answer from the teacher at " + url
                    + " within the request timeout of " + config.requestTimeout().toMillis() + " ms";
            case UNREACHABLE -> "cannot reach the teacher at " + url + " (" + why
                    + "): check --base-url and that the server is running";
            default -> "the connection to the teacher at " + url + " broke" + during + " (" + why + ")";
        };
        // nothing reached a host we could not connect to, and an error status is not billed; anything else was
        // sent and may have been answered
        TeacherException.Billing billing = kind == Kind.UNREACHABLE || (status > 0 && status / 100 != 2)
                ? TeacherException.Billing.NONE : TeacherException.Billing.WORST_CASE;
        return new TeacherException(kind, status, message, null, null, null, null, e, billing, null);
    }

    private static String describe(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                return t.getClass().getSimpleName() + ": " + t.getMessage();
            }
            if (t.getCause() == null) return t.getClass().getSimpleName();
        }
        return e.getClass().getSimpleName();
    }

    /**
     * The provider's own words: OpenAI {@code {"error":{"message","type","param","code"}}}, Anthropic
     * {@code {"type":"error","error":{"type","message"}}}, vLLM {@code {"object":"error","message",...}}, Ollama
     * {@code {"error":"..."}}, FastAPI {@code {"detail":...}}. Null when the body is none of these.
     */
    static String providerMessage(byte[] raw) {
        JsonNode json;
        try {
            json = Json.MAPPER.readTree(raw);
        } catch (IOException e) {
            return null;
        }
        if (json == null || !json.isObject()) return null;
        JsonNode err = json.get("error");
        if (err != null && err.isTextual()) return err.asText();
        JsonNode src = err != null && err.isObject() ? err : json;
        JsonNode msg = src.get("message");
        if (msg == null || msg.isNull()) {
            JsonNode detail = json.get("detail");
            return detail == null ? null : detail.isTextual() ? detail.asText() : detail.toString();
        }
        StringBuilder s = new StringBuilder(msg.isTextual() ? msg.asText() : msg.toString());
        String type = textOf(src.get("type"));
        String code = textOf(src.get("code"));
        String param = textOf(src.get("param"));
        if (type != null || code != null || param != null) {
            s.append(" [");
            String sep = "";
            if (type != null) { s.append("type ").append(type); sep = ", "; }
            if (code != null) { s.append(sep).append("code ").append(code); sep = ", "; }
            if (param != null) s.append(sep).append("param ").append(param);
            s.append(']');
        }
        return s.toString();
    }

    private static String textOf(JsonNode n) {
        return n == null || n.isNull() || (n.isTextual() && n.asText().isEmpty()) ? null : n.asText();
    }

    static String excerpt(byte[] raw) {
        String s = new String(raw, 0, Math.min(raw.length, EXCERPT_CHARS * 4), StandardCharsets.UTF_8).strip();
        return s.length() <= EXCERPT_CHARS ? s : s.substring(0, EXCERPT_CHARS) + "…";
    }

    private static byte[] serialize(ObjectNode body) {
        try {
            return Json.MAPPER.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("request body cannot be written as JSON", e);
        }
    }

    /** Aborts requests still in flight (their callers get CONNECTION) rather than waiting up to a timeout for them. */
    @Override public void close() {
        client.shutdownNow();
        executor.shutdownNow();
    }
}
