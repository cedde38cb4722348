package dev.distill4j.eval;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.AtomicFiles;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.RunManifest;
import dev.distill4j.core.Sample;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.Usage;
import dev.distill4j.core.Version;
import dev.distill4j.core.io.PromptReader;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.model.engine.Quantization;
import dev.distill4j.model.generate.FinishReason;
import dev.distill4j.model.generate.SamplingParams;
import dev.distill4j.model.io.ModelInfo;
import dev.distill4j.model.local.LocalModel;
import dev.distill4j.teacher.Budget;
import dev.distill4j.teacher.Teacher;
import dev.distill4j.teacher.TeacherConfig;
import dev.distill4j.teacher.TeacherException;
import dev.distill4j.teacher.Teachers;
import dev.distill4j.train.data.EvalSplit;
import dev.distill4j.train.data.ExampleBuilder.PromptFormat;
import dev.distill4j.train.data.ExampleBuilder.TokenSource;
import dev.distill4j.train.data.ExampleSet;
import dev.distill4j.train.data.ExampleSettings;
import dev.distill4j.train.data.TrainingExample;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code distill eval}: scores a student against the teacher on held-out prompts and writes
 * {@code <run>/eval/scorecard.json} and {@code <run>/eval/report.html}. See docs/eval.md.
 *
 * <pre>{@code
 * Scorecard card = Evaluator.builder().setRun(runDir).optJudge(true).optPrices(0.15, 0.60).build().run();
 * }</pre>
 */
public final class Evaluator {
    private static final Logger LOG = LoggerFactory.getLogger(Evaluator.class);
    public static final String DIR = "eval";
    public static final String SCORECARD = "scorecard.json";
    public static final String REPORT = "report.html";

    /** What the evaluator is doing now, for a progress bar: {@code done} of {@code total} in {@code phase}. */
    public record Progress(String phase, int done, int total) {}

    private final Builder o;
    private volatile Progress progress = new Progress("loading", 0, 0);

    private Evaluator(Builder b) {
        this.o = b;
    }

    public static Builder builder() { return new Builder(); }

    public Progress progress() { return progress; }

    /**
     * Runs the whole evaluation, writes both files and returns the scorecard. The stages, in order: {@link
     * #choosePrompts choose the prompts}, {@link #teacherForced teacher-forced metrics}, {@link #generate greedy
     * generation}, {@link #grade text metrics and task accuracy}, the optional {@link #judge judge}, {@link
     * #efficiency efficiency}, {@link #write the two files}.
     */
    public Scorecard run() throws IOException, TeacherException {
        Path run = o.run;
        RunManifest manifest = readRun(run);
        Path studentDir = o.student != null ? o.student : run.resolve("student");
        int maxNew = o.maxNewTokens != null ? o.maxNewTokens : defaultMaxNewTokens(manifest);
        // before any model work, so a missing key for a vendor API fails at once
        TeacherConfig judgeConfig = o.judge ? judgeConfig(manifest) : null;

        try (NDManager root = NDManager.newBaseManager("PyTorch");
             LocalModel student = load(studentDir, root, o.quantization);
             RunStore store = RunStore.openExisting(run)) {
            // the example settings training recorded in the student folder, flags overriding them
            TrainingContract.Resolved contract = TrainingContract.resolve(studentDir,
                    new TrainingContract.Overrides(o.maxSeqLen, o.evalFraction, o.promptFormat, o.tokenSource),
                    student.hasChatTemplate(), o.warnings);
            ExampleSettings settings = contract.settings();
            ExampleSet examples = settings.builder(student.tokenizer(), student.chatTemplate().orElse(null)).build()
                    .examples(store);

            Selection chosen = choosePrompts(examples, settings, store);
            TeacherForced.Result tf = teacherForced(student, chosen.scored());
            SamplingParams sampling = SamplingParams.greedy(maxNew);
            Generated generated = generate(student, chosen, settings.promptFormat(), sampling);
            Graded graded = grade(student, chosen, generated, maxNew);
            Scorecard.JudgeResult judged = o.judge
                    ? judge(manifest, judgeConfig, chosen.prompts(), chosen.answers(), chosen.ids(), graded.results())
                    : null;
            Scorecard.ModelEfficiency local = o.teacherModel == null ? null
                    : measureLocalTeacher(root, chosen.prompts(), chosen.ids(), sampling);
            Scorecard.Efficiency efficiency = efficiency(student, generated.times(), local, chosen.answers(),
                    chosen.ids());

            List<Scorecard.PromptResult> results = graded.results();
            List<Scorecard.PromptResult> worst = results.stream()
                    .sorted(Comparator.comparingDouble(Scorecard.PromptResult::chrf))
                    .limit(o.worst).toList();
            ModelInfo info = student.info();
            Scorecard card = new Scorecard(Version.VERSION, Instant.now().toString(),
                    parameters(studentDir, maxNew, contract),
                    new Scorecard.Split(o.prompts == null ? "held-out" : "prompts-file", settings.evalFraction(),
                            o.prompts == null ? null : o.prompts.toString(), chosen.ids(), chosen.scored().size(),
                            chosen.inTraining()),
                    new Scorecard.TeacherInfo(manifest.provider(), manifest.model(), manifest.baseUrl(),
                            manifest.capability()),
                    new Scorecard.StudentInfo(studentDir.toString(), info.family(), info.parameters(), info.dtype()),
                    Scorecard.TeacherForcedMetrics.of(tf), graded.generation(), graded.accuracy(), judged, efficiency,
                    results.stream().map(Scorecard.PromptResult::withoutTexts).toList(), worst);
            write(card, studentDir);
            return card;
        }
    }

    /** The run's manifest, after checking the folder is a harvested run. */
    private static RunManifest readRun(Path run) throws IOException {
        if (!Files.isRegularFile(run.resolve(RunStore.FILE))) {
            throw new InvalidInputException("no run at " + run + " (no samples.db): run `distill harvest --run "
                    + run + " ...` first");
        }
        try {
            return RunManifest.read(run);
        } catch (NoSuchFileException e) {
            throw new InvalidInputException("no run.json in " + run + ": is this a distill4j run folder?");
        }
    }

    /**
     * The evaluated prompts and what is known about them.
     *
     * @param ids        prompt ids in evaluation order
     * @param inTraining how many of them (from a --prompts file) are in the training split
     * @param scored     their teacher-forced examples (training split first, then held-out)
     * @param prompts    id → prompt
     * @param answers    id → the teacher's done answer with the lowest sample index
     */
    record Selection(List<String> ids, int inTraining, List<TrainingExample> scored, Map<String, Prompt> prompts,
                     Map<String, Sample> answers) {}

    /**
     * Which prompts to evaluate: the held-out split (or the --prompts file's ids), cut to --limit; their
     * teacher-forced examples; and each one's teacher answer. A prompt without a done answer is an error.
     */
    private Selection choosePrompts(ExampleSet examples, ExampleSettings settings, RunStore store)
            throws IOException {
        List<String> ids;
        int inTraining = 0;
        Set<String> heldOut = new LinkedHashSet<>();
        for (TrainingExample e : examples.eval()) heldOut.add(e.promptId());
        if (o.prompts == null) {
            if (heldOut.isEmpty()) {
                throw new InvalidInputException("the run has no held-out prompts (eval fraction "
                        + settings.evalFraction() + ", " + examples.report().trainPrompts() + " prompts): raise "
                        + "--eval-fraction or pass --prompts FILE");
            }
            ids = new ArrayList<>(heldOut);
        } else {
            ids = promptIds(o.prompts);
            for (String id : ids) if (!heldOut.contains(id)) inTraining++;
        }
        if (o.limit > 0 && ids.size() > o.limit) ids = new ArrayList<>(ids.subList(0, o.limit));
        Set<String> chosen = new LinkedHashSet<>(ids);
        List<TrainingExample> scored = new ArrayList<>();
        for (TrainingExample e : examples.train()) if (chosen.contains(e.promptId())) scored.add(e);
        for (TrainingExample e : examples.eval()) if (chosen.contains(e.promptId())) scored.add(e);

        Map<String, Prompt> prompts = new LinkedHashMap<>();
        Map<String, Sample> answers = new HashMap<>();
        store.forEachSample(SampleStatus.DONE, (p, s) -> {
            if (chosen.contains(p.id()) && s.text() != null) {
                prompts.putIfAbsent(p.id(), p);
                answers.merge(p.id(), s, (a, b) -> a.sampleIndex() <= b.sampleIndex() ? a : b);
            }
        });
        List<String> missing = ids.stream().filter(id -> !answers.containsKey(id)).toList();
        if (!missing.isEmpty()) {
            throw new InvalidInputException(missing.size() + " of the " + ids.size() + " prompts have no done "
                    + "teacher answer in " + o.run + " (e.g. '" + missing.getFirst() + "'): harvest them first "
                    + "(distill harvest --run " + o.run + " --prompts FILE)");
        }
        return new Selection(ids, inTraining, scored, prompts, answers);
    }

    /** NLL, top-1 agreement and top-k KL of the student on the teacher's answers (see {@link TeacherForced}). */
    private TeacherForced.Result teacherForced(LocalModel student, List<TrainingExample> scored) {
        int total = scored.size();
        progress = new Progress("teacher-forced", 0, total);
        return new TeacherForced(student.model())
                .score(scored, done -> progress = new Progress("teacher-forced", done, total));
    }

    /**
     * The student's greedy answers, one prompt at a time, timed after one warm-up.
     *
     * @param texts   answers in {@link Selection#ids()} order
     * @param times   their timings
     * @param tokens  generated tokens in all
     * @param stopped how many ended at an EOS id rather than at the length limit
     */
    record Generated(List<String> texts, Timings times, long tokens, long stopped) {}

    /** Free generation: each chosen prompt rendered as training renders it, then greedy decoding. */
    private Generated generate(LocalModel student, Selection chosen, PromptFormat format, SamplingParams sampling) {
        List<String> ids = chosen.ids();
        List<String> texts = new ArrayList<>();
        Timings times = new Timings();
        progress = new Progress("generating", 0, ids.size());
        warmUp(student, encodePrompt(student, chosen.prompts().get(ids.getFirst()), format));
        long tokens = 0;
        long stopped = 0;
        for (int i = 0; i < ids.size(); i++) {
            int[] promptIds = encodePrompt(student, chosen.prompts().get(ids.get(i)), format);
            LocalModel.Timed t = student.generateTimed(promptIds, sampling);
            times.add(promptIds.length, t);
            texts.add(t.generation().text());
            tokens += t.generation().tokenIds().length;
            if (t.generation().finishReason() != FinishReason.LENGTH) stopped++;
            progress = new Progress("generating", i + 1, ids.size());
        }
        return new Generated(texts, times, tokens, stopped);
    }

    /** Per-prompt results and their means, and task accuracy where prompts carry an answer. */
    record Graded(List<Scorecard.PromptResult> results, Scorecard.GenerationMetrics generation,
                  Scorecard.TaskAccuracy accuracy) {}

    /**
     * The text metrics of each student answer against the teacher's (chrF, ROUGE-L, exact match; their means and
     * corpus chrF), lengths in tokens, and task accuracy of both against {@code metadata.answer}, overall and per
     * {@code metadata.<groupKey>}.
     */
    private Graded grade(LocalModel student, Selection chosen, Generated generated, int maxNew) {
        List<String> ids = chosen.ids();
        List<Scorecard.PromptResult> results = new ArrayList<>();
        ChrF.Stats corpus = ChrF.Stats.zero();
        double chrfSum = 0;
        double rougeSum = 0;
        int exact = 0;
        int withAnswer = 0;
        int studentRight = 0;
        int teacherRight = 0;
        Map<String, int[]> groups = new java.util.TreeMap<>(); // group → {prompts, student right, teacher right}
        long teacherTokens = 0;
        for (int i = 0; i < ids.size(); i++) {
            Prompt p = chosen.prompts().get(ids.get(i));
            Sample a = chosen.answers().get(ids.get(i));
            String st = generated.texts().get(i);
            ChrF.Stats cs = ChrF.stats(st, a.text());
            corpus = corpus.plus(cs);
            double chrf = cs.score();
            double rouge = RougeL.f1(st, a.text());
            boolean em = ExactMatch.matches(st, a.text());
            chrfSum += chrf;
            rougeSum += rouge;
            if (em) exact++;
            teacherTokens += a.usage().completionTokens() > 0 ? a.usage().completionTokens()
                    : student.tokenizer().encode(a.text(), false).length;
            String reference = reference(p);
            Boolean sOk = null;
            Boolean tOk = null;
            if (reference != null) {
                withAnswer++;
                sOk = AnswerExtractor.grade(st, reference).correct();
                tOk = AnswerExtractor.grade(a.text(), reference).correct();
                if (sOk) studentRight++;
                if (tOk) teacherRight++;
                String group = group(p);
                if (group != null) {
                    int[] g = groups.computeIfAbsent(group, k -> new int[3]);
                    g[0]++;
                    if (sOk) g[1]++;
                    if (tOk) g[2]++;
                }
            }
            results.add(new Scorecard.PromptResult(p.id(), promptText(p), a.text(), st, chrf, rouge, em,
                    reference, sOk, tOk, null));
        }
        int n = ids.size();
        var generation = new Scorecard.GenerationMetrics(n, "greedy", maxNew, (double) exact / n, chrfSum / n,
                corpus.score(), rougeSum / n, (double) generated.tokens() / n, (double) teacherTokens / n,
                (double) generated.stopped() / n);
        List<Scorecard.GroupAccuracy> byGroup = new ArrayList<>();
        groups.forEach((g, c) -> byGroup.add(Scorecard.GroupAccuracy.of(g, c[0], c[1], c[2])));
        var accuracy = withAnswer == 0 ? null : Scorecard.TaskAccuracy.of(withAnswer, studentRight, teacherRight,
                "the line after the last 'Answer:'/'Final answer:'/'####' marker, normalised; numbers by value, "
                        + "text case-sensitive; no marker = wrong; see docs/eval.md",
                groups.isEmpty() ? null : "metadata." + o.groupKey, byGroup);
        return new Graded(results, generation, accuracy);
    }

    /** scorecard.json and report.html (with the training curves) into the output folder, each atomically. */
    private void write(Scorecard card, Path studentDir) throws IOException {
        progress = new Progress("writing", 0, 0);
        Path out = o.outDir != null ? o.outDir : o.run.resolve(DIR);
        AtomicFiles.writeString(out.resolve(SCORECARD), Json.writePretty(card) + "\n");
        ReportWriter.write(out.resolve(REPORT), card, trainingLogs(studentDir));
    }

    private Map<String, Object> parameters(Path studentDir, int maxNew, TrainingContract.Resolved contract) {
        ExampleSettings settings = contract.settings();
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("run", o.run.toString());
        p.put("student", studentDir.toString());
        p.put("prompts", o.prompts == null ? null : o.prompts.toString());
        p.put("judge", o.judge);
        p.put("judge_seed", o.seed);
        p.put("price_in", o.priceIn);
        p.put("price_out", o.priceOut);
        p.put("max_new_tokens", maxNew);
        p.put("limit", o.limit);
        p.put("eval_fraction", settings.evalFraction());
        p.put("max_seq_len", settings.maxSeqLen());
        p.put("prompt_format", settings.promptFormat().name().toLowerCase(Locale.ROOT));
        p.put("token_source", settings.tokenSource().name().toLowerCase(Locale.ROOT));
        p.put("example_settings_from", contract.source());
        p.put("teacher_model", o.teacherModel == null ? null : o.teacherModel.toString());
        p.put("quantize", o.quantization.label());
        return p;
    }

    /** The teacher's own limit from run.json (max_tokens / max_completion_tokens), else 256. */
    static int defaultMaxNewTokens(RunManifest m) {
        JsonNode s = m.sampling();
        if (s.path("max_tokens").isInt()) return s.get("max_tokens").asInt();
        if (s.path("max_completion_tokens").isInt()) return s.get("max_completion_tokens").asInt();
        return 256;
    }

    private static List<String> promptIds(Path file) throws IOException {
        List<String> ids = new ArrayList<>();
        try (PromptReader r = PromptReader.open(file)) {
            while (r.hasNext()) {
                if (r.next() instanceof PromptReader.Ok ok) ids.add(ok.prompt().id());
            }
        }
        if (ids.isEmpty()) throw new InvalidInputException("no prompts in " + file);
        return List.copyOf(new LinkedHashSet<>(ids));
    }

    /**
     * The training curves for the report: the ones given with {@link Builder#optTrainingLog}, else the
     * {@code metrics.jsonl} beside the student folder (the trainer writes it into the folder that holds
     * {@code student/}).
     */
    private Map<String, TrainingLog> trainingLogs(Path studentDir) throws IOException {
        Map<String, TrainingLog> logs = new LinkedHashMap<>();
        if (!o.trainingLogs.isEmpty()) {
            for (var e : o.trainingLogs.entrySet()) logs.put(e.getKey(), TrainingLog.readFile(e.getValue()));
            return logs;
        }
        Path parent = studentDir.toAbsolutePath().getParent();
        logs.put("student", parent == null ? TrainingLog.empty() : TrainingLog.read(parent));
        return logs;
    }

    /** The prompt's group for per-group accuracy ({@code metadata.<groupKey>} as text), or null. */
    private String group(Prompt p) {
        JsonNode g = p.metadata().get(o.groupKey);
        if (g == null || g.isNull() || g.isContainerNode() || g.asText().isBlank()) return null;
        return g.asText();
    }

    /** {@code metadata.answer} as text, or null when the prompt has none. */
    static String reference(Prompt p) {
        JsonNode a = p.metadata().get("answer");
        if (a == null || a.isNull() || a.isContainerNode()) return null;
        String s = a.asText();
        return s.isBlank() ? null : s;
    }

    static String promptText(Prompt p) {
        if (!p.isChat()) return p.text();
        StringBuilder b = new StringBuilder();
        for (var m : p.messages()) {
            if (!b.isEmpty()) b.append("\n\n");
            b.append(m.role()).append(": ").append(m.content());
        }
        return b.toString();
    }

    /** One untimed generation, so JIT and libtorch warm-up do not land in the first request's latency. */
    private static void warmUp(LocalModel m, int[] promptIds) {
        m.generateTimed(promptIds, SamplingParams.greedy(2));
    }

    /** A model folder for eval: the student, or the local teacher whose speed is measured. */
    static LocalModel load(Path dir, NDManager root) throws IOException {
        return load(dir, root, Quantization.F32);
    }

    /** As {@link #load(Path, NDManager)}, the engine's weights at {@code quantization}. */
    static LocalModel load(Path dir, NDManager root, Quantization quantization) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException("no model folder at " + dir + ": train a student first (distill train) or pass "
                    + "--student DIR");
        }
        return LocalModel.load(dir, root, quantization);
    }

    /**
     * The prompt's token ids as training renders them ({@link LocalModel#encodePrompt}); {@code AUTO} is chat when the
     * model has a template. {@code --prompt-format raw} is the way out for a base model without one.
     */
    static int[] encodePrompt(LocalModel m, Prompt prompt, PromptFormat format) {
        return format == PromptFormat.AUTO ? m.encodePrompt(prompt) : m.encodePrompt(prompt, format == PromptFormat.CHAT);
    }

    /** The run's teacher as a judge: same API, model and key variable as run.json, greedy, a few tokens. */
    private TeacherConfig judgeConfig(RunManifest manifest) {
        if (manifest.baseUrl() == null || !(manifest.provider().equals(TeacherConfig.OPENAI)
                || manifest.provider().equals(TeacherConfig.ANTHROPIC))) {
            throw new InvalidInputException("--judge needs the run's teacher to be an API (run.json names provider '"
                    + manifest.provider() + "'): judge with a run harvested from openai or anthropic");
        }
        TeacherConfig config = new TeacherConfig(manifest.provider(), manifest.endpoint(),
                URI.create(manifest.baseUrl()), manifest.model(), manifest.apiKeyEnv(), null,
                new dev.distill4j.teacher.TeacherSampling(0.0, null, o.judgeMaxTokens, false, o.seed, List.of(), 0,
                        null), Duration.ofMinutes(2), Map.of()).withApiKeyFrom(o.env);
        return config;
    }

    /**
     * The run's teacher compares each student answer with its own, pairwise, A/B order seeded (see {@link Judge});
     * each verdict is written into {@code results}. Win rate = wins / valid verdicts, win-or-tie likewise.
     */
    private Scorecard.JudgeResult judge(RunManifest manifest, TeacherConfig config, Map<String, Prompt> prompts,
                                        Map<String, Sample> answers, List<String> ids,
                                        List<Scorecard.PromptResult> results) throws TeacherException {
        int win = 0;
        int tie = 0;
        int loss = 0;
        int invalid = 0;
        progress = new Progress("judging", 0, ids.size());
        try (Teacher teacher = Teachers.create(config)) {
            Judge judge = new Judge(teacher, o.seed);
            for (int i = 0; i < ids.size(); i++) {
                Scorecard.PromptResult r = results.get(i);
                Judge.Outcome out = judge.compare(promptText(prompts.get(ids.get(i))), r.student(),
                        answers.get(ids.get(i)).text());
                switch (out.verdict()) {
                    case WIN -> win++;
                    case TIE -> tie++;
                    case LOSS -> loss++;
                    case INVALID -> invalid++;
                }
                if (out.verdict() == Judge.Verdict.INVALID) {
                    LOG.warn("judge gave no verdict for prompt '{}': {}", r.promptId(), abbreviate(out.raw()));
                }
                results.set(i, new Scorecard.PromptResult(r.promptId(), r.prompt(), r.teacher(), r.student(), r.chrf(),
                        r.rougeL(), r.exactMatch(), r.reference(), r.studentCorrect(), r.teacherCorrect(),
                        out.verdict().name().toLowerCase(Locale.ROOT)));
                progress = new Progress("judging", i + 1, ids.size());
            }
        }
        int valid = win + tie + loss;
        return new Scorecard.JudgeResult(manifest.model(), o.seed, ids.size(), win, tie, loss, invalid,
                valid == 0 ? null : (double) win / valid, valid == 0 ? null : (double) (win + tie) / valid);
    }

    /**
     * The same timings as the student's for {@code --teacher-model DIR}, its prompts rendered with its own template,
     * on the first {@code --timing-prompts} prompts (all when 0).
     */
    private Scorecard.ModelEfficiency measureLocalTeacher(NDManager root, Map<String, Prompt> prompts,
                                                          List<String> ids, SamplingParams sampling)
            throws IOException {
        try (LocalModel teacher = load(o.teacherModel, root)) {
            Timings t = new Timings();
            List<int[]> rendered = new ArrayList<>();
            // timing is a speed measurement: a sample of the prompts is enough, and a large teacher is slow
            List<String> timed = o.timingPrompts > 0 && ids.size() > o.timingPrompts
                    ? ids.subList(0, o.timingPrompts) : ids;
            try {
                for (String id : timed) rendered.add(encodePrompt(teacher, prompts.get(id), PromptFormat.AUTO));
            } catch (IllegalArgumentException e) {
                throw new InvalidInputException("--teacher-model " + o.teacherModel + " cannot take these prompts: "
                        + e.getMessage(), e);
            }
            warmUp(teacher, rendered.getFirst());
            progress = new Progress("timing local teacher", 0, timed.size());
            for (int i = 0; i < timed.size(); i++) {
                int[] p = rendered.get(i);
                t.add(p.length, teacher.generateTimed(p, sampling));
                progress = new Progress("timing local teacher", i + 1, timed.size());
            }
            return t.summary(teacher);
        }
    }

    /**
     * Student (and local teacher) speed beside the remote teacher as the harvest measured it: its answers' usage,
     * latency percentiles and cost per 1 M tokens (at --price-in/--price-out, else the stored cost).
     */
    private Scorecard.Efficiency efficiency(LocalModel student, Timings times, Scorecard.ModelEfficiency local,
                                            Map<String, Sample> answers, List<String> ids) throws IOException {
        List<Long> latencies = new ArrayList<>();
        Usage usage = Usage.ZERO;
        double stored = 0;
        long latencySum = 0;
        for (String id : ids) {
            Sample s = answers.get(id);
            usage = usage.plus(s.usage());
            stored += s.costUsd();
            if (s.latencyMs() > 0) {
                latencies.add(s.latencyMs());
                latencySum += s.latencyMs();
            }
        }
        Double mean = latencies.isEmpty() ? null : (double) latencySum / latencies.size();
        var remote = new Scorecard.RemoteTeacher(ids.size(), usage.promptTokens(), usage.completionTokens(), mean,
                Timings.percentile(latencies, 50), Timings.percentile(latencies, 95),
                latencySum == 0 ? null : usage.completionTokens() * 1000.0 / latencySum);
        boolean priced = o.priceIn > 0 || o.priceOut > 0;
        double cost = priced ? new Budget(o.priceIn, o.priceOut, null).cost(usage) : stored;
        Double perMtok = usage.totalTokens() == 0 || cost == 0 ? null : cost / usage.totalTokens() * 1e6;
        return new Scorecard.Efficiency(times.summary(student), local, remote, priced ? o.priceIn : null,
                priced ? o.priceOut : null, perMtok, stored,
                "not priced: your own hardware (see the measured throughput)");
    }

    private static String abbreviate(String s) {
        return s.length() <= 120 ? s : s.substring(0, 120) + "…";
    }

    /** Per-request timings of a local model. */
    static final class Timings {
        private final List<Long> latencies = new ArrayList<>();
        private long promptTokens;
        private long generated;
        private long prefillNanos;
        private long decodeTokens;
        private long decodeNanos;

        void add(int promptLength, LocalModel.Timed t) {
            int n = t.generation().tokenIds().length;
            latencies.add(t.totalNanos() / 1_000_000);
            promptTokens += promptLength;
            generated += n;
            prefillNanos += t.prefillNanos();
            // the first token comes from the prefill; the other n − 1 each cost one decode step
            if (n > 1) {
                decodeTokens += n - 1;
                decodeNanos += Math.max(1, t.totalNanos() - t.prefillNanos());
            }
        }

        Scorecard.ModelEfficiency summary(LocalModel m) throws IOException {
            ModelInfo info = m.info();
            double mean = latencies.stream().mapToLong(Long::longValue).average().orElse(Double.NaN);
            return new Scorecard.ModelEfficiency(m.dir().toString(), info.parameters(), info.weightBytes(),
                    info.diskBytes(), latencies.size(), promptTokens, generated,
                    prefillNanos == 0 ? null : promptTokens * 1e9 / prefillNanos,
                    decodeNanos == 0 ? null : decodeTokens * 1e9 / decodeNanos,
                    percentile(latencies, 50), percentile(latencies, 95), Double.isNaN(mean) ? null : mean);
        }

        /** Nearest-rank percentile: the smallest value with at least p % of the values at or below it. */
        static Double percentile(List<Long> values, int p) {
            if (values.isEmpty()) return null;
            List<Long> sorted = values.stream().sorted().toList();
            int rank = (int) Math.ceil(p / 100.0 * sorted.size());
            return (double) sorted.get(Math.max(0, rank - 1));
        }
    }

    /** DJL-style builder: {@code setX} required, {@code optX} optional. */
    public static final class Builder {
        private Path run;
        private Path student;
        private Path prompts;
        private boolean judge;
        private int judgeMaxTokens = 16;
        private long seed = 1234;
        private double priceIn;
        private double priceOut;
        private Integer maxNewTokens;
        private int limit;
        // null: as the student was trained (distill_training.json), else training's defaults
        private Double evalFraction;
        private Integer maxSeqLen;
        private PromptFormat promptFormat;
        private TokenSource tokenSource;
        private Consumer<String> warnings = LOG::warn;
        private Path teacherModel;
        private Quantization quantization = Quantization.F32;
        private Path outDir;
        private int timingPrompts;
        private String groupKey = "kind";
        private final Map<String, Path> trainingLogs = new LinkedHashMap<>();
        private int worst = 10;
        private Map<String, String> env = System.getenv();

        private Builder() {}

        /** The run folder. */
        public Builder setRun(Path run) { this.run = run; return this; }

        /** The student folder (default: the run's {@code student/}). */
        public Builder optStudent(Path dir) { this.student = dir; return this; }

        /** Evaluate these prompts (their ids are looked up in the run) instead of the held-out split. */
        public Builder optPrompts(Path file) { this.prompts = file; return this; }

        /** Let the run's teacher grade student vs teacher pairwise. */
        public Builder optJudge(boolean judge) { this.judge = judge; return this; }

        /** Seed of the judge's A/B order (and its sampling seed). */
        public Builder optSeed(long seed) { this.seed = seed; return this; }

        public Builder optJudgeMaxTokens(int n) {
            if (n < 1) throw new InvalidInputException("judge max tokens must be at least 1, got " + n);
            this.judgeMaxTokens = n;
            return this;
        }

        /** Where the judge's API key is looked up (default: the process environment). */
        public Builder optEnv(Map<String, String> env) { this.env = Objects.requireNonNull(env); return this; }

        /** The teacher's prices, USD per 1 M prompt / completion tokens. */
        public Builder optPrices(double in, double out) {
            if (in < 0 || out < 0) throw new InvalidInputException("--price-in and --price-out must be >= 0");
            this.priceIn = in;
            this.priceOut = out;
            return this;
        }

        /** Generation limit (default: the run's max_tokens, else 256). */
        public Builder optMaxNewTokens(int n) {
            if (n < 1) throw new InvalidInputException("--max-new-tokens must be at least 1, got " + n);
            this.maxNewTokens = n;
            return this;
        }

        /** Evaluate at most this many prompts (0 = all). */
        public Builder optLimit(int n) {
            if (n < 0) throw new InvalidInputException("--limit must be >= 0, got " + n);
            this.limit = n;
            return this;
        }

        /**
         * The training split's fraction; default: the one recorded in the student folder, else training's default
         * (0.05). A value other than training's is scored with a warning.
         */
        public Builder optEvalFraction(double f) {
            new EvalSplit(f);
            this.evalFraction = f;
            return this;
        }

        /** Longest teacher-forced example; default: as training (recorded), else training's default. */
        public Builder optMaxSeqLen(int n) {
            if (n < 2) throw new InvalidInputException("--max-seq-len must be at least 2, got " + n);
            this.maxSeqLen = n;
            return this;
        }

        /** Prompt format; default: as training (recorded), else auto. */
        public Builder optPromptFormat(PromptFormat f) { this.promptFormat = Objects.requireNonNull(f); return this; }

        /** Reply token ids; default: as training (recorded), else student. */
        public Builder optTokenSource(TokenSource s) { this.tokenSource = Objects.requireNonNull(s); return this; }

        /** Where notices go (flags that differ from training, a student without a record); default: the log. */
        public Builder optWarnings(Consumer<String> warnings) {
            this.warnings = Objects.requireNonNull(warnings);
            return this;
        }

        /** A local teacher model folder whose speed to measure beside the student's. */
        public Builder optTeacherModel(Path dir) { this.teacherModel = dir; return this; }

        /** Time the local teacher ({@link #optTeacherModel}) on the first n evaluated prompts only (0 = all). */
        public Builder optTimingPrompts(int n) {
            if (n < 0) throw new InvalidInputException("timing prompts must be >= 0, got " + n);
            this.timingPrompts = n;
            return this;
        }

        /**
         * How the student's inference engine holds its weights (default F32); with int8 its teacher-forced NLL and
         * its generations are those of the int8 model. The local teacher stays F32.
         */
        public Builder optQuantization(Quantization q) { this.quantization = Objects.requireNonNull(q); return this; }

        /** Where scorecard.json and report.html go (default: the run's {@code eval/}). */
        public Builder optOutDir(Path dir) { this.outDir = dir; return this; }

        /** The metadata key whose value groups prompts for per-group accuracy (default {@code kind}). */
        public Builder optGroupKey(String key) {
            if (key == null || key.isBlank()) throw new IllegalArgumentException("the group key must not be blank");
            this.groupKey = key;
            return this;
        }

        /**
         * A training curve for the report, under {@code label} (call once per student to compare several, e.g. a
         * KD and an SFT student). Default: the {@code metrics.jsonl} beside the student folder.
         */
        public Builder optTrainingLog(String label, Path metricsJsonl) {
            trainingLogs.put(Objects.requireNonNull(label), Objects.requireNonNull(metricsJsonl));
            return this;
        }

        /** Rows of the worst-disagreements table (default 10). */
        public Builder optWorst(int n) { this.worst = Math.max(0, n); return this; }

        public Evaluator build() {
            Objects.requireNonNull(run, "setRun is required");
            return new Evaluator(this);
        }
    }
}
