package dev.distill4j.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.distill4j.core.Capability;
import dev.distill4j.core.Message;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.RunManifest;
import dev.distill4j.core.Sample;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.demo.TaskCorpus.Task;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GoldRunTest {
    @TempDir Path run;

    @Test
    void storesOneDoneTextSamplePerTaskWithTheResponse() throws IOException {
        List<Task> tasks = TaskCorpus.tasks(5, 50, TaskCorpus.ALL_KINDS).toList();
        assertThat(GoldRun.fill(run, tasks)).isEqualTo(50);

        RunManifest m = RunManifest.read(run);
        assertThat(m.provider()).isEqualTo("corpus");
        assertThat(m.model()).isEqualTo("gold");
        assertThat(m.capability()).isEqualTo("TEXT");
        assertThat(m.apiKeyEnv()).isNull();

        List<Map.Entry<Prompt, Sample>> rows = new ArrayList<>();
        try (RunStore store = RunStore.openExisting(run)) {
            assertThat(store.promptCount()).isEqualTo(50);
            assertThat(store.count(SampleStatus.DONE)).isEqualTo(50);
            store.forEachSample(SampleStatus.DONE, (p, s) -> rows.add(Map.entry(p, s)));
        }
        assertThat(rows).hasSize(50);
        for (int i = 0; i < 50; i++) {
            Task t = tasks.get(i);
            Prompt p = rows.get(i).getKey();
            Sample s = rows.get(i).getValue();
            assertThat(p.id()).isEqualTo(t.id());
            assertThat(p.messages()).containsExactly(Message.user(t.prompt()));
            assertThat(p.metadata().path("answer").asText()).isEqualTo(t.answer());
            assertThat(p.metadata().path("kind").asText()).isEqualTo(t.kind().id());
            assertThat(s.promptId()).isEqualTo(t.id());
            assertThat(s.sampleIndex()).isZero();
            assertThat(s.text()).isEqualTo(t.rationale());
            assertThat(s.capability()).isEqualTo(Capability.TEXT);
            assertThat(s.tokens().isEmpty()).isTrue();
            assertThat(s.finishReason()).isEqualTo("stop");
        }

        // filling again is a no-op on the rows, and keeps the run's creation time
        GoldRun.fill(run, tasks);
        try (RunStore store = RunStore.openExisting(run)) {
            assertThat(store.promptCount()).isEqualTo(50);
            assertThat(store.count(SampleStatus.DONE)).isEqualTo(50);
        }
        assertThat(RunManifest.read(run).created()).isEqualTo(m.created());
    }
}
