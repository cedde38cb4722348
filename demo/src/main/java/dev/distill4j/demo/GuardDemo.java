package dev.distill4j.demo;

import dev.distill4j.core.io.FileTrees;
import dev.distill4j.core.AtomicFiles;
import dev.distill4j.core.Json;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.RunManifest;
import dev.distill4j.core.Sample;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.guard.audit.AuditReport;
import dev.distill4j.guard.audit.AuditText;
import dev.distill4j.guard.audit.OpenAudit;
import dev.distill4j.guard.watermark.Watermark;
import dev.distill4j.guard.watermark.WatermarkKey;
import dev.distill4j.model.local.LocalModel;
import dev.distill4j.model.ops.ModelInit;
import dev.distill4j.model.tokenizer.HfTokenizer;
import dev.distill4j.teacher.TeacherSampling;
import dev.distill4j.train.LossMode;
import dev.distill4j.train.TrainConfig;
import dev.distill4j.train.TrainSummary;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * The guard story end to end, offline: the model owner serves the house teacher with a KGW watermark; distill4j,
 * as the extractor, harvests it over HTTP and distils students on the answers; the owner then audits each student
 * for radioactivity (reading mode: its next-token predictions on the owner's watermarked answers, de-duplicated).
 *
 * <p>Students differ only in how much of their training data came from the watermarked server: 100 %, 10 %, 1 %
 * and 0 % (the control: the same teacher served without the watermark, same prompts, same sampling, same student
 * init, steps and seed). The control must look clean (p &gt; 0.01): that is the audit's false-positive check on
 * a student that learned the same teacher.
 *
 * <p>Run folder: {@code guard.key} (the owner's key; reused on reruns so the harvests are too),
 * {@code harvest-watermarked/} and {@code harvest-plain/} (the two harvests), {@code students/<label>/} (each
 * mixed training run and its student), {@code guard-demo.json} (the audits).
 */
public final class GuardDemo {
    /** Shares of watermarked answers in each student's training data, most first; 0 is the control. */
    public static final double[] FRACTIONS = {1.0, 0.1, 0.01, 0.0};

    /**
     * @param studentSteps optimizer steps of each student
     * @param temperature  the extractor's sampling temperature (the watermark needs entropy to hide in)
     */
    public record Settings(DemoPipeline.Profile profile, int studentSteps, double temperature, double[] fractions,
                           Map<String, Object> keyParams) {
        /**
         * δ = 3, a strong green-list bias: a 270 k-parameter student trained for a few hundred steps absorbs little
         * of a watermark, and the demo must show radioactivity within its minutes (δ = 2 gave p ≈ 1e-6 to 1e-4
         * depending on the key).
         */
        public static final Settings DEFAULT = new Settings(DemoPipeline.DEFAULT, 400, 1.0, FRACTIONS,
                Map.of("delta", 3.0));
        /**
         * For tests: greedy harvests (KGW marks them too), because a teacher trained for 4 steps samples byte
         * fragments at temperature 1 that no student token aligns with.
         */
        public static final Settings SMOKE = new Settings(DemoPipeline.SMOKE, 6, 0.0, new double[] {1.0, 0.0},
                Map.of("delta", 3.0));

        public Settings withKeyParams(Map<String, Object> params) {
            return new Settings(profile, studentSteps, temperature, fractions, params);
        }

        public Settings withStudentSteps(int steps) {
            return new Settings(profile, steps, temperature, fractions, keyParams);
        }

        public Settings withFractions(double[] f) {
            return new Settings(profile, studentSteps, temperature, f, keyParams);
        }
    }

    /** One audited student. */
    public record Audited(String label, double fraction, long watermarkedSamples, long samples, Path student,
                          double trainSeconds, AuditReport report) {}

    public record Result(Path teacherDir, boolean teacherFromCache, String keyId, Map<String, Object> keyParams,
                         int watermarkedTexts, List<Audited> students) {}

    private final Settings settings;
    private final Path cacheDir;
    private final Path runDir;
    private final long seed;
    private final DemoPipeline.Listener listener;

    public GuardDemo(Settings settings, Path cacheDir, Path runDir, long seed, DemoPipeline.Listener listener) {
        this.settings = settings;
        this.cacheDir = cacheDir;
        this.runDir = runDir;
        this.seed = seed;
        this.listener = listener;
    }

    public Result run() throws Exception {
        DemoPipeline.HouseTeacher house = new DemoPipeline(settings.profile(), cacheDir, runDir, seed, null, Map.of(),
                listener).houseTeacher();
        WatermarkKey key = ownersKey(house.dir());
        Watermark wm = Watermark.of(key);

        int maxNew = settings.profile().maxNewTokens();
        TeacherSampling sampling = new TeacherSampling(settings.temperature(), null, maxNew, false, seed, List.of(),
                5, null);
        Path marked = runDir.resolve("harvest-watermarked");
        Path plain = runDir.resolve("harvest-plain");
        Path prompts = house.data().harvestPrompts();
        DemoPipeline.harvestServed(house.dir(), wm, prompts, marked, sampling, "the owner serves the teacher with a "
                + "KGW watermark; the extractor harvests it over HTTP (temperature " + settings.temperature() + ", "
                + "top-5 logprobs)", listener);
        DemoPipeline.harvestServed(house.dir(), null, prompts, plain, sampling, "the same teacher served without "
                + "a watermark, harvested the same way (for the control student)", listener);

        Path init = runDir.resolve("student-init");
        FileTrees.delete(init);
        ModelInit.create(settings.profile().student(), house.data().tokenizer(), init, false);
        List<AuditText> texts = watermarkedTexts(marked);
        List<Audited> out = new ArrayList<>();
        for (double f : settings.fractions()) out.add(student(f, marked, plain, init, wm, texts));
        FileTrees.delete(init);

        Result result = new Result(house.dir(), house.fromCache(), key.keyId(), key.params(), texts.size(), out);
        AtomicFiles.writeString(runDir.resolve("guard-demo.json"), Json.writePretty(toJson(result)) + "\n");
        return result;
    }

    /** The owner's key, made once per run folder for the teacher's tokenizer (KGW with the settings' parameters). */
    private WatermarkKey ownersKey(Path teacherDir) throws IOException {
        Path file = runDir.resolve("guard.key");
        if (Files.isRegularFile(file)) {
            WatermarkKey key = WatermarkKey.read(file);
            WatermarkKey wanted = new WatermarkKey(WatermarkKey.Scheme.KGW,
                    WatermarkKey.withDefaults(WatermarkKey.Scheme.KGW, settings.keyParams()), key.tokenizer(),
                    key.secret());
            if (wanted.params().equals(key.params())) return key;
            throw new dev.distill4j.core.InvalidInputException(runDir + " holds a demo made with watermark "
                    + new java.util.TreeMap<>(key.params()) + ", not " + new java.util.TreeMap<>(wanted.params())
                    + ": use another --run folder");
        }
        try (HfTokenizer tok = HfTokenizer.load(teacherDir)) {
            WatermarkKey key = WatermarkKey.generate(WatermarkKey.Scheme.KGW, settings.keyParams(), tok);
            key.write(file);
            listener.stageDone("the owner's watermark key: KGW " + new java.util.TreeMap<>(key.params()) + ", id "
                    + key.keyId() + ", in " + file);
            return key;
        }
    }

    /** Every answer of the watermarked harvest with its prompt: what the owner knows it served. */
    private static List<AuditText> watermarkedTexts(Path run) throws IOException {
        List<AuditText> texts = new ArrayList<>();
        try (RunStore store = RunStore.openExisting(run)) {
            store.forEachSample(SampleStatus.DONE, (prompt, sample) ->
                    texts.add(new AuditText(prompt.id(), prompt.chat(), sample.text())));
        }
        return texts;
    }

    /** Trains the student of one fraction on a mixed run, then audits it. */
    private Audited student(double fraction, Path marked, Path plain, Path init, Watermark wm, List<AuditText> texts)
            throws Exception {
        String label = fraction == 0 ? "control" : String.format(Locale.ROOT, "watermarked-%s",
                percent(fraction).replace(" ", ""));
        Path dir = runDir.resolve("students").resolve(label);
        long[] counts = mixedRun(fraction, marked, plain, dir);
        Path studentDir = dir.resolve("student");
        double seconds = 0;
        Path marker = dir.resolve(DemoPipeline.TRAINED);
        String trainedWith = settings.profile().name() + " " + seed + " " + settings.studentSteps() + " "
                + settings.temperature() + " " + fraction;
        boolean reuse = Files.isRegularFile(marker) && Files.isRegularFile(studentDir.resolve("config.json"))
                && Json.parse(Files.readString(marker)).path("settings").asText().equals(trainedWith);
        if (reuse) {
            seconds = Json.parse(Files.readString(marker)).path("train_seconds").asDouble();
            listener.stageDone(label + " student loaded from an earlier run (same settings)");
        } else {
            DemoPipeline.Profile p = settings.profile();
            TrainConfig config = TrainConfig.builder().setRunDir(dir).setStudentDir(init).optOutputDir(dir)
                    .optLoss(LossMode.TOPK).optAlpha(0.5).optMaxSteps(settings.studentSteps()).optLr(p.studentLr())
                    .optWarmupSteps(p.warmupSteps()).optBatchTokens(p.batchTokens()).optMaxSeqLen(256)
                    .optEvalFraction(0.02).optEvalEvery(0).optSaveEvery(0).optSeed(seed).build();
            TrainSummary s = DemoPipeline.train("distilling the " + label + " student (" + percent(fraction)
                    + " of its " + counts[1] + " training answers watermarked)", config, listener);
            seconds = s.elapsedSeconds();
            AtomicFiles.writeString(marker, Json.writePretty(Json.object().put("settings", trainedWith)
                    .put("train_seconds", seconds)) + "\n");
            listener.stageDone(String.format(Locale.ROOT, "%s student: %d steps in %.0f s", label, s.steps(), seconds));
        }
        AuditReport report;
        try (LocalModel suspect = LocalModel.load(studentDir)) {
            OpenAudit audit = OpenAudit.of(wm, suspect, 8192);
            var progress = new java.util.concurrent.atomic.AtomicReference<String>("");
            listener.stage("the owner audits the " + label + " student: its predictions on the " + texts.size()
                    + " watermarked answers", progress::get);
            report = audit.run(texts, (phase, done, total) -> progress.set(done + "/" + total));
            listener.stageDone(String.format(Locale.ROOT, "%s: p = %s (%s) over %d scored tuples, %s %.4f vs %.4f "
                            + "by chance", label, report.pValue(), report.verdict(AuditReport.DEFAULT_ALPHA),
                    report.scored(), report.scoreName(), report.meanScore(), report.nullMean()));
        }
        return new Audited(label, fraction, counts[0], counts[1], studentDir, seconds, report);
    }

    /**
     * A training run whose answers come from the watermarked harvest for a random {@code fraction} of the prompts
     * and from the plain harvest for the rest. Returns {watermarked answers, all answers}.
     */
    private long[] mixedRun(double fraction, Path marked, Path plain, Path dir) throws IOException {
        Map<String, Sample> fromMarked = samples(marked);
        Map<String, Sample> fromPlain = samples(plain);
        List<String> ids = new ArrayList<>(fromPlain.keySet());
        Collections.sort(ids);
        Collections.shuffle(ids, new Random(seed));
        Set<String> watermarked = new HashSet<>(ids.subList(0, (int) Math.round(fraction * ids.size())));
        Files.createDirectories(dir);
        List<Prompt> prompts = new ArrayList<>();
        List<Sample> chosen = new ArrayList<>();
        long marks = 0;
        try (RunStore from = RunStore.openExisting(plain)) {
            prompts.addAll(from.prompts(ids).values());
        }
        for (String id : ids) {
            boolean mark = watermarked.contains(id) && fromMarked.containsKey(id);
            chosen.add((mark ? fromMarked : fromPlain).get(id));
            if (mark) marks++;
        }
        try (RunStore to = RunStore.open(dir)) {
            to.putPrompts(prompts);
            to.upsertSamples(chosen);
        }
        RunManifest.read(plain).write(dir);
        return new long[] {marks, chosen.size()};
    }

    /** The answered samples of a run by prompt id. */
    private static Map<String, Sample> samples(Path run) throws IOException {
        Map<String, Sample> out = new LinkedHashMap<>();
        try (RunStore store = RunStore.openExisting(run)) {
            store.forEachSample(SampleStatus.DONE, (prompt, sample) -> out.put(prompt.id(), sample));
        }
        return out;
    }

    static String percent(double f) {
        return f * 100 == Math.rint(f * 100) ? (long) (f * 100) + " %" : String.format(Locale.ROOT, "%.1f %%", f * 100);
    }

    private static ObjectNode toJson(Result r) {
        ObjectNode o = Json.object();
        o.put("teacher", r.teacherDir().toString());
        o.put("key_id", r.keyId());
        o.put("scheme", "kgw");
        o.set("params", Json.MAPPER.valueToTree(new java.util.TreeMap<>(r.keyParams())));
        o.put("watermarked_texts", r.watermarkedTexts());
        ArrayNode students = o.putArray("students");
        for (Audited a : r.students()) {
            ObjectNode s = students.addObject();
            s.put("label", a.label());
            s.put("watermarked_fraction", a.fraction());
            s.put("watermarked_samples", a.watermarkedSamples());
            s.put("samples", a.samples());
            s.put("student", a.student().toString());
            s.put("train_seconds", a.trainSeconds());
            s.set("audit", a.report().toJson(AuditReport.DEFAULT_ALPHA));
        }
        return o;
    }

}
