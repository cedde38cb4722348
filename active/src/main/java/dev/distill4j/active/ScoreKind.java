package dev.distill4j.active;

import dev.distill4j.core.InvalidInputException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * What a round buys by ({@code --select}). The uncertainty scores are defined in {@link Uncertainty}; {@link #UNIFORM}
 * is the baseline active harvesting is
 * measured against: random prompts from the pool, with everything else the same. {@link #AUTO} calibrates every
 * round on held-out answers and uses the best-correlated score, or buys uniformly while none predicts divergence.
 * {@link #GAIN} is not an uncertainty score: it predicts, from the held-out answers, how much of the student's
 * divergence from the teacher a dollar buys at each prompt ({@link ExpectedGain}), and draws in proportion to it.
 */
public enum ScoreKind {
    ENTROPY("entropy"),
    MARGIN("margin"),
    LEAST_CONFIDENCE("least-confidence"),
    DISAGREEMENT("disagreement"),
    GAIN("gain"),
    AUTO("auto"),
    UNIFORM("uniform");

    private final String flag;

    ScoreKind(String flag) { this.flag = flag; }

    public String flag() { return flag; }

    /** The scores a pilot can choose among (disagreement only when the student samples several answers). */
    public static List<ScoreKind> measurable(boolean disagreement) {
        return disagreement ? List.of(ENTROPY, MARGIN, LEAST_CONFIDENCE, DISAGREEMENT)
                : List.of(ENTROPY, MARGIN, LEAST_CONFIDENCE);
    }

    public static ScoreKind parse(String s) {
        String k = s.strip().toLowerCase(Locale.ROOT);
        for (ScoreKind v : values()) if (v.flag.equals(k)) return v;
        throw new InvalidInputException("unknown --select '" + s + "': use one of "
                + String.join(", ", Arrays.stream(values()).map(ScoreKind::flag).toList()));
    }

    @Override public String toString() { return flag; }
}
