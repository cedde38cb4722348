package dev.distill4j.active;

/**
 * One pool prompt as the current student sees it: its uncertainty scores, its expected gain, and an embedding (the
 * student's last hidden state averaged over the prompt's tokens) for the diversity step and the gain's neighbours.
 * {@code disagreement} is NaN when the student sampled no second answer; {@code gain} is NaN unless the round
 * selects by {@link ScoreKind#GAIN}, and the uncertainty scores are NaN when it does (no answer is generated then).
 */
public record Candidate(String promptId, double entropy, double margin, double leastConfidence, double disagreement,
                        double gain, float[] embedding) {

    /** A candidate scored by uncertainty, without a gain. */
    public Candidate(String promptId, double entropy, double margin, double leastConfidence, double disagreement,
                     float[] embedding) {
        this(promptId, entropy, margin, leastConfidence, disagreement, Double.NaN, embedding);
    }

    /** A candidate scored by expected gain alone. */
    public static Candidate withGain(String promptId, double gain, float[] embedding) {
        return new Candidate(promptId, Double.NaN, Double.NaN, Double.NaN, Double.NaN, gain, embedding);
    }

    /** The score {@code kind} names; uniform and auto have none of their own. */
    public double score(ScoreKind kind) {
        return switch (kind) {
            case ENTROPY -> entropy;
            case MARGIN -> margin;
            case LEAST_CONFIDENCE -> leastConfidence;
            case DISAGREEMENT -> disagreement;
            case GAIN -> gain;
            case AUTO, UNIFORM -> throw new IllegalArgumentException(kind + " is not a score");
        };
    }
}
