#!/usr/bin/python3
"""Writes PyTorch reference fixtures in the format of test/fixtures/pytorch/README.md.

Needs Debian's python3-torch (apt-get install python3-torch); rnnlab itself never needs Python.
Every number is computed by PyTorch in float64 from seeded random weights and inputs.

Usage:
  /usr/bin/python3 tools/make_fixtures.py OUT_DIR [--seed N] [--set extra|variants|schedules|dropout|api|feedforward]

  --set extra     what the shared fixtures do not cover: every optimizer (SGD with Nesterov and
                  weight decay, Adagrad, RMSprop centred with momentum, Adam with weight decay and
                  AMSGrad, AdamW), truncated BPTT with k2 > k1, p = 1 and p = 3 clipping,
                  bidirectional layers, packed sequences (lengths), dropout off in eval mode, and
                  GRU language models.
  --set variants  the shared kinds with other sizes and seeds, 3-layer stacks, no bias, relu,
                  p = 1 clipping: for checking that the parity runner needs no code change.
  --set dropout   language models of PyTorch's word_language_model example (dropout on the embedding,
                  between the recurrent layers and on the output; LSTM, GRU and RNN, 2 layers, some
                  tied) in eval mode, where dropout is inactive: forward loss, gradients, 3 updates.
  --set schedules learning-rate schedules (torch.optim.lr_scheduler: StepLR, ExponentialLR,
                  CosineAnnealingLR, OneCycleLR, ReduceLROnPlateau, linear warm-up then another):
                  the rate of every update.
  --set api       the rest of PyTorch's recurrent API: LSTM projections (proj_size; 1 and 2
                  layers, bidirectional, packed), batch_first, unbatched (2-D) input, packed
                  outputs as PyTorch returns them, the single-step cells (kind "cell": RNNCell,
                  LSTMCell, GRUCell unrolled over a few steps) and torch.nn.utils.rnn's pack/pad
                  helpers (kind "pack").
  --set feedforward Bengio et al. (2003)'s feed-forward language model over a window of n tokens
                  (kind "ffnlm"): embedded window concatenated oldest first, hidden layers, softmax,
                  optional direct connections; windows reaching before the chunk (a context of
                  earlier tokens, -1 before the stream's start: a zero vector); loss, gradients,
                  3 clipped updates.
"""
import argparse
import json
import os

import torch

torch.set_default_dtype(torch.float64)
GEN = "PyTorch %s, float64 (tools/make_fixtures.py)" % torch.__version__


def T(x):
    x = x.detach().to(torch.float64)
    return {"shape": list(x.shape), "data": x.reshape(-1).tolist()}


def write(out, name, obj):
    obj["generator"] = GEN
    with open(os.path.join(out, name + ".json"), "w") as f:
        json.dump(obj, f)


def make_module(kind, I, H, L, nonlin="tanh", bias=True, bidirectional=False, dropout=0.0, batch_first=False, proj_size=0):
    if kind == "RNN":
        return torch.nn.RNN(I, H, num_layers=L, nonlinearity=nonlin, bias=bias, bidirectional=bidirectional, dropout=dropout,
                            batch_first=batch_first)
    if kind == "LSTM":
        return torch.nn.LSTM(I, H, num_layers=L, bias=bias, bidirectional=bidirectional, dropout=dropout, batch_first=batch_first,
                             proj_size=proj_size)
    return torch.nn.GRU(I, H, num_layers=L, bias=bias, bidirectional=bidirectional, dropout=dropout, batch_first=batch_first)


def packed_of(p):
    """A PackedSequence as JSON: data and batch_sizes, and the permutations (null when sorted)."""
    def ix(t):
        return None if t is None else [int(v) for v in t.tolist()]
    return {"data": T(p.data), "batch_sizes": ix(p.batch_sizes), "sorted_indices": ix(p.sorted_indices),
            "unsorted_indices": ix(p.unsorted_indices)}


def recurrent(out, name, I, H, L, Tn, B, nonlin="tanh", bias=True, kind="RNN", bidirectional=False,
              lengths=None, dropout=0.0, mode="train", batch_first=False, proj_size=0, unbatched=False):
    m = make_module(kind, I, H, L, nonlin, bias, bidirectional, dropout, batch_first, proj_size)
    if mode == "eval":
        m.eval()
    D = 2 if bidirectional else 1
    Hout = proj_size if proj_size > 0 else H
    if unbatched:  # PyTorch's unbatched input (T, I), states (L*D, H_out) and (L*D, H)
        x = torch.randn(Tn, I, requires_grad=True)
        h0 = torch.randn(L * D, Hout, requires_grad=True)
        c0 = torch.randn(L * D, H, requires_grad=True) if kind == "LSTM" else None
    else:
        x = torch.randn(*((B, Tn, I) if batch_first else (Tn, B, I)), requires_grad=True)
        h0 = torch.randn(L * D, B, Hout, requires_grad=True)
        c0 = torch.randn(L * D, B, H, requires_grad=True) if kind == "LSTM" else None
    hx = (h0, c0) if kind == "LSTM" else h0
    packed_out = None
    if lengths is not None:
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor(lengths), batch_first=batch_first, enforce_sorted=False)
        yp, hn = m(packed, hx)
        packed_out = yp
        y, _ = torch.nn.utils.rnn.pad_packed_sequence(yp, batch_first=batch_first, total_length=Tn)
    else:
        y, hn = m(x, hx)
    if kind == "LSTM":
        hn, cn = hn
    Ro = torch.randn_like(y)
    Rh = torch.randn_like(hn)
    loss = (y * Ro).sum() + (hn * Rh).sum()
    lossdef = "sum(output*R_out) + sum(h_n*R_h)"
    if kind == "LSTM":
        Rc = torch.randn_like(cn)
        loss = loss + (cn * Rc).sum()
        lossdef += " + sum(c_n*R_c)"
    loss.backward()
    params = {k: T(v) for k, v in m.named_parameters()}
    grads = {k: T(v.grad) for k, v in m.named_parameters()}
    grads["x"] = T(x.grad)
    grads["h0"] = T(h0.grad)
    inputs = {"x": T(x), "h0": T(h0)}
    outputs = {"output": T(y), "h_n": T(hn)}
    lossobj = {"definition": lossdef, "R_out": T(Ro), "R_h": T(Rh), "value": loss.item()}
    if kind == "LSTM":
        grads["c0"] = T(c0.grad)
        inputs["c0"] = T(c0)
        outputs["c_n"] = T(cn)
        lossobj["R_c"] = T(Rc)
    module = {"type": kind, "input_size": I, "hidden_size": H, "num_layers": L,
              "nonlinearity": nonlin if kind == "RNN" else None, "bias": bias, "batch_first": batch_first}
    if proj_size:
        module["proj_size"] = proj_size
    if packed_out is not None and (batch_first or proj_size):
        # PyTorch's packed output as it returns it (the api set: the runner feeds a PackedSequence too)
        outputs["output_packed"] = packed_of(packed_out)
    if bidirectional:
        module["bidirectional"] = True
    if dropout:
        module["dropout"] = dropout
        module["mode"] = mode
    if lengths is not None:
        inputs["lengths"] = list(lengths)
    fx = {"kind": "recurrent", "module": module, "params": params, "inputs": inputs, "outputs": outputs,
          "loss": lossobj, "grads": grads}
    if lengths is not None:
        fx["note"] = ("inputs.lengths: PyTorch packed sequences (pack_padded_sequence, enforce_sorted=False); "
                      "output padded with zeros by pad_packed_sequence to T steps; h_n at each sequence's own last step.")
    if batch_first:
        fx["note_layout"] = "module.batch_first: x, output, R_out and grad x are (B, T, .); h0, h_n, c_n stay (L*D, B, .)."
    if unbatched:
        fx["note_layout"] = "unbatched input: x (T, I), output (T, D*H_out), h0 and h_n (L*D, H_out), c0 and c_n (L*D, H)."
    if "output_packed" in outputs:
        fx["note_packed"] = ("outputs.output_packed: the module's PackedSequence output (data, batch_sizes, sorted_indices, "
                             "unsorted_indices), for an input packed by pack_padded_sequence(enforce_sorted=False).")
    write(out, name, fx)


def cell(out, name, kind, I, H, Tn, B, nonlin="tanh", bias=True, unbatched=False, zero_state=False):
    """A single-step cell (torch.nn.RNNCell, LSTMCell, GRUCell) applied Tn times: h_t = cell(x_t, h_{t-1});
    loss = sum_t sum(h_t * R_h[t]) (+ sum_t sum(c_t * R_c[t]) for the LSTMCell)."""
    if kind == "RNNCell":
        m = torch.nn.RNNCell(I, H, bias=bias, nonlinearity=nonlin)
    else:
        m = getattr(torch.nn, kind)(I, H, bias=bias)
    lstm = kind == "LSTMCell"
    sh = (H,) if unbatched else (B, H)
    x = torch.randn(*((Tn, I) if unbatched else (Tn, B, I)), requires_grad=True)
    h0 = None if zero_state else torch.randn(*sh, requires_grad=True)
    c0 = None if zero_state or not lstm else torch.randn(*sh, requires_grad=True)
    hs, cs = [], []
    h, c = h0, c0
    for t in range(Tn):
        if lstm:
            h, c = m(x[t], None if h is None else (h, c))
            cs.append(c)
        else:
            h = m(x[t], h)
        hs.append(h)
    hs = torch.stack(hs)
    Rh = torch.randn_like(hs)
    loss = (hs * Rh).sum()
    lossdef = "sum over steps t of sum(h_t*R_h[t])"
    lossobj = {"R_h": T(Rh)}
    outputs = {"h": T(hs)}
    if lstm:
        cs = torch.stack(cs)
        Rc = torch.randn_like(cs)
        loss = loss + (cs * Rc).sum()
        lossdef += " + sum(c_t*R_c[t])"
        lossobj["R_c"] = T(Rc)
        outputs["c"] = T(cs)
    loss.backward()
    lossobj.update({"definition": lossdef, "value": loss.item()})
    inputs = {"x": T(x)}
    grads = {k: T(v.grad) for k, v in m.named_parameters()}
    grads["x"] = T(x.grad)
    if h0 is not None:
        inputs["h0"] = T(h0)
        grads["h0"] = T(h0.grad)
    if c0 is not None:
        inputs["c0"] = T(c0)
        grads["c0"] = T(c0.grad)
    module = {"type": kind, "input_size": I, "hidden_size": H, "bias": bias, "nonlinearity": nonlin if kind == "RNNCell" else None}
    write(out, name, {
        "kind": "cell", "module": module, "params": {k: T(v) for k, v in m.named_parameters()},
        "inputs": inputs, "outputs": outputs, "loss": lossobj, "grads": grads,
        "note": "the cell applied to x[0], x[1], ... in turn, each step from the state the last one returned (h0, c0 "
                "when given, else PyTorch's zeros); outputs.h (and c) stack every step's state; x is (T, B, I), or "
                "(T, I) for unbatched steps with states (H).",
    })


def pack(out, name):
    """torch.nn.utils.rnn's helpers on small tensors, ties in the lengths (PyTorch's sort is stable)."""
    U = torch.nn.utils.rnn

    def lens(t):
        return [int(v) for v in t.tolist()]

    cases = []
    x = torch.randn(5, 6, 2)  # (T, B, F)
    lengths = [3, 5, 3, 1, 5, 2]
    for bf in [False, True]:
        inp = x.transpose(0, 1).contiguous() if bf else x
        p = U.pack_padded_sequence(inp, torch.tensor(lengths), batch_first=bf, enforce_sorted=False)
        cases.append({"op": "pack_padded_sequence", "input": T(inp), "lengths": lengths, "batch_first": bf,
                      "enforce_sorted": False, "expected": packed_of(p)})
        for pad, total in [(0.0, None), (-1.5, 7)]:
            o, ls = U.pad_packed_sequence(p, batch_first=bf, padding_value=pad, total_length=total)
            cases.append({"op": "pad_packed_sequence", "packed": packed_of(p), "batch_first": bf, "padding_value": pad,
                          "total_length": total, "expected": {"output": T(o), "lengths": lens(ls)}})
    xs = torch.randn(4, 3, 2, 2)  # sorted lengths, trailing dims (2, 2), input longer than the longest length
    p = U.pack_padded_sequence(xs, torch.tensor([3, 3, 1]), enforce_sorted=True)
    cases.append({"op": "pack_padded_sequence", "input": T(xs), "lengths": [3, 3, 1], "batch_first": False,
                  "enforce_sorted": True, "expected": packed_of(p)})
    o, ls = U.pad_packed_sequence(p)
    cases.append({"op": "pad_packed_sequence", "packed": packed_of(p), "batch_first": False, "padding_value": 0.0,
                  "total_length": None, "expected": {"output": T(o), "lengths": lens(ls)}})
    seqs = [torch.randn(2, 3), torch.randn(4, 3), torch.randn(1, 3)]
    for bf, pad in [(False, 0.0), (True, 0.25)]:
        cases.append({"op": "pad_sequence", "sequences": [T(s) for s in seqs], "batch_first": bf, "padding_value": pad,
                      "expected": T(U.pad_sequence(seqs, batch_first=bf, padding_value=pad))})
    vs = [torch.randn(3), torch.randn(3), torch.randn(2)]
    cases.append({"op": "pad_sequence", "sequences": [T(s) for s in vs], "batch_first": False, "padding_value": 0.0,
                  "expected": T(U.pad_sequence(vs))})
    cases.append({"op": "pack_sequence", "sequences": [T(s) for s in seqs], "enforce_sorted": False,
                  "expected": packed_of(U.pack_sequence(seqs, enforce_sorted=False))})
    write(out, name, {"kind": "pack", "cases": cases,
                      "note": "torch.nn.utils.rnn: each case's op applied to its arguments (PyTorch's names) gives expected."})


def api(out):
    # LSTM projections (proj_size), PyTorch's sizes: h (L*D, B, P), c (L*D, B, H), weight_hr_l{k} (P, H)
    recurrent(out, "lstm_proj_l1", 3, 5, 1, 6, 3, kind="LSTM", proj_size=2)
    recurrent(out, "lstm_proj_l2", 2, 4, 2, 5, 2, kind="LSTM", proj_size=3)
    recurrent(out, "lstm_proj_bidirectional_l2", 3, 4, 2, 5, 3, kind="LSTM", proj_size=2, bidirectional=True)
    recurrent(out, "lstm_proj_packed_bidirectional_l2", 2, 5, 2, 6, 4, kind="LSTM", proj_size=3, bidirectional=True,
              lengths=[6, 2, 4, 2])
    recurrent(out, "lstm_proj_packed_l1_nobias", 3, 3, 1, 5, 3, kind="LSTM", proj_size=1, bias=False, lengths=[2, 5, 3])
    recurrent(out, "lstm_proj_dropout_eval_l3", 2, 4, 3, 4, 2, kind="LSTM", proj_size=2, dropout=0.5, mode="eval")
    # batch_first: x, output (B, T, .)
    recurrent(out, "rnn_batch_first_l2", 3, 4, 2, 5, 3, batch_first=True)
    recurrent(out, "lstm_batch_first_bidirectional", 2, 3, 1, 4, 2, kind="LSTM", batch_first=True, bidirectional=True)
    recurrent(out, "gru_batch_first_l2", 3, 4, 2, 6, 2, kind="GRU", batch_first=True)
    recurrent(out, "gru_batch_first_packed_bidirectional", 2, 3, 2, 5, 3, kind="GRU", batch_first=True, bidirectional=True,
              lengths=[2, 5, 3])
    recurrent(out, "lstm_proj_batch_first_packed", 3, 4, 1, 5, 3, kind="LSTM", proj_size=2, batch_first=True, lengths=[4, 5, 1])
    # unbatched (2-D) input
    recurrent(out, "rnn_relu_unbatched", 3, 4, 1, 5, 1, nonlin="relu", unbatched=True)
    recurrent(out, "lstm_unbatched_bidirectional_l2", 2, 3, 2, 4, 1, kind="LSTM", bidirectional=True, unbatched=True)
    recurrent(out, "gru_unbatched_batch_first", 3, 4, 2, 5, 1, kind="GRU", batch_first=True, unbatched=True)
    recurrent(out, "lstm_proj_unbatched", 2, 4, 2, 5, 1, kind="LSTM", proj_size=3, unbatched=True)
    # single-step cells over a few steps
    cell(out, "cell_rnn_tanh", "RNNCell", 3, 4, 3, 2)
    cell(out, "cell_rnn_relu_nobias_unbatched", "RNNCell", 2, 5, 4, 1, nonlin="relu", bias=False, unbatched=True)
    cell(out, "cell_lstm", "LSTMCell", 3, 4, 3, 2)
    cell(out, "cell_lstm_unbatched_zero_state", "LSTMCell", 2, 3, 3, 1, unbatched=True, zero_state=True)
    cell(out, "cell_gru", "GRUCell", 3, 4, 3, 3)
    cell(out, "cell_gru_nobias_zero_state", "GRUCell", 4, 3, 2, 2, bias=False, zero_state=True)
    pack(out, "pack_pad")


def clip(out, name, shapes, max_norm, norm_type, scale):
    gs = [torch.randn(*s) * scale for s in shapes]
    before = [T(g) for g in gs]
    ps = [torch.zeros_like(g, requires_grad=True) for g in gs]
    for p, g in zip(ps, gs):
        p.grad = g.clone()
    nt = float("inf") if norm_type == "inf" else norm_type
    total = torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type=nt)
    write(out, name, {
        "kind": "clip_grad_norm", "max_norm": max_norm, "norm_type": norm_type,
        "grads_before": before, "total_norm": total.item(), "grads_after": [T(p.grad) for p in ps],
    })


def tbptt(out, name, I, H, L, Tn, B, k1, k2, kind="RNN"):
    m = make_module(kind, I, H, L)
    x = torch.randn(Tn, B, I)
    R = torch.randn(Tn, B, H)
    chunks = []
    for start in range(0, Tn, k1):
        end = min(start + k1, Tn)
        ws = max(0, start - (k2 - k1))  # the chunk plus the k2 - k1 steps before it
        with torch.no_grad():  # the state at the window's start, detached
            h = (torch.zeros(L, B, H), torch.zeros(L, B, H)) if kind == "LSTM" else torch.zeros(L, B, H)
            if ws > 0:
                _, h = m(x[:ws], h)
        m.zero_grad()
        y, _ = m(x[ws:end], h)
        loss = (y[start - ws:] * R[start:end]).sum()
        loss.backward()
        chunks.append({"start": start, "length": end - start, "loss": loss.item(),
                       "grads": {k: T(v.grad) for k, v in m.named_parameters()}})
    write(out, name, {
        "kind": "tbptt",
        "module": {"type": kind, "input_size": I, "hidden_size": H, "num_layers": L,
                   "nonlinearity": "tanh" if kind == "RNN" else None},
        "params": {k: T(v) for k, v in m.named_parameters()},
        "x": T(x), "R": T(R), "h_start": "zeros", "k1": k1, "k2": k2, "chunks": chunks,
        "note": "TBPTT(k1,k2) with frozen parameters: per chunk of (up to) k1 steps, forward over the chunk and the "
                "k2-k1 steps before it, from the (detached) state at that window's start; loss = sum(output*R) over "
                "the chunk's steps only; gradients of that chunk alone.",
    })


class LM(torch.nn.Module):
    def __init__(self, V, E, H, L, nonlin, tied, kind="RNN"):
        super().__init__()
        self.embedding = torch.nn.Embedding(V, E)
        self.rnn = make_module(kind, E, H, L, nonlin)
        self.head = torch.nn.Linear(H, V)
        if tied:
            self.head.weight = self.embedding.weight

    def forward(self, ids):
        y, _ = self.rnn(self.embedding(ids))
        return self.head(y)


def optimizer_runs(m, start, loss_of, optims, clip_max):
    """Each optimizer from the same start: 3 updates with the gradient norm clipped to clip_max;
    the pre-clip norms and the parameters after, keyed by optimizer, with the threshold."""
    optim = {"clip_max_norm": clip_max}
    for oname in optims:
        with torch.no_grad():
            for k, v in m.named_parameters():
                v.copy_(start[k])
        opt, hyper = OPTIMS[oname](list(m.parameters()))
        norms = []
        for _ in range(3):
            opt.zero_grad()
            loss_of().backward()
            norms.append(torch.nn.utils.clip_grad_norm_(m.parameters(), clip_max).item())
            opt.step()
        optim[oname] = dict(hyper, pre_clip_norms=norms, params_after_3_steps={k: T(v) for k, v in m.named_parameters()})
    return optim


OPTIMS = {
    "adam": lambda ps: (torch.optim.Adam(ps, lr=0.01), {"lr": 0.01, "betas": [0.9, 0.999], "eps": 1e-8}),
    "sgd_momentum": lambda ps: (torch.optim.SGD(ps, lr=0.1, momentum=0.9), {"lr": 0.1, "momentum": 0.9}),
    "sgd_nesterov": lambda ps: (torch.optim.SGD(ps, lr=0.1, momentum=0.8, nesterov=True, weight_decay=0.01),
                                {"lr": 0.1, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01}),
    "adagrad": lambda ps: (torch.optim.Adagrad(ps, lr=0.05, lr_decay=0.01, weight_decay=0.001),
                           {"lr": 0.05, "lr_decay": 0.01, "weight_decay": 0.001, "eps": 1e-10}),
    "rmsprop": lambda ps: (torch.optim.RMSprop(ps, lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.001),
                           {"lr": 0.01, "alpha": 0.9, "eps": 1e-8, "momentum": 0.5, "centered": True, "weight_decay": 0.001}),
    "adam_l2_amsgrad": lambda ps: (torch.optim.Adam(ps, lr=0.02, betas=(0.8, 0.99), weight_decay=0.01, amsgrad=True),
                                   {"lr": 0.02, "betas": [0.8, 0.99], "eps": 1e-8, "weight_decay": 0.01, "amsgrad": True}),
    "adamw": lambda ps: (torch.optim.AdamW(ps, lr=0.01, weight_decay=0.1), {"lr": 0.01, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.1}),
}


def charlm(out, name, V, E, H, L, Tn, B, tied, nonlin="tanh", optims=("adam", "sgd_momentum"), clip_max=0.2, kind="RNN"):
    m = LM(V, E, H, L, nonlin, tied, kind)
    start = {k: v.detach().clone() for k, v in m.named_parameters()}
    ids = torch.randint(0, V, (Tn + 1, B))
    xin, tgt = ids[:-1], ids[1:]

    def loss_of():
        logits = m(xin)
        return torch.nn.functional.cross_entropy(logits.reshape(-1, V), tgt.reshape(-1))

    loss = loss_of()
    loss.backward()
    grads = {k: T(v.grad) for k, v in m.named_parameters()}
    optim = optimizer_runs(m, start, loss_of, optims, clip_max)
    model = {"vocab": V, "embed": E, "hidden": H, "cell": kind, "tied_embedding_and_head": tied}
    if L != 1:
        model["layers"] = L
    if nonlin != "tanh":
        model["nonlinearity"] = nonlin
    write(out, name, {
        "kind": "charlm", "model": model,
        "params": {k: T(v) for k, v in start.items()},
        "tokens_in": T(xin.to(torch.float64)), "tokens_target": T(tgt.to(torch.float64)),
        "loss": {"definition": "mean cross-entropy (natural log) over all T*B positions", "value": loss.item()},
        "grads": grads, "optim": optim,
        "note": "params named embedding.weight, rnn.<PyTorch names>, head.weight/head.bias. When tied, head.weight IS "
                "embedding.weight (one tensor; its gradient is the sum of both uses).",
    })


class WordLM(torch.nn.Module):
    """PyTorch's word_language_model RNNModel: emb = drop(encoder(x)); out, h = rnn(emb) with the
    rnn's own dropout between layers; decoded = decoder(drop(out)). Submodules named as rnnlab's
    parameters (embedding, rnn, head); the two dropouts may differ (the example uses one p)."""

    def __init__(self, V, E, H, L, tied, kind, p_emb, p_rnn, p_out):
        super().__init__()
        self.drop_emb = torch.nn.Dropout(p_emb)
        self.embedding = torch.nn.Embedding(V, E)
        self.rnn = make_module(kind, E, H, L, dropout=p_rnn)
        self.drop_out = torch.nn.Dropout(p_out)
        self.head = torch.nn.Linear(H, V)
        if tied:
            self.head.weight = self.embedding.weight

    def forward(self, ids):
        y, _ = self.rnn(self.drop_emb(self.embedding(ids)))
        return self.head(self.drop_out(y))


def charlm_dropout(out, name, V, E, H, L, Tn, B, tied, kind, p_emb, p_rnn, p_out, optims, clip_max=0.2):
    """A `charlm` fixture of WordLM in eval mode (dropout inactive): loss, gradients, and each
    optimizer's parameters after 3 clipped updates, all in eval mode."""
    m = WordLM(V, E, H, L, tied, kind, p_emb, p_rnn, p_out)
    m.eval()
    start = {k: v.detach().clone() for k, v in m.named_parameters()}
    ids = torch.randint(0, V, (Tn + 1, B))
    xin, tgt = ids[:-1], ids[1:]

    def loss_of():
        return torch.nn.functional.cross_entropy(m(xin).reshape(-1, V), tgt.reshape(-1))

    loss = loss_of()
    loss.backward()
    grads = {k: T(v.grad) for k, v in m.named_parameters()}
    optim = optimizer_runs(m, start, loss_of, optims, clip_max)
    model = {"vocab": V, "embed": E, "hidden": H, "cell": kind, "tied_embedding_and_head": tied, "layers": L,
             "embedding_dropout": p_emb, "dropout": p_rnn, "output_dropout": p_out, "mode": "eval"}
    write(out, name, {
        "kind": "charlm", "model": model,
        "params": {k: T(v) for k, v in start.items()},
        "tokens_in": T(xin.to(torch.float64)), "tokens_target": T(tgt.to(torch.float64)),
        "loss": {"definition": "mean cross-entropy (natural log) over all T*B positions", "value": loss.item()},
        "grads": grads, "optim": optim,
        "note": "word_language_model's RNNModel (encoder -> Dropout(embedding_dropout) -> rnn with dropout between layers -> "
                "Dropout(output_dropout) -> decoder), in eval mode (model.eval(): no dropout), as are the updates. Params named "
                "embedding.weight, rnn.<PyTorch names>, head.weight/head.bias; when tied, head.weight IS embedding.weight.",
    })


def dropout_set(out):
    charlm_dropout(out, "charlm_dropout_lstm_2layer", 9, 5, 6, 2, 5, 3, False, "LSTM", 0.3, 0.4, 0.5, ["adam", "sgd_momentum"])
    charlm_dropout(out, "charlm_dropout_lstm_tied_2layer", 8, 6, 6, 2, 4, 3, True, "LSTM", 0.2, 0.5, 0.3, ["adamw"])
    charlm_dropout(out, "charlm_dropout_gru_2layer", 10, 4, 5, 2, 6, 2, False, "GRU", 0.5, 0.5, 0.5, ["rmsprop"])
    charlm_dropout(out, "charlm_dropout_gru_tied_2layer", 7, 5, 5, 2, 5, 4, True, "GRU", 0.65, 0.2, 0.4, ["sgd_nesterov"])
    charlm_dropout(out, "charlm_dropout_rnn_tied_2layer", 6, 4, 4, 2, 4, 2, True, "RNN", 0.1, 0.3, 0.6, ["adagrad"])


def single_neuron(out, name, Tn, x0, target, ws, bs):
    pts = []
    for w0 in ws:
        for b0 in bs:
            w = torch.tensor(float(w0), requires_grad=True)
            b = torch.tensor(float(b0), requires_grad=True)
            x = torch.tensor(float(x0))
            for _ in range(Tn):
                x = w * torch.sigmoid(x) + b
            loss = (torch.sigmoid(x) - target) ** 2
            loss.backward()
            pts.append({"w": w0, "b": b0, "x_T": x.item(), "loss": loss.item(),
                        "dloss_dw": w.grad.item(), "dloss_db": b.grad.item()})
    write(out, name, {"kind": "single_neuron", "T": Tn, "x0": x0, "target": target,
                      "model": "x_t = w*sigmoid(x_{t-1}) + b, loss E_T = (sigmoid(x_T) - target)^2", "points": pts})


def lr_schedule(out, name, spec, base_lr, steps, metrics=None, warmup=0):
    """The learning rate of every update under a torch.optim.lr_scheduler: lrs[i] is the rate of
    update i + 1 (scheduler.step() after each update; ReduceLROnPlateau steps on `metrics[i]`,
    one value per update, null where no evaluation happened). With warmup N, the schedule is
    SequentialLR([LinearLR(1/N, 1, N - 1), spec], milestones=[N])."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=base_lr)
    S = torch.optim.lr_scheduler
    kw = {k: v for k, v in spec.items() if k != "type"}

    def build(o):
        return getattr(S, spec["type"])(o, **kw)

    if warmup > 0:
        main_s = build(opt)
        warm = S.LinearLR(opt, start_factor=1.0 / warmup, end_factor=1.0, total_iters=warmup - 1)
        sched = S.SequentialLR(opt, [warm, main_s], milestones=[warmup])
    else:
        sched = build(opt)
    lrs = []
    for i in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        if spec["type"] == "ReduceLROnPlateau":
            if metrics[i] is not None:
                sched.step(metrics[i])
        else:
            sched.step()
    write(out, name, {"kind": "lr_schedule", "scheduler": spec, "base_lr": base_lr, "warmup": warmup,
                      "steps": steps, "metrics": metrics, "lrs": lrs})


def schedules(out):
    torch.manual_seed(11)
    lr_schedule(out, "lr_step", {"type": "StepLR", "step_size": 7, "gamma": 0.5}, 0.1, 40)
    lr_schedule(out, "lr_exponential", {"type": "ExponentialLR", "gamma": 0.93}, 0.02, 40)
    lr_schedule(out, "lr_cosine", {"type": "CosineAnnealingLR", "T_max": 25, "eta_min": 1e-4}, 0.05, 60)
    lr_schedule(out, "lr_onecycle", {"type": "OneCycleLR", "max_lr": 0.3, "total_steps": 50, "pct_start": 0.3,
                                      "anneal_strategy": "cos", "div_factor": 25.0, "final_div_factor": 1e4,
                                      "three_phase": False, "cycle_momentum": False}, 0.3, 50)
    lr_schedule(out, "lr_onecycle_linear_three_phase", {"type": "OneCycleLR", "max_lr": 0.01, "total_steps": 37,
                                                        "pct_start": 0.25, "anneal_strategy": "linear", "div_factor": 10.0,
                                                        "final_div_factor": 100.0, "three_phase": True, "cycle_momentum": False}, 0.01, 37)
    # a validation loss every 5 updates that falls, stalls and wiggles
    vals = [None] * 120
    v = 3.0
    for i in range(4, 120, 5):
        v = v * 0.9 if i < 40 else v * (1 + 0.002 * float(torch.randn(1)))
        vals[i] = v
    lr_schedule(out, "lr_plateau", {"type": "ReduceLROnPlateau", "mode": "min", "factor": 0.5, "patience": 3,
                                     "threshold": 1e-3, "threshold_mode": "rel", "cooldown": 1, "min_lr": 1e-4, "eps": 1e-8},
                0.01, 120, metrics=vals)
    lr_schedule(out, "lr_warmup_cosine", {"type": "CosineAnnealingLR", "T_max": 30, "eta_min": 0.0}, 0.002, 45, warmup=10)
    lr_schedule(out, "lr_warmup_step", {"type": "StepLR", "step_size": 5, "gamma": 0.1}, 1.0, 25, warmup=4)


class FFNLM(torch.nn.Module):
    """Bengio et al. 2003: logits = U phi(H x + d) + b (+ W x), x the window's embeddings, oldest first.
    Submodules named as rnnlab's parameters (embedding, hidden.l, head, direct)."""

    def __init__(self, V, E, H, n, L, direct, nonlin):
        super().__init__()
        self.V, self.E, self.n = V, E, n
        self.embedding = torch.nn.Embedding(V, E)
        self.hidden = torch.nn.ModuleList([torch.nn.Linear(n * E if l == 0 else H, H) for l in range(L)])
        self.head = torch.nn.Linear(H, V)
        self.direct = torch.nn.Linear(n * E, V, bias=False) if direct else None
        self.phi = torch.tanh if nonlin == "tanh" else torch.relu

    def forward(self, context, xin):
        """context (n-1, B) ids before the chunk (-1: before the stream: a zero vector), xin (T, B)."""
        full = torch.cat([context, xin])  # (n-1+T, B)
        table = torch.cat([self.embedding.weight, torch.zeros(1, self.E)])  # row V: the padding
        e = torch.nn.functional.embedding(torch.where(full < 0, torch.full_like(full, self.V), full), table)
        Tn = xin.shape[0]
        x = torch.stack([e[t:t + self.n].permute(1, 0, 2).reshape(e.shape[1], -1) for t in range(Tn)])  # (T, B, n*E)
        a = x
        for lin in self.hidden:
            a = self.phi(lin(a))
        y = self.head(a)
        if self.direct is not None:
            y = y + self.direct(x)
        return y


def ffnlm(out, name, V, E, H, n, L, Tn, B, direct=False, nonlin="tanh", optims=("adam", "sgd_momentum"), clip_max=0.5, start_of_stream=False):
    m = FFNLM(V, E, H, n, L, direct, nonlin)
    start = {k: v.detach().clone() for k, v in m.named_parameters()}
    ids = torch.randint(0, V, (Tn + 1, B))
    xin, tgt = ids[:-1], ids[1:]
    context = torch.randint(0, V, (n - 1, B))
    if start_of_stream:
        context[:] = -1
    elif n > 2:
        context[0, 0] = -1  # one stream started within the window

    def loss_of():
        return torch.nn.functional.cross_entropy(m(context, xin).reshape(-1, V), tgt.reshape(-1))

    loss = loss_of()
    loss.backward()
    grads = {k: T(v.grad) for k, v in m.named_parameters()}
    optim = optimizer_runs(m, start, loss_of, optims, clip_max)
    write(out, name, {
        "kind": "ffnlm",
        "model": {"vocab": V, "embed": E, "hidden": H, "window": n, "layers": L, "direct": direct, "nonlinearity": nonlin},
        "params": {k: T(v) for k, v in start.items()},
        "context_in": T(context.to(torch.float64)),
        "tokens_in": T(xin.to(torch.float64)), "tokens_target": T(tgt.to(torch.float64)),
        "loss": {"definition": "mean cross-entropy (natural log) over all T*B positions, each predicted from the n tokens "
                               "ending at its input (context_in, then tokens_in)", "value": loss.item()},
        "grads": grads, "optim": optim,
        "note": "x_t = [embedding(w_{t-n+1}), ..., embedding(w_t)] oldest first over context_in then tokens_in; -1 in "
                "context_in is before the stream's start: a zero vector. logits = head(phi(hidden.L-1(...phi(hidden.0(x))))) "
                "+ direct(x) when direct.",
    })


def feedforward_set(out):
    ffnlm(out, "ffnlm_window3", 7, 3, 5, 3, 1, 5, 3, start_of_stream=True)
    ffnlm(out, "ffnlm_window4_direct_2layer", 8, 3, 6, 4, 2, 6, 2, direct=True, optims=["adam", "adamw"])
    ffnlm(out, "ffnlm_window6_relu_context", 6, 2, 4, 6, 1, 4, 3, nonlin="relu", optims=["sgd_momentum", "rmsprop"])
    ffnlm(out, "ffnlm_window1_bigram_direct", 5, 4, 3, 1, 1, 5, 2, direct=True, optims=["adam"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--set", choices=["extra", "variants", "schedules", "dropout", "api", "feedforward"], default="extra")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.manual_seed(a.seed)
    if a.set == "schedules":
        schedules(a.out)
    elif a.set == "dropout":
        dropout_set(a.out)
    elif a.set == "api":
        api(a.out)
    elif a.set == "feedforward":
        feedforward_set(a.out)
    elif a.set == "extra":
        charlm(a.out, "charlm_rnn_all_optimizers", 8, 4, 5, 1, 5, 2, False, optims=list(OPTIMS))
        charlm(a.out, "charlm_rnn_tied_2layer", 7, 6, 6, 2, 4, 3, True, optims=list(OPTIMS))
        tbptt(a.out, "tbptt_k1_3_k2_7", 3, 4, 1, 14, 2, 3, 7)
        tbptt(a.out, "tbptt_k1_2_k2_5_2layer", 2, 3, 2, 9, 3, 2, 5)
        clip(a.out, "clip_norm1_active", [(4, 3), (5,), (2, 2)], 1.5, 1.0, 1.0)
        clip(a.out, "clip_norm3_active", [(3, 3), (6,)], 0.7, 3.0, 2.0)
        for kind in ["RNN", "LSTM", "GRU"]:
            k = kind.lower()
            recurrent(a.out, f"{k}_bidirectional_l2", 3, 4, 2, 5, 3, kind=kind, bidirectional=True)
            recurrent(a.out, f"{k}_packed_l2", 2, 3, 2, 6, 4, kind=kind, lengths=[6, 2, 4, 1])
            recurrent(a.out, f"{k}_packed_bidirectional", 3, 3, 1, 5, 3, kind=kind, bidirectional=True, lengths=[3, 5, 1])
            recurrent(a.out, f"{k}_dropout_eval_l3", 2, 3, 3, 4, 2, kind=kind, dropout=0.5, mode="eval")
        recurrent(a.out, "rnn_relu_packed_bidirectional_nobias", 2, 4, 2, 5, 2, nonlin="relu", bias=False, bidirectional=True, lengths=[2, 5])
        tbptt(a.out, "tbptt_lstm_k1_3_k2_5", 2, 3, 2, 9, 2, 3, 5, kind="LSTM")
        tbptt(a.out, "tbptt_gru_k1_4", 3, 4, 1, 12, 2, 4, 4, kind="GRU")
        charlm(a.out, "charlm_gru_2layer", 9, 5, 6, 2, 5, 3, False, optims=["adam", "sgd_nesterov"], kind="GRU")
        charlm(a.out, "charlm_lstm_tied_2layer", 8, 5, 5, 2, 4, 3, True, optims=["adamw", "rmsprop"], kind="LSTM")
    else:
        recurrent(a.out, "rnn_tanh_l3", 4, 6, 3, 7, 3)
        recurrent(a.out, "rnn_relu_l3_nobias", 5, 3, 3, 6, 4, nonlin="relu", bias=False)
        recurrent(a.out, "rnn_tanh_l2_nobias", 1, 8, 2, 9, 1, bias=False)
        recurrent(a.out, "rnn_relu_l1", 6, 2, 1, 3, 5, nonlin="relu")
        clip(a.out, "clip_norm1_active", [(6, 2), (3,), (4, 4)], 2.0, 1.0, 1.0)
        clip(a.out, "clip_norm1_inactive", [(2, 2), (3,)], 100.0, 1.0, 1.0)
        clip(a.out, "clip_norm2_active", [(9,), (2, 5)], 0.3, 2.0, 3.0)
        clip(a.out, "clip_norminf_active", [(3, 7)], 0.1, "inf", 1.0)
        tbptt(a.out, "tbptt_rnn_l3", 2, 5, 3, 10, 3, 5, 5)
        tbptt(a.out, "tbptt_rnn_uneven", 3, 3, 1, 11, 2, 4, 4)
        charlm(a.out, "charlm_rnn_l3", 13, 4, 9, 3, 7, 2, False)
        charlm(a.out, "charlm_rnn_tied_relu", 6, 5, 5, 1, 5, 4, True, nonlin="relu")
        single_neuron(a.out, "single_neuron_T30", 30, -0.3, 0.2, [0.5, 3.0, 7.5], [-4.0, -1.5, 0.5])
        recurrent(a.out, "lstm_l3", 4, 5, 3, 6, 2, kind="LSTM")
        recurrent(a.out, "lstm_l3_nobias", 3, 2, 3, 5, 3, kind="LSTM", bias=False)
        recurrent(a.out, "gru_l3", 2, 6, 3, 7, 2, kind="GRU")
        recurrent(a.out, "gru_l2_nobias", 5, 3, 2, 4, 4, kind="GRU", bias=False)
        tbptt(a.out, "tbptt_lstm_l3", 2, 3, 3, 8, 2, 4, 4, kind="LSTM")
        charlm(a.out, "charlm_lstm_l3", 10, 4, 7, 3, 5, 2, False, kind="LSTM")
        charlm(a.out, "charlm_gru_tied", 7, 6, 6, 1, 6, 3, True, kind="GRU")


if __name__ == "__main__":
    main()
