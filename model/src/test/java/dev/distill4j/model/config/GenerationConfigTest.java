package dev.distill4j.model.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.distill4j.core.Json;
import dev.distill4j.model.tokenizer.SpecialTokens;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GenerationConfigTest {
    @TempDir Path dir;

    @Test
    void readsIntOrListEosAndKeepsUnknownFields() throws IOException {
        Files.writeString(dir.resolve("generation_config.json"), """
                {"bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "do_sample": true,
                 "temperature": 0.6, "top_p": 0.9, "transformers_version": "4.45.0"}""");
        GenerationConfig g = GenerationConfig.read(dir).orElseThrow();
        assertThat(g.eosTokenIds()).containsExactly(128001, 128008, 128009);
        assertThat(g.bosTokenId()).isEqualTo(128000);
        assertThat(g.temperature()).isEqualTo(0.6);
        assertThat(g.topK()).isNull();
        assertThat(g.doSample()).isTrue();

        GenerationConfig single = new GenerationConfig(1, List.of(2), 0, null, null, 50, false, 256, g.raw());
        single.write(dir);
        var json = Json.parse(Files.readString(dir.resolve("generation_config.json")));
        assertThat(json.get("eos_token_id").isInt()).isTrue();
        assertThat(json.get("transformers_version").asText()).isEqualTo("4.45.0");
        assertThat(json.has("temperature")).isFalse();
        assertThat(GenerationConfig.read(dir).orElseThrow().maxNewTokens()).isEqualTo(256);

        assertThat(GenerationConfig.read(dir.resolve("none"))).isEmpty();
        assertThatThrownBy(() -> GenerationConfig.fromJson(Json.parse("{\"eos_token_id\": \"x\"}"), "g.json"))
                .hasMessageContaining("g.json: eos_token_id must be an integer or a list");
    }

    @Test
    void specialTokensFromStringsObjectsOrTheMapFile() throws IOException {
        Files.writeString(dir.resolve("tokenizer_config.json"),
                "{\"bos_token\": {\"content\": \"<s>\", \"lstrip\": false}, \"eos_token\": \"</s>\", \"pad_token\": null}");
        Files.writeString(dir.resolve("special_tokens_map.json"), "{\"pad_token\": \"<pad>\", \"unk_token\": {\"content\": \"<unk>\"}}");
        SpecialTokens t = SpecialTokens.read(dir);
        assertThat(t.bosToken()).isEqualTo("<s>");
        assertThat(t.eosToken()).isEqualTo("</s>");
        assertThat(t.padToken()).isEqualTo("<pad>");
        assertThat(t.unkToken()).isEqualTo("<unk>");
        assertThat(t.addBosToken()).isFalse();
        Files.writeString(dir.resolve("tokenizer_config.json"), "{oops");
        assertThatThrownBy(() -> SpecialTokens.read(dir)).hasMessageContaining("tokenizer_config.json is not valid JSON");
    }

    @Test
    void withTorchDtypeKeepsEverythingElse() {
        ModelConfig c = ModelConfig.fromJson(Json.parse("{\"model_type\":\"qwen3\",\"vocab_size\":10,\"hidden_size\":8,"
                + "\"intermediate_size\":4,\"num_hidden_layers\":1,\"num_attention_heads\":2,\"head_dim\":6,"
                + "\"eos_token_id\":[1,2],\"torch_dtype\":\"float32\",\"custom\":7}"), "t");
        ModelConfig b = c.withTorchDtype("bfloat16");
        assertThat(b.torchDtype()).isEqualTo("bfloat16");
        assertThat(b.toJson().get("custom").asInt()).isEqualTo(7);
        assertThat(b.headDim()).isEqualTo(6);
        assertThat(b.eosTokenIds()).containsExactly(1, 2);
    }
}
