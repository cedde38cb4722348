package dev.distill4j.serve;

import dev.distill4j.model.local.LocalModel;
import static org.assertj.core.api.Assertions.assertThat;

import dev.distill4j.core.Capability;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.TokenPosition;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.teacher.Backoff;
import dev.distill4j.teacher.Budget;
import dev.distill4j.teacher.Harvester;
import dev.distill4j.teacher.RateLimiter;
import dev.distill4j.teacher.TeacherSampling;
import dev.distill4j.teacher.Teacher;
import dev.distill4j.teacher.TeacherConfig;
import dev.distill4j.teacher.Teachers;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A served local model is a TOP_K teacher over HTTP: the project's own harvester fills a run from it. */
class HarvestFromServerTest {
    @TempDir Path tmp;

    @Test
    void harvestsTopKSamplesWhoseBytesSpellTheText() throws Exception {
        Path prompts = tmp.resolve("prompts.jsonl");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            lines.add(i % 2 == 0 ? "{\"id\":\"p" + i + "\",\"prompt\":\"What is " + i + " plus " + i + "?\"}"
                    : "{\"id\":\"p" + i + "\",\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
                            + "{\"role\":\"user\",\"content\":\"Spell " + i + "\"}]}");
        }
        Files.write(prompts, lines);
        try (LocalModel model = LocalModel.load(ServerFixture.modelDir());
             OpenAiServer server = OpenAiServer.builder().setModel(model).optServedModelName("student")
                     .optApiKey(ServerFixture.KEY).optPort(0).build()) {
            int port = server.start();
            var sampling = new TeacherSampling(0.8, null, 16, false, 7L, List.of(), 5, null);
            var config = new TeacherConfig("openai", "chat", URI.create("http://127.0.0.1:" + port + "/v1"),
                    "student", "SERVE_KEY", ServerFixture.KEY, sampling, null, null);
            Path run = tmp.resolve("run");
            try (Teacher teacher = Teachers.create(config); RunStore store = RunStore.open(run)) {
                Harvester h = new Harvester(teacher, store, new Harvester.Options(prompts, 2, 8, false, true),
                        RateLimiter.unlimited(), new Budget(0, 0, null), new Backoff(2, 1));
                Harvester.Result result = h.run();
                assertThat(result.outcome()).as(String.valueOf(result.fatal())).isEqualTo(Harvester.Outcome.COMPLETE);
            }
            try (RunStore store = RunStore.openExisting(run)) {
                assertThat(store.count(SampleStatus.DONE)).isEqualTo(24);
                assertThat(store.count(SampleStatus.FAILED)).isZero();
                AtomicInteger checked = new AtomicInteger();
                store.forEachSample(SampleStatus.DONE, (prompt, sample) -> {
                    assertThat(sample.capability()).isEqualTo(Capability.topK(5));
                    assertThat(sample.tokens().size()).isEqualTo((int) sample.usage().completionTokens());
                    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                    for (TokenPosition pos : sample.tokens().positions()) {
                        assertThat(pos.alternatives()).hasSize(5);
                        assertThat(pos.tail()).isBetween(0f, 1f);
                        bytes.writeBytes(pos.chosen().bytes());
                    }
                    assertThat(bytes.toString(StandardCharsets.UTF_8)).isEqualTo(sample.text());
                    checked.incrementAndGet();
                });
                assertThat(checked.get()).isEqualTo(24);
            }
        }
    }
}
