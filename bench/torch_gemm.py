#!/usr/bin/python3
"""PyTorch's side of `npm run bench -- gemm`: float32 matrix products on OpenBLAS at 1 thread
(torch.mm, and torch.mm with a transposed operand), GFLOP/s, the median of 5 timed runs of about
0.1 s each. Prints one JSON line: {"gflops": {name: value}, "blas": [...], "torch": version}.

Usage: /usr/bin/python3 bench/torch_gemm.py 256,512 [--threads 1]
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from torch_charlm import blas_in_use  # noqa: E402


def rate(f, flops):
    f()
    reps = max(1, int(1e8 / flops * 10))
    t = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(reps):
            f()
        t.append((time.perf_counter() - t0) / reps)
    return flops / statistics.median(t) / 1e9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("hidden")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    out = {}
    for H in [int(h) for h in a.hidden.split(",")]:
        M = 2048
        A = torch.rand(M, H)
        W = torch.rand(H, H)
        G = torch.rand(M, H)
        out[f"{H}:forward"] = rate(lambda: torch.mm(A, W.t()), 2 * M * H * H)
        out[f"{H}:nn"] = rate(lambda: torch.mm(A, W), 2 * M * H * H)
        out[f"{H}:grad"] = rate(lambda: torch.mm(G.t(), A), 2 * M * H * H)
        h = torch.rand(32, H)
        W4 = torch.rand(4 * H, H)
        out[f"{H}:step"] = rate(lambda: torch.mm(h, W4.t()), 2 * 32 * 4 * H * H)
    blas = [p.rsplit("/", 2)[-2] + "/" + p.rsplit("/", 1)[-1] for p in blas_in_use()]
    print(json.dumps({"gflops": out, "blas": blas, "torch": torch.__version__, "threads": a.threads}))


if __name__ == "__main__":
    main()
