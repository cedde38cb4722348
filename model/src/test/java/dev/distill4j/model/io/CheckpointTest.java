package dev.distill4j.model.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.model.config.GenerationConfig;
import dev.distill4j.model.config.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {
    @TempDir Path dir;
    NDManager manager;

    @BeforeEach
    void setUp() { manager = NDManager.newBaseManager(); }

    @AfterEach
    void tearDown() { manager.close(); }

    static ModelConfig config(String type, boolean tied, String extra) {
        String json = "{\"model_type\":\"" + type + "\",\"vocab_size\":32,\"hidden_size\":8,\"intermediate_size\":12,"
                + "\"num_hidden_layers\":2,\"num_attention_heads\":4,\"num_key_value_heads\":2,"
                + "\"tie_word_embeddings\":" + tied + ",\"eos_token_id\":2,\"bos_token_id\":1" + extra + "}";
        return ModelConfig.fromJson(Json.parse(json), "test");
    }

    /** Random-ish weights of exactly the expected shapes, distinct per tensor so a swap would show. */
    Map<String, NDArray> weights(ModelConfig cfg) {
        Map<String, NDArray> w = new LinkedHashMap<>();
        int k = 0;
        for (Checkpoint.ExpectedTensor e : Checkpoint.expectedTensors(cfg)) {
            w.put(e.name(), manager.randomNormal(new Shape(e.shape())).add(k++));
        }
        return w;
    }

    @Test
    void expectedTensorsFollowEachFamily() {
        ModelConfig llama = config("llama", false, "");
        List<Checkpoint.ExpectedTensor> l = Checkpoint.expectedTensors(llama);
        assertThat(l).hasSize(1 + 2 * 9 + 2);
        assertThat(l.get(0)).isEqualTo(new Checkpoint.ExpectedTensor("model.embed_tokens.weight", new long[] {32, 8}));
        assertThat(l).contains(new Checkpoint.ExpectedTensor("model.layers.1.self_attn.q_proj.weight", new long[] {8, 8}),
                new Checkpoint.ExpectedTensor("model.layers.1.self_attn.k_proj.weight", new long[] {4, 8}),
                new Checkpoint.ExpectedTensor("model.layers.1.self_attn.o_proj.weight", new long[] {8, 8}),
                new Checkpoint.ExpectedTensor("model.layers.0.mlp.down_proj.weight", new long[] {8, 12}),
                new Checkpoint.ExpectedTensor("lm_head.weight", new long[] {32, 8}));
        assertThat(Checkpoint.parameterCount(llama))
                .isEqualTo(32 * 8 * 2 + 8 + 2 * (8 + 64 + 32 + 32 + 64 + 8 + 3 * 96));

        List<String> qwen2 = names(config("qwen2", true, ""));
        assertThat(qwen2).contains("model.layers.0.self_attn.q_proj.bias", "model.layers.0.self_attn.v_proj.bias")
                .doesNotContain("model.layers.0.self_attn.o_proj.bias", "lm_head.weight");

        List<String> llamaBias = names(config("llama", false, ",\"attention_bias\":true"));
        assertThat(llamaBias).contains("model.layers.1.self_attn.o_proj.bias", "model.layers.1.self_attn.k_proj.bias");

        // qwen3 sets head_dim independently of hidden_size / heads
        List<Checkpoint.ExpectedTensor> q3 = Checkpoint.expectedTensors(config("qwen3", true, ",\"head_dim\":6"));
        assertThat(q3).contains(new Checkpoint.ExpectedTensor("model.layers.0.self_attn.q_norm.weight", new long[] {6}),
                new Checkpoint.ExpectedTensor("model.layers.0.self_attn.q_proj.weight", new long[] {24, 8}),
                new Checkpoint.ExpectedTensor("model.layers.0.self_attn.o_proj.weight", new long[] {8, 24}),
                new Checkpoint.ExpectedTensor("model.layers.0.self_attn.v_proj.weight", new long[] {12, 8}));
        assertThat(q3.stream().map(Checkpoint.ExpectedTensor::name)).noneMatch(n -> n.endsWith(".bias"));
    }

    private static List<String> names(ModelConfig c) {
        return Checkpoint.expectedTensors(c).stream().map(Checkpoint.ExpectedTensor::name).toList();
    }

    @Test
    void savesAndLoadsSingleFileBf16WithTokenizerAndGenerationConfig() throws IOException {
        ModelConfig cfg = config("qwen2", false, "");
        Map<String, NDArray> w = weights(cfg);
        Path tok = Files.createDirectories(dir.resolve("tok"));
        Files.writeString(tok.resolve("tokenizer.json"), "{\"model\":{}}");
        Files.writeString(tok.resolve("tokenizer_config.json"), "{}");
        GenerationConfig gen = new GenerationConfig(1, List.of(2, 3), null, 0.7, 0.9, 20, true, null, null);
        Path out = dir.resolve("student");
        Checkpoint.save(out, cfg, w, Checkpoint.SaveOptions.defaults().withTokenizerFrom(tok).withGenerationConfig(gen));

        assertThat(out.resolve("model.safetensors")).exists();
        assertThat(out.resolve("model.safetensors.index.json")).doesNotExist();
        assertThat(out.resolve("tokenizer.json")).hasContent("{\"model\":{}}");
        assertThat(out.resolve("tokenizer_config.json")).exists();
        JsonNode config = Json.parse(Files.readString(out.resolve("config.json")));
        assertThat(config.get("torch_dtype").asText()).isEqualTo("bfloat16");
        assertThat(config.get("architectures").get(0).asText()).isEqualTo("Qwen2ForCausalLM");
        JsonNode gj = Json.parse(Files.readString(out.resolve("generation_config.json")));
        assertThat(gj.get("eos_token_id").toString()).isEqualTo("[2,3]");
        assertThat(gj.get("top_k").asInt()).isEqualTo(20);
        assertThat(GenerationConfig.read(out).orElseThrow().toJson()).isEqualTo(gen.toJson());

        try (Checkpoint c = Checkpoint.open(out)) {
            assertThat(c.info("model.norm.weight").dtype()).isEqualTo(DType.BF16);
            Map<String, NDArray> back = c.load(manager);
            assertThat(back.keySet()).containsExactlyElementsOf(w.keySet());
            for (String n : w.keySet()) {
                float[] expected = w.get(n).toFloatArray();
                for (int i = 0; i < expected.length; i++) expected[i] = Floats.bf16ToFloat(Floats.floatToBf16(expected[i]));
                assertThat(back.get(n).toFloatArray()).as(n).containsExactly(expected);
                assertThat(back.get(n).getShape()).isEqualTo(w.get(n).getShape());
            }
        }
        ModelInfo info = ModelInfo.read(out);
        assertThat(info.parameters()).isEqualTo(Checkpoint.parameterCount(cfg));
        assertThat(info.dtype()).isEqualTo("bfloat16");
        assertThat(info.weightBytes()).isEqualTo(2 * info.parameters());
        assertThat(info.summary()).startsWith("qwen2 · ").contains("bfloat16", "vocab 32", "2 layers × 8", "4/2 heads");
    }

    @Test
    void shardsWithSmallMaxShardBytesAndRoundTripsF32Exactly() throws IOException {
        ModelConfig cfg = config("llama", false, "");
        Map<String, NDArray> w = weights(cfg);
        Path out = dir.resolve("sharded");
        Checkpoint.save(out, cfg, w, Checkpoint.SaveOptions.defaults().withDtype(DType.F32).withMaxShardBytes(1500));

        List<String> shards;
        try (Stream<Path> s = Files.list(out)) {
            shards = s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".safetensors")).sorted().toList();
        }
        assertThat(shards.size()).isGreaterThan(2);
        assertThat(shards.get(0)).isEqualTo(String.format("model-00001-of-%05d.safetensors", shards.size()));
        JsonNode index = Json.parse(Files.readString(out.resolve("model.safetensors.index.json")));
        long total = 0;
        for (Checkpoint.ExpectedTensor e : Checkpoint.expectedTensors(cfg)) total += 4 * e.numel();
        assertThat(index.get("metadata").get("total_size").asLong()).isEqualTo(total);
        assertThat(index.get("weight_map").get("model.embed_tokens.weight").asText()).isEqualTo(shards.get(0));
        assertThat(index.get("weight_map").size()).isEqualTo(w.size());
        for (String s : shards) assertThat(Files.size(out.resolve(s))).isLessThan(1500 + 2048); // data + header

        Map<String, NDArray> back = Checkpoint.load(out, manager);
        for (String n : w.keySet()) assertThat(back.get(n).toFloatArray()).as(n).containsExactly(w.get(n).toFloatArray());
        try (Checkpoint c = Checkpoint.open(out)) {
            String last = "model.layers.1.mlp.down_proj.weight";
            assertThat(c.fileOf(last).getFileName().toString()).isNotEqualTo(shards.get(0));
            assertThat(c.read(manager, last).toFloatArray()).containsExactly(w.get(last).toFloatArray());
        }

        // saving again as one file removes the shards, so nothing stale can be picked up
        Checkpoint.save(out, cfg, w, Checkpoint.SaveOptions.defaults());
        try (Stream<Path> s = Files.list(out)) {
            assertThat(s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("model")))
                    .containsExactly("model.safetensors");
        }
    }

    @Test
    void validationNamesMissingAndMisshapenTensors() throws IOException {
        ModelConfig cfg = config("llama", false, "");
        Path out = dir.resolve("bad");
        Checkpoint.save(out, cfg, weights(cfg), Checkpoint.SaveOptions.defaults().withDtype(DType.F32));

        // rewrite the weights with one tensor missing and one of the wrong shape, plus an ignored extra
        SafetensorsWriter w = new SafetensorsWriter();
        for (Checkpoint.ExpectedTensor e : Checkpoint.expectedTensors(cfg)) {
            if (e.name().equals("model.layers.1.mlp.up_proj.weight")) continue;
            long[] shape = e.name().equals("model.layers.0.self_attn.k_proj.weight") ? new long[] {8, 8} : e.shape();
            w.add(e.name(), new float[(int) SafetensorsWriter.numel(shape)], shape);
        }
        w.add("model.layers.0.self_attn.rotary_emb.inv_freq", new float[2], 2);
        w.write(out.resolve("model.safetensors"), DType.F32);
        try (Checkpoint c = Checkpoint.open(out)) {
            assertThatThrownBy(c::validate)
                    .hasMessageContaining("1 tensor(s) that config.json (llama, 2 layers) implies are missing: "
                            + "model.layers.1.mlp.up_proj.weight")
                    .hasMessageContaining(out.resolve("model.safetensors") + ": tensor "
                            + "'model.layers.0.self_attn.k_proj.weight' has shape [8, 8] but")
                    .hasMessageContaining("implies [4, 8]");
            assertThatThrownBy(() -> c.load(manager)).isInstanceOf(IOException.class);
        }
    }

    @Test
    void tiedCheckpointWithLmHeadAndExtrasLoads() throws IOException {
        ModelConfig untied = config("llama", false, "");
        ModelConfig tied = config("llama", true, "");
        Path out = dir.resolve("tied");
        Checkpoint.save(out, untied, weights(untied), Checkpoint.SaveOptions.defaults());
        // the config now says tied, the file still has lm_head.weight: accepted, not loaded
        ObjectNode cj = (ObjectNode) Json.parse(Files.readString(out.resolve("config.json")));
        cj.put("tie_word_embeddings", true);
        Files.writeString(out.resolve("config.json"), Json.write(cj));
        try (Checkpoint c = Checkpoint.open(out)) {
            assertThat(c.tensorNames()).contains("lm_head.weight");
            Map<String, NDArray> loaded = c.load(manager);
            assertThat(loaded).doesNotContainKey("lm_head.weight").hasSize(Checkpoint.expectedTensors(tied).size());
        }
    }

    @Test
    void brokenFoldersFailClearly() throws IOException {
        ModelConfig cfg = config("llama", false, "");
        Path out = dir.resolve("broken");
        Checkpoint.save(out, cfg, weights(cfg), Checkpoint.SaveOptions.defaults().withMaxShardBytes(1000));
        Path second = out.resolve(String.format("model-00002-of-%05d.safetensors",
                Json.parse(Files.readString(out.resolve("model.safetensors.index.json"))).get("weight_map")
                        .properties().stream().map(e -> e.getValue().asText()).distinct().count()));
        Files.delete(second);
        assertThatThrownBy(() -> Checkpoint.open(out)).isInstanceOf(IOException.class)
                .hasMessageContaining(second.getFileName() + ", which does not exist (incomplete download?)");

        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertThatThrownBy(() -> Checkpoint.open(empty)).hasMessageContaining("no config.json in " + empty);
        Files.writeString(empty.resolve("config.json"), Json.write(cfg.toJson()));
        assertThatThrownBy(() -> Checkpoint.open(empty))
                .hasMessageContaining("no model.safetensors or model.safetensors.index.json in " + empty);

        Map<String, NDArray> w = weights(cfg);
        w.remove("model.norm.weight");
        assertThatThrownBy(() -> Checkpoint.save(dir.resolve("x"), cfg, w, Checkpoint.SaveOptions.defaults()))
                .hasMessageContaining("1 tensor(s) the config implies are missing: model.norm.weight");
    }
}
