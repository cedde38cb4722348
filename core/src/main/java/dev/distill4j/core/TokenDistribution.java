package dev.distill4j.core;

import java.util.List;

/** The teacher's per-token output for one sample, in generation order. Empty for {@code TEXT} teachers. */
public record TokenDistribution(List<TokenPosition> positions) {
    public static final TokenDistribution EMPTY = new TokenDistribution(List.of());

    public TokenDistribution {
        positions = positions == null ? List.of() : List.copyOf(positions);
    }

    public int size() { return positions.size(); }

    public boolean isEmpty() { return positions.isEmpty(); }

    /** The largest number of alternatives at any position: the k this sample actually got. */
    public int maxAlternatives() {
        int k = 0;
        for (TokenPosition p : positions) k = Math.max(k, p.alternatives().size());
        return k;
    }
}
