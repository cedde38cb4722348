package dev.distill4j.guard.scan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.distill4j.serve.OpenAiServer;
import dev.distill4j.serve.TinyModel;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scanner reads what {@code distill serve --keys … --request-log …} writes: records of real requests over HTTP
 * (chat, legacy completions, a 401), after the log is rotated to gzip at shutdown, parse without a malformed line,
 * with their accounts, sampling parameters and query texts.
 */
class ServedLogTest {
    @TempDir Path tmp;

    @Test
    void theServersRequestLogIsReadByTheScanner() throws Exception {
        Path keys = tmp.resolve("keys.jsonl");
        Files.writeString(keys, "{\"name\": \"acme\", \"key\": \"sk-acme-1\"}\n{\"name\": \"hydra-1\", \"key\": "
                + "\"sk-hydra-1\"}\n");
        Path log = tmp.resolve("log");
        try (OpenAiServer server = OpenAiServer.builder().setModelDir(TinyModel.write(tmp.resolve("tiny")))
                .optServedModelName("tiny").optPort(0).optKeys(keys).optRequestLog(log, false).build();
             HttpClient http = HttpClient.newHttpClient()) {
            String base = "http://127.0.0.1:" + server.start() + "/v1";
            assertThat(post(http, base + "/chat/completions", "sk-acme-1", "{\"model\": \"tiny\", \"messages\": "
                    + "[{\"role\": \"user\", \"content\": \"What is the boiling point of water?\"}], "
                    + "\"max_tokens\": 4, \"temperature\": 0, \"logprobs\": true, \"top_logprobs\": 3}")).isEqualTo(200);
            assertThat(post(http, base + "/completions", "sk-hydra-1", "{\"model\": \"tiny\", \"prompt\": "
                    + "\"Explain step by step: 12 + 30\", \"max_tokens\": 4, \"n\": 2}")).isEqualTo(200);
            assertThat(post(http, base + "/chat/completions", "sk-wrong", "{\"model\": \"tiny\", \"messages\": "
                    + "[{\"role\": \"user\", \"content\": \"hi\"}]}")).isEqualTo(401);
        }
        LogReader.Result r = LogReader.read(log);
        assertThat(r.malformed()).isEmpty();
        assertThat(r.files()).allMatch(f -> f.getFileName().toString().endsWith(".jsonl.gz"));
        Map<String, LogRecord> byAccount = r.records().stream()
                .filter(x -> x.status() == 200).collect(Collectors.toMap(LogRecord::account, Function.identity()));
        LogRecord chat = byAccount.get("acme");
        assertThat(chat.endpoint()).isEqualTo("/v1/chat/completions");
        assertThat(chat.query()).isEqualTo("What is the boiling point of water?");
        assertThat(chat.temperature()).isEqualTo(0.0);
        assertThat(chat.logprobs()).isTrue();
        assertThat(chat.topLogprobs()).isEqualTo(3);
        assertThat(chat.completionTokens()).isPositive();
        LogRecord completion = byAccount.get("hydra-1");
        assertThat(completion.query()).isEqualTo("Explain step by step: 12 + 30");
        assertThat(completion.n()).isEqualTo(2);
        List<LogRecord> refused = r.records().stream().filter(x -> x.status() == 401).toList();
        assertThat(refused).hasSize(1);
        assertThat(r.records()).hasSize(3);
    }

    private static int post(HttpClient http, String url, String key, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode();
    }
}
