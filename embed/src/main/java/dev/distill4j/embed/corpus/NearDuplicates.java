package dev.distill4j.embed.corpus;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Near-duplicate detection by MinHash with locality-sensitive hashing (Broder 1997; Leskovec et al., Mining of
 * Massive Datasets §3.4). A sentence is the set of its word bigrams (of {@link Sentences#key}, so case and
 * punctuation do not count; a one-word key is its own shingle). Its signature is the minimum of {@value #HASHES}
 * hash functions over that set: two signatures agree at one position with probability equal to the sets' Jaccard
 * similarity. Signatures are cut into {@value #BANDS} bands of {@value #ROWS} rows; sentences sharing a band are
 * candidates, and a candidate counts as a near duplicate when its signatures agree on at least {@code threshold}
 * of the positions (the Jaccard estimate). With 8 bands of 4, a pair at Jaccard 0.7 becomes a candidate with
 * probability {@code 1 − (1 − 0.7⁴)⁸ ≈ 0.94}, a pair at 0.3 with 0.06.
 *
 * <p>Used as a first-seen filter: {@link #addIfNew} keeps a sentence unless an earlier kept one is near it.
 * Typical catches in manuals: the same sentence about another option, file or package name.
 */
public final class NearDuplicates {
    static final int HASHES = 32, BANDS = 8, ROWS = 4;
    public static final double DEFAULT_THRESHOLD = 0.7;

    private final double threshold;
    private final List<int[]> signatures = new ArrayList<>();
    private final List<Map<Long, List<Integer>>> bands = new ArrayList<>();

    public NearDuplicates(double threshold) {
        if (!(threshold > 0 && threshold <= 1)) throw new IllegalArgumentException("threshold must be in (0, 1]");
        this.threshold = threshold;
        for (int b = 0; b < BANDS; b++) bands.add(new HashMap<>());
    }

    /** Keeps {@code key} (a {@link Sentences#key}) and returns true, unless a kept sentence is a near duplicate. */
    public boolean addIfNew(String key) {
        int[] sig = signature(key);
        if (nearest(sig) >= threshold) return false;
        int id = signatures.size();
        signatures.add(sig);
        for (int b = 0; b < BANDS; b++) bands.get(b).computeIfAbsent(band(sig, b), k -> new ArrayList<>(1)).add(id);
        return true;
    }

    /** Whether a kept sentence is a near duplicate of {@code key}, without keeping it. */
    public boolean contains(String key) { return nearest(signature(key)) >= threshold; }

    public int size() { return signatures.size(); }

    /** The highest estimated Jaccard similarity to a kept candidate (0 without candidates). */
    private double nearest(int[] sig) {
        double best = 0;
        Set<Integer> seen = new HashSet<>();
        for (int b = 0; b < BANDS; b++) {
            List<Integer> hits = bands.get(b).get(band(sig, b));
            if (hits == null) continue;
            for (int id : hits) if (seen.add(id)) best = Math.max(best, agreement(sig, signatures.get(id)));
        }
        return best;
    }

    static double agreement(int[] a, int[] b) {
        int same = 0;
        for (int i = 0; i < HASHES; i++) if (a[i] == b[i]) same++;
        return (double) same / HASHES;
    }

    private static long band(int[] sig, int b) {
        long h = 0x9E3779B97F4A7C15L * (b + 1);
        for (int r = 0; r < ROWS; r++) h = mix(h ^ sig[b * ROWS + r]);
        return h;
    }

    /** MinHash signature of the word bigrams of {@code key}. */
    static int[] signature(String key) {
        String[] w = key.isEmpty() ? new String[] {""} : key.split(" ");
        int[] sig = new int[HASHES];
        java.util.Arrays.fill(sig, Integer.MAX_VALUE);
        int shingles = Math.max(1, w.length - 1);
        for (int i = 0; i < shingles; i++) {
            long base = w.length == 1 ? w[0].hashCode() : ((long) w[i].hashCode() << 32) ^ w[i + 1].hashCode();
            for (int k = 0; k < HASHES; k++) {
                int h = (int) (mix(base + 0x632BE59BD9B4E019L * (k + 1)) >>> 33);
                if (h < sig[k]) sig[k] = h;
            }
        }
        return sig;
    }

    /** SplitMix64's finaliser: a well-mixed 64-bit hash of {@code z}. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
