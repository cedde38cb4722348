package dev.distill4j.cli;

import dev.distill4j.embed.EmbeddingModels;
import dev.distill4j.eval.EmbeddingEvaluator;
import dev.distill4j.eval.EmbeddingScorecard;
import dev.distill4j.eval.Evaluator;
import dev.distill4j.eval.Scorecard;
import dev.distill4j.teacher.TeacherException;
import dev.distill4j.train.data.ExampleBuilder.PromptFormat;
import dev.distill4j.train.data.ExampleBuilder.TokenSource;
import dev.distill4j.train.data.ExampleSettings;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Score a student against its teacher on held-out prompts.",
                "",
                "Teacher-forced (NLL, perplexity, top-1 agreement, KL to the teacher's top-k), free generation "
                        + "(exact match, chrF, ROUGE-L, task accuracy against metadata.answer), optionally a "
                        + "pairwise judge, and efficiency (size, prefill/decode tokens/s, latency, teacher price). "
                        + "Writes <run>/eval/scorecard.json and a self-contained <run>/eval/report.html.",
                "",
                "The held-out prompts are the run's eval split, decided by prompt id exactly as training decides "
                        + "it, with the --eval-fraction, --max-seq-len, --prompt-format and --token-source training "
                        + "used: distill train records them in the student folder (distill_training.json) and eval "
                        + "reads them. A flag overrides the record, with a warning when it differs from training.",
                "",
                "Embedding students (folders written by 'distill embed distill', or any ONNX sentence encoder "
                        + "folder: model.onnx + tokenizer.json, Hugging Face / sentence-transformers layout) need no "
                        + "run: give --student DIR (repeat it to compare several in one report), --teacher, "
                        + "optionally --reference MODEL and --corpus (default: 1,000 sentences of the real-text "
                        + "evaluation set, distill embed corpus). Fidelity without labels (Spearman of pairwise "
                        + "cosines, recall@1..10, nDCG@10 of the teacher's ranking, linear CKA) and efficiency "
                        + "(parameters, size, sentences/s, one-sentence latency, speed-up) go to "
                        + "<student>/eval/ (or --out DIR) as scorecard.json and report.html."},
        footer = {
                "",
                "Examples:",
                "  distill eval --run runs/math",
                "  distill eval --run runs/math --judge --price-in 0.15 --price-out 0.60 \\",
                "      --limit 200",
                "  distill eval --run runs/math --prompts test.jsonl \\",
                "      --teacher-model models/Qwen2.5-7B-Instruct",
                "  distill eval --student students/bge-static --teacher bge-small-en-v1.5",
                "  distill eval --student students/bge-tuned --teacher bge-small-en-v1.5 \\",
                "      --reference all-minilm-l6-v2",
                "  distill eval --student students/static --student students/tuned \\",
                "      --teacher bge-small-en-v1.5 --corpus texts.jsonl --out eval/bge"})
final class EvalCommand implements Callable<Integer> {
    @Option(names = "--run", paramLabel = "DIR", description = "Run folder (text students).")
    Path run;

    @Option(names = "--student", paramLabel = "DIR", description = "Student model folder (default: <run>/student). "
            + "An embedding student (config.json model_type static, ...) is scored without a run; repeat "
            + "--student to compare several.")
    List<Path> students = new ArrayList<>();

    @Option(names = "--teacher", paramLabel = "TEACHER", description = "Embedding students: the teacher they were "
            + "distilled from: bge-small-en-v1.5 | all-minilm-l6-v2 (built in, offline) | an ONNX folder.")
    String teacher;

    @Option(names = "--corpus", paramLabel = "FILE", description = "Embedding students: sentences (text lines or "
            + "JSONL with \"text\"); default: the first 1,000 evaluation sentences of the real-text corpus.")
    Path corpus;

    @Option(names = "--reference", paramLabel = "MODEL", description = "Embedding students: another pretrained "
            + "model scored against the teacher like a student, to show what good looks like (all-minilm-l6-v2, or any "
            + "ONNX encoder folder with model.onnx and tokenizer.json); repeatable.")
    List<String> references = new ArrayList<>();

    @Option(names = "--out", paramLabel = "DIR", description = "Embedding students: folder for scorecard.json and "
            + "report.html (default <student>/eval; required with several students).")
    Path out;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--prompts", paramLabel = "FILE",
            description = "Evaluate these prompts instead of the held-out split; their teacher answers are looked "
                    + "up in the run by prompt id.")
    Path prompts;

    @Option(names = "--judge", description = "Let the run's teacher (same API as run.json, key from its env var) "
            + "grade student vs teacher answers pairwise.")
    boolean judge;

    @Option(names = "--judge-seed", paramLabel = "S", defaultValue = "1234",
            description = "Seed of the judge's A/B order (default ${DEFAULT-VALUE}).")
    long judgeSeed;

    @Option(names = "--price-in", paramLabel = "USD_PER_MTOK", defaultValue = "0",
            description = "Teacher price of 1 M prompt tokens.")
    double priceIn;

    @Option(names = "--price-out", paramLabel = "USD_PER_MTOK", defaultValue = "0",
            description = "Teacher price of 1 M completion tokens.")
    double priceOut;

    @Option(names = "--max-new-tokens", paramLabel = "N",
            description = "Generation limit (default: the run's max tokens, else 256).")
    Integer maxNewTokens;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "0",
            description = "Evaluate at most N prompts (0 = all).")
    int limit;

    @Option(names = "--eval-fraction", paramLabel = "F",
            description = "Held-out share (default: as the student was trained, from its distill_training.json; "
                    + "else " + ExampleSettings.DEFAULT_EVAL_FRACTION + ", distill train's default).")
    Double evalFraction;

    @Option(names = "--max-seq-len", paramLabel = "N",
            description = "Longest teacher-forced example (default: as trained; else "
                    + ExampleSettings.DEFAULT_MAX_SEQ_LEN + ").")
    Integer maxSeqLen;

    @Option(names = "--prompt-format", paramLabel = "FORMAT",
            description = "auto, chat or raw (default: as trained; else auto).")
    PromptFormat promptFormat;

    @Option(names = "--token-source", paramLabel = "SOURCE",
            description = "student or teacher token ids for the reply (default: as trained; else student).")
    TokenSource tokenSource;

    @Option(names = "--teacher-model", paramLabel = "DIR",
            description = "A local teacher model folder to time beside the student.")
    Path teacherModel;

    @Option(names = "--worst", paramLabel = "N", defaultValue = "10",
            description = "Rows of the worst-disagreements table (default ${DEFAULT-VALUE}).")
    int worst;

    @Option(names = "--quiet", description = "No progress bar; summary only.")
    boolean quiet;

    /** Options that only make sense for one kind of student, to reject them with the other. */
    private static final List<String> EMBEDDING_ONLY = List.of("--teacher", "--corpus", "--out", "--reference");
    private static final List<String> TEXT_ONLY = List.of("--run", "--prompts", "--judge", "--judge-seed",
            "--price-in", "--price-out", "--max-new-tokens", "--limit", "--eval-fraction", "--max-seq-len",
            "--prompt-format", "--token-source", "--teacher-model", "--worst");

    @Override
    public Integer call() throws Exception {
        var parsed = spec.commandLine().getParseResult();
        boolean embedding = !students.isEmpty() && students.stream().allMatch(EmbeddingModels::isStudent);
        if (embedding) {
            for (String o : TEXT_ONLY) {
                if (parsed.hasMatchedOption(o)) {
                    throw new UserError(o + " applies to text runs; " + students.getFirst() + " is an embedding "
                            + "student (scored with --teacher, --corpus, --out)", Errors.USAGE);
                }
            }
            return embedding();
        }
        if (students.size() > 1 && students.stream().anyMatch(EmbeddingModels::isStudent)) {
            Path text = students.stream().filter(p -> !EmbeddingModels.isStudent(p)).findFirst().orElseThrow();
            throw new UserError(text + " is not an embedding student (config.json with an embedding model_type): "
                    + "several --student folders are compared only as embedding students", Errors.USAGE);
        }
        if (run == null) {
            if (students.isEmpty()) {
                throw new UserError("give --run DIR (a text run), or --student DIR --teacher T (an embedding "
                        + "student)", Errors.USAGE);
            }
            throw new UserError(students.getFirst() + " is not an embedding student (no config.json with "
                    + "model_type static or another embedding kind): text students are scored within their run, "
                    + "give --run DIR", Errors.USAGE);
        }
        if (students.size() > 1) throw new UserError("a text run takes one --student", Errors.USAGE);
        for (String o : EMBEDDING_ONLY) {
            if (parsed.hasMatchedOption(o)) {
                throw new UserError(o + " applies to embedding students; use --teacher-model for a local text "
                        + "teacher", Errors.USAGE);
            }
        }
        Path student = students.isEmpty() ? null : students.getFirst();
        if (limit < 0) throw new UserError("--limit must be >= 0", Errors.USAGE);
        if (maxNewTokens != null && maxNewTokens < 1) throw new UserError("--max-new-tokens must be >= 1", Errors.USAGE);
        if (priceIn < 0 || priceOut < 0) throw new UserError("--price-in and --price-out must be >= 0", Errors.USAGE);
        Evaluator.Builder b = Evaluator.builder().setRun(run).optStudent(student).optPrompts(prompts).optJudge(judge)
                .optSeed(judgeSeed).optPrices(priceIn, priceOut).optLimit(limit).optTeacherModel(teacherModel)
                .optWorst(worst).optWarnings(w -> System.err.println("distill eval: warning: " + w));
        // only the flags given override what the student folder records about its training
        if (evalFraction != null) b.optEvalFraction(evalFraction);
        if (maxSeqLen != null) b.optMaxSeqLen(maxSeqLen);
        if (promptFormat != null) b.optPromptFormat(promptFormat);
        if (tokenSource != null) b.optTokenSource(tokenSource);
        if (maxNewTokens != null) b.optMaxNewTokens(maxNewTokens);
        Evaluator evaluator = b.build();
        long start = System.nanoTime();
        Scorecard card;
        try (ProgressBar bar = new ProgressBar(System.err, quiet, () -> line(evaluator.progress(), start))) {
            card = evaluator.run();
        } catch (TeacherException e) {
            throw new UserError("the judge failed: " + e.getMessage());
        }
        print(System.out, card);
        return 0;
    }

    private int embedding() throws Exception {
        EmbeddingEvaluator.Builder b = EmbeddingEvaluator.builder().setTeacher(teacher).optCorpus(corpus).optOut(out);
        students.forEach(b::addStudent);
        references.forEach(b::addReference);
        EmbeddingEvaluator evaluator = b.build();
        long start = System.nanoTime();
        EmbeddingScorecard card;
        try (ProgressBar bar = new ProgressBar(System.err, quiet, () -> line(evaluator.progress(), start))) {
            card = evaluator.run();
        }
        printEmbedding(System.out, card, evaluator.outDir());
        return 0;
    }

    static void printEmbedding(PrintStream out, EmbeddingScorecard c, Path dir) {
        var t = c.teacher().efficiency();
        out.printf(Locale.ROOT, "eval complete: %d embedding student%s vs teacher %s on %,d sentences (%s)%n",
                c.students().size(), c.students().size() == 1 ? "" : "s", c.teacher().name(), c.corpus().sentences(),
                c.corpus().source());
        out.printf(Locale.ROOT, "  teacher   %d-d  %s params  %,.0f sentences/s  latency %.2f ms%n", t.dimension(),
                t.parameters() == null ? "?" : ProgressBar.count(t.parameters()), t.sentencesPerS(), t.latencyMs());
        for (var s : c.students()) {
            var e = s.efficiency();
            var f = s.fidelity();
            out.printf(Locale.ROOT, "  %s%s  (%s, %d-d, %s params)%n", "reference".equals(s.role()) ? "reference " : "",
                    s.dir(), s.modelType(), e.dimension(),
                    e.parameters() == null ? "?" : ProgressBar.count(e.parameters()));
            out.printf(Locale.ROOT, "    fidelity  Spearman %.3f  recall@10 %.3f  nDCG@10 %s  CKA %.3f%n", f.spearman(),
                    f.recallAt10(), f.ndcgAt10() == null ? "–" : String.format(Locale.ROOT, "%.3f", f.ndcgAt10()), f.cka());
            out.printf(Locale.ROOT, "    speed     %,.0f sentences/s (%s the teacher)  latency %.3f ms (%s)%s%n",
                    e.sentencesPerS(), times(s.speedup()), e.latencyMs(), times(s.latencySpeedup()),
                    s.sizeRatio() == null ? "" : String.format(Locale.ROOT, "  %.1f× smaller", s.sizeRatio()));
        }
        var m = c.machine();
        out.printf(Locale.ROOT, "  machine   %d CPUs, load average %.2f → %.2f%n", m.cpus(), m.loadAverageStart(),
                m.loadAverageEnd());
        out.println("  wrote " + dir.resolve(Evaluator.SCORECARD) + " and " + dir.resolve(Evaluator.REPORT));
    }

    private static String line(Evaluator.Progress p, long start) {
        String elapsed = ProgressBar.duration(Duration.ofNanos(System.nanoTime() - start));
        if (p.total() == 0) return p.phase() + " " + elapsed;
        return String.format(Locale.ROOT, "%-20s %s %s/%s %s", p.phase(), ProgressBar.bar((double) p.done() / p.total(), 30),
                ProgressBar.count(p.done()), ProgressBar.count(p.total()), elapsed);
    }

    static void print(PrintStream out, Scorecard c) {
        var tf = c.teacherForced();
        var g = c.generation();
        out.println("eval complete: " + c.split().promptIds().size() + " prompts (" + c.split().source() + "), "
                + tf.examples() + " teacher-forced examples");
        out.printf(Locale.ROOT, "  teacher-forced  NLL %s  perplexity %s  top-1 agreement %s  KL %s%n",
                f(tf.nll()), f(tf.perplexity()), f(tf.top1Agreement()), f(tf.kl()));
        out.printf(Locale.ROOT, "  generation      exact match %s  chrF %s  ROUGE-L %s  (%s, ≤ %d tokens)%n",
                f(g.exactMatch()), f(g.chrf()), f(g.rougeLF1()), g.decoding(), g.maxNewTokens());
        if (c.taskAccuracy() != null) {
            out.printf(Locale.ROOT, "  task accuracy   student %s  teacher %s  (%d prompts with an answer)%n",
                    f(c.taskAccuracy().student()), f(c.taskAccuracy().teacher()), c.taskAccuracy().prompts());
        }
        if (c.judge() != null) {
            var j = c.judge();
            out.printf(Locale.ROOT, "  judge           win %d  tie %d  loss %d  invalid %d  (win rate %s)%n",
                    j.win(), j.tie(), j.loss(), j.invalid(), f(j.winRate()));
        }
        var s = c.efficiency().student();
        out.printf(Locale.ROOT, "  student         %s params  prefill %s tok/s  decode %s tok/s  latency p50 %s ms  "
                        + "p95 %s ms%n", ProgressBar.count(s.parameters()), f(s.prefillTokensPerS()),
                f(s.decodeTokensPerS()), f(s.latencyP50Ms()), f(s.latencyP95Ms()));
        var lt = c.efficiency().localTeacher();
        if (lt != null) {
            out.printf(Locale.ROOT, "  local teacher   %s params  prefill %s tok/s  decode %s tok/s  latency p50 %s ms"
                            + "  p95 %s ms%n", ProgressBar.count(lt.parameters()), f(lt.prefillTokensPerS()),
                    f(lt.decodeTokensPerS()), f(lt.latencyP50Ms()), f(lt.latencyP95Ms()));
        }
        var e = c.efficiency();
        out.printf(Locale.ROOT, "  teacher API     mean latency %s ms  price in/out %s / %s USD per 1M tokens%n",
                f(e.teacher().latencyMeanMs()), f(e.teacherPriceInPerMtok()), f(e.teacherPriceOutPerMtok()));
        Path dir = Path.of(c.parameters().get("run").toString()).resolve(Evaluator.DIR);
        out.println("  wrote " + dir.resolve(Evaluator.SCORECARD) + " and " + dir.resolve(Evaluator.REPORT));
    }

    private static String f(Double v) {
        if (v == null) return "–";
        double a = Math.abs(v);
        if (a >= 100) return String.format(Locale.ROOT, "%.1f", v);
        if (a != 0 && a < 0.001) return String.format(Locale.ROOT, "%.2e", v);
        return String.format(Locale.ROOT, "%.4f", v);
    }

    /** 2.4× or 172×: one decimal where it matters. */
    private static String times(double ratio) {
        return String.format(Locale.ROOT, ratio < 10 ? "%.1f×" : "%.0f×", ratio);
    }
}
