package dev.distill4j.cli;

import dev.distill4j.demo.DemoPipeline;
import dev.distill4j.demo.EmbeddingDemo;
import dev.distill4j.eval.Scorecard;
import dev.distill4j.model.io.ModelInfo;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Run the whole pipeline offline: teacher → harvest → distil → evaluate → serve.",
                "",
                "Without a teacher URL the demo builds a small house teacher: a transformer trained by distill4j "
                        + "itself on a task corpus it generates (column arithmetic, unit conversion, weekday "
                        + "transformations, look-ups in a generated fact table), cached for later runs. It serves "
                        + "that teacher over the OpenAI API on a loopback port, harvests prompts from it with top-5 "
                        + "logprobs, distils a student with over 6× fewer parameters by top-k KD, trains the same "
                        + "student on the same answers as text only (SFT) as a control, evaluates both against the "
                        + "teacher and the ground truth on held-out prompts (accuracy per task kind with 95 %% "
                        + "intervals), and serves the KD student.",
                "",
                "The first run trains the house teacher (a few minutes, cached); later runs reuse it, the stored "
                        + "answers and students already trained with the same settings."},
        subcommands = {DemoCommand.Embeddings.class, DemoGuardCommand.class},
        footer = {
                "",
                "Examples:",
                "  distill demo",
                "  distill demo embeddings (bge-small → static student, real text)",
                "  distill demo guard (watermark the teacher, distil students, audit them)",
                "  distill demo --teacher-base-url https://api.openai.com/v1 \\",
                "      --teacher-model gpt-4o-mini",
                "  distill demo --teacher-base-url http://localhost:8000/v1 \\",
                "      --teacher-model Qwen/Qwen2.5-7B-Instruct"})
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--teacher-base-url", paramLabel = "URL",
            description = "Use a real OpenAI-compatible teacher instead of the house teacher.")
    URI teacherBaseUrl;

    @Option(names = "--teacher-model", paramLabel = "NAME", description = "The real teacher's model name.")
    String teacherModel;

    @Option(names = "--teacher-api-key-env", paramLabel = "VAR", description = "Env var with the real teacher's key "
            + "(default OPENAI_API_KEY).")
    String teacherApiKeyEnv;

    @Option(names = "--run", paramLabel = "DIR", defaultValue = "runs/demo",
            description = "Run folder (default ${DEFAULT-VALUE}).")
    Path run;

    @Mixin HouseTeacherOptions house = new HouseTeacherOptions();

    @Override
    public Integer call() throws Exception {
        if ((teacherBaseUrl == null) != (teacherModel == null)) {
            throw new UserError("give both --teacher-base-url and --teacher-model, or neither for the house teacher",
                    Errors.USAGE);
        }
        DemoPipeline.Profile p = switch (house.profile) {
            case "default" -> DemoPipeline.DEFAULT;
            case "smoke" -> DemoPipeline.SMOKE;
            default -> throw house.unknownProfile();
        };
        Path cache = house.cache();
        DemoPipeline.RemoteTeacher remote = teacherBaseUrl == null ? null
                : new DemoPipeline.RemoteTeacher(teacherBaseUrl, teacherModel, teacherApiKeyEnv);
        PrintStream err = System.err;
        long start = System.nanoTime();
        Stages stages = new Stages(err, house.quiet);
        DemoPipeline.Result r;
        try {
            r = new DemoPipeline(p, cache, run, house.seed, remote, System.getenv(), stages).run();
        } finally {
            stages.close();
        }
        print(r, Duration.ofNanos(System.nanoTime() - start));
        return 0;
    }

    static Path defaultCache() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("distill4j").resolve("demo");
    }

    /** Draws one progress line per stage and keeps the finished stages' summaries on screen. */
    static final class Stages extends StageLines implements DemoPipeline.Listener {
        Stages(PrintStream err, boolean quiet) {
            super(err, quiet, true);
        }
    }

    private void print(DemoPipeline.Result r, Duration took) {
        PrintStream out = System.out;
        Scorecard kd = r.kd().scorecard();
        Scorecard sft = r.sft().scorecard();
        out.println();
        out.println("distill4j demo — scorecard (" + ProgressBar.duration(took) + ")");
        if (r.remote() == null) {
            out.println("  The teacher is a small house model trained by distill4j on a generated task corpus,");
            out.println("  because the demo runs offline. Every stage is the same code a real API teacher goes through.");
        } else {
            out.println("  teacher: " + r.remote().model() + " at " + r.remote().baseUrl());
        }
        if (r.teacherParameters() > 0) {
            out.printf(Locale.ROOT, "  size       teacher %,d parameters; students %,d (%.1f× fewer), trained %d steps each%n",
                    r.teacherParameters(), r.studentParameters(),
                    (double) r.teacherParameters() / r.studentParameters(), r.kd().steps());
        }
        var acc = kd.taskAccuracy();
        if (acc != null) {
            out.println();
            out.printf(Locale.ROOT, "  accuracy on %d held-out prompts (95 %% Wilson intervals)%n", acc.prompts());
            out.printf(Locale.ROOT, "  %-21s %-21s %-21s %-21s%n", "", "teacher", "student, top-k KD",
                    "student, text only");
            var sftGroups = new java.util.HashMap<String, Scorecard.GroupAccuracy>();
            if (sft.taskAccuracy() != null) sft.taskAccuracy().groups().forEach(g -> sftGroups.put(g.group(), g));
            for (var g : acc.groups()) {
                var s = sftGroups.get(g.group());
                out.printf(Locale.ROOT, "  %-21s %-21s %-21s %-21s%n", g.group() + " (" + g.prompts() + ")",
                        cell(g.teacher(), g.teacherCi95()), cell(g.student(), g.studentCi95()),
                        s == null ? "–" : cell(s.student(), s.studentCi95()));
            }
            var sa = sft.taskAccuracy();
            out.printf(Locale.ROOT, "  %-21s %-21s %-21s %-21s%n", "all", cell(acc.teacher(), acc.teacherCi95()),
                    cell(acc.student(), acc.studentCi95()), sa == null ? "–" : cell(sa.student(), sa.studentCi95()));
            if (acc.teacher() > 0 && sa != null) {
                out.printf(Locale.ROOT, "  the KD student keeps %.0f %% of the teacher's accuracy, the text-only one %.0f %%%n",
                        100 * acc.student() / acc.teacher(), 100 * sa.student() / acc.teacher());
            }
            out.println();
        }
        var tf = kd.teacherForced();
        var tfSft = sft.teacherForced();
        if (tf != null && tf.top1Agreement() != null) {
            out.printf(Locale.ROOT, "  agreement with the teacher's tokens  top-1 %.1f %% (KD) vs %.1f %% (text only)%s%n",
                    100 * tf.top1Agreement(), tfSft.top1Agreement() == null ? Double.NaN : 100 * tfSft.top1Agreement(),
                    tf.kl() == null ? "" : String.format(Locale.ROOT, "; KL to its top-5 %.3f vs %.3f", tf.kl(),
                            tfSft.kl() == null ? Double.NaN : tfSft.kl()));
        }
        var g = kd.generation();
        if (g != null && g.exactMatch() != null) {
            out.printf(Locale.ROOT, "  same answer as the teacher           exact %.1f %%, chrF %.1f, ROUGE-L %.3f (KD)%n",
                    100 * g.exactMatch(), g.chrf() == null ? 0 : g.chrf(), g.rougeLF1() == null ? 0 : g.rougeLF1());
        }
        var eff = kd.efficiency();
        if (eff != null && eff.student() != null && eff.localTeacher() != null
                && eff.student().decodeTokensPerS() != null && eff.localTeacher().decodeTokensPerS() != null) {
            out.printf(Locale.ROOT, "  speed (decode, this CPU)             teacher %.0f tok/s, student %.0f tok/s (%.1f× faster)%n",
                    eff.localTeacher().decodeTokensPerS(), eff.student().decodeTokensPerS(),
                    eff.student().decodeTokensPerS() / eff.localTeacher().decodeTokensPerS());
        }
        var served = r.served();
        out.println("  served KD student, held-out question Q: " + oneLine(served.question()));
        out.println("                                       A: " + oneLine(served.answer()));
        out.println("                                       reference " + served.reference() + " → "
                + (served.correct() ? "right" : "wrong"));
        out.println("  report     " + r.kd().dir().getParent().resolve("eval").resolve("report.html").toAbsolutePath());
        out.println("  student    " + r.kd().dir().toAbsolutePath() + "   (serve it: distill serve --model "
                + r.kd().dir() + ")");
        if (r.kd().fromCache() || r.sft().fromCache()) {
            out.println("  (students trained by an earlier demo with the same settings were reused; delete "
                    + r.run() + " to train them again)");
        }
        if (r.remote() == null) {
            out.println();
            out.println("  With a real teacher: distill demo --teacher-base-url https://api.openai.com/v1 "
                    + "--teacher-model gpt-4o-mini   (key in OPENAI_API_KEY)");
        }
        out.println("  Embeddings from a real pretrained teacher: distill demo embeddings   (bge-small-en-v1.5 → "
                + "static student on real text, offline)");
    }

    /** "93.3 % [89.9, 95.6]" */
    private static String cell(double p, double[] ci) {
        return ci == null ? String.format(Locale.ROOT, "%.1f %%", 100 * p)
                : String.format(Locale.ROOT, "%5.1f %% [%.1f, %.1f]", 100 * p, 100 * ci[0], 100 * ci[1]);
    }

    @Command(name = "embeddings", mixinStandardHelpOptions = true, sortOptions = false,
            description = {
                    "Distil a real pretrained sentence encoder offline, on real English text: bge-small-en-v1.5 "
                            + "(shipped as ONNX in LangChain4j's Maven jar, run by ONNX Runtime) into a tuned static "
                            + "student (the teacher's vocabulary plus frequent corpus words, token vectors from the "
                            + "teacher, PCA to 256 dimensions, then trained on the teacher's embeddings of 10,240 "
                            + "sentences of Debian documentation), then score it against the teacher without labels "
                            + "on 1,000 sentences of other documents: Spearman of pairwise cosines, recall@10, "
                            + "nDCG@10, linear CKA, size, sentences/s and latency, beside all-MiniLM-L6-v2 as a "
                            + "reference.",
                    "",
                    "Needs the real-text corpus: run bench/embed/corpus.sh once (installs Debian documentation "
                            + "packages and renders them, a few minutes). The teacher's sentence vectors are kept "
                            + "in the cache folder, so a second run is quicker.",
                    "",
                    "Writes <out>/student/ (serve it or load it with EmbeddingModels.student) and "
                            + "<out>/eval/scorecard.json + report.html."},
            footer = {
                    "",
                    "Examples:",
                    "  bench/embed/corpus.sh && distill demo embeddings",
                    "  distill eval --student runs/demo-embeddings/student \\",
                    "      --teacher bge-small-en-v1.5 --corpus my.txt"})
    static final class Embeddings implements Callable<Integer> {
        @Option(names = "--out", paramLabel = "DIR", defaultValue = "runs/demo-embeddings",
                description = "Output folder (default ${DEFAULT-VALUE}).")
        Path out;

        @Option(names = "--corpus-dir", paramLabel = "DIR", description = "The real-text corpus folder (default: $"
                + dev.distill4j.embed.corpus.RealCorpus.ENV + ", else the cache folder bench/embed/corpus.sh fills).")
        Path corpusDir;

        @Option(names = "--profile", paramLabel = "NAME", defaultValue = "default", hidden = true,
                description = "default, or smoke (small vocabulary and corpus, for tests).")
        String profile;

        @Option(names = "--quiet", description = "No progress bars.")
        boolean quiet;

        @Override
        public Integer call() throws Exception {
            EmbeddingDemo.Profile p = switch (profile) {
                case "default" -> EmbeddingDemo.DEFAULT;
                case "smoke" -> EmbeddingDemo.SMOKE;
                default -> throw new UserError("unknown --profile '" + profile + "' (default or smoke)", Errors.USAGE);
            };
            long start = System.nanoTime();
            Stages stages = new Stages(System.err, quiet);
            EmbeddingDemo.Result r;
            try {
                r = new EmbeddingDemo(p, out, corpusDir, stages).run();
            } finally {
                stages.close();
            }
            PrintStream o = System.out;
            var c = r.scorecard();
            var s = c.students().getFirst();
            var t = c.teacher().efficiency();
            var e = s.efficiency();
            o.println();
            o.println("distill4j demo embeddings — scorecard (" + ProgressBar.duration(Duration.ofNanos(System.nanoTime() - start)) + ")");
            o.println("  text      real English (Debian documentation, not written by the project): " + r.corpusSummary());
            o.printf(Locale.ROOT, "  teacher   %s: %d-d, %,d parameters, %s%n", c.teacher().name(), t.dimension(),
                    t.parameters(), ModelInfo.humanBytes(t.bytes()));
            o.printf(Locale.ROOT, "  student   static, tuned on %,d training sentences: %d-d, %,d token vectors (%,d corpus "
                            + "words added), %,d parameters, %s (%.1f× smaller), built in %.0f s%n", r.trainSentences(),
                    e.dimension(), r.distilledTokens(), r.addedWords(), e.parameters(), ModelInfo.humanBytes(e.bytes()),
                    s.sizeRatio(), r.buildSeconds());
            o.printf(Locale.ROOT, "  fidelity  on %,d sentences of documents the student never trained on (no labels):%n",
                    c.corpus().sentences());
            for (var x : c.students()) {
                var f = x.fidelity();
                o.printf(Locale.ROOT, "    %-22s Spearman of pairwise cosines %.3f, recall@10 %.3f, nDCG@10 %s, CKA %.3f, "
                                + "%s the teacher's sentences/s%n", "reference".equals(x.role()) ? x.name() + " (reference)"
                                : "student", f.spearman(), f.recallAt10(),
                        f.ndcgAt10() == null ? "–" : String.format(Locale.ROOT, "%.3f", f.ndcgAt10()), f.cka(),
                        EmbedCommand.times(x.speedup()));
            }
            o.printf(Locale.ROOT, "  speed     teacher %,.0f sentences/s, student %,.0f sentences/s (%s faster)%n",
                    t.sentencesPerS(), e.sentencesPerS(), EmbedCommand.times(s.speedup()));
            o.printf(Locale.ROOT, "  latency   one sentence: teacher %.2f ms, student %.3f ms (median)%n", t.latencyMs(),
                    e.latencyMs());
            o.printf(Locale.ROOT, "  machine   %d CPUs, load average %.2f → %.2f (timings depend on it)%n",
                    c.machine().cpus(), c.machine().loadAverageStart(), c.machine().loadAverageEnd());
            o.println("  report    " + r.evalDir().resolve("report.html").toAbsolutePath());
            o.println("  student   " + r.studentDir().toAbsolutePath());
            o.println();
            o.println("  Score it on your own texts: distill eval --student " + r.studentDir()
                    + " --teacher " + c.teacher().name() + " --corpus FILE");
            return 0;
        }
    }

    private static String oneLine(String s) {
        String t = s == null ? "" : s.replace('\n', ' ');
        return t.length() > 100 ? t.substring(0, 97) + "..." : t;
    }
}
