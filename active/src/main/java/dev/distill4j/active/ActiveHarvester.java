package dev.distill4j.active;

import dev.distill4j.core.io.FileTrees;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.AtomicFiles;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import dev.distill4j.core.Message;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.RunManifest;
import dev.distill4j.core.Sample;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.io.PromptDuplicates;
import dev.distill4j.core.io.PromptReader;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.teacher.Backoff;
import dev.distill4j.teacher.Budget;
import dev.distill4j.teacher.Harvester;
import dev.distill4j.teacher.RateLimiter;
import dev.distill4j.teacher.Teacher;
import dev.distill4j.train.RunShare;
import dev.distill4j.train.TrainConfig;
import dev.distill4j.train.TrainListener;
import dev.distill4j.train.TrainSummary;
import dev.distill4j.train.Trainer;
import dev.distill4j.train.data.EvalSplit;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * Budget-closed active harvesting: spends a teacher budget where the student is weakest, in rounds.
 *
 * <pre>
 *   held-out set  H = pool prompts with EvalSplit(f).isHeldOut(id); bought once, before round 1
 *   round r       pool P_r = pool − H − bought;   n_r = ⌊(B − spent) / (R − r + 1) / c̄⌋   (c̄ = mean cost of an answer so far)
 *                 score P_r with the current student → pick n_r (most uncertain, diverse) → buy them
 *                 → retrain on every training answer bought → measure top-1 agreement on H → log
 * </pre>
 * The budget B is a hard cap on everything bought (held-out answers included): each purchase runs the teacher
 * module's {@link Harvester} under a {@link Budget} of what is left, which reserves every request's worst case before
 * it is sent. The pool's held-out share is bought first so every round is measured on the same prompts; they are
 * exactly the prompts {@code distill train --eval-fraction f} holds out of this run, so the round students are scored
 * by the trainer's own held-out evaluation.
 *
 * <p>With {@link ScoreKind#AUTO}, each round first calibrates: the current student scores up to {@code --pilot}
 * held-out prompts, whose answers are already bought and never trained on, and each score is ranked against the
 * student's divergence from those answers ({@link Calibration}). The best-correlated score drives the round; when no
 * score reaches ρ = {@value #MIN_SPEARMAN} (an untrained student's doubt says nothing yet) the round buys uniformly,
 * as a pilot whose answers teach the student what its scores need.
 *
 * <p>Resumable: {@code active/state.json} (written atomically after each round) names the finished rounds; a round's
 * selection is written before anything is bought, so a killed round resumes with the same prompts, and the run
 * store's content keys make sure no answer is bought twice. A round's training is simply redone.
 *
 * <p>Layout under the run: {@code active/state.json}, {@code active/rounds.jsonl} (one line per round),
 * {@code active/heldout.jsonl}, {@code active/round-NNN/} ({@code selected.jsonl}, {@code scores.jsonl},
 * {@code train/} with the round's student, metrics and checkpoints; only the newest round's student is kept).
 */
public final class ActiveHarvester {
    public static final String DIR = "active";
    public static final String STATE = "state.json";
    public static final String ROUNDS = "rounds.jsonl";
    /** With --select auto, a round selects by the best score only when its Spearman ρ reaches this; else uniformly. */
    public static final double MIN_SPEARMAN = 0.1;

    /** What the loop tells its caller; the CLI draws progress lines from it. */
    public interface Listener {
        /** A step begins; {@code progress} describes it while it runs (polled from another thread). */
        void stage(String title, Supplier<String> progress);

        /** The step that began last has ended. */
        void stageDone(String summary);

        /** A round has finished and been logged. */
        void round(RoundRecord record);
    }

    /** Why the loop stopped. */
    public enum Stop {
        /** Every round ran. */
        ROUNDS_DONE,
        /** What is left of the budget does not pay for one more answer. */
        BUDGET_SPENT,
        /** Every pool prompt has been bought. */
        POOL_EMPTY
    }

    /**
     * The outcome.
     *
     * @param heldOutPrompts held-out prompts with an answer
     * @param chosenScore    with --select auto, what the newest round selected by (its calibration's choice, or
     *                       uniform); null otherwise
     * @param student        the newest round's student (the initial student when no round ran)
     */
    public record Result(Stop stop, List<RoundRecord> rounds, int heldOutPrompts, double heldOutUsd,
                         double totalUsd, String chosenScore, Path student) {}

    private final ActiveConfig config;
    private final Teacher teacher;
    private final RateLimiter limiter;
    private final Backoff backoff;
    private final Listener listener;
    private final Path dir;
    private final EvalSplit split;
    private volatile Harvester current;
    private volatile boolean stopped;

    public ActiveHarvester(ActiveConfig config, Teacher teacher, RateLimiter limiter, Backoff backoff,
                           Listener listener) {
        this.config = config;
        this.teacher = teacher;
        this.limiter = limiter;
        this.backoff = backoff;
        this.listener = listener;
        this.dir = config.runDir().resolve(DIR);
        this.split = new EvalSplit(config.evalFraction());
    }

    /**
     * Asks the loop to stop (Ctrl-C): the purchase under way sends no new request and keeps what was answered, and no
     * further step starts; {@link #run} then throws {@link InterruptedException}. Rerunning resumes.
     */
    public void stop() {
        stopped = true;
        Harvester h = current;
        if (h != null) h.stop();
    }

    public Result run() throws IOException, InterruptedException {
        if (!Files.isRegularFile(config.student().resolve("config.json"))) {
            throw new InvalidInputException("no student model folder at " + config.student()
                    + " (config.json missing): create one with 'distill model init' or give a Hugging Face folder");
        }
        for (RunShare r : config.replay()) {
            if (!Files.isRegularFile(r.dir().resolve(RunStore.FILE))) {
                throw new InvalidInputException("--replay " + r.dir() + " is not a run (no " + RunStore.FILE + "):"
                        + " name the run folder the student was trained on");
            }
        }
        PromptDuplicates checked;
        try (RunStore existing = Files.isRegularFile(config.runDir().resolve(RunStore.FILE))
                ? RunStore.openExisting(config.runDir()) : null) {
            checked = PromptDuplicates.scan(config.pool(), existing);
        }
        List<Prompt> pool = readPool(checked);
        List<Prompt> heldOut = pool.stream().filter(p -> split.isHeldOut(p.id())).toList();
        List<Prompt> trainable = pool.stream().filter(p -> !split.isHeldOut(p.id())).toList();
        if (heldOut.isEmpty()) {
            throw new InvalidInputException("no prompt of " + config.pool() + " falls in the held-out share at "
                    + "--eval-fraction " + config.evalFraction() + " (" + pool.size() + " prompts): raise it");
        }
        if (trainable.isEmpty()) {
            throw new InvalidInputException("every prompt of " + config.pool() + " is held out at --eval-fraction "
                    + config.evalFraction() + ": lower it");
        }
        Files.createDirectories(dir);
        State state = State.load(dir, config.fingerprint(PromptReader.sha256(config.pool())));
        try (RunStore store = RunStore.open(config.runDir())) {
            RunManifest previous = RunManifest.exists(config.runDir()) ? RunManifest.read(config.runDir()) : null;
            Harvester.manifest(teacher, config.apiKeyEnv(), config.pool(), previous).write(config.runDir());
            buyHeldOut(store, heldOut);
            Spend spend = Spend.of(store, split);
            if (spend.heldOutPrompts == 0) {
                throw new InvalidInputException("the budget of $" + config.budgetUsd() + " bought no held-out answer:"
                        + " raise --budget-usd");
            }
            Stop stop = Stop.ROUNDS_DONE;
            int r = state.rounds.size() + 1;
            for (; r <= config.rounds(); r++) {
                spend = Spend.of(store, split);
                Set<String> bought = spend.boughtPrompts;
                List<Prompt> candidates = trainable.stream().filter(p -> !bought.contains(p.id())).toList();
                if (candidates.isEmpty()) {
                    stop = Stop.POOL_EMPTY;
                    break;
                }
                double left = config.budgetUsd() - spend.totalUsd;
                double allot = left / (config.rounds() - r + 1);
                int n = (int) Math.min(candidates.size(), Math.floor(allot / spend.meanCostUsd()));
                if (n < 1) {
                    stop = Stop.BUDGET_SPENT;
                    break;
                }
                if (stopped) throw new InterruptedException("stopped before round " + r);
                RoundRecord rec = round(r, state, store, candidates, n, spend, heldOut);
                state.rounds.add(rec);
                state.save(dir);
                listener.round(rec);
                if (r > 1) dropStudent(r - 1);
            }
            spend = Spend.of(store, split);
            Path student = state.rounds.isEmpty() ? config.student() : Path.of(state.rounds.getLast().student());
            return new Result(stop, List.copyOf(state.rounds), spend.heldOutPrompts, spend.heldOutUsd,
                    spend.totalUsd, state.chosen, student);
        }
    }

    /** One round: choose (or reload the choice), buy, retrain, measure. */
    private RoundRecord round(int r, State state, RunStore store, List<Prompt> candidates, int n, Spend before,
                              List<Prompt> heldOut) throws IOException, InterruptedException {
        Path roundDir = dir.resolve(String.format(Locale.ROOT, "round-%03d", r));
        Files.createDirectories(roundDir);
        Path selectedFile = roundDir.resolve("selected.jsonl");
        Path scoresFile = roundDir.resolve("scores.jsonl");
        Path current = r == 1 ? config.student() : Path.of(state.rounds.getLast().student());
        Map<String, Prompt> byId = new HashMap<>();
        for (Prompt p : candidates) byId.put(p.id(), p);
        List<Candidate> scoredAll;
        List<Candidate> chosen;
        double probeSeconds = 0;
        int scoredCount;
        String label;
        ScoreKind kind;
        Map<String, Double> calibration = new LinkedHashMap<>();
        if (Files.isRegularFile(selectedFile) && Files.isRegularFile(scoresFile)) {
            // a killed round: the same prompts again (the store skips what was already bought)
            Selected s = Selected.read(scoresFile);
            chosen = s.chosen;
            scoredAll = List.of();
            scoredCount = s.candidates;
            label = s.label;
            kind = s.kind;
            calibration.putAll(s.calibration);
            listener.stageDone("round " + r + ": resuming with the " + chosen.size() + " prompts it chose before");
        } else {
            long t0 = System.nanoTime();
            Random random = new Random(config.seed() * 1_000_003L + r);
            kind = config.select();
            label = kind.flag();
            if (kind == ScoreKind.AUTO) {
                Calibration.Result cal = calibrate(r, current, store, heldOut, random);
                cal.spearman().forEach((k, v) -> calibration.put(k.flag(), v));
                double best = cal.spearman().getOrDefault(cal.chosen(), Double.NaN);
                boolean predicts = best >= MIN_SPEARMAN;
                kind = predicts ? cal.chosen() : ScoreKind.UNIFORM;
                label = predicts ? cal.chosen().flag() + " (auto)" : "uniform (auto)";
                state.chosen = kind.flag();
                listener.stageDone(String.format(Locale.ROOT, "Spearman ρ of score vs divergence on %d held-out "
                        + "answers: %s → %s", cal.prompts(), describe(cal.spearman()), predicts
                        ? "this round selects by " + cal.chosen()
                        : "no score predicts divergence (ρ < " + MIN_SPEARMAN + "): this round buys uniformly"));
            }
            List<Prompt> scoring = candidates;
            if (config.maxCandidates() > 0 && scoring.size() > config.maxCandidates()) {
                List<Prompt> shuffled = new ArrayList<>(candidates);
                shuffled.sort(Comparator.comparing(Prompt::id));
                java.util.Collections.shuffle(shuffled, random);
                scoring = shuffled.subList(0, config.maxCandidates());
            }
            Gains gains = null;
            if (kind == ScoreKind.GAIN) {
                gains = gains(r, current, store, heldOut, scoring, random);
                calibration.put("gain (leave-one-out)", gains.looSpearman());
                if (gains.candidates().isEmpty()) {
                    kind = ScoreKind.UNIFORM;
                    label = "uniform (no gain)";
                }
            }
            if (kind == ScoreKind.UNIFORM) {
                // nothing to rank by: a uniform draw from the whole pool, nothing scored
                List<Candidate> blank = candidates.stream().map(p -> new Candidate(p.id(), Double.NaN, Double.NaN,
                        Double.NaN, Double.NaN, new float[0])).toList();
                chosen = Selection.select(blank, ScoreKind.UNIFORM, n, 1, random);
                scoredAll = List.of();
                scoredCount = 0;
            } else if (gains != null) {
                scoredAll = gains.candidates();
                scoredCount = scoredAll.size();
                chosen = Selection.select(scoredAll, kind, n, 1, config.uniformShare(), random);
            } else {
                scoredAll = probe(current, scoring, "round " + r + ": the student scores " + scoring.size()
                        + " pool prompts (" + kind + ")");
                scoredCount = scoredAll.size();
                chosen = Selection.select(scoredAll, kind, n, config.diversity(), config.uniformShare(), random);
            }
            if (kind != ScoreKind.UNIFORM && config.uniformShare() > 0) {
                label += String.format(Locale.ROOT, " + %.0f %% uniform", 100 * config.uniformShare());
            }
            probeSeconds = (System.nanoTime() - t0) / 1e9;
            Selected.write(scoresFile, chosen, scoredCount, scoredAll, kind, label, calibration);
            writePrompts(selectedFile, chosen.stream().map(c -> byId.get(c.promptId())).toList());
        }
        double meanBought = meanScore(chosen, kind);
        double meanPool = scoredAll.isEmpty() ? Selected.poolMean(scoresFile) : meanScore(scoredAll, kind);

        long h0 = System.nanoTime();
        buy(store, selectedFile, "round " + r + ": buying " + chosen.size() + " answers from the teacher");
        double harvestSeconds = (System.nanoTime() - h0) / 1e9;

        if (stopped) throw new InterruptedException("stopped after round " + r + "'s purchase");
        Path trainDir = roundDir.resolve("train");
        FileTrees.delete(trainDir);
        Path from = config.retrain() == ActiveConfig.Retrain.CONTINUE ? current : config.student();
        TrainSummary t = train(r, from, trainDir);
        Spend after = Spend.of(store, split);
        return new RoundRecord(r, label, scoredCount, after.trainingPrompts - before.trainingPrompts,
                after.totalUsd - before.totalUsd, after.trainingUsd, after.heldOutUsd, after.totalUsd,
                after.trainingPrompts, meanBought, meanPool, t.evalAgreement(), t.evalLoss(), t.evalKl(), t.steps(),
                probeSeconds, harvestSeconds, t.elapsedSeconds(), calibration, t.student().toString());
    }

    private List<Candidate> probe(Path student, List<Prompt> prompts, String title) throws IOException {
        var done = new java.util.concurrent.atomic.AtomicInteger();
        listener.stage(title, () -> done.get() + "/" + prompts.size() + " scored");
        List<Candidate> out;
        try (StudentProbe probe = new StudentProbe(student, config.probeTokens(), config.studentSamples(),
                config.seed())) {
            out = probe.score(prompts, done::set);
        }
        listener.stageDone(prompts.size() + " prompts scored by the student");
        return out;
    }

    /** The pool's candidates with their expected gain, and how well the gain predicted the held-out answers. */
    private record Gains(List<Candidate> candidates, double looSpearman) {}

    /**
     * {@code --select gain}: the current student measures its excess divergence on up to {@code --pilot} held-out
     * answers (already bought, never trained on) and embeds the pool prompts; each pool prompt's gain is predicted
     * from its nearest held-out prompts ({@link ExpectedGain}). No answer is generated, so this costs two forward
     * passes per prompt.
     */
    private Gains gains(int r, Path student, RunStore store, List<Prompt> heldOut, List<Prompt> pool, Random random)
            throws IOException {
        Pilot pilot = pilot(store, heldOut, random);
        List<Prompt> answered = pilot.prompts();
        Map<String, Sample> answers = pilot.answers();
        var done = new java.util.concurrent.atomic.AtomicInteger();
        int total = 2 * answered.size() + pool.size();
        listener.stage("round " + r + ": the student measures itself on " + answered.size() + " held-out answers and "
                + "embeds " + pool.size() + " pool prompts (gain)", () -> done.get() + "/" + total);
        List<ExpectedGain.Reference> refs = new ArrayList<>();
        List<float[]> poolEmbeddings;
        try (StudentProbe probe = new StudentProbe(student, config.probeTokens(), 0, config.seed())) {
            List<float[]> e = probe.embed(answered, done::set);
            for (int i = 0; i < answered.size(); i++) {
                Prompt p = answered.get(i);
                Sample s = answers.get(p.id());
                StudentProbe.Likelihood l = probe.likelihood(p, s.text());
                done.incrementAndGet();
                // an answer cut by the student's context is measured on a prefix the teacher's figure does not match
                if (l.tokens() == 0 || !l.whole()) continue;
                refs.add(new ExpectedGain.Reference(p.id(), e.get(i), ExpectedGain.excess(l.nats(), s.tokens()),
                        s.costUsd()));
            }
            int before = done.get();
            poolEmbeddings = probe.embed(pool, k -> done.set(before + k));
        }
        if (refs.isEmpty()) {
            listener.stageDone("no held-out answer could be measured: nothing to predict the gain from");
            return new Gains(List.of(), Double.NaN);
        }
        List<Candidate> out = new ArrayList<>(pool.size());
        for (int i = 0; i < pool.size(); i++) {
            float[] e = poolEmbeddings.get(i);
            out.add(Candidate.withGain(pool.get(i).id(), ExpectedGain.predict(e, refs), e));
        }
        double rho = ExpectedGain.leaveOneOutSpearman(refs);
        double excess = refs.stream().mapToDouble(ExpectedGain.Reference::excessNats).average().orElse(0);
        listener.stageDone(String.format(Locale.ROOT, "%d held-out answers: mean excess divergence %.2f nats an "
                + "answer; the gain predicts them at leave-one-out Spearman ρ %.3f", refs.size(), excess, rho));
        return new Gains(out, rho);
    }

    /** Held-out prompts with a stored answer, in id order, and those answers by prompt id. */
    private record Pilot(List<Prompt> prompts, Map<String, Sample> answers) {}

    /** Up to {@code --pilot} held-out prompts, drawn with {@code random}, with the answers the store holds for them. */
    private Pilot pilot(RunStore store, List<Prompt> heldOut, Random random) {
        List<Prompt> sample = new ArrayList<>(heldOut);
        sample.sort(Comparator.comparing(Prompt::id));
        java.util.Collections.shuffle(sample, random);
        if (sample.size() > config.pilot()) sample = sample.subList(0, config.pilot());
        Set<String> ids = new HashSet<>();
        for (Prompt p : sample) ids.add(p.id());
        Map<String, Sample> answers = new HashMap<>();
        store.forEachSample(SampleStatus.DONE, (p, s) -> {
            if (ids.contains(p.id()) && s.text() != null) answers.putIfAbsent(p.id(), s);
        });
        return new Pilot(heldOut.stream().filter(p -> answers.containsKey(p.id()))
                .sorted(Comparator.comparing(Prompt::id)).toList(), answers);
    }

    /**
     * Which score tracks the current student's distance from the teacher: up to {@code --pilot} held-out prompts
     * (answers already bought, never trained on) are scored, and each score is ranked against the student's
     * divergence on the teacher's answer ({@link Calibration}).
     */
    private Calibration.Result calibrate(int r, Path student, RunStore store, List<Prompt> heldOut, Random random)
            throws IOException {
        Pilot pilot = pilot(store, heldOut, random);
        List<Prompt> answered = pilot.prompts();
        Map<String, Sample> answers = pilot.answers();
        Map<String, Double> divergence = new HashMap<>();
        var done = new java.util.concurrent.atomic.AtomicInteger();
        listener.stage("round " + r + ": calibrating the scores on " + answered.size() + " held-out answers",
                () -> done.get() + "/" + answered.size());
        List<Candidate> scored;
        try (StudentProbe probe = new StudentProbe(student, config.probeTokens(), config.studentSamples(),
                config.seed())) {
            scored = probe.score(answered, k -> done.set(k / 2));
            for (Prompt p : answered) {
                double d = probe.divergence(p, answers.get(p.id()).text());
                if (!Double.isNaN(d)) divergence.put(p.id(), d);
                done.incrementAndGet();
            }
        }
        return Calibration.choose(scored, divergence, ScoreKind.measurable(config.studentSamples() >= 2));
    }

    private TrainSummary train(int r, Path from, Path out) throws IOException {
        TrainConfig.Builder b = TrainConfig.builder();
        if (config.replay().isEmpty()) {
            b.setRunDir(config.runDir());
        } else {
            // this run's answers at weight 1 beside the replayed ones; agreement on this run's held-out prompts only
            List<RunShare> runs = new ArrayList<>();
            runs.add(new RunShare(config.runDir(), 1.0));
            runs.addAll(config.replay());
            b.setRuns(runs).optEvalFirstRunOnly(true);
        }
        TrainConfig tc = b.setStudentDir(from).optOutputDir(out)
                .optLoss(config.loss()).optAlpha(config.alpha()).optMaxSteps(config.trainSteps())
                .optLr(config.lr()).optWarmupSteps(config.warmupSteps()).optBatchTokens(config.batchTokens())
                .optMaxSeqLen(config.maxSeqLen()).optEvalFraction(config.evalFraction()).optEvalEvery(0)
                .optSaveEvery(0).optSeed(config.seed() + r).build();
        AtomicReference<Trainer.StepMetrics> last = new AtomicReference<>();
        listener.stage("round " + r + ": retraining the student (" + config.trainSteps() + " steps from "
                + (from.equals(config.student()) ? "the initial student" : "the previous round's") + ")", () -> {
            Trainer.StepMetrics m = last.get();
            return m == null ? "preparing" : String.format(Locale.ROOT, "step %d/%d loss %.3f %.0f tok/s", m.step(),
                    m.totalSteps(), m.loss(), m.tokensPerSecond());
        });
        TrainSummary s = Trainer.run(tc, new TrainListener() {
            @Override public void onStep(Trainer.StepMetrics step) { last.set(step); }
        });
        listener.stageDone(String.format(Locale.ROOT, "%d steps in %.0f s, held-out top-1 agreement %.4f",
                s.steps(), s.elapsedSeconds(), s.evalAgreement()));
        return s;
    }

    /** Buys the held-out answers still missing, before any round. */
    private void buyHeldOut(RunStore store, List<Prompt> heldOut) throws IOException, InterruptedException {
        Path file = dir.resolve("heldout.jsonl");
        if (!Files.isRegularFile(file)) writePrompts(file, heldOut);
        Harvester.Result r = buy(store, file, "buying the " + heldOut.size() + " held-out answers (measured on, never"
                + " trained on)");
        if (r.outcome() == Harvester.Outcome.BUDGET_REACHED) {
            throw new InvalidInputException(String.format(Locale.ROOT, "the budget of $%.4f ran out while buying the"
                    + " held-out set (%d prompts at --eval-fraction %s): raise --budget-usd or lower --eval-fraction;"
                    + " what was bought is kept", config.budgetUsd(), heldOut.size(), config.evalFraction()));
        }
    }

    /** One purchase through the teacher module's harvester, capped at what is left of the budget. */
    private Harvester.Result buy(RunStore store, Path prompts, String title) throws IOException, InterruptedException {
        double left = Math.max(0, config.budgetUsd() - Spend.of(store, split).totalUsd);
        Budget budget = new Budget(config.priceIn(), config.priceOut(), left);
        Harvester h = new Harvester(teacher, store, new Harvester.Options(prompts, 1, config.concurrency(), false,
                false), limiter, budget, backoff);
        if (stopped) throw new InterruptedException("stopped");
        current = h;
        listener.stage(title, () -> {
            var p = h.progress();
            return String.format(Locale.ROOT, "%d answered, %d already stored, %d failed, %d in flight | $%.4f",
                    p.done(), p.alreadyDone(), p.failed(), p.inFlight(), p.spentUsd());
        });
        Harvester.Result r;
        try {
            r = h.run();
        } finally {
            current = null;
        }
        if (r.outcome() == Harvester.Outcome.FATAL) {
            throw new TeacherFailure(r.fatal().getMessage() + " — nothing stored was lost; fix this and rerun the "
                    + "same command to resume", r.fatal());
        }
        if (r.outcome() == Harvester.Outcome.INTERRUPTED) throw new InterruptedException("harvest interrupted");
        listener.stageDone(String.format(Locale.ROOT, "%d answered now, %d already stored, %d failed; $%.4f%s",
                r.progress().done(), r.progress().alreadyDone(), r.progress().failed(), r.progress().spentUsd(),
                r.outcome() == Harvester.Outcome.BUDGET_REACHED ? " (stopped at the budget)" : ""));
        return r;
    }

    /** A fatal teacher error (bad key, unknown model, unreachable host). */
    public static final class TeacherFailure extends IOException {
        TeacherFailure(String message, Throwable cause) { super(message, cause); }
    }

    private List<Prompt> readPool(PromptDuplicates checked) throws IOException {
        List<Prompt> out = new ArrayList<>();
        long malformed = 0;
        String first = null;
        try (PromptReader reader = PromptReader.openUnique(config.pool(), checked)) {
            while (reader.hasNext()) {
                switch (reader.next()) {
                    case PromptReader.Ok ok -> out.add(ok.prompt());
                    case PromptReader.Malformed bad -> {
                        malformed++;
                        if (first == null) first = bad.toString();
                    }
                }
            }
        }
        if (malformed > 0) listener.stageDone("note: " + malformed + " malformed prompt lines skipped (first: "
                + first + ")");
        if (out.isEmpty()) throw new InvalidInputException("no prompts in " + config.pool());
        return out;
    }

    /** Writes prompts as JSONL with their ids, so the store sees the same id and content as in the pool. */
    static void writePrompts(Path file, List<Prompt> prompts) throws IOException {
        StringBuilder w = new StringBuilder();
        {
            for (Prompt p : prompts) {
                ObjectNode o = Json.object().put("id", p.id());
                if (p.isChat()) {
                    ArrayNode msgs = o.putArray("messages");
                    for (Message m : p.messages()) msgs.addObject().put("role", m.role()).put("content", m.content());
                } else {
                    o.put("prompt", p.text());
                }
                if (!p.metadata().isEmpty()) o.set("metadata", p.metadata());
                w.append(Json.write(o)).append('\n');
            }
        }
        AtomicFiles.writeString(file, w.toString());
    }

    private static double meanScore(List<Candidate> cs, ScoreKind kind) {
        if (kind == ScoreKind.UNIFORM || kind == ScoreKind.AUTO || cs.isEmpty()) return Double.NaN;
        return cs.stream().mapToDouble(c -> c.score(kind)).filter(d -> !Double.isNaN(d)).average().orElse(Double.NaN);
    }

    private static String describe(Map<ScoreKind, Double> rho) {
        List<String> parts = new ArrayList<>();
        rho.forEach((k, v) -> parts.add(String.format(Locale.ROOT, "%s %.3f", k, v)));
        return String.join(", ", parts);
    }

    /** Keeps disk bounded: an older round's student and checkpoints go once a newer round is logged. */
    private void dropStudent(int round) throws IOException {
        Path train = dir.resolve(String.format(Locale.ROOT, "round-%03d", round)).resolve("train");
        FileTrees.delete(train.resolve("student"));
        FileTrees.delete(train.resolve("checkpoints"));
    }

    /** What the run has spent, on held-out and on training prompts, from the store's per-sample costs. */
    record Spend(double heldOutUsd, double trainingUsd, double totalUsd, int heldOutPrompts, int trainingPrompts,
                 long answered, Set<String> boughtPrompts) {
        static Spend of(RunStore store, EvalSplit split) {
            double[] usd = new double[2];
            Set<String> held = new HashSet<>();
            Set<String> training = new HashSet<>();
            Set<String> bought = new HashSet<>();
            long[] answered = {0};
            store.forEachSample(null, (Prompt p, Sample s) -> {
                boolean h = split.isHeldOut(p.id());
                usd[h ? 0 : 1] += s.costUsd();
                if (s.status() == SampleStatus.DONE) {
                    answered[0]++;
                    (h ? held : training).add(p.id());
                }
                if (s.status() != SampleStatus.PENDING) bought.add(p.id());
            });
            return new Spend(usd[0], usd[1], usd[0] + usd[1], held.size(), training.size(), answered[0], bought);
        }

        /** c̄: what an answer has cost on average (a failed request's cost counts too). */
        double meanCostUsd() { return answered == 0 ? Double.POSITIVE_INFINITY : totalUsd / answered; }
    }

    /** A round's choice as written before buying: the chosen candidates' scores, how many were scored, and why. */
    record Selected(List<Candidate> chosen, int candidates, ScoreKind kind, String label,
                    Map<String, Double> calibration) {
        static void write(Path file, List<Candidate> chosen, int candidates, List<Candidate> pool, ScoreKind kind,
                          String label, Map<String, Double> calibration) throws IOException {
            double poolMean = meanScore(pool, kind);
            StringBuilder w = new StringBuilder();
            ObjectNode head = Json.object().put("candidates", candidates).put("select", kind.flag())
                    .put("label", label);
            if (Double.isFinite(poolMean)) head.put("pool_mean", poolMean);
            ObjectNode cal = head.putObject("calibration_spearman");
            calibration.forEach((k, v) -> put(cal, k, v));
            w.append(Json.write(head)).append('\n');
            for (Candidate c : chosen) {
                ObjectNode o = Json.object().put("id", c.promptId());
                put(o, "entropy", c.entropy());
                put(o, "margin", c.margin());
                put(o, "least_confidence", c.leastConfidence());
                put(o, "disagreement", c.disagreement());
                put(o, "gain", c.gain());
                w.append(Json.write(o)).append('\n');
            }
            AtomicFiles.writeString(file, w.toString());
        }

        static Selected read(Path file) throws IOException {
            List<String> lines = Files.readAllLines(file);
            JsonNode head = Json.parse(lines.getFirst());
            List<Candidate> out = new ArrayList<>();
            for (String l : lines.subList(1, lines.size())) {
                if (l.isBlank()) continue;
                JsonNode o = Json.parse(l);
                out.add(new Candidate(o.path("id").asText(), get(o, "entropy"), get(o, "margin"),
                        get(o, "least_confidence"), get(o, "disagreement"), get(o, "gain"), new float[0]));
            }
            Map<String, Double> cal = new LinkedHashMap<>();
            head.path("calibration_spearman").properties().forEach(e -> cal.put(e.getKey(), e.getValue().asDouble()));
            return new Selected(out, head.path("candidates").asInt(), ScoreKind.parse(head.path("select").asText()),
                    head.path("label").asText(), cal);
        }

        static double poolMean(Path file) throws IOException {
            JsonNode head = Json.parse(Files.readAllLines(file).getFirst());
            return head.has("pool_mean") ? head.get("pool_mean").asDouble() : Double.NaN;
        }

        private static void put(ObjectNode o, String k, double v) {
            if (Double.isFinite(v)) o.put(k, v);
        }

        private static double get(JsonNode o, String k) {
            return o.has(k) ? o.get(k).asDouble() : Double.NaN;
        }
    }

    /** {@code active/state.json}: the settings the rounds were made under, the pilot's choice, the finished rounds. */
    static final class State {
        final String settings;
        String chosen;
        final List<RoundRecord> rounds = new ArrayList<>();

        private State(String settings) { this.settings = settings; }

        static State load(Path dir, String settings) throws IOException {
            Path file = dir.resolve(STATE);
            State s = new State(settings);
            if (!Files.isRegularFile(file)) return s;
            JsonNode o = Json.parse(Files.readString(file));
            if (!o.path("settings").asText().equals(settings)) {
                throw new InvalidInputException("this run's active rounds were made with other settings (pool file, "
                        + "student, --select, --eval-fraction, training flags or --seed differ from " + file + "): "
                        + "rerun with the same flags to resume, or use a new --run");
            }
            if (o.hasNonNull("chosen_score")) s.chosen = o.get("chosen_score").asText();
            for (JsonNode r : o.path("rounds")) s.rounds.add(RoundRecord.fromJson(r));
            return s;
        }

        void save(Path dir) throws IOException {
            ObjectNode o = Json.object().put("settings", settings);
            if (chosen != null) o.put("chosen_score", chosen);
            ArrayNode arr = o.putArray("rounds");
            StringBuilder log = new StringBuilder();
            for (RoundRecord r : rounds) {
                arr.add(r.toJson());
                log.append(Json.write(r.toJson())).append('\n');
            }
            // the log first: state.json is what a resume trusts, so it is written last
            AtomicFiles.writeString(dir.resolve(ROUNDS), log.toString());
            AtomicFiles.writeString(dir.resolve(STATE), Json.writePretty(o) + "\n");
        }
    }
}
