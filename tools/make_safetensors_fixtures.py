#!/usr/bin/python3
"""Writes PyTorch state_dicts as safetensors files, with PyTorch's outputs beside them, into
test/fixtures/safetensors/ (see the README.md there). rnnlab itself never needs Python.

Needs Debian's python3-torch (apt-get install python3-torch). The `safetensors` Python package
is not needed (Debian has none): the files are written by hand, exactly as its save_file lays
them out (8-byte little-endian header length, JSON header padded with spaces to 8 bytes,
tensors' bytes little-endian and row-major).

For every model NAME there are two files:
  NAME.safetensors           the module's state_dict(), names and dtypes as PyTorch has them
  NAME.expected.safetensors  inputs and PyTorch's outputs: x, h0 (and c0) or input_ids, and
                             output, h_n (and c_n) or logits, computed in float64 from the very
                             weights in the file (so a float64 model must match to ~1e-12), plus
                             the same computed by the float32 module (suffix _f32)

Usage:
  /usr/bin/python3 tools/make_safetensors_fixtures.py [OUT_DIR]   (default test/fixtures/safetensors)
"""
import copy
import json
import os
import struct
import sys

import torch

GEN = "PyTorch %s (tools/make_safetensors_fixtures.py)" % torch.__version__
DTYPES = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int32: "I32"}


def tensor_bytes(t):
    t = t.detach().contiguous().cpu()
    if t.dtype in (torch.float16, torch.bfloat16):
        return t.view(torch.int16).numpy().astype("<i2").tobytes()
    a = t.numpy()
    return a.astype(a.dtype.newbyteorder("<")).tobytes()


def save(path, tensors, metadata=None):
    """safetensors.torch.save_file, by hand (shared tensors are written once per name)."""
    header = {}
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    chunks = []
    offset = 0
    for name, t in tensors.items():
        b = tensor_bytes(t)
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        chunks.append(b)
        offset += len(b)
    js = json.dumps(header, separators=(",", ":")).encode("utf-8")
    js += b" " * ((8 - len(js) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(js)))
        f.write(js)
        for c in chunks:
            f.write(c)


def as_dtype(module, dtype):
    """A copy of the module whose weights are rounded to `dtype`, then widened to float64."""
    m = copy.deepcopy(module)
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(p.to(dtype).to(torch.float32))
    return m


def recurrent(out, name, module, T, B, describe, extra_meta=None, weight_dtype=None):
    """A bare nn.RNN/LSTM/GRU: its state_dict, and its outputs on a random input and initial state."""
    m = module
    if weight_dtype is not None:
        m = as_dtype(module, weight_dtype)
    lstm = isinstance(m, torch.nn.LSTM)
    D = 2 if m.bidirectional else 1
    g = torch.Generator().manual_seed(7)
    x = torch.randn(T, B, m.input_size, generator=g)
    h0 = torch.randn(m.num_layers * D, B, m.hidden_size, generator=g)
    c0 = torch.randn(m.num_layers * D, B, m.hidden_size, generator=g) if lstm else None
    m64 = copy.deepcopy(m).double()
    with torch.no_grad():
        if lstm:
            y, (hn, cn) = m64(x.double(), (h0.double(), c0.double()))
            y32, (hn32, cn32) = m(x, (h0, c0))
        else:
            y, hn = m64(x.double(), h0.double())
            y32, hn32 = m(x, h0)
    sd = module.state_dict()
    if weight_dtype is not None:
        sd = {k: v.to(weight_dtype) for k, v in sd.items()}
    meta = {"module": describe, "generator": GEN}
    save(os.path.join(out, name + ".safetensors"), sd, meta)
    exp = {"x": x, "h0": h0}
    if lstm:
        exp["c0"] = c0
    exp.update({"output": y, "h_n": hn})
    if lstm:
        exp["c_n"] = cn
    exp.update({"output_f32": y32, "h_n_f32": hn32})
    if lstm:
        exp["c_n_f32"] = cn32
    meta = {"module": describe, "generator": GEN, "weights": weight_dtype and DTYPES[weight_dtype] or "F32"}
    meta.update(extra_meta or {})
    save(os.path.join(out, name + ".expected.safetensors"), exp, meta)


class CharLM(torch.nn.Module):
    """Embedding -> RNN/LSTM/GRU -> Linear, under configurable submodule names."""

    def __init__(self, V, E, H, cell, layers=1, names=("embedding", "rnn", "head"), tie=False, rnn_bias=True, head_bias=True, nonlinearity="tanh"):
        super().__init__()
        self.names = names
        kw = {"num_layers": layers, "bias": rnn_bias}
        if cell == "rnn":
            kw["nonlinearity"] = nonlinearity
        rnn = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](E, H, **kw)
        emb = torch.nn.Embedding(V, E)
        head = torch.nn.Linear(H, V, bias=head_bias)
        if tie:
            head.weight = emb.weight
        for n, mod in zip(names, (emb, rnn, head)):
            setattr(self, n, mod)

    def forward(self, ids):
        emb, rnn, head = (getattr(self, n) for n in self.names)
        y, _ = rnn(emb(ids))
        return head(y)


def charlm(out, name, model, vocab, T, B, describe, with_vocab=True):
    g = torch.Generator().manual_seed(11)
    V = len(vocab)
    ids = torch.randint(0, V, (T, B), generator=g)
    model.eval()
    with torch.no_grad():
        logits = copy.deepcopy(model).double()(ids)
        logits32 = model(ids)
    meta = {"generator": GEN, "module": describe}
    if with_vocab:
        meta["vocab"] = json.dumps(vocab)
    save(os.path.join(out, name + ".safetensors"), model.state_dict(), meta)
    save(os.path.join(out, name + ".expected.safetensors"),
         {"input_ids": ids.to(torch.int32), "logits": logits, "logits_f32": logits32},
         {"generator": GEN, "module": describe, "vocab": json.dumps(vocab)})


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "safetensors")
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(1)

    lstm = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    d = "torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True)"
    recurrent(out, "lstm_bidir_l2", lstm, 5, 2, d)
    # the same weights rounded to half precision; expected outputs are of the rounded weights,
    # and lstm_bidir_l2.expected holds the unrounded ones' (same input: the generator is reseeded)
    recurrent(out, "lstm_bidir_l2_f16", lstm, 5, 2, d + ", weights in float16", weight_dtype=torch.float16)
    recurrent(out, "lstm_bidir_l2_bf16", lstm, 5, 2, d + ", weights in bfloat16", weight_dtype=torch.bfloat16)

    recurrent(out, "gru_nobias", torch.nn.GRU(3, 5, num_layers=2, bias=False), 6, 3, "torch.nn.GRU(3, 5, num_layers=2, bias=False)")
    recurrent(out, "rnn_relu_nobias", torch.nn.RNN(3, 4, num_layers=2, nonlinearity="relu", bias=False), 5, 2,
              "torch.nn.RNN(3, 4, num_layers=2, nonlinearity='relu', bias=False)", {"nonlinearity": "relu"})

    vocab = sorted(set("the quick brown fox.\n"))
    V = len(vocab)
    charlm(out, "charlm_gru", CharLM(V, 6, 8, "gru"), vocab, 7, 2,
           "Embedding(%d, 6) -> GRU(6, 8) -> Linear(8, %d) as embedding, rnn, head" % (V, V))
    # PyTorch's word_language_model example: encoder, rnn, decoder, with tied weights; no vocabulary in the file
    charlm(out, "charlm_lstm_tied_wlm", CharLM(V, 8, 8, "lstm", layers=2, names=("encoder", "rnn", "decoder"), tie=True), vocab, 6, 3,
           "Embedding(%d, 8) -> LSTM(8, 8, num_layers=2) -> Linear(8, %d), decoder.weight = encoder.weight (word_language_model's names)" % (V, V),
           with_vocab=False)
    charlm(out, "charlm_rnn_relu_nobias", CharLM(V, 5, 6, "rnn", nonlinearity="relu", rnn_bias=False, head_bias=False), vocab, 6, 2,
           "Embedding(%d, 5) -> RNN(5, 6, nonlinearity='relu', bias=False) -> Linear(6, %d, bias=False)" % (V, V))
    print("wrote", sorted(os.listdir(out)))


if __name__ == "__main__":
    main()
