package dev.distill4j.model.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import dev.distill4j.model.config.ModelConfig;
import dev.distill4j.model.generate.Generation;
import dev.distill4j.model.io.Checkpoint;
import dev.distill4j.model.io.DType;
import dev.distill4j.model.io.ModelInfo;
import dev.distill4j.model.local.LocalModel;
import dev.distill4j.model.testing.TinyModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ModelInitTest {
    @TempDir Path tmp;

    @Test
    void writesACompleteHuggingFaceFolderWithTheTokenizersVocabularyAndSpecialTokens() throws IOException {
        Path out = tmp.resolve("student");
        ModelInit.Result r = ModelInit.create(TinyModels.spec("llama", 1), TinyModels.tokenizerDir(), out, false);

        try (Stream<Path> files = Files.list(out)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("config.json",
                    "model.safetensors", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                    "special_tokens_map.json");
        }
        try (Stream<Path> siblings = Files.list(tmp)) {
            assertThat(siblings.map(p -> p.getFileName().toString())).containsExactly("student");  // no .partial left
        }
        JsonNode cfg = Json.parse(Files.readString(out.resolve("config.json")));
        assertThat(cfg.get("vocab_size").asInt()).isEqualTo(356);
        assertThat(cfg.get("eos_token_id").asInt()).isEqualTo(355);          // <|im_end|>
        assertThat(cfg.has("bos_token_id")).isFalse();                       // the tiny tokenizer has none
        assertThat(cfg.get("architectures").get(0).asText()).isEqualTo("LlamaForCausalLM");
        assertThat(cfg.get("torch_dtype").asText()).isEqualTo("float32");
        JsonNode gen = Json.parse(Files.readString(out.resolve("generation_config.json")));
        assertThat(gen.get("eos_token_id").asInt()).isEqualTo(355);
        assertThat(gen.get("pad_token_id").asInt()).isEqualTo(353);          // <|endoftext|>

        ModelInfo info = ModelInfo.read(out);
        assertThat(info.parameters()).isEqualTo(r.parameters()).isEqualTo(Checkpoint.parameterCount(r.config()));
        assertThat(info.nonEmbeddingParameters()).isEqualTo(r.parameters() - 356 * 32);
        assertThat(info.tiedEmbeddings()).isTrue();
        assertThat(info.headDim()).isEqualTo(8);
        assertThat(info.dtype()).isEqualTo("float32");
        assertThat(info.weightBytes()).isEqualTo(4 * info.parameters());
        assertThat(info.diskBytes()).isGreaterThan(info.weightBytes());
    }

    @Test
    void sameSeedSameWeightsOtherSeedOtherWeights() throws IOException {
        ModelInit.create(TinyModels.spec("qwen2", 7), TinyModels.tokenizerDir(), tmp.resolve("a"), false);
        ModelInit.create(TinyModels.spec("qwen2", 7), TinyModels.tokenizerDir(), tmp.resolve("b"), false);
        ModelInit.create(TinyModels.spec("qwen2", 8), TinyModels.tokenizerDir(), tmp.resolve("c"), false);
        byte[] a = Files.readAllBytes(tmp.resolve("a/model.safetensors"));
        assertThat(Files.readAllBytes(tmp.resolve("b/model.safetensors"))).isEqualTo(a);
        assertThat(Files.readAllBytes(tmp.resolve("c/model.safetensors"))).isNotEqualTo(a);
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "mistral", "qwen2", "qwen3"})
    void initSaveLoadGenerateForEveryFamily(String family) throws IOException {
        Path out = tmp.resolve(family);
        ModelInit.create(TinyModels.spec(family, 3), TinyModels.tokenizerDir(), out, false);
        try (LocalModel m = LocalModel.load(out)) {
            assertThat(m.config().modelType()).isEqualTo(family);
            int[] prompt = m.encodeText("the cat");
            var params = m.sampling(new LocalModel.SamplingRequest(6, null, null, null, null, List.of(), 2, true));
            assertThat(params.isGreedy()).isTrue();
            assertThat(params.eosTokenIds()).containsExactly(355);
            Generation g = m.generate(prompt, params);
            assertThat(g.tokenIds()).isNotEmpty().hasSizeLessThanOrEqualTo(6);
            assertThat(g.usage().promptTokens()).isEqualTo(prompt.length);
            assertThat(g.distribution().positions()).allSatisfy(p -> assertThat(p.alternatives()).hasSize(2));
            assertThat(m.generate(prompt, params).tokenIds()).isEqualTo(g.tokenIds());   // greedy is deterministic
        }
    }

    @Test
    void familySpecificConfig() throws IOException {
        var qwen3 = new ModelInit.Spec("qwen3", 1, 32, 4, 1, null, 16, 1e6, 512, false, null, 1, DType.BF16);
        ModelInit.Result r = ModelInit.create(qwen3, TinyModels.tokenizerDir(), tmp.resolve("q3"), false);
        ModelConfig c = ModelConfig.read(tmp.resolve("q3"));
        assertThat(c.headDim()).isEqualTo(16);
        assertThat(c.intermediateSize()).isEqualTo(ModelInit.defaultIntermediate(32)).isEqualTo(128);
        assertThat(c.tieWordEmbeddings()).isFalse();
        assertThat(c.torchDtype()).isEqualTo("bfloat16");
        assertThat(ModelInfo.read(tmp.resolve("q3")).nonEmbeddingParameters()).isEqualTo(r.parameters() - 2 * 356 * 32);

        var mistral = new ModelInit.Spec("mistral", 1, 32, 4, 2, 64, null, 1e4, 256, true, 16, 1, DType.F32);
        ModelInit.create(mistral, TinyModels.tokenizerDir(), tmp.resolve("m"), false);
        assertThat(ModelConfig.read(tmp.resolve("m")).slidingWindow()).isEqualTo(16);
        ModelInit.create(TinyModels.spec("mistral", 1), TinyModels.tokenizerDir(), tmp.resolve("m2"), false);
        // transformers would otherwise default Mistral's window to 4096
        assertThat(Json.parse(Files.readString(tmp.resolve("m2/config.json"))).get("sliding_window").isNull()).isTrue();
    }

    @Test
    void clearErrors() throws IOException {
        assertThatThrownBy(() -> TinyModels.spec("gpt2", 1)).hasMessage("unknown family 'gpt2' (use llama, mistral, qwen2 or qwen3)");
        assertThatThrownBy(() -> new ModelInit.Spec("llama", 0, 32, 4, 3, null, null, 1e4, 256, true, null, 1, DType.F32))
                .hasMessageContaining("layers must be a positive integer, got 0");
        assertThatThrownBy(() -> new ModelInit.Spec("llama", 2, 32, 4, 3, null, null, 1e4, 256, true, null, 1, DType.F32))
                .hasMessage("heads (4) must be a multiple of kv-heads (3)");
        assertThatThrownBy(() -> new ModelInit.Spec("llama", 2, 30, 4, 2, null, null, 1e4, 256, true, null, 1, DType.F32))
                .hasMessageContaining("hidden (30) is not divisible by heads (4)");
        assertThatThrownBy(() -> new ModelInit.Spec("llama", 2, 32, 4, 2, null, null, 1e4, 256, true, 8, 1, DType.F32))
                .hasMessageContaining("only supported for the mistral family");
        assertThatThrownBy(() -> ModelInit.create(TinyModels.spec("llama", 1), tmp.resolve("nope"), tmp.resolve("x"), false))
                .isInstanceOf(IOException.class).hasMessageContaining("tokenizer folder").hasMessageContaining("does not exist");

        Path out = tmp.resolve("taken");
        Files.createDirectories(out);
        Files.writeString(out.resolve("notes.txt"), "mine");
        assertThatThrownBy(() -> ModelInit.create(TinyModels.spec("llama", 1), TinyModels.tokenizerDir(), out, false))
                .hasMessageContaining("already exists and is not empty");
        ModelInit.create(TinyModels.spec("llama", 1), TinyModels.tokenizerDir(), out, true);
        assertThat(out.resolve("model.safetensors")).exists();
        assertThat(out.resolve("notes.txt")).hasContent("mine");
    }
}
