package dev.distill4j.teacher;

import static dev.distill4j.teacher.Fixtures.anthropic;
import static dev.distill4j.teacher.Fixtures.chat;
import static dev.distill4j.teacher.Fixtures.sampling;
import static dev.distill4j.teacher.Fixtures.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Capability;
import dev.distill4j.core.Message;
import dev.distill4j.core.Usage;
import dev.distill4j.teacher.stub.AnthropicStub;
import dev.distill4j.teacher.stub.Fault;
import dev.distill4j.teacher.stub.RecordedRequest;
import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class AnthropicTeacherTest {
    static AnthropicStub stub;

    @BeforeAll static void start() {
        stub = AnthropicStub.start().requireApiKey("sk-ant-test").models("claude-sonnet-4-5");
    }

    @AfterAll static void stop() { stub.close(); }

    private static Teacher teacher(TeacherSampling s) {
        return Teachers.create(anthropic(stub.baseUrl(), "sk-ant-test", s));
    }

    @Test void answersAndSendsTheMessagesApiBody() throws Exception {
        var s = new TeacherSampling(0.3, 0.8, 64, false, 5L, List.of("STOP"), 0, "You are terse.");
        try (Teacher t = teacher(s)) {
            assertThat(t.capability()).isEqualTo(Capability.TEXT);
            assertThat(t.provider()).isEqualTo("anthropic");
            TeacherResponse r = t.complete(chat(Message.system("Answer in English."), Message.user("hello there"),
                    Message.assistant("hi"), Message.user("say more words")));
            assertThat(r.text()).isEqualTo("say more words say more words say more");
            assertThat(r.finishReason()).isEqualTo("stop");
            assertThat(r.tokens().isEmpty()).isTrue();
            assertThat(r.usage().completionTokens()).isEqualTo(8);
            assertThat(r.requestId()).isEqualTo(AnthropicStub.requestId(stub.lastRequest().seq()));
            assertThat(r.rateLimits().limitRequests()).isEqualTo(4000);
            assertThat(r.rateLimits().remainingRequests()).isEqualTo(3999);
            // the output-token limit is the tightest of the token families the stub sends
            assertThat(r.rateLimits().remainingTokens()).isEqualTo(79_900);
            assertThat(r.rateLimits().resetTokens()).isNotNull();

            RecordedRequest req = stub.lastRequest();
            assertThat(req.path()).isEqualTo("/v1/messages");
            assertThat(req.header("x-api-key")).isEqualTo("sk-ant-test");
            assertThat(req.header("anthropic-version")).isEqualTo("2023-06-01");
            assertThat(req.header("Authorization")).isNull();
            assertThat(req.clientRequestId()).isEqualTo("chat-key-1");
            JsonNode b = req.json();
            assertThat(b.get("system").asText()).isEqualTo("You are terse.\n\nAnswer in English.");
            assertThat(b.get("messages")).hasSize(3);
            assertThat(b.get("messages").get(0).get("role").asText()).isEqualTo("user");
            assertThat(b.get("max_tokens").asInt()).isEqualTo(64);
            assertThat(b.get("temperature").asDouble()).isEqualTo(0.3);
            assertThat(b.get("top_p").asDouble()).isEqualTo(0.8);
            assertThat(b.get("stop_sequences").get(0).asText()).isEqualTo("STOP");
            assertThat(b.has("seed")).isFalse();
            assertThat(b.has("stop")).isFalse();
        }
    }

    @Test void stopReasonsAreMapped() throws Exception {
        try (Teacher t = teacher(new TeacherSampling(null, null, 2, false, null, null, 0, null))) {
            assertThat(t.complete(text("a b c")).finishReason()).isEqualTo("length");
        }
        try (Teacher t = teacher(new TeacherSampling(null, null, 20, false, null, List.of(" c"), 0, null))) {
            TeacherResponse r = t.complete(text("a b c"));
            assertThat(r.text()).isEqualTo("a b");
            assertThat(r.finishReason()).isEqualTo("stop");
        }
        assertThat(AnthropicTeacher.finishReason("refusal")).isEqualTo("content_filter");
        assertThat(AnthropicTeacher.finishReason("tool_use")).isEqualTo("tool_calls");
        assertThat(AnthropicTeacher.finishReason("end_turn")).isEqualTo("stop");
        assertThat(AnthropicTeacher.finishReason("stop_sequence")).isEqualTo("stop");
        assertThat(AnthropicTeacher.finishReason("max_tokens")).isEqualTo("length");
    }

    @Test void textBlocksAreJoinedAndCacheReadsCount() throws Exception {
        String body = """
                {"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5",
                 "content":[{"type":"thinking","thinking":"hmm","signature":"s"},{"type":"text","text":"Hello"},
                   {"type":"text","text":", world"}],
                 "stop_reason":"refusal","stop_sequence":null,
                 "usage":{"input_tokens":10,"cache_read_input_tokens":90,"cache_creation_input_tokens":5,"output_tokens":4}}
                """;
        stub.enqueue(Fault.raw(200, body));
        try (Teacher t = teacher(sampling(10, 0))) {
            TeacherResponse r = t.complete(text("x"));
            assertThat(r.text()).isEqualTo("Hello, world");
            assertThat(r.finishReason()).isEqualTo("content_filter");
            assertThat(r.usage()).isEqualTo(new Usage(105, 4, 90, 0));
        }
    }

    @Test void logprobsAreRefusedUpFront() {
        assertThatThrownBy(() -> teacher(sampling(10, 5))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no logprobs");
    }

    @Test void wrongKeyAndUnknownModel() {
        try (Teacher t = Teachers.create(anthropic(stub.baseUrl(), "bad", sampling(10, 0)))) {
            assertThatThrownBy(() -> t.complete(text("x"))).isInstanceOfSatisfying(TeacherException.class,
                    e -> assertThat(e.kind()).isEqualTo(TeacherException.Kind.AUTH))
                    .hasMessageContaining("$ANTHROPIC_API_KEY").hasMessageContaining("authentication_error");
        }
        var c = new TeacherConfig("anthropic", null, URI.create(stub.baseUrl()), "claude-0", null, "sk-ant-test",
                sampling(10, 0), null, null);
        try (Teacher t = Teachers.create(c)) {
            assertThatThrownBy(() -> t.complete(text("x"))).isInstanceOfSatisfying(TeacherException.class,
                    e -> assertThat(e.kind()).isEqualTo(TeacherException.Kind.NOT_FOUND))
                    .hasMessageContaining("unknown model 'claude-0'").hasMessageContaining("not_found_error");
        }
    }

    @Test void baseUrlWithOrWithoutV1() {
        for (String base : new String[] {stub.baseUrl(), stub.baseUrl() + "/", stub.baseUrl() + "/v1",
                stub.baseUrl() + "/v1/messages"}) {
            try (Teacher t = Teachers.create(anthropic(base, "k", sampling(4, 0)))) {
                assertThat(((HttpTeacher) t).url()).isEqualTo(URI.create(stub.baseUrl() + "/v1/messages"));
            }
        }
        try (Teacher t = new AnthropicTeacher(new TeacherConfig("anthropic", null, null, "m", null, null,
                sampling(4, 0), null, null))) {
            assertThat(((HttpTeacher) t).url()).isEqualTo(URI.create("https://api.anthropic.com/v1/messages"));
            assertThat(t.baseUrl()).isEqualTo("https://api.anthropic.com");
        }
    }
}
