package dev.distill4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.eval.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The train/eval contract and the resume rules as a user meets them: {@code distill train} with non-default example
 * settings, then {@code distill eval} with no flags; resume with a changed loss flag, extension of a finished run,
 * {@code --resume} without a checkpoint, and flags the loss would ignore.
 */
class TrainEvalContractCliTest {
    @TempDir Path tmp;

    private static String[] train(Path run, Path student, int maxSteps, String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--run", run.toString(), "--student", student.toString(),
                "--max-steps", Integer.toString(maxSteps), "--save-every", "2", "--eval-every", "0", "--batch-tokens", "256",
                "--max-seq-len", "48", "--eval-fraction", "0.4", "--token-source", "teacher", "--quiet"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void evalReadsHowTheStudentWasTrainedAndResumeKeepsTheObjective() throws Exception {
        Path run = tmp.resolve("run");
        Path start = tmp.resolve("start");
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            Path teacher = Fixtures.student(tmp.resolve("teacher"), 11, manager);
            Fixtures.student(start, 7, manager);
            List<String> ids = new ArrayList<>();
            List<String> texts = new ArrayList<>();
            List<String> answers = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                ids.add("p" + i);
                texts.add("What is " + i + " times 3?");
                answers.add(Integer.toString(3 * i));
            }
            Fixtures.run(run, teacher, Fixtures.prompts(ids, texts, answers), "http://127.0.0.1:9/v1", manager);
        }
        Path fresh = tmp.resolve("fresh");
        Files.createDirectories(fresh);
        Files.copy(run.resolve(RunStore.FILE), fresh.resolve(RunStore.FILE));

        var trained = DistillProcess.run(Map.of(), tmp.resolve("logs-train"), train(run, start, 4));
        assertThat(trained.exitCode()).as(trained.toString()).isZero();
        Path record = run.resolve("student/distill_training.json");
        assertThat(record).exists();

        // eval without flags: the recorded settings, no warning
        var eval = DistillProcess.run(Map.of(), tmp.resolve("logs-eval"), "eval", "--run", run.toString(), "--quiet");
        assertThat(eval.exitCode()).as(eval.toString()).isZero();
        assertThat(eval.stderr()).doesNotContain("warning");
        JsonNode params = Json.parse(Files.readString(run.resolve("eval/scorecard.json"))).get("parameters");
        assertThat(params.get("max_seq_len").asInt()).isEqualTo(48);
        assertThat(params.get("eval_fraction").asDouble()).isEqualTo(0.4);
        assertThat(params.get("token_source").asText()).isEqualTo("teacher");
        assertThat(params.get("example_settings_from").asText()).isEqualTo(record.toString());

        // a flag that differs from training: used, with a warning
        var differing = DistillProcess.run(Map.of(), tmp.resolve("logs-eval2"), "eval", "--run", run.toString(),
                "--max-seq-len", "64", "--quiet");
        assertThat(differing.exitCode()).as(differing.toString()).isZero();
        assertThat(differing.stderr()).contains("distill eval: warning: --max-seq-len 64 differs from the 48");

        // resume with another --alpha: refused, naming the flag and both values
        var changed = DistillProcess.run(Map.of(), tmp.resolve("logs-alpha"),
                train(run, start, 6, "--resume", "--alpha", "0.9"));
        assertThat(changed.exitCode()).as(changed.toString()).isEqualTo(1);
        assertThat(changed.stderr()).contains("--alpha 0.5 (checkpoint)").contains("--alpha 0.9 (this run)")
                .contains("--allow-changed alpha").doesNotContain("\tat ");

        // the finished run is extended, checkpoints/ kept
        var extended = DistillProcess.run(Map.of(), tmp.resolve("logs-extend"),
                train(run, start, 6, "--resume"));
        assertThat(extended.exitCode()).as(extended.toString()).isZero();
        assertThat(extended.stdout()).contains("trained 6 steps (resumed at step 4)");
        assertThat(extended.stderr()).contains("extending the run from 4 to 6 steps");

        // ... and with --allow-changed on purpose
        var allowed = DistillProcess.run(Map.of(), tmp.resolve("logs-allowed"),
                train(run, start, 8, "--resume", "--alpha", "0.9", "--allow-changed", "alpha"));
        assertThat(allowed.exitCode()).as(allowed.toString()).isZero();
        assertThat(Json.parse(Files.readString(record)).at("/runs/0/changes/0/flag").asText()).isEqualTo("--alpha");

        // --resume with nothing to resume from
        var none = DistillProcess.run(Map.of(), tmp.resolve("logs-none"), train(fresh, start, 4, "--resume"));
        assertThat(none.exitCode()).isEqualTo(1);
        assertThat(none.stderr().strip().lines().toList().getLast())
                .startsWith("distill train: error: --resume: there is no checkpoint");
        assertThat(none.stderr()).doesNotContain("\tat ");
        assertThat(fresh.resolve("metrics.jsonl")).doesNotExist();

        // flags the loss would ignore
        var beta = DistillProcess.run(Map.of(), tmp.resolve("logs-beta"), train(fresh, start, 4, "--beta", "0.5"));
        assertThat(beta.exitCode()).isEqualTo(1);
        assertThat(beta.stderr()).contains("--beta").contains("--teacher-model DIR").doesNotContain("\tat ");
        var teacherTopK = DistillProcess.run(Map.of(), tmp.resolve("logs-tk"),
                train(fresh, start, 4, "--teacher-model", tmp.resolve("teacher").toString(), "--loss", "topk"));
        assertThat(teacherTopK.exitCode()).isEqualTo(1);
        assertThat(teacherTopK.stderr()).contains("--teacher-model").contains("--loss topk").doesNotContain("\tat ");
    }
}
