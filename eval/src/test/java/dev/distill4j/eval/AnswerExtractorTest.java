package dev.distill4j.eval;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class AnswerExtractorTest {
    @Test
    void theAnswerIsTheLastMarkedLine() {
        assertThat(AnswerExtractor.extract("Step 1: 2 + 2 = 4.\nAnswer: 4")).contains("4");
        assertThat(AnswerExtractor.extract("Answer: 3\nno wait\nAnswer: 5.\nthanks")).contains("5");
        assertThat(AnswerExtractor.extract("Step 1: ... Answer: Tesk")).contains("Tesk");
        assertThat(AnswerExtractor.extract("Answer: 3\nWait, no. Final answer: 4 (sure)")).contains("4 (sure)");
        assertThat(AnswerExtractor.extract("step 1 ... 99\n#### -3")).contains("-3");
        assertThat(AnswerExtractor.extract("answer:   Blue   whale  ")).contains("Blue whale");
        // text after the marker's line does not count
        assertThat(AnswerExtractor.extract("Answer: 8\nThat took 3 steps.")).contains("8");
    }

    @Test
    void aResponseWithoutAnAnswerLineIsWrongEvenIfItMentionsTheNumber() {
        assertThat(AnswerExtractor.extract("Step 1: 2 + 2 = 4.")).isEmpty();
        assertThat(AnswerExtractor.extract("Answer:   \n")).isEmpty();
        assertThat(AnswerExtractor.extract(null)).isEmpty();
        var none = AnswerExtractor.grade("3 + 4 = 7, so the result is 7", "7");
        assertThat(none.extracted()).isNull();
        assertThat(none.correct()).isFalse();
        // the old eval rule took "the last number anywhere": this response would have been right
        assertThat(AnswerExtractor.isCorrect("There are 1,234 apples and 5 pears.", "5")).isFalse();
    }

    @Test
    void numbersCompareByValueAndOnlyWhenTheAnswerIsANumber() {
        assertThat(AnswerExtractor.isCorrect("Answer: 13.10", "13.1")).isTrue();
        assertThat(AnswerExtractor.isCorrect("Answer: 3500.0", "3500")).isTrue();
        assertThat(AnswerExtractor.isCorrect("Answer: 1,200", "1200")).isTrue();
        assertThat(AnswerExtractor.isCorrect("Answer: 0.50.", "0.5")).isTrue();
        assertThat(AnswerExtractor.isCorrect("#### −3", "-3")).isTrue();
        assertThat(AnswerExtractor.isCorrect("Answer: 131", "13.1")).isFalse();
        assertThat(AnswerExtractor.isCorrect("Answer: 12 apples", "12")).isFalse();
        assertThat(AnswerExtractor.isCorrect("Answer: 12 apples, not 13", "13")).isFalse();
    }

    @Test
    void caseIsKept() {
        assertThat(AnswerExtractor.isCorrect("Answer: TAMO", "TAMO")).isTrue();
        assertThat(AnswerExtractor.isCorrect("Answer: tamo", "TAMO")).isFalse();
        assertThat(AnswerExtractor.isCorrect("Answer: Friday", "friday")).isFalse();
        // quotes, back-ticks, Markdown bold and a final full stop are not part of the answer
        assertThat(AnswerExtractor.isCorrect("Let me think.\nAnswer: **Paris**.", "Paris")).isTrue();
        assertThat(AnswerExtractor.isCorrect("Answer: 'ponikin'.", "ponikin")).isTrue();
        assertThat(AnswerExtractor.isCorrect("Answer: `Medi`", "Medi")).isTrue();
    }

    @Test
    void datesAreTextNotArithmetic() {
        assertThat(AnswerExtractor.isCorrect("Step 2: 44 - 28 = 16.\nAnswer: 2035-03-16", "2035-03-16")).isTrue();
        assertThat(AnswerExtractor.isCorrect("Answer: 2035-03-16", "2035-03-17")).isFalse();
        assertThat(AnswerExtractor.isCorrect("Answer: 2035-3-16", "2035-03-16")).isFalse();
        assertThat(AnswerExtractor.grade("Answer: 2035-03-16", "-16").correct()).isFalse();
    }
}
