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
        var first = DistillProcess.run(Map.of(), tmp.resolve("logs-1"), 300, args);
        assertThat(first.exitCode()).as(first.toString()).isZero();
        assertThat(first.stdout()).contains("scorecard").contains("held-out prompts (95 % Wilson intervals)")
                .contains("student, top-k KD").contains("student, text only").contains("arithmetic (")
                .contains("fact_lookup (")
                .contains("agreement with the teacher's tokens").contains("fewer").contains("report.html")
                .contains("reference").contains("--teacher-base-url");
        assertThat(first.stderr()).contains("training the house teacher").contains("harvesting")
                .contains("distilling the student by top-k KD").contains("text only (SFT)").contains("answered 200");

        for (String student : new String[] {"kd", "sft"}) {
            assertThat(run.resolve(student + "/student/config.json")).isRegularFile();
            assertThat(run.resolve(student + "/eval/report.html")).isRegularFile();
            assertThat(run.resolve(student + "/metrics.jsonl")).isRegularFile();
        }
        JsonNode kd = Json.parse(Files.readString(run.resolve("kd/eval/scorecard.json")));
        JsonNode sft = Json.parse(Files.readString(run.resolve("sft/eval/scorecard.json")));
        assertThat(kd.path("teacher_forced").path("top1_agreement").asDouble()).isBetween(0.0, 1.0);
        // both students are scored on the same held-out prompts, grouped by task kind with intervals
        assertThat(kd.path("split").path("prompt_ids")).isEqualTo(sft.path("split").path("prompt_ids"));
        JsonNode groups = kd.path("task_accuracy").path("groups");
        assertThat(groups.size()).isGreaterThanOrEqualTo(4);
        assertThat(groups.get(0).path("student_ci95").size()).isEqualTo(2);
        // the same initial student, steps and seed: only the loss differs
        assertThat(kd.path("student").path("parameters")).isEqualTo(sft.path("student").path("parameters"));
        String report = Files.readString(run.resolve("kd/eval/report.html"));
        assertThat(report).contains("kd loss").contains("sft loss").contains("Task accuracy by metadata.kind");
        JsonNode manifest = Json.parse(Files.readString(run.resolve("run.json")));
        assertThat(manifest.path("capability").asText()).isEqualTo("TOP_K(5)");
        long done;
        try (RunStore store = RunStore.openExisting(run)) {
            done = store.count(SampleStatus.DONE);
        }
        assertThat(done).isEqualTo(48);

        var second = DistillProcess.run(Map.of(), tmp.resolve("logs-2"), 300, args);
        assertThat(second.exitCode()).as(second.toString()).isZero();
        assertThat(second.stderr()).contains("loaded from the cache").contains("48 reused")
                .contains("kd student loaded from an earlier demo").contains("sft student loaded from an earlier demo")
                .doesNotContain("training the house teacher");
        assertThat(second.stdout()).contains("were reused");
    }

    @Test
    void halfARemoteTeacherIsAUsageError() throws Exception {
        var r = DistillProcess.run(Map.of(), tmp.resolve("logs"), "demo", "--teacher-model", "gpt-4o-mini");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.stderr()).contains("--teacher-base-url");
    }
}
