package dev.distill4j.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.model.config.ModelConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Full-logit distillation from a local teacher (--teacher-model), and the checks around it. */
class FullKdTrainingTest {
    @TempDir Path tmp;

    @Test
    void localTeacherDrivesTheStudentTowardsItsDistribution() throws IOException {
        Path teacher = TinyModels.saveTeacher(tmp.resolve("teacher"), TinyModels.llama(32, 1, 2, 0.2), 21, 2.5f);
        Path run = TinyModels.harvest(tmp.resolve("run"), teacher, 16, 12, 2);
        Path student = TinyModels.save(tmp.resolve("student"), TinyModels.llama(16, 1, 2, 0.02), 22);

        List<Trainer.EvalMetrics> evals = new ArrayList<>();
        TrainSummary s = Trainer.run(TrainConfig.builder().setRunDir(run).setStudentDir(student)
                .optTeacherModelDir(teacher).optBeta(0.5).optAlpha(0.9).optTemperature(2.0).optMaxSteps(24)
                .optLr(1e-2).optBatchTokens(256).optEvalEvery(1).optEvalFraction(0.25).optSaveEvery(0)
                .optChunkRows(7).build(), new TrainListener() {
                    @Override public void onEval(Trainer.EvalMetrics e) { evals.add(e); }
                });
        assertThat(s.loss()).as("auto picks full with a teacher model").isEqualTo(LossMode.FULL);
        assertThat(s.kdShare()).isEqualTo(1.0);
        assertThat(evals.getFirst().kl()).isFinite().isPositive();
        assertThat(evals.getLast().kl()).as("full forward KL on held-out prompts falls")
                .isLessThan(evals.getFirst().kl() * 0.8);
    }

    @Test
    void teacherWithAnotherVocabularyIsRefused() throws IOException {
        Path run = TinyModels.harvest(tmp.resolve("run"),
                TinyModels.saveTeacher(tmp.resolve("t0"), TinyModels.llama(16, 1, 2, 0.2), 1, 2f), 4, 4, 1);
        Path student = TinyModels.save(tmp.resolve("student"), TinyModels.llama(16, 1, 2, 0.02), 2);
        ObjectNode bigger = TinyModels.llama(16, 1, 2, 0.02).raw().deepCopy();
        bigger.put("vocab_size", 400);
        Path other = TinyModels.save(tmp.resolve("other"), ModelConfig.fromJson(bigger, "test"), 3);
        assertThatThrownBy(() -> Trainer.run(TrainConfig.builder().setRunDir(run).setStudentDir(student)
                .optTeacherModelDir(other).build(), null))
                .hasMessageContaining("--teacher-model").hasMessageContaining("vocabulary")
                .hasMessageContaining("400");
        assertThatThrownBy(() -> Trainer.run(TrainConfig.builder().setRunDir(run).setStudentDir(student)
                .optLoss(LossMode.FULL).build(), null)).hasMessageContaining("--teacher-model DIR");
        assertThatThrownBy(() -> Trainer.run(TrainConfig.builder().setRunDir(tmp.resolve("none"))
                .setStudentDir(student).build(), null)).hasMessageContaining("distill harvest");
    }
}
