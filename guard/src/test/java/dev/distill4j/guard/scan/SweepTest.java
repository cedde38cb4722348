package dev.distill4j.guard.scan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link Sweep}: the order statistic, its permutation p-value, revisits and TF-IDF vectors, by hand. */
class SweepTest {
    /**
     * Four queries where only consecutive ones are alike (a chain 0–1–2–3, similarity 1, all other pairs 0).
     * Statistic with lags 1..3 weighted 1/lag: observed = 1 + 1 + 1 = 3. All-pairs mean = 3/6 = 0.5; weight of the
     * lags = 3/1 + 2/2 + 1/3 = 13/3, so the shuffled expectation is 13/6 and d = (3 − 13/6) / 3 pairs = 5/18.
     * Of the 24 orders only 0123 and 3210 reach 3 (e.g. 1023: 1 + 0 + 1 + (1 + 0)/2 + 0/3 = 2.5), so p = 2/24.
     */
    @Test
    void chainOfFourHasExactStatisticAndPermutationP() {
        double[][] c = new double[4][4];
        for (int i = 0; i < 3; i++) c[i][i + 1] = c[i + 1][i] = 1;
        Sweep.Result r = Sweep.test(c, new int[] {0, 4}, 200_000, 7);
        assertThat(r.d()).isCloseTo(5.0 / 18, within(1e-12));
        assertThat(r.pairs()).isEqualTo(3);
        // sequential stopping at 10 exceedances: p = 10 / b, an estimate of 1/12 from ~120 permutations
        assertThat(r.p()).isCloseTo(1.0 / 12, within(0.045));
        assertThat(r.permutations()).isLessThan(1000);
    }

    @Test
    void aSweepOfManyStepsReachesTheSmallestPAndARandomOrderDoesNot() {
        int n = 30;
        double[][] sweep = new double[n][n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) if (i != j) sweep[i][j] = Math.exp(-Math.abs(i - j));
        Sweep.Result r = Sweep.test(sweep, new int[] {0, n}, 2000, 1);
        // no permutation reaches the walk: p = 1 / (B + 1)
        assertThat(r.permutations()).isEqualTo(2000);
        assertThat(r.p()).isEqualTo(1.0 / 2001);
        // the same similarities in a scrambled order (a fixed derangement of positions): nothing to see
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) perm[i] = (i * 7) % n; // 7 is coprime with 30
        double[][] shuffled = new double[n][n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) shuffled[i][j] = sweep[perm[i]][perm[j]];
        assertThat(Sweep.test(shuffled, new int[] {0, n}, 2000, 1).p()).isGreaterThan(0.05);
    }

    @Test
    void clusterPairsOnlyConsecutiveQueriesOfTheSameAccount() {
        // two accounts of two queries each: within-account pairs 0–1 and 2–3 only; 1–2 (across accounts) never counts
        double[][] c = {{0, 0.2, 0, 0}, {0.2, 0, 0.9, 0}, {0, 0.9, 0, 0.4}, {0, 0, 0.4, 0}};
        Sweep.Result r = Sweep.test(c, new int[] {0, 2, 4}, 100, 3);
        assertThat(r.pairs()).isEqualTo(2);
        // with one pair per account every order has the same statistic: d = 0 and every permutation ties
        assertThat(r.d()).isCloseTo(0, within(1e-12));
        assertThat(r.p()).isEqualTo(1.0);
        // accounts of one query each (a hydra) have no pair and no value
        assertThat(Sweep.test(new double[3][3], new int[] {0, 1, 2, 3}, 100, 3).p()).isNaN();
    }

    /** idf = ln((1 + N) / (1 + df)); the vector is unit length. */
    @Test
    void tfidfByHand() {
        Map<String, Integer> df = Sweep.documentFrequencies(List.of("explain the archive", "explain the mirror",
                "the kernel", "explain the archive"));
        // distinct texts: 3; "the" in 3, "explain" in 2, "archive" in 1 ("a" would be too short to be a word)
        assertThat(df).containsEntry("the", 3).containsEntry("explain", 2).containsEntry("archive", 1);
        Map<String, Double> v = Sweep.tfidf("Explain the archive, a archive", df, 3);
        double the = Math.log(4.0 / 4), explain = Math.log(4.0 / 3), archive = 2 * Math.log(4.0 / 2);
        double norm = Math.sqrt(the * the + explain * explain + archive * archive);
        assertThat(v.get("explain")).isCloseTo(explain / norm, within(1e-12));
        assertThat(v.get("archive")).isCloseTo(archive / norm, within(1e-12));
        assertThat(v.get("the")).isCloseTo(0, within(1e-12));
        assertThat(v).doesNotContainKey("a");
        assertThat(Sweep.tfidf("the the", df, 3)).isEmpty(); // only words everyone uses: no direction
    }

    @Test
    void revisitsAreLeftOutOfTheOrderTest() {
        float[] e = {1, 0};
        Map<String, Double> a = Map.of("archive", 1.0), b = Map.of("mirror", 1.0), c = Map.of("kernel", 1.0);
        List<Sweep.Item> q = new ArrayList<>();
        // a, a (asked again in other words: same passage words), b, a, c: the repeats of a are dropped
        for (Map<String, Double> w : List.of(a, a, b, a, c)) q.add(new Sweep.Item(e, w));
        Sweep.Result r = Sweep.test(List.of(q), 1000, 100, 1);
        assertThat(r.pairs()).isEqualTo(2); // a, b, c remain
        // only the most recent maxQueries / accounts queries of each account are tested: the last 4 (a, b, a, c)
        // lose the second a, leaving 3 (2 pairs); the last 2 (a, c) leave 1 pair, too few for a test
        assertThat(Sweep.test(List.of(q), 4, 100, 1).pairs()).isEqualTo(2);
        assertThat(Sweep.test(List.of(q), 2, 100, 1).p()).isNaN();
    }
}
