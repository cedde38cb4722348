package dev.distill4j.train;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.distill4j.core.InvalidInputException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * What a training run optimises and how hard it is pushed: the settings that {@code --resume} may not change
 * silently. The data order and the learning-rate curve are guarded separately ({@link TrainerState.Shaping}).
 *
 * @param loss             the loss applied, {@code auto} resolved ({@code --loss})
 * @param alpha            weight of the distillation term ({@code --alpha})
 * @param temperature      distillation temperature, also the on-policy sampling temperature ({@code --temperature})
 * @param beta             generalized JSD β of full-logit KD, or null for forward KL ({@code --beta})
 * @param teacherModel     the local teacher's folder as an absolute path, or null ({@code --teacher-model})
 * @param onPolicyFraction share of on-policy steps ({@code --on-policy-fraction})
 * @param onPolicyTeacher  the remote teacher scoring those steps, as {@code MODEL at URL, top-N logprobs}, or null
 *                         ({@code --on-policy-teacher} with {@code --model} and {@code --on-policy-top-logprobs}:
 *                         another teacher, or another top-k, is another loss). Null too in checkpoints written
 *                         before it was recorded
 * @param weightDecay      AdamW decoupled weight decay ({@code --weight-decay})
 * @param maxGradNorm      gradient-norm clipping threshold ({@code --max-grad-norm})
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record Objective(LossMode loss, double alpha, double temperature, Double beta, String teacherModel,
                        double onPolicyFraction, String onPolicyTeacher, double weightDecay, double maxGradNorm) {
    /** The flags this record holds, as {@code --allow-changed} accepts them. */
    public static final List<String> FLAGS = List.of("--loss", "--alpha", "--temperature", "--beta",
            "--teacher-model", "--on-policy-fraction", "--on-policy-teacher", "--weight-decay", "--max-grad-norm");

    /** One flag whose value differs between a checkpoint and the run resuming it. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Change(String flag, String from, String to) {
        @Override public String toString() { return flag + " " + from + " → " + to; }
    }

    /** The objective of a run with {@code config} whose loss resolved to {@code loss}. */
    public static Objective of(TrainConfig config, LossMode loss) {
        Path teacher = config.teacherModelDir();
        OnPolicyTeacher remote = config.onPolicyTeacher();
        return new Objective(loss, config.alpha(), config.temperature(), config.beta(),
                teacher == null ? null : teacher.toAbsolutePath().normalize().toString(), config.onPolicyFraction(),
                remote == null ? null : remote.model() + " at " + remote.baseUrl() + ", top-" + remote.topLogprobs()
                        + " logprobs",
                config.weightDecay(), config.maxGradNorm());
    }

    /**
     * {@code --alpha} or {@code alpha} as its canonical flag name.
     *
     * @throws IllegalArgumentException when it names none of {@link #FLAGS}
     */
    public static String flagName(String name) {
        String flag = name.startsWith("--") ? name : "--" + name;
        flag = flag.toLowerCase(Locale.ROOT);
        if (!FLAGS.contains(flag)) {
            throw new InvalidInputException("--allow-changed takes one of " + String.join(", ", FLAGS) + ", got '"
                    + name + "' (the data-order flags --seed, --batch-tokens, --lr ... cannot change on --resume)");
        }
        return flag;
    }

    /** The flags whose values differ from {@code then}'s, in {@link #FLAGS} order. */
    public List<Change> changesFrom(Objective then) {
        List<Change> out = new ArrayList<>();
        add(out, "--loss", then.loss.flag(), loss.flag());
        add(out, "--alpha", then.alpha, alpha);
        add(out, "--temperature", then.temperature, temperature);
        add(out, "--beta", then.beta == null ? "none (forward KL)" : then.beta.toString(),
                beta == null ? "none (forward KL)" : beta.toString());
        add(out, "--teacher-model", then.teacherModel == null ? "none" : then.teacherModel,
                teacherModel == null ? "none" : teacherModel);
        add(out, "--on-policy-fraction", then.onPolicyFraction, onPolicyFraction);
        add(out, "--on-policy-teacher", then.onPolicyTeacher == null ? "none" : then.onPolicyTeacher,
                onPolicyTeacher == null ? "none" : onPolicyTeacher);
        add(out, "--weight-decay", then.weightDecay, weightDecay);
        add(out, "--max-grad-norm", then.maxGradNorm, maxGradNorm);
        return out;
    }

    private static void add(List<Change> out, String flag, double then, double now) {
        if (Double.compare(then, now) != 0) out.add(new Change(flag, Double.toString(then), Double.toString(now)));
    }

    private static void add(List<Change> out, String flag, String then, String now) {
        if (!Objects.equals(then, now)) out.add(new Change(flag, then, now));
    }
}
