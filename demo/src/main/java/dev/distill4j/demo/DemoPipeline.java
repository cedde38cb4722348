package dev.distill4j.demo;

import dev.distill4j.core.io.FileTrees;
import dev.distill4j.core.AtomicFiles;
import dev.distill4j.core.Json;
import dev.distill4j.core.RunManifest;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.demo.TaskCorpus.Task;
import dev.distill4j.eval.AnswerExtractor;
import dev.distill4j.eval.Evaluator;
import dev.distill4j.eval.Scorecard;
import dev.distill4j.eval.TrainingLog;
import dev.distill4j.model.io.DType;
import dev.distill4j.model.generate.TokenChooser;
import dev.distill4j.model.io.ModelInfo;
import dev.distill4j.model.ops.ModelInit;
import dev.distill4j.serve.OpenAiServer;
import dev.distill4j.teacher.Backoff;
import dev.distill4j.teacher.Budget;
import dev.distill4j.teacher.Harvester;
import dev.distill4j.teacher.RateLimiter;
import dev.distill4j.teacher.TeacherSampling;
import dev.distill4j.teacher.Teacher;
import dev.distill4j.teacher.TeacherConfig;
import dev.distill4j.teacher.Teachers;
import dev.distill4j.train.LossMode;
import dev.distill4j.train.TrainConfig;
import dev.distill4j.train.TrainListener;
import dev.distill4j.train.TrainSummary;
import dev.distill4j.train.Trainer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * The whole distill4j pipeline, offline: a house teacher trained on a generated task corpus (cached), served over
 * the OpenAI API on loopback, harvested with top-k logprobs, distilled into a student with ≥ 6× fewer parameters by
 * top-k KD, and — as the control experiment — the same student trained on the same samples from text alone (SFT,
 * same steps, same seed); both evaluated on held-out prompts against the teacher and the ground truth, and the KD
 * student served. With a remote teacher the house teacher steps are skipped.
 *
 * <p>The house teacher is small because the demo must run offline on two CPU cores; every stage is the same code a
 * user runs against a real API teacher.
 *
 * <p>Run folder: {@code run.json} and {@code samples.db} (the harvest), {@code kd/} and {@code sft/} (each a
 * student's {@code student/}, {@code metrics.jsonl} and {@code eval/}). A second run reuses the cached teacher, the
 * stored answers and any student already trained with the same settings ({@value #TRAINED} records them).
 */
public final class DemoPipeline {
    /** The file in a student's output folder that records the settings it was trained with. */
    public static final String TRAINED = "demo-trained.json";

    /**
     * Sizes of the demo; {@link #DEFAULT} is the README's demo (its figures are in docs/benchmarks.md),
     * {@link #SMOKE} keeps tests short.
     *
     * @param sizes          teacher tasks, prompts to harvest, held-out tasks of the corpus
     * @param vocab          BPE vocabulary of the demo tokenizer
     * @param teacherEpochs  passes of the house teacher over its tasks
     * @param teacherLr      the house teacher's peak learning rate
     * @param studentSteps   optimizer steps of each student (KD and SFT alike)
     * @param studentLr      the students' peak learning rate
     * @param warmupSteps    linear warmup of every training
     * @param batchTokens    padded tokens per batch
     * @param maxNewTokens   generation limit of harvest and eval
     * @param evalFraction   share of the harvested prompts held out from the students, for evaluation
     * @param evalPoints     held-out evaluations during each student's training (for the report's curves)
     * @param timingPrompts  held-out prompts on which the local teacher's speed is measured
     */
    public record Profile(String name, DemoData.Sizes sizes, int vocab, ModelInit.Spec teacher, ModelInit.Spec student,
                          int teacherEpochs, double teacherLr, int studentSteps, double studentLr, int warmupSteps,
                          int batchTokens, int maxNewTokens, double evalFraction, int evalPoints, int timingPrompts) {
        /**
         * Every setting in one line, as docs/benchmarks.md quotes it for the run it reports: a test holds the
         * README's demo to the settings that were measured.
         */
        public String describe() {
            return String.format(Locale.ROOT, "profile %s: tasks %d/%d/%d, vocab %d, teacher %s, student %s, "
                            + "teacher %d epochs at lr %s, students %d steps at lr %s, warmup %d, batch %d tokens, "
                            + "max new tokens %d, eval fraction %s, %d eval points, teacher timed on %d prompts",
                    name, sizes.teacher(), sizes.harvest(), sizes.heldOut(), vocab, shape(teacher), shape(student),
                    teacherEpochs, teacherLr, studentSteps, studentLr, warmupSteps, batchTokens, maxNewTokens,
                    evalFraction, evalPoints, timingPrompts);
        }

        private static String shape(ModelInit.Spec s) {
            return s.family() + " " + s.layers() + "x" + s.hidden() + " " + s.heads() + "/" + s.kvHeads() + " heads";
        }
    }

    public static final Profile DEFAULT = new Profile("default", new DemoData.Sizes(10000, 2400, 300), 768,
            spec(192, 4, 6, 2), spec(96, 2, 3, 1), 3, 3e-3, 600, 3e-3, 100, 2048, 96, 0.125, 6, 60);

    public static final Profile SMOKE = new Profile("smoke", new DemoData.Sizes(60, 48, 8), 320,
            spec(64, 2, 4, 2), spec(32, 1, 2, 1), 1, 2e-3, 6, 3e-3, 0, 2048, 24, 0.25, 3, 4);

    private static ModelInit.Spec spec(int hidden, int layers, int heads, int kvHeads) {
        return new ModelInit.Spec("llama", layers, hidden, heads, kvHeads, null, null, 10000.0, 512, true, null,
                7L, DType.F32);
    }

    /** A remote teacher: any OpenAI-compatible API. */
    public record RemoteTeacher(URI baseUrl, String model, String apiKeyEnv) {}

    /** What the pipeline tells its caller; the CLI draws progress bars from it. */
    public interface Listener {
        /** A stage begins; {@code progress} describes it while it runs (may be polled from another thread). */
        void stage(String title, Supplier<String> progress);

        /** The stage that began last has ended. */
        void stageDone(String summary);
    }

    /** One trained student: where it is, how it scored, and whether this run trained it or found it trained. */
    public record Student(String label, Path dir, Scorecard scorecard, long steps, double trainSeconds,
                          boolean fromCache) {}

    /** The served student's answer to one held-out question, graded by {@link AnswerExtractor}. */
    public record ServedAnswer(String question, String answer, String reference, boolean correct) {}

    /** What the demo produced. */
    public record Result(Path teacherDir, boolean teacherFromCache, Path run, Student kd, Student sft,
                         long teacherParameters, long studentParameters, ServedAnswer served, RemoteTeacher remote) {
        /** The KD student's scorecard: the headline one. */
        public Scorecard scorecard() { return kd.scorecard(); }
    }

    private final Profile profile;
    private final Path cacheDir;
    private final Path runDir;
    private final long seed;
    private final RemoteTeacher remote;
    private final Map<String, String> env;
    private final Listener listener;

    public DemoPipeline(Profile profile, Path cacheDir, Path runDir, long seed, RemoteTeacher remote,
                        Map<String, String> env, Listener listener) {
        this.profile = Objects.requireNonNull(profile);
        this.cacheDir = cacheDir;
        this.runDir = runDir;
        this.seed = seed;
        this.remote = remote;
        this.env = env;
        this.listener = listener;
    }

    public Result run() throws Exception {
        DemoData.Layout data = corpus();
        Path teacherDir = null;
        boolean cached = false;
        long teacherParams = 0;
        if (remote == null) {
            HouseTeacher house = houseTeacher(data);
            teacherDir = house.dir();
            cached = house.fromCache();
            teacherParams = ModelInfo.read(teacherDir).parameters();
        }
        harvest(data, teacherDir);
        Path init = runDir.resolve("student-init");
        FileTrees.delete(init);
        ModelInit.create(profile.student(), data.tokenizer(), init, false);
        long studentParams = ModelInfo.read(init).parameters();
        Trained kd = trainStudent("kd", "distilling the student by top-k KD on the teacher's logprobs", LossMode.TOPK,
                init);
        Trained sft = trainStudent("sft", "control: the same student on the same answers as text only (SFT)",
                LossMode.SFT, init);
        FileTrees.delete(init);
        Scorecard kdCard = evaluate(kd, teacherDir, List.of(kd, sft));
        Scorecard sftCard = evaluate(sft, null, List.of(kd, sft));
        ServedAnswer served = serveStudent(kd.student(), data, kdCard);
        return new Result(teacherDir, cached, runDir, kd.with(kdCard), sft.with(sftCard), teacherParams,
                studentParams, served, remote);
    }

    /** The house teacher's folder, and whether it came from the cache. */
    public record HouseTeacher(DemoData.Layout data, Path dir, boolean fromCache) {}

    /**
     * The corpus and the house teacher trained on it, both cached under the cache folder by profile and seed: the
     * guard demo and the distillation demo share them.
     */
    public HouseTeacher houseTeacher() throws Exception {
        return houseTeacher(corpus());
    }

    private HouseTeacher houseTeacher(DemoData.Layout data) throws Exception {
        Path dir = cacheDir.resolve("teacher-" + profile.name() + "-" + seed);
        boolean cached = Files.isRegularFile(dir.resolve("config.json"));
        if (!cached) trainHouseTeacher(data, dir);
        else listener.stageDone("house teacher loaded from the cache: " + dir);
        return new HouseTeacher(data, dir, cached);
    }

    /** The corpus and its tokenizer, cached: the same seed always gives the same files. */
    private DemoData.Layout corpus() throws IOException {
        Path root = cacheDir.resolve("corpus-" + profile.name() + "-" + seed);
        DemoData.Layout layout = new DemoData.Layout(root);
        if (Files.isRegularFile(layout.manifest())) return layout;
        listener.stage("generating the task corpus and training its tokenizer", () -> "");
        Path tmp = Files.createDirectories(cacheDir).resolve(".corpus-" + ProcessHandle.current().pid());
        FileTrees.delete(tmp);
        DemoData.prepare(tmp, seed, profile.sizes(), TaskCorpus.ALL_KINDS, profile.vocab());
        FileTrees.delete(root);
        Files.move(tmp, root, StandardCopyOption.ATOMIC_MOVE);
        listener.stageDone(profile.sizes().teacher() + " teacher tasks, " + profile.sizes().harvest()
                + " prompts to harvest, tokenizer of " + profile.vocab() + " tokens");
        return layout;
    }

    private void trainHouseTeacher(DemoData.Layout data, Path teacherDir) throws Exception {
        Path work = cacheDir.resolve(".teacher-work-" + ProcessHandle.current().pid());
        FileTrees.delete(work);
        Path init = work.resolve("init");
        ModelInit.create(profile.teacher(), data.tokenizer(), init, false);
        // the gold run is shared by later demos: train in a copy so its student/ and checkpoints/ stay ours
        Path goldRun = work.resolve("gold-run");
        copyTree(data.goldRun(), goldRun);
        TrainSummary s = train("training the house teacher on the generated corpus (cached for later runs)",
                TrainConfig.builder().setRunDir(goldRun).setStudentDir(init).optLoss(LossMode.SFT)
                        .optEpochs(profile.teacherEpochs()).optLr(profile.teacherLr())
                        .optWarmupSteps(profile.warmupSteps()).optBatchTokens(profile.batchTokens())
                        .optMaxSeqLen(256).optEvalFraction(0.02).optEvalEvery(0).optSaveEvery(0).optSeed(seed)
                        .build());
        FileTrees.delete(teacherDir);
        Files.move(s.student(), teacherDir, StandardCopyOption.ATOMIC_MOVE);
        FileTrees.delete(work);
        listener.stageDone(String.format(Locale.ROOT, "house teacher: %d steps in %.0f s, final loss %.3f, %s",
                s.steps(), s.elapsedSeconds(), s.finalLoss(), teacherDir));
    }

    private TrainSummary train(String title, TrainConfig config) throws IOException {
        return train(title, config, listener);
    }

    /** Trains with a progress line (step, loss, speed) for the listener's stage. */
    static TrainSummary train(String title, TrainConfig config, Listener listener) throws IOException {
        var last = new java.util.concurrent.atomic.AtomicReference<Trainer.StepMetrics>();
        listener.stage(title, () -> {
            Trainer.StepMetrics m = last.get();
            return m == null ? "preparing" : String.format(Locale.ROOT,
                    "step %d/%d loss %.3f %.0f tok/s", m.step(), m.totalSteps(), m.loss(), m.tokensPerSecond());
        });
        return Trainer.run(config, new TrainListener() {
            @Override public void onStep(Trainer.StepMetrics step) { last.set(step); }
        });
    }

    private void harvest(DemoData.Layout data, Path teacherDir) throws Exception {
        TeacherSampling sampling = new TeacherSampling(0.0, null, profile.maxNewTokens(), false, 0L,
                List.of(), 5, null);
        String title = "harvesting " + profile.sizes().harvest() + " prompts from the teacher over HTTP with top-5 "
                + "logprobs";
        if (remote == null) {
            harvestServed(teacherDir, null, data.harvestPrompts(), runDir, sampling, title, listener);
            return;
        }
        TeacherConfig config = TeacherConfig.of("openai", remote.model(), remote.baseUrl(), sampling)
                .withApiKeyFrom(env);
        if (remote.apiKeyEnv() != null) {
            config = new TeacherConfig(config.provider(), config.endpoint(), config.baseUrl(),
                    config.model(), remote.apiKeyEnv(), env.get(remote.apiKeyEnv()), sampling, null, null);
        }
        harvest(config, config.apiKeyEnv(), data.harvestPrompts(), runDir, title, listener);
    }

    /**
     * Serves a local model folder on a loopback port as "house-teacher" (its tokens picked by {@code chooser} when
     * given: a watermark) and harvests {@code prompts} from it over HTTP into {@code runDir}, as a user harvests an
     * API teacher.
     */
    static void harvestServed(Path modelDir, TokenChooser chooser, Path prompts, Path runDir, TeacherSampling sampling,
                              String title, Listener listener) throws Exception {
        // a free port: a fixed one fails whenever the user already serves something there
        OpenAiServer.Builder b = OpenAiServer.builder().setModelDir(modelDir).optServedModelName("house-teacher")
                .optPort(0).optMaxBatch(32);
        if (chooser != null) b.optTokenChooser(chooser, "watermark");
        try (OpenAiServer server = b.build()) {
            int port = server.start();
            TeacherConfig config = TeacherConfig.of("openai", "house-teacher",
                    URI.create("http://127.0.0.1:" + port + "/v1"), sampling);
            harvest(config, null, prompts, runDir, title, listener);
        }
    }

    private static void harvest(TeacherConfig config, String apiKeyEnv, Path prompts, Path runDir, String title,
                                Listener listener) throws Exception {
        try (Teacher teacher = Teachers.create(config);
             RunStore store = RunStore.open(runDir)) {
            RunManifest previous = RunManifest.exists(runDir) ? RunManifest.read(runDir) : null;
            Harvester.manifest(teacher, apiKeyEnv, prompts, previous).write(runDir);
            Harvester h = new Harvester(teacher, store, new Harvester.Options(prompts, 1, 32, false, false),
                    RateLimiter.unlimited(), Budget.unlimited(), new Backoff());
            listener.stage(title, () -> {
                var p = h.progress();
                return p.done() + " answered, " + p.alreadyDone() + " already stored, " + p.failed() + " failed";
            });
            Harvester.Result r = h.run();
            if (r.outcome() == Harvester.Outcome.FATAL) throw new IOException(r.fatal().getMessage());
            listener.stageDone(r.progress().done() + " samples harvested now, " + r.progress().alreadyDone()
                    + " reused from an earlier demo, into " + runDir);
        }
    }

    /** A student's training outcome before evaluation. */
    private record Trained(String label, Path outputs, Path student, long steps, double seconds, boolean fromCache) {
        Student with(Scorecard card) { return new Student(label, student, card, steps, seconds, fromCache); }
    }

    /**
     * Trains one student into {@code <run>/<label>/}. KD and SFT get the same initial weights, data order, steps,
     * learning rate and seed: only the loss differs. A student trained earlier with the same settings is reused.
     */
    private Trained trainStudent(String label, String title, LossMode loss, Path init) throws Exception {
        Path out = runDir.resolve(label);
        int evalEvery = Math.max(1, profile.studentSteps() / profile.evalPoints());
        TrainConfig config = TrainConfig.builder().setRunDir(runDir).setStudentDir(init).optOutputDir(out)
                .optLoss(loss).optAlpha(0.5).optMaxSteps(profile.studentSteps()).optLr(profile.studentLr())
                .optWarmupSteps(profile.warmupSteps()).optBatchTokens(profile.batchTokens()).optMaxSeqLen(256)
                .optEvalFraction(profile.evalFraction()).optEvalEvery(evalEvery).optSaveEvery(0).optSeed(seed)
                .build();
        String settings = settings(config);
        Path marker = out.resolve(TRAINED);
        if (Files.isRegularFile(marker) && Files.isRegularFile(out.resolve("student").resolve("config.json"))) {
            var m = Json.parse(Files.readString(marker));
            if (m.path("settings").asText().equals(settings)) {
                listener.stageDone(label + " student loaded from an earlier demo (same settings): "
                        + out.resolve("student"));
                return new Trained(label, out, out.resolve("student"), m.path("steps").asLong(),
                        m.path("train_seconds").asDouble(), true);
            }
        }
        FileTrees.delete(out);
        TrainSummary s = train(title, config);
        var m = Json.object().put("settings", settings).put("steps", s.steps())
                .put("train_seconds", s.elapsedSeconds());
        AtomicFiles.writeString(marker, Json.writePretty(m) + "\n");
        listener.stageDone(String.format(Locale.ROOT,
                "%s student: %d steps in %.0f s, %.0f tokens/s, held-out loss %.3f, top-1 agreement %.3f",
                label, s.steps(), s.elapsedSeconds(), s.tokensPerSecond(), s.evalLoss(), s.evalAgreement()));
        return new Trained(label, out, s.student(), s.steps(), s.elapsedSeconds(), false);
    }

    /** What decides a student's weights: the config less its paths (the init folder is rebuilt every run). */
    private String settings(TrainConfig c) {
        return String.join(" ", profile.name(), Long.toString(seed), c.loss().name(), Double.toString(c.alpha()),
                Long.toString(c.maxSteps()), Double.toString(c.lr()), Long.toString(c.warmupSteps()),
                Integer.toString(c.batchTokens()), Double.toString(c.evalFraction()), profile.student().toString());
    }

    /**
     * Scores one student on the held-out prompts into {@code <run>/<label>/eval/}; the report draws the training
     * curves of every student. The local teacher's speed is measured once, beside the KD student.
     */
    private Scorecard evaluate(Trained s, Path teacherDir, List<Trained> all) throws Exception {
        Evaluator.Builder b = Evaluator.builder().setRun(runDir).optStudent(s.student())
                .optOutDir(s.outputs().resolve(Evaluator.DIR)).optEvalFraction(profile.evalFraction())
                .optMaxSeqLen(256).optMaxNewTokens(profile.maxNewTokens()).optSeed(seed).optEnv(env)
                .optTimingPrompts(profile.timingPrompts());
        for (Trained t : all) b.optTrainingLog(t.label(), t.outputs().resolve(TrainingLog.FILE));
        if (teacherDir != null) b.optTeacherModel(teacherDir);
        Evaluator e = b.build();
        listener.stage("evaluating the " + s.label() + " student against the teacher and the answers on held-out "
                + "prompts", () -> {
            var p = e.progress();
            return p == null ? "" : p.phase() + " " + p.done() + "/" + p.total();
        });
        Scorecard card = e.run();
        listener.stageDone("scorecard and report in " + s.outputs().resolve(Evaluator.DIR));
        return card;
    }

    /** Serves the student the way a user would and asks it the first held-out question over HTTP. */
    private ServedAnswer serveStudent(Path student, DemoData.Layout data, Scorecard card) throws Exception {
        listener.stage("serving the KD student on the OpenAI API", () -> "");
        String id = card.split().promptIds().getFirst();
        Task task = CorpusFiles.readGold(data.gold("harvest")).stream().filter(t -> t.id().equals(id)).findFirst()
                .orElseThrow(() -> new IllegalStateException("held-out prompt " + id + " is not in the corpus"));
        try (OpenAiServer server = OpenAiServer.builder().setModelDir(student).optServedModelName("student")
                .optPort(0)
                .build()) {
            int port = server.start();
            var body = Json.object().put("model", "student").put("max_tokens", 96)
                    .put("temperature", 0);
            body.putArray("messages").addObject().put("role", "user").put("content", task.prompt());
            HttpResponse<String> r;
            try (HttpClient http = HttpClient.newHttpClient()) {
                r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
                                .timeout(Duration.ofMinutes(2)).header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(Json.write(body)))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
            }
            if (r.statusCode() != 200) throw new IOException("the served student answered " + r.statusCode()
                    + ": " + r.body());
            String answer = Json.parse(r.body()).path("choices").path(0).path("message")
                    .path("content").asText();
            listener.stageDone("POST /v1/chat/completions answered 200");
            return new ServedAnswer(task.prompt(), answer, task.answer(), AnswerExtractor.isCorrect(answer,
                    task.answer()));
        }
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path q : walk.toList()) {
                Path target = to.resolve(from.relativize(q).toString());
                if (Files.isDirectory(q)) Files.createDirectories(target);
                else Files.copy(q, target, StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }
}
