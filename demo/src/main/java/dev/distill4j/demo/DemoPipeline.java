package dev.distill4j.demo;

import dev.distill4j.core.RunManifest;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.eval.Evaluator;
import dev.distill4j.eval.Scorecard;
import dev.distill4j.model.io.DType;
import dev.distill4j.model.ops.ModelInit;
import dev.distill4j.serve.OpenAiServer;
import dev.distill4j.teacher.Backoff;
import dev.distill4j.teacher.Budget;
import dev.distill4j.teacher.Harvester;
import dev.distill4j.teacher.RateLimiter;
import dev.distill4j.teacher.SamplingParams;
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
import java.util.Comparator;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * The whole distill4j pipeline, offline: a house teacher trained on a generated task corpus (cached), served over
 * the OpenAI API on loopback, harvested with top-k logprobs, distilled into a student with ≥ 4× fewer parameters by
 * top-k KD, evaluated, and served. With a remote teacher the house teacher steps are skipped.
 *
 * <p>The house teacher is small because the demo must run offline on two CPU cores; every stage is the same code a
 * user runs against a real API teacher.
 */
public final class DemoPipeline {
    /** Sizes of the demo; {@link #DEFAULT} is the README's demo, {@link #SMOKE} keeps tests short. */
    public record Profile(String name, DemoData.Sizes sizes, int vocab, ModelInit.Spec teacher, ModelInit.Spec student,
                          int teacherEpochs, int studentEpochs, int warmupSteps, int batchTokens, int maxNewTokens,
                          int evalLimit) {}

    public static final Profile DEFAULT = new Profile("default", new DemoData.Sizes(6000, 1000, 200), 768,
            spec(192, 4, 6, 2), spec(96, 2, 3, 1), 8, 8, 20, 4096, 64, 40);

    public static final Profile SMOKE = new Profile("smoke", new DemoData.Sizes(60, 24, 8), 320,
            spec(64, 2, 4, 2), spec(32, 1, 2, 1), 1, 1, 0, 2048, 16, 6);

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

    /** What the demo produced. */
    public record Result(Path teacherDir, boolean teacherFromCache, Path run, Path studentDir, Scorecard scorecard,
                         long teacherParameters, long studentParameters, String sampleQuestion, String sampleAnswer,
                         RemoteTeacher remote) {}

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
            teacherDir = cacheDir.resolve("teacher-" + profile.name() + "-" + seed);
            cached = Files.isRegularFile(teacherDir.resolve("config.json"));
            if (!cached) trainHouseTeacher(data, teacherDir);
            else listener.stageDone("house teacher loaded from the cache: " + teacherDir);
            teacherParams = dev.distill4j.model.io.ModelInfo.read(teacherDir).parameters();
        }
        harvest(data, teacherDir);
        Path student = trainStudent(data);
        Scorecard card = evaluate(teacherDir);
        String[] qa = serveStudent(student, data);
        return new Result(teacherDir, cached, runDir, student, card, teacherParams,
                dev.distill4j.model.io.ModelInfo.read(student).parameters(), qa[0], qa[1], remote);
    }

    /** The generated corpus and its tokenizer, cached: the same seed always gives the same files. */
    private DemoData.Layout corpus() throws IOException {
        Path root = cacheDir.resolve("corpus-" + profile.name() + "-" + seed);
        DemoData.Layout layout = new DemoData.Layout(root);
        if (Files.isRegularFile(layout.manifest())) return layout;
        listener.stage("generating the task corpus and training its tokenizer", () -> "");
        Path tmp = Files.createDirectories(cacheDir).resolve(".corpus-" + ProcessHandle.current().pid());
        deleteTree(tmp);
        DemoData.prepare(tmp, seed, profile.sizes(), TaskCorpus.ALL_KINDS, profile.vocab());
        deleteTree(root);
        Files.move(tmp, root, StandardCopyOption.ATOMIC_MOVE);
        listener.stageDone(profile.sizes().teacher() + " teacher tasks, " + profile.sizes().harvest()
                + " prompts to harvest, tokenizer of " + profile.vocab() + " tokens");
        return layout;
    }

    private void trainHouseTeacher(DemoData.Layout data, Path teacherDir) throws Exception {
        Path work = cacheDir.resolve(".teacher-work-" + ProcessHandle.current().pid());
        deleteTree(work);
        Path init = work.resolve("init");
        ModelInit.create(profile.teacher(), data.tokenizer(), init, false);
        // the gold run is shared by later demos: train in a copy so its student/ and checkpoints/ stay ours
        Path goldRun = work.resolve("gold-run");
        copyTree(data.goldRun(), goldRun);
        TrainSummary s = train("training the house teacher on the generated corpus (cached for later runs)",
                TrainConfig.builder().setRunDir(goldRun).setStudentDir(init).optLoss(LossMode.SFT)
                        .optEpochs(profile.teacherEpochs()).optLr(2e-3).optWarmupSteps(profile.warmupSteps())
                        .optBatchTokens(profile.batchTokens()).optMaxSeqLen(256).optEvalFraction(0.02)
                        .optEvalEvery(0).optSaveEvery(0).optSeed(seed).build());
        deleteTree(teacherDir);
        Files.move(s.student(), teacherDir, StandardCopyOption.ATOMIC_MOVE);
        deleteTree(work);
        listener.stageDone(String.format(java.util.Locale.ROOT, "house teacher: %d steps, final loss %.3f, %s",
                s.steps(), s.finalLoss(), teacherDir));
    }

    private TrainSummary train(String title, TrainConfig config) throws IOException {
        var last = new java.util.concurrent.atomic.AtomicReference<Trainer.StepMetrics>();
        listener.stage(title, () -> {
            Trainer.StepMetrics m = last.get();
            return m == null ? "preparing" : String.format(java.util.Locale.ROOT,
                    "step %d/%d loss %.3f %.0f tok/s", m.step(), m.totalSteps(), m.loss(), m.tokensPerSecond());
        });
        return Trainer.run(config, new TrainListener() {
            @Override public void onStep(Trainer.StepMetrics step) { last.set(step); }
        });
    }

    private void harvest(DemoData.Layout data, Path teacherDir) throws Exception {
        SamplingParams sampling = new SamplingParams(0.0, null, profile.maxNewTokens() + 32, false, 0L,
                java.util.List.of(), 5, null);
        OpenAiServer server = null;
        try {
            TeacherConfig config;
            if (remote == null) {
                server = OpenAiServer.builder().setModelDir(teacherDir).optServedModelName("house-teacher")
                        .optMaxBatch(16).build();
                int port = server.start();
                config = TeacherConfig.of("openai", "house-teacher", URI.create("http://127.0.0.1:" + port + "/v1"),
                        sampling);
            } else {
                config = TeacherConfig.of("openai", remote.model(), remote.baseUrl(), sampling)
                        .withApiKeyFrom(env);
                if (remote.apiKeyEnv() != null) {
                    config = new TeacherConfig(config.provider(), config.endpoint(), config.baseUrl(),
                            config.model(), remote.apiKeyEnv(), env.get(remote.apiKeyEnv()), sampling, null, null);
                }
            }
            try (Teacher teacher = Teachers.create(config);
                 RunStore store = RunStore.open(runDir)) {
                RunManifest previous = RunManifest.exists(runDir) ? RunManifest.read(runDir) : null;
                Harvester.manifest(teacher, remote == null ? null : config.apiKeyEnv(), data.harvestPrompts(),
                        previous).write(runDir);
                Harvester h = new Harvester(teacher, store,
                        new Harvester.Options(data.harvestPrompts(), 1, 16, false, false),
                        RateLimiter.unlimited(), Budget.unlimited(), new Backoff());
                listener.stage("harvesting " + profile.sizes().harvest() + " prompts from the teacher over HTTP "
                        + "with top-5 logprobs", () -> {
                    var p = h.progress();
                    return p.done() + " answered, " + p.alreadyDone() + " already stored, " + p.failed() + " failed";
                });
                Harvester.Result r = h.run();
                if (r.outcome() == Harvester.Outcome.FATAL) throw new IOException(r.fatal().getMessage());
                listener.stageDone(r.progress().done() + " samples harvested now, " + r.progress().alreadyDone()
                        + " reused from an earlier demo, into " + runDir);
            }
        } finally {
            if (server != null) server.close();
        }
    }

    private Path trainStudent(DemoData.Layout data) throws Exception {
        Path init = runDir.resolve("student-init");
        deleteTree(init);
        ModelInit.create(profile.student(), data.tokenizer(), init, false);
        TrainSummary s = train("distilling the student with top-k KD",
                TrainConfig.builder().setRunDir(runDir).setStudentDir(init).optLoss(LossMode.TOPK).optAlpha(0.5)
                        .optEpochs(profile.studentEpochs()).optLr(3e-3).optWarmupSteps(profile.warmupSteps() / 2)
                        .optBatchTokens(profile.batchTokens()).optMaxSeqLen(256).optEvalFraction(0.15)
                        .optEvalEvery(0).optSaveEvery(0).optSeed(seed).build());
        deleteTree(init);
        listener.stageDone(String.format(java.util.Locale.ROOT,
                "student: %d steps, %.0f tokens/s, eval loss %.3f, top-1 agreement %.3f", s.steps(),
                s.tokensPerSecond(), s.evalLoss(), s.evalAgreement()));
        return s.student();
    }

    private Scorecard evaluate(Path teacherDir) throws Exception {
        Evaluator.Builder b = Evaluator.builder().setRun(runDir).optEvalFraction(0.15)
                .optMaxNewTokens(profile.maxNewTokens()).optLimit(profile.evalLimit()).optSeed(seed).optEnv(env);
        if (teacherDir != null) b.optTeacherModel(teacherDir);
        Evaluator e = b.build();
        listener.stage("evaluating the student against the teacher on held-out prompts", () -> {
            var p = e.progress();
            return p == null ? "" : p.phase() + " " + p.done() + "/" + p.total();
        });
        Scorecard card = e.run();
        listener.stageDone("scorecard and report in " + runDir.resolve(Evaluator.DIR));
        return card;
    }

    /** Serves the student the way a user would and asks it one held-out question over HTTP. */
    private String[] serveStudent(Path student, DemoData.Layout data) throws Exception {
        listener.stage("serving the student on the OpenAI API", () -> "");
        String question;
        try (Stream<String> lines = Files.lines(data.gold("heldout"))) {
            question = lines.findFirst().map(l -> dev.distill4j.core.Json.parse(l).path("prompt").asText())
                    .orElse("What is 12 + 30?");
        }
        try (OpenAiServer server = OpenAiServer.builder().setModelDir(student).optServedModelName("student")
                .build()) {
            int port = server.start();
            var body = dev.distill4j.core.Json.object().put("model", "student").put("max_tokens", 96)
                    .put("temperature", 0);
            body.putArray("messages").addObject().put("role", "user").put("content", question);
            HttpResponse<String> r;
            try (HttpClient http = HttpClient.newHttpClient()) {
                r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
                                .timeout(Duration.ofMinutes(2)).header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(dev.distill4j.core.Json.write(body)))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
            }
            if (r.statusCode() != 200) throw new IOException("the served student answered " + r.statusCode()
                    + ": " + r.body());
            String answer = dev.distill4j.core.Json.parse(r.body()).path("choices").path(0).path("message")
                    .path("content").asText();
            listener.stageDone("POST /v1/chat/completions answered 200");
            return new String[] {question, answer};
        }
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(q);
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
