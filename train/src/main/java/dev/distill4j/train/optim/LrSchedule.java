package dev.distill4j.train.optim;

/**
 * Linear warmup then cosine decay to a floor, as Hugging Face's {@code get_cosine_with_min_lr_schedule_with_warmup}
 * (with {@code min_lr = 0} it is {@code get_cosine_schedule_with_warmup}). A pure function of the step, so a
 * resumed run needs only the step number.
 *
 * <pre>
 *   lr(s) = peak · s / W                                        s &lt; W
 *   lr(s) = min + (peak − min) · ½ (1 + cos(π · p)),            p = min(1, (s − W) / (S − W))
 * </pre>
 *
 * with W warmup steps and S total steps. {@code s} counts optimizer steps already taken, as HF's LambdaLR does:
 * the first update uses lr(0), which is 0 when there is warmup. Past S the rate stays at {@code min} (HF's curve
 * would rise again).
 *
 * @param peakLr      the rate reached at the end of warmup
 * @param minLr       the floor the cosine decays to, 0 ≤ minLr ≤ peakLr
 * @param warmupSteps W ≥ 0
 * @param totalSteps  S ≥ W
 */
public record LrSchedule(double peakLr, double minLr, long warmupSteps, long totalSteps) {

    public LrSchedule {
        if (!(peakLr > 0)) throw new IllegalArgumentException("learning rate must be > 0, got " + peakLr);
        if (!(minLr >= 0 && minLr <= peakLr)) {
            throw new IllegalArgumentException("min learning rate must be in [0, " + peakLr + "], got " + minLr);
        }
        if (warmupSteps < 0 || totalSteps < warmupSteps) {
            throw new IllegalArgumentException("need 0 <= warmup steps <= total steps, got warmup " + warmupSteps
                    + " and total " + totalSteps);
        }
    }

    /** The learning rate for the update that follows {@code step} completed optimizer steps. */
    public double at(long step) {
        if (step < warmupSteps) {
            return peakLr * step / Math.max(1, warmupSteps);
        }
        double progress = Math.min(1.0, (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
        double cosine = 0.5 * (1.0 + Math.cos(Math.PI * progress));
        return minLr + (peakLr - minLr) * cosine;
    }
}
