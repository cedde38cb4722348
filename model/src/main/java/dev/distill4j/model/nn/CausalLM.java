package dev.distill4j.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.model.config.ModelConfig;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * A decoder-only transformer language model (llama, mistral, qwen2, qwen3) on DJL tensors:
 * <pre>
 *   x      = embed_tokens[input_ids]                       [B, T, D]
 *   x      = DecoderLayer_l(x)   for l in 0..L−1
 *   logits = RMSNorm(x) · lm_headᵀ                         [B, T, V]   (lm_head = embed_tokens when tied)
 * </pre>
 * Parameters are plain F32 NDArrays keyed by their Hugging Face names, so a checkpoint maps onto them one to one and
 * training updates them in place. The model owns its parameters (they live in its manager) until {@link #close()}.
 *
 * <p>Forward intermediates live in the manager of {@code inputIds}: call {@link #forward} inside a scoped
 * sub-manager and close it when the logits are consumed.
 */
public final class CausalLM implements AutoCloseable {
    /** Shapes the layers need, read once from the config. */
    record Dims(int heads, int kvHeads, int headDim, double eps) {}

    private final ModelConfig config;
    private final Family family;
    private final NDManager manager;
    private final Map<String, NDArray> parameters;   // HF name → tensor, in HF order
    private final RotaryEmbedding rope;
    private final List<DecoderLayer> layers;
    private final NDArray embedTokens;   // [V, D]
    private final NDArray finalNorm;     // [D]
    private final NDArray lmHead;        // [V, D]; the same tensor as embedTokens when tied

    private CausalLM(ModelConfig config, Map<String, NDArray> parameters, NDManager manager) {
        this.config = config;
        this.family = Family.of(config);
        this.manager = manager;
        this.parameters = Collections.unmodifiableMap(parameters);
        this.rope = new RotaryEmbedding(config);
        Dims dims = new Dims(config.numAttentionHeads(), config.numKeyValueHeads(), config.headDim(),
                config.rmsNormEps());
        List<DecoderLayer> ls = new ArrayList<>();
        for (int i = 0; i < config.numHiddenLayers(); i++) ls.add(new DecoderLayer(i, parameters, dims, family));
        this.layers = List.copyOf(ls);
        this.embedTokens = parameters.get("model.embed_tokens.weight");
        this.finalNorm = parameters.get("model.norm.weight");
        this.lmHead = config.tieWordEmbeddings() ? embedTokens : parameters.get("lm_head.weight");
    }

    /**
     * Every parameter the config calls for, with its shape, in Hugging Face order. The LM head is absent when the
     * embeddings are tied (HF does not store it then).
     */
    public static Map<String, Shape> parameterShapes(ModelConfig c) {
        Family f = Family.of(c);
        long d = c.hiddenSize();
        long q = (long) c.numAttentionHeads() * c.headDim();
        long kv = (long) c.numKeyValueHeads() * c.headDim();
        long ff = c.intermediateSize();
        Map<String, Shape> s = new LinkedHashMap<>();
        s.put("model.embed_tokens.weight", new Shape(c.vocabSize(), d));
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            String p = "model.layers." + i + ".";
            s.put(p + "input_layernorm.weight", new Shape(d));
            s.put(p + "self_attn.q_proj.weight", new Shape(q, d));
            if (f.qkvBias()) s.put(p + "self_attn.q_proj.bias", new Shape(q));
            s.put(p + "self_attn.k_proj.weight", new Shape(kv, d));
            if (f.qkvBias()) s.put(p + "self_attn.k_proj.bias", new Shape(kv));
            s.put(p + "self_attn.v_proj.weight", new Shape(kv, d));
            if (f.qkvBias()) s.put(p + "self_attn.v_proj.bias", new Shape(kv));
            s.put(p + "self_attn.o_proj.weight", new Shape(d, q));
            if (f.oBias()) s.put(p + "self_attn.o_proj.bias", new Shape(d));
            if (f.qkNorm()) {
                s.put(p + "self_attn.q_norm.weight", new Shape(c.headDim()));
                s.put(p + "self_attn.k_norm.weight", new Shape(c.headDim()));
            }
            s.put(p + "post_attention_layernorm.weight", new Shape(d));
            s.put(p + "mlp.gate_proj.weight", new Shape(ff, d));
            s.put(p + "mlp.up_proj.weight", new Shape(ff, d));
            s.put(p + "mlp.down_proj.weight", new Shape(d, ff));
        }
        s.put("model.norm.weight", new Shape(d));
        if (!c.tieWordEmbeddings()) s.put("lm_head.weight", new Shape(c.vocabSize(), d));
        return s;
    }

    /**
     * Builds a model from HF-named weights. The model takes ownership of the arrays (they move to its own
     * sub-manager of {@code parent}); non-F32 arrays are converted. Extra tensors HF checkpoints sometimes carry
     * (a tied {@code lm_head.weight}, {@code rotary_emb.inv_freq} buffers) are dropped; anything else missing,
     * unexpected or mis-shaped is an error that lists every problem.
     */
    public static CausalLM fromWeights(ModelConfig config, Map<String, NDArray> weights, NDManager parent) {
        Map<String, Shape> expected = parameterShapes(config);
        List<String> problems = new ArrayList<>();
        TreeSet<String> unexpected = new TreeSet<>();
        for (String name : weights.keySet()) {
            boolean ignorable = name.endsWith("rotary_emb.inv_freq")
                    || (config.tieWordEmbeddings() && name.equals("lm_head.weight"));
            if (!expected.containsKey(name) && !ignorable) unexpected.add(name);
        }
        for (var e : expected.entrySet()) {
            NDArray w = weights.get(e.getKey());
            if (w == null) problems.add("missing " + e.getKey());
            else if (!w.getShape().equals(e.getValue())) {
                problems.add(e.getKey() + " has shape " + w.getShape() + ", config implies " + e.getValue());
            }
        }
        if (!unexpected.isEmpty()) problems.add("unexpected " + String.join(", ", unexpected));
        if (!problems.isEmpty()) {
            throw new InvalidInputException("weights do not match the " + config.modelType() + " config: "
                    + String.join("; ", problems));
        }
        NDManager m = parent.newSubManager();
        Map<String, NDArray> params = new LinkedHashMap<>();
        for (String name : expected.keySet()) {
            NDArray w = weights.get(name);
            if (w.getDataType() != DataType.FLOAT32) w = w.toType(DataType.FLOAT32, false);
            w.attach(m);
            w.setName(name);
            params.put(name, w);
        }
        return new CausalLM(config, params, m);
    }

    /**
     * A freshly initialised model as HF initialises one: every linear and embedding weight ~ N(0, σ²) with
     * σ = {@code initializer_range} (default 0.02), biases 0, norm weights 1. Deterministic in {@code seed}.
     */
    public static CausalLM init(ModelConfig config, NDManager parent, long seed) {
        double std = config.raw().path("initializer_range").asDouble(0.02);
        SplittableRandom rng = new SplittableRandom(seed);
        NDManager m = parent.newSubManager();
        Map<String, NDArray> params = new LinkedHashMap<>();
        for (var e : parameterShapes(config).entrySet()) {
            String name = e.getKey();
            float[] data = new float[Math.toIntExact(e.getValue().size())];
            if (name.endsWith("norm.weight")) java.util.Arrays.fill(data, 1f);
            else if (!name.endsWith(".bias")) {
                for (int i = 0; i < data.length; i++) data[i] = (float) (rng.nextGaussian() * std);
            }
            NDArray w = m.create(data, e.getValue());
            w.setName(name);
            params.put(name, w);
        }
        return new CausalLM(config, params, m);
    }

    /**
     * Logits of every input position.
     *
     * @param inputIds      [B, T] token ids (any integer type)
     * @param attentionMask [B, S] of 1 (token) / 0 (padding) with S = cached + T, or null for no padding
     * @param cache         past keys/values, extended by this call; null to attend only within {@code inputIds}
     * @return logits [B, T, V] in the manager of {@code inputIds}
     */
    public NDArray forward(NDArray inputIds, NDArray attentionMask, KvCache cache) {
        return DecoderLayer.linear(hidden(inputIds, attentionMask, cache), lmHead, null);
    }

    /**
     * Logits of the last input position only, as decoding needs: skips the LM head on the other T − 1 positions.
     *
     * @return logits [B, V]
     */
    public NDArray forwardLast(NDArray inputIds, NDArray attentionMask, KvCache cache) {
        NDArray h = hidden(inputIds, attentionMask, cache);                        // [B, T, D]
        long b = h.getShape().get(0);
        return DecoderLayer.linear(h.get(":, -1, :"), lmHead, null).reshape(b, config.vocabSize()); // [B, V]
    }

    /**
     * The final-normed hidden states [B, T, D], before the LM head: a trainer applies {@link #logits} to chunks of
     * them so that it never holds a [tokens × vocabulary] tensor for a whole batch.
     */
    public NDArray forwardHidden(NDArray inputIds, NDArray attentionMask) {
        return hidden(inputIds, attentionMask, null);
    }

    /** The LM head on hidden states [..., D] from {@link #forwardHidden}: logits [..., V]. */
    public NDArray logits(NDArray hidden) {
        return DecoderLayer.linear(hidden, lmHead, null);
    }

    /** The final-normed hidden states [B, T, D]. */
    private NDArray hidden(NDArray inputIds, NDArray attentionMask, KvCache cache) {
        Shape shape = inputIds.getShape();
        if (shape.dimension() != 2) throw new IllegalArgumentException("input ids must be [batch, tokens], got " + shape);
        int b = (int) shape.get(0);
        int t = (int) shape.get(1);
        int past = cache == null ? 0 : cache.length();
        NDManager m = inputIds.getManager();

        int[][] mask = AttentionMask.toHost(attentionMask, b, past + t);
        RotaryEmbedding.Tables rotation = rope.tables(m, AttentionMask.positionIds(mask, t));
        NDArray additive = AttentionMask.additive(m, mask, t, family.slidingWindow()); // [B, 1, 1, T, S]

        NDArray ids = inputIds.toType(DataType.INT64, false);
        NDArray x = ids.getNDArrayInternal().embedding(ids, embedTokens, SparseFormat.DENSE)
                .singletonOrThrow();                                               // [B, T, D]
        for (DecoderLayer layer : layers) x = layer.forward(x, rotation, additive, cache);
        if (cache != null) cache.advance(t);
        return RmsNorm.apply(x, finalNorm, config.rmsNormEps());                   // [B, T, D]
    }

    /** An empty cache for this model's layers; its arrays live under {@code parent}. */
    public KvCache newCache(NDManager parent) { return new KvCache(parent, layers.size()); }

    /** Marks every parameter as requiring (or not) a gradient, for training with DJL autograd. */
    public void setTrainable(boolean trainable) {
        for (NDArray p : parameters.values()) p.setRequiresGradient(trainable);
    }

    /**
     * Depth pruning (Minitron): a new model with only the given layers, in the given order, renumbered from 0.
     * Parameters are copied, so the two models are independent.
     */
    public CausalLM keepLayers(int... indices) {
        if (indices.length == 0) throw new IllegalArgumentException("keep at least one layer");
        for (int i : indices) {
            if (i < 0 || i >= layers.size()) {
                throw new IllegalArgumentException("layer " + i + " does not exist (model has " + layers.size()
                        + " layers: 0.." + (layers.size() - 1) + ")");
            }
        }
        NDManager m = manager.getParentManager().newSubManager();
        Map<String, NDArray> kept = new LinkedHashMap<>();
        for (var e : parameters.entrySet()) {
            String name = e.getKey();
            if (!name.startsWith("model.layers.")) kept.put(name, e.getValue());
        }
        for (int to = 0; to < indices.length; to++) {
            String from = "model.layers." + indices[to] + ".";
            for (var e : parameters.entrySet()) {
                if (e.getKey().startsWith(from)) {
                    kept.put("model.layers." + to + "." + e.getKey().substring(from.length()), e.getValue());
                }
            }
        }
        ModelConfig pruned = withLayers(config, indices.length);
        Map<String, NDArray> ordered = new LinkedHashMap<>();
        for (String name : parameterShapes(pruned).keySet()) {
            NDArray copy = kept.get(name).duplicate();
            copy.attach(m);
            copy.setName(name);
            ordered.put(name, copy);
        }
        return new CausalLM(pruned, ordered, m);
    }

    private static ModelConfig withLayers(ModelConfig c, int layers) {
        ObjectNode raw = c.raw().deepCopy();
        raw.put("num_hidden_layers", layers);
        return new ModelConfig(c.modelType(), c.vocabSize(), c.hiddenSize(), c.intermediateSize(), layers,
                c.numAttentionHeads(), c.numKeyValueHeads(), c.headDim(), c.rmsNormEps(), c.ropeTheta(),
                c.ropeScaling(), c.maxPositionEmbeddings(), c.tieWordEmbeddings(), c.attentionBias(),
                c.slidingWindow(), c.bosTokenId(), c.eosTokenIds(), c.torchDtype(), raw);
    }

    /** HF name → parameter (read-only map of live tensors; the checkpoint writer saves these). */
    public Map<String, NDArray> parameters() { return parameters; }

    /** Number of scalar parameters (a tied head counted once). */
    public long parameterCount() {
        long n = 0;
        for (NDArray p : parameters.values()) n += p.getShape().size();
        return n;
    }

    public ModelConfig config() { return config; }

    public Family family() { return family; }

    /** The manager holding the parameters. */
    public NDManager manager() { return manager; }

    @Override
    public void close() { manager.close(); }
}
