package dev.distill4j.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.distill4j.core.Message;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.io.PromptReader;
import dev.distill4j.demo.TaskCorpus.Task;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CorpusFilesTest {
    @TempDir Path dir;

    @Test
    void promptFileReadsBackThroughThePromptReader() throws IOException {
        List<Task> tasks = TaskCorpus.tasks(9, 40, TaskCorpus.ALL_KINDS).toList();
        Path file = dir.resolve("prompts.jsonl");
        CorpusFiles.writePrompts(file, tasks);
        List<Prompt> read = new ArrayList<>();
        try (PromptReader r = PromptReader.open(file)) {
            while (r.hasNext()) {
                PromptReader.Entry e = r.next();
                assertThat(e).isInstanceOf(PromptReader.Ok.class);
                read.add(((PromptReader.Ok) e).prompt());
            }
        }
        assertThat(read).hasSize(40);
        for (int i = 0; i < 40; i++) {
            Task t = tasks.get(i);
            assertThat(read.get(i).id()).isEqualTo(t.id());
            assertThat(read.get(i).messages()).containsExactly(Message.user(t.prompt()));
            assertThat(read.get(i).metadata().path("answer").asText()).isEqualTo(t.answer());
            assertThat(read.get(i).metadata().path("kind").asText()).isEqualTo(t.kind().id());
        }
        assertThat(Files.readAllLines(file).getFirst()).startsWith("{\"id\":\"t9-0\",\"messages\":[{\"role\":\"user\"");
    }

    @Test
    void goldFileRoundTrips() throws IOException {
        List<Task> tasks = TaskCorpus.tasks(10, 40, TaskCorpus.ALL_KINDS).toList();
        Path file = dir.resolve("gold.jsonl");
        CorpusFiles.writeGold(file, tasks);
        assertThat(CorpusFiles.readGold(file)).isEqualTo(tasks);

        Files.writeString(file, "{\"id\":\"x\",\"kind\":\"arithmetic\"}\n");
        assertThatThrownBy(() -> CorpusFiles.readGold(file)).hasMessageContaining("gold.jsonl:1")
                .hasMessageContaining("\"prompt\" is missing");
    }
}
