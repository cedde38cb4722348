package dev.distill4j.guard.scan;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Groups near-duplicate queries into prompt templates: queries that share most of their wording and differ in a
 * few slots ("Explain {topic} step by step", "Translate '{sentence}' into {language}").
 *
 * <p>Each query becomes a token skeleton (lower case, numbers masked as {@code <n>}), then a set of word 2-shingles
 * (with begin/end markers, so a one-word query still has shingles), then a MinHash signature of {@value #HASHES}
 * values. Locality-sensitive hashing in {@value #BANDS} bands of {@value #ROWS} rows puts queries whose estimated
 * Jaccard similarity is high in a common bucket with high probability (for Jaccard s, the chance to share some band
 * is 1 − (1 − s^ROWS)^BANDS: 0.99 at s = 0.6, 0.25 at s = 0.3). A bucket mate is joined to the bucket's first query
 * when their signature agreement (the Jaccard estimate) is at least {@link #SIMILARITY}; checking against the first
 * only keeps a bucket of a million copies linear. Groups of at least {@link #MIN_GROUP} queries are templates.
 */
public final class Templates {
    static final int BANDS = 16;
    static final int ROWS = 4;
    static final int HASHES = BANDS * ROWS;
    /** Estimated Jaccard similarity of shingle sets at which two queries are instances of one template. */
    public static final double SIMILARITY = 0.5;
    /** The smallest group of near-duplicates called a template. */
    public static final int MIN_GROUP = 3;

    private static final Pattern NUMBER = Pattern.compile("\\d+([.,]\\d+)*");
    private static final Pattern WORD = Pattern.compile("[\\p{L}\\p{N}<>']+|[^\\s\\p{L}\\p{N}]");

    private Templates() {}

    /**
     * The template id of each query (-1 when the query is in no template or has no text); ids are 0.. in order of
     * first appearance.
     */
    public static int[] group(List<String> queries) {
        int n = queries.size();
        long[][] sig = new long[n][];
        for (int i = 0; i < n; i++) sig[i] = queries.get(i) == null ? null : signature(queries.get(i));
        UnionFind uf = new UnionFind(n);
        for (int b = 0; b < BANDS; b++) {
            Map<Long, Integer> first = new HashMap<>();
            for (int i = 0; i < n; i++) {
                if (sig[i] == null) continue;
                long key = b;
                for (int r = 0; r < ROWS; r++) key = key * 0x9E3779B97F4A7C15L + sig[i][b * ROWS + r];
                Integer j = first.putIfAbsent(key, i);
                if (j != null && agreement(sig[i], sig[j]) >= SIMILARITY) uf.union(i, j);
            }
        }
        int[] ids = new int[n];
        Map<Integer, Integer> idOfRoot = new HashMap<>();
        for (int i = 0; i < n; i++) {
            if (sig[i] == null || uf.size(i) < MIN_GROUP) {
                ids[i] = -1;
            } else {
                ids[i] = idOfRoot.computeIfAbsent(uf.find(i), k -> idOfRoot.size());
            }
        }
        return ids;
    }

    /** Tokens of the fixed instruction an affix template shares ({@link #affixShare}). */
    public static final int AFFIX_TOKENS = 8;
    /** Slot tokens a query needs beyond the affix to count as an instance of an affix template. */
    static final int AFFIX_SLOT = 3;

    /**
     * The share of {@code queries} that are instances of one of their two most common <em>affix templates</em>: the
     * same first {@value #AFFIX_TOKENS} skeleton tokens, or the same last {@value #AFFIX_TOKENS}, or the same first or
     * last line ({@link #lineAffixes}), with at least {@value #AFFIX_SLOT} more tokens of slot, the affix shared by at
     * least {@value #MIN_GROUP} of the queries.
     *
     * <p>Why beside {@link #group}: MinHash over the whole skeleton finds templates whose slot is short next to the
     * fixed text ("Explain {topic} step by step"), but a distillation prompt set that wraps whole passages or
     * questions in one instruction ("Answer thoroughly, reasoning step by step. Question: {a 25-word question}")
     * shares only a third of its shingles between instances and falls below the Jaccard threshold. People reuse
     * their favourite phrasings too, but spread over several of them and mixed with free questions; a script sends
     * (nearly) all its queries through one or two. Computed per account or cluster, never used for linking, so a
     * phrase many people type ("Can you explain this to me:") does not join their accounts.
     */
    public static double affixShare(List<String> queries) {
        if (queries.isEmpty()) return 0;
        List<Set<String>> keys = new ArrayList<>();
        Map<String, Integer> count = new HashMap<>();
        for (String q : queries) {
            List<String> sk = skeleton(q);
            Set<String> k = new LinkedHashSet<>();
            if (sk.size() >= AFFIX_TOKENS + AFFIX_SLOT) {
                k.add("^ " + String.join(" ", sk.subList(0, AFFIX_TOKENS)));
                k.add(String.join(" ", sk.subList(sk.size() - AFFIX_TOKENS, sk.size())) + " $");
            }
            k.addAll(lineAffixes(q, sk.size()));
            keys.add(k);
            for (String x : k) count.merge(x, 1, Integer::sum);
        }
        // the one or two instructions: the most shared key, then the key that covers the most queries the first does
        // not (a query has up to four keys, and a template's prefix and first line would otherwise take both places)
        boolean[] covered = new boolean[keys.size()];
        int hit = 0;
        for (int round = 0; round < 2; round++) {
            Map<String, Integer> gain = new HashMap<>();
            for (int i = 0; i < keys.size(); i++) {
                if (covered[i]) continue;
                for (String x : keys.get(i)) if (count.get(x) >= MIN_GROUP) gain.merge(x, 1, Integer::sum);
            }
            String best = gain.entrySet().stream().max(Map.Entry.<String, Integer>comparingByValue()
                    .thenComparing(Map.Entry::getKey, Comparator.reverseOrder())).map(Map.Entry::getKey).orElse(null);
            if (best == null) break;
            for (int i = 0; i < keys.size(); i++) {
                if (!covered[i] && keys.get(i).contains(best)) {
                    covered[i] = true;
                    hit++;
                }
            }
        }
        return hit / (double) queries.size();
    }

    /**
     * A multi-line query's first and last lines as affix keys, when the other lines hold at least {@value #AFFIX_SLOT}
     * skeleton tokens: a fixed line is a fixed instruction however short it is ("{passage}\n\nExplain." has no
     * 8-token affix: its last 8 tokens are mostly slot). Since session 13.
     */
    static List<String> lineAffixes(String q) {
        return lineAffixes(q, skeleton(q).size());
    }

    /** As {@link #lineAffixes(String)}, given the query's skeleton length (its caller has the skeleton). */
    private static List<String> lineAffixes(String q, int tokens) {
        List<String> lines = q.lines().map(String::strip).filter(x -> !x.isEmpty()).toList();
        if (lines.size() < 2) return List.of();
        List<String> out = new ArrayList<>(2);
        List<String> first = skeleton(lines.get(0));
        List<String> last = skeleton(lines.get(lines.size() - 1));
        if (!first.isEmpty() && tokens - first.size() >= AFFIX_SLOT) out.add("^line " + String.join(" ", first));
        if (!last.isEmpty() && tokens - last.size() >= AFFIX_SLOT) out.add(String.join(" ", last) + " line$");
        return out;
    }

    /** The skeleton a template is recognised by: lower case, numbers masked, words and punctuation split. */
    public static List<String> skeleton(String text) {
        String t = NUMBER.matcher(text.toLowerCase(Locale.ROOT)).replaceAll("<n>");
        List<String> out = new ArrayList<>();
        var m = WORD.matcher(t);
        while (m.find()) out.add(m.group());
        return out;
    }

    static long[] signature(String text) {
        return minhash(shingles(text));
    }

    /**
     * The hashed word 2-shingles of a query's {@link #skeleton}, with begin/end markers (so a one-word query still
     * has shingles). Only hashes leave this class: indicator files share sets of these, never the words.
     */
    public static Set<Long> shingles(String text) {
        Set<Long> shingles = new LinkedHashSet<>();
        String prev = "^";
        for (String s : skeleton(text)) {
            shingles.add(hash(prev + " " + s));
            prev = s;
        }
        shingles.add(hash(prev + " $"));
        return shingles;
    }

    /** The MinHash signature of a shingle set: per seeded permutation, the smallest permuted value. */
    static long[] minhash(Set<Long> shingles) {
        return minhash(shingles, HASHES);
    }

    /** As {@link #minhash(Set)} with {@code hashes} permutations (a shorter signature is a prefix of a longer). */
    public static long[] minhash(Set<Long> shingles, int hashes) {
        long[] sig = new long[hashes];
        java.util.Arrays.fill(sig, Long.MAX_VALUE);
        for (long s : shingles) {
            for (int h = 0; h < hashes; h++) {
                long v = mix(s + 0x632BE59BD9B4E019L * (h + 1));
                if (v < sig[h]) sig[h] = v;
            }
        }
        return sig;
    }

    /** The share of equal MinHash values: an unbiased estimate of the Jaccard similarity of the shingle sets. */
    public static double agreement(long[] a, long[] b) {
        int same = 0;
        for (int i = 0; i < a.length; i++) if (a[i] == b[i]) same++;
        return same / (double) a.length;
    }

    private static long hash(String s) {
        long h = 0xcbf29ce484222325L; // FNV-1a 64
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return mix(h);
    }

    /** SplitMix64's finaliser: a bijective 64-bit mixer, so each seeded hash is a fresh permutation. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
