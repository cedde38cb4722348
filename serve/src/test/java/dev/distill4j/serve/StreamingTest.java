package dev.distill4j.serve;

import dev.distill4j.model.local.LocalModel;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import dev.distill4j.core.TokenPosition;
import dev.distill4j.model.generate.TokenListener;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * SSE chunks leave while the model is still generating. The server's test hook holds the worker after every
 * token until the client has read that token's chunk: if chunks were written only after generation, the first
 * wait would time out (recorded, and the test fails), so the proof does not depend on timing.
 */
class StreamingTest {
    private static final long WAIT_SECONDS = 20;

    static LocalModel model;
    static OpenAiServer server;
    static int port;
    static final Semaphore chunksRead = new Semaphore(0);
    static final AtomicInteger tokensHeld = new AtomicInteger();
    static volatile boolean lockStep;
    static volatile boolean timedOut;

    @BeforeAll
    static void start() throws Exception {
        model = LocalModel.load(ServerFixture.modelDir());
        TokenListener hook = (int seq, int tokenId, String delta, TokenPosition position) -> {
            if (!lockStep || timedOut) return;
            try {
                if (chunksRead.tryAcquire(WAIT_SECONDS, TimeUnit.SECONDS)) tokensHeld.incrementAndGet();
                else timedOut = true;   // stop waiting: the client never got this token's chunk in time
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        server = ServerFixture.startWithHook(model, hook);
        port = server.port();
    }

    @AfterAll
    static void stop() {
        server.close();
        model.close();
    }

    @Test
    void eachTokensChunkArrivesBeforeTheNextTokenIsGenerated() throws Exception {
        String body = """
                {"model":"tiny","messages":[{"role":"user","content":"Stream slowly"}],"max_tokens":10,
                 "temperature":0,"logprobs":true,"stream":true,"stream_options":{"include_usage":true}}""";
        String whole = ServerFixture.post(port, "/v1/chat/completions", null, body.replace("\"stream\":true", "\"stream\":false")
                .replace(",\"stream_options\":{\"include_usage\":true}", "")).body();
        JsonNode expected = Json.MAPPER.readTree(whole);

        lockStep = true;
        List<JsonNode> chunks = new ArrayList<>();
        int tokenChunks = 0;
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<Stream<String>> r = http.send(req, HttpResponse.BodyHandlers.ofLines());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/event-stream");
            try (Stream<String> lines = r.body()) {
                for (Iterator<String> it = lines.iterator(); it.hasNext(); ) {
                    String line = it.next();
                    if (line.isEmpty()) continue;
                    assertThat(line).startsWith("data: ");
                    String data = line.substring(6);
                    if (data.equals("[DONE]")) break;
                    JsonNode chunk = Json.MAPPER.readTree(data);
                    chunks.add(chunk);
                    JsonNode choice = chunk.path("choices").path(0);
                    if (choice.path("logprobs").path("content").size() == 1) {
                        tokenChunks++;
                        chunksRead.release();       // lets the worker generate the next token
                    }
                }
            }
        } finally {
            lockStep = false;
        }
        assertThat(timedOut).as("a token's chunk did not reach the client while generation was held").isFalse();
        assertThat(tokenChunks).isEqualTo(expected.at("/usage/completion_tokens").asInt()).isGreaterThan(1);
        assertThat(tokensHeld.get()).isEqualTo(tokenChunks);

        assertThat(chunks.getFirst().at("/choices/0/delta/role").asText()).isEqualTo("assistant");
        StringBuilder text = new StringBuilder();
        String finish = null;
        for (JsonNode c : chunks) {
            for (JsonNode ch : c.path("choices")) {
                text.append(ch.path("delta").path("content").asText(""));
                if (!ch.path("finish_reason").isNull()) finish = ch.path("finish_reason").asText();
            }
        }
        assertThat(text.toString()).isEqualTo(expected.at("/choices/0/message/content").asText());
        assertThat(finish).isEqualTo(expected.at("/choices/0/finish_reason").asText());
        assertThat(chunks.getLast().path("choices")).isEmpty();
        assertThat(chunks.getLast().at("/usage/completion_tokens").asInt()).isEqualTo(tokenChunks);
    }

    @Test
    void choicesOfOneRequestStreamSideBySide() throws Exception {
        String body = """
                {"model":"tiny","messages":[{"role":"user","content":"Two ways"}],"max_tokens":8,"n":2,
                 "temperature":1.0,"seed":11,"stream":true}""";
        String sse = ServerFixture.post(port, "/v1/chat/completions", null, body).body();
        String whole = ServerFixture.post(port, "/v1/chat/completions", null, body.replace("\"stream\":true",
                "\"stream\":false")).body();
        JsonNode expected = Json.MAPPER.readTree(whole);
        StringBuilder[] text = {new StringBuilder(), new StringBuilder()};
        int finishes = 0;
        for (String line : sse.split("\n")) {
            if (!line.startsWith("data: {")) continue;
            for (JsonNode ch : Json.MAPPER.readTree(line.substring(6)).path("choices")) {
                text[ch.path("index").asInt()].append(ch.path("delta").path("content").asText(""));
                if (!ch.path("finish_reason").isNull()) finishes++;
            }
        }
        assertThat(sse.strip()).endsWith("data: [DONE]");
        assertThat(finishes).isEqualTo(2);
        for (int i = 0; i < 2; i++) {
            assertThat(text[i].toString()).isEqualTo(expected.at("/choices/" + i + "/message/content").asText());
        }
    }
}
