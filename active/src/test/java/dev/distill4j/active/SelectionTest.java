package dev.distill4j.active;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.distill4j.core.TokenDistribution;
import dev.distill4j.core.TokenLogprob;
import dev.distill4j.core.TokenPosition;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The selection, the uncertainty scores and the pilot's rank correlation, on hand-set values. */
class SelectionTest {
    private static Candidate c(String id, double entropy, float... embedding) {
        return new Candidate(id, entropy, 1 - entropy, entropy / 2, Double.NaN, embedding);
    }

    @Test
    void picksTheMostUncertainPrompts() {
        List<Candidate> pool = List.of(c("a", 0.1, 1, 0), c("b", 0.9, 0, 1), c("c", 0.5, 1, 1), c("d", 0.7, 1, 0),
                c("e", 0.2, 0, 1));
        assertThat(Selection.select(pool, ScoreKind.ENTROPY, 2, 1, new Random(1))).extracting(Candidate::promptId)
                .containsExactly("b", "d");
        // margin here is 1 − entropy: the least uncertain by entropy are the most by margin
        assertThat(Selection.select(pool, ScoreKind.MARGIN, 2, 1, new Random(1))).extracting(Candidate::promptId)
                .containsExactly("a", "e");
        assertThat(Selection.select(pool, ScoreKind.ENTROPY, 9, 1, new Random(1))).hasSize(5);
    }

    @Test
    void tiesGoByPromptIdAndNaNScoresComeLast() {
        List<Candidate> pool = List.of(c("z", 0.5, 1), c("y", Double.NaN, 1), c("x", 0.5, 1), c("w", 0.1, 1));
        assertThat(Selection.select(pool, ScoreKind.ENTROPY, 3, 1, new Random(1))).extracting(Candidate::promptId)
                .containsExactly("x", "z", "w");
    }

    @Test
    void diversitySkipsNearDuplicatesOfWhatWasPicked() {
        // b and b2 are the two most uncertain but point the same way; d is less uncertain and elsewhere
        List<Candidate> pool = List.of(c("b", 0.9, 1, 0), c("b2", 0.85, 1, 0.01f), c("d", 0.6, 0, 1),
                c("e", 0.1, -1, 0));
        assertThat(Selection.select(pool, ScoreKind.ENTROPY, 2, 1, new Random(1))).extracting(Candidate::promptId)
                .containsExactly("b", "b2");
        // shortlist of 3 (f = 1.5): k-center keeps b, then the farthest of {b2, d}: d; e is not shortlisted
        assertThat(Selection.select(pool, ScoreKind.ENTROPY, 2, 1.5, new Random(1))).extracting(Candidate::promptId)
                .containsExactly("b", "d");
    }

    @Test
    void uniformIgnoresScoresAndIsSeeded() {
        List<Candidate> pool = List.of(c("a", 0.1), c("b", 0.9), c("c", 0.5), c("d", 0.7), c("e", 0.2), c("f", 0));
        var one = Selection.select(pool, ScoreKind.UNIFORM, 3, 1, new Random(7));
        var two = Selection.select(pool.reversed(), ScoreKind.UNIFORM, 3, 1, new Random(7));
        assertThat(one).extracting(Candidate::promptId).containsExactlyElementsOf(
                two.stream().map(Candidate::promptId).toList());
        assertThat(one).hasSize(3);
    }

    @Test
    void uncertaintyByHand() {
        // p = (0.5, 0.3) at one position, tail 0.2; a certain second position p = (1.0)
        TokenPosition unsure = TokenPosition.of(TokenLogprob.of("a", Math.log(0.5)),
                List.of(TokenLogprob.of("a", Math.log(0.5)), TokenLogprob.of("b", Math.log(0.3))));
        TokenPosition sure = TokenPosition.of(TokenLogprob.of("c", 0), List.of(TokenLogprob.of("c", 0)));
        Uncertainty.Scores s = Uncertainty.of(new TokenDistribution(List.of(unsure, sure)));
        double h = -(0.5 * Math.log(0.5) + 0.3 * Math.log(0.3) + 0.2 * Math.log(0.2));   // 1.0297
        assertThat(s.entropy()).isCloseTo(h / 2, within(1e-6));
        assertThat(s.margin()).isCloseTo((1 - 0.2 + 0) / 2, within(1e-6));
        assertThat(s.leastConfidence()).isCloseTo((0.5 + 0) / 2, within(1e-6));
        assertThat(Uncertainty.of(TokenDistribution.EMPTY).entropy()).isZero();
        assertThat(Uncertainty.disagreement(List.of("4", " 4", "5", "6"))).isCloseTo(0.5, within(1e-12));
        assertThat(Uncertainty.disagreement(List.of("4", "4"))).isZero();
    }

    @Test
    void spearmanByHand() {
        // ranks x = 1 2 3 4 5, y = 2 1 4 3 5: Σd² = 4, ρ = 1 − 6·4/(5·24) = 0.8
        assertThat(Calibration.spearman(new double[] {1, 2, 3, 4, 5}, new double[] {20, 10, 40, 30, 50}))
                .isCloseTo(0.8, within(1e-12));
        // ties at the mean rank: x ranks 1.5 1.5 3, y ranks 1 2 3 → Pearson of (1.5,1.5,3),(1,2,3) = √3/2
        assertThat(Calibration.spearman(new double[] {1, 1, 2}, new double[] {1, 2, 3}))
                .isCloseTo(Math.sqrt(3) / 2, within(1e-12));
        assertThat(Calibration.spearman(new double[] {1, 1, 1}, new double[] {1, 2, 3})).isNaN();
        assertThat(Calibration.spearman(new double[] {1, 2}, new double[] {1, 2})).isNaN();
    }

    @Test
    void calibrationChoosesTheBestCorrelatedScore() {
        // entropy rises with divergence; margin (1 − entropy) falls with it
        List<Candidate> pilot = List.of(c("a", 0.1), c("b", 0.4), c("c", 0.3), c("d", 0.9));
        Map<String, Double> divergence = Map.of("a", 1.0, "b", 3.0, "c", 2.0, "d", 5.0);
        Calibration.Result r = Calibration.choose(pilot, divergence, ScoreKind.measurable(false));
        assertThat(r.chosen()).isEqualTo(ScoreKind.ENTROPY);
        assertThat(r.spearman().get(ScoreKind.ENTROPY)).isCloseTo(1.0, within(1e-12));
        assertThat(r.spearman().get(ScoreKind.MARGIN)).isCloseTo(-1.0, within(1e-12));
        assertThat(r.prompts()).isEqualTo(4);
    }
}
