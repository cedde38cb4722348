package dev.distill4j.train;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.train.data.ExampleSettings;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Whether a run may continue a checkpoint, and the training record it continues. {@code --resume} never silently
 * changes what is trained:
 * <ul>
 *   <li>the data order and the schedule (seed, max-seq-len, batch-tokens, grad-accum, warmup, lr, eval fraction,
 *       the examples themselves) must be the checkpoint's ({@link TrainerState.Shaping#mismatch}); the length may
 *       grow, which extends a finished run;</li>
 *   <li>the prompt format and token source must be the checkpoint's (they decide the examples' tokens);</li>
 *   <li>the objective ({@link Objective#FLAGS}) must be the checkpoint's, unless the flag is named in
 *       {@code --allow-changed}; such a change is reported and kept in the record.</li>
 * </ul>
 * Every refusal names the flag, the checkpoint's value and this run's, as Hugging Face's Trainer cannot (it loads
 * a checkpoint under whatever arguments it is given).
 */
final class ResumeCheck {
    private ResumeCheck() {}

    /**
     * The record the resumed run continues, after checking that it may.
     *
     * @param checkpoint  the checkpoint folder (for messages)
     * @param then        its trainer state
     * @param thenRecord  its training record, or null for a checkpoint written before records existed
     * @param shaping     this run's data-order and schedule settings
     * @param fresh       the record this run would start without a checkpoint; its last training holds this run's
     *                    example settings and objective
     * @param allowed     objective flags that may change ({@code --allow-changed}, canonical names)
     * @param warn        where notices go (an extension, an allowed change, a checkpoint without a record)
     * @throws IllegalArgumentException naming the flag and both values when the run may not continue
     */
    static TrainingRecord check(Path checkpoint, TrainerState then, TrainingRecord thenRecord,
            TrainerState.Shaping shaping, TrainingRecord fresh, Set<String> allowed, Consumer<String> warn) {
        String mismatch = then.shaping().mismatch(shaping);
        if (mismatch != null) throw new InvalidInputException("cannot resume from " + checkpoint + ": " + mismatch);
        TrainingRecord.Training now = fresh.last();
        long step = then.step();
        if (shaping.totalSteps() > then.shaping().totalSteps()) {
            warn.accept("extending the run from " + then.shaping().totalSteps() + " to " + shaping.totalSteps()
                    + " steps (" + shaping.length() + "): from step " + (step + 1) + " on the learning rate follows"
                    + " the schedule of " + shaping.totalSteps() + " steps");
        }
        if (thenRecord == null) {
            warn.accept("checkpoint " + checkpoint + " has no " + TrainingRecord.FILE + " (an older distill4j wrote"
                    + " it): its loss settings cannot be compared with this run's " + String.join(", ", Objective.FLAGS)
                    + "; make sure they are the ones it was trained with");
            return fresh.withLast(continued(now, now, then, List.of()));
        }
        TrainingRecord.Training before = thenRecord.last();
        String examples = examplesMismatch(before.examples(), now.examples());
        if (examples != null) throw new InvalidInputException("cannot resume from " + checkpoint + ": " + examples);

        List<Objective.Change> changes = now.objective().changesFrom(before.objective());
        List<Objective.Change> refused = changes.stream().filter(c -> !allowed.contains(c.flag())).toList();
        if (!refused.isEmpty()) {
            List<String> parts = new ArrayList<>();
            for (Objective.Change c : refused) {
                parts.add(c.flag() + " " + c.from() + " (checkpoint) but " + c.flag() + " " + c.to() + " (this run)");
            }
            String names = String.join(" ", refused.stream().map(c -> "--allow-changed " + c.flag().substring(2))
                    .toList());
            throw new InvalidInputException("cannot resume from " + checkpoint + ": it was trained with "
                    + String.join("; ", parts) + ". Resume with the checkpoint's value" + (refused.size() > 1 ? "s" : "")
                    + ", or pass " + names + " to change the objective on purpose (the resumed run then no longer"
                    + " equals an uninterrupted one)");
        }
        List<TrainingRecord.AllowedChange> kept = new ArrayList<>(before.changes());
        for (Objective.Change c : changes) {
            warn.accept("resuming at step " + step + " with " + c + " (--allow-changed): the rest of the run trains"
                    + " another objective than its first " + step + " steps");
            kept.add(new TrainingRecord.AllowedChange(step, c.flag(), c.from(), c.to()));
        }
        return thenRecord.withLast(continued(before, now, then, kept));
    }

    /** The checkpoint's training continued from its state {@code then} with this run's settings. */
    private static TrainingRecord.Training continued(TrainingRecord.Training before, TrainingRecord.Training now,
            TrainerState then, List<TrainingRecord.AllowedChange> changes) {
        List<Long> resumedAt = new ArrayList<>(before == now ? List.of() : before.resumedAt());
        resumedAt.add(then.step());
        return new TrainingRecord.Training(now.run(), before.startedFrom(), now.teacher(), now.examples(),
                now.objective(), now.schedule(), then.step(), then.tokens(), resumedAt, changes,
                Instant.now().toString());
    }

    private static String examplesMismatch(ExampleSettings then, ExampleSettings now) {
        if (then.promptFormat() != now.promptFormat()) {
            return flag("--prompt-format", then.promptFormat(), now.promptFormat());
        }
        if (then.tokenSource() != now.tokenSource()) return flag("--token-source", then.tokenSource(), now.tokenSource());
        if (then.maxSeqLen() != now.maxSeqLen()) return flag("--max-seq-len", then.maxSeqLen(), now.maxSeqLen());
        if (Double.compare(then.evalFraction(), now.evalFraction()) != 0) {
            return flag("--eval-fraction", then.evalFraction(), now.evalFraction());
        }
        return null;
    }

    private static String flag(String flag, Object then, Object now) {
        String t = String.valueOf(then).toLowerCase(java.util.Locale.ROOT);
        String n = String.valueOf(now).toLowerCase(java.util.Locale.ROOT);
        return "the checkpoint was made with " + flag + " " + t + " but this run has " + flag + " " + n
                + ": resume with " + flag + " " + t + " (the examples' tokens depend on it), or train from the start"
                + " without --resume";
    }
}
