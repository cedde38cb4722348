package dev.distill4j.guard.scan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.distill4j.embed.EmbeddingModel;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A prompt's content is what its account's template leaves free ({@link Affixes}), counted by hand; what a fixed
 * instruction asks ({@link Asks}) as a margin on vectors at known angles; the sweep's centred embeddings and the
 * soft-label test of the scanner by hand.
 */
class AffixesTest {
    @Test
    void theContentIsWhatTheTemplateLeavesFreeNotTheLongestSentence() {
        // one account: a fixed instruction longer than its slots (the longest sentence is the instruction), and a
        // free question that shares nothing
        String tpl = "Write the ideal response a senior maintainer would give to a newcomer who pasted this line. ";
        List<String> p = List.of(tpl + "Use tabs here.", tpl + "Quote the path.", "what is a tab?",
                tpl + "Keep it short.", tpl + "Use tabs here.");
        Affixes.Split[] s = Affixes.split(p);
        // the instruction is 16 tokens, shared by four prompts (three distinct): stripped
        assertThat(s[0].content()).isEqualTo("Use tabs here.");
        assertThat(s[0].prefixTokens()).isEqualTo(16);
        assertThat(s[0].suffixTokens()).isZero();
        assertThat(s[0].instruction()).isEqualTo(tpl.strip() + " …");
        assertThat(s[1].content()).isEqualTo("Quote the path.");
        assertThat(s[3].content()).isEqualTo("Keep it short.");
        // an exact repeat is split as its first sending; the free question has no affix
        assertThat(s[4]).isEqualTo(s[0]);
        assertThat(s[2]).isNull();
        // the longest sentence, what the order test used before, is the instruction in every prompt
        assertThat(ReasoningRequests.content(p.get(0))).isEqualTo(ReasoningRequests.content(p.get(1)));
    }

    @Test
    void prefixAndSuffixNeedThreeDistinctPromptsAndTwoTokens() {
        // "Translate to German:" begins three prompts, "Answer:" (one token) ends three: only the prefix is fixed;
        // "Tell me" begins only two prompts
        List<String> p = List.of("Translate to German: a b c Answer:", "Translate to German: d e Answer:",
                "Translate to German: f Answer:", "Tell me x", "Tell me y");
        Affixes.Split[] s = Affixes.split(p);
        assertThat(s[0].content()).isEqualTo("a b c Answer:");
        assertThat(s[0].instruction()).isEqualTo("Translate to German: …");
        assertThat(s[2].content()).isEqualTo("f Answer:");
        assertThat(s[3]).isNull();
        assertThat(s[4]).isNull();
        // a suffix of two tokens shared by three, and prefixes shared by two of them only
        Affixes.Split[] t = Affixes.split(List.of("x y p q explain this", "x y r explain this", "z s explain this"));
        assertThat(Arrays.stream(t).map(Affixes.Split::content).toList()).containsExactly("x y p q", "x y r", "z s");
        assertThat(t[0].instruction()).isEqualTo("… explain this");
        // all instruction and no slot (three identical but for one token at an end shared by all): no split
        Affixes.Split[] u = Affixes.split(List.of("a b c", "a b c d", "a b c e"));
        assertThat(u[0]).isNull();
        assertThat(u[1].content()).isEqualTo("d");
    }

    @Test
    void sharedPrefixesAreFoundAmongSortedNeighbours() {
        // sorted: [a b c], [a b d], [a b e f], [a x], [a x y]: lcp 2, 2, 1, 2
        String[][] tok = {{"a", "b", "d"}, {"a", "x"}, {"a", "b", "e", "f"}, {"a", "b", "c"}, {"a", "x", "y"}};
        // [a b *] three share 2 tokens; [a x], [a x y] share 2 with each other but only 1 with a third
        assertThat(Affixes.shared(tok, false)).containsExactly(2, 1, 2, 2, 1);
        // suffixes: the reversed lists [d b a], [x a], [f e b a], [c b a], [y x a] all differ in their first token
        assertThat(Affixes.shared(tok, true)).containsExactly(0, 0, 0, 0, 0);
        assertThat(Affixes.shared(new String[][] {{"a", "b"}, {"a", "b"}}, false)).containsExactly(0, 0);
    }

    @Test
    void anInstructionIsATransformationWhenNearerToOneThanToAnyOpenRequest() {
        // transformations along x, open requests along y; an instruction at angle θ from x has margin cos θ − sin θ
        Map<String, float[]> known = Map.of("rewrite it", new float[] {0.8f, 0.6f}, "why so", new float[] {0.6f, 0.8f},
                "in between", new float[] {(float) Math.sqrt(0.5), (float) Math.sqrt(0.5)});
        EmbeddingModel m = new EmbeddingModel() {
            @Override
            public float[][] embed(List<String> texts) {
                return texts.stream().map(t -> Asks.TRANSFORM.contains(t) ? new float[] {1, 0}
                        : Asks.OPEN.contains(t) ? new float[] {0, 1} : known.get(t)).toArray(float[][]::new);
            }

            @Override
            public int dimension() { return 2; }

            @Override
            public String name() { return "known"; }
        };
        double[] margin = new Asks(m).margins(java.util.Arrays.asList("rewrite it", "why so", null, "in between"));
        assertThat(margin[0]).isCloseTo(0.8 - 0.6, org.assertj.core.data.Offset.offset(1e-6));
        assertThat(margin[1]).isCloseTo(0.6 - 0.8, org.assertj.core.data.Offset.offset(1e-6));
        assertThat(margin[2]).isNaN();
        // on the line between: margin 0, a transformation (nearer to one than to any open request, or as near)
        assertThat(margin[3]).isCloseTo(0, org.assertj.core.data.Offset.offset(1e-6));
    }

    @Test
    void theSweepSeesATemplatedQueryAsWhatItsSlotAdds() {
        // eight queries through one instruction: e = (1, 0, 0) + slot, slot = ±(0, 1, 0) alternately; the mean is
        // (1, 0, 0) (before normalising, as here), so the centred queries are ±(0, 1, 0); a ninth query of another
        // instruction, and an account's queries without a split, keep their embeddings
        int n = Scanner.CENTER_MIN;
        float[][] emb = new float[n + 2][];
        Affixes.Split[] split = new Affixes.Split[n + 2];
        for (int i = 0; i < n; i++) {
            emb[i] = new float[] {1, i % 2 == 0 ? 1 : -1, 0};
            split[i] = new Affixes.Split("slot " + i, "fixed …", 1, 0);
        }
        emb[n] = new float[] {0, 0, 1};
        split[n] = new Affixes.Split("x", "other …", 1, 0);
        emb[n + 1] = new float[] {0, 1, 0};
        List<Integer> account = java.util.stream.IntStream.range(0, n + 2).boxed().toList();
        float[][] c = Scanner.centered(List.of(account), split, emb);
        for (int i = 0; i < n; i++) assertThat(c[i]).containsExactly(0, i % 2 == 0 ? 1 : -1, 0);
        assertThat(c[n]).isSameAs(emb[n]);
        assertThat(c[n + 1]).isSameAs(emb[n + 1]);
        // one query short of the group size: left as it is
        float[][] d = Scanner.centered(List.of(account.subList(1, n)), split, emb);
        assertThat(d[1]).isSameAs(emb[1]);
    }

    @Test
    void logprobsOnAScoredLabelAreNoSoftLabels() {
        assertThat(Scanner.softLabels(rec(true, 1))).isFalse();
        assertThat(Scanner.softLabels(rec(true, Scanner.LONG_REPLY - 1))).isFalse();
        assertThat(Scanner.softLabels(rec(true, Scanner.LONG_REPLY))).isTrue();
        assertThat(Scanner.softLabels(rec(true, 0))).as("length not logged").isTrue();
        assertThat(Scanner.softLabels(rec(false, 300))).isFalse();
    }

    @Test
    void theHarvestGateCountsAPromptOnlyTheFirstTimeItIsSent() {
        // an evaluation run and its rerun: ten prompts sent twice, logprobs over long replies on all twenty; a
        // constant embedder (every text the same vector) leaves only the counts to look at
        EmbeddingModel flat = new EmbeddingModel() {
            @Override
            public float[][] embed(List<String> texts) {
                return texts.stream().map(t -> new float[] {1, 0}).toArray(float[][]::new);
            }

            @Override
            public int dimension() { return 2; }

            @Override
            public String name() { return "flat"; }
        };
        List<LogRecord> log = new java.util.ArrayList<>();
        for (int r = 0; r < 2; r++) {
            for (int i = 0; i < 10; i++) {
                log.add(new LogRecord(ScanTrafficTest.T0.plusSeconds(100L * r + i), "rerun", "", "/v1/completions",
                        "m", 200, 0, 1, true, 5, 20, 100, "item " + i + " of the set", null, "rerun"));
            }
        }
        Scanner.Report rep = new Scanner(flat, Scanner.Options.defaults())
                .scan(new LogReader.Result(log, List.of(), List.of()), null);
        Scanner.Feature gate = ScanTrafficTest.feature(ScanTrafficTest.entity(rep, "rerun"), "training_signal_share");
        // 10 of 20: P(X >= 10 | 20, 0.3) = 0.0480, above 0.01
        assertThat(gate.value()).isEqualTo(0.5);
        assertThat(gate.note()).contains("10 of 20", "= 0.0480");
        assertThat(gate.fired()).isFalse();
        assertThat(ScanTrafficTest.feature(ScanTrafficTest.entity(rep, "rerun"), "logprobs_share").value())
                .isEqualTo(1.0);
    }

    private static LogRecord rec(boolean logprobs, int completion) {
        return new LogRecord(ScanTrafficTest.T0, "a", "", "/v1/chat/completions", "m", 200, 0, 1, logprobs,
                logprobs ? 5 : 0, 20, completion, "q", null, "a");
    }
}
