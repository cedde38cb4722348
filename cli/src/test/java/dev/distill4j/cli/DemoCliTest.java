package dev.distill4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.store.RunStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code distill demo} end to end with the smoke profile (tiny corpus and models): every stage runs for real — corpus,
 * house teacher training, serving it over HTTP, harvest with top-5 logprobs, top-k KD, eval, serving the student —
 * and a second run reuses the cached teacher and the stored samples.
 */
class DemoCliTest {
    @TempDir Path tmp;

    @Test
    void smokeDemoRunsEveryStageAndReusesItsCache() throws Exception {
        Path cache = tmp.resolve("cache");
        Path run = tmp.resolve("run");
        String[] args = {"demo", "--profile", "smoke", "--cache-dir", cache.toString(), "--run", run.toString(),
                "--quiet"};
        var first = DistillProcess.run(Map.of(), tmp.resolve("logs-1"), args);
        assertThat(first.exitCode()).as(first.toString()).isZero();
        assertThat(first.stdout()).contains("scorecard").contains("accuracy vs ground truth")
                .contains("agreement with the teacher").contains("smaller").contains("report.html")
                .contains("--teacher-base-url");
        assertThat(first.stderr()).contains("training the house teacher").contains("harvesting")
                .contains("distilling the student").contains("answered 200");

        assertThat(run.resolve("student/config.json")).isRegularFile();
        assertThat(run.resolve("eval/report.html")).isRegularFile();
        JsonNode card = Json.parse(Files.readString(run.resolve("eval/scorecard.json")));
        assertThat(card.path("teacher_forced").path("top1_agreement").asDouble()).isBetween(0.0, 1.0);
        JsonNode manifest = Json.parse(Files.readString(run.resolve("run.json")));
        assertThat(manifest.path("capability").asText()).isEqualTo("TOP_K(5)");
        long done;
        try (RunStore store = RunStore.openExisting(run)) {
            done = store.count(SampleStatus.DONE);
        }
        assertThat(done).isEqualTo(24);

        var second = DistillProcess.run(Map.of(), tmp.resolve("logs-2"), args);
        assertThat(second.exitCode()).as(second.toString()).isZero();
        assertThat(second.stderr()).contains("loaded from the cache").contains("24 reused")
                .doesNotContain("training the house teacher");
    }

    @Test
    void halfARemoteTeacherIsAUsageError() throws Exception {
        var r = DistillProcess.run(Map.of(), tmp.resolve("logs"), "demo", "--teacher-model", "gpt-4o-mini");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.stderr()).contains("--teacher-base-url");
    }
}
