#!/usr/bin/env python3
"""PyTorch eager counterpart of model/src/test/java/dev/distill4j/model/bench/ForwardBench.java.

Same model shapes (llama-style, tied embeddings, random init), same measurements: prefill tokens/s of one forward
over [B, T] (last-position logits) and greedy decode tokens/s with a KV cache from a 32-token prompt. F32, no grad,
one thread per core (TORCH_THREADS overrides). Run with Debian's torch:  /usr/bin/python3 tools/reference/bench_torch.py [repeats]
"""
import math
import os
import statistics
import sys
import time

import torch

MODELS = [  # name, hidden, layers, heads, kv heads, intermediate, vocab
    ("llama-10M", 256, 10, 8, 4, 704, 8192),
    ("llama-25M", 384, 12, 6, 2, 1024, 16384),
]


class Llama(torch.nn.Module):
    def __init__(self, d, layers, heads, kv, ff, vocab, theta=10000.0, eps=1e-5):
        super().__init__()
        self.h, self.kv, self.hd, self.eps = heads, kv, d // heads, eps
        lin = lambda o, i: torch.nn.Linear(i, o, bias=False)
        self.embed = torch.nn.Embedding(vocab, d)
        self.layers = torch.nn.ModuleList()
        for _ in range(layers):
            m = torch.nn.Module()
            m.q, m.k, m.v, m.o = lin(heads * self.hd, d), lin(kv * self.hd, d), lin(kv * self.hd, d), lin(d, heads * self.hd)
            m.gate, m.up, m.down = lin(ff, d), lin(ff, d), lin(d, ff)
            m.n1, m.n2 = torch.nn.Parameter(torch.ones(d)), torch.nn.Parameter(torch.ones(d))
            self.layers.append(m)
        self.norm = torch.nn.Parameter(torch.ones(d))
        for p in self.parameters():
            if p.dim() == 2:
                torch.nn.init.normal_(p, std=0.02)
        self.inv_freq = 1.0 / theta ** (torch.arange(0, self.hd, 2).float() / self.hd)

    def rms(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * w

    def rope(self, x, cos, sin):
        x1, x2 = x[..., : self.hd // 2], x[..., self.hd // 2:]
        return x * cos + torch.cat((-x2, x1), -1) * sin

    def forward(self, ids, cache):
        """ids [B, T]; cache: list of (k, v) per layer or Nones; returns last-position logits [B, V]."""
        B, T = ids.shape
        past = 0 if cache[0] is None else cache[0][0].shape[2]
        pos = torch.arange(past, past + T).float()
        freqs = torch.outer(pos, self.inv_freq)
        emb = torch.cat((freqs, freqs), -1)
        cos, sin = emb.cos()[None, None], emb.sin()[None, None]
        mask = torch.full((T, past + T), float("-inf")).triu(past + 1) if T > 1 else None
        x = self.embed(ids)
        for i, m in enumerate(self.layers):
            h = self.rms(x, m.n1)
            q = self.rope(m.q(h).view(B, T, self.h, self.hd).transpose(1, 2), cos, sin)
            k = self.rope(m.k(h).view(B, T, self.kv, self.hd).transpose(1, 2), cos, sin)
            v = m.v(h).view(B, T, self.kv, self.hd).transpose(1, 2)
            if cache[i] is not None:
                k, v = torch.cat((cache[i][0], k), 2), torch.cat((cache[i][1], v), 2)
            cache[i] = (k, v)
            g = self.h // self.kv
            k = k[:, :, None].expand(B, self.kv, g, k.shape[2], self.hd).reshape(B, self.h, -1, self.hd)
            v = v[:, :, None].expand(B, self.kv, g, v.shape[2], self.hd).reshape(B, self.h, -1, self.hd)
            s = q @ k.transpose(-1, -2) / math.sqrt(self.hd)
            if mask is not None:
                s = s + mask
            a = (torch.softmax(s, -1) @ v).transpose(1, 2).reshape(B, T, -1)
            x = x + m.o(a)
            h = self.rms(x, m.n2)
            x = x + m.down(torch.nn.functional.silu(m.gate(h)) * m.up(h))
        return self.rms(x[:, -1], self.norm) @ self.embed.weight.T


def greedy(model, prompts, n):
    cache = [None] * len(model.layers)
    ids = prompts
    for _ in range(n):
        nxt = model(ids, cache).argmax(-1, keepdim=True)
        ids = nxt


def report(what, rates):
    rates = sorted(rates)
    print(f"  {what:36s} median {rates[len(rates) // 2]:9,.0f} tokens/s  (min {rates[0]:,.0f}, max {rates[-1]:,.0f}, {len(rates)} runs)")


def main(repeats):
    # Debian's build starts with 1 thread; DJL's libtorch uses one per core, so match it unless told otherwise
    torch.set_num_threads(int(os.environ.get("TORCH_THREADS", os.cpu_count())))
    torch.manual_seed(1)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for name, d, layers, heads, kv, ff, vocab in MODELS:
        model = Llama(d, layers, heads, kv, ff, vocab).eval()
        print(f"{name}: {sum(p.numel() for p in model.parameters()):,} parameters")
        with torch.no_grad():
            for b, t in ((1, 256), (4, 256)):
                ids = torch.randint(3, vocab, (b, t))
                rates = []
                for r in range(repeats + 1):
                    start = time.perf_counter()
                    model(ids, [None] * layers)
                    if r > 0:
                        rates.append(b * t / (time.perf_counter() - start))
                report(f"prefill B={b} T={t}", rates)
            for b in (1, 8):
                prompts = torch.randint(3, vocab, (b, 32))
                rates = []
                for r in range(repeats + 1):
                    t0 = time.perf_counter()
                    greedy(model, prompts, 1)
                    t1 = time.perf_counter()
                    greedy(model, prompts, 64)
                    t2 = time.perf_counter()
                    if r > 0:
                        rates.append(b * 63 / ((t2 - t1) - (t1 - t0)))
                report(f"decode  B={b} prompt=32 new=64", rates)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
