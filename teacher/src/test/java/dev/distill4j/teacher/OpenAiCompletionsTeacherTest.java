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
import dev.distill4j.core.TokenLogprob;
import dev.distill4j.core.TokenPosition;
import dev.distill4j.teacher.stub.Fault;
import dev.distill4j.teacher.stub.OpenAiStub;
import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class OpenAiCompletionsTeacherTest {
    static OpenAiStub stub;

    @BeforeAll static void start() { stub = OpenAiStub.start().requireApiKey("k"); }

    @AfterAll static void stop() { stub.close(); }

    private static Teacher teacher(TeacherSampling s) {
        return Teachers.create(openAi(stub.rootUri().toString(), "completions", "k", s));
    }

    @Test void rawTextWithLogprobs() throws Exception {
        try (Teacher t = teacher(sampling(100, 7))) {
            assertThat(t).isInstanceOf(OpenAiCompletionsTeacher.class);
            assertThat(t.capability()).isEqualTo(Capability.topK(7));
            assertThat(t.endpoint()).isEqualTo("completions");
            TeacherResponse r = t.complete(text("The quick brown fox"));
            assertThat(r.text()).isEqualTo("The quick brown fox The quick brown fox");
            assertThat(r.finishReason()).isEqualTo("stop");
            assertThat(r.tokens().size()).isEqualTo(8);
            TokenPosition p = r.tokens().positions().get(2);
            assertThat(p.chosen()).isEqualTo(TokenLogprob.of(" brown", Math.log(0.7)));
            assertThat(p.alternatives()).hasSize(7);
            assertThat(p.alternatives().getFirst().token()).isEqualTo(" brown");
            assertThat(p.alternatives().get(3).logprob()).isCloseTo((float) Math.log(0.25 / 8), within(1e-6f));
            assertThat(p.tail()).isGreaterThanOrEqualTo(0.05f);
            assertThat(r.usage().completionTokens()).isEqualTo(8);

            JsonNode b = stub.lastRequest().json();
            assertThat(stub.lastRequest().path()).isEqualTo("/v1/completions");
            assertThat(b.get("prompt").asText()).isEqualTo("The quick brown fox");
            assertThat(b.get("logprobs").asInt()).isEqualTo(7);
            assertThat(b.get("max_tokens").asInt()).isEqualTo(100);
            assertThat(b.has("messages")).isFalse();
        }
    }

    @Test void twentyLogprobsAreAllowedForCompatibleServers() throws Exception {
        try (Teacher t = teacher(sampling(4, 20))) {
            assertThat(t.complete(text("a b")).tokens().maxAlternatives()).isEqualTo(20);
        }
        assertThatThrownBy(() -> teacher(sampling(4, 21))).hasMessageContaining("at most 20");
    }

    @Test void openAiItselfAllowsFive() {
        var c = new TeacherConfig("openai", "completions", null, "gpt-3.5-turbo-instruct", null, "k",
                sampling(4, 6), null, null);
        assertThatThrownBy(() -> Teachers.create(c)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("legacy completions").hasMessageContaining("at most 5");
    }

    @Test void chatPromptsAreRefusedWithAPointerToTheChatEndpoint() {
        try (Teacher t = teacher(sampling(4, 0))) {
            var prompt = chat(Message.user("hi")).prompt();
            assertThatThrownBy(() -> t.validate(prompt)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("--endpoint chat");
            long before = stub.requestCount();
            assertThatThrownBy(() -> t.complete(chat(Message.user("hi"))))
                    .isInstanceOfSatisfying(TeacherException.class,
                            e -> assertThat(e.kind()).isEqualTo(TeacherException.Kind.BAD_REQUEST))
                    .hasMessageContaining("use --endpoint chat");
            assertThat(stub.requestCount()).isEqualTo(before);
        }
    }

    @Test void systemPromptNeedsChat() {
        var s = new TeacherSampling(null, null, 4, false, null, null, 0, "sys");
        assertThatThrownBy(() -> teacher(s)).hasMessageContaining("--endpoint chat");
    }

    @Test void byteEscapedTokensAreDecodedToTheirBytes() throws Exception {
        String body = """
                {"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"text":"é!","index":0,
                 "logprobs":{"tokens":["bytes:\\\\xc3","bytes:\\\\xa9","!"],"token_logprobs":[-0.1,-0.2,-0.3],
                   "top_logprobs":[{"bytes:\\\\xc3":-0.1,"e":-2.5},null,{"!":-0.3}],"text_offset":[0,1,1]},
                 "finish_reason":"length"}],"usage":{"prompt_tokens":2,"completion_tokens":3,"total_tokens":5}}
                """;
        stub.enqueue(Fault.raw(200, body));
        try (Teacher t = teacher(sampling(3, 2))) {
            TeacherResponse r = t.complete(text("x"));
            List<TokenPosition> p = r.tokens().positions();
            assertThat(p.get(0).chosen().bytes()).containsExactly((byte) 0xc3);
            assertThat(p.get(0).alternatives()).hasSize(2);
            assertThat(p.get(0).alternatives().get(1).token()).isEqualTo("e");
            assertThat(p.get(1).chosen().bytes()).containsExactly((byte) 0xa9);
            assertThat(p.get(1).alternatives()).isEmpty();
            assertThat(p.get(2).chosen().bytes()).containsExactly((byte) '!');
            assertThat(r.finishReason()).isEqualTo("length");
        }
    }

    @Test void mismatchedArraysAreMalformed() {
        String body = """
                {"id":"c","object":"text_completion","created":1,"model":"m","choices":[{"text":"a","index":0,
                 "logprobs":{"tokens":["a","b"],"token_logprobs":[-0.1],"top_logprobs":[{},{}]},"finish_reason":"stop"}],
                 "usage":{"prompt_tokens":1,"completion_tokens":1}}
                """;
        stub.enqueue(Fault.raw(200, body));
        try (Teacher t = teacher(sampling(3, 2))) {
            assertThatThrownBy(() -> t.complete(text("x")))
                    .isInstanceOfSatisfying(TeacherException.class,
                            e -> assertThat(e.kind()).isEqualTo(TeacherException.Kind.MALFORMED_RESPONSE))
                    .hasMessageContaining("different lengths");
        }
    }

    @Test void baseUrlWithOrWithoutV1() {
        for (String base : new String[] {stub.rootUri().toString(), stub.baseUrl(), stub.baseUrl() + "/"}) {
            try (Teacher t = Teachers.create(openAi(base, "completions", "k", sampling(4, 0)))) {
                assertThat(((HttpTeacher) t).url()).isEqualTo(URI.create(stub.baseUrl() + "/completions"));
                assertThat(t.baseUrl()).isEqualTo(stub.baseUrl());
            }
        }
    }
}
