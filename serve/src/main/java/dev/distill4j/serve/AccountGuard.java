package dev.distill4j.serve;

/**
 * An online abuse guard consulted by {@link OpenAiServer} ({@code distill serve --guard POLICY}): it is asked at
 * admission whether an account may send a request, and told about each finished request so that it can score the
 * account's behaviour. The implementation lives outside this module (the {@code guard} module's
 * {@code OnlineGuard}); the server only needs this contract.
 *
 * <p>Threading: {@link #admit} runs on request threads, concurrently, before any work is queued for the model, and
 * must answer in microseconds (a map lookup, not a computation). {@link #observe} runs on one background thread of
 * the server's, never on a request thread or the model worker, after the response was written; it may take longer,
 * but a slow guard only drops observations (counted), it never slows serving.
 */
public interface AccountGuard {

    /** What the guard did to an account: its state, from least to most severe. */
    enum Action {
        /** Nothing seen (or the evidence no longer holds). */
        ALLOW,
        /** Logged and counted; the account is served as usual. */
        FLAG,
        /** Served under a lower requests-per-minute cap; past it, 429. */
        THROTTLE,
        /** Every request answered 403. */
        BLOCK;

        public String wireName() { return name().toLowerCase(java.util.Locale.ROOT); }
    }

    /**
     * An admission answer. {@code retryAfterMs} is set for a throttled account past its cap (when a request can pass
     * again), -1 otherwise; {@code rpm} is the cap of a throttled account (0 otherwise).
     */
    record Admission(Action action, int rpm, long retryAfterMs) {
        public static final Admission PASS = new Admission(Action.ALLOW, 0, -1);

        /** Whether the request is refused (blocked, or throttled past its cap). */
        public boolean refused() { return action == Action.BLOCK || retryAfterMs >= 0; }
    }

    /**
     * One finished request, as the guard sees it: cheap fields only (no tokens, no embeddings).
     *
     * @param timeMillis   when the request arrived (epoch ms)
     * @param account      the key file's account name, or the client address when the server has no accounts
     * @param client       the client address
     * @param endpoint     the path, e.g. {@code /v1/chat/completions}
     * @param status       the HTTP status answered
     * @param temperature  as sent; NaN when left out
     * @param n            choices asked for (1 when left out)
     * @param logprobs     whether token log-probabilities were asked for
     * @param topLogprobs  alternatives per token asked for (0 when none)
     * @param query        the last user message (chat) or the prompt (completions); null when there is none
     * @param promptTokens prompt tokens, -1 when unknown (the request failed before counting)
     * @param completionTokens generated tokens, -1 when unknown
     */
    record Request(long timeMillis, String account, String client, String endpoint, int status, double temperature,
                   int n, boolean logprobs, int topLogprobs, String query, long promptTokens, long completionTokens) {}

    /** Whether {@code account} may send a request now (called once per generation request, before its work). */
    Admission admit(String account, long nowMillis);

    /**
     * Scores a finished request of an admitted account. Returns the account's new action when this request changed
     * it (the server counts it in {@code distill4j_guard_decisions_total}; the guard logs it with its evidence),
     * null when it did not change.
     */
    Action observe(Request request);

    /** One line for the startup log: what the guard acts on. */
    default String describe() { return getClass().getSimpleName(); }
}
