package dev.distill4j.train.data;

/**
 * How much of the teacher's top-k signal reached the student's tokens, over the TOP_K samples of a build.
 *
 * @param samples            TOP_K samples with a token distribution
 * @param identicalSamples   of those, samples where the teacher's token boundaries and the student's agree over the
 *                           whole reply: a teacher with the student's tokenizer (or one that splits this text alike)
 * @param mismatchedSamples  of those, samples whose chosen tokens' bytes do not spell the reply text (no KD signal
 *                           for the whole sample)
 * @param responsePositions  student positions covering the reply text of those samples
 * @param kdPositions        of those, positions with a KD target
 */
public record AlignmentStats(long samples, long identicalSamples, long mismatchedSamples, long responsePositions, long kdPositions) {
    public static final AlignmentStats NONE = new AlignmentStats(0, 0, 0, 0, 0);

    /** Share of response positions with a KD target (0 when there are none). */
    public double share() {
        return responsePositions == 0 ? 0 : (double) kdPositions / responsePositions;
    }

    public AlignmentStats plus(AlignmentStats o) {
        return new AlignmentStats(samples + o.samples, identicalSamples + o.identicalSamples,
                mismatchedSamples + o.mismatchedSamples,
                responsePositions + o.responsePositions, kdPositions + o.kdPositions);
    }

    @Override public String toString() {
        return String.format(java.util.Locale.ROOT, "%d of %d response positions aligned (%.1f%%) over %d samples"
                + " (%d tokenized alike)%s", kdPositions, responsePositions, 100 * share(), samples, identicalSamples,
                mismatchedSamples == 0 ? "" : ", " + mismatchedSamples + " samples whose tokens do not spell the text");
    }
}
