#!/usr/bin/python3
"""PyTorch side of `npm run bench -- sample`: sampling speed of the same language model as
bench/sample-one.mjs (Embedding(V, E), RNN/LSTM/GRU(E, H, num_layers=L), Linear(H, V); by default
`rnnlab train`'s: LSTM, hidden 256, embedding 64, vocabulary 65), freshly initialised (speed does
not depend on the weights' values), batch 1: the prime (16 random tokens) in one call, then an
eager loop of one step at a time under torch.no_grad(), each token drawn by torch.multinomial
from the softmax of the logits (temperature 1) and fed back. Prints one JSON line: tokens/s (the
median of the timed repeats, after one untimed), peak resident set, threads and the BLAS library.

Usage: /usr/bin/python3 bench/torch_sample.py --threads 1 --cell lstm --hidden 256 --length 2000 --repeats 5
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--cell", default="lstm")
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=1)
    ap.add_argument("--embed", type=int, default=64)
    ap.add_argument("--vocab", type=int, default=65)
    ap.add_argument("--length", type=int, default=2000, help="tokens generated per timed repeat")
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    V = a.vocab
    emb = torch.nn.Embedding(V, a.embed)
    rnn = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[a.cell](a.embed, a.hidden, num_layers=a.layers)
    head = torch.nn.Linear(a.hidden, V)
    for m in (emb, rnn, head):
        m.eval()
    prime = torch.randint(0, V, (16, 1))

    def generate():
        with torch.no_grad():
            out, h = rnn(emb(prime))  # (T, 1, E) -> (T, 1, H)
            logits = head(out[-1])  # (1, V)
            ids = []
            for _ in range(a.length):
                probs = torch.softmax(logits, dim=-1)  # temperature 1
                x = torch.multinomial(probs, 1)  # (1, 1)
                ids.append(x)
                out, h = rnn(emb(x), h)
                logits = head(out[-1])
        return ids

    generate()
    rates = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        generate()
        rates.append(a.length / (time.perf_counter() - t0))
    blas = [p.rsplit("/", 2)[-2] + "/" + p.rsplit("/", 1)[-1] for p in blas_in_use()]
    print(json.dumps({"cell": a.cell, "hidden": a.hidden, "layers": a.layers, "tokens_per_s": statistics.median(rates),
                      "peak_rss_bytes": peak_rss(),
                      "threads": torch.get_num_threads(), "torch": torch.__version__, "blas": blas}), flush=True)


if __name__ == "__main__":
    main()
