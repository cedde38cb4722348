package dev.distill4j.active;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.train.LossMode;
import dev.distill4j.train.RunShare;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * What an active harvest is told ({@code distill harvest --active}).
 *
 * @param runDir          the run folder: its samples.db holds every answer bought, held-out and training alike
 * @param pool            the prompt file; the pool of candidates is its prompts less those already bought
 * @param student         the initial student (a Hugging Face model folder with the teacher's tokenizer or its own)
 * @param apiKeyEnv       the teacher's key variable for run.json (null for teachers without a key)
 * @param budgetUsd       the most the whole run may spend on the teacher, held-out answers included: a hard cap
 * @param priceIn         USD per 1 M prompt tokens
 * @param priceOut        USD per 1 M completion tokens
 * @param rounds          rounds of score → buy → retrain; the budget left after the held-out set is spread evenly
 *                        over the rounds still to run
 * @param evalFraction    share of the pool held out (by {@code train.data.EvalSplit}'s hash of the prompt id): bought
 *                        once, before the first round, and only ever used to measure agreement
 * @param select          what a round buys by
 * @param diversity       shortlist factor f of {@link Selection} (1 = pure top-n)
 * @param uniformShare    share ε of each selected round drawn uniformly from the pool, the rest by {@code select}
 * @param studentSamples  sampled student answers per prompt for {@link ScoreKind#DISAGREEMENT} (0 = none)
 * @param maxCandidates   pool prompts the student scores per round at most, drawn at random (0 = all)
 * @param pilot           with {@link ScoreKind#AUTO} or {@link ScoreKind#GAIN}: held-out prompts each round
 *                        calibrates on, or measures the student's divergence on, at most
 * @param probeTokens     tokens of each student probe answer at most
 * @param trainSteps      optimizer steps of each round's training
 * @param retrain         whether a round continues from the previous round's student or starts from the initial one
 * @param loss            the training loss (auto: top-k KD when the teacher gave logprobs, else SFT)
 * @param alpha           weight of the distillation term
 * @param lr              peak learning rate of each round
 * @param warmupSteps     linear warmup of each round
 * @param batchTokens     padded tokens per micro-batch
 * @param maxSeqLen       training examples are cut to this many tokens
 * @param concurrency     teacher requests in flight
 * @param seed            seeds the pilot and uniform draws, candidate sampling and training
 * @param replay          earlier runs whose answers every round also trains on, mixed by weight with this run's
 *                        (weight 1): what the student was distilled on before, so that rounds bought where it is
 *                        behind do not make it forget the rest; empty = none
 */
public record ActiveConfig(Path runDir, Path pool, Path student, String apiKeyEnv, double budgetUsd, double priceIn,
                           double priceOut, int rounds, double evalFraction, ScoreKind select, double diversity, double uniformShare,
                           int studentSamples, int maxCandidates, int pilot, int probeTokens, long trainSteps, Retrain retrain,
                           LossMode loss, double alpha, double lr, long warmupSteps, int batchTokens, int maxSeqLen,
                           int concurrency, long seed, List<RunShare> replay) {

    /** Where each round's training starts. */
    public enum Retrain {
        /** From the previous round's student: each round adds {@code trainSteps} on all answers bought so far. */
        CONTINUE,
        /** From the initial student every round, {@code trainSteps} on all answers bought so far. */
        SCRATCH;

        public static Retrain parse(String s) {
            return switch (s.strip().toLowerCase(Locale.ROOT)) {
                case "continue" -> CONTINUE;
                case "scratch" -> SCRATCH;
                default -> throw new InvalidInputException("--retrain must be continue or scratch, not '" + s + "'");
            };
        }

        @Override public String toString() { return name().toLowerCase(Locale.ROOT); }
    }

    public ActiveConfig {
        check(!(budgetUsd <= 0) && Double.isFinite(budgetUsd), "--active needs --budget-usd X > 0: the loop spends "
                + "it round by round");
        check(priceIn > 0 || priceOut > 0, "--active needs --price-in and --price-out (USD per 1 M tokens): the "
                + "rounds are sized by what answers cost");
        check(rounds >= 1, "--rounds must be at least 1, got " + rounds);
        check(evalFraction > 0 && evalFraction < 1, "--eval-fraction must be in (0, 1): the loop measures held-out "
                + "agreement on that share of the pool, got " + evalFraction);
        check(diversity >= 1, "--diversity must be at least 1 (1 = the most uncertain prompts, no spreading), got "
                + diversity);
        check(uniformShare >= 0 && uniformShare <= 1, "--uniform-share must be in [0, 1] (the share of a round "
                + "drawn uniformly), got " + uniformShare);
        check(studentSamples >= 0, "--student-samples must be >= 0, got " + studentSamples);
        check(select != ScoreKind.DISAGREEMENT || studentSamples >= 2, "--select disagreement compares several "
                + "sampled student answers: add --student-samples K (K >= 2, e.g. 4)");
        check(pilot >= 3 || (select != ScoreKind.AUTO && select != ScoreKind.GAIN), "--pilot must be at least 3 "
                + "(held-out prompts to rank the scores on or to predict the gain from), got " + pilot);
        check(warmupSteps <= trainSteps, "--warmup-steps " + warmupSteps + " is more than a round's --train-steps "
                + trainSteps + ": lower it");
        check(maxCandidates >= 0, "--candidates must be >= 0 (0 = the whole pool), got " + maxCandidates);
        check(probeTokens >= 1, "--probe-tokens must be at least 1, got " + probeTokens);
        check(trainSteps >= 1, "--train-steps must be at least 1, got " + trainSteps);
        check(concurrency >= 1, "--concurrency must be at least 1");
        replay = replay == null ? List.of() : List.copyOf(replay);
        for (RunShare r : replay) {
            check(!r.dir().toAbsolutePath().normalize().equals(runDir.toAbsolutePath().normalize()), "--replay "
                    + r.dir() + " is this run: name earlier runs, whose answers the rounds should keep training on");
        }
        if (retrain == null) retrain = Retrain.CONTINUE;
        if (loss == null) loss = LossMode.AUTO;
    }

    /**
     * The settings a resumed run must keep: rounds already bought were chosen and trained under them (the budget and
     * the number of rounds may change: raising the budget lets a finished run go on).
     */
    String fingerprint(String poolSha256) {
        String f = String.join(" ", poolSha256, student.toAbsolutePath().normalize().toString(), select.flag(),
                Double.toString(evalFraction), Double.toString(diversity), Integer.toString(studentSamples),
                Integer.toString(maxCandidates), Integer.toString(pilot), Integer.toString(probeTokens), Long.toString(trainSteps),
                retrain.toString(), loss.name(), Double.toString(alpha), Double.toString(lr),
                Long.toString(warmupSteps), Integer.toString(batchTokens), Integer.toString(maxSeqLen),
                Long.toString(seed));
        // settings added later count only when set, so a run made before them still resumes
        if (uniformShare > 0) f += " uniform-share " + uniformShare;
        for (RunShare r : replay) f += " replay " + r.dir().toAbsolutePath().normalize() + ":" + r.weight();
        return f;
    }

    private static void check(boolean ok, String message) {
        if (!ok) throw new InvalidInputException(message);
    }
}
