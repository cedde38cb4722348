package dev.distill4j.demo;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class AnswerExtractorTest {
    @Test
    void takesTheLastAnswerLine() {
        assertThat(AnswerExtractor.extract("Step 1: 2 + 2 = 4.\nAnswer: 4")).contains("4");
        assertThat(AnswerExtractor.extract("Answer: 3\nno wait\nAnswer: 5.\nthanks")).contains("5");
        assertThat(AnswerExtractor.extract("Step 1: ... Answer: Tesk")).contains("Tesk");
        assertThat(AnswerExtractor.extract("Step 1: 2 + 2 = 4.")).isEmpty();
        assertThat(AnswerExtractor.extract("Answer:   \n")).isEmpty();
        assertThat(AnswerExtractor.extract(null)).isEmpty();
    }

    @Test
    void normalisesNumbersSpaceQuotesAndFullStopsButNotCase() {
        assertThat(AnswerExtractor.normalise(" 3500.0 ")).isEqualTo("3500");
        assertThat(AnswerExtractor.normalise("1,200")).isEqualTo("1200");
        assertThat(AnswerExtractor.normalise("0.50")).isEqualTo("0.5");
        assertThat(AnswerExtractor.normalise("'ponikin'.")).isEqualTo("ponikin");
        assertThat(AnswerExtractor.normalise("2035-03-16")).isEqualTo("2035-03-16");
        assertThat(AnswerExtractor.isCorrect("Answer: TAMO", "TAMO")).isTrue();
        assertThat(AnswerExtractor.isCorrect("Answer: tamo", "TAMO")).isFalse();
        assertThat(AnswerExtractor.isCorrect("Step 1: x.\nAnswer: 13.10", "13.1")).isTrue();
        assertThat(AnswerExtractor.isCorrect("Answer: 131", "13.1")).isFalse();
        assertThat(AnswerExtractor.isCorrect("no answer here", "4")).isFalse();
    }
}
