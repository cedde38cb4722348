package dev.distill4j.guard.scan;

import static org.assertj.core.api.Assertions.assertThat;

import static org.assertj.core.api.Assertions.within;

import dev.distill4j.embed.EmbeddingModel;
import dev.distill4j.embed.EmbeddingModels;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
            assertThat(m[0].reasoning()).as("margin %s", m[0].margin()).isTrue();
            assertThat(m[0].segment()).isEqualTo("Show me how you arrive at the answer.");
            assertThat(m[1].reasoning()).as("margin %s", m[1].margin()).isFalse();
            assertThat(m[2].reasoning()).as("margin %s", m[2].margin()).isFalse();
            assertThat(m[3].reasoning()).isTrue();
            assertThat(m[3].margin()).isNaN(); // no instruction segment: matched by the list
            assertThat(m[4].reasoning()).isFalse();
        }
    }

    /**
     * An embedder with known vectors: every reasoning exemplar at (1, 0), every ordinary one at (0, 1), and the
     * segments below at angles whose margins cos θ − sin θ are known.
     */
    static EmbeddingModel known(Map<String, float[]> segments) {
        return new EmbeddingModel() {
            @Override
            public float[][] embed(List<String> texts) {
                float[][] out = new float[texts.size()][];
                for (int i = 0; i < out.length; i++) {
                    String t = texts.get(i);
                    out[i] = ReasoningRequests.EXEMPLARS.contains(t) ? new float[] {1, 0}
                            : ReasoningRequests.ORDINARY.contains(t) ? new float[] {0, 1} : segments.get(t);
                }
                return out;
            }

            @Override
            public int dimension() { return 2; }

            @Override
            public String name() { return "known"; }
        };
    }

    @Test
    void theMarginIsTheNearestReasoningExemplarLessTheNearestOrdinaryOne() {
        // (0.8, 0.6): 0.8 - 0.6 = 0.2; (0.6, 0.8): -0.2
        ReasoningRequests r = new ReasoningRequests(known(Map.of("Lay it all out.", new float[] {0.8f, 0.6f},
                "Keep it short.", new float[] {0.6f, 0.8f})), 0.1);
        ReasoningRequests.Match[] m = r.match(List.of(CONTENT + " Lay it all out.", CONTENT + " Keep it short."));
        assertThat(m[0].margin()).isCloseTo(0.2, within(1e-6));
        assertThat(m[0].reasoning()).isTrue();
        assertThat(m[1].margin()).isCloseTo(-0.2, within(1e-6));
        assertThat(m[1].reasoning()).isFalse();
    }

    @Test
    void theThresholdIsCalibratedOnBenignInstructionSentences() {
        Map<String, float[]> seg = Map.of("Lay it all out.", new float[] {0.8f, 0.6f}, // margin 0.2
                "Keep it short.", new float[] {0.6f, 0.8f}); // margin -0.2
        ReasoningRequests r = new ReasoningRequests(known(seg), 0.5);
        List<String> benign = new ArrayList<>();
        for (int i = 0; i < 20; i++) benign.add(CONTENT + " Lay it all out.");
        for (int i = 0; i < 80; i++) benign.add(CONTENT + " Keep it short.");
        // phrase-list requests are not part of the null: they are reasoning requests by definition
        for (int i = 0; i < 5; i++) benign.add(CONTENT + " Let's think step by step.");
        // N = 100 margins, sorted: 80 at -0.2, 20 at 0.2. Rate 0.1: k = 10, the threshold just above the 11th
        // largest (0.2), so no 0.2 counts (0 of 100 <= k)
        ReasoningRequests strict = r.calibrate(benign, 0.1);
        assertThat(strict.threshold()).isEqualTo(Math.nextUp((double) 0.8f - (double) 0.6f));
        assertThat(strict.isReasoning("Lay it all out.")).isFalse();
        assertThat(strict.isReasoning("Let's think step by step.")).isTrue(); // the phrase list
        // Rate 0.2: k = 20, just above the 21st largest (-0.2), floored at MIN_MARGIN = 0.05: the 0.2s count
        ReasoningRequests loose = r.calibrate(benign, 0.2);
        assertThat(loose.threshold()).isEqualTo(ReasoningRequests.MIN_MARGIN);
        assertThat(loose.isReasoning("Lay it all out.")).isTrue();
        assertThat(loose.isReasoning("Keep it short.")).isFalse();
        // fewer than CALIBRATION_MIN = 100 benign instruction sentences: the threshold is kept
        assertThat(r.calibrate(benign.subList(0, 99), 0.1).threshold()).isEqualTo(0.5);
        assertThat(r.calibrate(List.of(CONTENT), 0.1).threshold()).isEqualTo(0.5);
    }
}
