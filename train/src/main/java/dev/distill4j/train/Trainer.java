package dev.distill4j.train;

import dev.distill4j.core.InvalidInputException;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.model.config.GenerationConfig;
import dev.distill4j.model.config.ModelConfig;
import dev.distill4j.model.generate.Generation;
import dev.distill4j.model.generate.Generator;
import dev.distill4j.model.generate.SamplingParams;
import dev.distill4j.model.io.Checkpoint;
import dev.distill4j.model.io.DType;
import dev.distill4j.model.nn.CausalLM;
import dev.distill4j.model.tokenizer.ChatTemplate;
import dev.distill4j.model.tokenizer.HfTokenizer;
import dev.distill4j.train.data.Batch;
import dev.distill4j.train.data.Batcher;
import dev.distill4j.train.data.ExampleBuilder;
import dev.distill4j.train.data.ExampleSet;
import dev.distill4j.train.data.ExampleSettings;
import dev.distill4j.train.data.TrainingExample;
import dev.distill4j.train.loss.ChunkedLoss;
import dev.distill4j.train.loss.Divergence;
import dev.distill4j.train.loss.FullKdLoss;
import dev.distill4j.train.loss.LossSum;
import dev.distill4j.train.loss.SftLoss;
import dev.distill4j.train.loss.TopKKdLoss;
import dev.distill4j.train.loss.TopKTeacher;
import dev.distill4j.train.optim.AdamW;
import dev.distill4j.train.optim.GradClip;
import dev.distill4j.train.optim.Gradients;
import dev.distill4j.train.optim.LrSchedule;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

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
                              double elapsedSeconds, boolean onPolicy) {}

    /** A held-out evaluation; {@code kl} is NaN where no teacher distribution exists. */
    public record EvalMetrics(long step, double loss, double top1Agreement, double kl, long positions) {}

    private final TrainConfig config;
    private final TrainListener listener;
    private final NDManager manager;
    private final HfTokenizer tokenizer;
    private final CausalLM student;
    private final CausalLM teacher;
    private final LossMode mode;
    private final SftLoss sft = new SftLoss();
    private final TopKKdLoss topK;
    private final FullKdLoss full;
    private final FullKdLoss onPolicyLoss;
    private final List<Integer> eosIds;
    private final ExampleSettings examples;
    private final TopKKdLoss topKl = new TopKKdLoss(1.0, 1.0);
    private final FullKdLoss forwardKl = new FullKdLoss(new Divergence.ForwardKl(), 1.0);

    private Trainer(TrainConfig config, TrainListener listener, NDManager manager, HfTokenizer tokenizer,
            CausalLM student, CausalLM teacher, LossMode mode, List<Integer> eosIds, ExampleSettings examples) {
        this.config = config;
        this.listener = listener;
        this.manager = manager;
        this.tokenizer = tokenizer;
        this.student = student;
        this.teacher = teacher;
        this.mode = mode;
        this.topK = new TopKKdLoss(config.alpha(), config.temperature());
        Divergence divergence = config.beta() == null ? new Divergence.ForwardKl()
                : new Divergence.GeneralizedJsd(config.beta());
        this.full = new FullKdLoss(divergence, config.temperature(), config.alpha());
        this.onPolicyLoss = new FullKdLoss(divergence, config.temperature());
        this.eosIds = eosIds;
        this.examples = examples;
    }

    /** Runs training as configured; see the class comment. */
    public static TrainSummary run(TrainConfig config, TrainListener listener) throws IOException {
        TrainListener l = listener == null ? new TrainListener() {} : listener;
        checkFolders(config);
        try (NDManager manager = NDManager.newBaseManager();
             HfTokenizer tokenizer = HfTokenizer.load(config.studentDir())) {
            ExampleSet data;
            ExampleSettings examples;
            try (RunStore store = RunStore.openExisting(config.runDir())) {
                ExampleBuilder builder = config.examples()
                        .builder(tokenizer, ChatTemplate.load(config.studentDir()).orElse(null)).build();
                data = builder.examples(store);
                examples = config.examples().withPromptFormat(builder.promptFormat());   // AUTO resolved, recorded
            }
            if (data.train().isEmpty()) {
                throw new InvalidInputException("run " + config.runDir() + " has no training examples left after"
                        + " holding out prompts for evaluation: harvest more prompts or lower --eval-fraction");
            }
            ModelConfig studentConfig = ModelConfig.read(config.studentDir());
            CausalLM teacher = loadTeacher(config, studentConfig, tokenizer, manager);
            LossMode mode = resolve(config, data, teacher != null);
            CausalLM student = CausalLM.fromWeights(studentConfig,
                    torchOwned(Checkpoint.load(config.studentDir(), manager)), manager);
            try {
                return new Trainer(config, l, manager, tokenizer, student, teacher, mode,
                        eosIds(config, studentConfig, tokenizer), examples).train(data);
            } finally {
                student.close();
                if (teacher != null) teacher.close();
            }
        }
    }

    private static void checkFolders(TrainConfig config) {
        if (!Files.isRegularFile(config.runDir().resolve(RunStore.FILE))) {
            throw new InvalidInputException("run " + config.runDir() + " has no " + RunStore.FILE
                    + ": harvest into it first (distill harvest --run " + config.runDir() + " ...)");
        }
        for (Path dir : config.teacherModelDir() == null ? List.of(config.studentDir())
                : List.of(config.studentDir(), config.teacherModelDir())) {
            String flag = dir == config.studentDir() ? "--student" : "--teacher-model";
            if (!Files.isRegularFile(dir.resolve(Checkpoint.CONFIG_FILE))) {
                throw new InvalidInputException(flag + " " + dir + " is not a model folder (no config.json):"
                        + " point it at a Hugging Face model folder, or create one with distill model init");
            }
        }
    }

    private static CausalLM loadTeacher(TrainConfig config, ModelConfig studentConfig, HfTokenizer studentTokenizer,
            NDManager manager) throws IOException {
        Path dir = config.teacherModelDir();
        if (dir == null) return null;
        ModelConfig teacherConfig = ModelConfig.read(dir);
        String mismatch = null;
        if (teacherConfig.vocabSize() != studentConfig.vocabSize()) {
            mismatch = "its vocabulary has " + teacherConfig.vocabSize() + " entries, the student's "
                    + studentConfig.vocabSize();
        } else {
            try (HfTokenizer teacherTokenizer = HfTokenizer.load(dir)) {
                int n = Math.min(teacherTokenizer.vocabSize(), studentTokenizer.vocabSize());
                if (teacherTokenizer.vocabSize() != studentTokenizer.vocabSize()) {
                    mismatch = "its tokenizer has " + teacherTokenizer.vocabSize() + " tokens, the student's "
                            + studentTokenizer.vocabSize();
                }
                for (int id = 0; id < n && mismatch == null; id++) {
                    if (!Arrays.equals(teacherTokenizer.tokenBytes(id), studentTokenizer.tokenBytes(id))) {
                        mismatch = "token " + id + " is '" + teacherTokenizer.tokenString(id) + "' there and '"
                                + studentTokenizer.tokenString(id) + "' in the student";
                    }
                }
            }
        }
        if (mismatch != null) {
            throw new InvalidInputException("--teacher-model " + dir + " does not share the student's vocabulary ("
                    + mismatch + "): full-logit distillation needs the same tokenizer; drop --teacher-model to train"
                    + " on the run's recorded top-k logprobs or text");
        }
        CausalLM teacher = CausalLM.fromWeights(teacherConfig, torchOwned(Checkpoint.load(dir, manager)), manager);
        teacher.setTrainable(false);
        return teacher;
    }

    /**
     * Copies of loaded tensors in memory PyTorch allocated. The safetensors reader hands PyTorch Java direct buffers
     * (kept alive by the Java wrapper, aligned as the JVM pleases); parameters that are updated in place for the whole
     * run are safer in storage PyTorch owns and aligns, like every tensor the run creates later.
     */
    private static Map<String, NDArray> torchOwned(Map<String, NDArray> loaded) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : loaded.entrySet()) {
            NDArray copy = e.getValue().duplicate();
            copy.setName(e.getKey());
            out.put(e.getKey(), copy);
            e.getValue().close();
        }
        return out;
    }

    /** Ids that end a sampled continuation: generation_config.json's, config.json's and the tokenizer's EOS. */
    private static List<Integer> eosIds(TrainConfig config, ModelConfig studentConfig, HfTokenizer tokenizer)
            throws IOException {
        Set<Integer> ids = new LinkedHashSet<>();
        GenerationConfig.read(config.studentDir()).ifPresent(g -> ids.addAll(g.eosTokenIds()));
        ids.addAll(studentConfig.eosTokenIds());
        int eos = tokenizer.idOf(tokenizer.specialTokens().eosToken());
        if (eos >= 0) ids.add(eos);
        return List.copyOf(ids);
    }

    private static LossMode resolve(TrainConfig config, ExampleSet data, boolean hasTeacher) {
        boolean anyTopK = data.train().stream().anyMatch(e -> e.kd() != null);
        return switch (config.loss()) {
            case AUTO -> hasTeacher ? LossMode.FULL : anyTopK ? LossMode.TOPK : LossMode.SFT;
            case SFT -> LossMode.SFT;
            case TOPK -> {
                if (!anyTopK) {
                    throw new InvalidInputException("--loss topk needs samples with top-k logprobs aligned to the"
                            + " student's tokens, and run " + config.runDir() + " has none (its teacher gave text only,"
                            + " or no token aligned): use --loss sft, or harvest with --top-logprobs");
                }
                yield LossMode.TOPK;
            }
            case FULL -> {
                if (!hasTeacher) {
                    throw new InvalidInputException("--loss full needs a local teacher: pass --teacher-model DIR"
                            + " (a model with the student's vocabulary)");
                }
                yield LossMode.FULL;
            }
        };
    }

    // ---------------------------------------------------------------------------------------------- the loop

    private TrainSummary train(ExampleSet data) throws IOException {
        int padId = padId();
        Batcher batcher = new Batcher(data.train(), config.batchTokens(), padId);
        Batcher evalBatcher = data.eval().isEmpty() ? null : new Batcher(data.eval(), config.batchTokens(), padId);
        int batchesPerEpoch = batcher.plan(config.seed(), 0).size();
        long totalSteps = totalSteps(batcher);
        if (config.warmupSteps() > totalSteps) {
            throw new InvalidInputException("--warmup-steps " + config.warmupSteps() + " is more than the run's "
                    + totalSteps + " steps: lower it, or train longer (--epochs, --max-steps)");
        }
        LrSchedule schedule = new LrSchedule(config.lr(), 0.0, config.warmupSteps(), totalSteps);
        TrainerState.Shaping shaping = new TrainerState.Shaping(config.seed(), config.maxSeqLen(),
                config.batchTokens(), config.gradAccum(), config.epochs(), config.maxSteps(), totalSteps,
                config.warmupSteps(), config.lr(), config.evalFraction(), data.train().size(),
                examplesHash(data.train()));

        Map<String, NDArray> params = student.parameters();
        Collection<NDArray> paramList = params.values();
        try (AdamW adamW = AdamW.builder().optWeightDecay(config.weightDecay()).build()) {
            Started started = restore(shaping, adamW, TrainingRecord.begin(config, examples,
                    Objective.of(config, mode), shaping));
            TrainerState start = started.state();
            TrainingRecord record = started.record();
            student.setTrainable(true);
            Cursor cursor = new Cursor(batcher, start.epoch(), start.batchInEpoch());
            long step = start.step();
            long tokens = start.tokens();
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
                    boolean onPolicy = isOnPolicy(config.seed(), step, config.onPolicyFraction());
                    if (onPolicy) {
                        List<Batch> sampled = new ArrayList<>(micro.size());
                        for (int i = 0; i < micro.size(); i++) sampled.add(sampled(micro.get(i), step, i));
                        micro = sampled;
                    }
                    long positions = 0;
                    long stepTokens = 0;
                    for (Batch b : micro) {
                        positions += learnedPositions(b);
                        stepTokens += b.tokens();
                    }
                    Sums sums = new Sums();
                    try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                        for (Batch b : micro) sums.add(backward(collector, b, positions, onPolicy));
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
                            tokens, trainSeconds > 0 ? tokens / trainSeconds : 0, elapsed, onPolicy);
                    metrics.append(stepLine(last, config.onPolicyFraction() > 0));
                    listener.onStep(last);

                    boolean end = step == totalSteps || cursor.exhausted();
                    if (evalBatcher != null && (end || (config.evalEvery() > 0 && step % config.evalEvery() == 0))) {
                        lastEval = evaluate(evalBatcher, step);
                        metrics.append(evalLine(lastEval, elapsed));
                        listener.onEval(lastEval);
                    }
                    // the last step is saved too, so a finished run can be extended with --resume
                    if (config.saveEvery() > 0 && (step % config.saveEvery() == 0 || end)) {
                        double elapsedNow = elapsedBefore + (System.nanoTime() - wallStart) / 1e9;
                        TrainerState state = new TrainerState(TrainerState.FORMAT, step, adamW.steps(), cursor.epoch,
                                cursor.batch, tokens, trainSeconds, elapsedNow, metrics.sync(), shaping, "none");
                        Map<String, NDArray> optimizerState;
                        try (NDManager scope = manager.newSubManager()) {
                            optimizerState = adamW.exportState(scope);
                            optimizerState.remove("step");
                            Path dir = TrainerCheckpoint.save(config.checkpointsDir(), student.config(), params,
                                    optimizerState, state, record.at(step, tokens), config.keepCheckpoints());
                            listener.onCheckpoint(dir, step);
                        }
                    }
                }
                if (lastEval == null && evalBatcher != null) {
                    lastEval = evaluate(evalBatcher, step);
                    // resumed from the final checkpoint: metrics.jsonl already ends with this evaluation
                    if (start.step() < totalSteps) {
                        metrics.append(evalLine(lastEval, elapsedBefore + (System.nanoTime() - wallStart) / 1e9));
                    }
                    listener.onEval(lastEval);
                }
                metrics.sync();
            }
            student.setTrainable(false);
            Path out = saveStudent(record.at(step, tokens));
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
            loss += value(part.sum());
            positions += part.positions();
            kdPositions += part.kdPositions();
            kdSum += part.kdSum();
            ceSum += part.ceSum();
            part.sum().close();
        }
    }

    private static double value(NDArray scalar) {
        return scalar.toType(DataType.FLOAT64, false).getDouble();
    }

    /** A step's metrics line; {@code on_policy} only in runs that may take on-policy steps. */
    private static ObjectNode stepLine(StepMetrics m, boolean withOnPolicy) {
        ObjectNode line = Json.object();
        line.put("step", m.step());
        line.put("epoch", round(m.epoch(), 4));
        line.put("loss", m.loss());
        line.put("ce", m.ce());
        putFinite(line, "kd", m.kd());
        line.put("kd_share", m.kdShare());
        line.put("lr", m.lr());
        putFinite(line, "grad_norm", m.gradNorm());
        line.put("tokens", m.tokens());
        line.put("tokens_per_s", round(m.tokensPerSecond(), 1));
        line.put("elapsed", round(m.elapsedSeconds(), 3));
        if (withOnPolicy) line.put("on_policy", m.onPolicy());
        return line;
    }

    private static ObjectNode evalLine(EvalMetrics e, double elapsed) {
        ObjectNode line = Json.object();
        line.put("step", e.step());
        line.put("eval_loss", e.loss());
        line.put("eval_top1_agreement", e.top1Agreement());
        putFinite(line, "eval_kl", e.kl());
        line.put("eval_positions", e.positions());
        line.put("elapsed", round(elapsed, 3));
        return line;
    }

    private static void putFinite(ObjectNode line, String key, double value) {
        if (Double.isFinite(value)) line.put(key, value);
        else line.putNull(key);
    }

    private static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }

    // ------------------------------------------------------------------------------------------- resume

    /** Where training starts: step 0 or a checkpoint's state, and the training record it continues. */
    private record Started(TrainerState state, TrainingRecord record) {}

    private Started restore(TrainerState.Shaping shaping, AdamW adamW, TrainingRecord fresh) throws IOException {
        List<Path> existing = TrainerCheckpoint.list(config.checkpointsDir());
        if (!config.resume()) {
            if (!existing.isEmpty()) {
                throw new InvalidInputException("run " + config.runDir() + " already has training checkpoints ("
                        + existing.getFirst().getFileName() + "): pass --resume to continue that training, or delete "
                        + config.checkpointsDir() + " to start over");
            }
            return new Started(new TrainerState(TrainerState.FORMAT, 0, 0, 0, 0, 0, 0, 0, 0, shaping, "none"), fresh);
        }
        // as Hugging Face's Trainer: --resume promises a continuation, so without one it is an error, not step 0
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

    /** The position in the stream of micro-batches: epoch, and the next batch within it. */
    private final class Cursor {
        private final Batcher batcher;
        int epoch;
        int batch;
        private List<int[]> plan;
        private boolean exhausted;

        Cursor(Batcher batcher, int epoch, int batch) {
            this.batcher = batcher;
            this.epoch = epoch;
            this.plan = batcher.plan(config.seed(), epoch);
            if (batch < 0 || batch > plan.size()) {
                throw new IllegalArgumentException("batch " + batch + " is outside epoch " + epoch + " ("
                        + plan.size() + " batches): the checkpoint was made with other data or --batch-tokens");
            }
            this.batch = batch;
            advanceEpoch();
        }

        /** Moves past a finished epoch; with --max-steps the data cycles, otherwise it ends after --epochs. */
        private void advanceEpoch() {
            if (batch < plan.size()) return;
            if (config.maxSteps() == 0 && epoch + 1 >= config.epochs()) {
                exhausted = true;
                return;
            }
            epoch++;
            batch = 0;
            plan = batcher.plan(config.seed(), epoch);
        }

        List<Batch> take(int n) {
            List<Batch> out = new ArrayList<>(n);
            while (out.size() < n && !exhausted) {
                out.add(batcher.batch(batch, plan.get(batch)));
                batch++;
                advanceEpoch();
            }
            return out;
        }

        boolean exhausted() { return exhausted; }

        double epochProgress() {
            return exhausted ? epoch + 1 : epoch + (double) batch / plan.size();
        }
    }

    // ------------------------------------------------------------------------------------------- one micro-batch

    /** The positions of a batch whose next token is learned, as rows of the flattened [B·T, D] hidden states. */
    private record Rows(long[] rows, long[] targets, TopKTeacher topK) {
        int size() { return rows.length; }
    }

    private Rows rows(Batch b) {
        int t = b.seqLen();
        int k = Math.max(1, b.kdK());
        List<Long> rowList = new ArrayList<>();
        for (int row = 0; row < b.size(); row++) {
            for (int i = 0; i + 1 < t; i++) {
                if (b.labels()[row * t + i + 1] != TrainingExample.IGNORE) rowList.add((long) row * t + i);
            }
        }
        int n = rowList.size();
        long[] rows = new long[n];
        long[] targets = new long[n];
        long[] ids = new long[n * k];
        float[] logprobs = new float[n * k];
        Arrays.fill(ids, -1);
        Arrays.fill(logprobs, Float.NEGATIVE_INFINITY);
        for (int r = 0; r < n; r++) {
            rows[r] = rowList.get(r);
            int next = (int) rows[r] + 1;   // the position whose token (and teacher distribution) row r predicts
            targets[r] = b.labels()[next];
            if (b.kdK() > 0 && b.kdPresent()[next]) {
                for (int j = 0; j < b.kdK(); j++) {
                    float lp = b.kdLogprobs()[next * b.kdK() + j];
                    if (lp != Float.NEGATIVE_INFINITY) {
                        ids[r * k + j] = b.kdIds()[next * b.kdK() + j];
                        logprobs[r * k + j] = lp;
                    }
                }
            }
        }
        TopKTeacher teacher = mode == LossMode.TOPK || b.kdK() > 0 ? TopKTeacher.of(k, ids, logprobs) : null;
        return new Rows(rows, targets, teacher);
    }

    /** Hidden states [N, D] of the selected rows, in the manager of {@code ids}. */
    private static NDArray select(CausalLM model, NDArray ids, NDArray attention, Rows rows) {
        NDArray hidden = model.forwardHidden(ids, attention);
        long width = hidden.getShape().get(2);
        NDArray index = ids.getManager().create(rows.rows());
        return hidden.reshape(-1, width).get(new NDIndex("{}", index));
    }

    private int chunkRows() {
        return config.chunkRows() > 0 ? config.chunkRows() : ChunkedLoss.rowsFor(student.config().vocabSize());
    }

    private LossSum backward(GradientCollector collector, Batch b, long stepPositions, boolean onPolicy) {
        Rows rows = rows(b);
        try (NDManager scope = manager.newSubManager()) {
            NDArray ids = scope.create(b.inputIds(), new Shape(b.size(), b.seqLen()));
            NDArray attention = scope.create(b.attentionMask(), new Shape(b.size(), b.seqLen()));
            NDArray teacherRows = mode == LossMode.FULL ? select(teacher, ids, attention, rows).stopGradient() : null;
            NDArray hidden = select(student, ids, attention, rows);
            LossSum sum = ChunkedLoss.backward(collector, hidden, student::logits,
                    (logits, from, to) -> rowLoss(logits, rows, teacherRows, from, to, onPolicy), stepPositions,
                    chunkRows());
            NDArray total = sum.sum();
            total.attach(manager);
            return sum;
        }
    }

    /** The training loss of rows [from, to); on the student's own samples the divergence alone. */
    private LossSum rowLoss(NDArray logits, Rows rows, NDArray teacherRows, long from, long to, boolean onPolicy) {
        NDManager m = logits.getManager();
        NDArray targets = m.create(Arrays.copyOfRange(rows.targets(), (int) from, (int) to));
        NDArray mask = m.ones(new Shape(to - from));
        return switch (mode) {
            case SFT, AUTO -> sft.compute(logits, targets, mask);
            case TOPK -> topK.compute(logits, rows.topK().rows((int) from, (int) to), targets, mask);
            case FULL -> (onPolicy ? onPolicyLoss : full).compute(logits, teacherLogits(teacherRows, m, from, to),
                    targets, mask);
        };
    }

    private NDArray teacherLogits(NDArray teacherRows, NDManager m, long from, long to) {
        NDArray h = teacherRows.get(new NDIndex("{}:{}", from, to));
        h.attach(m);
        NDArray logits = teacher.logits(h);
        logits.attach(m);
        return logits;
    }

    // ------------------------------------------------------------------------------------------- on-policy

    /**
     * Whether optimizer step {@code step} (0-based) trains on the student's own samples: a uniform draw from a hash
     * of (seed, step) below {@code fraction}. A function of the step alone, so a resumed run takes the same
     * on-policy steps as an uninterrupted one, and λ = 0 never draws.
     */
    public static boolean isOnPolicy(long seed, long step, double fraction) {
        if (fraction <= 0) return false;
        double u = (mix(seed, 0x6F6E2D706F6C6963L, step) >>> 11) * 0x1.0p-53;   // [0, 1)
        return u < fraction;
    }

    /**
     * The batch with every row's reply replaced by a continuation the student samples from the row's prompt: at
     * --temperature, up to the batch's longest reply (and no further than the row's room in the padded batch, so
     * the batch stays within --batch-tokens), stopping at an EOS or the end-of-turn token the examples end their
     * replies with. Every sampled token is learned. The sampling seed is a hash of (seed, step, micro-batch), so a
     * resumed run samples the same tokens from the same weights.
     */
    private Batch sampled(Batch b, long step, int microBatch) {
        int t = b.seqLen();
        int n = b.size();
        int[] promptLen = new int[n];
        int longestReply = 0;
        Set<Integer> stops = new LinkedHashSet<>(eosIds);
        List<int[]> prompts = new ArrayList<>(n);
        for (int row = 0; row < n; row++) {
            int len = 0;
            while (len < t && b.attentionMask()[row * t + len] == 1) len++;
            int first = 1;
            while (first < len && b.labels()[row * t + first] == TrainingExample.IGNORE) first++;
            int lastLabel = -1;
            for (int i = first; i < len; i++) if (b.labels()[row * t + i] != TrainingExample.IGNORE) lastLabel = i;
            if (lastLabel < 0) first = len;    // nothing learned in this row: keep it as it is, learn nothing
            else if (tokenizer.isSpecial(b.labels()[row * t + lastLabel])) stops.add(b.labels()[row * t + lastLabel]);
            promptLen[row] = first;
            longestReply = Math.max(longestReply, len - first);
            prompts.add(Arrays.copyOfRange(b.inputIds(), row * t, row * t + first));
        }
        // identical prompts (several samples of one prompt) get their own seeds, so they do not sample the same text
        int[] copy = new int[n];
        Map<String, Integer> seen = new HashMap<>();
        int copies = 0;
        for (int row = 0; row < n; row++) {
            copy[row] = seen.merge(Arrays.toString(prompts.get(row)), 1, Integer::sum) - 1;
            copies = Math.max(copies, copy[row] + 1);
        }
        int[][] continuation = new int[n][];
        Generator generator = new Generator(student, tokenizer);
        for (int c = 0; c < copies; c++) {
            List<Integer> rowsOfCopy = new ArrayList<>();
            List<int[]> promptsOfCopy = new ArrayList<>();
            for (int row = 0; row < n; row++) {
                if (copy[row] == c && promptLen[row] < t) {
                    rowsOfCopy.add(row);
                    promptsOfCopy.add(prompts.get(row));
                }
            }
            if (rowsOfCopy.isEmpty()) continue;
            SamplingParams params = new SamplingParams(longestReply, config.temperature(), 0, 1.0,
                    mix(config.seed(), step, (long) microBatch << 20 | c), List.copyOf(stops), List.of(), 0);
            List<Generation> out = generator.generate(promptsOfCopy, params);
            for (int i = 0; i < rowsOfCopy.size(); i++) continuation[rowsOfCopy.get(i)] = out.get(i).tokenIds();
        }

        int width = 1;
        for (int row = 0; row < n; row++) {
            int[] gen = continuation[row] == null ? new int[0] : continuation[row];
            continuation[row] = Arrays.copyOf(gen, Math.min(gen.length, t - promptLen[row]));
            width = Math.max(width, promptLen[row] + continuation[row].length);
        }
        int padId = padId();
        int[] ids = new int[n * width];
        int[] attention = new int[n * width];
        int[] labels = new int[n * width];
        Arrays.fill(ids, padId);
        Arrays.fill(labels, TrainingExample.IGNORE);
        for (int row = 0; row < n; row++) {
            int p = promptLen[row];
            int[] gen = continuation[row];
            System.arraycopy(prompts.get(row), 0, ids, row * width, p);
            System.arraycopy(gen, 0, ids, row * width + p, gen.length);
            System.arraycopy(gen, 0, labels, row * width + p, gen.length);
            Arrays.fill(attention, row * width, row * width + p + gen.length, 1);
        }
        return new Batch(b.index(), n, width, b.exampleIndices(), b.capabilities(), ids, attention, labels, 0,
                new int[0], new float[0], new float[n * width], new boolean[n * width]);
    }

    private int padId() {
        return Math.max(0, tokenizer.idOf(tokenizer.specialTokens().padToken()));
    }

    /** SplitMix64 over three values: unrelated streams for nearby seeds, steps and micro-batches. */
    private static long mix(long a, long b, long c) {
        long z = a;
        for (long v : new long[] {b, c}) {
            z += 0x9E3779B97F4A7C15L + v;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            z ^= z >>> 31;
        }
        return z;
    }

    // ------------------------------------------------------------------------------------------- evaluation

    /**
     * Loss, top-1 agreement (the student's argmax equals the teacher's token at a learned position) and KL to the
     * teacher over the held-out examples: KL over the recorded top-k + tail buckets where the run has them, the full
     * forward KL with a local teacher.
     */
    private EvalMetrics evaluate(Batcher evalBatcher, long step) {
        double loss = 0, klSum = 0;
        long positions = 0, agree = 0, klPositions = 0;
        List<int[]> plan = evalBatcher.plan(config.seed(), 0);
        for (int i = 0; i < plan.size(); i++) {
            Batch b = evalBatcher.batch(i, plan.get(i));
            Rows rows = rows(b);
            if (rows.size() == 0) continue;
            try (NDManager scope = manager.newSubManager()) {
                NDArray ids = scope.create(b.inputIds(), new Shape(b.size(), b.seqLen()));
                NDArray attention = scope.create(b.attentionMask(), new Shape(b.size(), b.seqLen()));
                NDArray hidden = select(student, ids, attention, rows).stopGradient();
                NDArray teacherRows = mode == LossMode.FULL ? select(teacher, ids, attention, rows) : null;
                for (long from = 0; from < rows.size(); from += chunkRows()) {
                    long to = Math.min(rows.size(), from + chunkRows());
                    try (NDManager chunk = scope.newSubManager()) {
                        NDArray h = hidden.get(new NDIndex("{}:{}", from, to));
                        h.attach(chunk);
                        NDArray logits = student.logits(h);
                        LossSum part = rowLoss(logits, rows, teacherRows, from, to, false);
                        loss += value(part.sum());
                        positions += part.positions();
                        NDArray targets = chunk.create(Arrays.copyOfRange(rows.targets(), (int) from, (int) to));
                        agree += logits.argMax(1).eq(targets).sum().toType(DataType.INT64, false).getLong();
                        NDArray mask = chunk.ones(new Shape(to - from));
                        LossSum kl = null;
                        if (teacherRows != null) {
                            kl = forwardKl.compute(logits, teacherLogits(teacherRows, chunk, from, to), mask);
                        } else if (rows.topK() != null) {
                            kl = topKl.compute(logits, rows.topK().rows((int) from, (int) to), targets, mask);
                        }
                        if (kl != null) {
                            klSum += kl.kdSum();
                            klPositions += kl.kdPositions();
                        }
                    }
                }
            }
        }
        return new EvalMetrics(step, loss / Math.max(1, positions), (double) agree / Math.max(1, positions),
                klPositions == 0 ? Double.NaN : klSum / klPositions, positions);
    }

    // ------------------------------------------------------------------------------------------- final student

    /**
     * Saves the student to {@code <run>/student} in Hugging Face layout with its {@link TrainingRecord}, replacing an
     * earlier one atomically.
     */
    private Path saveStudent(TrainingRecord record) throws IOException {
        Path out = config.studentOut();
        Path tmp = config.outputs().resolve(".student.tmp");
        Path old = config.outputs().resolve(".student.old");
        TrainerCheckpoint.deleteTree(tmp);
        Checkpoint.save(tmp, student.config(), student.parameters(), Checkpoint.SaveOptions.defaults()
                .withDtype(DType.F32)
                .withTokenizerFrom(config.studentDir())
                .withGenerationConfig(GenerationConfig.read(config.studentDir())
                        .orElse(GenerationConfig.of(student.config()))));
        record.write(tmp);
        if (Files.exists(out)) {
            TrainerCheckpoint.deleteTree(old);
            Files.move(out, old, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
        TrainerCheckpoint.deleteTree(old);
        return out;
    }

    private long totalSteps(Batcher batcher) {
        if (config.maxSteps() > 0) return config.maxSteps();
        long micro = 0;
        for (int e = 0; e < config.epochs(); e++) micro += batcher.plan(config.seed(), e).size();
        return (micro + config.gradAccum() - 1) / config.gradAccum();
    }

    private static long learnedPositions(Batch b) {
        long n = 0;
        int t = b.seqLen();
        for (int row = 0; row < b.size(); row++) {
            for (int i = 1; i < t; i++) if (b.labels()[row * t + i] != TrainingExample.IGNORE) n++;
        }
        return n;
    }

    private static String examplesHash(List<TrainingExample> examples) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            for (TrainingExample e : examples) {
                digest.update(e.sampleKey().getBytes(StandardCharsets.UTF_8));
                digest.update((byte) 0);
                digest.update(Integer.toString(e.length()).getBytes(StandardCharsets.UTF_8));
                digest.update((byte) '\n');
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
