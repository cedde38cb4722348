package dev.distill4j.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.model.io.Checkpoint;
import dev.distill4j.model.io.SafetensorsReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An interrupted and resumed run equals an uninterrupted one: same steps, same learning rates, same losses, one
 * metrics line per step, bit for bit (one intra-op thread), and the same final weights; and resume refuses other
 * data-shaping flags.
 */
class TrainerResumeTest {
    @TempDir static Path tmp;
    static Path run;
    static Path student;

    private static int threads;

    /** One intra-op thread: PyTorch's multi-threaded CPU kernels do not promise the same summation order twice. */
    @BeforeAll
    static void fixture() throws IOException {
        ai.djl.engine.Engine.getInstance();   // loads the native library
        threads = JniUtils.getNumThreads();
        JniUtils.setNumThreads(1);
        Path teacher = TinyModels.saveTeacher(tmp.resolve("teacher"), TinyModels.llama(32, 1, 2, 0.2), 1, 3.5f);
        run = TinyModels.harvest(tmp.resolve("run"), teacher, 24, 12, 3);
        student = TinyModels.save(tmp.resolve("student"), TinyModels.llama(16, 1, 2, 0.02), 2);
    }

    @AfterAll
    static void restoreThreads() {
        JniUtils.setNumThreads(threads);
    }

    private static TrainConfig.Builder config(Path runDir) {
        return TrainConfig.builder().setRunDir(runDir).setStudentDir(student).optLoss(LossMode.TOPK)
                .optMaxSteps(12).optWarmupSteps(3).optLr(3e-3).optWeightDecay(0.01).optBatchTokens(160)
                .optGradAccum(2).optSaveEvery(4).optEvalEvery(5).optEvalFraction(0.2).optSeed(7).optChunkRows(16);
    }

    /** Interrupts training by failing right after the given step. */
    private record CrashAfter(long step) implements TrainListener {
        @Override public void onStep(Trainer.StepMetrics m) {
            if (m.step() == step) throw new IllegalStateException("simulated crash after step " + step);
        }
    }

    @Test
    void resumedRunEqualsUninterruptedRun() throws IOException {
        Path whole = TinyModels.copyRun(run, tmp.resolve("whole"));
        TrainSummary expected = Trainer.run(config(whole).build(), null);

        Path broken = TinyModels.copyRun(run, tmp.resolve("broken"));
        assertThatThrownBy(() -> Trainer.run(config(broken).build(), new CrashAfter(10)))
                .hasMessageContaining("simulated crash");
        assertThat(TrainerCheckpoint.list(broken.resolve("checkpoints"))).extracting(p -> p.getFileName().toString())
                .containsExactly("step-8", "step-4");
        assertThat(Metrics.read(broken.resolve("metrics.jsonl")).stream().filter(l -> l.has("loss")).count())
                .as("steps 9 and 10 were logged before the crash").isEqualTo(10);

        List<Long> resumedAt = new ArrayList<>();
        TrainSummary resumed = Trainer.run(config(broken).optResume(true).build(), new TrainListener() {
            @Override public void onStart(Trainer.Plan plan) { resumedAt.add(plan.startStep()); }
        });
        assertThat(resumedAt).containsExactly(8L);
        assertThat(resumed.steps()).isEqualTo(12);
        assertThat(resumed.resumedFromStep()).isEqualTo(8);
        assertThat(resumed.finalLoss()).as("final loss").isEqualTo(expected.finalLoss());
        assertThat(resumed.evalLoss()).isEqualTo(expected.evalLoss());

        List<ObjectNode> a = Metrics.read(whole.resolve("metrics.jsonl"));
        List<ObjectNode> b = Metrics.read(broken.resolve("metrics.jsonl"));

        assertThat(b).hasSameSizeAs(a);
        for (int i = 0; i < a.size(); i++) {
            for (String field : List.of("step", "loss", "ce", "kd", "lr", "grad_norm", "tokens", "eval_loss",
                    "eval_top1_agreement", "eval_kl")) {
                JsonNode x = a.get(i).get(field);
                JsonNode y = b.get(i).get(field);
                if (x == null || !x.isNumber()) {
                    assertThat(String.valueOf(y)).as("line %d field %s", i, field).isEqualTo(String.valueOf(x));
                } else {
                    assertThat(y.asDouble()).as("line %d field %s", i, field).isEqualTo(x.asDouble());
                }
            }
        }
        // the learning rate follows the schedule across the resume: warmup 0, 1/3, 2/3 of peak, then cosine
        List<Double> lrs = a.stream().filter(l -> l.has("lr")).map(l -> l.get("lr").asDouble()).toList();
        assertThat(lrs.get(0)).isZero();
        assertThat(lrs.get(3)).isEqualTo(3e-3);
        assertThat(lrs.get(8)).isLessThan(lrs.get(7));

        try (SafetensorsReader x = SafetensorsReader.open(whole.resolve("student").resolve(Checkpoint.SINGLE_FILE));
             SafetensorsReader y = SafetensorsReader.open(broken.resolve("student").resolve(Checkpoint.SINGLE_FILE))) {
            assertThat(y.names()).isEqualTo(x.names());
            for (String name : x.names()) {
                float[] u = x.readFloats(name);
                float[] v = y.readFloats(name);
                for (int i = 0; i < u.length; i++) {
                    assertThat(v[i]).as("%s[%d]", name, i).isEqualTo(u[i]);
                }
            }
        }
        assertThat(broken.resolve("student").resolve("tokenizer.json")).exists();
        assertThat(broken.resolve("student").resolve("generation_config.json")).exists();
    }

    @Test
    void resumeSkipsCorruptCheckpointAndRefusesOtherFlags() throws IOException {
        Path dir = TinyModels.copyRun(run, tmp.resolve("corrupt"));
        assertThatThrownBy(() -> Trainer.run(config(dir).build(), new CrashAfter(9)))
                .hasMessageContaining("simulated crash");
        Path newest = dir.resolve("checkpoints/step-8/optimizer.safetensors");
        byte[] bytes = Files.readAllBytes(newest);
        bytes[bytes.length - 3] ^= 0x40;
        Files.write(newest, bytes);

        assertThatThrownBy(() -> Trainer.run(config(dir).optResume(true).optBatchTokens(200).build(), null))
                .hasMessageContaining("--batch-tokens 160");
        assertThatThrownBy(() -> Trainer.run(config(dir).build(), null))
                .hasMessageContaining("--resume");

        List<String> warnings = new ArrayList<>();
        List<Long> starts = new ArrayList<>();
        TrainSummary s = Trainer.run(config(dir).optResume(true).build(), new TrainListener() {
            @Override public void onWarning(String message) { warnings.add(message); }
            @Override public void onStart(Trainer.Plan plan) { starts.add(plan.startStep()); }
        });
        assertThat(warnings).anySatisfy(w -> assertThat(w).contains("step-8").contains("optimizer.safetensors"));
        assertThat(starts).containsExactly(4L);
        assertThat(s.steps()).isEqualTo(12);
        long stepLines = Metrics.read(dir.resolve("metrics.jsonl")).stream().filter(l -> l.has("loss")).count();
        assertThat(stepLines).as("metrics.jsonl truncated to step 4, then steps 5..12").isEqualTo(12);
        String metrics = Files.readString(dir.resolve("metrics.jsonl"), StandardCharsets.UTF_8);
        assertThat(metrics).endsWith("\n");
    }
}
