package dev.distill4j.cli;

import dev.distill4j.eval.Evaluator;
import dev.distill4j.eval.Scorecard;
import dev.distill4j.teacher.TeacherException;
import dev.distill4j.train.data.ExampleBuilder.PromptFormat;
import dev.distill4j.train.data.ExampleBuilder.TokenSource;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
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
                        + "it: pass the --eval-fraction (and --max-seq-len, --prompt-format, --token-source) "
                        + "training used."},
        footer = {"", "Examples:",
                "  distill eval --run runs/math",
                "  distill eval --run runs/math --judge --price-in 0.15 --price-out 0.60 --limit 200",
                "  distill eval --run runs/math --prompts test.jsonl --teacher-model models/Qwen2.5-7B-Instruct"})
final class EvalCommand implements Callable<Integer> {
    @Option(names = "--run", required = true, paramLabel = "DIR", description = "Run folder.")
    Path run;

    @Option(names = "--student", paramLabel = "DIR", description = "Student model folder (default: <run>/student).")
    Path student;

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

    @Option(names = "--eval-fraction", paramLabel = "F", defaultValue = "0.05",
            description = "Held-out share training used (default ${DEFAULT-VALUE}, as distill train).")
    double evalFraction;

    @Option(names = "--max-seq-len", paramLabel = "N", defaultValue = "2048",
            description = "Longest teacher-forced example, as in training (default ${DEFAULT-VALUE}).")
    int maxSeqLen;

    @Option(names = "--prompt-format", paramLabel = "FORMAT", defaultValue = "auto",
            description = "auto, chat or raw, as in training (default ${DEFAULT-VALUE}).")
    PromptFormat promptFormat;

    @Option(names = "--token-source", paramLabel = "SOURCE", defaultValue = "student",
            description = "student or teacher token ids for the reply, as in training (default ${DEFAULT-VALUE}).")
    TokenSource tokenSource;

    @Option(names = "--teacher-model", paramLabel = "DIR",
            description = "A local teacher model folder to time beside the student.")
    Path teacherModel;

    @Option(names = "--worst", paramLabel = "N", defaultValue = "10",
            description = "Rows of the worst-disagreements table (default ${DEFAULT-VALUE}).")
    int worst;

    @Option(names = "--quiet", description = "No progress bar; summary only.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        if (limit < 0) throw new UserError("--limit must be >= 0", Errors.USAGE);
        if (maxNewTokens != null && maxNewTokens < 1) throw new UserError("--max-new-tokens must be >= 1", Errors.USAGE);
        if (priceIn < 0 || priceOut < 0) throw new UserError("--price-in and --price-out must be >= 0", Errors.USAGE);
        Evaluator.Builder b = Evaluator.builder().setRun(run).optStudent(student).optPrompts(prompts).optJudge(judge)
                .optSeed(judgeSeed).optPrices(priceIn, priceOut).optLimit(limit).optEvalFraction(evalFraction)
                .optMaxSeqLen(maxSeqLen).optPromptFormat(promptFormat).optTokenSource(tokenSource)
                .optTeacherModel(teacherModel).optWorst(worst);
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
}
