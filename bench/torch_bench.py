#!/usr/bin/python3
"""PyTorch side of `npm run bench -- train`: trains the same character language models as
rnnlab's bench (vocabulary 65, embedding 64, batch 32, window 64, Adam, gradient-norm clipping at
5; 1 or more stacked layers, torch.nn.RNN/LSTM/GRU(num_layers=L)) and prints one JSON line per
configuration: chars/s (median of timed repeats, after 2 untimed steps), peak resident set,
thread count and the BLAS library loaded. Needs Debian's python3-torch; run on OpenBLAS
(libopenblas0-openmp), not the reference BLAS (see tools/torch_charlm.py).

A configuration is CELL:HIDDEN or CELL:HIDDEN:LAYERS (LAYERS default: --layers). Steps per timed
repeat: --steps, else by size as bench/train-one.mjs (10 at hidden <= 128, 5 at <= 256, 2 at
<= 512, 1 above or with 2 layers and more).

Usage: /usr/bin/python3 bench/torch_bench.py --configs rnn:128,lstm:512:2 --threads 2 --repeats 5
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
from peak_rss import peak_rss

# the BLAS detection of the side-by-side training script (tools/torch_charlm.py)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from torch_charlm import blas_in_use  # noqa: E402


def steps_for(H, L):
    """Steps per timed repeat, as bench/train-one.mjs chooses them."""
    if L > 1 or H > 512:
        return 1
    return 10 if H <= 128 else 5 if H <= 256 else 2


def bench(cell, H, L, steps, repeats, V=65, E=64, B=32, T=64, warmup=2):
    """Tokens/s of Adam steps (clip 5) of Embedding(V, E) -> CELL(E, H, L) -> Linear(H, V) on batches
    (T, B) of random ids (the median of `repeats` timings of `steps` steps), and the parameter count."""
    torch.manual_seed(1)
    emb = torch.nn.Embedding(V, E)
    rnn = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](E, H, num_layers=L)
    head = torch.nn.Linear(H, V)
    params = list(emb.parameters()) + list(rnn.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=2e-3)
    # random characters: speed does not depend on the data
    x = torch.randint(0, V, (T, B))
    y = torch.randint(0, V, (T, B))
    h = None

    def step():
        nonlocal h
        out, h = rnn(emb(x), h)
        h = tuple(t.detach() for t in h) if isinstance(h, tuple) else h.detach()
        loss = torch.nn.functional.cross_entropy(head(out).reshape(-1, V), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        opt.step()

    for _ in range(warmup):
        step()
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        rates.append(steps * T * B / (time.perf_counter() - t0))
    return statistics.median(rates), sum(p.numel() for p in params)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--configs", default="rnn:128,rnn:512,lstm:128,lstm:512,gru:128,gru:512")
    ap.add_argument("--layers", type=int, default=1, help="stacked layers of a configuration that does not give its own")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=None, help="steps per timed repeat (default: by size)")
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    blas = [p.rsplit("/", 2)[-2] + "/" + p.rsplit("/", 1)[-1] for p in blas_in_use()]  # folder/library
    for c in a.configs.split(","):
        parts = c.split(":")
        cell, H = parts[0], int(parts[1])
        L = int(parts[2]) if len(parts) > 2 else a.layers
        steps = a.steps if a.steps is not None else steps_for(H, L)
        rate, _ = bench(cell, H, L, steps, a.repeats)
        rss = peak_rss()
        print(json.dumps({"cell": cell, "hidden": H, "layers": L, "chars_per_s": rate, "steps_timed": steps * a.repeats + 2,
                          "peak_rss_bytes": rss, "threads": torch.get_num_threads(), "torch": torch.__version__, "blas": blas}),
              flush=True)


if __name__ == "__main__":
    main()
