#!/usr/bin/env python3
"""PyTorch eager counterpart of train/src/test/java/dev/distill4j/train/bench/TrainBench.java.

Same models (bench_torch.Llama: llama-style, tied embeddings, random init), same batch (B x T random ids, every
position learned, target = next id of a random stream), same step: forward, mean cross-entropy, backward,
clip_grad_norm_(1.0), AdamW(lr 1e-4, weight decay 0.01 except norm weights), zero_grad. F32, torch's default
threads (TORCH_THREADS overrides). Tokens/s is the mean over the timed steps after the warm-up steps.

Run with Debian's torch:  /usr/bin/python3 tools/reference/bench_train_torch.py [timed] [warmup] [batch] [seq]
"""
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_torch import MODELS, Llama  # noqa: E402


def hidden(model, ids):
    """The final-normed hidden states [B, T, D] (bench_torch.Llama.forward returns last-position logits only)."""
    B, T = ids.shape
    pos = torch.arange(T).float()
    freqs = torch.outer(pos, model.inv_freq)
    emb = torch.cat((freqs, freqs), -1)
    cos, sin = emb.cos()[None, None], emb.sin()[None, None]
    mask = torch.full((T, T), float("-inf")).triu(1)
    x = model.embed(ids)
    g = model.h // model.kv
    for m in model.layers:
        h = model.rms(x, m.n1)
        q = model.rope(m.q(h).view(B, T, model.h, model.hd).transpose(1, 2), cos, sin)
        k = model.rope(m.k(h).view(B, T, model.kv, model.hd).transpose(1, 2), cos, sin)
        v = m.v(h).view(B, T, model.kv, model.hd).transpose(1, 2)
        k = k[:, :, None].expand(B, model.kv, g, T, model.hd).reshape(B, model.h, T, model.hd)
        v = v[:, :, None].expand(B, model.kv, g, T, model.hd).reshape(B, model.h, T, model.hd)
        s = q @ k.transpose(-1, -2) / model.hd ** 0.5 + mask
        a = (torch.softmax(s, -1) @ v).transpose(1, 2).reshape(B, T, -1)
        x = x + m.o(a)
        h = model.rms(x, m.n2)
        x = x + m.down(torch.nn.functional.silu(m.gate(h)) * m.up(h))
    return model.rms(x, model.norm)


def main(timed, warmup, batch, seq):
    if "TORCH_THREADS" in os.environ:   # otherwise torch's own default (1 intra-op thread in Debian's build;
        torch.set_num_threads(int(os.environ["TORCH_THREADS"]))  # OpenBLAS still runs each GEMM on every core)
    torch.manual_seed(1)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {batch} x {seq}")
    n = 2048
    a, b = torch.randn(n, n), torch.randn(n, n)
    best = 0.0
    for r in range(6):
        t0 = time.perf_counter()
        a @ b
        if r > 0:
            best = max(best, 2 * n ** 3 / (time.perf_counter() - t0))
    print(f"fp32 matmul peak (2048^3, best of 5): {best / 1e9:.1f} GFLOP/s")
    for name, d, layers, heads, kv, ff, vocab in MODELS:
        model = Llama(d, layers, heads, kv, ff, vocab).train()
        params = sum(p.numel() for p in model.parameters())
        decay = [p for p in model.parameters() if p.dim() == 2]
        no_decay = [p for p in model.parameters() if p.dim() < 2]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                                lr=1e-4)
        stream = torch.randint(3, vocab, (batch * seq + 1,))
        ids, targets = stream[:-1].view(batch, seq), stream[1:]
        times = []
        for i in range(warmup + timed):
            t0 = time.perf_counter()
            h = hidden(model, ids).reshape(-1, d)
            loss = torch.nn.functional.cross_entropy(h @ model.embed.weight.T, targets)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=False)
            if i >= warmup:
                times.append(time.perf_counter() - t0)
        tps = timed * batch * seq / sum(times)
        st = sorted(times)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        print(f"{name}: {params:,} parameters | {tps:,.0f} tokens/s (mean over {timed} steps; step median "
              f"{st[len(st) // 2]:.3f} s, min {st[0]:.3f}, max {st[-1]:.3f}) | MFU {100 * 6 * params * tps / best:.1f}% "
              f"| last loss {loss.item():.3f} | max RSS {rss:,} MB")


if __name__ == "__main__":
    args = [int(x) for x in sys.argv[1:]]
    defaults = [20, 3, 8, 256]
    main(*(args + defaults[len(args):]))
