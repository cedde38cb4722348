package dev.distill4j.train;

import java.nio.file.Path;

/**
 * The outcome of {@link Trainer#run}.
 *
 * @param steps             optimizer steps completed (including those before a resume)
 * @param resumedFromStep   the checkpoint's step when resumed, else 0
 * @param tokens            real tokens trained on
 * @param tokensPerSecond   tokens over the seconds spent in training steps
 * @param elapsedSeconds    wall seconds of training, across resumes
 * @param finalLoss         training loss of the last step
 * @param evalLoss          held-out loss at the end (NaN with no held-out prompts)
 * @param evalAgreement     held-out teacher top-1 agreement at the end (NaN with no held-out prompts)
 * @param evalKl            held-out KL to the teacher (NaN where there is no teacher distribution)
 * @param kdShare           share of trained positions with a teacher distribution, last step
 * @param loss              the loss that was applied (auto resolved)
 * @param student           where the final student was saved
 */
public record TrainSummary(long steps, long resumedFromStep, long tokens, double tokensPerSecond,
                           double elapsedSeconds, double finalLoss, double evalLoss, double evalAgreement,
                           double evalKl, double kdShare, LossMode loss, Path student) {}
