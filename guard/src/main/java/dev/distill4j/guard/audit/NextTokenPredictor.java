package dev.distill4j.guard.audit;

import java.util.List;

/**
 * A suspect model read in teacher-forcing mode: for each given sequence, its most likely next token after every
 * prefix. The open audit scores these predictions; a local model folder ({@link LocalSuspect}) is the real one.
 */
@FunctionalInterface
public interface NextTokenPredictor {
    /**
     * @param sequences token ids, each at most {@link #maxLength()} long
     * @param progress  told the number of sequences finished so far (may be called from the calling thread only)
     * @return for sequence i, {@code out[i][t]} = argmax_v p(v | sequence[0..t]) for t in [0, length)
     */
    int[][] predict(List<int[]> sequences, Progress progress);

    /** The longest sequence the suspect can read (its context); longer ones are cut by the caller. */
    default int maxLength() { return Integer.MAX_VALUE; }

    @FunctionalInterface
    interface Progress {
        void done(int sequences);

        Progress NONE = n -> {};
    }
}
