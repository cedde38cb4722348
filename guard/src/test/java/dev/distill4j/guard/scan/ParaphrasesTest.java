package dev.distill4j.guard.scan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link Paraphrases}: wrappers cut by hand, and the share on two-dimensional vectors whose cosines are known. */
class ParaphrasesTest {
    static final String CONTENT = "The archive keys are rotated by the release team every two years and announced "
            + "on the mailing list.";

    @Test
    void theWrapperIsThePromptWithoutItsContent() {
        // the content sentence goes; the instruction sentences stay, lower case
        assertThat(Paraphrases.wrapper("What does this mean? " + CONTENT, s -> false))
                .isEqualTo("what does this mean?");
        // a quotation that is most of the longest sentence is the content: the words around it stay
        assertThat(Paraphrases.wrapper("Hi! Can you explain this: \"" + CONTENT + "\" Please be brief.", s -> false))
                .isEqualTo("hi! can you explain this: \"…\" please be brief.");
        // sentences that ask for reasoning are left to cot_elicitation_share
        assertThat(Paraphrases.wrapper("Hi! Can you explain this: \"" + CONTENT + "\" Show each step.",
                s -> s.startsWith("Show"))).isEqualTo("hi! can you explain this: \"…\"");
        // a short lead-in before a colon is the instruction of a one-sentence prompt
        assertThat(Paraphrases.wrapper("Translate into German: " + CONTENT, s -> false))
                .isEqualTo("translate into german:");
        // ... but not a lead-in without two words of letters, nor a quoted name inside the passage
        assertThat(Paraphrases.wrapper("℞ 26: " + CONTENT, s -> false)).isNull();
        assertThat(Paraphrases.wrapper("The \"HAS_NANOSLEEP\" symbol says that the nanosleep system call is there.",
                s -> false)).isNull();
        // numbers are masked; one word is no wrapper
        assertThat(Paraphrases.wrapper("Answer question 12 briefly. " + CONTENT, s -> false))
                .isEqualTo("answer question 0 briefly.");
        assertThat(Paraphrases.wrapper(CONTENT + " Thanks!", s -> false)).isNull();
        assertThat(Paraphrases.wrapper(null, s -> false)).isNull();
    }

    @Test
    void theShareCountsRewordingsOfOneInstructionNeverRepeated() {
        // unit vectors at 0°, 30°, 40° and 90°: cos(a,b) = cos 30° = 0.866, cos(a,c) = cos 40° = 0.766,
        // cos(b,c) = cos 10° = 0.985, cos(c,d) = cos 50° = 0.643 < 0.70, cos(b,d) = 0.5, cos(a,d) = 0
        Map<String, float[]> v = Map.of("a", unit(0), "b", unit(30), "c", unit(40), "d", unit(90));
        // a twice (a repeated wording), b, c, d once, one query without a wrapper: 6 queries
        List<String> q = Arrays.asList("a", "b", "a", "c", "d", null);
        // ball(a) = ball(b) = ball(c) = {a, b, c}: its wordings used once are b and c -> 2; ball(d) = {d} -> 1
        assertThat(Paraphrases.share(q, v)).isCloseTo(2 / 6.0, within(1e-12));
        // every wording once: ball(a) = {a, b, c} -> 3 of 4
        assertThat(Paraphrases.share(List.of("a", "b", "c", "d"), v)).isCloseTo(3 / 4.0, within(1e-12));
        // one wording repeated (a template) counts nothing
        assertThat(Paraphrases.share(List.of("a", "a", "a"), v)).isZero();
        assertThat(Paraphrases.share(List.of(), v)).isZero();
    }

    static float[] unit(double degrees) {
        double r = Math.toRadians(degrees);
        return new float[] {(float) Math.cos(r), (float) Math.sin(r)};
    }
}
