package dev.distill4j.model.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.model.config.ModelConfig;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CausalLMTest {
    private static NDManager manager;

    @BeforeAll static void start() { manager = NDManager.newBaseManager("PyTorch"); }

    @AfterAll static void stop() { manager.close(); }

    static ModelConfig tinyLlama(int layers) {
        ObjectNode n = Json.object();
        n.put("model_type", "llama").put("vocab_size", 64).put("hidden_size", 32).put("intermediate_size", 64)
                .put("num_hidden_layers", layers).put("num_attention_heads", 4).put("num_key_value_heads", 2)
                .put("rms_norm_eps", 1e-5).put("tie_word_embeddings", false);
        return ModelConfig.fromJson(n, "test");
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "mistral", "qwen2", "qwen3"})
    void cachedDecodingEqualsFullRecomputation(String family) throws IOException {
        ReferenceFixture f = ReferenceFixture.load(family);
        int[][] ids = f.ints("input_ids");
        int[][] mask = f.ints("attention_mask");
        int b = ids.length, t = ids[0].length, v = f.config().vocabSize();
        try (NDManager m = manager.newSubManager(); CausalLM model = f.model(m)) {
            NDArray idsArr = m.create(ReferenceLogitsTest.flatten(ids), new Shape(b, t));
            NDArray maskArr = m.create(ReferenceLogitsTest.flatten(mask), new Shape(b, t));
            float[] full = model.forward(idsArr, maskArr, null).toFloatArray();
            // prefill 5 positions, then one position at a time through the cache
            try (KvCache cache = model.newCache(m)) {
                int prefill = 5;
                float[] first = model.forward(idsArr.get(":, :" + prefill), maskArr.get(":, :" + prefill), cache)
                        .toFloatArray();
                assertClose(first, full, b, t, v, 0, prefill, mask);
                for (int i = prefill; i < t; i++) {
                    float[] step = model.forward(idsArr.get(":, " + i + ":" + (i + 1)), maskArr.get(":, :" + (i + 1)), cache)
                            .toFloatArray();
                    assertClose(step, full, b, t, v, i, 1, mask);
                }
                assertThat(cache.length()).isEqualTo(t);
                assertThat(cache.keys(0).getShape())
                        .isEqualTo(new Shape(b, f.config().numKeyValueHeads(), t, f.config().headDim()));
            }
        }
    }

    /** got is [B, n, V] for positions from..from+n of full [B, T, V]; padding rows skipped. */
    private static void assertClose(float[] got, float[] full, int b, int t, int v, int from, int n, int[][] mask) {
        for (int bi = 0; bi < b; bi++) {
            for (int i = 0; i < n; i++) {
                if (mask[bi][from + i] == 0) continue;
                for (int vi = 0; vi < v; vi++) {
                    float g = got[(bi * n + i) * v + vi];
                    float e = full[(bi * t + from + i) * v + vi];
                    assertThat(Math.abs(g - e)).as("b=%d pos=%d v=%d", bi, from + i, vi).isLessThan(1e-4f);
                }
            }
        }
    }

    @Test
    void sgdStepsWithAutogradReduceLoss() {
        try (NDManager m = manager.newSubManager(); CausalLM model = CausalLM.init(tinyLlama(2), m, 1)) {
            model.setTrainable(true);
            int[] tokens = {1, 5, 9, 13, 17, 21, 25, 29, 2, 7, 7, 8, 8, 9, 9, 10, 10, 2};   // two rows of 9
            NDArray inputs = m.create(tokens, new Shape(2, 9)).get(":, :-1");
            NDArray targets = m.create(tokens, new Shape(2, 9)).get(":, 1:");
            float first = 0, last = 0;
            for (int step = 0; step < 15; step++) {
                float loss;
                try (NDManager s = m.newSubManager()) {
                    NDArray in = inputs.duplicate();
                    in.attach(s);
                    try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                        NDArray logits = model.forward(in, null, null);                     // [2, 8, V]
                        NDArray logp = logits.logSoftmax(2);
                        NDArray l = logp.mul(targets.oneHot(64).toType(logp.getDataType(), false)).sum().neg().div(16f);
                        gc.backward(l);
                        loss = l.getFloat();
                    }
                    for (NDArray p : model.parameters().values()) {
                        NDArray g = p.getGradient();
                        assertThat(g.abs().sum().getFloat()).as(p.getName()).isGreaterThan(0f);
                        p.subi(g.mul(1.0f));
                        g.subi(g);        // torch accumulates gradients: reset for the next step
                        g.close();
                    }
                }
                if (step == 0) first = loss;
                last = loss;
            }
            assertThat(first).isGreaterThan(4f);      // ≈ ln 64 at init
            assertThat(last).isLessThan(first - 1.0f);  // 15 plain SGD steps memorise a good part of the batch
        }
    }

    @Test
    void forwardLeavesNothingInTheModelsManager() {
        try (NDManager m = manager.newSubManager(); CausalLM model = CausalLM.init(tinyLlama(2), m, 2)) {
            int before = model.manager().getManagedArrays().size();
            try (NDManager step = m.newSubManager(); KvCache cache = model.newCache(step)) {
                model.forward(step.create(new int[] {1, 2, 3, 4}, new Shape(2, 2)), null, cache);
                model.forwardLast(step.create(new int[] {5, 6}, new Shape(2, 1)), null, cache);
                assertThat(step.getManagedArrays()).isNotEmpty();
            }
            assertThat(model.manager().getManagedArrays()).hasSize(before);
        }
    }

    @Test
    void initIsSeededAndLikeHuggingFace() {
        try (NDManager m = manager.newSubManager();
             CausalLM a = CausalLM.init(tinyLlama(2), m, 5);
             CausalLM b = CausalLM.init(tinyLlama(2), m, 5)) {
            assertThat(a.parameters().keySet()).containsExactlyElementsOf(CausalLM.parameterShapes(a.config()).keySet());
            NDArray q = a.parameters().get("model.layers.0.self_attn.q_proj.weight");
            assertThat(q.toFloatArray()).containsExactly(b.parameters().get("model.layers.0.self_attn.q_proj.weight").toFloatArray());
            double std = Math.sqrt(q.square().mean().getFloat());
            assertThat(std).isBetween(0.017, 0.023);
            assertThat(a.parameters().get("model.norm.weight").toFloatArray()).containsOnly(1f);
            assertThat(a.parameterCount()).isEqualTo(64 * 32 * 2 + 2 * (2 * 32 + 32 * 32 * 2 + 16 * 32 * 2 + 3 * 64 * 32) + 32);
        }
    }

    @Test
    void keepLayersRenumbersAndCopies() {
        try (NDManager m = manager.newSubManager(); CausalLM full = CausalLM.init(tinyLlama(3), m, 9);
             CausalLM pruned = full.keepLayers(0, 2)) {
            assertThat(pruned.config().numHiddenLayers()).isEqualTo(2);
            assertThat(pruned.config().toJson().get("num_hidden_layers").asInt()).isEqualTo(2);
            assertThat(pruned.parameters().keySet()).noneMatch(k -> k.startsWith("model.layers.2."));
            assertThat(pruned.parameters().get("model.layers.1.mlp.up_proj.weight").toFloatArray())
                    .containsExactly(full.parameters().get("model.layers.2.mlp.up_proj.weight").toFloatArray());
            NDArray ids = m.create(new int[] {3, 4, 5}, new Shape(1, 3));
            assertThat(pruned.forward(ids, null, null).getShape()).isEqualTo(new Shape(1, 3, 64));
            assertThatThrownBy(() -> full.keepLayers(3)).hasMessageContaining("layer 3 does not exist");
        }
    }

    @Test
    void rejectsWrongWeightsAndUnsupportedOptionsClearly() {
        ModelConfig c = tinyLlama(1);
        try (NDManager m = manager.newSubManager()) {
            Map<String, NDArray> w = new HashMap<>();
            CausalLM.parameterShapes(c).forEach((k, s) -> w.put(k, m.zeros(s)));
            w.remove("model.norm.weight");
            w.put("model.layers.0.mlp.up_proj.weight", m.zeros(new Shape(3, 3)));
            w.put("model.extra", m.zeros(new Shape(1)));
            assertThatThrownBy(() -> CausalLM.fromWeights(c, w, m))
                    .hasMessageContaining("missing model.norm.weight")
                    .hasMessageContaining("model.layers.0.mlp.up_proj.weight has shape (3, 3)")
                    .hasMessageContaining("unexpected model.extra");
        }
        ObjectNode bad = c.raw().deepCopy();
        bad.put("hidden_act", "gelu").put("mlp_bias", true);
        assertThatThrownBy(() -> Family.of(ModelConfig.fromJson(bad, "test")))
                .hasMessageContaining("hidden_act=gelu").hasMessageContaining("mlp_bias=true");
        ObjectNode window = c.raw().deepCopy().put("model_type", "qwen2").put("sliding_window", 8).put("use_sliding_window", true);
        assertThatThrownBy(() -> Family.of(ModelConfig.fromJson(window, "test"))).hasMessageContaining("sliding_window");
    }

    @Test
    void llama3RopeScalingFollowsWavelengthBands() {
        ObjectNode n = tinyLlama(1).raw().deepCopy();
        n.put("head_dim", 12);
        n.putObject("rope_scaling").put("rope_type", "llama3").put("factor", 8.0).put("low_freq_factor", 1.0)
                .put("high_freq_factor", 4.0).put("original_max_position_embeddings", 64);
        float[] scaled = RotaryEmbedding.inverseFrequencies(ModelConfig.fromJson(n, "test"));
        n.remove("rope_scaling");
        float[] plain = RotaryEmbedding.inverseFrequencies(ModelConfig.fromJson(n, "test"));
        assertThat(scaled[0]).isEqualTo(plain[0]);                        // wavelength 6.3 < 16: kept
        assertThat(scaled[1]).isStrictlyBetween(plain[1] / 8, plain[1]);  // 29 in [16, 64]: blended
        assertThat(scaled[2]).isEqualTo(plain[2] / 8);                    // 135 > 64: divided by factor
    }
}
