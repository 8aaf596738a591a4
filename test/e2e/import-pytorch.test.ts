// PyTorch's word_language_model example, end to end: its model (encoder -> RNN/LSTM/GRU -> decoder,
// tied and untied) trained a little by PyTorch, its state dict saved as safetensors and its
// vocabulary as Python writes it (one token per line, in the Dictionary's order, unchanged), then
// `rnnlab import`, and `rnnlab eval` and `rnnlab sample` give PyTorch's loss (the example's
// evaluate() with a batch of 1) and PyTorch's greedy continuations. Also: torch.save pickles are
// refused in one line that says how to save safetensors, words outside a vocabulary without <unk>
// are named, and the special tokens can be named with --config.
// Opt-in: needs a Python with torch ($RNNLAB_PYTHON, default /usr/bin/python3); skipped otherwise.
// Runs the built CLI (dist/): build first.

import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { WordVocab } from "../../src/data/words.js";
import { readCheckpoint } from "../../src/node/checkpoint.js";
import { loadCorpus } from "../../src/node/corpus.js";
import { evaluateLoss } from "../../src/train/evaluate.js";
import { modelFromSnapshot } from "../../src/train/run.js";
import { isOneLineError, rnnlab, scratch } from "../helpers/cli.js";

const PYTHON = process.env.RNNLAB_PYTHON ?? "/usr/bin/python3";
const hasTorch = existsSync(PYTHON) && spawnSync(PYTHON, ["-c", "import torch"], { encoding: "utf8" }).status === 0;
if (!hasTorch) console.log(`import-pytorch: skipped: ${PYTHON} cannot import torch (set RNNLAB_PYTHON to a Python with torch to run it)`);

/** The models: the example's --model, --emsize, --nhid, --nlayers, --tied, --bptt and --lr. */
const CASES = [
  { name: "lstm_tied", model: "LSTM", emsize: 16, nhid: 16, nlayers: 2, tied: true, seed: 1, bptt: 7, lr: 20 },
  { name: "lstm_untied", model: "LSTM", emsize: 12, nhid: 16, nlayers: 2, tied: false, seed: 2, bptt: 6, lr: 20 },
  { name: "gru_tied", model: "GRU", emsize: 16, nhid: 16, nlayers: 1, tied: true, seed: 3, bptt: 5, lr: 20 },
  { name: "gru_untied", model: "GRU", emsize: 12, nhid: 16, nlayers: 2, tied: false, seed: 4, bptt: 8, lr: 20 },
  { name: "rnn_relu", model: "RNN_RELU", emsize: 12, nhid: 16, nlayers: 1, tied: false, seed: 5, bptt: 7, lr: 1 },
] as const;
const PRIME = "the king is";
const LENGTH = 12;

const SENTENCES = [
  "the king is dead , long live the king",
  "the queen is in the garden",
  "a horse , a horse , my kingdom for a horse",
  "to be or not to be",
  "now is the winter of our discontent",
  "all the world is a stage",
];

/**
 * A text of `n` lines drawn from SENTENCES (a fixed generator), with every kind of line end
 * (\n, \r\n, a lone \r) and some of Python's rarer whitespace between words (U+3000, U+0085,
 * U+2028, \v, \x1c), which split words but end no line of a file.
 */
function corpusText(n: number, seed: number, last = ""): string {
  const ends = ["\n", "\r\n", "\n", "\r", "\n"];
  const spaces = ["\u3000", "\x85", " \u2028\t", "\x0b", "\x1c"];
  let x = seed;
  let s = "";
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    let line = SENTENCES[(x >>> 16) % SENTENCES.length];
    if (i % 5 === 2) line = line.replace(" ", spaces[Math.floor(i / 5) % spaces.length]);
    s += line + ends[i % ends.length];
  }
  return s + last;
}

interface CaseResult {
  name: string;
  saved_with: string;
  loss32: number;
  loss64: number;
  count: number;
  greedy_eos: number[];
  greedy_prime: number[];
}

let dir: string;
let idx2word: string[];
const results = new Map<string, CaseResult>();

/** Runs a command that must fail: one line, status 2, and nothing written. */
function refuses(args: string[], ...messages: RegExp[]): string {
  const before = readdirSync(dir).sort();
  const r = rnnlab(dir, ...args);
  expect(r.status, r.stderr).toBe(2);
  expect(isOneLineError(r.stderr), r.stderr).toBe(true);
  for (const m of messages) expect(r.stderr).toMatch(m);
  expect(readdirSync(dir).sort()).toEqual(before);
  return r.stderr;
}

/** The loss rnnlab eval prints, and the count of words and line ends. */
function printedLoss(stdout: string): { loss: number; count: number } {
  const m = /: (\d+\.\d{4}) nats\/word, perplexity [\d.]+ over ([\d,]+) of its [\d,]+ words and line ends/.exec(stdout);
  expect(m, stdout).not.toBeNull();
  return { loss: Number(m![1]), count: Number(m![2].replace(/,/g, "")) };
}

/** The import's --config: the example's bptt as rnnlab eval's window, a batch of 1 as in the example's evaluate() here. */
function configOf(c: (typeof CASES)[number]): string {
  return JSON.stringify({ ...(c.model === "RNN_RELU" ? { nonlinearity: "relu" } : {}), train: { batch: 1, k1: c.bptt } });
}

describe.runIf(hasTorch)("PyTorch's word_language_model example, imported", () => {
  beforeAll(() => {
    dir = scratch("rnnlab-wlm-");
    mkdirSync(join(dir, "data"));
    // train.txt opens with a byte order mark: Python keeps it in the first word, and so must rnnlab
    writeFileSync(join(dir, "data", "train.txt"), `\ufeff${corpusText(300, 1)}`);
    writeFileSync(join(dir, "data", "valid.txt"), corpusText(30, 2));
    writeFileSync(join(dir, "data", "test.txt"), corpusText(40, 3, "the queen is")); // no final line break
    writeFileSync(join(dir, "make.py"), MAKE_PY);
    const spec = JSON.stringify({ prime: PRIME, length: LENGTH, cases: CASES });
    const py = spawnSync(PYTHON, ["make.py", ".", spec], { cwd: dir, encoding: "utf8" });
    expect(py.status, py.stderr).toBe(0);
    const out = JSON.parse(py.stdout) as { torch: string; idx2word: string[]; results: CaseResult[] };
    idx2word = out.idx2word;
    for (const r of out.results) results.set(r.name, r);
    console.log(`import-pytorch: PyTorch ${out.torch}, ${idx2word.length} words, state dicts saved with ${out.results[0].saved_with}`);
  }, 120_000);

  it("the example's vocabulary is as PyTorch makes it: first appearance, <eos> after the first line, no <unk>", () => {
    expect(idx2word[0]).toBe(`\ufeff${corpusText(1, 1).split(" ")[0]}`); // the byte order mark is part of the first word
    expect(idx2word.indexOf("<eos>")).toBeGreaterThan(1);
    expect(idx2word).not.toContain("<unk>");
    expect(readFileSync(join(dir, "vocab.txt"), "utf8")).toBe(idx2word.join("\n"));
  });

  for (const c of CASES) {
    it(`${c.name}: imports with vocab.txt unchanged, and eval and sample give PyTorch's loss and words`, () => {
      const py = results.get(c.name)!;
      const out = `${c.name}.rnnlab.safetensors`;
      const im = rnnlab(dir, "import", `${c.name}.safetensors`, "--vocab", "vocab.txt", "--config", configOf(c), "--out", out);
      expect(im.status, im.stderr).toBe(0);
      const cell = c.model.startsWith("RNN") ? "RNN \\(relu\\)" : c.model;
      expect(im.stdout).toMatch(
        new RegExp(
          `^${out.replace(/\./g, "\\.")}: ${cell} language model, ${c.nlayers} layers?, hidden ${c.nhid}, embedding ${c.emsize}, ${idx2word.length} words`,
        ),
      );
      expect(im.stdout.includes("tied weights")).toBe(c.tied);
      expect(im.stdout).toMatch(/vocabulary: vocab\.txt read as one token per line .* line end "<eos>" is id \d+; no unknown-word token/);
      if (c.tied && !py.saved_with.includes("save_file")) expect(im.stdout).toMatch(/encoder\.weight = decoder\.weight \(saved once by save_model\)/);

      // the checkpoint's vocabulary is the Dictionary's, id for id
      const snap = readCheckpoint(join(dir, out));
      expect(JSON.parse(snap.metadata.vocab)).toEqual(idx2word);
      expect(snap.metadata.tokens).toBe("words");
      const { model, vocab } = modelFromSnapshot(snap);
      expect(vocab).toBeInstanceOf(WordVocab);
      const words = vocab as WordVocab;
      expect([words.eosId, words.unkId]).toEqual([idx2word.indexOf("<eos>"), -1]);

      // the loss, in process (all digits) and as rnnlab eval prints it (4 decimals)
      const { tokens } = loadCorpus(join(dir, "data", "test.txt"), vocab);
      expect(tokens.length - 1).toBe(py.count);
      const ours = evaluateLoss(model, tokens, 1, c.bptt, { partial: true });
      console.log(
        `import-pytorch: ${c.name}: rnnlab ${ours.loss.toFixed(7)} nats/word, PyTorch float32 ${py.loss32.toFixed(7)}, float64 ${py.loss64.toFixed(7)} (${py.count} words and line ends)`,
      );
      expect(ours.count).toBe(py.count);
      expect(Math.abs(ours.loss - py.loss32)).toBeLessThan(1e-5 * Math.max(1, Math.abs(py.loss32)));
      expect(Math.abs(ours.loss - py.loss64)).toBeLessThan(1e-5 * Math.max(1, Math.abs(py.loss64)));
      const ev = rnnlab(dir, "eval", join("data", "test.txt"), "--checkpoint", out);
      expect(ev.status, ev.stderr).toBe(0);
      const printed = printedLoss(ev.stdout);
      expect(printed.count).toBe(py.count);
      expect(Math.abs(printed.loss - py.loss32)).toBeLessThanOrEqual(0.5e-4 + 1e-5);

      // greedy continuations (temperature 0): from a line break, and after a prime
      const s1 = rnnlab(dir, "sample", "--checkpoint", out, "--temperature", "0", "--length", String(LENGTH));
      expect(s1.status, s1.stderr).toBe(0);
      expect(s1.stdout).toBe(`${words.decode(py.greedy_eos)}\n`);
      const s2 = rnnlab(dir, "sample", "--checkpoint", out, "--temperature", "0", "--length", String(LENGTH), "--prime", PRIME);
      expect(s2.status, s2.stderr).toBe(0);
      let want = PRIME;
      let lineStart = false;
      for (const id of py.greedy_prime) {
        want += words.piece(id, lineStart);
        lineStart = id === words.eosId;
      }
      expect(s2.stdout).toBe(`${want}\n`);
    });
  }

  it("rnnlab probe context and probe saliency run on an imported model (words)", () => {
    const out = "lstm_tied.rnnlab.safetensors"; // imported by the case above
    expect(existsSync(join(dir, out))).toBe(true);
    const ctx = rnnlab(
      dir,
      "probe",
      "context",
      "--checkpoint",
      out,
      join("data", "valid.txt"),
      "--max-distance",
      "16",
      "--positions",
      "24",
      "--json",
      "ctx.json",
    );
    expect(ctx.status, ctx.stderr).toBe(0);
    const r = JSON.parse(readFileSync(join(dir, "ctx.json"), "utf8"));
    expect(r.maxDistance).toBe(16);
    expect(r.curves.map((c: { perturbation: string }) => c.perturbation)).toEqual(["drop", "shuffle", "replace"]);
    for (const c of r.curves) expect(c.effective).toBeGreaterThanOrEqual(1);
    const sal = rnnlab(dir, "probe", "saliency", "--checkpoint", out, "--text", "the king is", "--json", "sal.json", "--out", "sal.html");
    expect(sal.status, sal.stderr).toBe(0);
    const s = JSON.parse(readFileSync(join(dir, "sal.json"), "utf8"));
    expect(s.tokens ?? s.inputs).toHaveLength(3); // three words
    expect(s.gradient).toHaveLength(3);
    expect(s.occlusion).toHaveLength(3);
  });

  it("the vocabulary file may end with a line break and use \\r\\n; eos and unk can be named", () => {
    const c = CASES[3];
    const py = results.get(c.name)!;
    writeFileSync(join(dir, "vocab-crlf.txt"), `${idx2word.join("\r\n")}\r\n`);
    const a = rnnlab(dir, "import", `${c.name}.safetensors`, "--vocab", "vocab-crlf.txt", "--config", configOf(c), "--out", "crlf.safetensors");
    expect(a.status, a.stderr).toBe(0);
    expect(JSON.parse(readCheckpoint(join(dir, "crlf.safetensors")).metadata.vocab)).toEqual(idx2word);
    // the line end spelled </s>: named with --config "eos", the same loss
    writeFileSync(join(dir, "vocab-s.txt"), idx2word.map((w) => (w === "<eos>" ? "</s>" : w)).join("\n"));
    refuses(
      ["import", `${c.name}.safetensors`, "--vocab", "vocab-s.txt", "--config", '{"tokens":"words"}', "--out", "s.safetensors"],
      /the word vocabulary has no end-of-line token "<eos>".*--config '\{"eos":"TOKEN"\}'/,
    );
    const cfg = JSON.stringify({ eos: "</s>", train: { batch: 1, k1: c.bptt } });
    const b = rnnlab(dir, "import", `${c.name}.safetensors`, "--vocab", "vocab-s.txt", "--config", cfg, "--out", "s.safetensors");
    expect(b.status, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/line end "<\/s>" is id \d+/);
    expect(readCheckpoint(join(dir, "s.safetensors")).metadata.eos_token).toBe("</s>");
    const e = rnnlab(dir, "eval", join("data", "test.txt"), "--checkpoint", "s.safetensors");
    expect(e.status, e.stderr).toBe(0);
    expect(Math.abs(printedLoss(e.stdout).loss - py.loss32)).toBeLessThanOrEqual(0.5e-4 + 1e-5);
    // a word outside a vocabulary without <unk>: named, with its line; with "unk" named, it is that token
    writeFileSync(join(dir, "jester.txt"), "the king is dead\nthe jester is dead\n");
    refuses(
      ["eval", "jester.txt", "--checkpoint", `${c.name}.rnnlab.safetensors`],
      /jester\.txt: line 2: the word "jester" is not in the vocabulary, which has no unknown token .*--config '\{"unk":"TOKEN"\}'/,
    );
    refuses(["sample", "--checkpoint", `${c.name}.rnnlab.safetensors`, "--prime", "the jester"], /the word "jester" is not in the vocabulary/);
    const u = rnnlab(dir, "import", `${c.name}.safetensors`, "--vocab", "vocab.txt", "--config", '{"unk":","}', "--out", "unk.safetensors");
    expect(u.status, u.stderr).toBe(0);
    expect(u.stdout).toMatch(/unknown words are "," \(id \d+\)/);
    const ok = rnnlab(dir, "eval", "jester.txt", "--checkpoint", "unk.safetensors");
    expect(ok.status, ok.stderr).toBe(0);
    expect(printedLoss(ok.stdout).count).toBe(9);
  });

  it("a torch.save pickle (.pt) is refused in one line that says how to save safetensors", () => {
    const how = [/save_file\(model\.state_dict\(\), "model\.safetensors"\)/, /save_model\(model, "model\.safetensors"\)/, /save_file refuses shared tensors/];
    refuses(
      ["import", "lstm_tied.pt", "--vocab", "vocab.txt"],
      /lstm_tied\.pt is a PyTorch pickle \(torch\.save, a zip archive\), which rnnlab cannot read/,
      ...how,
    );
    refuses(["import", "legacy.pt", "--vocab", "vocab.txt"], /legacy\.pt is a Python pickle \(torch\.save's legacy format\)/, ...how);
    copyFileSync(join(dir, "gru_untied.pt"), join(dir, "weights.data")); // told by its first bytes, whatever its name
    refuses(["import", "weights.data", "--vocab", "vocab.txt"], /weights\.data is a PyTorch pickle/, ...how);
  });
});

/** The Python side: the example's data.py and model.py in small, its training loop, evaluate() and greedy decoding. */
const MAKE_PY = String.raw`
# PyTorch's word_language_model example, in small: its Dictionary and tokenizer (data.py), its
# RNNModel (model.py: encoder -> rnn -> decoder, optional tying, log-softmax output), a few steps of
# its training loop, then what rnnlab must reproduce: the example's evaluate() loss (batch 1) and
# greedy continuations. Writes, per model, NAME.safetensors (a state dict: with the safetensors
# package if it is installed, save_file or, tied, save_model; otherwise written here
# in the same format with struct and json, shared tensors saved once as save_model does) and
# NAME.pt (torch.save(model), as main.py saves it).
import json, os, struct, sys
import torch
import torch.nn as nn
import torch.nn.functional as F


class Dictionary:
    def __init__(self):
        self.word2idx, self.idx2word = {}, []

    def add_word(self, word):
        if word not in self.word2idx:
            self.idx2word.append(word)
            self.word2idx[word] = len(self.idx2word) - 1
        return self.word2idx[word]


class Corpus:
    """data.py's Corpus: one Dictionary over train, valid and test, each line split() + <eos>."""

    def __init__(self, path):
        self.dictionary = Dictionary()
        self.train, self.valid, self.test = (self.tokenize(os.path.join(path, n)) for n in ("train.txt", "valid.txt", "test.txt"))

    def tokenize(self, path):
        with open(path, "r", encoding="utf8") as f:
            for line in f:
                for word in line.split() + ["<eos>"]:
                    self.dictionary.add_word(word)
        with open(path, "r", encoding="utf8") as f:
            return torch.cat([torch.tensor([self.dictionary.word2idx[w] for w in line.split() + ["<eos>"]], dtype=torch.int64) for line in f])


class RNNModel(nn.Module):
    """model.py's RNNModel: the same submodules (drop, encoder, rnn, decoder), initialisation, tying and output."""

    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5, tie_weights=False):
        super().__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        if rnn_type in ("LSTM", "GRU"):
            self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
        else:
            self.rnn = nn.RNN(ninp, nhid, nlayers, nonlinearity={"RNN_TANH": "tanh", "RNN_RELU": "relu"}[rnn_type], dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        if tie_weights:
            assert nhid == ninp
            self.decoder.weight = self.encoder.weight
        nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -0.1, 0.1)
        self.rnn_type, self.nhid, self.nlayers = rnn_type, nhid, nlayers

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        decoded = self.decoder(self.drop(output)).view(-1, self.ntoken)
        return F.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        w = next(self.parameters())
        z = lambda: w.new_zeros(self.nlayers, bsz, self.nhid)
        return (z(), z()) if self.rnn_type == "LSTM" else z()


def batchify(data, bsz):
    n = data.size(0) // bsz
    return data.narrow(0, 0, n * bsz).view(bsz, -1).t().contiguous()


def get_batch(source, i, bptt):
    seq_len = min(bptt, len(source) - 1 - i)
    return source[i : i + seq_len], source[i + 1 : i + 1 + seq_len].view(-1)


def repackage(h):
    return h.detach() if isinstance(h, torch.Tensor) else tuple(repackage(v) for v in h)


def evaluate(model, data_source, bptt):
    """main.py's evaluate() with a batch of 1: every token after the first, predicted in one stream."""
    model.eval()
    criterion = nn.NLLLoss()
    total = 0.0
    hidden = model.init_hidden(1)
    with torch.no_grad():
        for i in range(0, data_source.size(0) - 1, bptt):
            data, targets = get_batch(data_source, i, bptt)
            output, hidden = model(data, hidden)
            hidden = repackage(hidden)
            total += len(data) * criterion(output, targets).item()
    return total / (len(data_source) - 1)


def greedy(model, prime, n):
    model.eval()
    with torch.no_grad():
        hidden = model.init_hidden(1)
        out, hidden = model(torch.tensor(prime).view(-1, 1), hidden)
        ids = []
        for _ in range(n):
            ids.append(int(out[-1].argmax()))
            out, hidden = model(torch.tensor([[ids[-1]]]), hidden)
    return ids


def save_safetensors(model, path):
    """A state dict as safetensors: the package when installed, else the format written directly."""
    try:
        from safetensors.torch import save_file, save_model
    except ImportError:
        save_file = save_model = None
    sd = model.state_dict()
    shared = {}
    for name, t in sd.items():
        shared.setdefault(t.data_ptr(), []).append(name)
    tied = any(len(v) > 1 for v in shared.values())
    if save_file is not None:
        (save_model(model, path) if tied else save_file(sd, path))
        return "safetensors " + ("save_model" if tied else "save_file")
    # save_model's rule: of names sharing a tensor, keep the first in sorted order, record the others as metadata dropped -> kept
    meta, keep = {}, {}
    for names in shared.values():
        kept = sorted(names)[0]
        for n in names:
            if n != kept:
                meta[n] = kept
    header, blobs, off = {}, [], 0
    for name, t in sd.items():
        if name in meta:
            continue
        b = t.detach().contiguous().to(torch.float32).numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    if meta:
        header["__metadata__"] = meta
    h = json.dumps(header).encode("utf8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    return "struct and json (no safetensors package)" + (", shared tensors saved once as save_model does" if meta else "")


def main(folder, spec):
    torch.manual_seed(1)
    corpus = Corpus(os.path.join(folder, "data"))
    V = len(corpus.dictionary.idx2word)
    with open(os.path.join(folder, "vocab.txt"), "w", encoding="utf8") as f:
        f.write("\n".join(corpus.dictionary.idx2word))  # one token per line, in the Dictionary's order
    results = []
    for case in spec["cases"]:
        torch.manual_seed(case["seed"])
        model = RNNModel(case["model"], V, case["emsize"], case["nhid"], case["nlayers"], 0.2, case["tied"])
        train = batchify(corpus.train, 4)
        lr, bptt = case["lr"], case["bptt"]
        model.train()
        for epoch in range(4):  # main.py's train(), four epochs
            hidden = model.init_hidden(4)
            for i in range(0, train.size(0) - 1, bptt):
                data, targets = get_batch(train, i, bptt)
                hidden = repackage(hidden)
                model.zero_grad()
                output, hidden = model(data, hidden)
                loss = nn.NLLLoss()(output, targets)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
                for p in model.parameters():
                    p.data.add_(p.grad, alpha=-lr)
        name = case["name"]
        how = save_safetensors(model, os.path.join(folder, name + ".safetensors"))
        torch.save(model, os.path.join(folder, name + ".pt"))
        test = batchify(corpus.test, 1)
        loss32 = evaluate(model, test, bptt)
        loss64 = evaluate(model.double(), test, bptt)
        model.float()
        prime = [corpus.dictionary.word2idx[w] for w in spec["prime"].split()]
        results.append({
            "name": name,
            "saved_with": how,
            "loss32": loss32,
            "loss64": loss64,
            "count": corpus.test.size(0) - 1,
            "greedy_eos": greedy(model, [corpus.dictionary.word2idx["<eos>"]], spec["length"]),
            "greedy_prime": greedy(model, prime, spec["length"]),
        })
    torch.save(RNNModel("GRU", V, 4, 4, 1), os.path.join(folder, "legacy.pt"), _use_new_zipfile_serialization=False)
    print(json.dumps({"torch": torch.__version__, "idx2word": corpus.dictionary.idx2word, "results": results}))


main(sys.argv[1], json.loads(sys.argv[2]))
`;
