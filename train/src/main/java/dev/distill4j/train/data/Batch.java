package dev.distill4j.train.data;

import dev.distill4j.core.Capability;
import java.util.List;

/**
 * A padded batch of {@code size} examples of {@code seqLen} tokens, as flat row-major arrays the trainer turns into
 * NDArrays ({@code [B, T]} and {@code [B, T, k]}). Rows are right-padded: real tokens first, then {@code padId} with
 * attention 0 and label {@link TrainingExample#IGNORE}, so positions 0..len−1 keep their usual position ids.
 *
 * @param index          the batch's index in its epoch
 * @param size           B, examples in the batch
 * @param seqLen         T, the longest example's length
 * @param exampleIndices which examples of the batcher's list, in row order
 * @param capabilities   each row's capability
 * @param inputIds       {@code [B×T]} token ids
 * @param attentionMask  {@code [B×T]} 1 for real tokens, 0 for padding
 * @param labels         {@code [B×T]} the token to score at each position, or IGNORE (prompt, padding)
 * @param kdK            slots per position in the KD arrays (0 when no row has a KD target)
 * @param kdIds          {@code [B×T×kdK]} student ids of the teacher's alternatives (0 in unused slots)
 * @param kdLogprobs     {@code [B×T×kdK]} their teacher logprobs (−∞ in unused slots)
 * @param kdTail         {@code [B×T]} teacher mass outside the alternatives
 * @param kdPresent      {@code [B×T]} whether the position has a KD target
 */
public record Batch(int index, int size, int seqLen, int[] exampleIndices, List<Capability> capabilities,
                    int[] inputIds, int[] attentionMask, int[] labels, int kdK, int[] kdIds, float[] kdLogprobs,
                    float[] kdTail, boolean[] kdPresent) {
    public Batch {
        capabilities = List.copyOf(capabilities);
    }

    /** Real (non-padding) tokens. */
    public int tokens() {
        int n = 0;
        for (int a : attentionMask) n += a;
        return n;
    }

    /** Whether any position carries a KD target. */
    public boolean hasKd() { return kdK > 0; }
}
