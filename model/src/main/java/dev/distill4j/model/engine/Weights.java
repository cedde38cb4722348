package dev.distill4j.model.engine;

import dev.distill4j.model.config.ModelConfig;
import dev.distill4j.model.nn.Family;
import java.util.Map;
import java.util.function.Function;

/**
 * The engine's copy of a model's parameters, as plain arrays: the weight matrices as {@link Matrix} (F32 or int8),
 * norms and biases as F32. With tied embeddings the LM head is the embedding matrix itself.
 */
final class Weights {
    /** One decoder layer; biases and the q/k norms are null where the family has none. */
    record Layer(float[] inputNorm, Matrix q, float[] qBias, Matrix k, float[] kBias, Matrix v, float[] vBias,
                 Matrix o, float[] oBias, float[] qNorm, float[] kNorm, float[] postNorm, Matrix gate, Matrix up,
                 Matrix down) {}

    final ModelConfig config;
    final Family family;
    final Quantization quantization;
    final Matrix embed;       // [V, D]
    final Matrix lmHead;      // [V, D]; the same object as embed when tied
    final float[] finalNorm;  // [D]
    final Layer[] layers;
    /**
     * Whether a decode step's weights ({@link #streamedBytes()}) exceed {@link #RESIDENT_BYTES}, so that they stream
     * from memory on every step rather than stay in the caches.
     */
    final boolean streaming;
    /**
     * Weights up to this size are taken to stay in the CPU's caches between steps (half of a 32 MB L3; {@code
     * -Ddistill4j.engine.resident-mb}). Only the kernels' access and summation order depend on it.
     */
    static final long RESIDENT_BYTES = Long.getLong("distill4j.engine.resident-mb", 16) << 20;

    private Weights(ModelConfig config, Quantization quantization, Matrix embed, Matrix lmHead, float[] finalNorm,
                    Layer[] layers) {
        this.config = config;
        this.family = Family.of(config);
        this.quantization = quantization;
        this.embed = embed;
        this.lmHead = lmHead;
        this.finalNorm = finalNorm;
        this.layers = layers;
        this.streaming = streamedBytes() > RESIDENT_BYTES;
    }

    /**
     * Builds the engine's weights from HF-named tensors.
     *
     * @param tensor  HF name → the tensor's values in row-major order (null when absent)
     * @param matrix  HF name → a prepared matrix (e.g. int8 read from a quantized checkpoint), or null to build one
     *                from {@code tensor} at {@code quantization}
     */
    static Weights build(ModelConfig c, Quantization quantization, Function<String, float[]> tensor,
                         Function<String, Matrix> matrix) {
        int d = c.hiddenSize();
        int q = c.numAttentionHeads() * c.headDim();
        int kv = c.numKeyValueHeads() * c.headDim();
        int ff = c.intermediateSize();
        MatrixSource m = (name, rows, cols) -> {
            Matrix given = matrix.apply(name);
            if (given != null) return given;
            float[] w = tensor.apply(name);
            if (w == null) throw new IllegalArgumentException("missing " + name);
            return quantization == Quantization.INT8 ? Matrix.Q8.quantize(w, rows, cols) : new Matrix.F32(w, rows, cols);
        };
        Layer[] layers = new Layer[c.numHiddenLayers()];
        for (int i = 0; i < layers.length; i++) {
            String p = "model.layers." + i + ".";
            layers[i] = new Layer(tensor.apply(p + "input_layernorm.weight"),
                    m.get(p + "self_attn.q_proj.weight", q, d), tensor.apply(p + "self_attn.q_proj.bias"),
                    m.get(p + "self_attn.k_proj.weight", kv, d), tensor.apply(p + "self_attn.k_proj.bias"),
                    m.get(p + "self_attn.v_proj.weight", kv, d), tensor.apply(p + "self_attn.v_proj.bias"),
                    m.get(p + "self_attn.o_proj.weight", d, q), tensor.apply(p + "self_attn.o_proj.bias"),
                    tensor.apply(p + "self_attn.q_norm.weight"), tensor.apply(p + "self_attn.k_norm.weight"),
                    tensor.apply(p + "post_attention_layernorm.weight"),
                    m.get(p + "mlp.gate_proj.weight", ff, d), m.get(p + "mlp.up_proj.weight", ff, d),
                    m.get(p + "mlp.down_proj.weight", d, ff));
        }
        Matrix embed = m.get("model.embed_tokens.weight", c.vocabSize(), d);
        Matrix head = c.tieWordEmbeddings() ? embed : m.get("lm_head.weight", c.vocabSize(), d);
        return new Weights(c, quantization, embed, head, tensor.apply("model.norm.weight"), layers);
    }

    /** As {@link #build} from plain tensors only. */
    static Weights build(ModelConfig c, Quantization quantization, Map<String, float[]> tensors) {
        return build(c, quantization, tensors::get, name -> null);
    }

    @FunctionalInterface
    private interface MatrixSource {
        Matrix get(String name, int rows, int cols);
    }

    /** Bytes a decode step reads from the weight matrices: every layer's, the LM head's (one embedding row aside). */
    long streamedBytes() {
        long n = lmHead.bytes();
        for (Layer l : layers) {
            n += l.q.bytes() + l.k.bytes() + l.v.bytes() + l.o.bytes() + l.gate.bytes() + l.up.bytes()
                    + l.down.bytes();
        }
        return n;
    }
}
