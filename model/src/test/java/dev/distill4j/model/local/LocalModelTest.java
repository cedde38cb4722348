package dev.distill4j.model.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.model.config.GenerationConfig;
import dev.distill4j.model.config.ModelConfig;
import dev.distill4j.model.generate.FinishReason;
import dev.distill4j.model.generate.Generation;
import dev.distill4j.model.generate.SamplingParams;
import dev.distill4j.model.io.Checkpoint;
import dev.distill4j.model.io.DType;
import dev.distill4j.model.ops.ModelInit;
import dev.distill4j.model.testing.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalModelTest {
    @TempDir Path tmp;

    private static LocalModel.SamplingRequest req(Integer max, Double t, Double p, Integer k, boolean greedy) {
        return new LocalModel.SamplingRequest(max, t, p, k, 7L, List.of(), 0, greedy);
    }

    @Test
    void samplingDefaultsFollowGenerationConfigAsTheServerDoes() throws Exception {
        Path dir = tmp.resolve("m");
        ModelInit.create(TinyModels.spec("qwen3", 1), TinyModels.tokenizerDir(), dir, false);
        try (LocalModel m = LocalModel.load(dir)) {
            SamplingParams d = m.sampling(req(null, null, null, null, false));
            assertThat(d.temperature()).as("nothing set anywhere: OpenAI's temperature 1").isEqualTo(1.0);
            assertThat(d.topP()).isEqualTo(1.0);
            assertThat(d.topK()).isZero();
            assertThat(d.maxNewTokens()).isEqualTo(LocalModel.DEFAULT_MAX_NEW_TOKENS);
            assertThat(d.eosTokenIds()).containsExactly(355);
            assertThat(d.seed()).isEqualTo(7);
            SamplingParams t = m.sampling(req(10, 0.7, null, null, false));
            assertThat(t.temperature()).isEqualTo(0.7);
            assertThat(t.topP()).isEqualTo(1.0);
            assertThat(t.topK()).isZero();
            SamplingParams k = m.sampling(req(10, null, null, 5, false));
            assertThat(k.temperature()).isEqualTo(1.0);
            assertThat(k.topK()).isEqualTo(5);
            assertThat(m.sampling(req(10, 0.7, 0.9, 5, true)).isGreedy()).isTrue();
            assertThat(m.sampling(req(10, null, 0.0, null, false)).isGreedy()).as("a zero nucleus").isTrue();
            // no seed given: a random one each time, reported in the params so the text can be repeated
            long s1 = m.sampling(new LocalModel.SamplingRequest(4, 1.0, null, null, null, List.of(), 0, false)).seed();
            long s2 = m.sampling(new LocalModel.SamplingRequest(4, 1.0, null, null, null, List.of(), 0, false)).seed();
            assertThat(s1).isNotEqualTo(s2);
        }
        ObjectNode gen = (ObjectNode) Json.parse(Files.readString(dir.resolve("generation_config.json")));
        // many instruct models ship sampling values without do_sample: vLLM (and distill serve) sample with them
        gen.put("temperature", 0.6).put("top_p", 0.9).put("top_k", -1).put("max_new_tokens", 33);
        gen.putArray("eos_token_id").add(355).add(353);
        Files.writeString(dir.resolve("generation_config.json"), Json.write(gen));
        try (LocalModel m = LocalModel.load(dir)) {
            SamplingParams d = m.sampling(req(null, null, null, null, false));
            assertThat(d.temperature()).isEqualTo(0.6);
            assertThat(d.topP()).isEqualTo(0.9);
            assertThat(d.topK()).as("top_k -1 is off").isZero();
            assertThat(d.maxNewTokens()).isEqualTo(33);
            assertThat(d.eosTokenIds()).containsExactly(355, 353);
            assertThat(m.sampling(req(null, 0.0, null, null, false)).isGreedy()).isTrue();
        }
        gen.put("do_sample", false);
        Files.writeString(dir.resolve("generation_config.json"), Json.write(gen));
        try (LocalModel m = LocalModel.load(dir)) {
            assertThat(m.sampling(req(null, null, null, null, false)).isGreedy()).as("do_sample false").isTrue();
            assertThat(m.sampling(req(null, 0.8, null, null, false)).temperature()).isEqualTo(0.8);
        }
    }

    @Test
    void generationIsCutToTheContext() throws Exception {
        Path dir = tmp.resolve("m");
        ModelInit.create(TinyModels.spec("llama", 1), TinyModels.tokenizerDir(), dir, false);   // context 256
        try (LocalModel m = LocalModel.load(dir)) {
            int[] prompt = new int[250];
            Arrays.fill(prompt, 65);
            SamplingParams p = m.sampling(req(20, null, null, null, false)).withStops(List.of(), List.of());
            Generation g = m.generate(prompt, p);
            assertThat(g.tokenIds()).hasSize(6);
            assertThat(g.finishReason()).isEqualTo(FinishReason.LENGTH);
            assertThatThrownBy(() -> m.generate(new int[256], p)).hasMessageContaining("fills the model's context of 256");
        }
    }

    @Test
    void paddedVocabularyRowsAreNeverGenerated() throws Exception {
        // as Qwen2.5 pads 151665 tokens to vocab_size 151936: here 356 tokens, 556 rows, and the padded rows are
        // scaled copies of real ones, so they would beat every real token without the cut
        Path dir = tmp.resolve("m");
        ModelInit.create(TinyModels.spec("llama", 1), TinyModels.tokenizerDir(), dir, false);
        try (NDManager nd = NDManager.newBaseManager("PyTorch")) {
            Map<String, ai.djl.ndarray.NDArray> w = Checkpoint.load(dir, nd);
            NDArray embed = w.get("model.embed_tokens.weight");      // tied: also the head
            w.put("model.embed_tokens.weight", embed.concat(embed.get("0:200, :").mul(4f), 0));
            ObjectNode cfg = (ObjectNode) Json.parse(Files.readString(dir.resolve("config.json")));
            cfg.put("vocab_size", 556);
            Files.writeString(dir.resolve("config.json"), Json.write(cfg));
            Checkpoint.save(dir, ModelConfig.read(dir), w,
                    Checkpoint.SaveOptions.defaults().withDtype(DType.F32)
                            .withGenerationConfig(GenerationConfig.read(dir).orElseThrow()));
        }
        try (LocalModel m = LocalModel.load(dir)) {
            assertThat(m.config().vocabSize()).isEqualTo(556);
            assertThat(m.tokenizer().vocabSize()).isEqualTo(356);
            StringBuilder streamed = new StringBuilder();
            Generation g = m.generate(m.encodeText("the cat sat"),
                    m.sampling(req(12, null, null, null, false)).withStops(List.of(), List.of()).withTopLogprobs(5),
                    (seq, id, delta, pos) -> streamed.append(delta));
            assertThat(g.tokenIds()).hasSize(12);
            assertThat(Arrays.stream(g.tokenIds()).max().orElseThrow()).isLessThan(356);
            assertThat(g.distribution().positions()).allSatisfy(p -> assertThat(p.alternatives()).hasSize(5));
            assertThat(streamed.toString()).isEqualTo(g.text());
        }
    }

    @Test
    void theWeightsAreHeldOnceUntilScoringAsksForTheDjlModel() throws Exception {
        Path dir = tmp.resolve("once");
        ModelInit.create(TinyModels.spec("llama", 1), TinyModels.tokenizerDir(), dir, false);
        try (LocalModel m = LocalModel.load(dir)) {
            int[] prompt = m.encodeText("the cat sat");
            Generation g = m.generate(prompt, SamplingParams.greedy(6));
            assertThat(m.scoringLoaded()).as("generation runs on the engine's copy alone").isFalse();
            long parameters = m.parameterCount();
            var first = m.scorer().score(prompt, g.tokenIds(), 0);
            assertThat(m.scoringLoaded()).isTrue();
            assertThat(m.model()).isSameAs(m.model());
            assertThat(m.model().parameterCount()).isEqualTo(parameters);
            // the greedy tokens are the DJL model's most likely ones too: both read the same weights
            var again = m.scorer().score(prompt, g.tokenIds(), 1);
            assertThat(again.total()).isEqualTo(first.total());
            for (int i = 0; i < g.tokenIds().length; i++) {
                assertThat(again.logprobs()[i]).as("token %d is the DJL model's most likely", i).isCloseTo(
                        again.distribution().positions().get(i).alternatives().getFirst().logprob(), within(1e-4));
            }
        }
    }

    @Test
    void oneLoaderServesGenerateServeAndEval() throws Exception {
        Path dir = tmp.resolve("m");
        ModelInit.create(TinyModels.spec("llama", 1), TinyModels.tokenizerDir(), dir, false);
        // each of the three sources names a different end token: a generation stops at any of them
        ObjectNode cfg = (ObjectNode) Json.parse(Files.readString(dir.resolve("config.json")));
        cfg.put("eos_token_id", 10);
        Files.writeString(dir.resolve("config.json"), Json.write(cfg));
        ObjectNode gen = (ObjectNode) Json.parse(Files.readString(dir.resolve("generation_config.json")));
        gen.putArray("eos_token_id").add(353);
        Files.writeString(dir.resolve("generation_config.json"), Json.write(gen));
        try (NDManager parent = NDManager.newBaseManager("PyTorch"); LocalModel m = LocalModel.load(dir, parent)) {
            assertThat(m.eosTokenIds()).containsExactly(353, 10, 355);
            assertThat(LocalModel.eosTokenIds(m.generationConfig(), m.config(), m.tokenizer()))
                    .isEqualTo(m.eosTokenIds());
            assertThat(m.contextLength()).isEqualTo(256);
            assertThat(m.name()).isEqualTo("m");
            // eval's timed generation: the same tokens as a plain generation that stops at the model's EOS ids
            int[] prompt = m.encodeText("the cat sat");
            LocalModel.Timed t = m.generateTimed(prompt, SamplingParams.greedy(8));
            Generation plain = m.generate(prompt, SamplingParams.greedy(8).withStops(m.eosTokenIds(), List.of()));
            assertThat(t.generation().tokenIds()).containsExactly(plain.tokenIds());
            assertThat(t.prefillNanos()).isPositive();
            assertThat(t.totalNanos()).isPositive();
            assertThat(m.info().diskBytes()).as("every file of the folder")
                    .isGreaterThan(m.info().weightBytes());
        }
        Files.delete(dir.resolve("tokenizer.json"));
        assertThatThrownBy(() -> LocalModel.load(dir)).isInstanceOf(java.io.IOException.class)
                .hasMessage(dir + " has no tokenizer.json; a model loaded for inference needs its tokenizer in the "
                        + "folder");
    }

    /**
     * Prompts as training renders them: a chat model renders raw-text prompts as a user turn through its template; a
     * model without a template takes raw text with the tokenizer's specials, and refuses chat prompts and a demand for
     * chat with errors that say what to do.
     */
    @Test
    void encodesPromptsAsTrainingRendersThem() throws Exception {
        Path chatDir = tmp.resolve("chat");
        ModelInit.create(TinyModels.spec("llama", 1), TinyModels.tokenizerDir(), chatDir, false);
        Path baseDir = tmp.resolve("base");
        ModelInit.create(TinyModels.spec("llama", 1), TinyModels.tokenizerDir(), baseDir, false);
        ObjectNode tc = (ObjectNode) Json.parse(Files.readString(baseDir.resolve("tokenizer_config.json")));
        tc.remove("chat_template");
        Files.writeString(baseDir.resolve("tokenizer_config.json"), Json.write(tc));
        dev.distill4j.core.Prompt raw = new dev.distill4j.core.Prompt("p1", "hello there", null, null, "t", 1);
        dev.distill4j.core.Prompt chat = new dev.distill4j.core.Prompt("p2", null,
                List.of(dev.distill4j.core.Message.user("hello there")), null, "t", 2);
        try (LocalModel m = LocalModel.load(chatDir)) {
            assertThat(m.encodePrompt(raw)).containsExactly(m.encodeChat(raw.chat()));
            assertThat(m.encodePrompt(chat)).containsExactly(m.encodeChat(chat.chat()));
            assertThat(m.encodePrompt(raw, false)).containsExactly(m.encodeText("hello there"));
        }
        try (LocalModel m = LocalModel.load(baseDir)) {
            assertThat(m.encodePrompt(raw)).containsExactly(m.encodeText("hello there"));
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> m.encodePrompt(chat))
                    .isInstanceOf(dev.distill4j.core.InvalidInputException.class)
                    .hasMessageContaining("'p2' is a chat").hasMessageContaining("chat_template.jinja");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> m.encodePrompt(raw, true))
                    .isInstanceOf(dev.distill4j.core.InvalidInputException.class)
                    .hasMessageContaining("has no chat template").hasMessageContaining("raw-text prompts");
        }
    }
}
