package dev.distill4j.demo;

import dev.distill4j.core.io.FileTrees;
import dev.distill4j.core.Json;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.Sample;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.eval.Evaluator;
import dev.distill4j.eval.Scorecard;
import dev.distill4j.model.ops.ModelInit;
import dev.distill4j.serve.OpenAiServer;
import dev.distill4j.train.LossMode;
import dev.distill4j.train.OnPolicyTeacher;
import dev.distill4j.train.TrainConfig;
import dev.distill4j.train.TrainListener;
import dev.distill4j.train.Trainer;
import dev.distill4j.train.data.EvalSplit;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * On-policy distillation from the served house teacher vs off-policy top-k KD at the same teacher-token spend, on
 * the demo's tasks (issue 17; docs/benchmarks.md, "On-policy distillation over HTTP"). Run by
 * {@code bench/train/onpolicy.sh}.
 *
 * <pre>
 *   off-policy: a student per harvest size n (the first n harvested prompts, top-5 logprobs), top-k KD from the demo
 *               student's initialisation, the same steps each; spend = the teacher tokens (prompt + completion) of
 *               the n harvested samples it trains on
 *   on-policy:  from the smallest off-policy student (its spend is the starting point), λ = 1 against the house
 *               teacher served on loopback (distill serve's /v1/completions, echo + logprobs), every step's samples
 *               scored over HTTP; spend = that start + the teacher tokens the scores billed; checkpoints evaluated
 *               where the spend reaches each off-policy point's
 *   accuracy:   every student on the same held-out prompts of the full harvest (eval fraction 0.125), graded
 *               against the answers by eval's AnswerExtractor
 * </pre>
 *
 * usage: OUT HARVEST_RUN TEACHER_DIR TOKENIZER_DIR SIZES(,-separated) OFF_STEPS ON_STEPS ON_TOP_K [ON_LR]
 */
public final class OnPolicyExperiment {
    private static final double EVAL_FRACTION = 0.125;
    private static final long SEED = 1;

    public static void main(String[] a) throws Exception {
        if (a[0].equals("continue")) {
            continueFrom(java.util.Arrays.copyOfRange(a, 1, a.length));
            return;
        }
        Path out = Path.of(a[0]);
        Path harvest = Path.of(a[1]);
        Path teacherDir = Path.of(a[2]);
        Path tokenizer = Path.of(a[3]);
        List<Integer> sizes = new ArrayList<>();
        for (String s : a[4].split(",")) sizes.add(Integer.parseInt(s));
        int offSteps = Integer.parseInt(a[5]);
        int onSteps = Integer.parseInt(a[6]);
        int topK = Integer.parseInt(a[7]);
        double onLr = a.length > 8 ? Double.parseDouble(a[8]) : 1e-3;
        Files.createDirectories(out);
        PrintStream log = resultsLog(out);

        Path full = out.resolve("full");
        if (!Files.isDirectory(full)) subset(harvest, full, Integer.MAX_VALUE);
        Path init = out.resolve("init");
        if (!Files.isRegularFile(init.resolve("config.json"))) {
            ModelInit.create(studentSpec(), tokenizer, init, false);
        }

        // off-policy: one student per harvest size
        Map<Integer, Long> offSpend = new TreeMap<>();
        for (int n : sizes) {
            Path run = out.resolve("harvest-" + n);
            if (!Files.isDirectory(run)) subset(harvest, run, n);
            long spend = trainSpend(run);
            offSpend.put(n, spend);
            Path dir = run.resolve("kd");
            if (!Files.isRegularFile(dir.resolve("student/config.json"))) {
                long t0 = System.nanoTime();
                Trainer.run(base(run, init, dir).optLoss(LossMode.TOPK).optAlpha(0.5).optMaxSteps(offSteps)
                        .optLr(3e-3).optWarmupSteps(Math.min(100, offSteps / 6)).optSaveEvery(0).build(), progress("off-" + n));
                System.out.printf(Locale.ROOT, "off-policy n=%d trained in %.0f s%n", n, (System.nanoTime() - t0) / 1e9);
            }
            report(log, "off-policy", "n=" + n, 0, spend, evaluate(full, dir.resolve("student"), dir.resolve("eval")));
        }

        // on-policy: from the smallest off-policy student, scored by the served teacher
        int first = sizes.getFirst();
        long start = offSpend.get(first);
        Path onRun = out.resolve("onpolicy-k" + topK);
        if (!Files.isDirectory(onRun)) subset(harvest, onRun, Integer.MAX_VALUE);
        Path onOut = onRun.resolve("on");
        Path baseStudent = out.resolve("harvest-" + first).resolve("kd/student");
        report(log, "on-policy k=" + topK, "start", 0, start, evaluate(full, baseStudent, out.resolve("eval-base")));
        try (OpenAiServer server = OpenAiServer.builder().setModelDir(teacherDir).optServedModelName("house-teacher")
                .optPort(0).optMaxBatch(32).build()) {
            URI url = URI.create("http://127.0.0.1:" + server.start());
            if (!Files.isRegularFile(onOut.resolve("student/config.json"))) {
                long t0 = System.nanoTime();
                Trainer.run(base(onRun, baseStudent, onOut).optMaxSteps(onSteps).optLr(onLr).optWarmupSteps(0)
                        .optOnPolicyFraction(1.0).optSaveEvery(Math.max(1, onSteps / 10)).optKeepCheckpoints(100)
                        .optOnPolicyTeacher(OnPolicyTeacher.of(url, "house-teacher").withTopLogprobs(topK)
                                .withConcurrency(16)).build(), progress("on-policy"));
                System.out.printf(Locale.ROOT, "on-policy trained %d steps in %.0f s%n", onSteps,
                        (System.nanoTime() - t0) / 1e9);
            }
        }
        // each checkpoint's spend from metrics.jsonl; evaluate those nearest each off-policy spend, and the last
        Map<Long, Long> tokensAtStep = teacherTokensAtStep(onOut);
        List<Path> checkpoints = new ArrayList<>();
        try (var s = Files.list(onOut.resolve("checkpoints"))) {
            s.filter(p -> p.getFileName().toString().startsWith("step-")).sorted().forEach(checkpoints::add);
        }
        List<Long> picked = new ArrayList<>();
        for (long target : offSpend.values()) {
            if (target <= start) continue;
            long best = -1;
            for (Path c : checkpoints) {
                long step = Long.parseLong(c.getFileName().toString().substring(5));
                long spend = start + tokensAtStep.getOrDefault(step, 0L);
                if (best < 0 || Math.abs(spend - target) < Math.abs(start + tokensAtStep.get(best) - target)) {
                    best = step;
                }
            }
            if (best > 0 && !picked.contains(best)) picked.add(best);
        }
        for (long step : picked) {
            Path c = onOut.resolve("checkpoints/step-" + step);
            Path model = out.resolve("onpolicy-k" + topK + "-step-" + step);
            if (!Files.isRegularFile(model.resolve("config.json"))) asModel(c, baseStudent, model);
            report(log, "on-policy k=" + topK, "step " + step, step, start + tokensAtStep.get(step),
                    evaluate(full, model, model.resolve("eval")));
        }
    }

    /**
     * Both arms continue one trained student at the same extra teacher spend (the Thinking Machines setting:
     * on-policy distillation after off-policy training):
     * <pre>
     *   off-policy: harvest N more prompts from the served teacher (top-5 logprobs); spend X = their teacher
     *               tokens (held-out prompts left out); top-k KD on that new harvest for STEPS steps
     *   on-policy:  λ = 1 on the old harvest's prompts, scored by the same served teacher over HTTP, with
     *               --max-teacher-tokens X, for at most STEPS steps
     * </pre>
     * usage: continue OUT HARVEST_RUN TEACHER_DIR STUDENT_DIR NEW_PROMPTS.jsonl N STEPS BATCH_TOKENS LR TOP_K
     */
    static void continueFrom(String[] a) throws Exception {
        Path out = Path.of(a[0]);
        Path harvest = Path.of(a[1]);
        Path teacherDir = Path.of(a[2]);
        Path student = Path.of(a[3]);
        Path newPrompts = Path.of(a[4]);
        int n = Integer.parseInt(a[5]);
        int steps = Integer.parseInt(a[6]);
        int batchTokens = Integer.parseInt(a[7]);
        double lr = Double.parseDouble(a[8]);
        int topK = Integer.parseInt(a[9]);
        Files.createDirectories(out);
        PrintStream log = resultsLog(out);
        Path full = out.resolve("full");
        if (!Files.isDirectory(full)) subset(harvest, full, Integer.MAX_VALUE);

        // the extra harvest: the first n prompts of NEW_PROMPTS, from the served teacher as the demo harvests
        Path prompts = out.resolve("new-prompts.jsonl");
        if (!Files.isRegularFile(prompts)) {
            Files.write(prompts, Files.readAllLines(newPrompts).subList(0, n));
        }
        Path fresh = out.resolve("new");
        if (!Files.isDirectory(fresh)) {
            long t0 = System.nanoTime();
            harvest(teacherDir, prompts, fresh);
            System.out.printf(Locale.ROOT, "harvested %d prompts in %.0f s%n", n, (System.nanoTime() - t0) / 1e9);
        }
        long spend = trainSpend(fresh);
        Path off = fresh;   // what the extra spend bought; the old harvest is in the starting student already
        System.out.println("extra teacher spend X = " + spend + " tokens");

        Path offOut = off.resolve("kd");
        if (!Files.isRegularFile(offOut.resolve("student/config.json"))) {
            long t0 = System.nanoTime();
            Trainer.run(base(off, student, offOut).optBatchTokens(batchTokens).optLoss(LossMode.TOPK).optAlpha(0.5)
                    .optMaxSteps(steps).optLr(lr).optWarmupSteps(0).optSaveEvery(Math.max(1, steps / 2))
                    .optKeepCheckpoints(10).build(), progress("off-policy"));
            System.out.printf(Locale.ROOT, "off-policy trained in %.0f s%n", (System.nanoTime() - t0) / 1e9);
        }
        Path onRun = out.resolve(topK == 0 ? "on" : "on-k" + topK);
        if (!Files.isDirectory(onRun)) subset(harvest, onRun, Integer.MAX_VALUE);
        Path onOut = onRun.resolve("on");
        if (!Files.isRegularFile(onOut.resolve("student/config.json"))) {
            try (OpenAiServer server = OpenAiServer.builder().setModelDir(teacherDir)
                    .optServedModelName("house-teacher").optPort(0).optMaxBatch(32).build()) {
                URI url = URI.create("http://127.0.0.1:" + server.start());
                long t0 = System.nanoTime();
                Trainer.run(base(onRun, student, onOut).optBatchTokens(batchTokens).optMaxSteps(steps).optLr(lr)
                        .optWarmupSteps(0).optOnPolicyFraction(1.0).optSaveEvery(Math.max(1, steps / 2))
                        .optKeepCheckpoints(10).optOnPolicyTeacher(OnPolicyTeacher.of(url, "house-teacher")
                                .withTopLogprobs(topK).withConcurrency(16).withMaxTeacherTokens(spend)).build(),
                        progress("on-policy"));
                System.out.printf(Locale.ROOT, "on-policy trained in %.0f s%n", (System.nanoTime() - t0) / 1e9);
            }
        }
        long onSpend = 0;
        for (String line : Files.readAllLines(onOut.resolve("metrics.jsonl"))) {
            var m = Json.parse(line);
            if (m.has("teacher_tokens")) onSpend = m.get("teacher_tokens").asLong();
        }
        if (!Boolean.getBoolean("onPolicyOnly")) {   // another on-policy arm beside an evaluated off-policy one
            report(log, "off-policy top-k KD", "+" + n + " harvested", steps, spend,
                    evaluate(full, offOut.resolve("student"), offOut.resolve("eval")));
        }
        report(log, "on-policy k=" + topK, "λ=1", steps, onSpend,
                evaluate(full, onOut.resolve("student"), onOut.resolve("eval")));
        if (Boolean.getBoolean("base")) {
            report(log, "start", "-", 0, 0, evaluate(full, student, out.resolve("eval-start")));
        }
    }

    /**
     * The students' shape: the demo's, or {@code -Dstudent=HIDDEN,LAYERS,HEADS,KV_HEADS} (a llama as the demo makes
     * them), to see whether a student that can learn the tasks changes the comparison.
     */
    static ModelInit.Spec studentSpec() {
        String s = System.getProperty("student");
        if (s == null) return DemoPipeline.DEFAULT.student();
        String[] f = s.split(",");
        if (f.length != 4) throw new IllegalArgumentException("-Dstudent=HIDDEN,LAYERS,HEADS,KV_HEADS, not " + s);
        return new ModelInit.Spec("llama", Integer.parseInt(f[1]), Integer.parseInt(f[0]), Integer.parseInt(f[2]),
                Integer.parseInt(f[3]), null, null, 10000.0, 512, true, null, 7L, DemoPipeline.DEFAULT.student().dtype());
    }

    static TrainConfig.Builder base(Path run, Path student, Path outDir) {
        return TrainConfig.builder().setRunDir(run).setStudentDir(student).optOutputDir(outDir)
                .optBatchTokens(2048).optMaxSeqLen(256).optEvalFraction(EVAL_FRACTION).optEvalEvery(0)
                .optSeed(SEED);
    }

    static TrainListener progress(String label) {
        return new TrainListener() {
            @Override public void onStep(Trainer.StepMetrics m) {
                if (m.step() % 25 == 0 || m.step() == m.totalSteps()) {
                    System.out.printf(Locale.ROOT, "%s step %d/%d loss %.4f kd %.4f teacher tokens %d%n", label,
                            m.step(), m.totalSteps(), m.loss(), m.kd(), m.teacherTokens());
                }
            }

            @Override public void onWarning(String message) { System.out.println(label + " warning: " + message); }
        };
    }

    /** The bench's results file, appended to (a rerun with more arms adds its lines). */
    static PrintStream resultsLog(Path out) throws IOException {
        return new PrintStream(Files.newOutputStream(out.resolve("results.tsv"),
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND), true);
    }

    /** Harvests a prompt file from the teacher served on loopback as the demo does: greedy, 96 tokens, top-5. */
    static void harvest(Path teacherDir, Path prompts, Path runDir) throws Exception {
        DemoPipeline.harvestServed(teacherDir, null, prompts, runDir, new dev.distill4j.teacher.TeacherSampling(
                0.0, null, 96, false, 0L, List.of(), 5, null), "harvest", new DemoPipeline.Listener() {
                    @Override public void stage(String title, java.util.function.Supplier<String> p) {}

                    @Override public void stageDone(String summary) { System.out.println(summary); }
                });
    }

    /** The billed teacher tokens after each step of an on-policy training's output folder. */
    static Map<Long, Long> teacherTokensAtStep(Path outDir) throws IOException {
        Map<Long, Long> tokens = new TreeMap<>();
        for (String line : Files.readAllLines(outDir.resolve("metrics.jsonl"))) {
            var n = Json.parse(line);
            if (n.has("teacher_tokens")) tokens.put(n.get("step").asLong(), n.get("teacher_tokens").asLong());
        }
        return tokens;
    }

    /** The first {@code n} prompts (by harvest order) of a run and their samples, with its run.json. */
    static void subset(Path from, Path to, int n) throws IOException {
        Path tmp = to.resolveSibling(to.getFileName() + ".tmp");
        FileTrees.delete(tmp);
        List<Prompt> prompts = new ArrayList<>();
        List<Sample> samples = new ArrayList<>();
        try (RunStore in = RunStore.openExisting(from)) {
            in.forEachSample(SampleStatus.DONE, (p, s) -> {
                if (prompts.size() < n || prompts.getLast().id().equals(p.id())) {
                    if (prompts.isEmpty() || !prompts.getLast().id().equals(p.id())) prompts.add(p);
                    samples.add(s);
                }
            });
        }
        try (RunStore store = RunStore.open(tmp)) {
            store.putPrompts(prompts);
            store.upsertSamples(samples);
        }
        Files.copy(from.resolve("run.json"), tmp.resolve("run.json"));
        Files.move(tmp, to, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Teacher tokens (prompt + completion) of the samples a run trains on (its held-out prompts left out). */
    static long trainSpend(Path run) throws IOException {
        EvalSplit split = new EvalSplit(EVAL_FRACTION);
        long[] tokens = {0};
        try (RunStore store = RunStore.openExisting(run)) {
            store.forEachSample(SampleStatus.DONE, (p, s) -> {
                if (!split.isHeldOut(p.id())) tokens[0] += s.usage().totalTokens();
            });
        }
        return tokens[0];
    }

    /** A checkpoint folder with the student's tokenizer files, so it loads and evaluates as a model. */
    static void asModel(Path checkpoint, Path student, Path out) throws IOException {
        Files.createDirectories(out);
        try (var s = Files.list(checkpoint)) {
            for (Path f : s.toList()) Files.copy(f, out.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
        for (String f : List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                "generation_config.json")) {
            if (Files.isRegularFile(student.resolve(f))) {
                Files.copy(student.resolve(f), out.resolve(f), StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    static Scorecard evaluate(Path run, Path student, Path outDir) throws Exception {
        long t0 = System.nanoTime();
        Evaluator.Builder b = Evaluator.builder().setRun(run).optStudent(student).optOutDir(outDir)
                .optEvalFraction(EVAL_FRACTION).optMaxSeqLen(256).optMaxNewTokens(96).optSeed(SEED)
                .optTimingPrompts(1);
        if (Integer.getInteger("limit", 0) > 0) b.optLimit(Integer.getInteger("limit"));   // smoke runs only
        Scorecard card = b.build().run();
        System.out.printf(Locale.ROOT, "evaluated %s in %.0f s%n", student, (System.nanoTime() - t0) / 1e9);
        return card;
    }

    static void report(PrintStream log, String arm, String point, long step, long spend, Scorecard c) {
        var acc = c.taskAccuracy();
        var tf = c.teacherForced();
        String line = String.format(Locale.ROOT, "%s\t%s\t%d\t%d\t%.4f\t[%.4f, %.4f]\t%d\t%s\t%s", arm, point, step,
                spend, acc.student(), acc.studentCi95()[0], acc.studentCi95()[1], acc.prompts(), tf.top1Agreement(),
                tf.kl());
        System.out.println("RESULT " + line);
        log.println(line);
    }
}
