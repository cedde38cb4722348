package dev.distill4j.model.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import dev.distill4j.core.TokenLogprob;
import dev.distill4j.core.TokenPosition;
import dev.distill4j.model.nn.CausalLM;
import dev.distill4j.model.nn.ReferenceFixture;
import dev.distill4j.model.tokenizer.TextTokenizer;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class GeneratorTest {
    private static NDManager manager;

    @BeforeAll static void start() { manager = NDManager.newBaseManager("PyTorch"); }

    @AfterAll static void stop() { manager.close(); }

    /** The reference batch's prompts without their padding: row 1 was left-padded. */
    private static List<int[]> prompts(ReferenceFixture f) {
        int[][] ids = f.ints("input_ids");
        int[][] mask = f.ints("attention_mask");
        List<int[]> out = new java.util.ArrayList<>();
        for (int i = 0; i < ids.length; i++) {
            int pad = (int) Arrays.stream(mask[i]).filter(x -> x == 0).count();
            out.add(Arrays.copyOfRange(ids[i], pad, ids[i].length));
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "mistral", "qwen2", "qwen3"})
    void batchedGreedyWithCacheMatchesReference(String family) throws IOException {
        ReferenceFixture f = ReferenceFixture.load(family);
        try (CausalLM model = f.model(manager)) {
            Generator g = new Generator(model, new ByteTokenizer(f.config().vocabSize()));
            List<Generation> out = g.generate(prompts(f), SamplingParams.greedy(5).withTopLogprobs(3));
            int[][] expected = f.ints("greedy_tokens");
            for (int i = 0; i < expected.length; i++) {
                assertThat(out.get(i).tokenIds()).as("%s row %d", family, i).containsExactly(expected[i]);
                assertThat(out.get(i).finishReason()).isEqualTo(FinishReason.LENGTH);
            }
            // the first token's logprob is log_softmax of the reference's last-position logits
            double[] last = f.logits()[0][f.ints("input_ids")[0].length - 1];
            double max = Arrays.stream(last).max().orElseThrow();
            double logZ = max + Math.log(Arrays.stream(last).map(x -> Math.exp(x - max)).sum());
            TokenPosition first = out.get(0).distribution().positions().get(0);
            assertThat((double) first.chosen().logprob()).isCloseTo(last[expected[0][0]] - logZ, within(1e-4));
        }
    }

    @Test
    void batchedEqualsUnbatched() throws IOException {
        ReferenceFixture f = ReferenceFixture.load("mistral");   // sliding window makes padding offsets matter
        try (CausalLM model = f.model(manager)) {
            Generator g = new Generator(model, new ByteTokenizer(f.config().vocabSize()));
            SamplingParams p = SamplingParams.greedy(8).withTopLogprobs(4);
            List<int[]> prompts = List.of(new int[] {5, 9, 13, 40, 41, 42, 43, 50, 60}, new int[] {7, 8}, new int[] {70, 71, 72, 73});
            List<Generation> batched = g.generate(prompts, p);
            for (int i = 0; i < prompts.size(); i++) {
                Generation alone = g.generate(prompts.get(i), p);
                assertThat(batched.get(i).tokenIds()).containsExactly(alone.tokenIds());
                var a = alone.distribution().positions();
                var b = batched.get(i).distribution().positions();
                for (int t = 0; t < a.size(); t++) {
                    for (int k = 0; k < 4; k++) {
                        assertThat(b.get(t).alternatives().get(k).token()).isEqualTo(a.get(t).alternatives().get(k).token());
                        assertThat(b.get(t).alternatives().get(k).logprob())
                                .isCloseTo(a.get(t).alternatives().get(k).logprob(), within(1e-4f));
                    }
                }
            }
        }
    }

    @Test
    void stopsOnEosAndStopStringsAndCountsUsage() throws IOException {
        ReferenceFixture f = ReferenceFixture.load("qwen2");
        try (CausalLM model = f.model(manager)) {
            ByteTokenizer tok = new ByteTokenizer(f.config().vocabSize());
            Generator g = new Generator(model, tok);
            int[] prompt = {1, 40, 50, 60};
            Generation free = g.generate(prompt, SamplingParams.greedy(10));
            assertThat(free.tokenIds()).hasSize(10);
            assertThat(free.finishReason()).isEqualTo(FinishReason.LENGTH);
            assertThat(free.usage().promptTokens()).isEqualTo(4);
            assertThat(free.usage().completionTokens()).isEqualTo(10);
            assertThat(free.text()).isEqualTo(tok.decode(free.tokenIds(), true));

            int eos = free.tokenIds()[3];
            int firstEos = Arrays.stream(free.tokenIds()).boxed().toList().indexOf(eos);
            Generation atEos = g.generate(prompt, SamplingParams.greedy(10).withStops(List.of(eos), List.of()));
            assertThat(atEos.finishReason()).isEqualTo(FinishReason.STOP);
            assertThat(atEos.tokenIds()).containsExactly(Arrays.copyOf(free.tokenIds(), firstEos + 1));
            assertThat(atEos.text()).isEqualTo(tok.decode(Arrays.copyOf(free.tokenIds(), firstEos), true));
            assertThat(atEos.distribution().size()).isEqualTo(firstEos + 1);

            String stop = free.text().substring(5, 7);
            int cut = free.text().indexOf(stop);
            Generation atStop = g.generate(prompt, SamplingParams.greedy(10).withStops(List.of(), List.of("zzz", stop)));
            assertThat(atStop.finishReason()).isEqualTo(FinishReason.STOP);
            assertThat(atStop.text()).isEqualTo(free.text().substring(0, cut));
            assertThat(atStop.tokenIds()).hasSize(cut + stop.length());   // bytes as tokens: one token per char

            Generation none = g.generate(prompt, SamplingParams.greedy(0));
            assertThat(none.tokenIds()).isEmpty();
            assertThat(none.finishReason()).isEqualTo(FinishReason.LENGTH);
        }
    }

    @Test
    void samplingIsSeededAndReportsRawLogprobs() throws IOException {
        ReferenceFixture f = ReferenceFixture.load("llama");
        try (CausalLM model = f.model(manager)) {
            ByteTokenizer tok = new ByteTokenizer(f.config().vocabSize());
            Generator g = new Generator(model, tok);
            int[] prompt = {1, 20, 30};
            SamplingParams hot = SamplingParams.greedy(12).withSampling(1.5, 0, 1.0, 42).withTopLogprobs(5);
            Generation a = g.generate(prompt, hot);
            Generation b = g.generate(prompt, hot);
            assertThat(a.tokenIds()).containsExactly(b.tokenIds());
            Generation other = g.generate(prompt, hot.withSampling(1.5, 0, 1.0, 43));
            Generation greedy = g.generate(prompt, SamplingParams.greedy(12).withTopLogprobs(5));
            assertThat(List.of(other.tokenIds(), greedy.tokenIds()))
                    .anySatisfy(ids -> assertThat(ids).isNotEqualTo(a.tokenIds()));
            // top-k 1 is greedy whatever the temperature; a tiny nucleus too
            assertThat(g.generate(prompt, hot.withSampling(2.0, 1, 1.0, 7)).tokenIds()).containsExactly(greedy.tokenIds());
            assertThat(g.generate(prompt, hot.withSampling(2.0, 0, 1e-9, 7)).tokenIds()).containsExactly(greedy.tokenIds());

            for (TokenPosition pos : a.distribution().positions()) {
                List<TokenLogprob> alts = pos.alternatives();
                assertThat(alts).hasSize(5);
                for (int k = 1; k < alts.size(); k++) assertThat(alts.get(k).logprob()).isLessThanOrEqualTo(alts.get(k - 1).logprob());
                double mass = alts.stream().mapToDouble(x -> Math.exp(x.logprob())).sum();
                assertThat((double) pos.tail()).isCloseTo(Math.max(0, 1 - mass), within(1e-5));
                assertThat(pos.chosen().logprob()).isLessThanOrEqualTo(0f);
                alts.stream().filter(x -> x.token().equals(pos.chosen().token())).findFirst()
                        .ifPresent(x -> assertThat(x.logprob()).isEqualTo(pos.chosen().logprob()));
            }
            // temperature must not change reported logprobs: they are of the raw distribution
            TokenPosition hot0 = a.distribution().positions().get(0);
            TokenPosition cold0 = greedy.distribution().positions().get(0);
            assertThat(hot0.alternatives()).isEqualTo(cold0.alternatives());
            assertThat(cold0.chosen()).isEqualTo(cold0.alternatives().get(0));
            assertThat(cold0.chosen().bytes()).isEqualTo(tok.tokenBytes(greedy.tokenIds()[0]));
        }
    }

    @Test
    void teacherForcedScoresMatchGeneration() throws IOException {
        ReferenceFixture f = ReferenceFixture.load("qwen3");
        try (CausalLM model = f.model(manager)) {
            ByteTokenizer tok = new ByteTokenizer(f.config().vocabSize());
            int[] prompt = {1, 11, 22, 33, 44};
            Generation gen = new Generator(model, tok).generate(prompt,
                    SamplingParams.greedy(6).withSampling(1.0, 0, 1.0, 3).withTopLogprobs(4));
            Scorer.Scored s = new Scorer(model, tok).score(prompt, gen.tokenIds(), 4);
            assertThat(s.logprobs()).hasSize(6);
            double sum = 0;
            for (int i = 0; i < 6; i++) {
                TokenPosition p = gen.distribution().positions().get(i);
                assertThat(s.logprobs()[i]).isCloseTo(p.chosen().logprob(), within(1e-4));
                assertThat(s.distribution().positions().get(i).alternatives().get(0).token())
                        .isEqualTo(p.alternatives().get(0).token());
                sum += s.logprobs()[i];
            }
            assertThat(s.total()).isCloseTo(sum, within(1e-9));
        }
    }

    /**
     * Without a listener and without stop strings nobody reads the per-token text: the tokenizer decodes each sequence
     * once, at its end, instead of all its tokens after every step; with a stop string or a listener it decodes every
     * step, and the texts are the same either way.
     */
    @Test
    void textIsDecodedOncePerSequenceUnlessSomeoneReadsItStepByStep() throws IOException {
        ReferenceFixture f = ReferenceFixture.load("qwen2");
        try (CausalLM model = f.model(manager)) {
            int[] decodes = new int[1];
            ByteTokenizer bytes = new ByteTokenizer(f.config().vocabSize());
            TextTokenizer counting = new TextTokenizer() {
                @Override public int[] encode(String text, boolean special) { return bytes.encode(text, special); }
                @Override public String decode(int[] ids, boolean skip) {
                    decodes[0]++;
                    return bytes.decode(ids, skip);
                }
                @Override public String tokenString(int id) { return bytes.tokenString(id); }
                @Override public byte[] tokenBytes(int id) { return bytes.tokenBytes(id); }
                @Override public int tokenId(String token) { return bytes.tokenId(token); }
                @Override public int vocabSize() { return bytes.vocabSize(); }
                @Override public boolean isSpecial(int id) { return bytes.isSpecial(id); }
            };
            Generator g = new Generator(model, counting);
            List<int[]> prompts = List.of(new int[] {1, 40, 50, 60}, new int[] {1, 20});
            List<Generation> quiet = g.generate(prompts, SamplingParams.greedy(12));
            assertThat(decodes[0]).isEqualTo(2);

            decodes[0] = 0;
            List<Generation> streamed = g.generate(prompts, SamplingParams.greedy(12), (seq, id, delta, pos) -> {});
            assertThat(decodes[0]).isEqualTo(2 * 12);
            decodes[0] = 0;
            List<Generation> stopped = g.generate(prompts, SamplingParams.greedy(12).withStops(List.of(), List.of("\u0000")));
            assertThat(decodes[0]).isEqualTo(2 * 12);
            for (int i = 0; i < 2; i++) {
                assertThat(quiet.get(i).text()).isEqualTo(streamed.get(i).text()).isEqualTo(stopped.get(i).text())
                        .isEqualTo(bytes.decode(quiet.get(i).tokenIds(), true));
                assertThat(quiet.get(i).tokenIds()).containsExactly(streamed.get(i).tokenIds());
            }
        }
    }

    @Test
    void listenerDeltasConcatenateToTheTextAndArriveStepByStep() throws IOException {
        ReferenceFixture f = ReferenceFixture.load("qwen2");
        try (CausalLM model = f.model(manager)) {
            ByteTokenizer tok = new ByteTokenizer(f.config().vocabSize());
            Generator g = new Generator(model, tok);
            List<int[]> prompts = List.of(new int[] {1, 40, 50, 60}, new int[] {1, 20}, new int[] {1, 33, 34});
            List<Generation> plain = g.generate(prompts, SamplingParams.greedy(12));
            String free = plain.get(0).text();
            int at = 2;
            while (free.charAt(at) > 127 || free.charAt(at + 1) > 127) at++;   // an ASCII stop string
            String stop = free.substring(at, at + 2);
            int[] zero = plain.get(0).tokenIds();
            int eos = Arrays.stream(plain.get(1).tokenIds()).filter(id -> Arrays.stream(zero).noneMatch(z -> z == id))
                    .findFirst().orElseThrow();
            SamplingParams p = SamplingParams.greedy(12).withStops(List.of(eos), List.of(stop)).withTopLogprobs(2);

            int[] tokens = new int[3];
            StringBuilder[] text = {new StringBuilder(), new StringBuilder(), new StringBuilder()};
            Generation[] finished = new Generation[3];
            List<Integer> order = new java.util.ArrayList<>();
            List<Generation> out = g.generate(prompts, p, new TokenListener() {
                @Override public void onToken(int seq, int tokenId, String delta, TokenPosition position) {
                    assertThat(finished[seq]).as("no token after finish").isNull();
                    assertThat(position.chosen().bytes()).isEqualTo(tok.tokenBytes(tokenId));
                    tokens[seq]++;
                    text[seq].append(delta);
                    order.add(seq);
                }

                @Override public void onFinish(int seq, Generation gen) {
                    finished[seq] = gen;
                    assertThat(gen.tokenIds()).hasSize(tokens[seq]);
                }
            });
            for (int i = 0; i < 3; i++) {
                assertThat(finished[i]).as("finish of %d", i).isNotNull();
                assertThat(finished[i].tokenIds()).containsExactly(out.get(i).tokenIds());
                assertThat(text[i].toString()).isEqualTo(out.get(i).text());
                assertThat(text[i].toString()).doesNotContain(stop);
            }
            assertThat(out.get(0).text()).isEqualTo(plain.get(0).text().substring(0, plain.get(0).text().indexOf(stop)));
            assertThat(out.get(0).finishReason()).isEqualTo(FinishReason.STOP);
            // tokens of the batch interleave step by step: sequence 1 is heard before sequence 0 ends
            assertThat(order.subList(0, 3)).containsExactly(0, 1, 2);
        }
    }

    @Test
    void idsPastTheTokenizerAreNeverSampledNorOffered() throws IOException {
        // llama's checkpoint has 112 rows; a 30-token tokenizer leaves 82 padded ids, as Qwen pads 151665 → 151936
        ReferenceFixture f = ReferenceFixture.load("llama");
        try (CausalLM model = f.model(manager)) {
            ByteTokenizer tok = new ByteTokenizer(30);
            Generator g = new Generator(model, tok);
            int[] prompt = {1, 20, 21};
            for (SamplingParams p : List.of(SamplingParams.greedy(16).withTopLogprobs(30),
                    SamplingParams.greedy(16).withSampling(3.0, 0, 1.0, 5).withTopLogprobs(30))) {
                Generation gen = g.generate(prompt, p);
                assertThat(gen.tokenIds()).hasSize(16);
                assertThat(Arrays.stream(gen.tokenIds()).max().orElseThrow()).isLessThan(30);
                for (TokenPosition pos : gen.distribution().positions()) {
                    assertThat(pos.alternatives()).hasSize(30);
                    // renormalised over the tokenizer's tokens: the 30 alternatives hold all the mass
                    double mass = pos.alternatives().stream().mapToDouble(a -> Math.exp(a.logprob())).sum();
                    assertThat(mass).isCloseTo(1.0, within(1e-4));
                }
                Scorer.Scored s = new Scorer(model, tok).score(prompt, gen.tokenIds(), 3);
                assertThat(s.logprobs()[0]).isCloseTo(gen.distribution().positions().get(0).chosen().logprob(),
                        within(1e-4));
            }
            // without the cut, padded ids would be among the alternatives
            try (NDManager m = manager.newSubManager()) {
                float[] last = model.forwardLast(m.create(prompt, new ai.djl.ndarray.types.Shape(1, 3)), null, null)
                        .toFloatArray();
                assertThat(Arrays.stream(Logprobs.topN(last, 30)).max().orElseThrow()).isGreaterThanOrEqualTo(30);
            }
        }
    }
}
