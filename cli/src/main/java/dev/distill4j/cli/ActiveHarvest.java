package dev.distill4j.cli;

import dev.distill4j.active.ActiveConfig;
import dev.distill4j.active.ActiveHarvester;
import dev.distill4j.active.RoundRecord;
import dev.distill4j.active.ScoreKind;
import dev.distill4j.teacher.Teacher;
import dev.distill4j.train.LossMode;
import dev.distill4j.train.RunShare;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * {@code distill harvest --active}: the flags of the active loop and its terminal side (a progress line per step, a
 * line per round, Ctrl-C, the summary). The loop itself is {@link ActiveHarvester}; the teacher, prices, budget,
 * rate limits and retries are {@link HarvestCommand}'s.
 */
final class ActiveHarvest {
    @Option(names = "--active", description = "Active harvesting: buy answers in rounds, each time for the pool "
            + "prompts the student is least sure of, retrain the student on everything bought, measure its held-out "
            + "agreement, repeat until --budget-usd is spent. Needs --student, --budget-usd and prices.")
    boolean enabled;

    @Option(names = "--student", paramLabel = "DIR", description = "With --active: the student to start from (a "
            + "model folder, e.g. from 'distill model init'). Each round's student is written under "
            + "<run>/active/round-NNN/train/student.")
    Path student;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "5", description = "With --active: rounds of "
            + "score, buy, retrain; the budget left after the held-out set is spread evenly over the rounds still to "
            + "run (default ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--select", paramLabel = "SCORE", defaultValue = "gain", description = "With --active: what a "
            + "round buys by: entropy, margin, least-confidence (of the student's own greedy answer, mean per token), "
            + "disagreement (among --student-samples sampled answers), uniform (random: the baseline), auto: "
            + "each round ranks the scores against the student's distance from the teacher on --pilot held-out "
            + "answers and uses the best, or buys uniformly while none predicts it; or gain: draws prompts in "
            + "proportion to the divergence from the teacher a dollar is expected to remove there, measured on "
            + "--pilot held-out answers (the student's surprise at each minus the teacher's own) and carried to the "
            + "pool by the 10 nearest held-out prompts (default ${DEFAULT-VALUE}).")
    String select;

    @Option(names = "--eval-fraction", paramLabel = "F", defaultValue = "0.1", description = "With --active: share of "
            + "the pool held out (by a hash of the prompt id, as 'distill train --eval-fraction'), bought once "
            + "before round 1 and only measured on (default ${DEFAULT-VALUE}).")
    double evalFraction;

    @Option(names = "--diversity", paramLabel = "F", defaultValue = "2", description = "With --active and an "
            + "uncertainty score: a round picks its n prompts among the F·n most uncertain by greedy k-center on the student's prompt "
            + "embeddings, so it does not buy near-duplicates; 1 = the n most uncertain (default ${DEFAULT-VALUE}).")
    double diversity;

    @Option(names = "--uniform-share", paramLabel = "E", defaultValue = "0", description = "With --active and a "
            + "selection other than uniform: the share of each round drawn uniformly from the pool, the rest by "
            + "--select. Use 0.5 when --student already knows part of the pool: a round bought only where it is "
            + "behind lets it forget the rest (default ${DEFAULT-VALUE}).")
    double uniformShare;

    @Option(names = "--replay", paramLabel = "RUN[:W]", description = "With --active, repeatable: an earlier run "
            + "whose answers every round also trains on, mixed with this run's (weight 1) by weight W (default 1), "
            + "e.g. the run --student was distilled on, so that rounds bought where it is behind do not make it "
            + "forget the rest. Held-out agreement stays measured on this run's held-out prompts.")
    List<String> replay = new ArrayList<>();

    @Option(names = "--student-samples", paramLabel = "K", defaultValue = "0", description = "With --active: sampled "
            + "student answers per prompt for the disagreement score (0 = none; costs K generations per prompt).")
    int studentSamples;

    @Option(names = "--candidates", paramLabel = "N", defaultValue = "0", description = "With --active: pool "
            + "prompts the student scores per round at most, drawn at random (0 = the whole pool).")
    int candidates;

    @Option(names = "--pilot", paramLabel = "N", defaultValue = "200", description = "With --select auto or "
            + "gain: held-out prompts (answers already bought) each round calibrates the scores on, or measures the "
            + "student's divergence on (default ${DEFAULT-VALUE}).")
    int pilot;

    @Option(names = "--probe-tokens", paramLabel = "N", defaultValue = "64", description = "With --active: tokens "
            + "of each student answer that is scored (default ${DEFAULT-VALUE}).")
    int probeTokens;

    @Option(names = "--train-steps", paramLabel = "N", defaultValue = "200", description = "With --active: "
            + "optimizer steps of each round's training (default ${DEFAULT-VALUE}).")
    long trainSteps;

    @Option(names = "--retrain", paramLabel = "FROM", defaultValue = "continue", description = "With --active: "
            + "continue (from the previous round's student) or scratch (from --student every round) (default "
            + "${DEFAULT-VALUE}).")
    String retrain;

    @Option(names = "--loss", paramLabel = "MODE", defaultValue = "auto", description = "With --active: the "
            + "training loss: auto (top-k KD where the teacher gave logprobs, else SFT), topk or sft.")
    String loss;

    @Option(names = "--alpha", paramLabel = "A", defaultValue = "0.5", description = "With --active: weight of the "
            + "distillation term (default ${DEFAULT-VALUE}).")
    double alpha;

    @Option(names = "--lr", paramLabel = "LR", defaultValue = "3e-3", description = "With --active: peak learning "
            + "rate of each round (default ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--warmup-steps", paramLabel = "N", defaultValue = "20", description = "With --active: warmup of "
            + "each round (default ${DEFAULT-VALUE}).")
    long warmupSteps;

    @Option(names = "--batch-tokens", paramLabel = "N", defaultValue = "2048", description = "With --active: padded "
            + "tokens per training batch (default ${DEFAULT-VALUE}).")
    int batchTokens;

    @Option(names = "--max-seq-len", paramLabel = "N", defaultValue = "256", description = "With --active: training "
            + "examples are cut to this many tokens (default ${DEFAULT-VALUE}).")
    int maxSeqLen;

    @Option(names = "--active-seed", paramLabel = "S", defaultValue = "1", description = "With --active: seeds the "
            + "pilot and uniform draws, candidate sampling and training (default ${DEFAULT-VALUE}).")
    long seed;

    /** Rejects flag combinations the loop cannot honour, before anything is sent. */
    void validate(HarvestCommand c) {
        if (!enabled) {
            if (student != null) throw new UserError("--student applies to --active: add --active", Errors.USAGE);
            if (!replay.isEmpty()) throw new UserError("--replay applies to --active: add --active", Errors.USAGE);
            return;
        }
        if (c.batch) throw new UserError("--active buys in rounds online; --batch waits up to a day per batch: drop "
                + "one of them", Errors.USAGE);
        if (c.dryRun) throw new UserError("--dry-run does not apply to --active (which prompts are bought depends "
                + "on the student after each round): drop --dry-run", Errors.USAGE);
        if (c.samplesPerPrompt != 1) throw new UserError("--active buys one answer per prompt: drop "
                + "--samples-per-prompt", Errors.USAGE);
        if (c.retryFailed) throw new UserError("--retry-failed does not apply to --active: a failed prompt stays "
                + "bought; run a plain harvest with --retry-failed on the same run first", Errors.USAGE);
        if (student == null) throw new UserError("--active needs --student DIR (the student to start from)",
                Errors.USAGE);
        if (c.connection.budgetUsd == null) throw new UserError("--active needs --budget-usd X: the rounds spend it",
                Errors.USAGE);
    }

    int run(HarvestCommand c, Teacher teacher) throws Exception {
        LossMode mode = switch (loss.toLowerCase(Locale.ROOT)) {
            case "auto" -> LossMode.AUTO;
            case "topk" -> LossMode.TOPK;
            case "sft" -> LossMode.SFT;
            default -> throw new UserError("--loss must be auto, topk or sft with --active, not '" + loss + "'",
                    Errors.USAGE);
        };
        TeacherConnectionOptions t = c.connection;
        ActiveConfig config = new ActiveConfig(c.run, c.prompts, student, t.apiKeyEnvFor(teacher), t.budgetUsd,
                t.priceIn, t.priceOut, rounds, evalFraction, ScoreKind.parse(select), diversity, uniformShare, studentSamples,
                candidates, pilot, probeTokens, trainSteps, ActiveConfig.Retrain.parse(retrain), mode, alpha, lr,
                warmupSteps, batchTokens, maxSeqLen, t.concurrency, seed,
                replay.stream().map(RunShare::parse).toList());
        PrintStream err = System.err;
        Lines lines = new Lines(err, c.quiet);
        ActiveHarvester loop = new ActiveHarvester(config, teacher, t.rateLimiter(),
                t.backoff(), lines);
        long t0 = System.nanoTime();
        try (CtrlC ctrlC = new CtrlC("active-interrupt", loop::stop)) {
            ActiveHarvester.Result r = loop.run();
            lines.close();
            summary(r, config, Duration.ofNanos(System.nanoTime() - t0));
            return 0;
        } catch (ActiveHarvester.TeacherFailure e) {
            throw new UserError(e.getMessage());
        } catch (InterruptedException e) {
            lines.close();
            err.println("interrupted: what was bought is stored; rerun the same command to resume");
            return CtrlC.EXIT_CODE;
        } finally {
            lines.close();
        }
    }

    private void summary(ActiveHarvester.Result r, ActiveConfig config, Duration took) {
        PrintStream out = System.out;
        String why = switch (r.stop()) {
            case ROUNDS_DONE -> "every round ran";
            case BUDGET_SPENT -> "the budget left pays for no more answers";
            case POOL_EMPTY -> "every pool prompt is bought";
        };
        out.printf(Locale.ROOT, "active harvest done (%s) in %s%n", why, ProgressBar.duration(took));
        out.printf(Locale.ROOT, "  held-out   %d prompts, $%.4f (measured on, never trained on)%n",
                r.heldOutPrompts(), r.heldOutUsd());
        out.printf(Locale.ROOT, "  %-5s %-18s %8s %10s %10s %10s%n", "round", "select", "bought", "round $",
                "training $", "agreement");
        for (RoundRecord x : r.rounds()) {
            out.printf(Locale.ROOT, "  %-5d %-18s %8d %10.4f %10.4f %10.4f%n", x.round(), x.select(), x.bought(),
                    x.roundUsd(), x.trainingUsd(), x.heldOutAgreement());
        }
        out.printf(Locale.ROOT, "  spend      $%.4f of $%.4f budget%n", r.totalUsd(), config.budgetUsd());
        if (r.chosenScore() != null) out.println("  score      " + r.chosenScore() + " (the last round's calibration)");
        out.println("  student    " + r.student());
        out.println("  log        " + config.runDir().resolve(ActiveHarvester.DIR).resolve(ActiveHarvester.ROUNDS));
    }

    /** One progress line per step; one summary line per round. */
    private static final class Lines extends StageLines implements ActiveHarvester.Listener {
        Lines(PrintStream err, boolean quiet) {
            super(err, quiet, false);
        }

        @Override public void round(RoundRecord x) {
            line(String.format(Locale.ROOT, "round %d: bought %d (%s) for $%.4f, training spend $%.4f, total $%.4f;"
                            + " held-out agreement %.4f", x.round(), x.bought(), x.select(), x.roundUsd(),
                    x.trainingUsd(), x.totalUsd(), x.heldOutAgreement()));
        }
    }
}
