package dev.distill4j.eval;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import dev.distill4j.core.Prompt;
import dev.distill4j.train.TrainConfig;
import dev.distill4j.train.Trainer;
import dev.distill4j.train.TrainingRecord;
import dev.distill4j.train.data.EvalSplit;
import dev.distill4j.train.data.ExampleBuilder.TokenSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One contract between train and eval: a student trained with non-default example settings is evaluated, without
 * flags, on exactly the prompts training held out and with the examples training built; a flag overrides the
 * record with a warning.
 */
class TrainingContractTest {
    private static final double FRACTION = 0.4;
    private static final int MAX_SEQ_LEN = 64;

    @TempDir static Path tmp;
    static NDManager manager;
    static Path run;
    static List<String> ids;

    @BeforeAll
    static void train() throws Exception {
        manager = NDManager.newBaseManager("PyTorch");
        Path teacher = Fixtures.student(tmp.resolve("teacher"), 11, manager);
        Path start = Fixtures.student(tmp.resolve("start"), 7, manager);
        ids = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        List<String> answers = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            ids.add("q" + i);
            texts.add("Question " + i + ": what is " + i + " plus " + i + "?");
            answers.add(null);
        }
        List<Prompt> prompts = Fixtures.prompts(ids, texts, answers);
        run = tmp.resolve("run");
        Fixtures.run(run, teacher, prompts, "http://127.0.0.1:9/v1", manager);
        Trainer.run(TrainConfig.builder().setRunDir(run).setStudentDir(start).optMaxSteps(2).optSaveEvery(0)
                .optEvalEvery(0).optBatchTokens(256).optEvalFraction(FRACTION).optMaxSeqLen(MAX_SEQ_LEN)
                .optTokenSource(TokenSource.TEACHER).build(), null);
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    @Test
    void trainedStudentIsEvaluatedWithItsTrainingSettingsWithoutFlags() throws Exception {
        assertThat(run.resolve("student").resolve(TrainingRecord.FILE)).exists();
        Set<String> held = new EvalSplit(FRACTION).heldOut(ids);
        assertThat(held).as("the split differs from the default one").isNotEqualTo(new EvalSplit(0.05).heldOut(ids));

        List<String> warnings = new ArrayList<>();
        Scorecard card = Evaluator.builder().setRun(run).optWarnings(warnings::add).build().run();
        assertThat(warnings).isEmpty();
        assertThat(card.split().source()).isEqualTo("held-out");
        assertThat(card.split().promptIds()).containsExactlyInAnyOrderElementsOf(held);
        assertThat(card.split().evalFraction()).isEqualTo(FRACTION);
        assertThat(card.parameters()).containsEntry("max_seq_len", MAX_SEQ_LEN)
                .containsEntry("eval_fraction", FRACTION).containsEntry("token_source", "teacher")
                .containsEntry("prompt_format", "raw")
                .containsEntry("example_settings_from", run.resolve("student").resolve(TrainingRecord.FILE).toString());
    }

    @Test
    void aFlagOverridesTheRecordWithAWarning() throws Exception {
        List<String> warnings = new ArrayList<>();
        Scorecard card = Evaluator.builder().setRun(run).optMaxSeqLen(128).optEvalFraction(FRACTION)
                .optWarnings(warnings::add).build().run();
        assertThat(card.parameters()).containsEntry("max_seq_len", 128).containsEntry("eval_fraction", FRACTION);
        assertThat(warnings).singleElement().asString().contains("--max-seq-len 128 differs from the 64")
                .contains(TrainingRecord.FILE);

        warnings.clear();
        Evaluator.builder().setRun(run).optEvalFraction(0.5).optTokenSource(TokenSource.STUDENT)
                .optWarnings(warnings::add).build().run();
        assertThat(warnings.stream().map(w -> w.substring(0, w.indexOf(" differs"))).collect(Collectors.toList()))
                .containsExactly("--eval-fraction 0.5", "--token-source student");
    }

    @Test
    void aStudentWithoutRecordGetsTrainingsDefaultsWithAWarning() throws Exception {
        Path plain = Fixtures.student(tmp.resolve("plain"), 11, manager);
        List<String> warnings = new ArrayList<>();
        Scorecard card = Evaluator.builder().setRun(run).optStudent(plain).optEvalFraction(FRACTION)
                .optWarnings(warnings::add).build().run();
        assertThat(card.parameters()).containsEntry("max_seq_len", 1024).containsEntry("token_source", "student")
                .containsEntry("example_settings_from", "defaults");
        assertThat(warnings).singleElement().asString().contains("has no " + TrainingRecord.FILE)
                .contains("--max-seq-len, --prompt-format, --token-source").doesNotContain("--eval-fraction,");
    }
}
