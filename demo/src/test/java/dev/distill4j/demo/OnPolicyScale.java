package dev.distill4j.demo;

import dev.distill4j.core.io.FileTrees;
import dev.distill4j.core.Json;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.store.RunStore;
import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.model.ops.ModelInit;
import dev.distill4j.serve.OpenAiServer;
import dev.distill4j.train.LossMode;
import dev.distill4j.train.OnPolicyTeacher;
import dev.distill4j.train.Trainer;
import dev.distill4j.train.data.EvalSplit;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.Map;

/**
 * On-policy vs off-policy distillation after a common off-policy start, on a pool of new demo tasks large enough
 * that neither arm runs out of prompts (issue 17's first target; docs/benchmarks.md, "On-policy distillation over
 * HTTP"). The Thinking Machines setting: a student first trained off-policy (S0), then more teacher tokens spent
 * either way.
 *
 * <pre>
 *   pool:       POOL_N new tasks of the demo's kinds but date, whose prompt space the house corpus has used up (a
 *               seed of their own; no prompt of the house corpus), harvested
 *               once from the served house teacher (greedy, 96 tokens, top-5 logprobs); 12.5 % of them held out
 *               (by id) for the accuracy every student is scored on
 *   S0:         top-k KD from a fresh student on the first S0_N pool prompts, S0_STEPS steps
 *   off-policy: at spend X, S0 trained on the first S0_N + m pool prompts, m the most whose harvested samples
 *               cost ≤ X teacher tokens (prompt + completion), top-k KD for OFF_STEPS steps at OFF_LR
 *   on-policy:  S0 trained with λ = 1 on the pool's prompts (the harvested answers are not read), every sample
 *               scored by the served teacher over /v1/completions echo + logprobs (top-ON_TOPK), at ON_LR, until
 *               the largest X is spent; the checkpoints nearest each X are scored
 * </pre>
 *
 * usage: OUT TEACHER_DIR CORPUS_DIR POOL_N S0_N S0_STEPS SPENDS(,) OFF_STEPS OFF_LR ON_TOPK ON_LR
 */
public final class OnPolicyScale {
    /** The pool's corpus seed: not the house corpus's, so its tasks are new to the teacher too. */
    private static final long POOL_SEED = 20261205L;

    public static void main(String[] a) throws Exception {
        if (a.length != 11) {
            throw new IllegalArgumentException("usage: OUT TEACHER_DIR CORPUS_DIR POOL_N S0_N S0_STEPS SPENDS "
                    + "OFF_STEPS OFF_LR ON_TOPK ON_LR");
        }
        Path out = Path.of(a[0]);
        Path teacherDir = Path.of(a[1]);
        Path corpus = Path.of(a[2]);
        int poolN = Integer.parseInt(a[3]);
        int s0N = Integer.parseInt(a[4]);
        int s0Steps = Integer.parseInt(a[5]);
        List<Long> spends = new ArrayList<>();
        for (String s : a[6].split(",")) spends.add(Long.parseLong(s));
        int offSteps = Integer.parseInt(a[7]);
        double offLr = Double.parseDouble(a[8]);
        int topK = Integer.parseInt(a[9]);
        double onLr = Double.parseDouble(a[10]);
        Files.createDirectories(out);
        PrintStream log = OnPolicyExperiment.resultsLog(out);

        Path pool = out.resolve("pool");
        if (!Files.isDirectory(pool)) harvestPool(out, teacherDir, corpus, poolN, pool);
        Path init = out.resolve("init");
        if (!Files.isRegularFile(init.resolve("config.json"))) {
            ModelInit.create(OnPolicyExperiment.studentSpec(), corpus.resolve("tokenizer"), init, false);
        }

        Path s0Run = out.resolve("s0");
        if (!Files.isDirectory(s0Run)) OnPolicyExperiment.subset(pool, s0Run, s0N);
        long s0Spend = OnPolicyExperiment.trainSpend(s0Run);
        Path s0 = s0Run.resolve("kd/student");
        if (!Files.isRegularFile(s0.resolve("config.json"))) {
            long t0 = System.nanoTime();
            Trainer.run(OnPolicyExperiment.base(s0Run, init, s0Run.resolve("kd")).optLoss(LossMode.TOPK).optAlpha(0.5)
                    .optMaxSteps(s0Steps).optLr(3e-3).optWarmupSteps(Math.min(100, s0Steps / 6)).optSaveEvery(0)
                    .build(), OnPolicyExperiment.progress("s0"));
            System.out.printf(Locale.ROOT, "S0 trained in %.0f s%n", (System.nanoTime() - t0) / 1e9);
        }
        report(log, "start S0", "n=" + s0N, s0Steps, 0, pool, s0, s0Run.resolve("eval"));
        System.out.println("S0 spent " + s0Spend + " teacher tokens (not counted below)");

        // off-policy: the first S0_N + m prompts, m as many as X buys beyond S0's
        for (long x : spends) {
            int n = promptsWithin(pool, s0N, s0Spend + x);
            Path run = out.resolve("off-" + x);
            if (!Files.isDirectory(run)) OnPolicyExperiment.subset(pool, run, n);
            long spent = OnPolicyExperiment.trainSpend(run) - s0Spend;
            Path dir = run.resolve("kd");
            if (!Files.isRegularFile(dir.resolve("student/config.json"))) {
                long t0 = System.nanoTime();
                Trainer.run(OnPolicyExperiment.base(run, s0, dir).optLoss(LossMode.TOPK).optAlpha(0.5)
                        .optMaxSteps(offSteps).optLr(offLr).optWarmupSteps(0).optSaveEvery(0).build(),
                        OnPolicyExperiment.progress("off-" + x));
                System.out.printf(Locale.ROOT, "off-policy X=%d (%d prompts) trained in %.0f s%n", x, n,
                        (System.nanoTime() - t0) / 1e9);
            }
            report(log, "off-policy lr=" + offLr, "n=" + n, offSteps, spent,
                    pool, dir.resolve("student"), dir.resolve("eval"));
        }

        if (System.getProperty("onPolicy", "mixed").equals("pure")) {
            pureOnPolicy(log, out, pool, teacherDir, s0, spends, topK, onLr);
            return;
        }
        // on-policy, mixed: the same OFF_STEPS steps from S0 on S0's own (already bought) samples, a share λ of them
        // on the student's samples scored by the teacher, λ set so the scores cost about X
        double tokensPerStep = Double.parseDouble(System.getProperty("tokensPerOnStep", "1900"));
        Double beta = System.getProperty("beta") == null ? null : Double.valueOf(System.getProperty("beta"));
        String tag = beta == null ? "" : "-b" + beta;
        try (OpenAiServer server = OpenAiServer.builder().setModelDir(teacherDir)
                .optServedModelName("house-teacher").optPort(0).optMaxBatch(32).build()) {
            URI url = URI.create("http://127.0.0.1:" + server.start());
            for (long x : spends) {
                if (x == 0) continue;   // λ = 0: the off-policy arm's X = 0 point (S0's samples, no new spend)
                // 0.9: the on-policy steps are drawn at random, so the expected spend stays below X by ~1 sd
                double lambda = Math.min(1.0, 0.9 * x / (tokensPerStep * offSteps));
                Path run = out.resolve(String.format(Locale.ROOT, "mixed-k%d%s-%d", topK, tag, x));
                if (!Files.isDirectory(run)) OnPolicyExperiment.subset(pool, run, s0N);
                Path dir = run.resolve("on");
                if (!Files.isRegularFile(dir.resolve("student/config.json"))) {
                    long t0 = System.nanoTime();
                    Trainer.run(OnPolicyExperiment.base(run, s0, dir).optLoss(LossMode.TOPK).optAlpha(0.5)
                            .optMaxSteps(offSteps).optLr(onLr).optWarmupSteps(0).optSaveEvery(0).optBeta(beta)
                            .optOnPolicyFraction(lambda).optOnPolicyTeacher(OnPolicyTeacher.of(url, "house-teacher")
                                    .withTopLogprobs(topK).withConcurrency(16).withMaxTeacherTokens(x)).build(),
                            OnPolicyExperiment.progress("mixed-" + x));
                    System.out.printf(Locale.ROOT, "on-policy λ=%.3f X=%d trained in %.0f s%n", lambda, x,
                            (System.nanoTime() - t0) / 1e9);
                }
                long steps = 0, spent = 0;
                for (String line : Files.readAllLines(dir.resolve("metrics.jsonl"))) {
                    var m = Json.parse(line);
                    if (!m.has("step")) continue;
                    steps = Math.max(steps, m.get("step").asLong());
                    if (m.has("teacher_tokens")) spent = Math.max(spent, m.get("teacher_tokens").asLong());
                }
                report(log, String.format(Locale.ROOT, "on-policy mixed k=%d β=%s lr=%s λ=%.3f",
                        topK, beta == null ? "1" : beta, onLr, lambda), "n=" + s0N, steps, spent,
                        pool, dir.resolve("student"), dir.resolve("eval"));
            }
        }
    }

    /**
     * λ = 1 on the pool's training prompts, from S0, until the largest X is spent; the checkpoints within each X are
     * scored.
     */
    private static void pureOnPolicy(PrintStream log, Path out, Path pool, Path teacherDir, Path s0, List<Long> spends,
                                     int topK, double onLr) throws Exception {
        long maxSpend = spends.stream().mapToLong(Long::longValue).max().orElseThrow();
        Double beta = System.getProperty("beta") == null ? null : Double.valueOf(System.getProperty("beta"));
        Path onRun = out.resolve("on-k" + topK + (beta == null ? "" : "-b" + beta) + "-lr" + onLr);
        if (!Files.isDirectory(onRun)) OnPolicyExperiment.subset(pool, onRun, Integer.MAX_VALUE);
        Path onOut = onRun.resolve("on");
        if (!Files.isRegularFile(onOut.resolve("student/config.json"))) {
            try (OpenAiServer server = OpenAiServer.builder().setModelDir(teacherDir)
                    .optServedModelName("house-teacher").optPort(0).optMaxBatch(32).build()) {
                URI url = URI.create("http://127.0.0.1:" + server.start());
                long t0 = System.nanoTime();
                Trainer.run(OnPolicyExperiment.base(onRun, s0, onOut).optMaxSteps(100_000).optLr(onLr)
                        .optWarmupSteps(0).optOnPolicyFraction(1.0).optSaveEvery(5).optBeta(beta)
                        .optKeepCheckpoints(10_000)
                        .optOnPolicyTeacher(OnPolicyTeacher.of(url, "house-teacher").withTopLogprobs(topK)
                                .withConcurrency(16).withMaxTeacherTokens(maxSpend)).build(),
                        OnPolicyExperiment.progress("on-policy"));
                System.out.printf(Locale.ROOT, "on-policy trained in %.0f s%n", (System.nanoTime() - t0) / 1e9);
            }
        }
        Map<Long, Long> tokensAtStep = OnPolicyExperiment.teacherTokensAtStep(onOut);
        List<Long> saved = new ArrayList<>();
        try (var s = Files.list(onOut.resolve("checkpoints"))) {
            s.map(p -> p.getFileName().toString()).filter(f -> f.startsWith("step-"))
                    .forEach(f -> saved.add(Long.parseLong(f.substring(5))));
        }
        Set<Long> picked = new HashSet<>();
        for (long x : spends) {
            // the last checkpoint whose spend is within X: on-policy never gets more than off-policy's X
            long best = -1;
            for (long step : saved) {
                Long t = tokensAtStep.get(step);
                if (t != null && t <= x && step > best) best = step;
            }
            if (best < 0 || !picked.add(best)) continue;
            Path model = onRun.resolve("step-" + best);
            if (!Files.isRegularFile(model.resolve("config.json"))) {
                OnPolicyExperiment.asModel(onOut.resolve("checkpoints/step-" + best), s0, model);
            }
            report(log, "on-policy k=" + topK + " β=" + (beta == null ? "1" : beta) + " lr=" + onLr,
                    "step " + best, best, tokensAtStep.get(best), pool, model, model.resolve("eval"));
        }
    }

    /** POOL_N new tasks, written as a prompt file and harvested from the served house teacher. */
    private static void harvestPool(Path out, Path teacherDir, Path corpus, int n, Path pool) throws Exception {
        Set<String> taken = new HashSet<>();
        for (String f : List.of("teacher.jsonl", "harvest.jsonl", "heldout.jsonl")) {
            for (TaskCorpus.Task t : CorpusFiles.readGold(corpus.resolve("gold").resolve(f))) taken.add(t.prompt());
        }
        // the date kind's prompt space (weekday + day count phrasings) is used up by the house corpus's 12,700
        // tasks: the pool has the other four kinds
        var kinds = java.util.EnumSet.complementOf(java.util.EnumSet.of(TaskCorpus.Kind.DATE));
        List<TaskCorpus.Task> tasks = TaskCorpus.tasks(POOL_SEED, n, kinds, taken).toList();
        Path prompts = out.resolve("pool-prompts.jsonl");
        CorpusFiles.writePrompts(prompts, tasks);
        Path tmp = out.resolve("pool.tmp");
        FileTrees.delete(tmp);
        long t0 = System.nanoTime();
        OnPolicyExperiment.harvest(teacherDir, prompts, tmp);
        Files.move(tmp, pool);
        System.out.printf(Locale.ROOT, "harvested %d pool prompts in %.0f s%n", n, (System.nanoTime() - t0) / 1e9);
    }

    /**
     * The most prompts, in harvest order and at least {@code floor}, whose training samples (held-out prompts left
     * out, as {@link OnPolicyExperiment#trainSpend} counts) cost ≤ {@code budget} teacher tokens.
     */
    private static int promptsWithin(Path pool, int floor, long budget) throws IOException {
        EvalSplit split = new EvalSplit(0.125);
        List<Long> cumulative = new ArrayList<>();   // spend of the first i + 1 prompts
        String[] last = {null};
        long[] spend = {0};
        try (RunStore store = RunStore.openExisting(pool)) {
            store.forEachSample(SampleStatus.DONE, (p, s) -> {
                if (!p.id().equals(last[0])) {
                    if (last[0] != null) cumulative.add(spend[0]);
                    last[0] = p.id();
                }
                if (!split.isHeldOut(p.id())) spend[0] += s.usage().totalTokens();
            });
        }
        if (last[0] != null) cumulative.add(spend[0]);
        int n = floor;
        while (n < cumulative.size() && cumulative.get(n) <= budget) n++;
        if (n == cumulative.size()) throw new IllegalStateException("the pool's " + n + " prompts cost "
                + spend[0] + " teacher tokens, not enough for " + budget + ": use a larger POOL_N");
        return n;
    }

    /**
     * One results line for a student: its scorecard on the pool's held-out prompts, evaluated once (a rerun of the
     * bench with more arms reads the stored scorecard instead of evaluating again).
     */
    private static void report(PrintStream log, String arm, String point, long step, long spend, Path pool,
                               Path student, Path evalDir) throws Exception {
        Path file = evalDir.resolve("scorecard.json");
        if (!Files.isRegularFile(file)) OnPolicyExperiment.evaluate(pool, student, evalDir);
        JsonNode card = Json.parse(Files.readString(file));
        JsonNode acc = card.get("task_accuracy");
        JsonNode tf = card.get("teacher_forced");
        StringBuilder kinds = new StringBuilder();
        for (JsonNode g : acc.get("groups")) {
            kinds.append(String.format(Locale.ROOT, " %s=%.3f", g.get("group").asText(), g.get("student").asDouble()));
        }
        String line = String.format(Locale.ROOT, "%s\t%s\t%d\t%d\t%.4f\t[%.4f, %.4f]\t%d\t%s\t%s\t%s", arm, point, step,
                spend, acc.get("student").asDouble(), acc.get("student_ci95").get(0).asDouble(),
                acc.get("student_ci95").get(1).asDouble(), acc.get("prompts").asInt(), tf.get("top1_agreement"),
                tf.get("kl"), kinds.toString().trim());
        System.out.println("RESULT " + line);
        log.println(line);
    }
}
