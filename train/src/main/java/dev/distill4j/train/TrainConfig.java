package dev.distill4j.train;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.train.data.ExampleBuilder.PromptFormat;
import dev.distill4j.train.data.ExampleBuilder.TokenSource;
import dev.distill4j.train.data.ExampleSettings;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Everything a training run is told, with the CLI's defaults. Built with {@link #builder()}: {@code setX} required,
 * {@code optX} optional.
 *
 * @param runDir          the run folder (samples.db)
 * @param studentDir      the student to start from, a Hugging Face model folder
 * @param teacherModelDir a local teacher with the student's vocabulary for full-logit KD, or null
 * @param loss            the loss ({@code --loss})
 * @param alpha           weight of the distillation term; 1 − α goes to cross-entropy on the teacher's tokens
 * @param temperature     softmax temperature of the distillation term
 * @param beta            generalized JSD β for full-logit KD (0 forward KL, 1 reverse KL), or null for forward KL;
 *                        with --on-policy-teacher, β over the scored top-k buckets (null: 1, the reverse KL)
 * @param lr              peak learning rate
 * @param weightDecay     AdamW decoupled weight decay (norms and biases exempt)
 * @param epochs          passes over the training examples (ignored when maxSteps > 0)
 * @param maxSteps        optimizer steps to take, cycling over the data; 0 = use epochs
 * @param batchTokens     padded tokens (B × T) per micro-batch
 * @param gradAccum       micro-batches per optimizer step
 * @param maxSeqLen       examples are truncated to this many tokens
 * @param warmupSteps     linear warmup steps before the cosine decay
 * @param evalEvery       evaluate on the held-out prompts every this many steps (and at the end); 0 = at the end only
 * @param saveEvery       write a checkpoint every this many steps; 0 = never
 * @param resume          continue from the newest valid checkpoint
 * @param seed            seeds the data order
 * @param maxGradNorm     global gradient-norm clipping threshold
 * @param evalFraction    share of prompts held out
 * @param chunkRows       positions per chunk of LM-head logits (bounds [rows × vocab] memory); 0 = sized to the
 *                        vocabulary by {@link dev.distill4j.train.loss.ChunkedLoss#rowsFor}
 * @param keepCheckpoints how many checkpoints to keep
 * @param onPolicyFraction share λ of optimizer steps whose batches are replaced by continuations the student samples
 *                        from the same prompts, scored by the local teacher (GKD); 0 = never, needs a teacher model
 * @param promptFormat    how a prompt becomes the student's input ({@code --prompt-format}; AUTO: the chat template
 *                        when the student has one)
 * @param tokenSource     which token ids the reply is learned as ({@code --token-source})
 * @param allowChanged    objective flags ({@link Objective#FLAGS}, canonical {@code --name}) that {@code --resume}
 *                        may change on purpose ({@code --allow-changed})
 * @param outputDir       where checkpoints/, student/ and metrics.jsonl are written; null = the run folder (several
 *                        students trained on one run, e.g. a KD and an SFT student, each get their own)
 * @param runs            the runs trained on and their weights ({@code --run DIR[:WEIGHT]}, repeatable), the first
 *                        being {@code runDir}; one run of weight 1 when not given
 * @param onPolicyTeacher a remote teacher that scores the on-policy steps' samples over HTTP (per-token reverse KL,
 *                        {@code --on-policy-teacher}), or null; excludes {@code teacherModelDir}
 * @param evalFirstRunOnly with several runs, evaluate on the first run's held-out prompts alone (the other runs'
 *                        held-out prompts are then neither trained nor evaluated on); false = all runs' held-out
 *                        prompts. {@code distill harvest --active --replay} sets it, so its agreement stays the
 *                        active run's.
 */
public record TrainConfig(Path runDir, Path studentDir, Path teacherModelDir, LossMode loss, double alpha,
                          double temperature, Double beta, double lr, double weightDecay, int epochs, long maxSteps,
                          int batchTokens, int gradAccum, int maxSeqLen, long warmupSteps, long evalEvery,
                          long saveEvery, boolean resume, long seed, double maxGradNorm, double evalFraction,
                          int chunkRows, int keepCheckpoints, double onPolicyFraction, PromptFormat promptFormat,
                          TokenSource tokenSource, Set<String> allowChanged, Path outputDir,
                          OnPolicyTeacher onPolicyTeacher, List<RunShare> runs, boolean evalFirstRunOnly) {

    public TrainConfig {
        if (runDir == null && runs != null && !runs.isEmpty()) runDir = runs.getFirst().dir();
        if (runDir == null) throw new InvalidInputException("a run folder is required (--run)");
        runs = runs == null || runs.isEmpty() ? List.of(new RunShare(runDir, 1.0)) : List.copyOf(runs);
        if (!runs.getFirst().dir().equals(runDir)) {
            throw new IllegalArgumentException("the first of the runs must be the run folder " + runDir);
        }
        java.util.Set<Path> seen = new java.util.HashSet<>();
        for (RunShare r : runs) {
            check(seen.add(r.dir().toAbsolutePath().normalize()), "--run " + r.dir() + " is given twice");
        }
        if (studentDir == null) throw new InvalidInputException("a student model folder is required (--student)");
        check(alpha >= 0 && alpha <= 1, "--alpha must be in [0, 1], got " + alpha);
        check(temperature > 0, "--temperature must be > 0, got " + temperature);
        check(beta == null || (beta >= 0 && beta <= 1), "--beta must be in [0, 1], got " + beta);
        check(lr > 0, "--lr must be > 0, got " + lr);
        check(weightDecay >= 0, "--weight-decay must be >= 0, got " + weightDecay);
        check(epochs >= 1, "--epochs must be at least 1, got " + epochs);
        check(maxSteps >= 0, "--max-steps must be positive, got " + maxSteps);
        check(batchTokens >= 1, "--batch-tokens must be positive, got " + batchTokens);
        check(gradAccum >= 1, "--grad-accum must be at least 1, got " + gradAccum);
        check(maxSeqLen >= 2, "--max-seq-len must be at least 2, got " + maxSeqLen);
        check(warmupSteps >= 0, "--warmup-steps must be >= 0, got " + warmupSteps);
        check(evalEvery >= 0, "--eval-every must be >= 0, got " + evalEvery);
        check(saveEvery >= 0, "--save-every must be >= 0, got " + saveEvery);
        check(maxGradNorm > 0, "--max-grad-norm must be > 0, got " + maxGradNorm);
        check(evalFraction >= 0 && evalFraction < 1, "--eval-fraction must be in [0, 1), got " + evalFraction);
        check(chunkRows >= 0, "chunk rows must be positive (or 0 for automatic), got " + chunkRows);
        check(keepCheckpoints >= 1, "keep at least one checkpoint, got " + keepCheckpoints);
        if (loss == null) loss = LossMode.AUTO;
        check(onPolicyFraction >= 0 && onPolicyFraction <= 1,
                "--on-policy-fraction must be in [0, 1], got " + onPolicyFraction);
        check(onPolicyTeacher == null || teacherModelDir == null, "--on-policy-teacher and --teacher-model are two"
                + " teachers for the same samples: keep one (a local model with the student's vocabulary, or a server"
                + " that scores text)");
        check(onPolicyTeacher == null || onPolicyFraction > 0, "--on-policy-teacher scores the student's samples on"
                + " on-policy steps, and --on-policy-fraction is 0 (there are none): pass --on-policy-fraction λ in"
                + " (0, 1], e.g. 1");
        check(onPolicyFraction == 0 || teacherModelDir != null || onPolicyTeacher != null, "--on-policy-fraction"
                + " needs a teacher to score the student's own samples: pass --teacher-model DIR (a model with the"
                + " student's vocabulary) or --on-policy-teacher URL --model NAME (a server), or drop"
                + " --on-policy-fraction");
        check(onPolicyFraction == 0 || onPolicyTeacher != null || loss == LossMode.AUTO || loss == LossMode.FULL,
                "--on-policy-fraction trains with the full-logit loss, not --loss " + loss.flag()
                + ": use --loss full (or auto)");
        check(onPolicyTeacher == null || loss != LossMode.FULL, "--loss full needs a local teacher model; with"
                + " --on-policy-teacher the on-policy steps use the reverse KL and the other steps --loss auto, topk or"
                + " sft");
        // flags that would be accepted and then ignored are errors: the user believes they shaped the run
        check(beta == null || teacherModelDir != null || (onPolicyTeacher != null && onPolicyTeacher.topLogprobs() > 0),
                "--beta sets the divergence of full-logit distillation against a local teacher, or of on-policy steps"
                + " scored by --on-policy-teacher with top logprobs, and this run has neither (it would be ignored):"
                + " pass --teacher-model DIR or --on-policy-teacher with --on-policy-top-logprobs K, or drop --beta");
        check(teacherModelDir == null || loss == LossMode.AUTO || loss == LossMode.FULL, "--teacher-model is used"
                + " only by the full-logit loss, and --loss " + loss.flag() + " would load it and ignore it: use --loss"
                + " full (or auto), or drop --teacher-model");
        if (promptFormat == null) promptFormat = ExampleSettings.DEFAULTS.promptFormat();
        if (tokenSource == null) tokenSource = ExampleSettings.DEFAULTS.tokenSource();
        Set<String> flags = new LinkedHashSet<>();
        for (String f : allowChanged == null ? Set.<String>of() : allowChanged) flags.add(Objective.flagName(f));
        allowChanged = Set.copyOf(flags);
        check(allowChanged.isEmpty() || resume, "--allow-changed applies to --resume (a fresh run has no earlier"
                + " objective to change): add --resume, or drop --allow-changed");
    }

    private static void check(boolean ok, String message) {
        if (!ok) throw new InvalidInputException(message);
    }

    public static Builder builder() { return new Builder(); }

    /** The folder that holds this training's outputs: {@code --output-dir}, else the run folder. */
    public Path outputs() { return outputDir != null ? outputDir : runDir; }

    /** Where the final student goes: {@code <outputs>/student}. */
    public Path studentOut() { return outputs().resolve("student"); }

    public Path checkpointsDir() { return outputs().resolve("checkpoints"); }

    public Path metricsFile() { return outputs().resolve("metrics.jsonl"); }

    /** The example-building settings, shared with {@code distill eval}. */
    public ExampleSettings examples() {
        return new ExampleSettings(maxSeqLen, evalFraction, promptFormat, tokenSource);
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.runDir = runDir; b.studentDir = studentDir; b.teacherModelDir = teacherModelDir; b.loss = loss;
        b.alpha = alpha; b.temperature = temperature; b.beta = beta; b.lr = lr; b.weightDecay = weightDecay;
        b.epochs = epochs; b.maxSteps = maxSteps; b.batchTokens = batchTokens; b.gradAccum = gradAccum;
        b.maxSeqLen = maxSeqLen; b.warmupSteps = warmupSteps; b.evalEvery = evalEvery; b.saveEvery = saveEvery;
        b.resume = resume; b.seed = seed; b.maxGradNorm = maxGradNorm; b.evalFraction = evalFraction;
        b.chunkRows = chunkRows; b.keepCheckpoints = keepCheckpoints; b.onPolicyFraction = onPolicyFraction;
        b.promptFormat = promptFormat; b.tokenSource = tokenSource; b.allowChanged = allowChanged;
        b.outputDir = outputDir; b.onPolicyTeacher = onPolicyTeacher; b.runs = runs;
        b.evalFirstRunOnly = evalFirstRunOnly;
        return b;
    }

    /** Defaults as the CLI's. */
    public static final class Builder {
        private Path runDir;
        private Path studentDir;
        private Path teacherModelDir;
        private LossMode loss = LossMode.AUTO;
        private double alpha = 0.5;
        private double temperature = 1.0;
        private Double beta;
        private double lr = 5e-5;
        private double weightDecay = 0.0;
        private int epochs = 1;
        private long maxSteps;
        private int batchTokens = 4096;
        private int gradAccum = 1;
        private int maxSeqLen = ExampleSettings.DEFAULTS.maxSeqLen();
        private long warmupSteps;
        private long evalEvery = 100;
        private long saveEvery = 200;
        private boolean resume;
        private long seed = 42;
        private double maxGradNorm = 1.0;
        private double evalFraction = ExampleSettings.DEFAULTS.evalFraction();
        private int chunkRows = 0;
        private int keepCheckpoints = 2;
        private double onPolicyFraction;
        private PromptFormat promptFormat = ExampleSettings.DEFAULTS.promptFormat();
        private TokenSource tokenSource = ExampleSettings.DEFAULTS.tokenSource();
        private Set<String> allowChanged = Set.of();
        private Path outputDir;
        private List<RunShare> runs;
        private OnPolicyTeacher onPolicyTeacher;
        private boolean evalFirstRunOnly;

        private Builder() {}

        public Builder setRunDir(Path v) { runDir = v; runs = null; return this; }

        /** Several runs mixed by weight; the first is the run folder (outputs go there unless --output-dir). */
        public Builder setRuns(List<RunShare> v) {
            runs = List.copyOf(v);
            runDir = v.isEmpty() ? null : v.getFirst().dir();
            return this;
        }
        public Builder setStudentDir(Path v) { studentDir = v; return this; }
        public Builder optTeacherModelDir(Path v) { teacherModelDir = v; return this; }
        public Builder optLoss(LossMode v) { loss = v; return this; }
        public Builder optAlpha(double v) { alpha = v; return this; }
        public Builder optTemperature(double v) { temperature = v; return this; }
        public Builder optBeta(Double v) { beta = v; return this; }
        public Builder optLr(double v) { lr = v; return this; }
        public Builder optWeightDecay(double v) { weightDecay = v; return this; }
        public Builder optEpochs(int v) { epochs = v; return this; }
        public Builder optMaxSteps(long v) { maxSteps = v; return this; }
        public Builder optBatchTokens(int v) { batchTokens = v; return this; }
        public Builder optGradAccum(int v) { gradAccum = v; return this; }
        public Builder optMaxSeqLen(int v) { maxSeqLen = v; return this; }
        public Builder optWarmupSteps(long v) { warmupSteps = v; return this; }
        public Builder optEvalEvery(long v) { evalEvery = v; return this; }
        public Builder optSaveEvery(long v) { saveEvery = v; return this; }
        public Builder optResume(boolean v) { resume = v; return this; }
        public Builder optSeed(long v) { seed = v; return this; }
        public Builder optMaxGradNorm(double v) { maxGradNorm = v; return this; }
        public Builder optEvalFraction(double v) { evalFraction = v; return this; }
        public Builder optChunkRows(int v) { chunkRows = v; return this; }
        public Builder optKeepCheckpoints(int v) { keepCheckpoints = v; return this; }
        public Builder optOnPolicyFraction(double v) { onPolicyFraction = v; return this; }
        public Builder optOutputDir(Path v) { outputDir = v; return this; }
        /** A remote teacher scoring the on-policy steps over HTTP ({@code --on-policy-teacher}). */
        public Builder optOnPolicyTeacher(OnPolicyTeacher v) { onPolicyTeacher = v; return this; }
        /** With several runs, evaluate on the first run's held-out prompts alone. */
        public Builder optEvalFirstRunOnly(boolean v) { evalFirstRunOnly = v; return this; }
        public Builder optPromptFormat(PromptFormat v) { promptFormat = Objects.requireNonNull(v); return this; }
        public Builder optTokenSource(TokenSource v) { tokenSource = Objects.requireNonNull(v); return this; }
        /** Objective flags {@code --resume} may change on purpose: {@code --alpha} or {@code alpha}, .... */
        public Builder optAllowChanged(Set<String> flags) { allowChanged = Set.copyOf(flags); return this; }

        /** Max-seq-len, eval fraction, prompt format and token source at once. */
        public Builder optExamples(ExampleSettings v) {
            maxSeqLen = v.maxSeqLen();
            evalFraction = v.evalFraction();
            promptFormat = v.promptFormat();
            tokenSource = v.tokenSource();
            return this;
        }

        public TrainConfig build() {
            return new TrainConfig(runDir, studentDir, teacherModelDir, loss, alpha, temperature, beta, lr, weightDecay,
                    epochs, maxSteps, batchTokens, gradAccum, maxSeqLen, warmupSteps, evalEvery, saveEvery, resume,
                    seed, maxGradNorm, evalFraction, chunkRows, keepCheckpoints, onPolicyFraction, promptFormat,
                    tokenSource, allowChanged, outputDir, onPolicyTeacher, runs, evalFirstRunOnly);
        }
    }
}
