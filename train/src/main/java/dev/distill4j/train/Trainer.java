package dev.distill4j.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.model.config.ModelConfig;
import dev.distill4j.model.nn.CausalLM;
import dev.distill4j.model.tokenizer.ChatTemplate;
import dev.distill4j.model.tokenizer.HfTokenizer;
import dev.distill4j.train.data.Batch;
import dev.distill4j.train.data.Batcher;
import dev.distill4j.train.data.ExampleBuilder;
import dev.distill4j.train.data.ExampleSet;
import dev.distill4j.train.data.ExampleSettings;
import dev.distill4j.train.data.Mixture;
import dev.distill4j.train.loss.LossSum;
import dev.distill4j.train.optim.AdamW;
import dev.distill4j.train.optim.GradClip;
import dev.distill4j.train.optim.Gradients;
import dev.distill4j.train.optim.LrSchedule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Trains a student on a run: builds the examples with the student's tokenizer and template, then for each optimizer
 * step
 * <pre>
 *   for each of the step's --grad-accum micro-batches:
 *     h      = student trunk(input)                      [B, T, D], only rows whose next token is learned kept
 *     L_mb   = Σ_chunks loss(lm_head(h_chunk), teacher)  ChunkedLoss: never a whole [rows × V] tensor
 *     backward(L_mb / P)                                 P = learned positions in the whole step
 *   clip the global gradient norm; AdamW with lr(step); zero the gradients
 * </pre>
 * evaluates on the held-out prompts, logs to {@code metrics.jsonl}, checkpoints, and saves the final student. Each
 * micro-batch runs in its own {@link NDManager}, closed after its backward, so memory stays flat over any number of
 * steps. A run resumed from a checkpoint takes the same steps on the same batches with the same learning rates as
 * one that was never interrupted, so its losses agree bit for bit on the same machine.
 *
 * <p>With {@code --on-policy-fraction λ} (GKD, Agarwal et al. 2024) a share λ of the steps, picked by a hash of
 * (seed, step), trains on the student's own samples: each micro-batch's replies are replaced by continuations the
 * student samples from the same prompts, and the local teacher's full distribution at every sampled position is the
 * target (divergence only: cross-entropy on the student's own tokens would reinforce whatever it sampled).
 *
 * <p>This class is the loop; each job it wires is a class of its own in this package: {@code TrainSetup} (folders,
 * models, the resolved loss), {@code DataCursor} (which micro-batches come next), {@code LearnedRows} (which positions
 * are learned, and their teacher targets), {@code MicroBatchLoss} (a micro-batch's chunked loss and backward),
 * {@code OnPolicySampler} (which steps are on-policy, and their sampled batches), {@code HeldOutEval},
 * {@code RunCheckpoints} (start or resume, and the checkpoints) and {@code FinalStudent} (the saved student).
 */
public final class Trainer {
    /** Settings the run resolved before the first step. */
    public record Plan(LossMode loss, long startStep, long totalSteps, int batchesPerEpoch, long parameters,
                       ExampleSet.Report data, int trainExamples, int evalExamples, Path resumedFrom) {}

    /**
     * One logged optimizer step; {@code kd} is NaN when no position had teacher signal; {@code onPolicy}: the step
     * trained on the student's own samples.
     */
    public record StepMetrics(long step, long totalSteps, double epoch, double loss, double ce, double kd,
                              double kdShare, double lr, double gradNorm, long tokens, double tokensPerSecond,
                              double elapsedSeconds, boolean onPolicy, long teacherTokens) {
        /** A step without a remote teacher ({@code teacherTokens} = −1). */
        public StepMetrics(long step, long totalSteps, double epoch, double loss, double ce, double kd,
                           double kdShare, double lr, double gradNorm, long tokens, double tokensPerSecond,
                           double elapsedSeconds, boolean onPolicy) {
            this(step, totalSteps, epoch, loss, ce, kd, kdShare, lr, gradNorm, tokens, tokensPerSecond,
                    elapsedSeconds, onPolicy, -1);
        }
    }

    /** A held-out evaluation; {@code kl} is NaN where no teacher distribution exists. */
    public record EvalMetrics(long step, double loss, double top1Agreement, double kl, long positions) {}

    private final TrainConfig config;
    private final TrainListener listener;
    private final NDManager manager;
    private final HfTokenizer tokenizer;
    private final CausalLM student;
    private final LossMode mode;
    private final MicroBatchLoss loss;
    private final List<Integer> eosIds;
    private final ExampleSettings examples;
    private final RemoteScorer remote;   // null without --on-policy-teacher

    private Trainer(TrainConfig config, TrainListener listener, NDManager manager, HfTokenizer tokenizer,
            CausalLM student, CausalLM teacher, LossMode mode, List<Integer> eosIds, ExampleSettings examples,
            RemoteScorer remote) {
        this.config = config;
        this.listener = listener;
        this.manager = manager;
        this.tokenizer = tokenizer;
        this.student = student;
        this.mode = mode;
        this.loss = new MicroBatchLoss(config, manager, student, teacher, mode);
        this.eosIds = eosIds;
        this.examples = examples;
        this.remote = remote;
    }

    /** Runs training as configured; see the class comment. */
    public static TrainSummary run(TrainConfig config, TrainListener listener) throws IOException {
        TrainListener l = listener == null ? new TrainListener() {} : listener;
        TrainSetup.checkFolders(config);
        try (NDManager manager = NDManager.newBaseManager();
             HfTokenizer tokenizer = HfTokenizer.load(config.studentDir())) {
            ExampleSet data;
            ExampleSettings examples;
            Mixture mixture = null;
            ExampleBuilder builder = config.examples()
                    .builder(tokenizer, ChatTemplate.load(config.studentDir()).orElse(null)).build();
            examples = config.examples().withPromptFormat(builder.promptFormat());   // AUTO resolved, recorded
            if (config.runs().size() == 1) {
                try (RunStore store = RunStore.openExisting(config.runDir())) {
                    data = builder.examples(store);
                }
            } else {
                List<ExampleSet> sets = new ArrayList<>();
                for (RunShare r : config.runs()) {
                    try (RunStore store = RunStore.openExisting(r.dir())) {
                        sets.add(builder.examples(store));
                    }
                }
                data = ExampleSet.concat(sets);
                if (config.evalFirstRunOnly()) data = new ExampleSet(data.train(), sets.getFirst().eval(), data.report());
                List<Mixture.Part> parts = new ArrayList<>();
                int offset = 0;
                for (int i = 0; i < sets.size(); i++) {
                    RunShare r = config.runs().get(i);
                    int n = sets.get(i).train().size();
                    parts.add(new Mixture.Part(r.dir().getFileName().toString(), offset, n, r.weight()));
                    offset += n;
                }
                mixture = new Mixture(parts);
            }
            if (data.train().isEmpty()) {
                throw new InvalidInputException("run " + config.runDir() + " has no training examples left after"
                        + " holding out prompts for evaluation: harvest more prompts or lower --eval-fraction");
            }
            ModelConfig studentConfig = ModelConfig.read(config.studentDir());
            CausalLM teacher = TrainSetup.teacher(config, studentConfig, tokenizer, manager);
            LossMode mode = TrainSetup.lossMode(config, data, teacher != null);
            RemoteScorer remote = null;
            if (config.onPolicyTeacher() != null) {
                remote = new RemoteScorer(config.onPolicyTeacher(), config.runDir(), tokenizer, l);
                try {
                    // before any weights load: a wrong URL, key or model is an error now, not at the first step
                    remote.start(probeText(tokenizer, data));
                } catch (RuntimeException e) {
                    remote.close();
                    throw e;
                }
            }
            CausalLM student = null;
            try {
                student = TrainSetup.student(config, studentConfig, manager);
                return new Trainer(config, l, manager, tokenizer, student, teacher, mode,
                        TrainSetup.eosIds(config, studentConfig, tokenizer), examples, remote).train(data, mixture);
            } finally {
                if (student != null) student.close();
                if (teacher != null) teacher.close();
                if (remote != null) remote.close();
            }
        }
    }

    /** The text the remote teacher's dialect is probed with: the start of the first training example. */
    private static String probeText(HfTokenizer tokenizer, ExampleSet data) {
        int[] ids = data.train().getFirst().inputIds();
        String text = tokenizer.decode(java.util.Arrays.copyOf(ids, Math.min(ids.length, 16)), true).strip();
        return text.isEmpty() ? "Hello, world." : text;
    }

    /**
     * Whether optimizer step {@code step} (0-based) trains on the student's own samples with
     * {@code --on-policy-fraction fraction}: a function of (seed, step) alone, never for λ = 0 (OnPolicySampler).
     */
    public static boolean isOnPolicy(long seed, long step, double fraction) {
        return OnPolicySampler.draws(seed, step, fraction);
    }

    // ---------------------------------------------------------------------------------------------- the loop

    private TrainSummary train(ExampleSet data, Mixture mixture) throws IOException {
        int padId = Math.max(0, tokenizer.idOf(tokenizer.specialTokens().padToken()));
        Batcher batcher = new Batcher(data.train(), config.batchTokens(), padId, mixture);
        HeldOutEval heldOut = data.eval().isEmpty() ? null : new HeldOutEval(
                new Batcher(data.eval(), config.batchTokens(), padId), config.seed(), manager, student, loss);
        OnPolicySampler sampler = new OnPolicySampler(student, tokenizer, eosIds, config.temperature(), config.seed(),
                padId);
        int batchesPerEpoch = batcher.plan(config.seed(), 0).size();
        long totalSteps = totalSteps(batcher);
        if (config.warmupSteps() > totalSteps) {
            throw new InvalidInputException("--warmup-steps " + config.warmupSteps() + " is more than the run's "
                    + totalSteps + " steps: lower it, or train longer (--epochs, --max-steps)");
        }
        LrSchedule schedule = new LrSchedule(config.lr(), 0.0, config.warmupSteps(), totalSteps);
        TrainerState.Shaping shaping = TrainerState.Shaping.of(config, totalSteps, data.train(),
                mixture == null ? null : mixture.describe());

        Map<String, NDArray> params = student.parameters();
        Collection<NDArray> paramList = params.values();
        try (AdamW adamW = AdamW.builder().optWeightDecay(config.weightDecay()).build()) {
            RunCheckpoints checkpoints = new RunCheckpoints(config, manager, student, listener);
            RunCheckpoints.Started started = checkpoints.start(shaping, adamW, TrainingRecord.begin(config, examples,
                    Objective.of(config, mode), shaping));
            TrainerState start = started.state();
            TrainingRecord record = started.record();
            student.setTrainable(true);
            DataCursor cursor = new DataCursor(batcher, config.seed(), config.epochs(), config.maxSteps() > 0,
                    start.epoch(), start.batchInEpoch());
            long step = start.step();
            long tokens = start.tokens();
            // billed teacher tokens of the scores the steps so far bought (the probe's included): on resume, those
            // stored for the steps up to the checkpoint, so the count goes on as in an uninterrupted run
            long teacherTokens = remote == null ? 0 : remote.tokensThrough(step);
            double trainSeconds = start.trainSeconds();
            double elapsedBefore = start.elapsedSeconds();
            long wallStart = System.nanoTime();
            listener.onStart(new Plan(mode, step, totalSteps, batchesPerEpoch, student.parameterCount(),
                    data.report(), data.train().size(), data.eval().size(),
                    start.step() > 0 ? config.checkpointsDir().resolve("step-" + start.step()) : null));

            StepMetrics last = null;
            EvalMetrics lastEval = null;
            Files.createDirectories(config.outputs());
            try (Metrics metrics = Metrics.open(config.metricsFile(), start.metricsBytes())) {
                while (step < totalSteps) {
                    List<Batch> micro = cursor.take(config.gradAccum());
                    if (micro.isEmpty()) break;
                    long stepStart = System.nanoTime();
                    boolean onPolicy = OnPolicySampler.draws(config.seed(), step, config.onPolicyFraction());
                    List<RemoteScorer.Pending> scoring = null;
                    if (onPolicy) {
                        List<Batch> sampled = new ArrayList<>(micro.size());
                        if (remote != null) scoring = new ArrayList<>(micro.size());
                        for (int i = 0; i < micro.size(); i++) {
                            Batch s = sampler.sample(micro.get(i), step, i);
                            sampled.add(s);
                            // scored while the next micro-batch is sampled and the earlier ones train
                            if (remote != null) scoring.add(remote.submit(s, step + 1));
                        }
                        micro = sampled;
                    }
                    long positions = 0;
                    long stepTokens = 0;
                    for (Batch b : micro) {
                        positions += LearnedRows.count(b);
                        stepTokens += b.tokens();
                    }
                    Sums sums = new Sums();
                    try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                        for (int i = 0; i < micro.size(); i++) {
                            Batch b = micro.get(i);
                            if (scoring != null) {
                                RemoteScorer.Scored scored = remote.await(scoring.get(i));
                                b = scored.batch();
                                teacherTokens += scored.teacherTokens();
                            }
                            sums.add(loss.backward(collector, b, positions, onPolicy));
                        }
                    }
                    double gradNorm = GradClip.clip(paramList, config.maxGradNorm());
                    double lr = schedule.at(step);
                    if (Double.isFinite(gradNorm)) {
                        adamW.step(params, lr);
                    } else {
                        listener.onWarning("step " + (step + 1) + ": the gradient norm is " + gradNorm
                                + " (non-finite gradients: " + String.join(", ", Gradients.nonFinite(params))
                                + "); skipping the update (lower --lr if this repeats)");
                    }
                    Gradients.zero(paramList);
                    step++;
                    tokens += stepTokens;
                    trainSeconds += (System.nanoTime() - stepStart) / 1e9;
                    double elapsed = elapsedBefore + (System.nanoTime() - wallStart) / 1e9;
                    last = new StepMetrics(step, totalSteps, cursor.epochProgress(), sums.loss / Math.max(1, positions),
                            sums.ceSum / Math.max(1, sums.positions),
                            sums.kdPositions == 0 ? Double.NaN : sums.kdSum / sums.kdPositions,
                            sums.positions == 0 ? 0 : (double) sums.kdPositions / sums.positions, lr, gradNorm,
                            tokens, trainSeconds > 0 ? tokens / trainSeconds : 0, elapsed, onPolicy,
                            remote == null ? -1 : teacherTokens);
                    metrics.append(Metrics.stepLine(last, config.onPolicyFraction() > 0));
                    listener.onStep(last);

                    boolean budgetSpent = remote != null && remote.budgetReached();
                    if (budgetSpent) {
                        listener.onWarning("the on-policy teacher's budget is spent: training stops after step " + step
                                + " of " + totalSteps + " (" + teacherTokens + " teacher tokens; resume with a larger"
                                + " --max-teacher-tokens or --budget-usd to go on)");
                    }
                    boolean end = step == totalSteps || cursor.exhausted() || budgetSpent;
                    if (heldOut != null && (end || (config.evalEvery() > 0 && step % config.evalEvery() == 0))) {
                        lastEval = heldOut.evaluate(step);
                        metrics.append(Metrics.evalLine(lastEval, elapsed));
                        listener.onEval(lastEval);
                    }
                    // the last step is saved too, so a finished run can be extended with --resume
                    if (config.saveEvery() > 0 && (step % config.saveEvery() == 0 || end)) {
                        double elapsedNow = elapsedBefore + (System.nanoTime() - wallStart) / 1e9;
                        TrainerState state = new TrainerState(TrainerState.FORMAT, step, adamW.steps(), cursor.epoch(),
                                cursor.batch(), tokens, trainSeconds, elapsedNow, metrics.sync(), shaping, "none");
                        checkpoints.save(state, adamW, record.at(step, tokens));
                    }
                    if (budgetSpent) break;
                }
                if (lastEval == null && heldOut != null) {
                    lastEval = heldOut.evaluate(step);
                    // resumed from the final checkpoint: metrics.jsonl already ends with this evaluation
                    if (start.step() < totalSteps) {
                        double elapsed = elapsedBefore + (System.nanoTime() - wallStart) / 1e9;
                        metrics.append(Metrics.evalLine(lastEval, elapsed));
                    }
                    listener.onEval(lastEval);
                }
                metrics.sync();
            }
            student.setTrainable(false);
            Path out = FinalStudent.save(config, student, record.at(step, tokens));
            double elapsed = elapsedBefore + (System.nanoTime() - wallStart) / 1e9;
            return new TrainSummary(step, start.step(), tokens, trainSeconds > 0 ? tokens / trainSeconds : 0,
                    elapsed, last == null ? Double.NaN : last.loss(),
                    lastEval == null ? Double.NaN : lastEval.loss(),
                    lastEval == null ? Double.NaN : lastEval.top1Agreement(),
                    lastEval == null ? Double.NaN : lastEval.kl(), last == null ? 0 : last.kdShare(), mode, out);
        }
    }

    /** Loss sums of one step, over its micro-batches, as plain numbers. */
    private static final class Sums {
        double loss;
        long positions;
        long kdPositions;
        double kdSum;
        double ceSum;

        void add(LossSum part) {
            loss += MicroBatchLoss.value(part.sum());
            positions += part.positions();
            kdPositions += part.kdPositions();
            kdSum += part.kdSum();
            ceSum += part.ceSum();
            part.sum().close();
        }
    }

    private long totalSteps(Batcher batcher) {
        if (config.maxSteps() > 0) return config.maxSteps();
        long micro = 0;
        for (int e = 0; e < config.epochs(); e++) micro += batcher.plan(config.seed(), e).size();
        return (micro + config.gradAccum() - 1) / config.gradAccum();
    }
}
