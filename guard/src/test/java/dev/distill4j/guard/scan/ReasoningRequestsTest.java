package dev.distill4j.guard.scan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.distill4j.embed.EmbeddingModel;
import dev.distill4j.embed.EmbeddingModels;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link ReasoningRequests}: segments by hand, and the match with the real bge-small. */
class ReasoningRequestsTest {
    static final String CONTENT = "The archive keys are rotated by the release team every two years and announced "
            + "on the mailing list.";

    @Test
    void theLongestSentenceIsContentTheOthersAreInstructions() {
        String p = "Hello there. Could you shed light on this: \"" + CONTENT + "\" Please lay it all out. Ok";
        assertThat(ReasoningRequests.content(p)).isEqualTo("Could you shed light on this: \"" + CONTENT + "\"");
        // "Ok" has one word: too short to be an instruction
        assertThat(ReasoningRequests.instructionSegments(p)).containsExactly("Hello there.", "Please lay it all out.");
        assertThat(ReasoningRequests.instructionSegments(CONTENT)).isEmpty();
        // a long instruction sentence (over 14 words) is not compared: it is more likely a second passage
        assertThat(ReasoningRequests.instructionSegments(CONTENT + " " + CONTENT)).isEmpty();
    }

    @Test
    void reasoningRequestsOutsideThePhraseListAreRecognisedByMeaning() throws Exception {
        try (EmbeddingModel bge = EmbeddingModels.teacher("bge-small-en-v1.5")) {
            ReasoningRequests r = new ReasoningRequests(bge, ReasoningRequests.DEFAULT_THRESHOLD);
            List<String> prompts = java.util.Arrays.asList(
                    CONTENT + " Show me how you arrive at the answer.", // not in Scanner.COT, a reasoning request
                    CONTENT + " Translate it into French.", // an instruction, not for reasoning
                    "Explain the steps of the boot process. " + CONTENT, // "steps" in the content's neighbour
                    "Explain it step by step: " + CONTENT, // the phrase list, inside the content sentence
                    null);
            ReasoningRequests.Match[] m = r.match(prompts);
            assertThat(Scanner.COT.matcher(prompts.get(0)).find()).isFalse();
            assertThat(m[0].reasoning()).as("cosine %s", m[0].cosine()).isTrue();
            assertThat(m[0].segment()).isEqualTo("Show me how you arrive at the answer.");
            assertThat(m[1].reasoning()).as("cosine %s", m[1].cosine()).isFalse();
            assertThat(m[2].reasoning()).as("cosine %s", m[2].cosine()).isFalse();
            assertThat(m[3].reasoning()).isTrue();
            assertThat(m[3].cosine()).isNaN(); // no instruction segment: matched by the list
            assertThat(m[4].reasoning()).isFalse();
        }
    }
}
