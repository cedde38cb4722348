package dev.distill4j.model.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.distill4j.model.nn.CausalLM;
import dev.distill4j.model.nn.ReferenceFixture;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link DjlStepDecoder}'s logits equal {@link CausalLM}'s full forward (no cache, no padding) of each sequence's
 * tokens so far, within 1e-4, through everything continuous batching does to its states: rows of different lengths
 * in one step, a copy that diverges from its source, a row closed, a newcomer joining a running stack, rows left out
 * of a step (their positions move back to their own caches), a prefill continuing a stacked row, and a state whose
 * first token comes by a step. The reference checkpoints of all four families; mistral's sliding window of 4 makes
 * the padding's column offsets matter.
 */
class DjlStepDecoderTest {
    private static final double TOLERANCE = 1e-4;
    private static NDManager manager;

    @BeforeAll static void start() { manager = NDManager.newBaseManager("PyTorch"); }

    @AfterAll static void stop() { manager.close(); }

    /** Each state's tokens fed so far, kept beside the decoder to check it. */
    private static final class Tracker {
        final CausalLM model;
        final StepDecoder decoder;
        final Map<StepDecoder.State, List<Integer>> fed = new HashMap<>();

        Tracker(CausalLM model, StepDecoder decoder) {
            this.model = model;
            this.decoder = decoder;
        }

        StepDecoder.State prefill(int... tokens) {
            StepDecoder.State s = decoder.newState();
            fed.put(s, new ArrayList<>());
            return prefill(s, tokens);
        }

        StepDecoder.State prefill(StepDecoder.State s, int... tokens) {
            float[] logits = decoder.prefill(s, tokens);
            for (int t : tokens) fed.get(s).add(t);
            check(s, logits);
            return s;
        }

        StepDecoder.State copy(StepDecoder.State s) {
            StepDecoder.State c = s.copy();
            fed.put(c, new ArrayList<>(fed.get(s)));
            assertThat(c.length()).isEqualTo(s.length());
            return c;
        }

        void step(List<StepDecoder.State> states, int... tokens) {
            float[][] logits = decoder.step(states, tokens);
            assertThat(logits.length).isEqualTo(states.size());
            for (int i = 0; i < states.size(); i++) {
                fed.get(states.get(i)).add(tokens[i]);
                check(states.get(i), logits[i]);
            }
        }

        /** The decoder's logits for {@code s} against a full forward of everything fed to it. */
        void check(StepDecoder.State s, float[] logits) {
            int[] ids = fed.get(s).stream().mapToInt(Integer::intValue).toArray();
            assertThat(s.length()).isEqualTo(ids.length);
            float[] expected;
            try (NDManager m = manager.newSubManager()) {
                expected = model.forwardLast(m.create(ids, new Shape(1, ids.length)), null, null).toFloatArray();
            }
            assertThat(logits).hasSize(decoder.vocabSize());
            double worst = 0;
            for (int v = 0; v < expected.length; v++) worst = Math.max(worst, Math.abs(expected[v] - logits[v]));
            assertThat(worst).as("largest logit difference after %d tokens", ids.length).isLessThan(TOLERANCE);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "mistral", "qwen2", "qwen3"})
    void logitsEqualTheFullForwardThroughJoinsLeavesAndCopies(String family) throws IOException {
        ReferenceFixture f = ReferenceFixture.load(family);
        try (CausalLM model = f.model(manager); DjlStepDecoder decoder = new DjlStepDecoder(model)) {
            Tracker t = new Tracker(model, decoder);
            assertThat(decoder.vocabSize()).isEqualTo(f.config().vocabSize());
            StepDecoder.State a = t.prefill(5, 9, 13, 40, 41, 42, 43, 50, 60);
            StepDecoder.State b = t.prefill(7, 8);
            StepDecoder.State c = t.prefill(70, 71, 72, 73);
            t.step(List.of(a, b, c), 11, 12, 13);            // three lengths in one stack
            t.step(List.of(a, b, c), 21, 22, 23);            // the same stack again: no restacking
            StepDecoder.State a2 = t.copy(a);                // a copy of a stacked row
            t.step(List.of(c, a2, a, b), 31, 32, 33, 34);    // the copy joins, diverging from its source
            b.close();
            t.step(List.of(a, c, a2), 41, 42, 43);           // a closed row leaves
            StepDecoder.State d = t.prefill(3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);   // longer than all
            t.step(List.of(d, a), 51, 52);                   // c and a2 move back to their own caches
            t.step(List.of(c, a2, d), 61, 62, 63);
            t.prefill(c, 80, 81, 82);                        // a prefill continues a stacked row
            StepDecoder.State e = decoder.newState();        // first token by a step, beside the others
            t.fed.put(e, new ArrayList<>());
            t.step(List.of(a2, e, c, d), 71, 1, 72, 73);
            StepDecoder.State d2 = t.copy(d);
            d.close();
            t.step(List.of(d2, e), 90, 91);                  // the longest row gone: its padding is trimmed
            t.step(List.of(a, d2, e, c, a2), 1, 2, 3, 4, 5);
            assertThatThrownBy(() -> decoder.step(List.of(b), new int[] {1})).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> decoder.step(List.of(a, a), new int[] {1, 2}))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }
}
