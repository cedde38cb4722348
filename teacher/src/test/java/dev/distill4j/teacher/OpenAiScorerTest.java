package dev.distill4j.teacher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.distill4j.core.Json;
import dev.distill4j.core.TokenPosition;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The scoring client's two dialects against servers that answer in each one's exact shape: OpenAI's legacy
 * completions with {@code echo} (a BOS shown as {@code <s>}, a token that is not whole UTF-8 as
 * {@code bytes:\xe2\x80}) and vLLM's {@code prompt_logprobs} (a server that refuses echo scoring with its 400 error
 * body). distill serve's own echo scoring is exercised end to end in the cli module's OnPolicyTeacherTest.
 */
class OpenAiScorerTest {
    private HttpServer http;
    private final List<JsonNode> bodies = Collections.synchronizedList(new ArrayList<>());

    @AfterEach
    void stop() {
        if (http != null) http.stop(0);
    }

    private OpenAiScorer serve(Function<JsonNode, Answer> handler) throws IOException {
        http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        http.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        http.createContext("/v1/completions", ex -> {
            JsonNode body;
            try (InputStream in = ex.getRequestBody()) {
                body = Json.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
            bodies.add(body);
            Answer a = handler.apply(body);
            byte[] out = a.body().getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(a.status(), out.length);
            ex.getResponseBody().write(out);
            ex.close();
        });
        http.start();
        URI base = URI.create("http://127.0.0.1:" + http.getAddress().getPort());
        return new OpenAiScorer(new TeacherConfig("openai", "completions", base, "m", null, null,
                new TeacherSampling(0.0, null, 1, false, null, List.of(), 2, null), null, null));
    }

    private record Answer(int status, String body) {}

    /** OpenAI's legacy echo answer for "Hi ✓" as a Llama tokenizer cuts it: BOS, "Hi", " ", the check's 3 bytes. */
    private static final String ECHO = """
            {"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"text":"Hi ✓","index":0,
             "logprobs":{"tokens":["<s>","Hi"," ","bytes:\\\\xe2\\\\x9c","bytes:\\\\x93"],
                         "token_logprobs":[null,-1.5,-0.25,-2.0,-0.01],
                         "top_logprobs":[null,{"Hi":-1.5,"Hello":-0.7},{" ":-0.25,"!":-2.5},
                                         {"bytes:\\\\xe2\\\\x9c":-2.0," ":-1.0},{"bytes:\\\\x93":-0.01,"x":-6.0}],
                         "text_offset":[0,0,2,3,3]},
             "finish_reason":"length"}],
             "usage":{"prompt_tokens":5,"completion_tokens":0,"total_tokens":5}}
            """;

    @Test
    void echoScoresThePromptAndPositionsSpellTheTextByteForByte() throws Exception {
        try (OpenAiScorer scorer = serve(b -> new Answer(200, ECHO))) {
            OpenAiScorer.Scored s = scorer.score(OpenAiScorer.Dialect.ECHO, "Hi ✓", 2, "key-1");
            JsonNode body = bodies.getFirst();
            assertThat(Json.write(body)).isEqualTo(
                    "{\"model\":\"m\",\"prompt\":\"Hi ✓\",\"max_tokens\":0,\"echo\":true,\"logprobs\":2,\"temperature\":0.0}");
            List<TokenPosition> p = s.positions();
            // the BOS covers no bytes: position 0 is the text before the scored tokens, here nothing
            assertThat(p).hasSize(5);
            assertThat(p.get(0).chosen().bytes()).isEmpty();
            assertThat(p.get(1).chosen().token()).isEqualTo("Hi");
            assertThat(p.get(1).chosen().logprob()).isEqualTo(-1.5f);
            assertThat(p.get(1).alternatives()).extracting(a -> a.token()).containsExactly("Hi", "Hello");
            assertThat(p.get(3).chosen().bytes()).containsExactly(0xe2, 0x9c);
            assertThat(p.get(4).chosen().bytes()).containsExactly(0x93);
            assertThat(s.usage().promptTokens()).isEqualTo(5);
            StringBuilder spelled = new StringBuilder();
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            for (TokenPosition t : p) bytes.writeBytes(t.chosen().bytes());
            spelled.append(bytes.toString(StandardCharsets.UTF_8));
            assertThat(spelled.toString()).isEqualTo("Hi ✓");
        }
    }

    @Test
    void aServerThatRefusesEchoIsProbedIntoPromptLogprobs() throws Exception {
        // vLLM's 400 body, then its prompt_logprobs answer: the prompt's own token first, then the top-k
        String vllm = """
                {"id":"cmpl-2","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":" a",
                 "logprobs":null,"finish_reason":"length","stop_reason":null,
                 "prompt_logprobs":[null,
                   {"1001":{"logprob":-3.0,"rank":4,"decoded_token":"Hi"},
                    "1002":{"logprob":-0.5,"rank":1,"decoded_token":"Hello"},
                    "1003":{"logprob":-1.5,"rank":2,"decoded_token":"Hey"}},
                   {"1004":{"logprob":-0.2,"rank":1,"decoded_token":" there"},
                    "1005":{"logprob":-2.0,"rank":2,"decoded_token":"!"}}]}],
                 "usage":{"prompt_tokens":3,"total_tokens":4,"completion_tokens":1}}
                """;
        try (OpenAiScorer scorer = serve(b -> b.has("echo")
                ? new Answer(400, "{\"object\":\"error\",\"message\":\"max_tokens must be at least 1, got 0.\","
                        + "\"type\":\"BadRequestError\",\"param\":null,\"code\":400}")
                : new Answer(200, vllm))) {
            OpenAiScorer.Probe probe = scorer.probe("<s>Hi there", 2, "k");
            assertThat(probe.dialect()).isEqualTo(OpenAiScorer.Dialect.PROMPT_LOGPROBS);
            assertThat(Json.write(bodies.get(1))).isEqualTo(
                    "{\"model\":\"m\",\"prompt\":\"<s>Hi there\",\"max_tokens\":1,\"prompt_logprobs\":2,"
                            + "\"temperature\":0.0}");
            List<TokenPosition> p = probe.scored().positions();
            assertThat(p).hasSize(3);
            assertThat(new String(p.get(0).chosen().bytes(), StandardCharsets.UTF_8)).isEqualTo("<s>");
            assertThat(p.get(1).chosen().token()).isEqualTo("Hi");
            assertThat(p.get(1).chosen().logprob()).isEqualTo(-3.0f);
            assertThat(p.get(1).alternatives()).extracting(a -> a.token()).containsExactly("Hi", "Hello", "Hey");
            assertThat(p.get(1).tail()).isCloseTo((float) (1 - Math.exp(-3) - Math.exp(-0.5) - Math.exp(-1.5)),
                    within(1e-6f));
            assertThat(p.get(2).chosen().token()).isEqualTo(" there");
            assertThat(probe.usage().totalTokens()).isEqualTo(4);
        }
    }

    @Test
    void aServerThatScoresNeitherWayIsOneClearError() throws Exception {
        try (OpenAiScorer scorer = serve(b -> new Answer(200, """
                {"id":"c","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":"x",
                 "logprobs":null,"finish_reason":"length"}],"usage":{"prompt_tokens":2,"completion_tokens":1,
                 "total_tokens":3}}"""))) {
            assertThatThrownBy(() -> scorer.probe("Hi", 0, "k"))
                    .isInstanceOf(TeacherException.class)
                    .hasMessageContaining("scores no text")
                    .hasMessageContaining("echo: ")
                    .hasMessageContaining("prompt_logprobs: ");
        }
    }

    @Test
    void tokensThatDoNotSpellTheTextAreAMalformedAnswer() throws Exception {
        try (OpenAiScorer scorer = serve(b -> new Answer(200, ECHO))) {
            assertThatThrownBy(() -> scorer.score(OpenAiScorer.Dialect.ECHO, "Hi there", 0, "k"))
                    .isInstanceOf(TeacherException.class)
                    .satisfies(e -> assertThat(((TeacherException) e).kind())
                            .isEqualTo(TeacherException.Kind.MALFORMED_RESPONSE))
                    .hasMessageContaining("do not spell the text sent");
        }
    }
}
