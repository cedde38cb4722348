package dev.distill4j.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.train.data.ExampleBuilder.PromptFormat;
import dev.distill4j.train.data.ExampleBuilder.TokenSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --resume} never silently changes what is trained, and the student folder says how it was trained: real
 * checkpoints of tiny models, resumed with changed flags.
 */
class ResumeContractTest {
    @TempDir static Path tmp;
    static Path teacher;
    static Path run;
    static Path student;

    @BeforeAll
    static void fixture() throws IOException {
        teacher = TinyModels.saveTeacher(tmp.resolve("teacher"), TinyModels.llama(16, 1, 2, 0.2), 3, 2.5f);
        run = TinyModels.harvest(tmp.resolve("run"), teacher, 12, 8, 2);
        student = TinyModels.save(tmp.resolve("student"), TinyModels.llama(16, 1, 2, 0.02), 4);
    }

    private static TrainConfig.Builder topK(Path runDir) {
        return TrainConfig.builder().setRunDir(runDir).setStudentDir(student).optLoss(LossMode.TOPK).optMaxSteps(6)
                .optBatchTokens(128).optSaveEvery(4).optEvalEvery(0).optEvalFraction(0.25).optLr(1e-3)
                .optMaxSeqLen(40).optTokenSource(TokenSource.TEACHER);
    }

    private static TrainConfig.Builder full(Path runDir) {
        return TrainConfig.builder().setRunDir(runDir).setStudentDir(student).optTeacherModelDir(teacher)
                .optBeta(0.5).optMaxSteps(6).optBatchTokens(128).optSaveEvery(4).optEvalEvery(0)
                .optEvalFraction(0.25).optLr(1e-3);
    }

    /** Stops training right after the given step, as a crash would. */
    private record CrashAfter(long step) implements TrainListener {
        @Override public void onStep(Trainer.StepMetrics m) {
            if (m.step() == step) throw new IllegalStateException("simulated crash after step " + step);
        }
    }

    /** A copy of the run that crashed after step 5, with its checkpoint at step 4. */
    private static Path crashed(String name, TrainConfig.Builder config) throws IOException {
        Path dir = TinyModels.copyRun(run, tmp.resolve(name));
        assertThatThrownBy(() -> Trainer.run(config.setRunDir(dir).build(), new CrashAfter(5)))
                .hasMessageContaining("simulated crash");
        assertThat(TrainerCheckpoint.list(dir.resolve("checkpoints"))).extracting(p -> p.getFileName().toString())
                .containsExactly("step-4");
        return dir;
    }

    private static JsonNode record(Path dir) throws IOException {
        return Json.parse(Files.readString(dir.resolve(TrainingRecord.FILE)));
    }

    @Test
    void studentFolderRecordsHowItWasTrained() throws IOException {
        Path dir = TinyModels.copyRun(run, tmp.resolve("recorded"));
        Trainer.run(topK(dir).build(), null);
        JsonNode r = record(dir.resolve("student"));
        assertThat(r.get("format").asInt()).isEqualTo(1);
        assertThat(r.get("runs")).hasSize(1);
        JsonNode t = r.at("/runs/0");
        assertThat(t.get("run").asText()).isEqualTo(dir.toAbsolutePath().normalize().toString());
        assertThat(t.get("started_from").asText()).isEqualTo(student.toAbsolutePath().normalize().toString());
        assertThat(t.at("/examples/max_seq_len").asInt()).isEqualTo(40);
        assertThat(t.at("/examples/eval_fraction").asDouble()).isEqualTo(0.25);
        assertThat(t.at("/examples/prompt_format").asText()).as("auto, resolved: the student has a template")
                .isEqualTo("CHAT");
        assertThat(t.at("/examples/token_source").asText()).isEqualTo("TEACHER");
        assertThat(t.at("/objective/loss").asText()).isEqualTo("TOPK");
        assertThat(t.at("/objective/alpha").asDouble()).isEqualTo(0.5);
        assertThat(t.at("/objective/temperature").asDouble()).isEqualTo(1.0);
        assertThat(t.at("/objective/beta").isNull()).isTrue();
        assertThat(t.at("/schedule/total_steps").asLong()).isEqualTo(6);
        assertThat(t.at("/schedule/lr").asDouble()).isEqualTo(1e-3);
        assertThat(t.get("steps").asLong()).isEqualTo(6);
        assertThat(t.get("tokens").asLong()).isPositive();
        assertThat(t.get("resumed_at")).isEmpty();
        // the last step is checkpointed too (6 is not a multiple of --save-every 4), with the record so far
        assertThat(TrainerCheckpoint.list(dir.resolve("checkpoints"))).extracting(p -> p.getFileName().toString())
                .containsExactly("step-6", "step-4");
        assertThat(record(dir.resolve("checkpoints/step-4")).at("/runs/0/steps").asLong()).isEqualTo(4);
        assertThat(TrainerCheckpoint.verify(dir.resolve("checkpoints/step-6"))).isNull();
        // it reads back as a record, and a student trained from this student inherits its training
        assertThat(TrainingRecord.read(dir.resolve("student")).orElseThrow().last().examples().promptFormat())
                .isEqualTo(PromptFormat.CHAT);
        Path second = TinyModels.copyRun(run, tmp.resolve("second-stage"));
        Trainer.run(topK(second).setStudentDir(dir.resolve("student")).optMaxSteps(2).build(), null);
        JsonNode chained = record(second.resolve("student"));
        assertThat(chained.get("runs")).hasSize(2);
        assertThat(chained.at("/runs/0/run").asText()).isEqualTo(t.get("run").asText());
        assertThat(chained.at("/runs/1/started_from").asText())
                .isEqualTo(dir.resolve("student").toAbsolutePath().normalize().toString());
    }

    @Test
    void resumeRefusesEveryObjectiveChangeNamingTheFlagAndBothValues() throws IOException {
        Path dir = crashed("objective-topk", topK(null));
        record Case(String flag, String then, String now, UnaryOperator<TrainConfig.Builder> change) {}
        List<Case> cases = List.of(
                new Case("--loss", "topk", "sft", b -> b.optLoss(LossMode.SFT)),
                new Case("--alpha", "0.5", "0.8", b -> b.optAlpha(0.8)),
                new Case("--temperature", "1.0", "2.0", b -> b.optTemperature(2.0)),
                new Case("--weight-decay", "0.0", "0.1", b -> b.optWeightDecay(0.1)),
                new Case("--max-grad-norm", "1.0", "0.5", b -> b.optMaxGradNorm(0.5)));
        for (Case c : cases) {
            assertThatThrownBy(() -> Trainer.run(c.change().apply(topK(dir).optResume(true)).build(), null))
                    .as(c.flag()).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(c.flag() + " " + c.then() + " (checkpoint)")
                    .hasMessageContaining(c.flag() + " " + c.now() + " (this run)")
                    .hasMessageContaining("--allow-changed " + c.flag().substring(2));
        }
        // the examples' tokens are not an objective: no --allow-changed for them
        assertThatThrownBy(() -> Trainer.run(topK(dir).optResume(true).optTokenSource(TokenSource.STUDENT)
                .optAllowChanged(Set.of("alpha")).build(), null))
                .hasMessageContaining("--token-source teacher").hasMessageContaining("--token-source student");

        Path fullDir = crashed("objective-full", full(null));
        Path otherTeacher = tmp.resolve("teacher-copy");
        if (!Files.exists(otherTeacher)) {
            Files.createDirectories(otherTeacher);
            try (var files = Files.list(teacher)) {
                for (Path f : files.toList()) Files.copy(f, otherTeacher.resolve(f.getFileName()));
            }
        }
        List<Case> fullCases = List.of(
                new Case("--beta", "0.5", "1.0", b -> b.optBeta(1.0)),
                new Case("--on-policy-fraction", "0.0", "0.5", b -> b.optOnPolicyFraction(0.5)),
                new Case("--teacher-model", teacher.toAbsolutePath().normalize().toString(),
                        otherTeacher.toAbsolutePath().normalize().toString(), b -> b.optTeacherModelDir(otherTeacher)));
        for (Case c : fullCases) {
            assertThatThrownBy(() -> Trainer.run(c.change().apply(full(fullDir).optResume(true)).build(), null))
                    .as(c.flag()).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(c.flag() + " " + c.then() + " (checkpoint)")
                    .hasMessageContaining(c.flag() + " " + c.now() + " (this run)");
        }
        // two changes at once: both named
        assertThatThrownBy(() -> Trainer.run(full(fullDir).optResume(true).optBeta(0.0).optAlpha(0.9).build(), null))
                .hasMessageContaining("--alpha 0.5 (checkpoint)").hasMessageContaining("--beta 0.5 (checkpoint)")
                .hasMessageContaining("--allow-changed alpha --allow-changed beta");
    }

    @Test
    void allowChangedResumesAndRecordsTheChange() throws IOException {
        Path dir = crashed("allowed", topK(null));
        List<String> warnings = new ArrayList<>();
        TrainSummary s = Trainer.run(topK(dir).optResume(true).optAlpha(0.8).optAllowChanged(Set.of("--alpha"))
                .build(), new TrainListener() {
                    @Override public void onWarning(String message) { warnings.add(message); }
                });
        assertThat(s.resumedFromStep()).isEqualTo(4);
        assertThat(s.steps()).isEqualTo(6);
        assertThat(warnings).anySatisfy(w -> assertThat(w).contains("--alpha 0.5 → 0.8").contains("step 4"));
        JsonNode t = record(dir.resolve("student")).at("/runs/0");
        assertThat(t.at("/objective/alpha").asDouble()).isEqualTo(0.8);
        assertThat(t.get("resumed_at").toString()).isEqualTo("[4]");
        assertThat(t.get("changes").toString())
                .isEqualTo("[{\"step\":4,\"flag\":\"--alpha\",\"from\":\"0.5\",\"to\":\"0.8\"}]");
        assertThat(t.get("steps").asLong()).isEqualTo(6);
    }

    @Test
    void checkpointWithoutARecordResumesWithAWarning() throws IOException {
        Path dir = crashed("old-checkpoint", topK(null));
        // as an older distill4j wrote it: no record, and none listed in checksums.json
        Path checkpoint = dir.resolve("checkpoints/step-4");
        Files.delete(checkpoint.resolve(TrainingRecord.FILE));
        ObjectNode sums = (ObjectNode) Json.parse(Files.readString(checkpoint.resolve(TrainerCheckpoint.CHECKSUMS_FILE)));
        sums.remove(TrainingRecord.FILE);
        Files.writeString(checkpoint.resolve(TrainerCheckpoint.CHECKSUMS_FILE), Json.writePretty(sums));
        assertThat(TrainerCheckpoint.verify(checkpoint)).isNull();

        List<String> warnings = new ArrayList<>();
        TrainSummary s = Trainer.run(topK(dir).optResume(true).build(), new TrainListener() {
            @Override public void onWarning(String message) { warnings.add(message); }
        });
        assertThat(s.resumedFromStep()).isEqualTo(4);
        assertThat(warnings).anySatisfy(w -> assertThat(w).contains("has no " + TrainingRecord.FILE)
                .contains("cannot be compared"));
        JsonNode t = record(dir.resolve("student")).at("/runs/0");
        assertThat(t.get("resumed_at").toString()).isEqualTo("[4]");
        assertThat(t.get("steps").asLong()).isEqualTo(6);
    }

    @Test
    void finishedRunIsExtendedWithALargerMaxSteps() throws IOException {
        Path dir = TinyModels.copyRun(run, tmp.resolve("extended"));
        Trainer.run(topK(dir).build(), null);
        long lines = Metrics.read(dir.resolve("metrics.jsonl")).size();

        // the same length again: nothing to train, the student is saved again, metrics.jsonl is unchanged
        List<Long> starts = new ArrayList<>();
        TrainListener startsListener = new TrainListener() {
            @Override public void onStart(Trainer.Plan plan) { starts.add(plan.startStep()); }
        };
        TrainSummary again = Trainer.run(topK(dir).optResume(true).build(), startsListener);
        assertThat(starts).containsExactly(6L);
        assertThat(again.steps()).isEqualTo(6);
        assertThat(Double.isFinite(again.evalLoss())).isTrue();
        assertThat(Metrics.read(dir.resolve("metrics.jsonl"))).hasSize((int) lines);

        assertThatThrownBy(() -> Trainer.run(topK(dir).optResume(true).optMaxSteps(5).build(), null))
                .hasMessageContaining("planned for 6 steps").hasMessageContaining("not shortened");

        List<String> warnings = new ArrayList<>();
        TrainSummary s = Trainer.run(topK(dir).optResume(true).optMaxSteps(10).build(), new TrainListener() {
            @Override public void onWarning(String message) { warnings.add(message); }
        });
        assertThat(s.resumedFromStep()).isEqualTo(6);
        assertThat(s.steps()).isEqualTo(10);
        assertThat(warnings).anySatisfy(w -> assertThat(w).contains("extending the run from 6 to 10 steps"));
        List<ObjectNode> metrics = Metrics.read(dir.resolve("metrics.jsonl"));
        assertThat(metrics.stream().filter(l -> l.has("loss")).map(l -> l.get("step").asLong()).toList())
                .containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);
        // the extension follows the 10-step schedule: warm (lr > 0) again after the 6-step run decayed
        assertThat(metrics.stream().filter(l -> l.has("loss") && l.get("step").asLong() == 7).findFirst()
                .orElseThrow().get("lr").asDouble()).isPositive();
        JsonNode t = record(dir.resolve("student")).at("/runs/0");
        assertThat(t.get("steps").asLong()).isEqualTo(10);
        assertThat(t.at("/schedule/total_steps").asLong()).isEqualTo(10);
        assertThat(t.get("resumed_at").toString()).isEqualTo("[6]");
    }

    @Test
    void resumeWithoutACheckpointIsAnError() throws IOException {
        Path dir = TinyModels.copyRun(run, tmp.resolve("no-checkpoint"));
        assertThatThrownBy(() -> Trainer.run(topK(dir).optResume(true).build(), null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no checkpoint").hasMessageContaining("without --resume");
        assertThat(dir.resolve("student")).doesNotExist();
        assertThat(dir.resolve("metrics.jsonl")).doesNotExist();
    }

    @Test
    void flagsTheLossWouldIgnoreAreErrors() {
        assertThatThrownBy(() -> TrainConfig.builder().setRunDir(run).setStudentDir(student).optBeta(0.5).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--beta")
                .hasMessageContaining("--teacher-model DIR");
        for (LossMode loss : List.of(LossMode.TOPK, LossMode.SFT)) {
            assertThatThrownBy(() -> TrainConfig.builder().setRunDir(run).setStudentDir(student).optLoss(loss)
                    .optTeacherModelDir(teacher).build())
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("--teacher-model").hasMessageContaining("--loss " + loss.flag());
        }
        assertThatThrownBy(() -> TrainConfig.builder().setRunDir(run).setStudentDir(student).optResume(true)
                .optAllowChanged(Set.of("seed")).build())
                .hasMessageContaining("--allow-changed").hasMessageContaining("'seed'");
        assertThatThrownBy(() -> TrainConfig.builder().setRunDir(run).setStudentDir(student)
                .optAllowChanged(Set.of("alpha")).build())
                .hasMessageContaining("--allow-changed applies to --resume");
        assertThat(TrainConfig.builder().setRunDir(run).setStudentDir(student).optResume(true)
                .optAllowChanged(Set.of("alpha", "--Beta")).build().allowChanged())
                .containsExactlyInAnyOrder("--alpha", "--beta");
    }
}
