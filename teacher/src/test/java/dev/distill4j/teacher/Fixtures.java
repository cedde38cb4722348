package dev.distill4j.teacher;

import dev.distill4j.core.Message;
import dev.distill4j.core.Prompt;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** Small builders shared by the teacher tests. */
final class Fixtures {
    private Fixtures() {}

    static TeacherSampling sampling(int maxTokens, int topLogprobs) {
        return new TeacherSampling(0.7, 0.9, maxTokens, false, 42L, List.of(), topLogprobs, null);
    }

    static TeacherConfig openAi(String baseUrl, String endpoint, String key, TeacherSampling s) {
        return new TeacherConfig("openai", endpoint, URI.create(baseUrl), "gpt-4o-mini", "OPENAI_API_KEY", key, s,
                Duration.ofSeconds(10), Map.of());
    }

    static TeacherConfig anthropic(String baseUrl, String key, TeacherSampling s) {
        return new TeacherConfig("anthropic", "chat", URI.create(baseUrl), "claude-sonnet-4-5", "ANTHROPIC_API_KEY",
                key, s, Duration.ofSeconds(10), Map.of());
    }

    static TeacherRequest text(String text) {
        return new TeacherRequest(new Prompt("p1", text, null, null, "prompts.jsonl", 1), 0, "key-" + text.hashCode());
    }

    static TeacherRequest chat(Message... messages) {
        return new TeacherRequest(new Prompt("c1", null, List.of(messages), null, "prompts.jsonl", 2), 0, "chat-key-1");
    }
}
