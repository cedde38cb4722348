package dev.distill4j.active;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Picks the prompts one round buys: the most uncertain, spread out so a round does not pay for near-duplicates.
 *
 * <p>Uncertainty first, diversity second: the candidates are ranked by the round's score (highest first, ties by
 * prompt id so a selection is reproducible), the best ⌈f · n⌉ form a shortlist ({@code f} = {@code --diversity}),
 * and n are picked from it by greedy k-center on the student's prompt embeddings (Sener &amp; Savarese, "Active
 * Learning for Convolutional Neural Networks: A Core-Set Approach", 2018): the most uncertain prompt first, then
 * each time the shortlisted prompt farthest (cosine distance) from every prompt picked so far, ties to the more
 * uncertain one. f = 1 is pure top-n; a larger f trades uncertainty for coverage.
 *
 * <p>{@link ScoreKind#UNIFORM} ignores the scores: n prompts drawn uniformly with the given random generator.
 * {@link ScoreKind#GAIN} draws n without replacement with probabilities in proportion to each prompt's expected gain
 * (Efraimidis &amp; Spirakis, "Weighted random sampling with a reservoir", 2006: each prompt gets the key
 * u^(1/gain), u uniform in (0, 1), and the n largest keys win), so a round buys most where most is to be learnt and
 * still some of every region whose gain is not 0; the top-n of a gain estimate would spend a whole round on one kind
 * of prompt, which a uniform draw beats. Prompts of gain 0 come last, in random order.
 */
public final class Selection {
    private Selection() {}

    public static List<Candidate> select(List<Candidate> candidates, ScoreKind kind, int n, double diversity,
                                         Random random) {
        return select(candidates, kind, n, diversity, 0, random);
    }

    /**
     * As {@link #select(List, ScoreKind, int, double, Random)}, with a share ε of the n drawn uniformly first and the
     * rest chosen by {@code kind} among the candidates left (ε-greedy: a student that already knows part of the pool
     * keeps being shown some of it, which a round bought only where it is behind would let it forget).
     */
    public static List<Candidate> select(List<Candidate> candidates, ScoreKind kind, int n, double diversity,
                                         double uniformShare, Random random) {
        if (n <= 0 || candidates.isEmpty()) return List.of();
        int u = kind == ScoreKind.UNIFORM ? 0 : (int) Math.round(uniformShare * n);
        if (u > 0) {
            List<Candidate> uniform = select(candidates, ScoreKind.UNIFORM, u, 1, 0, random);
            Set<String> taken = new HashSet<>();
            for (Candidate c : uniform) taken.add(c.promptId());
            List<Candidate> out = new ArrayList<>(uniform);
            out.addAll(select(candidates.stream().filter(c -> !taken.contains(c.promptId())).toList(), kind,
                    n - uniform.size(), diversity, 0, random));
            return List.copyOf(out);
        }
        List<Candidate> sorted = new ArrayList<>(candidates);
        sorted.sort(Comparator.comparing(Candidate::promptId));
        if (kind == ScoreKind.UNIFORM) {
            java.util.Collections.shuffle(sorted, random);
            return List.copyOf(sorted.subList(0, Math.min(n, sorted.size())));
        }
        if (kind == ScoreKind.GAIN) return proportional(sorted, n, random);
        // stable sort: equal scores keep the id order
        sorted.sort(Comparator.comparingDouble((Candidate c) -> {
            double s = c.score(kind);
            return Double.isNaN(s) ? Double.NEGATIVE_INFINITY : s;
        }).reversed());
        int shortlist = (int) Math.min(sorted.size(), Math.ceil(Math.max(1.0, diversity) * n));
        if (shortlist <= n) return List.copyOf(sorted.subList(0, Math.min(n, sorted.size())));
        return kCenter(sorted.subList(0, shortlist), n);
    }

    /** n of {@code candidates} drawn with probabilities in proportion to their gain, without replacement. */
    static List<Candidate> proportional(List<Candidate> candidates, int n, Random random) {
        record Keyed(Candidate candidate, double key) {}
        List<Keyed> positive = new ArrayList<>();
        List<Candidate> rest = new ArrayList<>();
        for (Candidate c : candidates) {
            double u = 1 - random.nextDouble();   // in (0, 1]
            // log(u^(1/w)) = log(u) / w orders the keys as u^(1/w) does, without underflow
            if (c.gain() > 0) positive.add(new Keyed(c, Math.log(u) / c.gain()));
            else rest.add(c);
        }
        positive.sort(Comparator.comparingDouble(Keyed::key).reversed());
        java.util.Collections.shuffle(rest, random);
        List<Candidate> out = new ArrayList<>(positive.stream().map(Keyed::candidate).toList());
        out.addAll(rest);
        return List.copyOf(out.subList(0, Math.min(n, out.size())));
    }

    /** Greedy k-center over {@code ranked} (most uncertain first), seeded with the first. */
    static List<Candidate> kCenter(List<Candidate> ranked, int n) {
        int m = ranked.size();
        float[][] unit = new float[m][];
        for (int i = 0; i < m; i++) unit[i] = normalized(ranked.get(i).embedding());
        double[] nearest = new double[m];
        java.util.Arrays.fill(nearest, Double.POSITIVE_INFINITY);
        boolean[] taken = new boolean[m];
        List<Candidate> out = new ArrayList<>(n);
        int next = 0;
        while (out.size() < n) {
            taken[next] = true;
            out.add(ranked.get(next));
            int best = -1;
            for (int i = 0; i < m; i++) {
                if (taken[i]) continue;
                nearest[i] = Math.min(nearest[i], 1 - dot(unit[i], unit[next]));
                // strictly farther wins; on a tie the earlier (more uncertain) one stays
                if (best < 0 || nearest[i] > nearest[best]) best = i;
            }
            if (best < 0) break;
            next = best;
        }
        return out;
    }

    /** {@code v} at unit length; a zero vector stays zero (its cosine with anything counts as 0). */
    static float[] normalized(float[] v) {
        double n = 0;
        for (float x : v) n += (double) x * x;
        n = Math.sqrt(n);
        float[] out = new float[v.length];
        if (n == 0) return out;
        for (int i = 0; i < v.length; i++) out[i] = (float) (v[i] / n);
        return out;
    }

    static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (double) a[i] * b[i];
        return s;
    }
}
