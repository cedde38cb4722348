package dev.distill4j.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.completions.CompletionCreateParams;
import dev.distill4j.core.Json;
import dev.distill4j.model.local.LocalModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --request-log}: one record per request over real HTTP, its fields, hash mode, rotation, and no key leaks. */
class RequestLogTest {
    static final String ACME = "sk-acme-log-0123456789abcdef";
    static final String BETA = "sk-beta-log-fedcba9876543210";
    static final String STRANGER = "sk-stranger-555555555555";
    static LocalModel model;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() throws Exception { model = LocalModel.load(ServerFixture.modelDir()); }

    @AfterAll
    static void unload() { model.close(); }

    private Path keys() throws IOException {
        return Files.writeString(tmp.resolve("keys.jsonl"), "{\"name\": \"acme\", \"key\": \"" + ACME + "\"}\n"
                + "{\"name\": \"beta\", \"key\": \"" + BETA + "\", \"rpm\": 1}\n");
    }

    private OpenAiServer serve(Path logDir, boolean hash, long rotateBytes) throws IOException {
        OpenAiServer s = OpenAiServer.builder().setModel(model).optServedModelName(ServerFixture.NAME).optPort(0)
                .optMaxBatch(4).optKeys(keys()).optRequestLog(logDir, hash).optRequestLogRotateBytes(rotateBytes)
                .build();
        s.start();
        return s;
    }

    /** Every record of the rotated files, oldest file first. */
    static List<JsonNode> records(Path dir) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (Path gz : gzFiles(dir)) {
            try (InputStream in = new GZIPInputStream(Files.newInputStream(gz))) {
                for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                    if (!line.isBlank()) out.add(Json.parse(line));
                }
            }
        }
        return out;
    }

    static List<Path> gzFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".jsonl.gz")).sorted().toList();
        }
    }

    private static JsonNode find(List<JsonNode> records, String endpoint, int status) {
        return records.stream().filter(r -> r.get("endpoint").asText().equals(endpoint)
                && r.get("status").asInt() == status).findFirst().orElseThrow(() -> new AssertionError(
                "no " + endpoint + " " + status + " record in " + records));
    }

    @Test
    void everyRequestGetsARecordWithItsFieldsAndNoKeyIsWrittenAnywhere() throws Exception {
        Path logDir = tmp.resolve("log");
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        System.setOut(new PrintStream(tee(out, console), true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(tee(err, console), true, StandardCharsets.UTF_8));
        String chatId;
        try (OpenAiServer server = serve(logDir, false, RequestLog.DEFAULT_ROTATE_BYTES)) {
            int port = server.port();
            OpenAIClient acme = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + port + "/v1").apiKey(ACME)
                    .maxRetries(0).build();
            ChatCompletion c = acme.chat().completions().create(ChatCompletionCreateParams.builder()
                    .model(ServerFixture.NAME).addSystemMessage("Be brief.").addUserMessage("Hello there")
                    .maxCompletionTokens(6).temperature(0.7).topP(0.9).seed(42).logprobs(true).topLogprobs(5).n(2)
                    .build());
            chatId = c.id();
            acme.completions().create(CompletionCreateParams.builder().model(ServerFixture.NAME).prompt("Once upon")
                    .maxTokens(3).temperature(0.0).build());
            acme.close();
            assertThat(ServerFixture.post(port, "/v1/chat/completions", STRANGER,
                    "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"let me in\"}]}").status())
                    .isEqualTo(401);
            String body = "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":2}";
            assertThat(ServerFixture.post(port, "/v1/chat/completions", BETA, body).status()).isEqualTo(200);
            assertThat(ServerFixture.post(port, "/v1/chat/completions", BETA, body).status()).isEqualTo(429);
            Thread.sleep(1500);      // the writer flushes within a second of going idle
            List<String> current = Files.readAllLines(logDir.resolve(RequestLog.CURRENT));
            assertThat(current).hasSize(5);
            assertThat(ServerFixture.get(port, "/metrics", null).body())
                    .contains("distill4j_request_log_records_total 5").contains("distill4j_request_log_dropped_total 0");
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        // closed: flushed and rotated, nothing left uncompressed
        assertThat(logDir.resolve(RequestLog.CURRENT)).doesNotExist();
        assertThat(gzFiles(logDir)).hasSize(1).allSatisfy(p -> assertThat(p.getFileName().toString())
                .matches("requests-\\d{8}-\\d{6}\\.jsonl\\.gz"));
        List<JsonNode> records = records(logDir);
        assertThat(records).hasSize(5);

        JsonNode chat = find(records, "/v1/chat/completions", 200);
        assertThat(chat.get("time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
        assertThat(chat.get("request_id").asText()).isEqualTo(chatId);
        assertThat(chat.get("account").asText()).isEqualTo("acme");
        assertThat(chat.get("client").asText()).isEqualTo("127.0.0.1");
        assertThat(chat.get("model").asText()).isEqualTo("tiny");
        assertThat(chat.get("latency_ms").asLong()).isGreaterThanOrEqualTo(0);
        JsonNode params = chat.get("params");
        assertThat(params.get("temperature").asDouble()).isEqualTo(0.7);
        assertThat(params.get("top_p").asDouble()).isEqualTo(0.9);
        assertThat(params.get("n").asInt()).isEqualTo(2);
        assertThat(params.get("max_tokens").asInt()).isEqualTo(6);
        assertThat(params.get("logprobs").asBoolean()).isTrue();
        assertThat(params.get("top_logprobs").asInt()).isEqualTo(5);
        assertThat(params.get("seed").asLong()).isEqualTo(42);
        assertThat(params.has("stream")).isTrue();
        assertThat(chat.get("prompt_tokens").asLong()).isPositive();
        assertThat(chat.get("completion_tokens").asLong()).isBetween(2L, 12L);
        assertThat(chat.get("prompt_sha256").asText())
                .isEqualTo(HexFormat.of().formatHex(KeyFile.sha256("Be brief.\nHello there")));
        assertThat(chat.get("messages")).hasSize(2);
        assertThat(chat.at("/messages/1/content").asText()).isEqualTo("Hello there");

        JsonNode legacy = find(records, "/v1/completions", 200);
        assertThat(legacy.get("request_id").asText()).startsWith("cmpl-");
        assertThat(legacy.get("prompt").asText()).isEqualTo("Once upon");
        assertThat(legacy.get("prompt_sha256").asText()).isEqualTo(HexFormat.of().formatHex(KeyFile.sha256("Once upon")));
        assertThat(legacy.at("/params/max_tokens").asInt()).isEqualTo(3);
        assertThat(legacy.at("/params/logprobs").isNull()).isTrue();

        JsonNode denied = find(records, "/v1/chat/completions", 401);
        assertThat(denied.get("account").asText()).isEqualTo("-");
        assertThat(denied.at("/messages/0/content").asText()).isEqualTo("let me in");
        assertThat(denied.get("prompt_tokens").isNull()).isTrue();
        assertThat(denied.at("/params/temperature").isNull()).isTrue();
        JsonNode limited = find(records, "/v1/chat/completions", 429);
        assertThat(limited.get("account").asText()).isEqualTo("beta");
        assertThat(limited.get("request_id").asText()).startsWith("req_");

        // nothing of any key, nor of its hash, in the log or on the console
        String everything = Json.write(records) + console.toString(StandardCharsets.UTF_8);
        for (String key : List.of(ACME, BETA, STRANGER)) {
            assertThat(everything).doesNotContain(key).doesNotContain(key.substring(3, 15))
                    .doesNotContain(HexFormat.of().formatHex(KeyFile.sha256(key)));
        }
    }

    @Test
    void hashModeKeepsOnlyThePromptsHash() throws Exception {
        Path logDir = tmp.resolve("log");
        try (OpenAiServer server = serve(logDir, true, RequestLog.DEFAULT_ROTATE_BYTES)) {
            int port = server.port();
            assertThat(ServerFixture.post(port, "/v1/chat/completions", ACME,
                    "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\","
                            + "\"text\":\"secret \"},{\"type\":\"text\",\"text\":\"plans\"}]}],\"max_tokens\":2}")
                    .status()).isEqualTo(200);
            assertThat(ServerFixture.post(port, "/v1/completions", ACME,
                    "{\"model\":\"tiny\",\"prompt\":[\"secret a\",\"secret b\"],\"max_tokens\":1,\"logprobs\":3}")
                    .status()).isEqualTo(200);
        }
        List<JsonNode> records = records(logDir);
        assertThat(records).hasSize(2);
        assertThat(Json.write(records)).doesNotContain("secret");
        JsonNode chat = find(records, "/v1/chat/completions", 200);
        assertThat(chat.has("messages")).isFalse();
        assertThat(chat.get("prompt_sha256").asText()).isEqualTo(HexFormat.of().formatHex(KeyFile.sha256("secret plans")));
        JsonNode legacy = find(records, "/v1/completions", 200);
        assertThat(legacy.has("prompt")).isFalse();
        assertThat(legacy.get("prompt_sha256").asText())
                .isEqualTo(HexFormat.of().formatHex(KeyFile.sha256("secret a\nsecret b")));
        assertThat(legacy.at("/params/logprobs").asBoolean()).isTrue();
        assertThat(legacy.at("/params/top_logprobs").asInt()).isEqualTo(3);
    }

    @Test
    void rotationBySizeGivesReadableGzipFilesHoldingEveryRecordOnce() throws Exception {
        Path logDir = tmp.resolve("log");
        int requests = 12;
        try (OpenAiServer server = serve(logDir, false, 1500)) {
            int port = server.port();
            for (int i = 0; i < requests; i++) {
                assertThat(ServerFixture.post(port, "/v1/completions", ACME,
                        "{\"model\":\"tiny\",\"prompt\":\"request " + i + "\",\"max_tokens\":1}").status()).isEqualTo(200);
                Thread.sleep(50);
            }
        }
        List<Path> files = gzFiles(logDir);
        assertThat(files.size()).isGreaterThan(2);
        try (Stream<Path> s = Files.list(logDir)) {
            assertThat(s.map(p -> p.getFileName().toString())).allMatch(n -> n.matches("requests-\\d{8}-\\d{6}(-\\d+)?\\.jsonl\\.gz"));
        }
        List<JsonNode> records = records(logDir);
        assertThat(records).hasSize(requests);
        assertThat(records.stream().map(r -> r.get("prompt").asText()).sorted().distinct()).hasSize(requests);
    }

    @Test
    void aFileLeftByACrashIsRotatedAtStart() throws Exception {
        Path logDir = Files.createDirectories(tmp.resolve("log"));
        Files.writeString(logDir.resolve(RequestLog.CURRENT), "{\"time\":\"2026-12-05T04:00:00.000Z\"}\n");
        try (OpenAiServer server = serve(logDir, false, RequestLog.DEFAULT_ROTATE_BYTES)) {
            assertThat(gzFiles(logDir)).hasSize(1);
        }
        assertThat(records(logDir)).extracting(r -> r.get("time").asText()).containsExactly("2026-12-05T04:00:00.000Z");
    }

    private static OutputStream tee(OutputStream a, OutputStream b) {
        return new OutputStream() {
            @Override
            public void write(int x) throws IOException {
                a.write(x);
                b.write(x);
            }

            @Override
            public void write(byte[] buf, int off, int len) throws IOException {
                a.write(buf, off, len);
                b.write(buf, off, len);
            }
        };
    }
}
