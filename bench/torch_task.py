#!/usr/bin/python3
"""PyTorch side of `npm run bench -- task`: the task shape of `rnnlab experiment clipping` (the
adding problem of Pascanu et al. 2013: tanh RNN of 50 units, batch 20, T = 200, a linear
output read at the last step, mean squared error, SGD lr 0.01, clip_grad_norm_ at 1), a fresh
batch every step as rnnlab's TaskRun draws one. Prints one JSON line: milliseconds per step
(median of timed repeats), threads and the BLAS library loaded. Needs Debian's python3-torch;
run on OpenBLAS (libopenblas0-openmp), not the reference BLAS (see tools/torch_charlm.py).

Usage: /usr/bin/python3 bench/torch_task.py --threads 1 --length 200 --hidden 50
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
from peak_rss import peak_rss

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from torch_charlm import blas_in_use  # noqa: E402


def adding_batch(T, B):
    """Pascanu et al.'s adding problem: values uniform in [0, 1], two markers (one in each half), target their sum."""
    x = torch.zeros(T, B, 2)
    x[:, :, 0] = torch.rand(T, B)
    i = torch.randint(0, T // 2, (B,))
    j = torch.randint(T // 2, T, (B,))
    x[i, torch.arange(B), 1] = 1.0
    x[j, torch.arange(B), 1] = 1.0
    y = x[i, torch.arange(B), 0] + x[j, torch.arange(B), 0]
    return x, y.unsqueeze(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--length", type=int, default=200)
    ap.add_argument("--hidden", type=int, default=50)
    ap.add_argument("--batch", type=int, default=20)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    rnn = torch.nn.RNN(2, a.hidden, nonlinearity="tanh")
    head = torch.nn.Linear(a.hidden, 1)
    params = list(rnn.parameters()) + list(head.parameters())
    opt = torch.optim.SGD(params, lr=0.01)

    def step():
        x, y = adding_batch(a.length, a.batch)
        out, _ = rnn(x)
        loss = torch.nn.functional.mse_loss(head(out[-1]), y)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()

    for _ in range(20):
        step()
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(50):
            step()
        times.append((time.perf_counter() - t0) / 50 * 1000)
    blas = [p.rsplit("/", 2)[-2] + "/" + p.rsplit("/", 1)[-1] for p in blas_in_use()]
    print(json.dumps({"T": a.length, "hidden": a.hidden, "ms_per_step": statistics.median(times), "threads": a.threads,
                      "peak_rss_bytes": peak_rss(),
                      "torch": torch.__version__, "blas": blas}), flush=True)


if __name__ == "__main__":
    main()
