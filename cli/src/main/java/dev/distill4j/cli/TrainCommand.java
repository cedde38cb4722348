package dev.distill4j.cli;

import dev.distill4j.train.LossMode;
import dev.distill4j.train.OnPolicyTeacher;
import dev.distill4j.train.RunShare;
import dev.distill4j.train.TrainConfig;
import dev.distill4j.train.TrainListener;
import dev.distill4j.train.TrainSummary;
import dev.distill4j.train.Trainer;
import dev.distill4j.train.TrainingRecord;
import dev.distill4j.train.data.ExampleBuilder.PromptFormat;
import dev.distill4j.train.data.ExampleBuilder.TokenSource;
import dev.distill4j.train.data.ExampleSettings;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Train a student on a run's samples and save it to <run>/student (Hugging Face layout).",
                "",
                "The loss follows what the teacher gave: KL to its top-k logprobs where the run recorded them, "
                        + "cross-entropy on its text elsewhere, or KL to a local teacher's full distribution with "
                        + "--teacher-model. Held-out prompts are evaluated every --eval-every steps; every step is "
                        + "logged to <run>/metrics.jsonl.",
                "",
                "Resumable: checkpoints go to <run>/checkpoints/step-N every --save-every steps and at the last "
                        + "step (the last 2 are kept); --resume continues from the newest one that verifies, with the "
                        + "same batches and learning rates as an uninterrupted run, and refuses other loss settings "
                        + "unless --allow-changed names them. A larger --max-steps (or --epochs) with --resume extends "
                        + "a finished run.",
                "",
                "The student folder records how it was trained (" + TrainingRecord.FILE + ": example settings, "
                        + "loss, schedule, run); distill eval reads it, so it scores the prompts training held out.",
                "",
                "On-policy distillation from a server: with --on-policy-teacher URL --model NAME the on-policy "
                        + "steps' samples are scored by an OpenAI-compatible server (distill serve, vLLM, llama.cpp) "
                        + "through /v1/completions (echo + logprobs, or vLLM's prompt_logprobs, probed once and kept in "
                        + "the run) and trained with the per-token reverse KL. Every score is stored in the run, so "
                        + "--resume never pays for one twice; --max-teacher-tokens or --budget-usd caps the spend."},
        footer = {
                "",
                "Examples:",
                "  distill train --run runs/math --student models/qwen-0.5b --epochs 2 --lr 1e-4",
                "  distill train --run runs/math --student models/tiny --loss sft \\",
                "      --max-steps 2000 --batch-tokens 8192",
                "  distill train --run runs/math --student models/tiny \\",
                "      --teacher-model models/teacher-7b --beta 0.5 --temperature 2",
                "  distill train --run runs/math --student models/tiny \\",
                "      --teacher-model models/teacher-7b --on-policy-fraction 0.5 --beta 0.5",
                "  distill train --run runs/math --student models/tiny --max-steps 400 \\",
                "      --on-policy-teacher http://localhost:8000 --model teacher \\",
                "      --on-policy-fraction 1 --max-teacher-tokens 2000000",
                "  distill train --run runs/math --student models/tiny --max-steps 2000 --resume",
                "  distill train --run runs/math --run runs/gold:0.25 --student models/tiny",
                "  distill train --run runs/math --student models/tiny --max-steps 4000 \\",
                "      --resume (extends it)",
                "  distill train --run runs/math --student models/tiny --max-steps 2000 \\",
                "      --resume --alpha 0.9 --allow-changed alpha",
                "",
                "Exit codes: 0 trained and saved; 1 an error (empty run, missing student, vocabulary mismatch, "
                        + "checkpoint from other flags, --resume without a checkpoint, a flag the loss would ignore); 2 "
                        + "bad usage."})
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--run", required = true, paramLabel = "DIR[:WEIGHT]",
            description = "Run folder with harvested (or imported) samples. Repeat it to train on a mixture: each "
                    + "epoch draws the runs' examples in proportion to their weights (default 1), e.g. --run "
                    + "runs/kd --run runs/gold:0.25; each example trains with the loss its run allows (top-k KD "
                    + "where it has top-k logprobs, cross-entropy where it has text). Outputs go to the first run "
                    + "unless --output-dir.")
    List<String> runSpecs;

    Path run;

    @Option(names = "--output-dir", paramLabel = "DIR", description = "Where student/, checkpoints/ and "
            + "metrics.jsonl go (default: the run folder). Give each student trained on one run its own, e.g. "
            + "runs/math/kd and runs/math/sft.")
    Path outputDir;

    @Option(names = "--student", required = true, paramLabel = "DIR",
            description = "Student to start from: a Hugging Face model folder (config.json, model.safetensors, "
                    + "tokenizer.json).")
    Path student;

    @Option(names = "--teacher-model", paramLabel = "DIR",
            description = "A local teacher with the student's vocabulary: full-logit distillation, its logits "
                    + "computed during training chunk by chunk. Only with --loss full or auto.")
    Path teacherModel;

    @Option(names = "--loss", paramLabel = "KIND", defaultValue = "auto",
            description = "auto (topk where the run has top-k logprobs, sft where it has text, full with "
                    + "--teacher-model), sft, topk or full. Default: ${DEFAULT-VALUE}.")
    String loss;

    @Option(names = "--alpha", paramLabel = "A", defaultValue = "0.5",
            description = "Weight of the distillation term; 1 − A goes to cross-entropy on the teacher's tokens. "
                    + "Default: ${DEFAULT-VALUE}.")
    double alpha;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "1.0",
            description = "Distillation temperature (the KD term is scaled by T²). Default: ${DEFAULT-VALUE}.")
    double temperature;

    @Option(names = "--beta", paramLabel = "B",
            description = "Generalized JSD β for full-logit KD: 0 forward KL, 1 reverse KL, 0.5 symmetric JSD. "
                    + "Needs --teacher-model. Default: forward KL. With --on-policy-teacher and "
                    + "--on-policy-top-logprobs K > 0: the same β over the teacher's top-K scores of the "
                    + "student's samples (default there: 1, the reverse KL).")
    Double beta;

    @Option(names = "--on-policy-fraction", paramLabel = "λ", defaultValue = "0",
            description = "Share of steps that train on the student's own samples (GKD): the student continues the "
                    + "batch's prompts (sampled at --temperature) and --teacher-model (or --on-policy-teacher) "
                    + "scores every sampled token. Default: ${DEFAULT-VALUE}.")
    double onPolicyFraction;

    @Option(names = "--on-policy-teacher", paramLabel = "URL",
            description = "An OpenAI-compatible server that scores the on-policy samples over HTTP (its legacy "
                    + "/v1/completions with echo + logprobs, or vLLM's prompt_logprobs). Needs --model and "
                    + "--on-policy-fraction > 0; the loss on those steps is the per-token reverse KL.")
    URI onPolicyTeacher;

    @Option(names = "--model", paramLabel = "NAME",
            description = "The model name the --on-policy-teacher server knows (GET URL/v1/models lists them).")
    String teacherName;

    @Option(names = "--on-policy-top-logprobs", paramLabel = "K", defaultValue = "0",
            description = "Alternatives per token asked of --on-policy-teacher: 0 trains on the sampled token's "
                    + "logprob (the sampled reverse-KL estimator), K > 0 on the exact reverse KL over the teacher's "
                    + "top-K + the rest (at most 20). Default: ${DEFAULT-VALUE}.")
    int onPolicyTopLogprobs;

    @Option(names = "--api-key-env", paramLabel = "VAR",
            description = "Environment variable with --on-policy-teacher's API key (never logged). Default: "
                    + "OPENAI_API_KEY; unset is fine for a local server.")
    String apiKeyEnv;

    @Option(names = "--on-policy-concurrency", paramLabel = "N", defaultValue = "8",
            description = "Scoring requests in flight at most. Default: ${DEFAULT-VALUE}.")
    int onPolicyConcurrency;

    @Option(names = "--max-teacher-tokens", paramLabel = "N", defaultValue = "0",
            description = "Stop once the teacher has billed this many tokens (prompt + completion, the whole run, "
                    + "resumes included); training ends after the step that reached it. Default: no limit.")
    long maxTeacherTokens;

    @Option(names = "--budget-usd", paramLabel = "X",
            description = "Like --max-teacher-tokens, in dollars at --price-in / --price-out.")
    Double budgetUsd;

    @Option(names = "--price-in", paramLabel = "USD_PER_MTOK", defaultValue = "0",
            description = "Price of a million prompt tokens of --on-policy-teacher, for --budget-usd.")
    double priceIn;

    @Option(names = "--price-out", paramLabel = "USD_PER_MTOK", defaultValue = "0",
            description = "Price of a million completion tokens of --on-policy-teacher, for --budget-usd.")
    double priceOut;

    @Option(names = "--rpm", paramLabel = "N", defaultValue = "0",
            description = "Requests per minute to --on-policy-teacher at most. Default: no limit.")
    long rpm;

    @Option(names = "--tpm", paramLabel = "N", defaultValue = "0",
            description = "Tokens per minute to --on-policy-teacher at most. Default: no limit.")
    long tpm;

    @Option(names = "--lr", paramLabel = "LR", defaultValue = "5e-5",
            description = "Peak learning rate (linear warmup, then cosine to 0). Default: ${DEFAULT-VALUE}.")
    double lr;

    @Option(names = "--weight-decay", paramLabel = "W", defaultValue = "0.0",
            description = "AdamW decoupled weight decay; biases and norms are exempt. Default: ${DEFAULT-VALUE}.")
    double weightDecay;

    static final class Length {
        @Option(names = "--epochs", paramLabel = "N", description = "Passes over the training examples. Default: 1.")
        Integer epochs;

        @Option(names = "--max-steps", paramLabel = "N",
                description = "Optimizer steps to take, cycling over the data.")
        Long maxSteps;
    }

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Length length;

    @Option(names = "--batch-tokens", paramLabel = "N", defaultValue = "4096",
            description = "Padded tokens per micro-batch (examples of similar length are batched together). "
                    + "Default: ${DEFAULT-VALUE}.")
    int batchTokens;

    @Option(names = "--grad-accum", paramLabel = "N", defaultValue = "1",
            description = "Micro-batches per optimizer step. Default: ${DEFAULT-VALUE}.")
    int gradAccum;

    @Option(names = "--max-seq-len", paramLabel = "N", defaultValue = "" + ExampleSettings.DEFAULT_MAX_SEQ_LEN,
            description = "Examples longer than this are truncated. Default: ${DEFAULT-VALUE}.")
    int maxSeqLen;

    @Option(names = "--prompt-format", paramLabel = "FORMAT", defaultValue = "auto",
            description = "auto (the student's chat template when it has one, else raw text), chat, or raw (prompt "
                    + "text followed by the reply, for base models). Default: ${DEFAULT-VALUE}.")
    PromptFormat promptFormat;

    @Option(names = "--token-source", paramLabel = "SOURCE", defaultValue = "student",
            description = "student (the student's own tokenization of the reply) or teacher (the teacher's sampled "
                    + "tokens looked up in the student's vocabulary, for a teacher with the student's tokenizer). "
                    + "Default: ${DEFAULT-VALUE}.")
    TokenSource tokenSource;

    @Option(names = "--warmup-steps", paramLabel = "N", defaultValue = "0",
            description = "Linear warmup steps. Default: ${DEFAULT-VALUE}.")
    long warmupSteps;

    @Option(names = "--max-grad-norm", paramLabel = "N", defaultValue = "1.0",
            description = "Clip the global gradient norm to this. Default: ${DEFAULT-VALUE}.")
    double maxGradNorm;

    @Option(names = "--eval-every", paramLabel = "N", defaultValue = "100",
            description = "Evaluate on the held-out prompts every N steps and at the end; 0: at the end only. "
                    + "Default: ${DEFAULT-VALUE}.")
    long evalEvery;

    @Option(names = "--eval-fraction", paramLabel = "F", defaultValue = "" + ExampleSettings.DEFAULT_EVAL_FRACTION,
            description = "Share of prompts held out for evaluation. Default: ${DEFAULT-VALUE}.")
    double evalFraction;

    @Option(names = "--save-every", paramLabel = "N", defaultValue = "200",
            description = "Write a checkpoint every N steps; 0: never. Default: ${DEFAULT-VALUE}.")
    long saveEvery;

    @Option(names = "--resume", description = "Continue from the newest valid checkpoint of the run (an error when "
            + "there is none). A larger --max-steps or --epochs extends the run.")
    boolean resume;

    @Option(names = "--allow-changed", paramLabel = "FLAG", split = ",",
            description = "With --resume: let this loss flag differ from the checkpoint's (loss, alpha, temperature, "
                    + "beta, teacher-model, on-policy-fraction, on-policy-teacher, weight-decay, max-grad-norm); "
                    + "repeatable. Without it --resume refuses any change to them.")
    List<String> allowChanged = List.of();

    @Option(names = "--seed", paramLabel = "S", defaultValue = "42",
            description = "Seeds the data order. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--quiet", description = "No progress line; summary only.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        LossMode mode = switch (loss.toLowerCase(Locale.ROOT)) {
            case "auto" -> LossMode.AUTO;
            case "sft" -> LossMode.SFT;
            case "topk", "top-k" -> LossMode.TOPK;
            case "full" -> LossMode.FULL;
            default -> throw new UserError("--loss must be auto, sft, topk or full, got '" + loss + "'", Errors.USAGE);
        };
        List<RunShare> runs = runSpecs.stream().map(RunShare::parse).toList();
        run = runs.getFirst().dir();
        TrainConfig config = TrainConfig.builder().setRuns(runs).setStudentDir(student)
                .optTeacherModelDir(teacherModel).optLoss(mode).optAlpha(alpha).optTemperature(temperature)
                .optBeta(beta).optLr(lr).optWeightDecay(weightDecay)
                .optEpochs(length != null && length.epochs != null ? length.epochs : 1)
                .optMaxSteps(length != null && length.maxSteps != null ? length.maxSteps : 0)
                .optBatchTokens(batchTokens).optGradAccum(gradAccum).optMaxSeqLen(maxSeqLen)
                .optWarmupSteps(warmupSteps).optMaxGradNorm(maxGradNorm).optEvalEvery(evalEvery)
                .optEvalFraction(evalFraction).optSaveEvery(saveEvery).optResume(resume).optSeed(seed)
                .optOnPolicyFraction(onPolicyFraction).optPromptFormat(promptFormat).optTokenSource(tokenSource)
                .optAllowChanged(new LinkedHashSet<>(allowChanged)).optOutputDir(outputDir)
                .optOnPolicyTeacher(onPolicyTeacher()).build();

        PrintStream err = System.err;
        AtomicReference<Trainer.StepMetrics> latest = new AtomicReference<>();
        AtomicReference<Trainer.Plan> plan = new AtomicReference<>();
        java.util.concurrent.atomic.AtomicLong teacherTokens = new java.util.concurrent.atomic.AtomicLong(-1);
        TrainSummary summary;
        try (ProgressBar bar = new ProgressBar(err, quiet, () -> line(plan.get(), latest.get()))) {
            summary = Trainer.run(config, new TrainListener() {
                @Override public void onStart(Trainer.Plan p) {
                    plan.set(p);
                    if (!quiet) describe(err, p);
                }

                @Override public void onStep(Trainer.StepMetrics m) {
                    latest.set(m);
                    if (m.teacherTokens() >= 0) teacherTokens.set(m.teacherTokens());
                }

                @Override public void onEval(Trainer.EvalMetrics e) {
                    if (!quiet) {
                        synchronized (bar) {
                            err.printf(Locale.ROOT, "%neval @ step %d: loss %.4f, top-1 agreement %.1f%%%s%n",
                                    e.step(), e.loss(), 100 * e.top1Agreement(),
                                    Double.isFinite(e.kl()) ? String.format(Locale.ROOT, ", KL %.4f", e.kl()) : "");
                        }
                    }
                }

                @Override public void onWarning(String message) {
                    err.println("distill train: warning: " + message);
                }
            });
        }
        printSummary(System.out, summary);
        if (teacherTokens.get() >= 0) {
            System.out.printf(Locale.ROOT, "  teacher     %s tokens billed by %s (scores stored in the run)%n",
                    ProgressBar.count(teacherTokens.get()), config.onPolicyTeacher().describe());
        }
        return 0;
    }

    /** The remote on-policy teacher of the flags, or null; its flags without it are an error, not ignored. */
    private OnPolicyTeacher onPolicyTeacher() {
        if (onPolicyTeacher == null) {
            if (teacherName != null || onPolicyTopLogprobs != 0 || maxTeacherTokens != 0 || budgetUsd != null
                    || apiKeyEnv != null) {
                throw new UserError("--model, --on-policy-top-logprobs, --max-teacher-tokens, --budget-usd and "
                        + "--api-key-env configure --on-policy-teacher, which is not given: add --on-policy-teacher "
                        + "URL, or drop them", Errors.USAGE);
            }
            return null;
        }
        String env = apiKeyEnv == null ? "OPENAI_API_KEY" : apiKeyEnv;
        String key = System.getenv(env);
        return new OnPolicyTeacher(onPolicyTeacher, teacherName, env, key == null || key.isBlank() ? null : key,
                onPolicyTopLogprobs, onPolicyConcurrency, maxTeacherTokens, budgetUsd, priceIn, priceOut, rpm, tpm,
                6, null);
    }

    private static void describe(PrintStream err, Trainer.Plan p) {
        err.printf(Locale.ROOT, "data: %s%n", p.data());
        err.printf(Locale.ROOT, "training %s parameters with the %s loss for %s steps (%d micro-batches per epoch)%s%n",
                ProgressBar.count(p.parameters()), p.loss().flag(), ProgressBar.count(p.totalSteps()),
                p.batchesPerEpoch(), p.resumedFrom() != null ? ", resuming from " + p.resumedFrom() : "");
    }

    private static String line(Trainer.Plan plan, Trainer.StepMetrics m) {
        if (plan == null) return "train: preparing examples ...";
        if (m == null) return "train: step " + plan.startStep() + "/" + plan.totalSteps() + " ...";
        long remaining = m.totalSteps() - m.step();
        double secondsPerStep = m.tokensPerSecond() > 0 && m.step() > 0 ? m.tokens() / m.tokensPerSecond() / m.step() : 0;
        String eta = secondsPerStep > 0 ? ProgressBar.duration(Duration.ofMillis((long) (1000 * remaining * secondsPerStep)))
                : "-";
        return String.format(Locale.ROOT, "train %s %s/%s  loss %.4f  %s tok/s  lr %.2e  ETA %s",
                ProgressBar.bar((double) m.step() / m.totalSteps(), 20), ProgressBar.count(m.step()),
                ProgressBar.count(m.totalSteps()), m.loss(), ProgressBar.count(Math.round(m.tokensPerSecond())),
                m.lr(), eta);
    }

    private static void printSummary(PrintStream out, TrainSummary s) {
        out.printf(Locale.ROOT, "trained %s steps%s with the %s loss%n", ProgressBar.count(s.steps()),
                s.resumedFromStep() > 0 ? " (resumed at step " + s.resumedFromStep() + ")" : "", s.loss().flag());
        out.printf(Locale.ROOT, "  tokens      %s, %.0f tokens/s, %s%n", ProgressBar.count(s.tokens()),
                s.tokensPerSecond(), ProgressBar.duration(Duration.ofMillis((long) (1000 * s.elapsedSeconds()))));
        out.printf(Locale.ROOT, "  final loss  %.6f (train)%s%n", s.finalLoss(),
                Double.isFinite(s.evalLoss()) ? String.format(Locale.ROOT, ", %.6f (held out)", s.evalLoss()) : "");
        if (Double.isFinite(s.evalAgreement())) {
            out.printf(Locale.ROOT, "  agreement   %.1f%% of held-out tokens are the student's top-1%s%n",
                    100 * s.evalAgreement(),
                    Double.isFinite(s.evalKl()) ? String.format(Locale.ROOT, "; KL to the teacher %.4f", s.evalKl()) : "");
        }
        out.printf(Locale.ROOT, "  kd share    %.1f%% of trained positions had a teacher distribution%n",
                100 * s.kdShare());
        out.printf(Locale.ROOT, "  student     %s%n", s.student());
        out.flush();
    }
}
