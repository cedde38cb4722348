package dev.distill4j.core;

import java.util.List;

/**
 * One generated position: the token the teacher chose, its top alternatives (which usually include the chosen one,
 * as OpenAI reports them) and the probability mass outside the alternatives,
 * {@code tail = max(0, 1 − Σ exp(alternative.logprob))}.
 */
public record TokenPosition(TokenLogprob chosen, List<TokenLogprob> alternatives, float tail) {
    public TokenPosition {
        alternatives = alternatives == null ? List.of() : List.copyOf(alternatives);
    }

    /** Builds a position and computes its tail mass from the alternatives. */
    public static TokenPosition of(TokenLogprob chosen, List<TokenLogprob> alternatives) {
        double mass = 0;
        for (TokenLogprob a : alternatives) mass += Math.exp(a.logprob());
        return new TokenPosition(chosen, alternatives, (float) Math.max(0.0, 1.0 - mass));
    }
}
