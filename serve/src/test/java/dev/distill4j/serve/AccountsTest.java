package dev.distill4j.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.RateLimitException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import dev.distill4j.model.local.LocalModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --keys}: accounts, 401s, rpm and tpm limits with OpenAI's 429 and headers, and the file's reload. */
class AccountsTest {
    static final String ACME = "sk-acme-0123456789abcdef";
    static final String BETA = "sk-beta-fedcba9876543210";
    static LocalModel model;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() throws Exception { model = LocalModel.load(ServerFixture.modelDir()); }

    @AfterAll
    static void unload() { model.close(); }

    private OpenAiServer serve(Path keys) {
        OpenAiServer s = OpenAiServer.builder().setModel(model).optServedModelName(ServerFixture.NAME).optPort(0)
                .optMaxBatch(4).optKeys(keys).optKeysPollInterval(java.time.Duration.ofMillis(100)).build();
        s.start();
        return s;
    }

    /** The official client, closable in try-with-resources. */
    record Sdk(OpenAIClient c) implements AutoCloseable {
        @Override
        public void close() { c.close(); }
    }

    private static Sdk client(int port, String key) {
        return new Sdk(OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + port + "/v1").apiKey(key)
                .maxRetries(0).build());
    }

    private static ChatCompletionCreateParams chat(String user, int maxTokens) {
        return ChatCompletionCreateParams.builder().model(ServerFixture.NAME).addUserMessage(user)
                .maxCompletionTokens(maxTokens).temperature(0.0).build();
    }

    private static String chatBody(int maxTokens) { return chatBody(maxTokens, 1); }

    private static String chatBody(int maxTokens, int n) {
        return "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":" + maxTokens
                + ",\"n\":" + n + ",\"temperature\":0}";
    }

    @Test
    void unknownOrMissingKeysGet401InOpenAisShape() throws Exception {
        Path keys = Files.writeString(tmp.resolve("keys.jsonl"), "{\"name\": \"acme\", \"key\": \"" + ACME + "\"}\n"
                + "{\"name\": \"beta\", \"key_sha256\": \"" + HexFormat.of().formatHex(KeyFile.sha256(BETA)) + "\"}\n");
        try (OpenAiServer server = serve(keys)) {
            int port = server.port();
            try (Sdk wrong = client(port, "sk-not-an-account")) {
                assertThatThrownBy(() -> wrong.c().chat().completions().create(chat("Hi", 2)))
                        .isInstanceOfSatisfying(UnauthorizedException.class, e -> {
                            assertThat(e.statusCode()).isEqualTo(401);
                            assertThat(e.code()).contains("invalid_api_key");
                            assertThat(e.type()).contains("invalid_request_error");
                        });
            }
            ServerFixture.Reply none = ServerFixture.post(port, "/v1/chat/completions", null, chatBody(2));
            assertThat(none.status()).isEqualTo(401);
            JsonNode err = Json.parse(none.body()).get("error");
            assertThat(err.get("code").asText()).isEqualTo("invalid_api_key");
            assertThat(err.get("type").asText()).isEqualTo("invalid_request_error");
            assertThat(ServerFixture.get(port, "/v1/models", "sk-nope").status()).isEqualTo(401);
            // both forms of key work; an account without limits gets no rate-limit headers
            try (Sdk acme = client(port, ACME); Sdk beta = client(port, BETA)) {
                assertThat(acme.c().chat().completions().create(chat("Hi", 2)).choices()).hasSize(1);
                assertThat(beta.c().chat().completions().create(chat("Hi", 2)).choices()).hasSize(1);
            }
            ServerFixture.Reply ok = ServerFixture.post(port, "/v1/chat/completions", ACME, chatBody(2));
            assertThat(ok.response().headers().firstValue("x-ratelimit-limit-requests")).isEmpty();
            String metrics = ServerFixture.get(port, "/metrics", null).body();
            assertThat(metrics).contains("distill4j_account_requests_total{account=\"acme\"} 2")
                    .contains("distill4j_account_requests_total{account=\"beta\"} 1")
                    .contains("distill4j_requests_rejected_total{reason=\"invalid_api_key\"} 3");
        }
    }

    @Test
    void requestsPerMinuteGive429WithHeadersAndARetryAfterThatWorks() throws Exception {
        Path keys = Files.writeString(tmp.resolve("keys.jsonl"), "{\"name\": \"acme\", \"key\": \"" + ACME
                + "\", \"rpm\": 60}\n{\"name\": \"beta\", \"key\": \"" + BETA + "\", \"rpm\": 1000}\n");
        try (OpenAiServer server = serve(keys)) {
            int port = server.port();
            ServerFixture.Reply first = ServerFixture.post(port, "/v1/chat/completions", ACME, chatBody(2));
            assertThat(first.status()).isEqualTo(200);
            var h = first.response().headers();
            assertThat(h.firstValue("x-ratelimit-limit-requests")).contains("60");
            assertThat(h.firstValue("x-ratelimit-remaining-requests")).contains("59");
            assertThat(h.firstValue("x-ratelimit-reset-requests")).hasValueSatisfying(v -> assertThat(v).matches("\\d+ms|1s"));
            // spend the minute's 60 with cheap requests (an unknown model is answered without generating)
            ServerFixture.Reply refused = null;
            for (int i = 1; i < 300 && refused == null; i++) {
                ServerFixture.Reply r = ServerFixture.post(port, "/v1/chat/completions", ACME,
                        "{\"model\":\"nope\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
                if (r.status() == 429) refused = r;
                else assertThat(r.status()).isEqualTo(404);
            }
            assertThat(refused).isNotNull();
            assertThat(Json.parse(refused.body()).at("/error/type").asText()).isEqualTo("requests");
            assertThat(refused.response().headers().firstValue("x-ratelimit-remaining-requests")).contains("0");
            RateLimitException limited = null;
            try (Sdk acme = client(port, ACME)) {
                // the bucket refills one request a second: right after a 429 the next is refused too
                for (int i = 0; i < 5 && limited == null; i++) {
                    try {
                        acme.c().chat().completions().create(chat("Hi", 2));
                    } catch (RateLimitException e) {
                        limited = e;
                    }
                }
                assertThat(limited).isNotNull();
                assertThat(limited.statusCode()).isEqualTo(429);
                assertThat(limited.type()).contains("requests");
                assertThat(limited.code()).contains("rate_limit_exceeded");
                assertThat(limited.headers().values("x-ratelimit-limit-requests")).containsExactly("60");
                assertThat(limited.headers().values("x-ratelimit-remaining-requests")).containsExactly("0");
                assertThat(limited.headers().values("x-ratelimit-reset-requests")).hasSize(1);
                long retryAfter = Long.parseLong(limited.headers().values("Retry-After").getFirst());
                assertThat(retryAfter).isBetween(1L, 2L);
                // the other account is not affected
                try (Sdk beta = client(port, BETA)) {
                    assertThat(beta.c().chat().completions().create(chat("Hi", 2)).choices()).hasSize(1);
                }
                Thread.sleep(retryAfter * 1000);
                ChatCompletion after = acme.c().chat().completions().create(chat("Hi", 2));
                assertThat(after.choices()).hasSize(1);
            }
            assertThat(ServerFixture.get(port, "/metrics", null).body())
                    .contains("distill4j_requests_rejected_total{reason=\"requests\"}");
        }
    }

    @Test
    void tokensPerMinuteReserveMaxTokensAndSettleWithUsage() throws Exception {
        Path keys = Files.writeString(tmp.resolve("keys.jsonl"), "{\"name\": \"acme\", \"key\": \"" + ACME
                + "\", \"tpm\": 120}\n");
        try (OpenAiServer server = serve(keys)) {
            int port = server.port();
            ServerFixture.Reply first = ServerFixture.post(port, "/v1/chat/completions", ACME, chatBody(8));
            assertThat(first.status()).isEqualTo(200);
            JsonNode usage = Json.parse(first.body()).get("usage");
            long used = usage.get("total_tokens").asLong();
            long prompt = usage.get("prompt_tokens").asLong();
            var h = first.response().headers();
            assertThat(h.firstValue("x-ratelimit-limit-tokens")).contains("120");
            // the header is sent at admission: the reservation (prompt + 8) was taken then
            long remaining = Long.parseLong(h.firstValue("x-ratelimit-remaining-tokens").orElseThrow());
            assertThat(remaining).isBetween(120 - prompt - 8 - 1, 120 - prompt - 8 + 2);
            assertThat(h.firstValue("x-ratelimit-reset-tokens")).isPresent();
            // more than the whole limit can never pass: 429 "too large", no Retry-After
            ServerFixture.Reply huge = ServerFixture.post(port, "/v1/chat/completions", ACME, chatBody(40, 10));
            assertThat(huge.status()).isEqualTo(429);
            JsonNode err = Json.parse(huge.body()).get("error");
            assertThat(err.get("type").asText()).isEqualTo("tokens");
            assertThat(err.get("code").asText()).isEqualTo("rate_limit_exceeded");
            assertThat(err.get("message").asText()).startsWith("Request too large");
            assertThat(huge.response().headers().firstValue("Retry-After")).isEmpty();
            // settled with the real usage: what is left is 120 - used (plus a little refill), so a request
            // reserving more than that waits, one reserving less passes
            long left = 120 - used;
            int tooMuch = (int) (left - prompt + 10);
            assertThat(tooMuch).isLessThan(model.contextLength() - (int) prompt);
            ServerFixture.Reply over = ServerFixture.post(port, "/v1/chat/completions", ACME, chatBody(tooMuch));
            assertThat(over.status()).isEqualTo(429);
            assertThat(Json.parse(over.body()).at("/error/type").asText()).isEqualTo("tokens");
            assertThat(Long.parseLong(over.response().headers().firstValue("Retry-After").orElseThrow())).isBetween(1L, 10L);
            assertThat(over.response().headers().firstValue("x-ratelimit-remaining-tokens")).isPresent();
            ServerFixture.Reply fits = ServerFixture.post(port, "/v1/chat/completions", ACME,
                    chatBody((int) (left - prompt - 20)));
            assertThat(fits.status()).isEqualTo(200);
        }
    }

    @Test
    void theKeyFileIsReloadedWhenItChangesAndABadVersionKeepsTheOldAccounts() throws Exception {
        Path keys = Files.writeString(tmp.resolve("keys.jsonl"), "{\"name\": \"acme\", \"key\": \"" + ACME + "\"}\n");
        try (OpenAiServer server = serve(keys)) {
            int port = server.port();
            assertThat(ServerFixture.post(port, "/v1/chat/completions", BETA, chatBody(2)).status()).isEqualTo(401);
            Files.writeString(keys, "{\"name\": \"acme\", \"key\": \"" + ACME + "\"}\n{\"name\": \"beta\", \"key\": \""
                    + BETA + "\"}\n");
            assertThat(eventually(port, BETA, 200)).isTrue();
            // a broken edit: the old accounts stay
            Files.writeString(keys, "{\"name\": \"acme\", \"key\": \"" + ACME + "\"}\n{\"name\": \"beta\", \"rmp\": 3}\n");
            Thread.sleep(600);
            assertThat(ServerFixture.post(port, "/v1/chat/completions", BETA, chatBody(2)).status()).isEqualTo(200);
            // removing an account takes effect too
            Files.writeString(keys, "{\"name\": \"beta\", \"key\": \"" + BETA + "\"}\n");
            assertThat(eventually(port, ACME, 401)).isTrue();
        }
    }

    @Test
    void aChangedKeyFileIsReadOnlyOnceItHasSettled() throws Exception {
        String acme = "{\"name\": \"acme\", \"key\": \"" + ACME + "\"}\n";
        Path keys = Files.writeString(tmp.resolve("settle.jsonl"), acme);
        // an hour between the poller's own looks: only the test's polls run
        try (Accounts accounts = new Accounts(keys, java.time.Duration.ofHours(1), System::currentTimeMillis)) {
            Files.writeString(keys, "");   // an in-place rewrite caught after its truncation
            accounts.poll();
            assertThat(accounts.size()).as("a version seen once is not read yet").isEqualTo(1);
            Files.writeString(keys, acme + "{\"name\": \"beta\", \"key\": \"" + BETA + "\"}\n");
            accounts.poll();
            assertThat(accounts.size()).as("changed again since the last poll").isEqualTo(1);
            accounts.poll();
            assertThat(accounts.size()).as("unchanged for a poll: read").isEqualTo(2);
            assertThat(accounts.find(BETA)).isNotNull();
            Files.writeString(keys, "");   // emptied on purpose, and left so
            accounts.poll();
            accounts.poll();
            assertThat(accounts.size()).isZero();
        }
    }

    private static boolean eventually(int port, String key, int status) throws Exception {
        for (int i = 0; i < 100; i++) {
            if (ServerFixture.post(port, "/v1/chat/completions", key, chatBody(2)).status() == status) return true;
            Thread.sleep(100);
        }
        return false;
    }

    @Test
    void badKeyFileLinesAreNamedAndNeverQuoted() throws Exception {
        Path keys = tmp.resolve("keys.jsonl");
        Files.writeString(keys, "{\"name\": \"acme\", \"key\": \"" + ACME + "\"}\n\n{\"name\": \"beta\", key: sk-secret-xyz}\n");
        assertThatThrownBy(() -> KeyFile.read(keys)).isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith(keys + ":3: not valid JSON").hasMessageNotContaining("sk-secret");
        Files.writeString(keys, "{\"name\": \"acme\", \"key\": \"" + ACME + "\", \"rmp\": 3}\n");
        assertThatThrownBy(() -> KeyFile.read(keys)).hasMessageStartingWith(keys + ":1: unknown field 'rmp'");
        Files.writeString(keys, "{\"name\": \"acme\", \"key\": \"" + ACME + "\"}\n{\"name\": \"acme\", \"key\": \"sk-2\"}\n");
        assertThatThrownBy(() -> KeyFile.read(keys)).hasMessageStartingWith(keys + ":2: the name 'acme'");
        Files.writeString(keys, "{\"name\": \"a\", \"key\": \"" + ACME + "\"}\n{\"name\": \"b\", \"key_sha256\": \""
                + HexFormat.of().formatHex(KeyFile.sha256(ACME)) + "\"}\n");
        assertThatThrownBy(() -> KeyFile.read(keys)).hasMessageStartingWith(keys + ":2: account 'b' has the same key");
        Files.writeString(keys, "{\"name\": \"a\", \"key\": \"" + ACME + "\", \"tpm\": 0}\n");
        assertThatThrownBy(() -> KeyFile.read(keys)).hasMessageStartingWith(keys + ":1: account 'a': 'tpm' must be");
        Files.writeString(keys, "{\"name\": \"a\"}\n");
        assertThatThrownBy(() -> KeyFile.read(keys)).hasMessageContaining("exactly one of 'key' and 'key_sha256'");
        Files.writeString(keys, "{\"name\": \"a\", \"key_sha256\": \"abc\"}\n");
        assertThatThrownBy(() -> KeyFile.read(keys)).hasMessageContaining("64 hex digits");
        // and at the server's start
        Files.writeString(keys, "[1]\n");
        assertThatThrownBy(() -> serve(keys)).isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith(keys + ":1:");
    }

    @Test
    void resetHeadersUseGosDurationFormat() {
        assertThat(RateLimiter.goDuration(0)).isEqualTo("0s");
        assertThat(RateLimiter.goDuration(20)).isEqualTo("20ms");
        assertThat(RateLimiter.goDuration(1000)).isEqualTo("1s");
        assertThat(RateLimiter.goDuration(1500)).isEqualTo("1.5s");
        assertThat(RateLimiter.goDuration(360_000)).isEqualTo("6m0s");
        assertThat(RateLimiter.goDuration(3_723_000)).isEqualTo("1h2m3s");
    }
}
