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
     * Tests the order of {@code groups}: each inner list one account's queries in time order, as sparse unit vectors
     * (see {@link #tfidf}; nulls skipped). A query whose cosine with an earlier query of the same account reaches
     * {@value #REVISIT} is a revisit — the same passage asked about again, which a person does and a sweep does not —
     * and is left out of the order test. At most {@code maxPermutations} permutations with seed {@code seed}.
     */
    public static Result test(List<List<Item>> groups, int maxPermutations, long seed) {
        List<Item> x = new ArrayList<>();
        int[] start = new int[groups.size() + 1];
        for (int g = 0; g < groups.size(); g++) {
            start[g] = x.size();
            for (Item v : groups.get(g)) {
                if (v == null || v.words().isEmpty() || v.embedding() == null) continue;
                boolean revisit = false;
                for (int j = start[g]; j < x.size() && !revisit; j++) revisit = dot(v.words(), x.get(j).words()) >= REVISIT;
                if (!revisit) x.add(v);
            }
        }
        int total = x.size();
        start[groups.size()] = total;
        double[][] c = new double[total][total];
        for (int i = 0; i < total; i++) {
            for (int j = i + 1; j < total; j++) c[i][j] = c[j][i] = x.get(i).similarity(x.get(j));
        }
        return test(c, start, maxPermutations, seed);
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

    /** The test on a similarity matrix {@code c} whose items are grouped by account: group g is [start[g], start[g+1]). */
    static Result test(double[][] c, int[] start, int maxPermutations, long seed) {
        int total = c.length;
        int pairs = 0;
        for (int g = 0; g + 1 < start.length; g++) pairs += Math.max(0, start[g + 1] - start[g] - 1);
        if (pairs < 2) return Result.NONE;
        // expected adjacent sum under shuffling: each account's (n − 1) adjacent pairs at its all-pairs mean
        double expected = 0;
        for (int g = 0; g + 1 < start.length; g++) {
            int n = start[g + 1] - start[g];
            if (n < 2) continue;
            double s = 0;
            for (int i = start[g]; i < start[g + 1]; i++) for (int j = i + 1; j < start[g + 1]; j++) s += c[i][j];
            double w = 0;
            for (int l = 1; l <= LAGS && l < n; l++) w += (n - l) / (double) l;
            expected += w * s / (n * (n - 1) / 2.0);
        }
        int[] order = new int[total];
        for (int i = 0; i < total; i++) order[i] = i;
        double observed = adjacent(c, order, start);
        SplittableRandom rnd = new SplittableRandom(seed);
        int atLeast = 0, b = 0;
        // a small tolerance so that ties count as "at least"
        double bar = observed - 1e-12;
        while (b < maxPermutations && atLeast < STOP_AFTER) {
            for (int g = 0; g + 1 < start.length; g++) {
                for (int i = start[g + 1] - 1; i > start[g]; i--) {
                    int j = start[g] + rnd.nextInt(i - start[g] + 1);
                    int t = order[i];
                    order[i] = order[j];
                    order[j] = t;
                }
            }
            b++;
            if (adjacent(c, order, start) >= bar) atLeast++;
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
    private static double adjacent(double[][] c, int[] order, int[] start) {
        double s = 0;
        for (int g = 0; g + 1 < start.length; g++) {
            for (int i = start[g]; i + 1 < start[g + 1]; i++) {
                for (int l = 1; l <= LAGS && i + l < start[g + 1]; l++) s += c[order[i]][order[i + l]] / l;
            }
        }
        return s;
    }

    /** Lags the statistic looks at: a sweep's neighbours two or three queries apart are still on the same passage. */
    static final int LAGS = 3;
}
