package dev.distill4j.guard.scan;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Topic-sweep test: does an account ask its questions <em>in an order</em> that walks through its material, each
 * query close to the one before and drifting away from earlier ones, as a harvester iterating over the passages of a
 * corpus does — however it words the instruction around them?
 *
 * <p>Statistic: with the account's queries q<sub>1..m</sub> in time order and a similarity sim (the mean of the
 * embedding cosine and the TF-IDF cosine of the queries' content sentences, see {@link Item}),
 * <pre>
 *   S = Σ_i Σ_{l=1..3} sim(q_i, q_{i+l}) / l          (nearby queries, nearer ones weighing more)
 *   d = (S − E[S]) / (m − 1)                          E[S] under shuffling: each lag's pairs at the all-pairs mean
 * </pre>
 * {@code d} is how much more alike nearby queries are than any two of the account's queries. It ignores what the
 * account asks about (a user focused on one manual and a sweep over it both have a high mean similarity) and how it
 * words the requests (a paraphrased instruction adds the same noise to near and distant pairs); only the order
 * matters. Null hypothesis: the order is exchangeable — a person coming back to their few subjects in any order.
 * The p-value is exact by permutation: {@code p = (1 + #{permuted S ≥ observed S}) / (1 + B)}. Permutations stop
 * early (Besag and Clifford's sequential Monte Carlo p-value, {@code p = h / b}) once {@value #STOP_AFTER} permuted
 * values reach the observed one, so an ordinary account costs a few dozen permutations and only a sweep runs all of
 * them. Revisits (a query on the same passage as an earlier one of the account) are left out first: people re-ask in
 * other words right away, a sweep does not, and kept in they made benign users' p-values far from uniform.
 *
 * <p>For a cluster of accounts the adjacent pairs are consecutive queries <em>of the same account</em> and the
 * permutations shuffle each account's order separately: users behind one NAT take turns, and the time-ordered merge of
 * their queries is not a sweep. A cluster whose accounts send one query each (a hydra) has no adjacent pair and no
 * value; its template and network links carry it.
 *
 * <p>What it cannot tell apart: a person reading a manual from start to end and asking about each paragraph in turn
 * is a sweep too. It is a coverage feature: it flags nothing on its own (docs/guard.md, "Flagging and ranking").
 */
public final class Sweep {
    /** Permuted values at or above the observed one after which the p-value is settled (sequential stopping). */
    static final int STOP_AFTER = 10;

    /** The test's result: the excess similarity {@code d} of nearby queries, its p-value, adjacent pairs, permutations run. */
    public record Result(double d, double p, int pairs, int permutations) {
        static final Result NONE = new Result(Double.NaN, Double.NaN, 0, 0);
    }

    private Sweep() {}

    /** Cosine at or above which two queries of one account ask about the same content (a revisit, not a step). */
    static final double REVISIT = 0.8;

    /**
     * Tests the order of {@code groups}: each inner list one account's queries in time order (nulls and queries
     * without words or embedding skipped). Each account contributes its most recent max(2, {@code maxQueries} /
     * accounts) queries, so memory and time stay bounded (a similarity matrix per account) however long the log. A
     * query whose content has word-vector cosine ≥ {@value #REVISIT} with an earlier query of the same account is a
     * revisit — the same passage asked about again, which a person does and a sweep does not — and is left out. At
     * most {@code maxPermutations} permutations with seed {@code seed}.
     */
    public static Result test(List<List<Item>> groups, int maxQueries, int maxPermutations, long seed) {
        int per = Math.max(2, maxQueries / Math.max(1, groups.size()));
        double[][][] blocks = new double[groups.size()][][];
        for (int g = 0; g < groups.size(); g++) {
            List<Item> all = groups.get(g).stream()
                    .filter(v -> v != null && v.embedding() != null && !v.words().isEmpty()).toList();
            List<Item> x = new ArrayList<>();
            for (Item v : all.subList(Math.max(0, all.size() - per), all.size())) {
                boolean revisit = false;
                for (int j = 0; j < x.size() && !revisit; j++) revisit = dot(v.words(), x.get(j).words()) >= REVISIT;
                if (!revisit) x.add(v);
            }
            double[][] c = new double[x.size()][x.size()];
            for (int i = 0; i < x.size(); i++) {
                for (int j = i + 1; j < x.size(); j++) c[i][j] = c[j][i] = x.get(i).similarity(x.get(j));
            }
            blocks[g] = c;
        }
        return test(blocks, maxPermutations, seed);
    }

    /**
     * A query for the test: its embedding (unit) and its TF-IDF word vector ({@link #tfidf}). Two queries' similarity
     * is the mean of the two cosines: the embedding sees the subject when the words differ, the word vector sees the
     * passage's rare terms through an instruction reworded around them (which moves the embedding).
     */
    public record Item(float[] embedding, Map<String, Double> words) {
        double similarity(Item o) {
            double e = 0;
            for (int d = 0; d < embedding.length; d++) e += embedding[d] * o.embedding[d];
            return (e + dot(words, o.words)) / 2;
        }
    }

    /** The test on one similarity matrix whose items are grouped by account: group g is [start[g], start[g+1]). */
    static Result test(double[][] c, int[] start, int maxPermutations, long seed) {
        double[][][] blocks = new double[start.length - 1][][];
        for (int g = 0; g + 1 < start.length; g++) {
            int n = start[g + 1] - start[g];
            blocks[g] = new double[n][n];
            for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) blocks[g][i][j] = c[start[g] + i][start[g] + j];
        }
        return test(blocks, maxPermutations, seed);
    }

    /** The test on one similarity matrix per account (pairs across accounts never count). */
    static Result test(double[][][] blocks, int maxPermutations, long seed) {
        int pairs = 0;
        for (double[][] b : blocks) pairs += Math.max(0, b.length - 1);
        if (pairs < 2) return Result.NONE;
        // expected statistic under shuffling: each lag's pairs of an account at that account's all-pairs mean
        double expected = 0;
        int[][] order = new int[blocks.length][];
        for (int g = 0; g < blocks.length; g++) {
            int n = blocks[g].length;
            order[g] = new int[n];
            for (int i = 0; i < n; i++) order[g][i] = i;
            if (n < 2) continue;
            double s = 0;
            for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) s += blocks[g][i][j];
            double w = 0;
            for (int l = 1; l <= LAGS && l < n; l++) w += (n - l) / (double) l;
            expected += w * s / (n * (n - 1) / 2.0);
        }
        double observed = nearby(blocks, order);
        SplittableRandom rnd = new SplittableRandom(seed);
        int atLeast = 0, b = 0;
        // a small tolerance so that ties count as "at least"
        double bar = observed - 1e-12;
        while (b < maxPermutations && atLeast < STOP_AFTER) {
            for (int[] o : order) {
                for (int i = o.length - 1; i > 0; i--) {
                    int j = rnd.nextInt(i + 1);
                    int t = o[i];
                    o[i] = o[j];
                    o[j] = t;
                }
            }
            b++;
            if (nearby(blocks, order) >= bar) atLeast++;
        }
        // Besag–Clifford: stopped early at h exceedances after b permutations gives p = h / b
        double p = atLeast >= STOP_AFTER ? atLeast / (double) b : (1 + atLeast) / (1.0 + b);
        return new Result((observed - expected) / pairs, p, pairs, b);
    }

    /** Words of a query for {@link #tfidf}: lower-case letter/digit runs of two or more characters. */
    static List<String> words(String text) {
        List<String> out = new ArrayList<>();
        Matcher m = WORD.matcher(text.toLowerCase(Locale.ROOT));
        while (m.find()) if (m.end() - m.start() >= 2) out.add(m.group());
        return out;
    }

    private static final Pattern WORD = Pattern.compile("[\\p{L}\\p{N}]+");

    /**
     * Document frequencies of {@code texts}' words (each distinct text counted once), for {@link #tfidf}; nulls
     * skipped.
     */
    public static Map<String, Integer> documentFrequencies(List<String> texts) {
        Map<String, Integer> df = new HashMap<>();
        for (String t : new java.util.LinkedHashSet<>(texts)) {
            if (t == null) continue;
            for (String w : new java.util.HashSet<>(words(t))) df.merge(w, 1, Integer::sum);
        }
        return df;
    }

    /**
     * A query as a unit TF-IDF vector: term count × idf, idf = ln((1 + N) / (1 + df)) with {@code df} over {@code n}
     * texts. Words every query uses — and the instructions many people type ("explain", "step", "please") — weigh
     * little; the rare words of the passage asked about carry the similarity, so a reworded instruction around
     * consecutive passages still shows their overlap.
     */
    public static Map<String, Double> tfidf(String text, Map<String, Integer> df, int n) {
        Map<String, Double> v = new HashMap<>();
        for (String w : words(text)) v.merge(w, Math.log((1.0 + n) / (1.0 + df.getOrDefault(w, 0))), Double::sum);
        double norm = 0;
        for (double x : v.values()) norm += x * x;
        if (norm <= 0) return Map.of();
        double inv = 1 / Math.sqrt(norm);
        v.replaceAll((k, x) -> x * inv);
        return v;
    }

    static double dot(Map<String, Double> a, Map<String, Double> b) {
        if (a.size() > b.size()) return dot(b, a);
        double s = 0;
        for (var e : a.entrySet()) {
            Double y = b.get(e.getKey());
            if (y != null) s += e.getValue() * y;
        }
        return s;
    }

    /** Lag-weighted similarity of nearby queries: sum over lags 1..{@value #LAGS} of (1/lag)·similarity. */
    private static double nearby(double[][][] blocks, int[][] order) {
        double s = 0;
        for (int g = 0; g < blocks.length; g++) {
            double[][] c = blocks[g];
            int[] o = order[g];
            for (int i = 0; i + 1 < o.length; i++) {
                for (int l = 1; l <= LAGS && i + l < o.length; l++) s += c[o[i]][o[i + l]] / l;
            }
        }
        return s;
    }

    /** Lags the statistic looks at: a sweep's neighbours two or three queries apart are still on the same passage. */
    static final int LAGS = 3;
}
