package dev.distill4j.train.data;

import dev.distill4j.core.Capability;
import java.util.Arrays;
import java.util.Objects;

/**
 * One tokenized training sequence: the student's rendering of a prompt and the teacher's reply.
 *
 * <p>{@code labels[t]} is {@code inputIds[t]} where the loss applies (the reply and its end-of-turn token) and
 * {@link #IGNORE} elsewhere, Hugging Face's convention: the model's logits at {@code t − 1} are scored against
 * {@code labels[t]}, so the trainer shifts by one.
 *
 * @param promptId   the prompt the sample answers (decides the train/eval side)
 * @param sampleKey  the sample's content key
 * @param inputIds   student token ids
 * @param labels     {@code inputIds[t]} or {@link #IGNORE}, same length
 * @param capability what the sample's teacher revealed; picks the loss
 * @param kd         teacher targets aligned to the student's tokens, or null (TEXT and FULL samples, or no
 *                   position could be aligned)
 */
public record TrainingExample(String promptId, String sampleKey, int[] inputIds, int[] labels, Capability capability,
                              KdTargets kd) {
    /** Label value of positions without loss (PyTorch's {@code ignore_index} default). */
    public static final int IGNORE = -100;

    public TrainingExample {
        Objects.requireNonNull(promptId, "promptId");
        Objects.requireNonNull(capability, "capability");
        if (inputIds.length != labels.length) {
            throw new IllegalArgumentException("inputIds and labels differ in length: " + inputIds.length + " vs "
                    + labels.length);
        }
        if (kd != null && kd.start() + kd.length() > inputIds.length) {
            throw new IllegalArgumentException("KD targets run past the sequence end");
        }
    }

    public int length() { return inputIds.length; }

    /** Positions whose label is scored. */
    public int trainedTokens() {
        int n = 0;
        for (int l : labels) if (l != IGNORE) n++;
        return n;
    }

    @Override public boolean equals(Object o) {
        return o instanceof TrainingExample e && e.promptId.equals(promptId) && Objects.equals(e.sampleKey, sampleKey)
                && Arrays.equals(e.inputIds, inputIds) && Arrays.equals(e.labels, labels)
                && e.capability.equals(capability) && Objects.equals(e.kd, kd);
    }

    @Override public int hashCode() {
        return Objects.hash(promptId, sampleKey, Arrays.hashCode(inputIds), Arrays.hashCode(labels), capability, kd);
    }

    @Override public String toString() {
        return "TrainingExample[" + promptId + "/" + sampleKey + ", " + inputIds.length + " tokens, "
                + trainedTokens() + " trained, " + capability + (kd == null ? "" : ", " + kd) + "]";
    }
}
