package dev.distill4j.guard.audit;

import dev.distill4j.guard.detect.TupleSet;
import dev.distill4j.guard.watermark.Watermark;
import java.util.EnumMap;
import java.util.Map;

/**
 * The running sum of an audit: scores of distinct (window, token) tuples over all texts (the "tape"), and how many
 * positions each {@link Filter} removed.
 */
final class Tally {
    private final Watermark watermark;
    private final TupleSet tape = new TupleSet();
    private final EnumMap<Filter, Long> filtered = new EnumMap<>(Filter.class);
    private long positions;
    private long scored;
    private double total;

    Tally(Watermark watermark) {
        this.watermark = watermark;
        for (Filter f : Filter.values()) filtered.put(f, 0L);
    }

    /** One more candidate position. */
    void position() { positions++; }

    void filtered(Filter f) { filtered.merge(f, 1L, Long::sum); }

    void filtered(Filter f, long n) {
        positions += n;
        filtered.merge(f, n, Long::sum);
    }

    /**
     * Scores {@code token} after {@code history[0, length)} unless its tuple is on the tape.
     *
     * @return true when it was scored
     */
    boolean score(int[] history, int length, int token) {
        if (!tape.add(watermark.tuple(history, length, token))) {
            filtered(Filter.DUPLICATE);
            return false;
        }
        scored++;
        total += watermark.score(history, length, token);
        return true;
    }

    long positions() { return positions; }

    long scored() { return scored; }

    double total() { return total; }

    Map<Filter, Long> filtered() { return Map.copyOf(filtered); }
}
