package dev.distill4j.serve;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.model.local.LocalModel;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.core.Version;
import dev.distill4j.embed.EmbeddingModel;
import dev.distill4j.model.generate.SamplingDefaults;
import dev.distill4j.model.generate.TokenChooser;
import dev.distill4j.model.generate.TokenListener;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.function.LongSupplier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An OpenAI-compatible HTTP server for a loaded chat model, an embedding model, or one of each:
 * {@code /v1/models}, {@code /v1/chat/completions} (with SSE streaming and logprobs), the legacy
 * {@code /v1/completions} (with {@code echo} scoring), {@code /v1/embeddings}, {@code /health} and {@code /metrics}.
 * Generation requests are queued and continuously batched by a {@link BatchScheduler}, embedding requests by an
 * {@link EmbeddingBatcher}.
 *
 * <pre>{@code
 * try (OpenAiServer server = OpenAiServer.builder().setModel(LocalModel.load(dir)).optPort(0).build()) {
 *     int port = server.start();
 *     ...
 * }
 * }</pre>
 */
public final class OpenAiServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(OpenAiServer.class);
    private static final Logger requestLog = LoggerFactory.getLogger("dev.distill4j.serve.requests");

    private final LocalModel model;          // null when only an embedding model is served
    private final boolean ownsModel;
    private final String name;
    private final EmbeddingModel embedder;    // null when no embedding model is served
    private final String embeddingName;
    private final String host;
    private final int port;
    private final byte[] apiKey;
    private final boolean logRequests;
    private final int defaultMaxTokens;
    private final String chooserDescription;   // null without a token chooser
    private final long created = System.currentTimeMillis() / 1000;
    private final String fingerprint;
    private final Metrics metrics = new Metrics();
    private final LongSupplier clock = System::currentTimeMillis;
    private final Accounts accounts;            // null without a key file
    private final RequestLog requestLogWriter;  // null without --request-log
    private final AccountGuard guard;           // null without --guard
    private final GuardFeed guardFeed;          // null without --guard
    private final BatchScheduler scheduler;
    private final ChatCompletions chat;
    private final Completions completions;
    private final Embeddings embeddings;
    private Javalin app;

    private OpenAiServer(Builder b) {
        this.model = b.model;
        this.ownsModel = b.ownsModel;
        this.name = model == null ? null : b.servedModelName == null ? model.name() : b.servedModelName;
        this.embedder = b.embedder;
        this.embeddingName = embedder == null ? null
                : b.embeddingModelName == null ? embedder.name() : b.embeddingModelName;
        if (name != null && name.equals(embeddingName)) {
            throw new InvalidInputException("the chat model and the embedding model are both named '" + name
                    + "'; give one another name");
        }
        this.host = b.host;
        this.port = b.port;
        this.apiKey = b.apiKey == null ? null : b.apiKey.getBytes(StandardCharsets.UTF_8);
        this.logRequests = b.logRequests;
        this.defaultMaxTokens = b.defaultMaxTokens;
        this.fingerprint = model == null ? null : fingerprint(model);
        if (b.tokenChooser != null && model == null) {
            throw new InvalidInputException("a token chooser (watermark) needs a chat model to generate with");
        }
        this.chooserDescription = b.tokenChooser == null ? null : b.tokenChooserDescription;
        this.scheduler = model == null ? null
                : new BatchScheduler(model, b.tokenChooser, b.maxBatch, b.maxQueue, metrics, b.tokenHook);
        this.chat = new ChatCompletions(this);
        this.completions = new Completions(this);
        this.embeddings = embedder == null ? null : new Embeddings(this, embedder, metrics);
        Accounts acc = null;
        try {
            acc = b.keys == null ? null : new Accounts(b.keys, b.keysPoll, clock);
            this.requestLogWriter = b.requestLogDir == null ? null : new RequestLog(b.requestLogDir, b.logPrompts,
                    b.requestLogRotateBytes, RequestLog.DEFAULT_QUEUE, clock, metrics);
        } catch (IOException | RuntimeException e) {
            if (acc != null) acc.close();
            if (scheduler != null) scheduler.close();
            if (embeddings != null) embeddings.close();
            if (e instanceof IOException io) {
                throw new UncheckedIOException("cannot read " + (b.keys != null && acc == null ? b.keys
                        : b.requestLogDir) + ": " + io.getMessage(), io);
            }
            throw (RuntimeException) e;
        }
        this.accounts = acc;
        this.guard = b.guard;
        this.guardFeed = guard == null ? null : new GuardFeed(guard, GuardFeed.DEFAULT_QUEUE, metrics);
    }

    public static Builder builder() { return new Builder(); }

    /** Starts listening and returns the bound port (the chosen one when the port was 0). */
    public synchronized int start() {
        if (app != null) throw new IllegalStateException("the server is already started");
        app = Javalin.create(config -> {
            config.showJavalinBanner = false;
            config.useVirtualThreads = true;
            config.http.maxRequestSize = 32L << 20;
        });
        route("GET", "/v1/models", true, this::models);
        route("GET", "/v1/models/{model}", true, this::oneModel);
        route("POST", "/v1/chat/completions", true, ctx -> {
            requireGenerative(ctx, "v1/chat/completions");
            chat.handle(ctx);
        });
        route("POST", "/v1/completions", true, ctx -> {
            requireGenerative(ctx, "v1/completions");
            completions.handle(ctx);
        });
        route("POST", "/v1/embeddings", true, ctx -> {
            if (embeddings == null) {
                // the chat model's own name gets OpenAI's wrong-kind answer, any other the usual unknown model
                JsonNode m = body(ctx).get("model");
                String asked = m == null ? "" : m.asText();
                throw asked.equals(name) ? OpenAiError.notAnEmbeddingModel(name) : OpenAiError.unknownModel(asked);
            }
            embeddings.handle(ctx);
        });
        route("GET", "/health", false, ctx -> ctx.contentType("application/json").result("{\"status\":\"ok\"}"));
        route("GET", "/metrics", false, ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8")
                .result(metrics.render()));
        app.error(404, ctx -> {
            if (ctx.attribute("distill4j.handled") == null) {
                writeError(ctx, OpenAiError.notFound(ctx.method().name(), ctx.path()));
            }
        });
        app.start(host, port);
        int bound = app.port();
        if (model != null) {
            log.info("serving {} ({} parameters) as '{}' on http://{}:{}/v1", model.dir(), model.parameterCount(),
                    name, host, bound);
            if (chooserDescription != null) log.info("every generated token is chosen by {}", chooserDescription);
            if (guard != null) log.info("accounts are watched by {}", guard.describe());
        }
        if (embedder != null) {
            log.info("serving embedding model {} ({} dimensions) as '{}' on http://{}:{}/v1/embeddings",
                    embedder.name(), embedder.dimension(), embeddingName, host, bound);
        }
        return bound;
    }

    /** The chat model's name; null when only an embedding model is served. */
    public String servedModelName() { return name; }

    /** The embedding model's name; null when none is served. */
    public String embeddingModelName() { return embeddingName; }

    /** The bound port; valid after {@link #start()}. */
    public int port() { return app.port(); }

    /** Sequences waiting for the model now. */
    public int queueDepth() { return scheduler == null ? 0 : scheduler.queueDepth(); }

    @FunctionalInterface
    interface Handler {
        void handle(Context ctx) throws Exception;
    }

    /** What the route wrapper knows about one request, shared with the handlers through a context attribute. */
    static final class Call {
        final long startMillis = System.currentTimeMillis();
        String account = NO_ACCOUNT;
        RateLimiter limiter;          // null: the account has no limits (or there are no accounts)
        long reserved = -1;           // tokens reserved at admission; -1: none
        Long promptTokens;
        Long completionTokens;
        String requestId;
        boolean guarded;              // the guard admitted it: it is told how the request went
    }

    /** The account name of requests when the server has no --keys. */
    static final String NO_ACCOUNT = "-";
    private static final String CALL = "distill4j.call";
    private static final String BODY = "distill4j.body";

    private static Call call(Context ctx) { return ctx.attribute(CALL); }

    private void route(String method, String path, boolean auth, Handler h) {
        io.javalin.http.Handler wrapped = ctx -> {
            long t0 = System.nanoTime();
            Call call = new Call();
            ctx.attribute(CALL, call);
            ctx.attribute("distill4j.handled", Boolean.TRUE);
            try {
                if (auth) authenticate(ctx, call);
                if (guard != null && auth && method.equals("POST") && !path.equals("/v1/embeddings")) {
                    admitByGuard(ctx, call);
                }
                if (call.limiter != null && method.equals("POST")) admitRequest(ctx, call);
                h.handle(ctx);
            } catch (OpenAiError e) {
                writeError(ctx, e);
            } catch (Exception e) {
                log.error("{} {} failed", method, path, e);
                writeError(ctx, OpenAiError.internal(e.getClass().getSimpleName()
                        + (e.getMessage() == null ? "" : ": " + e.getMessage())));
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            int status = ctx.statusCode();
            settle(call, status);
            metrics.request(path, status, seconds);
            if (auth) metrics.accountRequest(call.account);
            if (requestLogWriter != null && auth) {
                requestLogWriter.offer(new RequestLog.Entry(call.startMillis,
                        call.requestId != null ? call.requestId : Wire.id("req_"), call.account, ctx.ip(), path,
                        status, Math.round(seconds * 1000), ctx.attribute(BODY),
                        method.equals("POST") && ctx.attribute(BODY) == null ? ctx.bodyAsBytes() : null,
                        call.promptTokens, call.completionTokens));
            }
            if (call.guarded) {
                // after the handler: a non-streamed answer is sent once this wrapper returns, and the feed's queue
                // takes the work off this thread anyway
                guardFeed.offer(new GuardFeed.Entry(call.startMillis, guardAccount(ctx, call), ctx.ip(), path, status,
                        ctx.attribute(BODY), call.promptTokens, call.completionTokens));
            }
            if (logRequests) {
                requestLog.info("{} {} {} {} ms{}", method, ctx.path(), status, Math.round(seconds * 1000),
                        Objects.requireNonNullElse(ctx.attribute("distill4j.tokens"), ""));
            }
        };
        if (method.equals("GET")) app.get(path, wrapped);
        else app.post(path, wrapped);
    }

    private void authenticate(Context ctx, Call call) {
        if (apiKey == null && accounts == null) return;
        String header = ctx.header("Authorization");
        if (header == null || header.isBlank()) {
            metrics.rejected("invalid_api_key");
            throw OpenAiError.missingKey();
        }
        String given = header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).trim() : "";
        if (accounts != null) {
            KeyFile.Account a = given.isEmpty() ? null : accounts.find(given);
            if (a == null) {
                metrics.rejected("invalid_api_key");
                throw OpenAiError.wrongKey();
            }
            call.account = a.name();
            RateLimiter limiter = accounts.limiter(a);
            if (limiter.limited()) call.limiter = limiter;
        } else if (!MessageDigest.isEqual(apiKey, given.getBytes(StandardCharsets.UTF_8))) {
            metrics.rejected("invalid_api_key");
            throw OpenAiError.wrongKey();
        }
    }

    /** The account a guard policy acts on: the key file's account, else the client address. */
    private static String guardAccount(Context ctx, Call call) {
        return call.account.equals(NO_ACCOUNT) ? ctx.ip() : call.account;
    }

    /** A blocked account gets 403, a throttled one past its cap 429 with OpenAI's rate-limit headers. */
    private void admitByGuard(Context ctx, Call call) {
        String account = guardAccount(ctx, call);
        long now = clock.getAsLong();
        AccountGuard.Admission a = guard.admit(account, now);
        if (a.action() == AccountGuard.Action.THROTTLE) {
            ctx.header("x-ratelimit-limit-requests", Integer.toString(a.rpm()));
            if (a.retryAfterMs() >= 0) {
                ctx.header("x-ratelimit-remaining-requests", "0");
                ctx.header("x-ratelimit-reset-requests", RateLimiter.goDuration(a.retryAfterMs()));
            }
        }
        if (a.action() == AccountGuard.Action.BLOCK) {
            metrics.rejected("account_blocked");
            throw OpenAiError.accountBlocked(account);
        }
        if (a.refused()) {
            metrics.rejected("account_throttled");
            throw OpenAiError.accountThrottled(account, a.rpm(), a.retryAfterMs());
        }
        call.guarded = true;
    }

    /** One request against the account's requests-per-minute; the rate-limit headers go on every answer. */
    private void admitRequest(Context ctx, Call call) {
        long now = clock.getAsLong();
        RateLimiter.Refusal no = call.limiter.admitRequest(now);
        call.limiter.headers(ctx, now);
        if (no != null) {
            metrics.rejected(no.type());
            call.limiter = null;      // nothing reserved, nothing to settle
            throw OpenAiError.rateLimited(call.account, no);
        }
    }

    /**
     * Reserves a generation's worst case (prompt + max tokens of every choice) against the account's token limits
     * before it is queued; a 429 when the limits cannot take it. The answer's real usage settles it afterwards.
     */
    void admitTokens(Context ctx, long tokens) {
        Call call = call(ctx);
        if (call == null || call.limiter == null) return;
        long now = clock.getAsLong();
        RateLimiter.Refusal no = call.limiter.reserveTokens(now, tokens);
        if (no == null) call.reserved = tokens;
        call.limiter.headers(ctx, now);
        if (no != null) {
            metrics.rejected(no.type());
            throw OpenAiError.rateLimited(call.account, no);
        }
    }

    /**
     * Gives back what a reservation did not use. Usage the answer reported is charged; without one, a failed
     * request (status &ge; 400: nothing was generated for the client) is refunded, and a successful one whose usage
     * is unknown (a stream its client cut short) keeps its whole reservation.
     */
    private void settle(Call call, int status) {
        if (call.limiter == null || call.reserved < 0) return;
        long used = call.promptTokens != null ? call.promptTokens + call.completionTokens
                : status >= 400 ? 0 : call.reserved;
        call.limiter.settle(clock.getAsLong(), call.reserved, used);
    }

    static void writeError(Context ctx, OpenAiError e) {
        // seconds, rounded up: a client waiting Retry-After is let through (a full queue: a batch usually finishes
        // within seconds)
        if (e.retryAfterMs() >= 0) ctx.header("Retry-After", Long.toString(Math.max(1, (e.retryAfterMs() + 999) / 1000)));
        ctx.status(e.status()).contentType("application/json").result(Json.write(e.toJson()));
    }

    private ObjectNode modelJson(String id) {
        ObjectNode m = Json.object();
        m.put("id", id);
        m.put("object", "model");
        m.put("created", created);
        m.put("owned_by", "distill4j");
        if (id.equals(name)) m.put("max_model_len", model.contextLength());
        return m;
    }

    private void models(Context ctx) {
        ObjectNode list = Json.object();
        list.put("object", "list");
        ArrayNode data = list.putArray("data");
        if (name != null) data.add(modelJson(name));
        if (embeddingName != null) data.add(modelJson(embeddingName));
        ctx.contentType("application/json").result(Json.write(list));
    }

    private void oneModel(Context ctx) {
        String asked = ctx.pathParam("model");
        if (!asked.equals(name) && !asked.equals(embeddingName)) throw OpenAiError.unknownModel(asked);
        ctx.contentType("application/json").result(Json.write(modelJson(asked)));
    }

    // ---- shared by the endpoints

    /** The request body as a JSON object, or a 400 in OpenAI's words. */
    static ObjectNode body(Context ctx) {
        ObjectNode cached = ctx.attribute(BODY);
        if (cached != null) return cached;
        JsonNode n;
        try {
            n = Json.MAPPER.readTree(ctx.bodyAsBytes());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw OpenAiError.invalidJson(e.getOriginalMessage());
        } catch (IOException e) {
            throw OpenAiError.invalidJson(e.getMessage());
        }
        if (n == null || n.isMissingNode()) throw OpenAiError.invalidJson("The body is empty.");
        if (!n.isObject()) throw OpenAiError.invalidJson("The body must be a JSON object.");
        ctx.attribute(BODY, n);      // parsed once: the endpoint and the request log share it
        return (ObjectNode) n;
    }

    void checkModel(String requested) {
        if (!requested.equals(name)) throw OpenAiError.unknownModel(requested);
    }

    void checkEmbeddingModel(String requested) {
        if (requested.equals(name)) throw OpenAiError.notAnEmbeddingModel(name);
        if (!requested.equals(embeddingName)) throw OpenAiError.unknownModel(requested);
    }

    /**
     * Before a generation endpoint reads its parameters: a request naming the embedding model, or any request when
     * no chat model is served, gets OpenAI's wrong-kind or unknown-model answer.
     */
    private void requireGenerative(Context ctx, String endpoint) {
        if (embedder == null) return;
        JsonNode m = body(ctx).get("model");
        String asked = m == null || !m.isTextual() ? null : m.asText();
        if (embeddingName.equals(asked)) throw OpenAiError.notAChatModel(endpoint, embeddingName);
        if (model == null) {
            if (asked == null) throw OpenAiError.badRequest("model", "you must provide a model parameter");
            throw OpenAiError.unknownModel(asked);
        }
    }

    /**
     * Completion tokens for a request: as asked (checked against the context), or what is left of the context up to
     * the default: generation_config.json's max_new_tokens, else the server's (the rule of {@link SamplingDefaults}).
     */
    int completionBudget(Integer asked, int promptTokens, String what) {
        int limit = model.contextLength();
        if (asked == null) {
            if (promptTokens >= limit) throw OpenAiError.contextTooLong(limit, promptTokens, 0, what);
            int dflt = SamplingDefaults.maxNewTokens(null, model.generationConfig(), defaultMaxTokens);
            return Math.min(dflt, limit - promptTokens);
        }
        if (promptTokens + asked > limit) throw OpenAiError.contextTooLong(limit, promptTokens, asked, what);
        return asked;
    }

    /** Waits for a scheduled result; the scheduler's own errors keep their status. */
    static <T> T await(CompletableFuture<T> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof OpenAiError oe) throw oe;
            throw OpenAiError.internal(cause.getClass().getSimpleName()
                    + (cause.getMessage() == null ? "" : ": " + cause.getMessage()));
        }
    }

    void recordEmbeddings(Context ctx, int inputs, long tokens) {
        metrics.embeddings(inputs);
        recordTokens(ctx, tokens, 0);
    }

    void recordTokens(Context ctx, long prompt, long completion) {
        metrics.tokens(prompt, completion);
        Call call = call(ctx);
        if (call != null) {
            call.promptTokens = prompt;
            call.completionTokens = completion;
        }
        ctx.attribute("distill4j.tokens", " prompt=" + prompt + " completion=" + completion);
    }

    /** A new response id with OpenAI's prefix ("chatcmpl-", "cmpl-"); the request log records it. */
    String requestId(Context ctx, String prefix) {
        String id = Wire.id(prefix);
        Call call = call(ctx);
        if (call != null) call.requestId = id;
        return id;
    }

    LocalModel model() { return model; }

    BatchScheduler scheduler() { return scheduler; }

    long createdNow() { return System.currentTimeMillis() / 1000; }

    String fingerprint() { return fingerprint; }

    /** Identifies the weights and the server version, as OpenAI's fingerprint identifies a backend configuration. */
    private static String fingerprint(LocalModel model) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(Version.VERSION.getBytes(StandardCharsets.UTF_8));
            Path config = model.dir().resolve("config.json");
            if (Files.isRegularFile(config)) sha.update(Files.readAllBytes(config));
            sha.update(Long.toString(model.parameterCount()).getBytes(StandardCharsets.UTF_8));
            return "fp_" + HexFormat.of().formatHex(sha.digest()).substring(0, 10);
        } catch (IOException | NoSuchAlgorithmException e) {
            return "fp_distill4j";
        }
    }

    @Override
    public synchronized void close() {
        if (app != null) app.stop();
        if (scheduler != null) scheduler.close();
        if (embeddings != null) embeddings.close();
        if (accounts != null) accounts.close();
        if (guardFeed != null) guardFeed.close();
        if (requestLogWriter != null) requestLogWriter.close();     // after HTTP stopped: every record is in
        if (ownsModel) model.close();
    }

    /** DJL-style builder: {@code setModel} is required, {@code opt*} are optional. */
    public static final class Builder {
        private LocalModel model;
        private boolean ownsModel;
        private String servedModelName;
        private EmbeddingModel embedder;
        private String embeddingModelName;
        private String host = "127.0.0.1";
        private int port = 8000;
        private String apiKey;
        private int maxBatch = 8;
        private int maxQueue = 256;
        private int defaultMaxTokens = 512;
        private boolean logRequests;
        private TokenListener tokenHook = TokenListener.NONE;
        private TokenChooser tokenChooser;
        private String tokenChooserDescription;
        private Path keys;
        private Duration keysPoll = Duration.ofSeconds(2);
        private Path requestLogDir;
        private RequestLog.Prompts logPrompts = RequestLog.Prompts.FULL;
        private long requestLogRotateBytes = RequestLog.DEFAULT_ROTATE_BYTES;
        private AccountGuard guard;

        private Builder() {}

        /**
         * Accounts from a key file (see {@link KeyFile}): every {@code /v1} request needs one of its keys, and each
         * account's {@code rpm}, {@code tpm} and {@code daily_tokens} limits are enforced with 429s and OpenAI's
         * {@code x-ratelimit-*} headers. The file is re-read when it changes. A bad file fails {@link #build()} with
         * an {@code InvalidInputException} naming file:line. Replaces {@link #optApiKey}.
         */
        public Builder optKeys(Path file) { this.keys = file; return this; }

        /** How often the key file is checked for changes (default 2 s). */
        public Builder optKeysPollInterval(Duration every) { this.keysPoll = every; return this; }

        /**
         * One JSON record per {@code /v1} request, written off the request path to {@code dir} and rotated into
         * gzip files (format: docs/guard.md). {@code hashPrompts} keeps only the prompts' SHA-256.
         */
        public Builder optRequestLog(Path dir, boolean hashPrompts) {
            this.requestLogDir = dir;
            this.logPrompts = hashPrompts ? RequestLog.Prompts.HASH : RequestLog.Prompts.FULL;
            return this;
        }

        /**
         * An online guard ({@code distill serve --guard POLICY}, the {@code guard} module's {@code OnlineGuard}):
         * consulted before every generation request (a blocked account gets 403 {@code account_blocked}, a
         * throttled one past its cap 429) and told about each admitted request after its response, on a background
         * thread. The account is the key file's account, or the client address without {@link #optKeys}.
         * Default: none, and nothing changes.
         */
        public Builder optGuard(AccountGuard guard) { this.guard = guard; return this; }

        /** The size past which the request log is rotated (default 64 MiB). */
        public Builder optRequestLogRotateBytes(long bytes) { this.requestLogRotateBytes = bytes; return this; }

        /** Tests only: hears every generated token on the worker thread, after it was routed to its request. */
        Builder optTokenHook(TokenListener hook) { this.tokenHook = hook; return this; }

        /** The model to serve; the caller keeps ownership and closes it after the server. */
        public Builder setModel(LocalModel model) {
            this.model = model;
            this.ownsModel = false;
            return this;
        }

        /** Loads the model folder; the server closes it. */
        public Builder setModelDir(Path dir) throws IOException {
            this.model = LocalModel.load(dir);
            this.ownsModel = true;
            return this;
        }

        /**
         * An embedding model to serve on {@code /v1/embeddings}, alone or beside the chat model; the caller keeps
         * ownership and closes it after the server. It must be safe for concurrent calls.
         */
        public Builder setEmbeddingModel(EmbeddingModel embedder) {
            this.embedder = embedder;
            return this;
        }

        /** The name clients pass as {@code model} for the embedding model; default: its {@code name()}. */
        public Builder optEmbeddingModelName(String name) { this.embeddingModelName = name; return this; }

        /** The name clients pass as {@code model}; default: the model folder's name. */
        public Builder optServedModelName(String name) { this.servedModelName = name; return this; }

        public Builder optHost(String host) { this.host = host; return this; }

        /** 0 picks a free port; {@link #start()} returns it. */
        public Builder optPort(int port) { this.port = port; return this; }

        /** Requests must carry {@code Authorization: Bearer <key>}; null (default) = no auth. */
        public Builder optApiKey(String key) { this.apiKey = key == null || key.isEmpty() ? null : key; return this; }

        /** Most sequences in the running batch, i.e. rows of one decode step (default 8). */
        public Builder optMaxBatch(int n) { this.maxBatch = n; return this; }

        /** Most sequences waiting for the model; beyond it requests get 429 (default 256). */
        public Builder optMaxQueue(int n) { this.maxQueue = n; return this; }

        /** Completion tokens when a request does not say (default 512, never past the context). */
        public Builder optDefaultMaxTokens(int n) { this.defaultMaxTokens = n; return this; }

        /**
         * Every generated token of every request (chat, completions, streamed, each of {@code n} choices, batched) is
         * picked by {@code chooser} instead of plain sampling: a text watermark from the {@code guard} module. Tokens
         * for which {@link TokenChooser#marks} holds under the request's sampling parameters are counted in
         * {@code distill4j_watermarked_tokens_total}. The served model itself is not changed (its own
         * {@code generate} keeps its chooser). Default: none, the model's generator exactly as it is.
         *
         * @param description what the chooser is, for the startup log (e.g. the scheme and the key's public id);
         *                    it must not contain a secret
         */
        public Builder optTokenChooser(TokenChooser chooser, String description) {
            this.tokenChooser = chooser;
            this.tokenChooserDescription = description == null ? "a custom token chooser" : description;
            return this;
        }

        /** One INFO line per request on logger {@code dev.distill4j.serve.requests} (never headers or keys). */
        public Builder optLogRequests(boolean on) { this.logRequests = on; return this; }

        public OpenAiServer build() {
            if (model == null && embedder == null) {
                throw new IllegalStateException("setModel, setModelDir or setEmbeddingModel is required");
            }
            if (port < 0 || port > 65535) throw new InvalidInputException("port must be 0..65535, got " + port);
            if (defaultMaxTokens < 1) throw new InvalidInputException("default max tokens must be >= 1");
            if (keys != null && apiKey != null) {
                throw new InvalidInputException("give either an API key or a key file of accounts, not both");
            }
            if (requestLogRotateBytes < 1) throw new InvalidInputException("the request log's rotation size must be >= 1");
            return new OpenAiServer(this);
        }
    }
}
