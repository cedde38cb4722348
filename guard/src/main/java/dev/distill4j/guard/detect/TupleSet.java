package dev.distill4j.guard.detect;

/**
 * The "tape" of scored PRF inputs: 64-bit tuple fingerprints in an open-addressing table (no boxing; a million
 * scored tokens take 16 MB). {@link #add} says whether a tuple is new, i.e. may be scored.
 */
public final class TupleSet {
    private static final long EMPTY = 0;
    private long[] table = new long[1 << 10];
    private int size;
    private boolean hasZero;    // the fingerprint 0 marks empty slots, so it is kept aside

    /** Adds {@code tuple}; true when it was not there before. */
    public boolean add(long tuple) {
        if (tuple == EMPTY) {
            if (hasZero) return false;
            hasZero = true;
            size++;
            return true;
        }
        if (2 * (size + 1) > table.length) grow();
        int mask = table.length - 1;
        for (int i = spread(tuple) & mask; ; i = (i + 1) & mask) {
            if (table[i] == tuple) return false;
            if (table[i] == EMPTY) {
                table[i] = tuple;
                size++;
                return true;
            }
        }
    }

    public boolean contains(long tuple) {
        if (tuple == EMPTY) return hasZero;
        int mask = table.length - 1;
        for (int i = spread(tuple) & mask; ; i = (i + 1) & mask) {
            if (table[i] == tuple) return true;
            if (table[i] == EMPTY) return false;
        }
    }

    public int size() { return size; }

    private void grow() {
        long[] old = table;
        table = new long[old.length * 2];
        int mask = table.length - 1;
        for (long t : old) {
            if (t == EMPTY) continue;
            int i = spread(t) & mask;
            while (table[i] != EMPTY) i = (i + 1) & mask;
            table[i] = t;
        }
    }

    private static int spread(long t) { return (int) (t ^ (t >>> 32)); }
}
