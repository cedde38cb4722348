package dev.distill4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.model.nn.CausalLM;
import dev.distill4j.train.optim.AdamW;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where a run starts and what it leaves to resume from: step 0, or with {@code --resume} the newest checkpoint that
 * verifies (weights and AdamW moments loaded in place, its {@link TrainerState} the loop's start), and every
 * {@code --save-every} steps a new checkpoint ({@link TrainerCheckpoint}: weights, moments, state, training record).
 *
 * <p>As Hugging Face's Trainer: {@code --resume} promises a continuation, so without a checkpoint it is an error, not
 * step 0; and checkpoints already in the run without {@code --resume} are an error too, not silently overwritten.
 */
final class RunCheckpoints {
    /** Where training starts: step 0 or a checkpoint's state, and the training record it continues. */
    record Started(TrainerState state, TrainingRecord record) {}

    private final TrainConfig config;
    private final NDManager manager;
    private final CausalLM student;
    private final TrainListener listener;

    RunCheckpoints(TrainConfig config, NDManager manager, CausalLM student, TrainListener listener) {
        this.config = config;
        this.manager = manager;
        this.student = student;
        this.listener = listener;
    }

    /**
     * Step 0 with {@code fresh}, or the newest valid checkpoint restored into the student and {@code adamW}, after
     * {@link ResumeCheck} confirmed this run may continue it.
     */
    Started start(TrainerState.Shaping shaping, AdamW adamW, TrainingRecord fresh) throws IOException {
        List<Path> existing = TrainerCheckpoint.list(config.checkpointsDir());
        if (!config.resume()) {
            if (!existing.isEmpty()) {
                throw new InvalidInputException("run " + config.runDir() + " already has training checkpoints ("
                        + existing.getFirst().getFileName() + "): pass --resume to continue that training, or delete "
                        + config.checkpointsDir() + " to start over");
            }
            return new Started(new TrainerState(TrainerState.FORMAT, 0, 0, 0, 0, 0, 0, 0, 0, shaping, "none"), fresh);
        }
        Optional<Path> found = TrainerCheckpoint.newestValid(config.checkpointsDir(), listener::onWarning);
        if (found.isEmpty()) {
            throw new InvalidInputException(existing.isEmpty()
                    ? "--resume: there is no checkpoint in " + config.checkpointsDir() + " to resume from: train"
                            + " without --resume to start from step 0"
                    : "--resume: none of the " + existing.size() + " checkpoints in " + config.checkpointsDir()
                            + " verifies (see the warnings): delete " + config.checkpointsDir() + " and train"
                            + " without --resume to start over");
        }
        try (NDManager scope = manager.newSubManager()) {
            TrainerCheckpoint.Loaded loaded = TrainerCheckpoint.load(found.get(), scope);
            TrainerState state = loaded.state();
            TrainingRecord record = ResumeCheck.check(found.get(), state,
                    TrainingRecord.read(found.get()).orElse(null), shaping, fresh, config.allowChanged(),
                    listener::onWarning);
            Map<String, NDArray> params = student.parameters();
            for (Map.Entry<String, NDArray> e : params.entrySet()) {
                NDArray saved = loaded.weights().get(e.getKey());
                if (saved == null || !saved.getShape().equals(e.getValue().getShape())) {
                    throw new InvalidInputException("cannot resume from " + found.get() + ": it holds another model"
                            + " than --student " + config.studentDir() + " (parameter " + e.getKey() + ")");
                }
                // in place, by tensor ops: NDArray.set(...) would swap in storage backed by a Java direct buffer
                e.getValue().muli(0).addi(saved);
            }
            Map<String, NDArray> optimizer = new LinkedHashMap<>(loaded.optimizer());
            optimizer.put("step", scope.create(state.optimizerSteps()));
            adamW.importState(optimizer);
            return new Started(state, record);
        }
    }

    /** Writes the checkpoint of {@code state} (pruning to --keep-checkpoints) and tells the listener. */
    void save(TrainerState state, AdamW adamW, TrainingRecord record) throws IOException {
        try (NDManager scope = manager.newSubManager()) {
            Map<String, NDArray> optimizerState = adamW.exportState(scope);
            optimizerState.remove("step");   // AdamW's t is in trainer_state.json's optimizerSteps
            Path dir = TrainerCheckpoint.save(config.checkpointsDir(), student.config(), student.parameters(),
                    optimizerState, state, record, config.keepCheckpoints());
            listener.onCheckpoint(dir, state.step());
        }
    }
}
