package dev.distill4j.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Activation;
import java.util.Map;

/**
 * One pre-norm transformer block:
 * <pre>
 *   h   = x + Attention(RMSNorm(x))
 *   out = h + MLP(RMSNorm(h)),      MLP(x) = down(silu(gate(x)) ⊙ up(x))
 * </pre>
 * Attention is grouped-query: H query heads share H_kv key/value heads, G = H / H_kv queries per kv head.
 */
final class DecoderLayer {
    private final int index;
    private final int heads;        // H
    private final int kvHeads;      // H_kv
    private final int headDim;      // hd
    private final double eps;
    private final Family family;

    private final NDArray inputNorm;      // [D]
    private final NDArray qProj, qBias;   // [H·hd, D], [H·hd] or null
    private final NDArray kProj, kBias;   // [H_kv·hd, D], [H_kv·hd] or null
    private final NDArray vProj, vBias;   // [H_kv·hd, D], [H_kv·hd] or null
    private final NDArray oProj, oBias;   // [D, H·hd], [D] or null
    private final NDArray qNorm, kNorm;   // [hd] (qwen3) or null
    private final NDArray postNorm;       // [D]
    private final NDArray gateProj;       // [F, D]
    private final NDArray upProj;         // [F, D]
    private final NDArray downProj;       // [D, F]

    DecoderLayer(int index, Map<String, NDArray> p, CausalLM.Dims dims, Family family) {
        this.index = index;
        this.heads = dims.heads();
        this.kvHeads = dims.kvHeads();
        this.headDim = dims.headDim();
        this.eps = dims.eps();
        this.family = family;
        String pre = "model.layers." + index + ".";
        inputNorm = p.get(pre + "input_layernorm.weight");
        qProj = p.get(pre + "self_attn.q_proj.weight");
        kProj = p.get(pre + "self_attn.k_proj.weight");
        vProj = p.get(pre + "self_attn.v_proj.weight");
        oProj = p.get(pre + "self_attn.o_proj.weight");
        qBias = p.get(pre + "self_attn.q_proj.bias");
        kBias = p.get(pre + "self_attn.k_proj.bias");
        vBias = p.get(pre + "self_attn.v_proj.bias");
        oBias = p.get(pre + "self_attn.o_proj.bias");
        qNorm = p.get(pre + "self_attn.q_norm.weight");
        kNorm = p.get(pre + "self_attn.k_norm.weight");
        postNorm = p.get(pre + "post_attention_layernorm.weight");
        gateProj = p.get(pre + "mlp.gate_proj.weight");
        upProj = p.get(pre + "mlp.up_proj.weight");
        downProj = p.get(pre + "mlp.down_proj.weight");
    }

    /**
     * @param x    [B, T, D]
     * @param rope this pass's rotation tables
     * @param mask [B, 1, 1, T, S] additive
     * @return [B, T, D]
     */
    NDArray forward(NDArray x, RotaryEmbedding.Tables rope, NDArray mask, KvCache cache) {
        NDArray h = x.add(attention(RmsNorm.apply(x, inputNorm, eps), rope, mask, cache));
        return h.add(mlp(RmsNorm.apply(h, postNorm, eps)));
    }

    /**
     * softmax(q·kᵀ/√hd + mask)·v per head, then the output projection. The 1/√hd rides in the query's rotation
     * tables. Query head h uses kv head h / G (HF's repeat_kv order), so the G query heads of one kv head are
     * stacked as G·T rows of one matrix: [B, H_kv, G·T, hd] · [B, H_kv, hd, S], with no copied kv heads and no
     * broadcast matMul.
     */
    private NDArray attention(NDArray x, RotaryEmbedding.Tables rope, NDArray mask, KvCache cache) {
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        NDArray q = linear(x, qProj, qBias).reshape(b, t, heads, headDim);      // [B, T, H, hd]
        NDArray k = linear(x, kProj, kBias).reshape(b, t, kvHeads, headDim);    // [B, T, H_kv, hd]
        NDArray v = linear(x, vProj, vBias).reshape(b, t, kvHeads, headDim);    // [B, T, H_kv, hd]
        if (family.qkNorm()) {
            q = RmsNorm.apply(q, qNorm, eps);
            k = RmsNorm.apply(k, kNorm, eps);
        }
        q = rope.rotateQueries(q).transpose(0, 2, 1, 3);                        // [B, H, T, hd], scaled
        k = rope.rotateKeys(k).transpose(0, 2, 1, 3);                           // [B, H_kv, T, hd]
        v = v.transpose(0, 2, 1, 3);                                            // [B, H_kv, T, hd]
        if (cache != null) {
            NDList kv = cache.append(index, k, v);
            k = kv.get(0);                                                      // [B, H_kv, S, hd]
            v = kv.get(1);
        }
        int groups = heads / kvHeads;
        long s = k.getShape().get(2);
        NDArray scores = q.reshape(b, kvHeads, groups * t, headDim)             // [B, H_kv, G·T, hd]
                .matMul(k.transpose(0, 1, 3, 2))                                // [B, H_kv, G·T, S]
                .reshape(b, kvHeads, groups, t, s).add(mask);                   // [B, H_kv, G, T, S]
        NDArray probs = scores.softmax(4).reshape(b, kvHeads, groups * t, s);
        NDArray ctx = probs.matMul(v)                                           // [B, H_kv, G·T, hd]
                .reshape(b, heads, t, headDim)                                  // [B, H, T, hd]
                .transpose(0, 2, 1, 3)                                          // [B, T, H, hd]
                .reshape(b, t, (long) heads * headDim);                         // [B, T, H·hd]
        return linear(ctx, oProj, oBias);                                       // [B, T, D]
    }

    private NDArray mlp(NDArray x) {
        NDArray g = linear(x, gateProj, null);                                  // [B, T, F]
        NDArray gate = g.mul(Activation.sigmoid(g));                            // silu(g) = g·σ(g)
        return linear(gate.mul(linear(x, upProj, null)), downProj, null);       // [B, T, D]
    }

    /** x·Wᵀ + b, with W in HF's [out, in] layout; the result lives in x's manager. */
    static NDArray linear(NDArray x, NDArray w, NDArray bias) {
        return x.getNDArrayInternal().linear(x, w, bias).singletonOrThrow();
    }
}
