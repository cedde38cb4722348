package dev.distill4j.embed.encoder;

import dev.distill4j.model.nn.Scalars;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import ai.djl.nn.norm.LayerNorm;
import dev.distill4j.embed.Pooling;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A BERT encoder (Devlin et al. 2019) on DJL's PyTorch engine, post-norm as the original:
 * <pre>
 *   x   = LayerNorm(E_word[ids] + E_pos[0..T) + E_type[0])                        [B, T, D]
 *   per layer:
 *     q, k, v = x·W_qᵀ + b_q, x·W_kᵀ + b_k, x·W_vᵀ + b_v                         split into H heads of d = D/H
 *     a   = softmax(q·kᵀ/√d + m)·v,   m = 0 at real tokens, −10⁹ at padding    per head, concatenated
 *     h   = LayerNorm(x + a·W_oᵀ + b_o)
 *     x   = LayerNorm(h + GELU(h·W_1ᵀ + b_1)·W_2ᵀ + b_2)
 *   e   = x[:, 0] (CLS) or Σ_t mask_t·x_t / Σ_t mask_t (mean);   e / ‖e‖
 * </pre>
 * GELU is the exact erf form, as BERT's {@code hidden_act: gelu}. Parameters live in the encoder's own manager
 * under HF names; {@link #parameters()} exposes them for training.
 */
public final class BertEncoder implements AutoCloseable {
    private static final float MASKED = -1e9f;

    private final BertConfig config;
    private final NDManager manager;
    private final Map<String, NDArray> params = new LinkedHashMap<>();

    public BertEncoder(BertWeights weights, NDManager parent) {
        this.config = weights.config();
        this.manager = parent.newSubManager();
        for (var e : weights.tensors().entrySet()) {
            NDArray a = manager.create(e.getValue().data(), new Shape(e.getValue().shape()));
            a.setName(e.getKey());
            params.put(e.getKey(), a);
        }
    }

    public BertConfig config() { return config; }

    /** The parameters by HF name (live arrays: training updates them in place). */
    public Map<String, NDArray> parameters() { return params; }

    /** The current weights copied back to Java arrays, HF names and layouts. */
    public BertWeights weights() {
        Map<String, BertWeights.Tensor> out = new LinkedHashMap<>();
        for (var e : params.entrySet()) {
            out.put(e.getKey(), new BertWeights.Tensor(e.getValue().getShape().getShape(), e.getValue().toFloatArray()));
        }
        return new BertWeights(config, out);
    }

    /**
     * Pooled, L2-normalised sentence embeddings [B, D] of a padded batch; arrays are created in {@code m}.
     *
     * @param ids  token ids per sentence (special tokens included), not padded
     */
    public NDArray embed(NDManager m, long[][] ids, Pooling pooling) {
        return pool(states(m, ids), pooling);
    }

    /**
     * Token states of a padded batch: {@code layers.get(l)} is the output of layer l ([B, T, D], l = 0 … L−1, so
     * {@code layers.getLast()} is what pooling reads); {@code keep} [B, T] is 1 at real tokens, 0 at padding.
     */
    public record States(List<NDArray> layers, NDArray keep) {}

    /** The states of every layer for {@code ids} (special tokens included, not padded); arrays live in {@code m}. */
    public States states(NDManager m, long[][] ids) { return states(m, ids, null); }

    /** Sees layer {@code layer}'s GELU output {@code g} [B, T, I] (for {@link #ffnImportance}). */
    @FunctionalInterface
    interface FfnProbe {
        void accept(int layer, NDArray g);
    }

    /** As {@link #states(NDManager, long[][])}, with {@code probe} (null = none) on every layer's GELU output. */
    private States states(NDManager m, long[][] ids, FfnProbe probe) {
        int b = ids.length, t = 0;
        for (long[] x : ids) t = Math.max(t, x.length);
        long[] flat = new long[b * t];
        float[] mask = new float[b * t];
        for (int i = 0; i < b; i++) {
            System.arraycopy(ids[i], 0, flat, i * t, ids[i].length);
            for (int j = 0; j < ids[i].length; j++) mask[i * t + j] = 1;
        }
        NDArray keep = m.create(mask, new Shape(b, t));                              // [B, T], 1 = real token
        return new States(hidden(m.create(flat, new Shape(b, t)), keep, probe), keep);
    }

    /**
     * How much each feed-forward neuron of each layer contributes to the layer's output on {@code batches} (token
     * ids, special tokens included): {@code I[l][j] = mean_tokens |GELU(h·W_1ᵀ + b_1)_j| · ‖W_2[:, j]‖}, the size of
     * the neuron's term in {@code GELU(·)·W_2ᵀ}, over real tokens only. This is the activation-based importance of
     * width pruning (Minitron, Muralidharan et al. 2024): a neuron that is rarely active or writes little is the
     * cheapest to remove.
     */
    public float[][] ffnImportance(List<long[][]> batches) {
        int layers = config.numHiddenLayers(), width = config.intermediateSize(), d = config.hiddenSize();
        double[][] sum = new double[layers][width];
        double tokens = 0;
        for (long[][] ids : batches) {
            int t = 0;
            for (long[] x : ids) t = Math.max(t, x.length);
            float[] mask = new float[ids.length * t];
            for (int i = 0; i < ids.length; i++) {
                Arrays.fill(mask, i * t, i * t + ids[i].length, 1f);
                tokens += ids[i].length;
            }
            try (NDManager m = manager.newSubManager()) {
                NDArray keep = m.create(mask, new Shape(ids.length, t, 1));                 // 1 = real token
                states(m, ids, (layer, g) -> {
                    float[] a = g.abs().mul(keep).sum(new int[] {0, 1}).toFloatArray();
                    for (int j = 0; j < width; j++) sum[layer][j] += a[j];
                });
            }
        }
        float[][] importance = new float[layers][width];
        for (int l = 0; l < layers; l++) {
            float[] w2 = p(BertWeights.layerPrefix(l) + "output.dense.weight").toFloatArray();   // [D, I]
            for (int j = 0; j < width; j++) {
                double norm = 0;
                for (int r = 0; r < d; r++) norm += (double) w2[r * width + j] * w2[r * width + j];
                importance[l][j] = (float) (sum[l][j] / Math.max(tokens, 1) * Math.sqrt(norm));
            }
        }
        return importance;
    }

    /** The last layer's states pooled as the model was trained (CLS or masked mean) and L2-normalised: [B, D]. */
    public static NDArray pool(States s, Pooling pooling) {
        NDArray x = s.layers().getLast(), keep = s.keep();                          // [B, T, D], [B, T]
        NDArray e = pooling == Pooling.CLS
                ? x.get(new NDIndex(":, 0, :"))
                : x.mul(keep.expandDims(2)).sum(new int[] {1}).div(keep.sum(new int[] {1}, true));
        return e.div(Scalars.maximum(e.norm(new int[] {1}, true), 1e-12));
    }

    /** Each layer's token states [B, T, D], in order; {@code probe}, when given, sees each layer's GELU output. */
    private List<NDArray> hidden(NDArray inputIds, NDArray keep, FfnProbe probe) {
        long b = inputIds.getShape().get(0), t = inputIds.getShape().get(1);
        if (t > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException(t + " tokens exceed the " + config.maxPositionEmbeddings() + " positions");
        }
        NDManager m = inputIds.getManager();
        NDArray word = p("embeddings.word_embeddings.weight");
        NDArray x = inputIds.getNDArrayInternal().embedding(inputIds, word, SparseFormat.DENSE).singletonOrThrow()
                .add(p("embeddings.position_embeddings.weight").get(new NDIndex("0:" + t)))
                .add(p("embeddings.token_type_embeddings.weight").get(0));
        x = layerNorm(x, "embeddings.LayerNorm");
        NDArray additive = keep.sub(1).mul(-MASKED).reshape(b, 1, 1, t);             // 0 real, −10⁹ padding
        List<NDArray> out = new ArrayList<>(config.numHiddenLayers());
        for (int l = 0; l < config.numHiddenLayers(); l++) {
            x = layer(x, l, additive, probe);
            out.add(x);
        }
        return out;
    }

    private NDArray layer(NDArray x, int l, NDArray additive, FfnProbe probe) {
        String pre = BertWeights.layerPrefix(l);
        long b = x.getShape().get(0), t = x.getShape().get(1);
        int heads = config.numAttentionHeads(), d = config.headDim();
        NDArray q = linear(x, pre + "attention.self.query").reshape(b, t, heads, d).transpose(0, 2, 1, 3);   // [B, H, T, d]
        NDArray k = linear(x, pre + "attention.self.key").reshape(b, t, heads, d).transpose(0, 2, 3, 1);     // [B, H, d, T]
        NDArray v = linear(x, pre + "attention.self.value").reshape(b, t, heads, d).transpose(0, 2, 1, 3);   // [B, H, T, d]
        NDArray scores = Scalars.div(q.matMul(k), Math.sqrt(d)).add(additive);                                        // [B, H, T, T]
        NDArray a = scores.softmax(3).matMul(v).transpose(0, 2, 1, 3).reshape(b, t, (long) heads * d);       // [B, T, D]
        NDArray h = layerNorm(x.add(linear(a, pre + "attention.output.dense")), pre + "attention.output.LayerNorm");
        NDArray g = Activation.gelu(linear(h, pre + "intermediate.dense"));                                   // [B, T, I]
        if (probe != null) probe.accept(l, g);
        NDArray f = linear(g, pre + "output.dense");
        return layerNorm(h.add(f), pre + "output.LayerNorm");
    }

    /** x·Wᵀ + b with W in HF's [out, in] layout. */
    private NDArray linear(NDArray x, String name) {
        return x.getNDArrayInternal().linear(x, p(name + ".weight"), p(name + ".bias")).singletonOrThrow();
    }

    private NDArray layerNorm(NDArray x, String name) {
        return LayerNorm.layerNorm(x, new Shape(config.hiddenSize()), p(name + ".weight"), p(name + ".bias"),
                (float) config.layerNormEps()).singletonOrThrow();
    }

    private NDArray p(String name) {
        NDArray a = params.get(name);
        if (a == null) throw new IllegalStateException("missing parameter " + name);
        return a;
    }

    @Override
    public void close() { manager.close(); }
}
