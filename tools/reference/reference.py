#!/usr/bin/env python3
"""Independent reference for distill4j's Java transformer (model.nn).

Written from the papers and Hugging Face's documented semantics, not from the Java code, and computed in float64
so it is the "exact" answer the F32 Java implementation is compared with. For each family it creates a tiny random
checkpoint (HF folder: config.json + model.safetensors written by hand) and the reference outputs the Java tests
assert: logits of a fixed two-sequence batch (the second left-padded) and 5 greedy tokens per sequence.

Run with Debian's torch (python3-torch):  /usr/bin/python3 tools/reference/reference.py model/src/test/resources/reference
"""
import json
import math
import os
import struct
import sys

import torch

# Every family exercises what makes it different. Sizes are tiny so the committed files stay small.
FAMILIES = {
    # llama: llama3 rope scaling with all three wavelength bands in play (head_dim 12, original context 64),
    # tied embeddings, attention_bias on q/k/v/o
    "llama": dict(model_type="llama", vocab_size=112, hidden_size=48, intermediate_size=96, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-5, rope_theta=10000.0,
                  rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                "high_freq_factor": 4.0, "original_max_position_embeddings": 64},
                  tie_word_embeddings=True, attention_bias=True, max_position_embeddings=256),
    # mistral: sliding window (4) shorter than the sequences (12 + 5 generated), linear rope scaling
    "mistral": dict(model_type="mistral", vocab_size=100, hidden_size=32, intermediate_size=80, num_hidden_layers=2,
                    num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-6, rope_theta=10000.0,
                    rope_scaling={"type": "linear", "factor": 2.0}, sliding_window=4,
                    tie_word_embeddings=False, max_position_embeddings=256),
    # qwen2: q/k/v biases (no o bias), untied head, large rope_theta, weights stored in BF16
    "qwen2": dict(model_type="qwen2", vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-6, rope_theta=1000000.0,
                  tie_word_embeddings=False, max_position_embeddings=256, sliding_window=4096,
                  use_sliding_window=False, torch_dtype="bfloat16"),
    # qwen3: per-head q/k RMSNorm, explicit head_dim 16 != hidden/heads 8, tied embeddings
    "qwen3": dict(model_type="qwen3", vocab_size=96, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, head_dim=16, rms_norm_eps=1e-6,
                  rope_theta=1000000.0, tie_word_embeddings=True, attention_bias=False,
                  max_position_embeddings=256),
}

SEQ_LEN = 12
PAD_LEFT = 4          # second sequence: 4 padding positions then 8 tokens
NEW_TOKENS = 5


def head_dim(c):
    return c.get("head_dim", c["hidden_size"] // c["num_attention_heads"])


def weight_names(c):
    """(name, shape, kind) in HF naming; kind picks the random distribution."""
    d, hd = c["hidden_size"], head_dim(c)
    q, kv, ff, V = c["num_attention_heads"] * hd, c["num_key_value_heads"] * hd, c["intermediate_size"], c["vocab_size"]
    qkv_bias = c["model_type"] == "qwen2" or c.get("attention_bias", False)
    o_bias = c["model_type"] in ("llama", "qwen3") and c.get("attention_bias", False)
    out = [("model.embed_tokens.weight", (V, d), "embed")]
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        out.append((p + "input_layernorm.weight", (d,), "norm"))
        for proj, rows in (("q", q), ("k", kv), ("v", kv)):
            out.append((p + f"self_attn.{proj}_proj.weight", (rows, d), "linear"))
            if qkv_bias:
                out.append((p + f"self_attn.{proj}_proj.bias", (rows,), "bias"))
        out.append((p + "self_attn.o_proj.weight", (d, q), "linear"))
        if o_bias:
            out.append((p + "self_attn.o_proj.bias", (d,), "bias"))
        if c["model_type"] == "qwen3":
            out.append((p + "self_attn.q_norm.weight", (hd,), "norm"))
            out.append((p + "self_attn.k_norm.weight", (hd,), "norm"))
        out.append((p + "post_attention_layernorm.weight", (d,), "norm"))
        out.append((p + "mlp.gate_proj.weight", (ff, d), "linear"))
        out.append((p + "mlp.up_proj.weight", (ff, d), "linear"))
        out.append((p + "mlp.down_proj.weight", (d, ff), "linear"))
    out.append(("model.norm.weight", (d,), "norm"))
    if not c["tie_word_embeddings"]:
        out.append(("lm_head.weight", (V, d), "linear"))
    return out


def random_weights(c, gen):
    """Larger than HF's 0.02 init on purpose: logits must spread so greedy choices are not near-ties."""
    w = {}
    for name, shape, kind in weight_names(c):
        if kind == "norm":
            t = 1.0 + 0.2 * torch.randn(shape, generator=gen)
        elif kind == "bias":
            t = 0.2 * torch.randn(shape, generator=gen)
        elif kind == "embed":
            t = torch.randn(shape, generator=gen)
        else:
            t = torch.randn(shape, generator=gen) / math.sqrt(shape[1]) * 1.5
        w[name] = t.float()
    if c.get("torch_dtype") == "bfloat16":
        w = {k: v.to(torch.bfloat16) for k, v in w.items()}
    return w


def write_safetensors(path, tensors):
    """safetensors: u64 LE header length, JSON header (offsets into the data block), raw little-endian bytes."""
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        if t.dtype == torch.bfloat16:
            raw, dtype = t.contiguous().view(torch.int16).numpy().astype("<i2").tobytes(), "BF16"
        else:
            raw, dtype = t.contiguous().numpy().astype("<f4").tobytes(), "F32"
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# ---- the model, in float64 -------------------------------------------------------------------------------------

def inverse_frequencies(c):
    hd = head_dim(c)
    inv = [1.0 / (c["rope_theta"] ** (2 * i / hd)) for i in range(hd // 2)]
    s = c.get("rope_scaling")
    if s:
        kind = s.get("rope_type", s.get("type"))
        if kind == "linear":
            inv = [f / s["factor"] for f in inv]
        elif kind == "llama3":
            old = s["original_max_position_embeddings"]
            low_wavelen, high_wavelen = old / s["low_freq_factor"], old / s["high_freq_factor"]
            scaled = []
            for f in inv:
                wavelen = 2 * math.pi / f
                if wavelen < high_wavelen:          # high frequency: untouched
                    scaled.append(f)
                elif wavelen > low_wavelen:         # low frequency: interpolated by factor
                    scaled.append(f / s["factor"])
                else:                               # in between: blend the two
                    smooth = (old / wavelen - s["low_freq_factor"]) / (s["high_freq_factor"] - s["low_freq_factor"])
                    scaled.append((1 - smooth) * f / s["factor"] + smooth * f)
            inv = scaled
        else:
            raise ValueError(kind)
    return torch.tensor(inv, dtype=torch.float64)


def rms_norm(x, w, eps):
    return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * w


def rotate(x, pos, inv):
    """RoPE, rotate-half pairing (i, i + d/2). x [B, H, T, d], pos [B, T]."""
    ang = pos[:, None, :, None].double() * inv                  # [B, 1, T, d/2]
    c, s = torch.cos(ang), torch.sin(ang)
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], dim=-1)


def forward(c, w, ids, mask):
    """Logits [B, T, V] for ids [B, T] with padding mask [B, T] (no cache: the reference always recomputes)."""
    w = {k: v.double() for k, v in w.items()}
    B, T = ids.shape
    H, KV, hd, eps = c["num_attention_heads"], c["num_key_value_heads"], head_dim(c), c["rms_norm_eps"]
    pos = torch.where(mask == 0, torch.ones_like(mask), mask.cumsum(-1) - 1)
    inv = inverse_frequencies(c)
    qi = torch.arange(T)[:, None]
    kj = torch.arange(T)[None, :]
    allowed = (kj <= qi)[None] & (mask[:, None, :] == 1)                       # [B, T, T]
    if c["model_type"] == "mistral" and c.get("sliding_window"):
        allowed = allowed & (qi - kj < c["sliding_window"])[None]

    def lin(x, name):
        y = x @ w[name + ".weight"].T
        return y + w[name + ".bias"] if name + ".bias" in w else y

    x = w["model.embed_tokens.weight"][ids]
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = lin(h, p + "self_attn.q_proj").view(B, T, H, hd)
        k = lin(h, p + "self_attn.k_proj").view(B, T, KV, hd)
        v = lin(h, p + "self_attn.v_proj").view(B, T, KV, hd)
        if c["model_type"] == "qwen3":
            q = rms_norm(q, w[p + "self_attn.q_norm.weight"], eps)
            k = rms_norm(k, w[p + "self_attn.k_norm.weight"], eps)
        q = rotate(q.transpose(1, 2), pos, inv)
        k = rotate(k.transpose(1, 2), pos, inv).repeat_interleave(H // KV, dim=1)
        v = v.transpose(1, 2).repeat_interleave(H // KV, dim=1)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        scores = scores.masked_fill(~allowed[:, None], float("-inf"))
        probs = torch.nan_to_num(torch.softmax(scores, dim=-1), nan=0.0)        # padding rows see nothing
        attn = (probs @ v).transpose(1, 2).reshape(B, T, H * hd)
        x = x + lin(attn, p + "self_attn.o_proj")
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        gate = lin(h, p + "mlp.gate_proj")
        x = x + lin(gate * torch.sigmoid(gate) * lin(h, p + "mlp.up_proj"), p + "mlp.down_proj")
    x = rms_norm(x, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if c["tie_word_embeddings"] else w["lm_head.weight"]
    return x @ head.T


def greedy(c, w, ids, mask, n):
    """n greedy tokens per row by full recomputation; also the smallest top-1/top-2 logit gap seen."""
    out, min_gap = [[] for _ in range(ids.shape[0])], float("inf")
    for _ in range(n):
        last = forward(c, w, ids, mask)[:, -1]
        top2 = last.topk(2, dim=-1).values
        min_gap = min(min_gap, (top2[:, 0] - top2[:, 1]).min().item())
        nxt = last.argmax(-1)
        for b in range(ids.shape[0]):
            out[b].append(int(nxt[b]))
        ids = torch.cat([ids, nxt[:, None]], dim=1)
        mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
    return out, min_gap


def main(out_dir):
    summary = {}
    for seed, (family, c) in enumerate(FAMILIES.items()):
        gen = torch.Generator().manual_seed(1000 + seed)
        c = dict(c)
        c.setdefault("torch_dtype", "float32")
        c.update(hidden_act="silu", bos_token_id=1, eos_token_id=2, initializer_range=0.02)
        w = random_weights(c, gen)
        V = c["vocab_size"]
        ids = torch.randint(3, V, (2, SEQ_LEN), generator=gen)
        mask = torch.ones(2, SEQ_LEN, dtype=torch.long)
        ids[1, :PAD_LEFT] = 0
        mask[1, :PAD_LEFT] = 0
        logits = forward(c, w, ids, mask)
        # left padding must not change the padded sequence's logits
        alone = forward(c, w, ids[1:, PAD_LEFT:], mask[1:, PAD_LEFT:])
        assert torch.allclose(alone, logits[1:, PAD_LEFT:], atol=1e-9), family
        tokens, gap = greedy(c, w, ids, mask, NEW_TOKENS)
        assert gap > 1e-3, f"{family}: greedy near-tie ({gap}); change the seed"
        d = os.path.join(out_dir, family)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(c, f, indent=2)
        write_safetensors(os.path.join(d, "model.safetensors"), w)
        ref = {"family": family, "input_ids": ids.tolist(), "attention_mask": mask.tolist(),
               "logits": [[[float(f"{v:.9g}") for v in row] for row in seq] for seq in logits.tolist()],
               "greedy_tokens": tokens, "min_greedy_gap": gap}
        with open(os.path.join(d, "reference.json"), "w") as f:
            json.dump(ref, f, separators=(",", ":"))
        summary[family] = {"params": sum(t.numel() for t in w.values()), "min_greedy_gap": round(gap, 4),
                           "greedy": tokens}
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "model/src/test/resources/reference")
