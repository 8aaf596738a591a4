#!/usr/bin/python3
"""PyTorch side of `npm run bench -- word`: trains the same word-level language model as
bench/word-one.mjs (`rnnlab train --tokens words` with its defaults: Embedding(10000, 64),
LSTM(64, 256), Linear(256, 10000), batch 32 x window 64, truncated BPTT carrying the state
across windows, Adam 2e-3, clip_grad_norm_ at 5). The tokens are random ids in [0, 10000): the
speed of a step does not depend on which words it sees (the same shapes, the same arithmetic;
the embedding is dense, as rnnlab's and as PyTorch's word_language_model example). Prints one
JSON line: words/s (tokens/s), the median of the timed repeats after the untimed steps, peak
resident set, threads and the BLAS library loaded.

Usage: /usr/bin/python3 bench/torch_word.py --threads 2 --repeats 5 --steps 1 --warmup 2
"""
import argparse
import json
import sys
from pathlib import Path

import torch
from peak_rss import peak_rss

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from torch_charlm import blas_in_use  # noqa: E402
from torch_bench import bench  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--vocab", type=int, default=10000)
    ap.add_argument("--embed", type=int, default=64)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--window", type=int, default=64)
    ap.add_argument("--steps", type=int, default=1, help="steps per timed repeat")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    V, E, H, B, T = a.vocab, a.embed, a.hidden, a.batch, a.window
    # the character bench's model and step with a word vocabulary (random ids: speed does not depend on the data)
    rate, parameters = bench("lstm", H, 1, a.steps, a.repeats, V=V, E=E, B=B, T=T, warmup=a.warmup)
    blas = [p.rsplit("/", 2)[-2] + "/" + p.rsplit("/", 1)[-1] for p in blas_in_use()]
    print(json.dumps({"vocab": V, "hidden": H, "embed": E, "tokens_per_s": rate,
                      "steps_timed": a.steps * a.repeats + a.warmup,
                      "parameters": parameters,
                      "peak_rss_bytes": peak_rss(),
                      "threads": torch.get_num_threads(), "torch": torch.__version__, "blas": blas}), flush=True)


if __name__ == "__main__":
    main()
