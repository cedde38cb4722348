package dev.distill4j.eval;

import dev.distill4j.train.TrainingRecord;
import dev.distill4j.train.data.ExampleBuilder.PromptFormat;
import dev.distill4j.train.data.ExampleBuilder.TokenSource;
import dev.distill4j.train.data.ExampleSettings;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The example settings eval scores with: those the student was trained with ({@code distill_training.json}, written
 * by {@code distill train}), each overridden by a flag the user gave, with a warning when the flag differs from
 * training (the scored examples, or the held-out split, are then not training's). A student without a record (an
 * older distill4j, or trained elsewhere) gets the training defaults, with a warning naming the flags not given.
 */
final class TrainingContract {
    private TrainingContract() {}

    /**
     * @param settings the settings to score with (prompt format resolved for the student)
     * @param source   where they came from, for the scorecard: the record's path, or "defaults"
     */
    record Resolved(ExampleSettings settings, String source) {}

    /** Flags given on the command line (null: not given). */
    record Overrides(Integer maxSeqLen, Double evalFraction, PromptFormat promptFormat, TokenSource tokenSource) {}

    static Resolved resolve(Path studentDir, Overrides flags, boolean hasChatTemplate, Consumer<String> warn)
            throws IOException {
        Optional<TrainingRecord> record = TrainingRecord.read(studentDir);
        Path file = studentDir.resolve(TrainingRecord.FILE);
        if (record.isEmpty()) {
            List<String> missing = new ArrayList<>();
            if (flags.maxSeqLen() == null) missing.add("--max-seq-len");
            if (flags.evalFraction() == null) missing.add("--eval-fraction");
            if (flags.promptFormat() == null) missing.add("--prompt-format");
            if (flags.tokenSource() == null) missing.add("--token-source");
            ExampleSettings defaults = ExampleSettings.DEFAULTS;
            if (!missing.isEmpty()) {
                warn.accept(studentDir + " has no " + TrainingRecord.FILE + " (trained by an older distill4j, or "
                        + "elsewhere): assuming training's defaults for " + String.join(", ", missing) + " ("
                        + describe(defaults) + "); pass the values training used if they differed");
            }
            return new Resolved(override(defaults, flags).resolved(hasChatTemplate), "defaults");
        }
        ExampleSettings trained = record.get().last().examples().resolved(hasChatTemplate);
        ExampleSettings used = override(trained, flags).resolved(hasChatTemplate);
        String held = "the held-out split is not training's (prompts it trained on may be scored, and prompts it held "
                + "out left out)";
        String tokens = "the teacher-forced examples are not token for token the ones training held out";
        differs(warn, file, "--max-seq-len", trained.maxSeqLen(), used.maxSeqLen(), tokens);
        differs(warn, file, "--eval-fraction", trained.evalFraction(), used.evalFraction(), held);
        differs(warn, file, "--prompt-format", trained.promptFormat(), used.promptFormat(), tokens);
        differs(warn, file, "--token-source", trained.tokenSource(), used.tokenSource(), tokens);
        return new Resolved(used, file.toString());
    }

    private static ExampleSettings override(ExampleSettings s, Overrides flags) {
        if (flags.maxSeqLen() != null) s = s.withMaxSeqLen(flags.maxSeqLen());
        if (flags.evalFraction() != null) s = s.withEvalFraction(flags.evalFraction());
        if (flags.promptFormat() != null) s = s.withPromptFormat(flags.promptFormat());
        if (flags.tokenSource() != null) s = s.withTokenSource(flags.tokenSource());
        return s;
    }

    private static void differs(Consumer<String> warn, Path file, String flag, Object trained, Object used,
            String consequence) {
        if (trained.equals(used)) return;
        warn.accept(flag + " " + name(used) + " differs from the " + name(trained) + " the student was trained with ("
                + file + "): " + consequence);
    }

    private static String describe(ExampleSettings s) {
        return "--max-seq-len " + s.maxSeqLen() + ", --eval-fraction " + s.evalFraction() + ", --prompt-format "
                + name(s.promptFormat()) + ", --token-source " + name(s.tokenSource());
    }

    private static String name(Object v) { return String.valueOf(v).toLowerCase(Locale.ROOT); }
}
