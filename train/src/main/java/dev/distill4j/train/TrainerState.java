package dev.distill4j.train;

import dev.distill4j.train.data.TrainingExample;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * What a checkpoint records besides tensors ({@code trainer_state.json}): where training stands and the settings
 * that fix the data order and the learning-rate curve, so a resumed run can refuse to continue with other ones.
 *
 * @param formatVersion   {@link #FORMAT}
 * @param step            optimizer steps completed
 * @param optimizerSteps  AdamW's own step count t (bias correction); below {@code step} when updates were skipped
 * @param epoch           epoch of the next micro-batch
 * @param batchInEpoch    index of the next micro-batch within that epoch (Batcher.iterator's startBatch)
 * @param tokens          real (non-padding) tokens trained on so far
 * @param trainSeconds    seconds spent in training steps so far (for tokens/s)
 * @param elapsedSeconds  wall seconds of training so far, across resumes
 * @param metricsBytes    length of metrics.jsonl when the checkpoint was written
 * @param shaping         settings that shape the data order and the schedule
 * @param rng             random state beyond the seed: none (the data order is a function of seed and epoch, and
 *                        the trainer has no dropout)
 */
public record TrainerState(int formatVersion, long step, long optimizerSteps, int epoch, int batchInEpoch, long tokens, double trainSeconds,
                           double elapsedSeconds, long metricsBytes, Shaping shaping, String rng) {
    public static final int FORMAT = 1;

    /**
     * The settings that decide which examples go into which step, and the learning rate at each step.
     *
     * @param examples      training examples built from the run
     * @param examplesHash  SHA-256 over their sample keys and lengths, so a changed run is noticed
     * @param mixture       the runs mixed and their weights ({@code Mixture.describe}), null for one run
     */
    public record Shaping(long seed, int maxSeqLen, int batchTokens, int gradAccum, int epochs, long maxSteps,
                          long totalSteps, long warmupSteps, double lr, double evalFraction, int examples,
                          String examplesHash, String mixture) {

        /** The shaping of a one-run training. */
        public Shaping(long seed, int maxSeqLen, int batchTokens, int gradAccum, int epochs, long maxSteps,
                       long totalSteps, long warmupSteps, double lr, double evalFraction, int examples,
                       String examplesHash) {
            this(seed, maxSeqLen, batchTokens, gradAccum, epochs, maxSteps, totalSteps, warmupSteps, lr, evalFraction,
                    examples, examplesHash, null);
        }

        /** The shaping of a run with {@code config}, {@code totalSteps} steps, on {@code train}. */
        static Shaping of(TrainConfig config, long totalSteps, List<TrainingExample> train, String mixture) {
            return new Shaping(config.seed(), config.maxSeqLen(), config.batchTokens(), config.gradAccum(),
                    config.epochs(), config.maxSteps(), totalSteps, config.warmupSteps(), config.lr(),
                    config.evalFraction(), train.size(), examplesHash(train), mixture);
        }

        /** SHA-256 over each example's {@code sampleKey NUL length LF}. */
        private static String examplesHash(List<TrainingExample> examples) {
            try {
                MessageDigest digest = MessageDigest.getInstance("SHA-256");
                for (TrainingExample e : examples) {
                    digest.update(e.sampleKey().getBytes(StandardCharsets.UTF_8));
                    digest.update((byte) 0);
                    digest.update(Integer.toString(e.length()).getBytes(StandardCharsets.UTF_8));
                    digest.update((byte) '\n');
                }
                return HexFormat.of().formatHex(digest.digest());
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        /**
         * Why a run with {@code now} cannot continue a checkpoint made with {@code this}, naming the flag; null when
         * it can. The length ({@code --max-steps}, {@code --epochs}) may grow: a resumed run can extend a finished
         * one, with the learning-rate schedule of the new length from the checkpoint on.
         */
        public String mismatch(Shaping now) {
            if (seed != now.seed) return flag("--seed", seed, now.seed);
            if (maxSeqLen != now.maxSeqLen) return flag("--max-seq-len", maxSeqLen, now.maxSeqLen);
            if (batchTokens != now.batchTokens) return flag("--batch-tokens", batchTokens, now.batchTokens);
            if (gradAccum != now.gradAccum) return flag("--grad-accum", gradAccum, now.gradAccum);
            if (now.totalSteps < totalSteps) {
                return "the checkpoint's run was planned for " + totalSteps + " steps (" + length() + ") and this run"
                        + " for " + now.totalSteps + " (" + now.length() + "): a resumed run may be extended (a larger"
                        + " --max-steps or --epochs), not shortened; resume with " + length() + " or more";
            }
            if (warmupSteps != now.warmupSteps) return flag("--warmup-steps", warmupSteps, now.warmupSteps);
            if (Double.compare(lr, now.lr) != 0) return flag("--lr", lr, now.lr);
            if (Double.compare(evalFraction, now.evalFraction) != 0) {
                return flag("--eval-fraction", evalFraction, now.evalFraction);
            }
            if (!java.util.Objects.equals(mixture, now.mixture)) {
                return "the checkpoint was trained on the runs " + (mixture == null ? "(one run)" : mixture)
                        + " and this run asks for " + (now.mixture == null ? "one run" : now.mixture)
                        + ": resume with the same --run folders and weights, or train into a fresh output folder";
            }
            if (examples != now.examples || !examplesHash.equals(now.examplesHash)) {
                return "the run's training examples changed since the checkpoint (" + examples + " then, "
                        + now.examples + " now: samples were added or the student's tokenizer changed); train into a"
                        + " fresh run, or resume without changing the data";
            }
            return null;
        }

        /** The flag that set the run's length, as the user wrote it. */
        String length() { return maxSteps > 0 ? "--max-steps " + maxSteps : "--epochs " + epochs; }

        private static String flag(String flag, Object then, Object now) {
            return "the checkpoint was made with " + flag + " " + then + " but this run has " + flag + " " + now
                    + ": resume with " + flag + " " + then + " (the data order and schedule depend on it), or train"
                    + " from the start without --resume";
        }
    }
}
