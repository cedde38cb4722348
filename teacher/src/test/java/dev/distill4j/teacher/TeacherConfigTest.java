package dev.distill4j.teacher;

import static dev.distill4j.teacher.Fixtures.sampling;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TeacherConfigTest {
    @Test void defaultsPerProvider() {
        var o = new TeacherConfig("OpenAI", null, null, "gpt-4o-mini", null, null, sampling(8, 0), null, null);
        assertThat(o.provider()).isEqualTo("openai");
        assertThat(o.endpoint()).isEqualTo("chat");
        assertThat(o.baseUrl()).isEqualTo(URI.create("https://api.openai.com/v1"));
        assertThat(o.apiKeyEnv()).isEqualTo("OPENAI_API_KEY");
        assertThat(o.requestTimeout()).isEqualTo(TeacherConfig.DEFAULT_TIMEOUT);
        var a = new TeacherConfig("anthropic", null, null, "claude", null, null, sampling(8, 0), null, null);
        assertThat(a.baseUrl()).isEqualTo(URI.create("https://api.anthropic.com"));
        assertThat(a.apiKeyEnv()).isEqualTo("ANTHROPIC_API_KEY");
    }

    @Test void toStringNeverShowsTheKey() {
        var c = new TeacherConfig("openai", "chat", null, "m", "MY_KEY", "sk-secret-value", sampling(8, 0), null,
                Map.of("X-Proxy-Auth", "proxy-secret"));
        assertThat(c.toString()).doesNotContain("sk-secret-value").doesNotContain("proxy-secret")
                .contains("MY_KEY").contains("apiKey=***");
        assertThat(c.withApiKey(null).toString()).contains("apiKey=unset");
    }

    @Test void keysComeFromTheNamedVariable() {
        var local = new TeacherConfig("openai", null, URI.create("http://localhost:8000"), "m", "VLLM_KEY", null,
                sampling(8, 0), null, null);
        assertThat(local.withApiKeyFrom(Map.of("VLLM_KEY", "abc")).apiKey()).isEqualTo("abc");
        assertThat(local.withApiKeyFrom(Map.of()).apiKey()).isNull();
        var vendor = new TeacherConfig("openai", null, null, "gpt-4o", null, null, sampling(8, 0), null, null);
        assertThatThrownBy(() -> vendor.withApiKeyFrom(Map.of("OPENAI_API_KEY", " ")))
                .hasMessageContaining("$OPENAI_API_KEY is not set").hasMessageContaining("--api-key-env");
        var claude = new TeacherConfig("anthropic", null, null, "claude", null, null, sampling(8, 0), null, null);
        assertThat(claude.withApiKeyFrom(Map.of("ANTHROPIC_API_KEY", "sk-ant")).apiKey()).isEqualTo("sk-ant");
    }

    @Test void clearErrors() {
        assertThatThrownBy(() -> new TeacherConfig("gemini", null, null, "m", null, null, sampling(8, 0), null, null))
                .hasMessageContaining("unknown teacher provider 'gemini'");
        assertThatThrownBy(() -> new TeacherConfig("openai", "embed", null, "m", null, null, sampling(8, 0), null, null))
                .hasMessageContaining("use chat or completions");
        assertThatThrownBy(() -> new TeacherConfig("anthropic", "completions", null, "m", null, null, sampling(8, 0),
                null, null)).hasMessageContaining("--endpoint chat");
        assertThatThrownBy(() -> new TeacherConfig("openai", null, null, " ", null, null, sampling(8, 0), null, null))
                .hasMessageContaining("model name is required");
        assertThatThrownBy(() -> new TeacherConfig("openai", null, URI.create("localhost:8000"), "m", null, null,
                sampling(8, 0), null, null)).hasMessageContaining("not an http(s) URL");
    }

    @Test void factoryPicksTheClient() {
        try (Teacher t = Teachers.create(new TeacherConfig("openai", "completions", null, "m", null, null,
                sampling(8, 0), null, null))) {
            assertThat(t).isInstanceOf(OpenAiCompletionsTeacher.class);
        }
        try (Teacher t = Teachers.create(new TeacherConfig("openai", null, null, "m", null, null, sampling(8, 0),
                null, null))) {
            assertThat(t).isInstanceOf(OpenAiChatTeacher.class);
        }
        try (Teacher t = Teachers.create(new TeacherConfig("anthropic", null, null, "m", null, null, sampling(8, 0),
                null, null))) {
            assertThat(t).isInstanceOf(AnthropicTeacher.class);
        }
    }
}
