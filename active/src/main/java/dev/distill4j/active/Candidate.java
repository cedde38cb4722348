package dev.distill4j.active;

/**
 * One pool prompt as the current student sees it: its uncertainty scores and an embedding (the student's last hidden
 * state averaged over the prompt's tokens) for the diversity step. {@code disagreement} is NaN when the student
 * sampled no second answer.
 */
public record Candidate(String promptId, double entropy, double margin, double leastConfidence, double disagreement,
                        float[] embedding) {
    /** The score {@code kind} names; uniform and auto have none of their own. */
    public double score(ScoreKind kind) {
        return switch (kind) {
            case ENTROPY -> entropy;
            case MARGIN -> margin;
            case LEAST_CONFIDENCE -> leastConfidence;
            case DISAGREEMENT -> disagreement;
            case AUTO, UNIFORM -> throw new IllegalArgumentException(kind + " is not a score");
        };
    }
}
