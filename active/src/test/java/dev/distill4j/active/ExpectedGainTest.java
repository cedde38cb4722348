package dev.distill4j.active;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.distill4j.core.TokenDistribution;
import dev.distill4j.core.TokenLogprob;
import dev.distill4j.core.TokenPosition;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The expected gain and its proportional draw, on hand-set values. */
class ExpectedGainTest {
    private static TokenPosition chosen(double logprob) {
        return TokenPosition.of(TokenLogprob.of("t", logprob), List.of(TokenLogprob.of("t", logprob)));
    }

    private static ExpectedGain.Reference ref(String id, double excess, double cost, float... e) {
        return new ExpectedGain.Reference(id, e, excess, cost);
    }

    @Test
    void excessIsTheStudentsSurpriseLessTheTeachers() {
        // the teacher was 0.5 and 1.0 nats surprised by its own two tokens: 1.5 nats; the student 5 nats
        TokenDistribution teacher = new TokenDistribution(List.of(chosen(-0.5), chosen(-1.0)));
        assertThat(ExpectedGain.excess(5.0, teacher)).isCloseTo(3.5, within(1e-6));
        // a student less surprised than the teacher has nothing to learn there: floored at 0
        assertThat(ExpectedGain.excess(1.0, teacher)).isZero();
        // no per-token log-probabilities: the teacher counts as certain, the student's surprise is the excess
        assertThat(ExpectedGain.excess(2.25, TokenDistribution.EMPTY)).isEqualTo(2.25);
        assertThat(ref("a", 3, 0.5).value()).isEqualTo(6.0);
        assertThat(ref("a", 3, 0).value()).isZero();
    }

    @Test
    void gainIsTheMeanValueOfTheTenNearestReferences() {
        // six references along x (value 20 / 2 = 10 nats per USD) and six along y (value 2 / 1 = 2)
        List<ExpectedGain.Reference> refs = new ArrayList<>();
        for (int i = 0; i < 6; i++) refs.add(ref("x" + i, 20, 2, 1, 0.01f * i));
        for (int i = 0; i < 6; i++) refs.add(ref("y" + i, 2, 1, 0.01f * i, 1));
        // a prompt along x: its 10 nearest are the six x and four y: (6·10 + 4·2) / 10 = 6.8; length does not matter
        assertThat(ExpectedGain.predict(new float[] {3, 0}, refs)).isCloseTo(6.8, within(1e-12));
        assertThat(ExpectedGain.predict(new float[] {0, 0.5f}, refs)).isCloseTo((6 * 2 + 4 * 10) / 10.0, within(1e-12));
        // fewer references than neighbours: the mean of all of them
        assertThat(ExpectedGain.predict(new float[] {1, 0}, refs.subList(0, 3))).isCloseTo(10, within(1e-12));
        assertThatThrownBy(() -> ExpectedGain.predict(new float[] {1, 0}, List.of()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void leaveOneOutTellsWhetherTheEmbeddingPredictsTheValue() {
        Random random = new Random(3);
        List<ExpectedGain.Reference> clustered = new ArrayList<>();
        List<ExpectedGain.Reference> unrelated = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            boolean x = i % 2 == 0;
            float[] e = x ? new float[] {1, random.nextFloat() * 0.1f} : new float[] {random.nextFloat() * 0.1f, 1};
            // clustered: the x side is worth ten times the y side; unrelated: values at random
            clustered.add(ref("c" + i, (x ? 10 : 1) + random.nextDouble(), 1, e));
            unrelated.add(ref("u" + i, random.nextDouble(), 1, e));
        }
        // two equal groups, values spread within each: a perfect two-level predictor reaches ρ = √3/2 ≈ 0.87 at most
        assertThat(ExpectedGain.leaveOneOutSpearman(clustered)).isGreaterThan(0.6);
        assertThat(Math.abs(ExpectedGain.leaveOneOutSpearman(unrelated))).isLessThan(0.35);
        assertThat(ExpectedGain.leaveOneOutSpearman(clustered.subList(0, ExpectedGain.NEIGHBOURS + 1))).isNaN();
    }

    @Test
    void aGainDrawBuysInProportionToTheGain() {
        // one prompt of gain 1 and one of gain 3: drawn alone, the second wins 3 times in 4
        List<Candidate> two = List.of(Candidate.withGain("a", 1, new float[0]), Candidate.withGain("b", 3, new float[0]));
        Random random = new Random(5);
        int trials = 40_000, b = 0;
        for (int t = 0; t < trials; t++) {
            if (Selection.select(two, ScoreKind.GAIN, 1, 1, random).getFirst().promptId().equals("b")) b++;
        }
        // binomial(40,000, 0.75) has a standard deviation of 0.0022: 0.015 is nearly 7 of them
        assertThat((double) b / trials).isCloseTo(0.75, within(0.015));

        // without replacement: drawing 2 of {1, 1, 2}, the prompt of gain 2 is in the pair with probability
        // 1/2 + 2 · (1/4 · 2/3) = 5/6
        List<Candidate> three = List.of(Candidate.withGain("p", 1, new float[0]),
                Candidate.withGain("q", 1, new float[0]), Candidate.withGain("r", 2, new float[0]));
        Map<String, Integer> in = new HashMap<>();
        for (int t = 0; t < trials; t++) {
            for (Candidate c : Selection.select(three, ScoreKind.GAIN, 2, 1, random)) in.merge(c.promptId(), 1, Integer::sum);
        }
        assertThat(in.get("r") / (double) trials).isCloseTo(5.0 / 6, within(0.015));
        assertThat(in.get("p") / (double) trials).isCloseTo(7.0 / 12, within(0.015));
    }

    @Test
    void promptsWithoutGainComeLastAndTheDrawIsReproducible() {
        List<Candidate> pool = List.of(Candidate.withGain("z", 0, new float[0]), Candidate.withGain("y", 0.2, new float[0]),
                Candidate.withGain("x", Double.NaN, new float[0]), Candidate.withGain("w", 5, new float[0]));
        for (int seed = 0; seed < 50; seed++) {
            assertThat(Selection.select(pool, ScoreKind.GAIN, 2, 1, new Random(seed))).extracting(Candidate::promptId)
                    .containsExactlyInAnyOrder("w", "y");
        }
        // the same seed draws the same prompts whatever order the pool comes in
        assertThat(Selection.select(pool, ScoreKind.GAIN, 3, 1, new Random(9))).extracting(Candidate::promptId)
                .containsExactlyElementsOf(Selection.select(pool.reversed(), ScoreKind.GAIN, 3, 1, new Random(9))
                        .stream().map(Candidate::promptId).toList());
        assertThat(Selection.select(pool, ScoreKind.GAIN, 9, 1, new Random(1))).hasSize(4);
    }

    @Test
    void aUniformShareOfTheRoundIsDrawnFirst() {
        // four prompts with gain and four without: a gain draw of 4 never reaches the gainless ones, a round with half
        // of it drawn uniformly does, and neither buys a prompt twice
        List<Candidate> pool = new ArrayList<>();
        for (int i = 0; i < 4; i++) pool.add(Candidate.withGain("g" + i, 1 + i, new float[0]));
        for (int i = 0; i < 4; i++) pool.add(Candidate.withGain("z" + i, 0, new float[0]));
        int reachedGainless = 0;
        for (int seed = 0; seed < 200; seed++) {
            List<Candidate> pure = Selection.select(pool, ScoreKind.GAIN, 4, 1, 0, new Random(seed));
            assertThat(pure).extracting(Candidate::promptId).containsExactlyInAnyOrder("g0", "g1", "g2", "g3");
            List<Candidate> mixed = Selection.select(pool, ScoreKind.GAIN, 4, 1, 0.5, new Random(seed));
            assertThat(mixed).hasSize(4).extracting(Candidate::promptId).doesNotHaveDuplicates();
            if (mixed.stream().anyMatch(c -> c.promptId().startsWith("z"))) reachedGainless++;
        }
        // two uniform picks of eight miss all four gainless prompts with probability (4/8)(3/7) = 3/14
        assertThat(reachedGainless / 200.0).isCloseTo(11.0 / 14, within(0.1));
        // a uniform round has no share to draw: the same prompts as without one
        assertThat(Selection.select(pool, ScoreKind.UNIFORM, 3, 1, 0.5, new Random(4)))
                .containsExactlyElementsOf(Selection.select(pool, ScoreKind.UNIFORM, 3, 1, new Random(4)));
    }
}
