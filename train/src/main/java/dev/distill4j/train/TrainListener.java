package dev.distill4j.train;

import java.nio.file.Path;
import org.slf4j.LoggerFactory;

/** What a caller (the CLI's progress line) hears while {@link Trainer} runs; every method is optional. */
public interface TrainListener {
    /** Training is about to take its first step (or the first step after the resumed one). */
    default void onStart(Trainer.Plan plan) {}

    /** One optimizer step is done. */
    default void onStep(Trainer.StepMetrics step) {}

    /** A held-out evaluation is done. */
    default void onEval(Trainer.EvalMetrics eval) {}

    /** A checkpoint was written. */
    default void onCheckpoint(Path dir, long step) {}

    /** Something the user should know (a corrupt checkpoint skipped, a non-finite step skipped). */
    default void onWarning(String message) {
        LoggerFactory.getLogger(Trainer.class).warn(message);
    }
}
