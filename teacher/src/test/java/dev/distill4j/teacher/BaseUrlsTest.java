package dev.distill4j.teacher;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import org.junit.jupiter.api.Test;

class BaseUrlsTest {
    static String openAi(String base) { return BaseUrls.openAi(URI.create(base), "chat/completions").toString(); }

    static String anthropic(String base) { return BaseUrls.anthropicMessages(URI.create(base)).toString(); }

    @Test void openAiCompatibleRoots() {
        assertThat(openAi("http://h:8000")).isEqualTo("http://h:8000/v1/chat/completions");
        assertThat(openAi("http://h:8000/")).isEqualTo("http://h:8000/v1/chat/completions");
        assertThat(openAi("http://h:8000/v1")).isEqualTo("http://h:8000/v1/chat/completions");
        assertThat(openAi("http://h:8000/v1/")).isEqualTo("http://h:8000/v1/chat/completions");
        assertThat(openAi("https://api.openai.com/v1")).isEqualTo("https://api.openai.com/v1/chat/completions");
        assertThat(openAi("http://h:8000/v1/chat/completions")).isEqualTo("http://h:8000/v1/chat/completions");
        assertThat(openAi("https://gw.example.com/openai/v1")).isEqualTo("https://gw.example.com/openai/v1/chat/completions");
        assertThat(openAi("https://gw.example.com/api")).isEqualTo("https://gw.example.com/api/chat/completions");
        assertThat(BaseUrls.openAiRoot(URI.create("http://h:11434/v1/completions")).toString())
                .isEqualTo("http://h:11434/v1");
    }

    @Test void anthropicRoots() {
        assertThat(anthropic("https://api.anthropic.com")).isEqualTo("https://api.anthropic.com/v1/messages");
        assertThat(anthropic("https://api.anthropic.com/")).isEqualTo("https://api.anthropic.com/v1/messages");
        assertThat(anthropic("https://api.anthropic.com/v1")).isEqualTo("https://api.anthropic.com/v1/messages");
        assertThat(anthropic("https://api.anthropic.com/v1/messages")).isEqualTo("https://api.anthropic.com/v1/messages");
        assertThat(anthropic("https://proxy/anthropic")).isEqualTo("https://proxy/anthropic/v1/messages");
    }
}
