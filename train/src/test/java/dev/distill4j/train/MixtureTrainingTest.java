package dev.distill4j.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.distill4j.core.Json;
import dev.distill4j.core.dataset.DatasetImporter;
import dev.distill4j.train.data.ExampleBuilder.TokenSource;
import dev.distill4j.train.data.Mixture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Training on a weighted mixture of runs: a harvested top-k run and an imported gold data set. */
class MixtureTrainingTest {
    @TempDir static Path tmp;
    static Path teacher;
    static Path run;
    static Path gold;
    static Path student;

    @BeforeAll
    static void fixture() throws IOException {
        teacher = TinyModels.saveTeacher(tmp.resolve("teacher"), TinyModels.llama(16, 1, 2, 0.2), 3, 2.5f);
        run = TinyModels.harvest(tmp.resolve("run"), teacher, 12, 8, 2);
        student = TinyModels.save(tmp.resolve("student"), TinyModels.llama(16, 1, 2, 0.02), 4);
        Path data = tmp.resolve("gold.jsonl");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            lines.add("{\"messages\": [{\"role\": \"user\", \"content\": \"sum " + i + " " + i + "\"}, "
                    + "{\"role\": \"assistant\", \"content\": \"" + (2 * i) + "\"}]}");
        }
        Files.write(data, lines);
        gold = tmp.resolve("gold");
        DatasetImporter.importFile(data, DatasetImporter.Format.OPENAI_CHAT, gold, "gold", false);
    }

    @Test
    void anEpochDrawsEachRunInProportionToItsWeightAndRepeatsASmallOne() {
        Mixture m = new Mixture(List.of(new Mixture.Part("kd", 0, 10, 1), new Mixture.Part("gold", 10, 2, 1)));
        List<Integer> epoch = m.epoch(new Random(7));
        assertThat(epoch).hasSize(12);
        Map<Integer, Integer> counts = new TreeMap<>();
        for (int i : epoch) counts.merge(i, 1, Integer::sum);
        assertThat(epoch.stream().filter(i -> i >= 10)).hasSize(6);
        assertThat(counts.get(10)).isEqualTo(3);
        assertThat(counts.get(11)).isEqualTo(3);
        assertThat(epoch.stream().filter(i -> i < 10).distinct()).as("the large run is subsampled without repeats")
                .hasSize(6);
        assertThat(m.epoch(new Random(7))).as("a function of the epoch's generator").isEqualTo(epoch);
        // weights proportional to the sizes: every example exactly once, as without a mixture
        Mixture even = new Mixture(List.of(new Mixture.Part("a", 0, 10, 5), new Mixture.Part("b", 10, 2, 1)));
        assertThat(even.epoch(new Random(1)).stream().sorted().toList())
                .isEqualTo(java.util.stream.IntStream.range(0, 12).boxed().toList());
    }

    @Test
    void runSpecsParseWeightsAndKeepColonsThatAreNotWeights() {
        assertThat(RunShare.parse("runs/gold:0.25")).isEqualTo(new RunShare(Path.of("runs/gold"), 0.25));
        assertThat(RunShare.parse("runs/kd")).isEqualTo(new RunShare(Path.of("runs/kd"), 1.0));
        assertThat(RunShare.parse("runs/a:b")).isEqualTo(new RunShare(Path.of("runs/a:b"), 1.0));
        assertThatThrownBy(() -> RunShare.parse("runs/x:-1")).hasMessageContaining("must be a positive number");
    }

    private static TrainConfig.Builder mixed(Path out, double goldWeight) {
        return TrainConfig.builder().setRuns(List.of(new RunShare(run, 1), new RunShare(gold, goldWeight)))
                .setStudentDir(student).optLoss(LossMode.TOPK).optMaxSteps(6).optBatchTokens(128).optSaveEvery(4)
                .optEvalEvery(0).optEvalFraction(0.25).optLr(1e-3).optMaxSeqLen(40)
                .optTokenSource(TokenSource.TEACHER).optOutputDir(out);
    }

    @Test
    void trainsOnBothRunsRecordsTheMixtureAndRefusesAResumeWithOtherWeights() throws IOException {
        Path out = tmp.resolve("mixed");
        List<Trainer.Plan> plans = new ArrayList<>();
        Trainer.run(mixed(out, 3).build(), new TrainListener() {
            @Override public void onStart(Trainer.Plan p) { plans.add(p); }
        });
        assertThat(plans.getFirst().trainExamples()).as("both runs' training examples")
                .isBetween(10, 18);
        String record = Files.readString(out.resolve("student").resolve(TrainingRecord.FILE));
        assertThat(record).contains("run:1.0(").contains("gold:3.0(");
        assertThat(Json.parse(record).toString()).contains("mixture");

        assertThatThrownBy(() -> Trainer.run(mixed(out, 1).optResume(true).optMaxSteps(8).build(), null))
                .hasMessageContaining("was trained on the runs").hasMessageContaining("gold:1.0");
        Trainer.run(mixed(out, 3).optResume(true).optMaxSteps(8).build(), null);
    }

    @Test
    void evaluationCanBeTheFirstRunsHeldOutPromptsAlone() throws IOException {
        // held out: by default every run's share; with evalFirstRunOnly the first run's alone, as if trained alone
        int[] union = new int[1], first = new int[1], alone = new int[1];
        Trainer.run(mixed(tmp.resolve("eval-union"), 1).optEvalFraction(0.5).build(), new TrainListener() {
            @Override public void onStart(Trainer.Plan p) { union[0] = p.evalExamples(); }
        });
        Trainer.run(mixed(tmp.resolve("eval-first"), 1).optEvalFraction(0.5).optEvalFirstRunOnly(true).build(),
                new TrainListener() {
                    @Override public void onStart(Trainer.Plan p) { first[0] = p.evalExamples(); }
                });
        Trainer.run(mixed(tmp.resolve("eval-alone"), 1).setRunDir(run).optEvalFraction(0.5).build(),
                new TrainListener() {
                    @Override public void onStart(Trainer.Plan p) { alone[0] = p.evalExamples(); }
                });
        assertThat(first[0]).isPositive().isEqualTo(alone[0]);
        assertThat(union[0]).as("the gold run holds out prompts of its own").isGreaterThan(first[0]);
    }

    @Test
    void aMissingRunOfTheMixtureIsNamed() {
        assertThatThrownBy(() -> Trainer.run(TrainConfig.builder().setRuns(List.of(new RunShare(run, 1),
                new RunShare(tmp.resolve("nowhere"), 1))).setStudentDir(student).build(), null))
                .hasMessageContaining("nowhere has no samples.db").hasMessageContaining("distill import");
    }
}
