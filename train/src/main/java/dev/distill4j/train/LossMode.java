package dev.distill4j.train;

import java.util.Locale;

/** Which loss the trainer applies ({@code --loss}). */
public enum LossMode {
    /** Top-k KD where the run recorded top-k logprobs, SFT elsewhere; full-logit KD when a teacher model is given. */
    AUTO,
    /** Cross-entropy on the teacher's text only (sequence-level KD). */
    SFT,
    /** KL to the teacher's recorded top-k + tail where aligned, cross-entropy elsewhere. */
    TOPK,
    /** Divergence to a local teacher's full distribution, computed during training in chunks. */
    FULL;

    public String flag() { return name().toLowerCase(Locale.ROOT); }
}
