// The Python sources of `rnnlab export --format pytorch-run` (node/pytorch-run.ts writes them into
// the folder): model.py, the language model as a torch.nn.Module with rnnlab's parameter names;
// rnnlab_files.py, rnnlab's checkpoints, safetensors and metrics lines read and written from Python
// with torch alone; train.py, the run continued step for step under `python` or `torchrun`.
// They live here as strings so that they ship inside dist/ with the CLI. They are the sources, to be
// read and edited as Python (template literals, String.raw where a backslash appears: every character
// as it is; no backquote and no dollar-brace may appear in them). test/e2e/pytorch-run.test.ts runs them against rnnlab's own training.

/** model.py: the language model as a torch.nn.Module, with rnnlab's parameter names. */
export const MODEL_PY = `"""rnnlab's language model as a PyTorch module, with rnnlab's parameter names.

    embedding -> [embedding dropout] -> rnn (torch.nn.RNN, LSTM or GRU; dropout between layers)
              -> [output dropout] -> head (Linear) -> logits

T = steps, B = batch (streams), V = vocabulary, E = embedding size, H = hidden size, L = layers.
Parameters, exactly as rnnlab's checkpoints name them:
    embedding.weight (V, E)
    rnn.weight_ih_l{l} (G, E or H), rnn.weight_hh_l{l} (G, H), rnn.bias_ih_l{l} (G), rnn.bias_hh_l{l} (G)
        G = H (RNN), 4H (LSTM, gate blocks i|f|g|o) or 3H (GRU, gate blocks r|z|n): PyTorch's own layout,
        which is rnnlab's
    head.weight (V, H): absent with tied weights, where the head's weight *is* embedding.weight
        (one Parameter used twice; its gradient is the sum of both uses)
    head.bias (V)
The recurrent state is a tuple (h,) for RNN and GRU, (h, c) for LSTM, each (L, B, H): rnnlab's
'state.h' and 'state.c'.

Dropout sits where rnnlab (and PyTorch's word_language_model example) puts it: on the embedded
inputs, between the recurrent layers (the rnn's own 'dropout'), and on the top layer's outputs
before the head; in training mode only. PyTorch draws its masks from its own generator, so
their values differ from rnnlab's (which hashes a counter): a run with dropout continues
statistically, not bit for bit.
"""

import torch
from torch import nn

# the recurrent state's tensors per cell, in rnnlab's order and with its checkpoint names (state.<name>)
STATE_NAMES = {"rnn": ("h",), "gru": ("h",), "lstm": ("h", "c")}


class LanguageModel(nn.Module):
    def __init__(
        self,
        cell,
        vocab_size,
        embed_size,
        hidden_size,
        num_layers=1,
        nonlinearity="tanh",
        tie_weights=False,
        dropout=0.0,
        embedding_dropout=0.0,
        output_dropout=0.0,
    ):
        super().__init__()
        if cell not in STATE_NAMES:
            raise ValueError(f"cell must be rnn, lstm or gru, got {cell!r}")
        if tie_weights and embed_size != hidden_size:
            raise ValueError(f"tied weights need embed_size == hidden_size, got {embed_size} and {hidden_size}")
        self.cell = cell
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.embedding_dropout = nn.Dropout(embedding_dropout)
        between = dropout if num_layers > 1 else 0.0  # PyTorch warns about dropout with one layer, where it does nothing
        if cell == "lstm":
            self.rnn = nn.LSTM(embed_size, hidden_size, num_layers, dropout=between)
        elif cell == "gru":
            self.rnn = nn.GRU(embed_size, hidden_size, num_layers, dropout=between)
        else:
            self.rnn = nn.RNN(embed_size, hidden_size, num_layers, nonlinearity=nonlinearity, dropout=between)
        self.output_dropout = nn.Dropout(output_dropout)
        self.head = nn.Linear(hidden_size, vocab_size)
        if tie_weights:
            self.head.weight = self.embedding.weight  # one Parameter, used twice

    @classmethod
    def from_config(cls, m):
        """The model of an rnnlab config's model half (a checkpoint's metadata "config", key "model")."""
        return cls(
            m["cell"],
            m["vocabSize"],
            m["embedSize"],
            m["hiddenSize"],
            m["numLayers"],
            m.get("nonlinearity", "tanh"),
            m.get("tieWeights", False),
            m.get("dropout", 0.0) or 0.0,
            m.get("embeddingDropout", 0.0) or 0.0,
            m.get("outputDropout", 0.0) or 0.0,
        )

    def parameter_names(self):
        """(name, parameter) in rnnlab's order and with its names (the tied head.weight once, as embedding.weight)."""
        return list(self.named_parameters())  # named_parameters lists a shared Parameter once, under its first name

    def zero_state(self, batch, device=None):
        """A zero state for 'batch' streams: (h,) or (h, c), each (L, B, H)."""
        L, H = self.rnn.num_layers, self.rnn.hidden_size
        return tuple(torch.zeros(L, batch, H, device=device) for _ in STATE_NAMES[self.cell])

    def forward(self, inputs, state=None, split_at=None, logits_from=0):
        """
        inputs (T, B) token ids, state as zero_state gives (None: zeros).
        Returns the logits (T - logits_from, B, V) of steps logits_from.. (earlier steps are only run
        through the recurrent layers: truncated BPTT's history, which carries gradient but no loss),
        the state after the last step, and the state after 'split_at' steps (None when not asked;
        truncated BPTT with k2 > k1 carries it to the next window).
        """
        x = self.embedding_dropout(self.embedding(inputs))  # (T, B, E)
        T = inputs.shape[0]
        h0 = self._rnn_state(state)
        if split_at is not None and 0 < split_at < T:
            # two calls, so that the state after split_at steps is there; gradient flows through it
            y1, s1 = self.rnn(x[:split_at], h0)
            y2, s2 = self.rnn(x[split_at:], s1)
            y = torch.cat([y1, y2])
            mid = self._state_tuple(s1)
        else:
            y, s2 = self.rnn(x, h0)
            mid = None if split_at is None else (self._state_tuple(s2) if split_at == T else state)
        y = self.output_dropout(y[logits_from:])  # (T - logits_from, B, H)
        return self.head(y), self._state_tuple(s2), mid

    def _rnn_state(self, state):
        if state is None:
            return None
        return (state[0], state[1]) if self.cell == "lstm" else state[0]

    def _state_tuple(self, s):
        return tuple(s) if self.cell == "lstm" else (s,)


def load_rnnlab(path, device="cpu"):
    """
    The model of an rnnlab checkpoint or safetensors export (its config and weights), and its
    vocabulary (the tokens in id order), e.g. to sample from what train.py wrote:
        model, vocab, config = load_rnnlab("run/checkpoint.safetensors")
    """
    import json

    from rnnlab_files import read_safetensors

    tensors, meta = read_safetensors(path)
    config = json.loads(meta["config"])
    model = LanguageModel.from_config(config["model"])
    with torch.no_grad():
        for name, p in model.parameter_names():
            p.copy_(tensors[name])
    return model.to(device), json.loads(meta["vocab"]), config
`;

/** rnnlab_files.py: rnnlab's checkpoints (safetensors by hand), atomic writes, JSON as JavaScript writes it. */
export const RNNLAB_FILES_PY = String.raw`"""rnnlab's files, read and written from Python with nothing but torch.

- safetensors (https://github.com/huggingface/safetensors), by hand: an 8-byte little-endian
  header length N, N bytes of JSON header
      {"<name>": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...,
       "__metadata__": {"<key>": "<string>"}}
  then the tensors' bytes, little-endian and row-major. (No 'safetensors' package needed.)
- rnnlab's checkpoint: a safetensors file whose tensors are the model's parameters under
  PyTorch's names, the optimizer's state as 'optim.<buffer>.<parameter>', and the carried state
  as 'state.h' ('state.c'), with 'state.history_inputs/targets' for truncated BPTT with k2 > k1;
  its metadata holds the config, vocabulary, step counters, generator state and the run's record
  as JSON strings.
- JSON as JavaScript's JSON.stringify writes it (numbers included: 1e-7, not 1e-07), so that
  metrics.jsonl lines and metadata written here read like those rnnlab writes.
- Atomic writes: a temporary file beside the target, fsync, rename, fsync of the folder. A
  process killed at any moment leaves the old file or the new one, whole.
"""

import ctypes
import json
import math
import os
import sys
from pathlib import Path

import torch

# safetensors dtypes <-> torch dtypes (U16 is read as int16: torch has no uint16 before 2.3;
# token ids stored as U16 are masked back to 0..65535 where they are used)
DTYPES = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "U16": torch.int16,
    "U8": torch.uint8,
}
NAMES = {torch.float64: "F64", torch.float32: "F32", torch.int32: "I32", torch.uint8: "U8"}

# the metadata "format" of every rnnlab checkpoint
CHECKPOINT_FORMAT = "rnnlab-checkpoint/1"


class FileError(Exception):
    """A file that cannot be used: the message says which and why."""


# ---------------------------------------------------------------------------------------------
# safetensors


def read_safetensors(path):
    """The tensors (a dict, in the file's order; U16 tensors as int16) and string metadata of a safetensors file."""
    if sys.byteorder != "little":
        raise FileError("this machine is big-endian; safetensors files are little-endian")
    try:
        with open(path, "rb") as f:
            data = bytearray(f.read())  # writable: torch.frombuffer shares it without a copy
    except OSError as e:
        raise FileError(f"cannot read {path}: {e.strerror or e}") from None
    if len(data) < 8:
        raise FileError(f"{path} is {len(data)} bytes, too short for a safetensors file")
    n = int.from_bytes(data[:8], "little")
    if n > len(data) - 8:
        raise FileError(f"{path} is cut short: its header of {n} bytes runs past the end")
    try:
        header = json.loads(data[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise FileError(f"{path}: the header is not UTF-8 JSON; the file is corrupt") from None
    start = 8 + n
    metadata = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, entry in header.items():
        dtype = DTYPES.get(entry.get("dtype"))
        if dtype is None:
            raise FileError(f"{path}: tensor {name!r} has dtype {entry.get('dtype')!r}, which this reader does not know")
        begin, end = entry["data_offsets"]
        shape = entry["shape"]
        if start + end > len(data) or begin > end:
            raise FileError(f"{path}: tensor {name!r} runs past the end of the file; the file is cut short")
        count = math.prod(shape)
        if count == 0:
            tensors[name] = torch.empty(shape, dtype=dtype)
        else:
            tensors[name] = torch.frombuffer(data, dtype=dtype, count=count, offset=start + begin).reshape(shape)
    return tensors, metadata


def encode_safetensors(tensors, metadata):
    """The bytes of a safetensors file of 'tensors' (name -> CPU tensor of F64, F32, I32 or U8) and string 'metadata'."""
    header = {}
    if metadata:
        header["__metadata__"] = metadata
    parts = []
    offset = 0
    for name, t in tensors.items():
        t = t.detach().to("cpu").contiguous()
        if t.dtype not in NAMES:
            raise ValueError(f"tensor {name!r}: dtype {t.dtype} is not written")
        raw = ctypes.string_at(t.data_ptr(), t.numel() * t.element_size()) if t.numel() else b""  # the bytes as they are (no numpy needed)
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        parts.append(raw)
        offset += len(raw)
    head = js_json(header).encode("utf-8")
    head += b" " * ((8 - (8 + len(head)) % 8) % 8)  # pad so that every tensor starts 8-byte aligned, as rnnlab does
    return len(head).to_bytes(8, "little") + head + b"".join(parts)


# ---------------------------------------------------------------------------------------------
# atomic writes


def write_atomic(path, data):
    """Writes bytes (or text, as UTF-8) to 'path' atomically; the old file stays whole until the new one is."""
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"  # rnnlab's name for a temporary file: it removes stale ones
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass  # some file systems cannot fsync a folder; the rename itself is still atomic


# ---------------------------------------------------------------------------------------------
# JSON as JavaScript writes it


def js_number(x, literal=False):
    """A number as JavaScript's String(x) and JSON.stringify write it (NaN and infinities: null, as
    JSON.stringify; with literal=True as rnnlab writes checkpoint metadata: NaN, Infinity, -Infinity)."""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    if math.isnan(x) or math.isinf(x):
        if not literal:
            return "null"
        return "NaN" if math.isnan(x) else "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"
    # Python's repr and JavaScript both give the shortest digits that read back as the same double;
    # only the layout differs (JavaScript: plain notation from 1e-7 to 1e21, exponents without padding)
    sign = "-" if x < 0 else ""
    mantissa, _, exp = repr(abs(float(x))).partition("e")
    whole, _, frac = mantissa.partition(".")
    s = (whole + frac).lstrip("0")  # value = s * 10^(exp - len(frac))
    digits = s.rstrip("0")
    k = len(digits)
    n = k + int(exp or 0) - len(frac) + (len(s) - k)  # value = 0.digits * 10^n
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    return sign + digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + ("+" if e >= 0 else "-") + str(abs(e))


def js_json(v, literal=False):
    """'v' as JSON.stringify(v) writes it: no spaces, numbers as JavaScript writes them, non-ASCII as
    it is; literal=True: non-finite numbers as the literals NaN, Infinity, -Infinity (checkpoint
    metadata, as rnnlab writes and reads it, and as Python's json reads it), not null."""
    if v is None:
        return "null"
    if isinstance(v, (bool, int, float)):
        return js_number(v, literal)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, dict):
        return "{" + ",".join(json.dumps(str(k), ensure_ascii=False) + ":" + js_json(x, literal) for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(js_json(x, literal) for x in v) + "]"
    raise TypeError(f"js_json: cannot write {type(v).__name__}")


# ---------------------------------------------------------------------------------------------
# metrics.jsonl


def read_metrics_lines(path, up_to_step):
    """The lines of a metrics.jsonl whose step is at most 'up_to_step' (lines cut short by a kill are dropped), as rnnlab --resume keeps them."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    keep = []
    for line in text.split("\n"):
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(rec, dict) and isinstance(rec.get("step"), (int, float)) and rec["step"] <= up_to_step:
            keep.append(line)
    return keep
`;

/** train.py: the run, continued step for step, under python or torchrun. */
export const TRAIN_PY = String.raw`#!/usr/bin/env python3
"""Continues an rnnlab training run in PyTorch, on one process or many (DistributedDataParallel).

    python train.py --steps 1000 --out run                            # one process
    torchrun --nproc_per_node 2 train.py --steps 1000 --out run       # two (or N) processes, DDP
    python train.py --steps 1000 --out run --resume                   # continue run/ further

It starts from checkpoint.safetensors beside this file (or, with --resume, from --out's own) and
does what 'rnnlab train --resume' would do, step for step:
  - the text: tokens.safetensors, the run's token ids; the last valFraction held out for validation;
  - batching: B parallel streams, stream b covering tokens [b*S, (b+1)*S] with S = (n - 1) // B;
    window w of a pass holds steps w*k1 .. w*k1 + k1 - 1 of every stream; a new pass starts from
    a zero state;
  - truncated BPTT(k1, k2): every k1 new steps, backpropagate through the last k2; the window is the
    k1 new steps plus up to k2 - k1 kept steps before them (whose loss is not counted), run
    from the state at the window's start; the state is carried between windows, detached;
  - the update: loss (mean cross-entropy of the new steps), gradient norm (float64), non-finite
    check, clip_grad_norm (max_norm / (norm + 1e-6)), clip_grad_value, the optimizer
    (torch.optim's SGD, Adagrad, RMSprop, Adam or AdamW with rnnlab's state: moments, step
    counts, momentum buffers), at the rate the learning-rate schedule gives the step;
  - validation every evalEvery steps (and at the last), a sample, the best weights
    (best.safetensors), early stopping and ReduceLROnPlateau on the validation loss;
  - metrics.jsonl: the run's history up to the checkpoint, then a line per step in rnnlab's
    format; checkpoint.safetensors every saveEvery steps and at the end, in rnnlab's format,
    written atomically: rnnlab sample, eval, diagnose, probe and train --resume take it.
Under torchrun each process takes a contiguous share of the B streams (rows round(r*B/N) to
round((r+1)*B/N), as rnnlab's threads); DDP all-reduces the gradients (NCCL on CUDA, Gloo on CPU),
each process's loss scaled so that their average is the gradient of the whole batch's mean, so N
processes compute the one-process numbers up to the order of float additions. The first process
writes the files, prints, and draws the samples with rnnlab's own generator (its state travels
in the checkpoints).
Not reproduced: dropout masks (PyTorch's generator, not rnnlab's hash; rnnlab's mask counters
still advance as rnnlab's would), and rnnlab train's diagnostics lines (--diagnose-every); run
'rnnlab diagnose' on the checkpoint instead.
"""

import argparse
import json
import math
import os
import signal
import sys
import time
from pathlib import Path

try:
    import torch
    import torch.distributed as dist
    import torch.nn.functional as F
except ImportError:
    print(f"train.py: this Python ({sys.executable}) has no PyTorch; install it (pip install -r requirements.txt), or run a Python that has it", file=sys.stderr)
    sys.exit(2)

from model import STATE_NAMES, LanguageModel
from rnnlab_files import CHECKPOINT_FORMAT, FileError, encode_safetensors, js_json, js_number, read_metrics_lines, read_safetensors, write_atomic

HERE = Path(__file__).resolve().parent
LN2 = math.log(2)
MAX_VAL_TOKENS = 1_000_000  # validation reads at most this many tokens, as rnnlab train
SAMPLE_TEMPERATURE = 0.8


class Stop(Exception):
    """A problem with the run's files or settings: one line, exit status 2."""


class NonFinite(Exception):
    """A step whose loss, gradient or update is not finite, under the policy "stop"."""


RANK = int(os.environ.get("RANK", "0"))
WORLD = int(os.environ.get("WORLD_SIZE", "1"))
LOCAL_RANK = int(os.environ.get("LOCAL_RANK", "0"))


def say(text):
    """Prints on the first process only (the others compute the same numbers). A closed stdout
    (train.py ... | head) stops the printing, not the run: as rnnlab train, it trains on and saves."""
    if RANK == 0 and sys.stdout is not None:
        try:
            print(text, flush=True)
        except BrokenPipeError:
            # the reader has gone: write nothing more there (also not at exit, when Python flushes)
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


# ---------------------------------------------------------------------------------------------
# the learning-rate schedule: rnnlab's train/schedule.ts, PyTorch's closed forms, stepped per update


class LrSchedule:
    def __init__(self, base_lr, spec, warmup, plateau_state=None):
        self.base = base_lr
        self.spec = spec or {"type": "constant"}
        self.warmup = warmup or 0
        self.plateau = None
        if self.spec["type"] == "plateau":
            s = plateau_state or {"best": None, "bad": 0, "cooldown": 0, "lr": base_lr}
            best = s["best"]
            # no evaluation yet: Infinity (checkpoints before rnnlab kept non-finite numbers: null)
            self.plateau = {"best": math.inf if best is None else best, "bad": s["bad"], "cooldown": s["cooldown"], "lr": s["lr"]}

    def lr(self, e):
        """The rate of the update after e earlier ones: a linear warm-up (LinearLR(1/N, 1, N-1)) over N updates, then the schedule."""
        N = self.warmup
        if N > 1 and e < N:
            return self.base * (1 / N + ((1 - 1 / N) * e) / (N - 1))
        return self.main(e - N if N > 1 else e)

    def main(self, e):
        s, lr = self.spec, self.base
        t = s["type"]
        if t == "constant":
            return lr
        if t == "step":  # StepLR
            return lr * s.get("gamma", 0.1) ** (e // s["stepSize"])
        if t == "exponential":  # ExponentialLR
            return lr * s["gamma"] ** e
        if t == "cosine":  # CosineAnnealingLR
            eta = s.get("etaMin", 0)
            return eta + ((lr - eta) * (1 + math.cos((math.pi * e) / s["tMax"]))) / 2
        if t == "onecycle":
            return one_cycle(s, lr, e)
        if t == "plateau":
            return self.plateau["lr"]
        raise Stop(f"the run's learning-rate schedule {t!r} is unknown to this train.py")

    def observe(self, loss, e):
        """A validation loss, for ReduceLROnPlateau (mode min); not counted during the warm-up."""
        p = self.plateau
        if p is None or e < self.warmup:
            return
        s = self.spec
        threshold = s.get("threshold", 1e-4)
        if s.get("thresholdMode", "rel") == "rel":
            better = loss < p["best"] * (1 - threshold)
        else:
            better = loss < p["best"] - threshold
        if better:
            p["best"] = loss
            p["bad"] = 0
        else:
            p["bad"] += 1
        if p["cooldown"] > 0:
            p["cooldown"] -= 1
            p["bad"] = 0
        if p["bad"] > s.get("patience", 10):
            nxt = max(p["lr"] * s.get("factor", 0.1), s.get("minLr", 0))
            if p["lr"] - nxt > s.get("eps", 1e-8):
                p["lr"] = nxt
            p["cooldown"] = s.get("cooldown", 0)
            p["bad"] = 0

    def state(self):
        return None if self.plateau is None else dict(self.plateau)


def one_cycle(s, max_lr, e):
    """OneCycleLR's rate at step e (torch.optim.lr_scheduler.OneCycleLR.get_lr), momentum not cycled."""
    initial = max_lr / s.get("divFactor", 25)
    low = initial / s.get("finalDivFactor", 1e4)
    T, pct = s["totalSteps"], s.get("pctStart", 0.3)
    if s.get("threePhase", False):
        phases = [(pct * T - 1, initial, max_lr), (2 * pct * T - 2, max_lr, initial), (T - 1, initial, low)]
    else:
        phases = [(pct * T - 1, initial, max_lr), (T - 1, max_lr, low)]
    if s.get("anneal", "cos") == "cos":
        anneal = lambda a, b, p: b + ((a - b) / 2) * (math.cos(math.pi * p) + 1)  # noqa: E731
    else:
        anneal = lambda a, b, p: (b - a) * p + a  # noqa: E731
    start = 0
    for i, (end, a, b) in enumerate(phases):
        if e <= end or i == len(phases) - 1:
            return anneal(a, b, min(1, (e - start) / (end - start)))
        start = end
    return low


# ---------------------------------------------------------------------------------------------
# the optimizer: torch.optim, with rnnlab's defaults and its state


def optimizer_buffers(t):
    """The state buffers rnnlab keeps for this optimizer config (its checkpoints' optim.<buffer>.<parameter>)."""
    name, momentum = t["optimizer"], t.get("momentum", 0)
    if name == "sgd":
        return ["momentum_buffer"] if momentum > 0 else []
    if name == "adagrad":
        return ["sum"]
    if name == "rmsprop":
        return ["square_avg"] + (["momentum_buffer"] if momentum > 0 else [])
    return ["exp_avg", "exp_avg_sq"]  # adam, adamw


def make_optimizer(t, params):
    name, lr, momentum, wd = t["optimizer"], t["lr"], t.get("momentum", 0), t.get("weightDecay", 0)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=wd)
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, weight_decay=wd)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=0.99, eps=1e-8, weight_decay=wd, momentum=momentum)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=wd)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=wd)
    raise Stop(f"the run's optimizer {name!r} is unknown to this train.py")


def load_optimizer_state(opt, t, named, tensors, steps, device):
    """rnnlab's optimizer state into torch.optim's: the buffers by parameter, and the step count (Adam's bias correction)."""
    if steps == 0:
        return  # no update yet: torch.optim starts its state as rnnlab did (zeros; SGD's buffer from the first gradient)
    for name, p in named:
        st = opt.state[p]
        for buf in optimizer_buffers(t):
            st[buf] = tensors[f"optim.{buf}.{name}"].to(device=device, dtype=torch.float32).clone()
        if t["optimizer"] != "sgd":
            st["step"] = torch.tensor(float(steps))


def optimizer_tensors(opt, t, named):
    out = {}
    for buf in optimizer_buffers(t):
        for name, p in named:
            st = opt.state.get(p, {})
            out[f"optim.{buf}.{name}"] = st[buf] if buf in st else torch.zeros_like(p)
    return out


# ---------------------------------------------------------------------------------------------
# rnnlab's generator (xoshiro128**, tensor/rng.ts) and sampling (nn/generate.ts), so that the
# samples shown at evaluations, and the generator state in the checkpoints, are rnnlab's


class Rng:
    def __init__(self, state):
        self.s = [int(w) & 0xFFFFFFFF for w in state]

    def next_u32(self):
        s0, s1, s2, s3 = self.s
        r = (rotl((s1 * 5) & 0xFFFFFFFF, 7) * 9) & 0xFFFFFFFF
        t = (s1 << 9) & 0xFFFFFFFF
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 11)
        self.s = [s0, s1, s2, s3]
        return r

    def uniform(self):
        a = self.next_u32() >> 5
        b = self.next_u32() >> 6
        return (a * 67108864 + b) / 9007199254740992


def rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & 0xFFFFFFFF


@torch.no_grad()
def sample(model, vocab, prime_ids, length, rng, device):
    """'length' tokens after the prime, at temperature 0.8, drawn with rnnlab's generator: its text."""
    model.eval()
    state = model.zero_state(1, device)
    logits, state, _ = model(torch.tensor(prime_ids, device=device).view(-1, 1), state)
    out = []
    for _ in range(length):
        z = logits[-1, 0].double()
        e = torch.exp((z - z.max()) / SAMPLE_TEMPERATURE)
        u = rng.uniform() * e.sum().item()
        above = (torch.cumsum(e, 0) > u).nonzero()
        tok = int(above[0]) if len(above) else int(z.argmax())
        out.append(tok)
        logits, state, _ = model(torch.tensor([[tok]], device=device), state)
    model.train()
    return decode(vocab, out)


def decode(vocab, ids):
    if vocab["kind"] == "chars":
        return "".join(vocab["tokens"][i] for i in ids)
    s, line_start = "", True
    for i in ids:
        s += "\n" if i == vocab["eos"] else (vocab["tokens"][i] if line_start else " " + vocab["tokens"][i])
        line_start = i == vocab["eos"]
    return s


# ---------------------------------------------------------------------------------------------
# distributed plumbing (all of it a no-op with one process)


def all_sum(values, device):
    """Sums float64 numbers over the processes."""
    t = torch.tensor(values, dtype=torch.float64, device=device)
    if WORLD > 1:
        dist.all_reduce(t)
    return t.tolist()


def gather_rows(t, bounds, device):
    """The full (L, B, H) state from each process's rows (L, b1 - b0, H); every process takes part."""
    if WORLD == 1:
        return t
    most = max(b - a for a, b in zip(bounds, bounds[1:]))
    padded = torch.zeros(t.shape[0], most, t.shape[2], device=device)
    padded[:, : t.shape[1]] = t
    parts = [torch.empty_like(padded) for _ in range(WORLD)]
    dist.all_gather(parts, padded)
    return torch.cat([parts[r][:, : bounds[r + 1] - bounds[r]] for r in range(WORLD)], dim=1)


# ---------------------------------------------------------------------------------------------
# the run


class Run:
    def __init__(self, args):
        self.out = Path(args.out)
        self.device = pick_device(args.device)
        source = self.out / "checkpoint.safetensors" if args.resume else HERE / "checkpoint.safetensors"
        try:
            tensors, meta = read_safetensors(source)
        except FileError as e:
            raise Stop(str(e)) from None
        if meta.get("format") != CHECKPOINT_FORMAT or "run" not in meta:
            raise Stop(f"{source} is not a training checkpoint of rnnlab (metadata format {meta.get('format')!r}, no run record)")
        self.source = source
        self.meta = dict(meta)
        self.config = json.loads(meta["config"])
        self.info = json.loads(meta["run"])
        m, t = self.config["model"], self.config["train"]
        if m["cell"] not in STATE_NAMES:
            raise Stop(f"the run's model is {m['cell']!r}; train.py continues recurrent models (rnn, lstm, gru)")
        for key in ("lr", "momentum", "weightDecay", "clipNorm", "clipValue"):
            if t.get(key) is not None:
                t[key] = float(t[key])  # JSON writes 1e20 as a whole number: torch takes a float
        self.m, self.t = m, t
        self.B, self.k1, self.k2 = t["batch"], t["k1"], t["k2"]
        if self.B < WORLD:
            raise Stop(f"the run's batch of {self.B} streams cannot be shared by {WORLD} processes; start fewer (at most {self.B})")
        # this process's rows: [b0, b1), contiguous, as even as possible (JavaScript's Math.round: halves up)
        self.bounds = [math.floor(r * self.B / WORLD + 0.5) for r in range(WORLD + 1)]
        self.b0, self.b1 = self.bounds[RANK], self.bounds[RANK + 1]
        self.load_text()
        self.vocab = {"kind": meta.get("tokens", "chars"), "tokens": json.loads(meta["vocab"])}
        if self.vocab["kind"] == "words":
            self.vocab["eos"] = self.vocab["tokens"].index(meta.get("eos_token", "<eos>"))

        # the model and its weights
        self.model = LanguageModel.from_config(m).to(self.device)
        self.named = self.model.parameter_names()
        with torch.no_grad():
            for name, p in self.named:
                if name not in tensors:
                    raise Stop(f"{source} has no tensor {name!r}; it is not a checkpoint of this model")
                p.copy_(tensors[name])
        self.ddp = None
        if WORLD > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.ddp = torch.nn.parallel.DistributedDataParallel(self.model, device_ids=ids, broadcast_buffers=False)
        self.opt = make_optimizer(t, [p for _, p in self.named])

        # the counters, the optimizer's state, the carried state and the kept history
        self.step = int(meta["step"])
        self.opt_steps = int(meta["optimizer_steps"])
        self.stats = json.loads(meta["stats"])
        self.position = int(meta["data_position"])
        self.dropout_calls = int(meta.get("dropout_calls", "0"))
        self.lm_dropout_calls = int(meta["lm_dropout_calls"]) if "lm_dropout_calls" in meta else None
        self.rng = Rng(json.loads(meta["rng"]))
        load_optimizer_state(self.opt, t, self.named, tensors, self.opt_steps, self.device)
        self.state = tuple(tensors[f"state.{s}"][:, self.b0 : self.b1].to(self.device).clone() for s in STATE_NAMES[m["cell"]])
        if "state.history_inputs" in tensors:
            self.hist_x = tensors["state.history_inputs"].long().clone()  # (hist, B), every row (cheap): checkpoints need them all
            self.hist_y = tensors["state.history_targets"].long().clone()
        else:
            self.hist_x = self.hist_y = torch.zeros(0, self.B, dtype=torch.long)
        self.tensor_order = list(tensors.keys())
        self.schedule = LrSchedule(t["lr"], t.get("schedule"), t.get("warmup", 0), json.loads(meta["schedule"]) if "schedule" in meta else None)
        self.norms_recent = []
        self.train_seconds = 0.0
        self.saved_step = self.step
        self.early_stop = False
        self.last_val = None

    def load_text(self):
        try:
            tokens, tmeta = read_safetensors(HERE / "tokens.safetensors")
        except FileError as e:
            raise Stop(f"{e}; the folder's text (tokens.safetensors) is needed: export the run again") from None
        ids = tokens["tokens"]
        data = self.info["data"]
        if ids.numel() != data["chars"] or int(tmeta.get("hash", "-1")) != data["hash"]:
            raise Stop(f"tokens.safetensors is not the text of this run ({data['chars']} tokens, hash {data['hash']}); export the run again")
        self.wide = ids.dtype == torch.int16  # U16 ids, read as int16: masked back to 0..65535 where used
        n = ids.numel()
        n_train = math.floor(n * (1 - data["valFraction"]))
        self.train_ids = ids[:n_train]
        self.val_ids = ids[n_train:] if data["valFraction"] > 0 else None
        self.S = (n_train - 1) // self.B
        self.per_pass = self.S // self.k1
        if self.per_pass < 1:
            raise Stop(f"the training text of {n_train} tokens is too short for {self.B} streams of {self.k1}-step windows")

    def ids(self, source, index):
        x = source[index].long()
        return x & 0xFFFF if self.wide else x

    # --- one step ----------------------------------------------------------------------------

    def window(self, w):
        """The (k1, B) inputs and targets of window w of a pass, every stream."""
        starts = torch.arange(self.B) * self.S + w * self.k1
        index = starts[None, :] + torch.arange(self.k1)[:, None]
        return self.ids(self.train_ids, index), self.ids(self.train_ids, index + 1)

    def train_step(self):
        """Truncated BPTT over the next window, then the update: rnnlab's Trainer.step and Updater.apply."""
        w = self.position % self.per_pass
        self.position += 1
        if w == 0:  # a new pass over the text starts from a zero state
            self.state = tuple(torch.zeros_like(s) for s in self.state)
            self.hist_x = self.hist_y = self.hist_x[:0]
        x, y = self.window(w)
        h = self.hist_x.shape[0]  # kept steps before the new ones (k2 > k1 only)
        if h:
            x, y = torch.cat([self.hist_x, x]), torch.cat([self.hist_y, y])
        W = h + self.k1
        keep = self.k2 - self.k1
        drop = max(0, W - keep)  # the next window starts 'keep' steps before this one's end
        xl = x[:, self.b0 : self.b1].to(self.device)
        yl = y[h:, self.b0 : self.b1].to(self.device)
        self.model.train()
        self.opt.zero_grad()
        net = self.ddp or self.model
        logits, _, carried = net(xl, self.state, split_at=drop, logits_from=h)
        count = self.k1 * self.B  # the loss is the mean over every stream's new steps
        loss_sum = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), yl.reshape(-1), reduction="sum")
        # DDP averages the gradients over the processes: scale so that the average is the gradient of the mean over all rows
        (loss_sum * (WORLD / count)).backward()
        if self.m.get("dropout", 0) > 0 and self.m["numLayers"] > 1:
            self.dropout_calls += 1  # rnnlab's mask counters advance as its own forward passes would
        if self.lm_dropout_calls is not None and (self.m.get("embeddingDropout", 0) > 0 or self.m.get("outputDropout", 0) > 0):
            self.lm_dropout_calls += 1
        # the carried state and history for the next window
        if drop > 0:
            self.state = tuple(s.detach() for s in carried)
        self.hist_x, self.hist_y = x[drop:], y[drop:]
        loss = all_sum([loss_sum.item()], self.device)[0] / count
        return self.apply(loss)

    def apply(self, loss):
        """Norm, non-finite check, clipping, the optimizer; the update undone if it made anything non-finite."""
        t = self.t
        self.stats["steps"] += 1
        step = self.stats["steps"]
        grads = [p.grad for _, p in self.named]
        # the total norm in float64: the norm of the per-tensor norms (torch.nn.utils.clip_grad_norm_'s order)
        norm = torch.stack([torch.linalg.vector_norm(g, dtype=torch.float64) for g in grads]).pow(2).sum().sqrt().item()
        if not (math.isfinite(loss) and math.isfinite(norm)):
            return self.refuse(step, loss, norm)
        clipped = False
        if t.get("clipNorm") is not None:
            coef = t["clipNorm"] / (norm + 1e-6)  # torch.nn.utils.clip_grad_norm_'s rule
            if coef < 1:
                for g in grads:
                    g.mul_(coef)
                clipped = True
        if t.get("clipValue") is not None:
            for g in grads:
                g.clamp_(-t["clipValue"], t["clipValue"])
        saved = None
        if t["nonFinite"] == "skip":  # keep what the update may spoil, to put it back
            state = {p: {k: v.clone() if torch.is_tensor(v) else v for k, v in st.items()} for p, st in self.opt.state.items()}
            saved = ([p.detach().clone() for _, p in self.named], state)
        self.opt.step()
        self.opt_steps += 1
        bad = self.spoiled()
        if bad:
            if saved is not None:
                with torch.no_grad():
                    for (_, p), v in zip(self.named, saved[0]):
                        p.copy_(v)
                self.opt.state.clear()
                self.opt.state.update(saved[1])
            self.opt_steps -= 1
            return self.refuse(step, loss, norm, bad)
        if clipped:
            self.stats["clipped"] += 1
        return {"loss": loss, "grad_norm": norm, "clipped": clipped, "skipped": False}

    def spoiled(self):
        """What the last update made non-finite, in words, or None."""
        checks = [(f"a parameter of {n}", p) for n, p in self.named]
        for n, p in self.named:
            for k, v in self.opt.state.get(p, {}).items():
                if k != "step" and torch.is_tensor(v):  # SGD without momentum keeps momentum_buffer None
                    checks.append((f"the optimizer's {k} of {n}", v))
        ok = torch.stack([torch.isfinite(v).all() for _, v in checks]).tolist()
        for (what, _), good in zip(checks, ok):
            if not good:
                return f"the update made {what} non-finite"
        return None

    def refuse(self, step, loss, norm, detail=None):
        if self.t["nonFinite"] == "stop":
            if detail:
                raise NonFinite(f"non-finite values at step {step}: {detail} (loss {loss}, gradient norm {norm}); the update was undone (lower the learning rate, or clip the gradient norm)")
            raise NonFinite(
                f"non-finite values at step {step}: loss {loss}, gradient norm {norm}; the parameters were not updated (lower the learning rate, clip the gradient norm, or use the skip policy)"
            )
        self.stats["skipped"] += 1
        self.opt.zero_grad()
        if not all(bool(torch.isfinite(s).all()) for s in self.state):  # a spoiled carried state: the stream starts afresh
            self.state = tuple(torch.zeros_like(s) for s in self.state)
            self.hist_x = self.hist_y = self.hist_x[:0]
        return {"loss": loss, "grad_norm": norm, "clipped": False, "skipped": True}

    # --- evaluation ----------------------------------------------------------------------------

    @torch.no_grad()
    def validate(self):
        """Mean cross-entropy (nats per token) over the validation text, B streams in windows of k1 steps, the state carried (rnnlab's evaluateLoss)."""
        if self.val_ids is None:
            return None
        self.model.eval()
        S = (self.val_ids.numel() - 1) // self.B
        starts = torch.arange(self.b0, self.b1) * S
        state = self.model.zero_state(self.b1 - self.b0, self.device)
        total, count = 0.0, 0
        for off in range(0, S, self.k1):
            if S - off < self.k1:
                break  # only whole windows
            index = starts[None, :] + off + torch.arange(self.k1)[:, None]
            x = self.ids(self.val_ids, index).to(self.device)
            y = self.ids(self.val_ids, index + 1).to(self.device)
            logits, state, _ = self.model(x, state)
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum").item()
            count += self.k1 * self.B
            if count >= MAX_VAL_TOKENS:
                break
        self.model.train()
        if count == 0:
            raise Stop(f"the validation text of {self.val_ids.numel()} tokens is too short for one window of {self.B} x {self.k1}")
        return all_sum([total], self.device)[0] / count

    def evaluate(self, rec):
        """Validation, a sample, the best weights, early stopping and the plateau schedule (rnnlab's TrainingSession.evaluate)."""
        val = self.validate()
        self.last_val = val
        info = self.info
        text = ""
        if info["sampleLength"] > 0 and RANK == 0:
            text = sample(self.model, self.vocab, self.prime(), info["sampleLength"], self.rng, self.device)
        if val is not None and math.isfinite(val):
            self.schedule.observe(val, self.step)
            es = info.get("earlyStop")
            improved = info["bestVal"] is None or val < info["bestVal"] - (es["minDelta"] if es else 0)
            if info["bestVal"] is None or val < info["bestVal"]:
                info["bestVal"], info["bestStep"] = val, self.step
                self.save_best(val)
            if es:
                es["stale"] = 0 if improved else es["stale"] + 1
                if es["stale"] >= es["patience"]:
                    self.early_stop = True
        words = self.vocab["kind"] == "words"
        if val is not None:
            rec["val_loss"] = val
            if words:
                rec["val_ppl"] = math.exp(val)
            else:
                rec["val_bpc"] = val / LN2
        # the line rnnlab train prints at an evaluation
        second = (lambda x: f"ppl {math.exp(x):.1f}") if words else (lambda x: f"{x / LN2:.3f} bpc")
        shown = "no validation" if val is None else f"val {val:.3f} nats ({second(val)})"
        say(
            f"step {self.step}/{info['targetSteps']}  train {rec['loss']:.3f} nats ({second(rec['loss'])})  {shown}  "
            f"grad {rec['grad_norm']:.2f}  lr {js_number(rec['lr'])}  {rec['chars_per_s']:,} {'word' if words else 'char'}s/s"
        )
        if text:
            say(f"--- sample ---\n{text}\n---")

    def prime(self):
        """What samples start from: a line break (a newline character, or <eos>), else the first token (rnnlab's defaultPrime)."""
        if self.vocab["kind"] == "words":
            return [self.vocab["eos"]]
        tokens = self.vocab["tokens"]
        return [tokens.index("\n")] if "\n" in tokens else [0]

    # --- checkpoints ---------------------------------------------------------------------------

    def snapshot(self, extra=None):
        """The run as rnnlab's TrainingSession.snapshot writes it: tensors, and metadata in its order."""
        full_state = [gather_rows(s, self.bounds, self.device) for s in self.state]  # every process takes part
        if RANK != 0:
            return None
        tensors = {name: p for name, p in self.named}
        tensors.update(optimizer_tensors(self.opt, self.t, self.named))
        for name, s in zip(STATE_NAMES[self.m["cell"]], full_state):
            tensors[f"state.{name}"] = s
        if self.hist_x.shape[0] > 0:
            tensors["state.history_inputs"] = self.hist_x.to(torch.int32)
            tensors["state.history_targets"] = self.hist_y.to(torch.int32)
        # rnnlab's order: as in the checkpoint this run started from, then whatever is new
        order = [k for k in self.tensor_order if k in tensors] + [k for k in tensors if k not in self.tensor_order]
        tensors = {k: tensors[k].detach().to("cpu", torch.int32 if tensors[k].dtype == torch.int32 else torch.float32) for k in order}
        meta = self.metadata(extra)
        for name, v in tensors.items():
            if v.is_floating_point() and not bool(torch.isfinite(v).all()):
                raise NonFinite(f"tensor {name!r} holds a non-finite number; refusing to save it")
        return tensors, meta

    def save(self, finished):
        self.info["finished"] = finished
        snap = self.snapshot()
        if snap is not None:
            write_atomic(self.out / "checkpoint.safetensors", encode_safetensors(*snap))
        self.saved_step = self.step

    def save_best(self, val):
        """best.safetensors: the weights alone, with the run's metadata and the validation loss (first process only: no collective)."""
        if RANK != 0:
            return
        tensors = {name: p.detach().to("cpu") for name, p in self.named}
        write_atomic(self.out / "best.safetensors", encode_safetensors(tensors, self.metadata({"val_loss": js_number(val)})))

    def metadata(self, extra=None):
        """The checkpoint's metadata, in rnnlab's order: the starting checkpoint's, with the counters, generator and run record of now."""
        meta = dict(self.meta)
        meta.pop("val_loss", None)
        meta["step"] = str(self.step)
        meta["optimizer_steps"] = str(self.opt_steps)
        meta["stats"] = js_json(self.stats, literal=True)
        meta["rng"] = js_json(self.rng.s, literal=True)
        meta["dropout_calls"] = str(self.dropout_calls)
        if self.lm_dropout_calls is not None:
            meta["lm_dropout_calls"] = str(self.lm_dropout_calls)
        meta["data_position"] = str(self.position)
        meta["run"] = js_json(self.info, literal=True)
        if self.schedule.state() is not None:
            meta["schedule"] = js_json(self.schedule.state(), literal=True)
        meta.update(extra or {})
        return meta


def pick_device(choice):
    if choice == "cuda" or (choice == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise Stop("--device cuda: no CUDA device is available")
        torch.backends.cuda.matmul.allow_tf32 = False  # float32 arithmetic, as rnnlab's (TF32 would round to 10 bits)
        torch.backends.cudnn.allow_tf32 = False
        return torch.device("cuda", LOCAL_RANK)
    return torch.device("cpu")


# ---------------------------------------------------------------------------------------------
# the command


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise Stop(f"{message} (see python train.py --help)")


def parse_args(argv):
    p = Parser(description="Continue an rnnlab training run in PyTorch (one process, or many under torchrun).")
    p.add_argument("--steps", type=int, required=True, help="training steps to add")
    p.add_argument("--out", required=True, help="folder for checkpoint.safetensors, best.safetensors and metrics.jsonl")
    p.add_argument("--resume", action="store_true", help="continue the run in --out (written by an earlier train.py or rnnlab train)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto", help="cuda when available (default), or cpu")
    args = p.parse_args(argv)
    if args.steps < 1:
        raise Stop(f"--steps must be a whole number >= 1, got {args.steps}")
    return args


def check_out(args):
    """The output folder, checked before any work: a new folder, or (--resume) a run to continue."""
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise Stop(f"--out {out} is a file; give a folder")
    has_run = (out / "checkpoint.safetensors").exists()
    if args.resume:
        if not has_run:
            raise Stop(f"{out} holds no checkpoint.safetensors to resume; start without --resume")
        return
    if has_run:
        raise Stop(f"{out} already holds a run; continue it with --resume, or choose another --out")
    earlier = [f for f in ("best.safetensors", "metrics.jsonl") if (out / f).exists()]
    if earlier:
        raise Stop(f"{out} already holds files of an earlier run ({', '.join(earlier)}); choose another --out, or remove them")


def main(argv):
    args = parse_args(argv)
    check_out(args)
    if WORLD > 1:
        backend = "nccl" if args.device != "cpu" and torch.cuda.is_available() else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(LOCAL_RANK)
        dist.init_process_group(backend)
    run = Run(args)
    torch.manual_seed(run.t["seed"] * 1000 + RANK)  # PyTorch's own dropout masks: a stream per process
    start, target = run.step, run.step + args.steps
    run.info["targetSteps"] = target
    run.info["finished"] = False
    out = run.out
    if RANK == 0:
        out.mkdir(parents=True, exist_ok=True)
        # the history: metrics.jsonl up to the checkpoint's step (the export's, or --out's own)
        history = read_metrics_lines((out if args.resume else HERE) / "metrics.jsonl", start)
        write_atomic(out / "metrics.jsonl", "".join(line + "\n" for line in history))
    metrics = open(out / "metrics.jsonl", "a", encoding="utf-8", buffering=1) if RANK == 0 else None

    m, t = run.m, run.t
    data = run.info["data"]
    where = f"{WORLD} processes ({dist.get_backend()}, {run.device.type})" if WORLD > 1 else f"1 process ({run.device.type})"
    say(f"train.py: continuing the run of {data['path']} at step {start} up to step {target}, on {where}")
    say(
        f"model: {m['cell']}, {m['numLayers']} layer{'s' if m['numLayers'] > 1 else ''}, hidden {m['hiddenSize']}, embedding {m['embedSize']}"
        f"{', tied' if m['tieWeights'] else ''}; training: batch {run.B} x {run.k1} steps, truncated BPTT({run.k1}, {run.k2}), {t['optimizer']} lr {js_number(t['lr'])}"
    )
    say(f"run folder: {out}")
    if run.info.get("diagnose", {}).get("every", 0) > 0:
        say("note: rnnlab train's diagnostics lines (--diagnose-every) are not written here; run rnnlab diagnose on the checkpoint")

    interrupted = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: interrupted.append(True))
    words = run.vocab["kind"] == "words"
    t0 = time.perf_counter()
    try:
        while run.step < target and not run.early_stop:
            # every process stops at the same step (a signal may reach them at different times)
            if all_sum([1.0 if interrupted else 0.0], run.device)[0] > 0:
                break
            lr = run.schedule.lr(run.step)
            for g in run.opt.param_groups:
                g["lr"] = lr
            s0 = time.perf_counter()
            r = run.train_step()
            run.step += 1
            dt = time.perf_counter() - s0
            run.train_seconds += dt
            rec = {"step": run.step, "epoch": run.position // run.per_pass, "loss": r["loss"]}
            rec["ppl" if words else "bpc"] = math.exp(r["loss"]) if words else r["loss"] / LN2
            rec.update(
                grad_norm=r["grad_norm"],
                clipped=r["clipped"],
                skipped=r["skipped"],
                lr=lr,
                chars_per_s=math.floor(run.B * run.k1 / dt + 0.5),
                elapsed_s=round(run.train_seconds, 3),
            )
            warning = explosion(run.norms_recent, run.step, r["grad_norm"], run.info.get("diagnose", {}).get("explodeFactor", 10))
            if warning:
                rec["warning"] = warning
                say(f"warning: {warning}")
            last = run.step >= target
            if run.step % run.info["evalEvery"] == 0 or last:
                run.evaluate(rec)
            if metrics:
                metrics.write(js_json(rec) + "\n")
            if run.step % run.info["saveEvery"] == 0 and not (last or run.early_stop):
                run.save(False)
        finished = run.step >= target
        if run.step != run.saved_step or finished:
            run.save(finished)
    except NonFinite as e:
        intact = f"the checkpoint of step {run.saved_step} in {out} is intact" if run.saved_step > start else f"{run.source} is intact"
        say(f"train.py: {e}; {intact}")
        return 1
    finally:
        if metrics:
            metrics.close()
    wall = time.perf_counter() - t0
    rel = out / "checkpoint.safetensors"
    if interrupted and run.step < target:
        say(f"interrupted at step {run.step}: checkpoint saved to {rel}; continue with: python train.py --steps {target - run.step} --out {out} --resume")
        return 130
    unit = "word" if words else "char"
    val = f"; validation {run.last_val:.4f} nats/{unit}" if run.last_val is not None else ""
    early = " (early stop)" if run.early_stop else ""
    say(f"done: {run.step} steps ({run.step - start} here) in {wall:.1f} s{early}{val}")
    say(f"files: {rel}, {out / 'metrics.jsonl'}{', ' + str(out / 'best.safetensors') if (out / 'best.safetensors').exists() else ''}")
    say(f"next: npx rnnlab sample --checkpoint {rel}  (or rnnlab diagnose, eval, probe, train --out {out} --resume)")
    return 0


def explosion(recent, step, norm, factor, window=50):
    """rnnlab's ExplosionWatch: a norm more than 'factor' times the median of the last 'window' norms."""
    warning = None
    if len(recent) >= min(10, window):
        median = sorted(recent)[len(recent) >> 1]
        if not math.isfinite(norm) or (median > 0 and norm > factor * median):
            ratio = math.floor(norm / median + 0.5) if math.isfinite(norm) else norm
            warning = f"exploding gradient at step {step}: norm {to_precision(norm, 3)} is {ratio}x the recent median {to_precision(median, 3)}"
    if math.isfinite(norm):
        recent.append(norm)
        if len(recent) > window:
            recent.pop(0)
    return warning


def to_precision(x, p):
    """JavaScript's x.toPrecision(p): p significant digits, exponential below 1e-6 or from 10^p on."""
    if not math.isfinite(x):
        return "NaN" if math.isnan(x) else ("-" if x < 0 else "") + "Infinity"
    digits, _, exp = f"{x:.{p - 1}e}".partition("e")
    e = int(exp)
    if e < -6 or e >= p:
        return f"{digits}e{'+' if e >= 0 else '-'}{abs(e)}"
    return f"{x:.{max(0, p - 1 - e)}f}"


if __name__ == "__main__":
    try:
        status = main(sys.argv[1:])
    except Stop as e:
        if RANK == 0:
            print(f"train.py: {e}", file=sys.stderr, flush=True)
        status = 2
    except OSError as e:
        if RANK == 0:
            print(f"train.py: cannot {'write' if e.filename else 'complete'} {e.filename or ''}: {e.strerror or e}; check the path and the disk", file=sys.stderr, flush=True)
        status = 2
    if WORLD > 1 and dist.is_initialized():
        dist.destroy_process_group()
    sys.exit(status)
`;
