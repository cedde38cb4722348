package dev.distill4j.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.distill4j.model.io.Checkpoint;
import dev.distill4j.model.io.SafetensorsReader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The point of distillation, end to end: a teacher's top-5 distributions teach a student more than the teacher's
 * sampled text alone. One run harvested from a small local teacher (see {@link TinyModels#saveTeacher} for why it
 * is peaky); two students from the same initialisation trained with the same steps, batches and learning rates,
 * one with {@code --loss sft}, one with {@code --loss topk}; on the held-out prompts the top-k student must be
 * closer to the teacher (KL over the teacher's top-5 + tail) and agree with its tokens at least as often.
 */
class KdBeatsSftTest {
    @TempDir Path tmp;

    @Test
    void topKStudentIsCloserToTheTeacherThanSftStudent() throws IOException {
        Path teacher = TinyModels.saveTeacher(tmp.resolve("teacher"), TinyModels.llama(48, 1, 4, 0.2), 11, 2.5f);
        Path run = TinyModels.harvest(tmp.resolve("run"), teacher, 60, 20, 5);
        Path student = TinyModels.save(tmp.resolve("student"), TinyModels.llama(32, 1, 2, 0.02), 12);

        TrainSummary sft = train(TinyModels.copyRun(run, tmp.resolve("sft")), student, LossMode.SFT);
        TrainSummary topK = train(TinyModels.copyRun(run, tmp.resolve("topk")), student, LossMode.TOPK);
        System.out.printf("KdBeatsSftTest: sft eval_kl %.4f agreement %.4f | topk eval_kl %.4f agreement %.4f"
                        + " (kd share %.3f, %.0f tokens/s)%n", sft.evalKl(), sft.evalAgreement(), topK.evalKl(),
                topK.evalAgreement(), topK.kdShare(), topK.tokensPerSecond());

        assertThat(topK.loss()).isEqualTo(LossMode.TOPK);
        assertThat(topK.kdShare()).as("the same tokenizer aligns almost every position").isGreaterThan(0.8);
        assertThat(topK.evalKl()).as("KL to the teacher on held-out prompts").isLessThan(sft.evalKl() * 0.97);
        assertThat(topK.evalAgreement()).isGreaterThanOrEqualTo(sft.evalAgreement() - 0.01);

        // the trunk learned too, not only the head: gradients flow through the row selection into the layers
        float[] before = read(student, "model.layers.0.mlp.up_proj.weight");
        float[] after = read(topK.student(), "model.layers.0.mlp.up_proj.weight");
        assertThat(Arrays.equals(before, after)).isFalse();
    }

    private static TrainSummary train(Path run, Path student, LossMode loss) throws IOException {
        return Trainer.run(TrainConfig.builder().setRunDir(run).setStudentDir(student).optLoss(loss).optAlpha(0.5)
                .optMaxSteps(40).optWarmupSteps(4).optLr(1e-2).optBatchTokens(1024).optEvalFraction(0.2)
                .optEvalEvery(0).optSaveEvery(0).optSeed(3).build(), null);
    }

    private static float[] read(Path model, String tensor) throws IOException {
        try (SafetensorsReader r = SafetensorsReader.open(model.resolve(Checkpoint.SINGLE_FILE))) {
            return r.readFloats(tensor);
        }
    }
}
