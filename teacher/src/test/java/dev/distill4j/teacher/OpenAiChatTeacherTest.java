package dev.distill4j.teacher;

import static dev.distill4j.teacher.Fixtures.chat;
import static dev.distill4j.teacher.Fixtures.openAi;
import static dev.distill4j.teacher.Fixtures.sampling;
import static dev.distill4j.teacher.Fixtures.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Capability;
import dev.distill4j.core.Message;
import dev.distill4j.core.TokenPosition;
import dev.distill4j.teacher.stub.Fault;
import dev.distill4j.teacher.stub.OpenAiStub;
import dev.distill4j.teacher.stub.RecordedRequest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class OpenAiChatTeacherTest {
    static OpenAiStub stub;

    @BeforeAll static void start() {
        stub = OpenAiStub.start().requireApiKey("sk-test-123456789").models("gpt-4o-mini");
    }

    @AfterAll static void stop() { stub.close(); }

    @BeforeEach void reset() {
        stub.clearFaults().resetRecords();
    }

    private Teacher teacher(TeacherSampling s) {
        return Teachers.create(openAi(stub.baseUrl(), "chat", "sk-test-123456789", s));
    }

    @Test void answersWithTopLogprobsAndSendsTheDocumentedBody() throws Exception {
        var s = new TeacherSampling(0.5, 0.95, 100, false, 7L, List.of("\n\n"), 5, "Be brief.");
        try (Teacher t = teacher(s)) {
            assertThat(t.capability()).isEqualTo(Capability.topK(5));
            assertThat(t.provider()).isEqualTo("openai");
            assertThat(t.endpoint()).isEqualTo("chat");
            assertThat(t.baseUrl()).isEqualTo(stub.baseUrl());

            TeacherResponse r = t.complete(chat(Message.user("alpha beta gamma")));

            assertThat(r.text()).isEqualTo("alpha beta gamma alpha beta gamma alpha beta");
            assertThat(r.finishReason()).isEqualTo("stop");
            assertThat(r.tokens().size()).isEqualTo(8);
            assertThat(r.tokens().maxAlternatives()).isEqualTo(5);
            TokenPosition p1 = r.tokens().positions().get(1);
            assertThat(p1.chosen().token()).isEqualTo(" beta");
            assertThat(p1.chosen().bytes()).isEqualTo(" beta".getBytes(StandardCharsets.UTF_8));
            assertThat(p1.chosen().logprob()).isCloseTo((float) Math.log(0.6), within(1e-6f));
            assertThat(p1.alternatives()).hasSize(5);
            assertThat(p1.alternatives().get(1).token()).isEqualTo(" <alt1>");
            assertThat(p1.tail()).isGreaterThan(0.05f).isLessThan(1f);
            assertThat(r.usage().promptTokens()).isPositive();
            assertThat(r.usage().completionTokens()).isEqualTo(8);
            assertThat(r.requestId()).isEqualTo(OpenAiStub.requestId(stub.lastRequest().seq()));
            assertThat(r.latencyMs()).isGreaterThanOrEqualTo(0);
            assertThat(r.rateLimits().remainingRequests()).isEqualTo(9999);
            assertThat(r.rateLimits().resetRequests()).hasMillis(6);

            RecordedRequest req = stub.lastRequest();
            assertThat(req.path()).isEqualTo("/v1/chat/completions");
            assertThat(req.header("Authorization")).isEqualTo("Bearer sk-test-123456789");
            assertThat(req.clientRequestId()).isEqualTo("chat-key-1");
            JsonNode b = req.json();
            assertThat(b.get("model").asText()).isEqualTo("gpt-4o-mini");
            assertThat(b.get("messages").get(0).get("role").asText()).isEqualTo("system");
            assertThat(b.get("messages").get(0).get("content").asText()).isEqualTo("Be brief.");
            assertThat(b.get("messages").get(1).get("content").asText()).isEqualTo("alpha beta gamma");
            assertThat(b.get("temperature").asDouble()).isEqualTo(0.5);
            assertThat(b.get("top_p").asDouble()).isEqualTo(0.95);
            assertThat(b.get("max_tokens").asInt()).isEqualTo(100);
            assertThat(b.get("seed").asLong()).isEqualTo(7);
            assertThat(b.get("stop").get(0).asText()).isEqualTo("\n\n");
            assertThat(b.get("n").asInt()).isEqualTo(1);
            assertThat(b.get("logprobs").asBoolean()).isTrue();
            assertThat(b.get("top_logprobs").asInt()).isEqualTo(5);
        }
    }

    @Test void textOnlyWhenNoLogprobsAreAskedFor() throws Exception {
        var s = new TeacherSampling(null, null, 3, true, null, null, 0, null);
        try (Teacher t = teacher(s)) {
            assertThat(t.capability()).isEqualTo(Capability.TEXT);
            TeacherResponse r = t.complete(text("one two three four"));
            assertThat(r.text()).isEqualTo("one two three");
            assertThat(r.finishReason()).isEqualTo("length");
            assertThat(r.tokens().isEmpty()).isTrue();
            JsonNode b = stub.lastRequest().json();
            assertThat(b.has("max_completion_tokens")).isTrue();
            assertThat(b.has("max_tokens")).isFalse();
            assertThat(b.has("logprobs")).isFalse();
            assertThat(b.has("temperature")).isFalse();
            assertThat(b.get("messages")).hasSize(1);
        }
    }

    @Test void eachSampleOfAPromptGetsItsOwnSeed() throws Exception {
        try (Teacher t = teacher(sampling(10, 0))) {
            var first = text("x");
            t.complete(first);
            assertThat(stub.lastRequest().json().get("seed").asLong()).isEqualTo(42);
            t.complete(new TeacherRequest(first.prompt(), 3, "k3"));
            assertThat(stub.lastRequest().json().get("seed").asLong()).isEqualTo(45);
        }
    }

    @Test void stopSequencesEndTheAnswer() throws Exception {
        var s = new TeacherSampling(null, null, 50, false, null, List.of(" gamma"), 2, null);
        try (Teacher t = teacher(s)) {
            TeacherResponse r = t.complete(text("alpha beta gamma"));
            assertThat(r.text()).isEqualTo("alpha beta");
            assertThat(r.finishReason()).isEqualTo("stop");
            assertThat(r.tokens().size()).isEqualTo(2);
        }
    }

    @Test void tooManyTopLogprobsIsAClearError() {
        assertThatThrownBy(() -> teacher(sampling(10, 21)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--top-logprobs 21").hasMessageContaining("at most 20");
    }

    @Test void wrongKeyIsAuthAndNamesTheVariable() {
        try (Teacher t = Teachers.create(openAi(stub.baseUrl(), "chat", "sk-wrong-000000000", sampling(10, 0)))) {
            assertThatThrownBy(() -> t.complete(text("hi")))
                    .isInstanceOfSatisfying(TeacherException.class, e -> {
                        assertThat(e.kind()).isEqualTo(TeacherException.Kind.AUTH);
                        assertThat(e.status()).isEqualTo(401);
                        assertThat(e.kind().fatal()).isTrue();
                    })
                    .hasMessageStartingWith("the teacher rejected the API key from $OPENAI_API_KEY (401): ")
                    .hasMessageContaining("Incorrect API key provided")
                    .hasMessageContaining("invalid_api_key")
                    .hasMessageNotContaining("sk-wrong-000000000");
        }
    }

    @Test void missingKeySaysTheVariableIsUnset() {
        try (Teacher t = Teachers.create(openAi(stub.baseUrl(), "chat", null, sampling(10, 0)))) {
            assertThatThrownBy(() -> t.complete(text("hi")))
                    .isInstanceOfSatisfying(TeacherException.class,
                            e -> assertThat(e.kind()).isEqualTo(TeacherException.Kind.AUTH))
                    .hasMessageContaining("$OPENAI_API_KEY is not set");
            assertThat(stub.lastRequest().header("Authorization")).isNull();
        }
    }

    @Test void unknownModelIsNotFound() {
        var c = new TeacherConfig("openai", "chat", java.net.URI.create(stub.baseUrl()), "gpt-9", null,
                "sk-test-123456789", sampling(10, 0), null, null);
        try (Teacher t = Teachers.create(c)) {
            assertThatThrownBy(() -> t.complete(text("hi")))
                    .isInstanceOfSatisfying(TeacherException.class, e -> {
                        assertThat(e.kind()).isEqualTo(TeacherException.Kind.NOT_FOUND);
                        assertThat(e.bodyExcerpt()).contains("model_not_found");
                        assertThat(e.requestId()).startsWith("req_");
                    })
                    .hasMessageContaining("unknown model 'gpt-9' or endpoint at " + stub.baseUrl() + "/chat/completions")
                    .hasMessageContaining("does not exist");
        }
    }

    @Test void refusalIsRecordedAsContentFilter() throws Exception {
        String body = """
                {"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini",
                 "choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"I can't"},
                   "logprobs":{"content":null,"refusal":[
                     {"token":"I","logprob":-0.1,"bytes":[73],"top_logprobs":[{"token":"I","logprob":-0.1,"bytes":[73]}]},
                     {"token":" can't","logprob":-0.2,"bytes":null,"top_logprobs":[]}]},
                   "finish_reason":"stop"}],
                 "usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7,
                   "prompt_tokens_details":{"cached_tokens":3},"completion_tokens_details":{"reasoning_tokens":1}}}
                """;
        stub.enqueue(Fault.raw(200, body));
        try (Teacher t = teacher(sampling(10, 1))) {
            TeacherResponse r = t.complete(text("hi"));
            assertThat(r.text()).isEqualTo("I can't");
            assertThat(r.finishReason()).isEqualTo("content_filter");
            assertThat(r.tokens().size()).isEqualTo(2);
            assertThat(r.tokens().positions().get(1).chosen().bytes())
                    .isEqualTo(" can't".getBytes(StandardCharsets.UTF_8));
            assertThat(r.usage().cachedPromptTokens()).isEqualTo(3);
            assertThat(r.usage().reasoningTokens()).isEqualTo(1);
        }
    }

    @Test void bytesOfAPartialCharacterAreKept() throws Exception {
        String body = """
                {"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,
                 "message":{"role":"assistant","content":"é"},"logprobs":{"content":[
                   {"token":"\\\\xc3","logprob":-0.5,"bytes":[195],"top_logprobs":[]},
                   {"token":"\\\\xa9","logprob":-0.25,"bytes":[169],"top_logprobs":[]}]},"finish_reason":"stop"}],
                 "usage":{"prompt_tokens":1,"completion_tokens":2}}
                """;
        stub.enqueue(Fault.raw(200, body));
        try (Teacher t = teacher(sampling(10, 1))) {
            TeacherResponse r = t.complete(text("hi"));
            assertThat(r.tokens().positions().get(0).chosen().bytes()).containsExactly((byte) 0xc3);
            assertThat(r.tokens().positions().get(1).chosen().bytes()).containsExactly((byte) 0xa9);
            assertThat(r.tokens().positions().get(0).tail()).isEqualTo(1f);
        }
    }

    @Test void aServerThatIgnoresLogprobsGivesAClearMalformedError() {
        String body = """
                {"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,
                 "message":{"role":"assistant","content":"hello"},"finish_reason":"stop"}],
                 "usage":{"prompt_tokens":1,"completion_tokens":1}}
                """;
        stub.enqueue(Fault.raw(200, body));
        try (Teacher t = teacher(sampling(10, 3))) {
            assertThatThrownBy(() -> t.complete(text("hi")))
                    .isInstanceOfSatisfying(TeacherException.class,
                            e -> assertThat(e.kind()).isEqualTo(TeacherException.Kind.MALFORMED_RESPONSE))
                    .hasMessageContaining("lacks choices[0].logprobs.content")
                    .hasMessageContaining("drop --top-logprobs");
        }
    }
}
