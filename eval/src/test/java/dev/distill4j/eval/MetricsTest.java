package dev.distill4j.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** Text metrics against values computed by hand (and one published sacrebleu figure). */
class MetricsTest {
    @Test
    void chrfByHand() {
        // "ab" vs "abc": n=1 P 2/2 R 2/3; n=2 P 1/1 R 1/2; n≥3 the hypothesis has no n-grams, so 2 effective orders.
        // P = 1, R = 7/12, F2 = 5·P·R / (4P + R) = (35/12) / (55/12) = 7/11
        assertThat(ChrF.score("ab", "abc")).isCloseTo(700.0 / 11, within(1e-9));
        // whitespace is removed: "aab" vs "aba": n=1 3/3; n=2 ab matches, 1/2 and 1/2; n=3 0/1 and 0/1 (still
        // effective). P = R = (1 + 0.5 + 0) / 3 = 0.5, F2 = 0.5
        assertThat(ChrF.score("a a b", "ab a")).isCloseTo(50.0, within(1e-9));
        assertThat(ChrF.score("same text", "same text")).isCloseTo(100.0, within(1e-9));
        assertThat(ChrF.score("xyz", "abc")).isZero();
        assertThat(ChrF.score("", "abc")).isZero();
        // clipped counts: "aaaa" vs "aa": n=1 match min(4,2)=2 → P 2/4 R 1; n=2 "aa"×3 vs ×1 → 1/3, 1;
        // P = (1/2 + 1/3) / 2 = 5/12, R = 1, F2 = 5·(5/12) / (4·5/12 + 1) = (25/12) / (32/12) = 25/32
        assertThat(ChrF.score("aaaa", "aa")).isCloseTo(100 * 25.0 / 32, within(1e-9));
    }

    @Test
    void chrfMatchesSacrebleuPublishedExample() {
        // the example of the Hugging Face chrF metric card, computed by sacrebleu (char order 6, β = 2)
        double s = ChrF.score("The relationship between Obama and Netanyahu is not exactly friendly.",
                "The ties between Obama and Netanyahu are not particularly friendly.");
        assertThat(s).isCloseTo(61.576379378113785, within(1e-9));
    }

    @Test
    void chrfCorpusSumsStatisticsFirst() {
        ChrF.Stats a = ChrF.stats("ab", "abc");
        ChrF.Stats b = ChrF.stats("aaaa", "aa");
        // summed counts: n=1 hyp 6, ref 5, match 4; n=2 hyp 4, ref 3, match 2; n=3 hyp 2 (aaaa), ref 1 (abc), 0
        // P = (4/6 + 2/4 + 0) / 3 = 7/18, R = (4/5 + 2/3 + 0) / 3 = 22/45
        double p = 7.0 / 18;
        double r = 22.0 / 45;
        assertThat(a.plus(b).score()).isCloseTo(100 * 5 * p * r / (4 * p + r), within(1e-9));
    }

    @Test
    void rougeLByHand() {
        // LCS "the cat on the mat" = 5 of 6 and 6 tokens
        assertThat(RougeL.f1("the cat sat on the mat", "the cat is on the mat")).isCloseTo(5.0 / 6, within(1e-12));
        // LCS "a c" = 2: P 2/4, R 2/3, F1 = 2·(1/2)(2/3)/(1/2 + 2/3) = 4/7
        assertThat(RougeL.f1("a b c d", "a c e")).isCloseTo(4.0 / 7, within(1e-12));
        assertThat(RougeL.f1("  x\ty \n", "x y")).isEqualTo(1.0);
        assertThat(RougeL.f1("The", "the")).isZero();          // no case folding
        assertThat(RougeL.f1("", "")).isEqualTo(1.0);
        assertThat(RougeL.f1("", "a")).isZero();
    }

    @Test
    void exactMatchNormalisation() {
        assertThat(ExactMatch.normalize("  Hello \n\t WORLD  ")).isEqualTo("hello world");
        assertThat(ExactMatch.matches("  Hello\n\tWORLD  ", "hello world")).isTrue();
        assertThat(ExactMatch.matches("Straße", "STRASSE")).isTrue();        // case folding, not just lower-casing
        assertThat(ExactMatch.matches("a\u00A0b", "a b")).isTrue();          // no-break space is whitespace
        assertThat(ExactMatch.matches("a\u3000\u2028b\u0085", "A B")).isTrue();
        assertThat(ExactMatch.matches("hello world", "helloworld")).isFalse();
        assertThat(ExactMatch.matches("hello.", "hello")).isFalse();
    }

    @Test
    void judgeVerdictParsing() {
        assertThat(Judge.parseFreeText("A")).isEqualTo("A");
        assertThat(Judge.parseFreeText(" b.")).isEqualTo("B");
        assertThat(Judge.parseFreeText("TIE")).isEqualTo("TIE");
        assertThat(Judge.parseFreeText("Tie.")).isEqualTo("TIE");
        assertThat(Judge.parseFreeText("**Answer: B**")).isEqualTo("B");
        assertThat(Judge.parseFreeText("[[A]]")).isEqualTo("A");
        assertThat(Judge.parseFreeText("Verdict: A is better")).isEqualTo("A");
        assertThat(Judge.parseFreeText("<think>A or B? A looks short</think>\nB")).isEqualTo("B");
        assertThat(Judge.parseFreeText("Both are equally good")).isEqualTo("TIE");
        assertThat(Judge.parseFreeText("I cannot decide")).isNull();
        assertThat(Judge.parseFreeText("")).isNull();
    }
}
