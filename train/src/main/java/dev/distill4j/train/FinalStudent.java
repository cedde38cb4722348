package dev.distill4j.train;

import dev.distill4j.core.io.FileTrees;
import dev.distill4j.model.config.GenerationConfig;
import dev.distill4j.model.io.Checkpoint;
import dev.distill4j.model.io.DType;
import dev.distill4j.model.nn.CausalLM;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The trained student as a model folder, {@code <run>/student}: Hugging Face layout (F32 safetensors, config.json,
 * the tokenizer and generation_config.json of --student) plus its {@link TrainingRecord}. Written to
 * {@code .student.tmp} and renamed over an earlier student, so a reader sees the old folder or the new one, never
 * half of one.
 */
final class FinalStudent {
    private FinalStudent() {}

    /** Saves {@code student} with {@code record}; returns the folder. */
    static Path save(TrainConfig config, CausalLM student, TrainingRecord record) throws IOException {
        Path out = config.studentOut();
        Path tmp = config.outputs().resolve(".student.tmp");
        Path old = config.outputs().resolve(".student.old");
        FileTrees.delete(tmp);
        Checkpoint.save(tmp, student.config(), student.parameters(), Checkpoint.SaveOptions.defaults()
                .withDtype(DType.F32)
                .withTokenizerFrom(config.studentDir())
                .withGenerationConfig(GenerationConfig.read(config.studentDir())
                        .orElse(GenerationConfig.of(student.config()))));
        record.write(tmp);
        if (Files.exists(out)) {
            FileTrees.delete(old);
            Files.move(out, old, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
        FileTrees.delete(old);
        return out;
    }
}
