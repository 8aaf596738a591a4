// `rnnlab export` and `rnnlab import` end to end: a checkpoint goes out to PyTorch's names and
// comes back bit for bit; PyTorch's own files (test/fixtures/safetensors) come in and give
// PyTorch's logits; damaged files stop with one line, exit status 2 and nothing written. Opt-in:
// the README's Python snippet runs on an export with /usr/bin/python3 when torch is importable.

import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { readCheckpoint } from "../../src/node/checkpoint.js";
import { decodeOnnx } from "../../src/io/onnx.js";
import { decodeSafetensors } from "../../src/io/safetensors.js";
import type { Float } from "../../src/tensor/dtype.js";
import { modelFromSnapshot } from "../../src/train/run.js";
import { isOneLineError, rnnlab, scratch } from "../helpers/cli.js";
import { readDocs } from "../helpers/docs.js";

const FIXTURES = fileURLToPath(new URL("../fixtures/safetensors/", import.meta.url));
const SMALL = ["--batch", "4", "--seq", "16", "--sample-length", "0", "--threads", "1", "--eval-every", "10"];
const TEXT = "Jane walked into the room. John walked in too. It was late in the day. Jane said hi to John.\n";

const bits = (a: Float | Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Logits (T, B, V) of a checkpoint's model on ids (T, B), computed in-process. */
function logitsOf(checkpoint: string, ids: Int32Array, T: number, B: number): Float {
  const { model } = modelFromSnapshot(readCheckpoint(checkpoint));
  model.forward(ids, new Int32Array(T * B), T, B, null);
  return model.lastLogits.slice();
}

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return m;
}

let dir: string;
beforeAll(() => {
  dir = scratch("rnnlab-export-");
  writeFileSync(join(dir, "jane.txt"), TEXT.repeat(40));
  writeFileSync(join(dir, "fox.txt"), "the quick brown fox.\n"); // the PyTorch fixtures' vocabulary
  writeFileSync(join(dir, "foxes.txt"), "the quick brown fox.\n".repeat(20));
  for (const [out, args] of [
    ["gru", ["--cell", "gru", "--hidden", "12", "--embed", "8"]],
    ["tied", ["--cell", "lstm", "--hidden", "8", "--embed", "8", "--tie-weights", "--layers", "2"]],
    ["relu", ["--cell", "rnn", "--nonlinearity", "relu", "--hidden", "8", "--embed", "6"]],
  ] as const) {
    const r = rnnlab(dir, "train", "jane.txt", ...args, ...SMALL, "--steps", "10", "--out", out);
    expect(r.status, r.stderr).toBe(0);
  }
});

describe("rnnlab export and import", () => {
  for (const run of ["gru", "tied", "relu"]) {
    it(`${run}: checkpoint -> export -> import gives the same weights bit for bit and the same logits`, () => {
      const ck = join(run, "checkpoint.safetensors");
      const ex = rnnlab(dir, "export", "--checkpoint", ck, "--out", `${run}.safetensors`);
      expect(ex.status, ex.stderr).toBe(0);
      expect(ex.stdout).toMatch(new RegExp(`^${run}\\.safetensors: (GRU|LSTM|RNN) language model .* as safetensors, [\\d,]+ bytes`));
      // the export: weights only, PyTorch's names, config and vocabulary in the metadata
      const { tensors, metadata } = decodeSafetensors(readFileSync(join(dir, `${run}.safetensors`)));
      const names = [...tensors.keys()];
      expect(names[0]).toBe("embedding.weight");
      expect(names.slice(-2)).toEqual(["head.weight", "head.bias"]);
      expect(names.some((n) => n.startsWith("optim.") || n.startsWith("state."))).toBe(false);
      expect(metadata.format).toBe("rnnlab-weights/1");
      expect(JSON.parse(metadata.vocab)).toContain("J");
      if (run === "tied") {
        expect(bits(tensors.get("head.weight")!.data)).toEqual(bits(tensors.get("embedding.weight")!.data));
        expect(metadata.pytorch).toMatch(/head\.weight = embedding\.weight/);
      }
      const im = rnnlab(dir, "import", `${run}.safetensors`, "--out", `${run}-back.safetensors`);
      expect(im.status, im.stderr).toBe(0);
      const a = readCheckpoint(join(dir, ck));
      const b = readCheckpoint(join(dir, `${run}-back.safetensors`));
      const { model } = modelFromSnapshot(a);
      for (const p of model.store.params) expect(bits(b.tensors[p.name].data), p.name).toEqual(bits(a.tensors[p.name].data));
      expect(JSON.parse(b.metadata.config).model).toEqual(JSON.parse(a.metadata.config).model);
      expect(JSON.parse(b.metadata.config).train).toEqual(JSON.parse(a.metadata.config).train);
      expect(b.metadata.vocab).toBe(a.metadata.vocab);
      expect(b.metadata.step).toBe("10");
      if (run === "tied") {
        const back = modelFromSnapshot(b).model;
        expect(back.head.weight).toBe(back.embedding.weight); // one Parameter again
      }
      const ids = Int32Array.from({ length: 20 }, (_, i) => (i * 7) % model.options.vocabSize);
      expect(bits(logitsOf(join(dir, `${run}-back.safetensors`), ids, 5, 4))).toEqual(bits(logitsOf(join(dir, ck), ids, 5, 4)));
      // and the commands that read checkpoints say the same of both
      for (const cmd of [["eval", "jane.txt"], ...(run === "gru" ? [["sample", "--length", "40", "--seed", "3"]] : [])]) {
        const x = rnnlab(dir, cmd[0], ...cmd.slice(1), "--checkpoint", ck);
        const y = rnnlab(dir, cmd[0], ...cmd.slice(1), "--checkpoint", `${run}-back.safetensors`);
        expect(y.status, y.stderr).toBe(0);
        expect(y.stdout.replace(`${run}-back.safetensors`, ck)).toBe(x.stdout);
      }
    });
  }

  it("exports ONNX too (the numbers are onnx.test.ts's business)", () => {
    const r = rnnlab(dir, "export", "--checkpoint", "gru/checkpoint.safetensors", "--out", "gru.model", "--format", "onnx");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^gru\.model: GRU language model .* as onnx/);
    const bytes = readFileSync(join(dir, "gru.model"));
    expect(bytes.length).toBeGreaterThan(1000);
    // the vocabulary travels in the graph's metadata, to map ids back to characters
    const props = (decodeOnnx(new Uint8Array(bytes)) as { metadata_props: { key: string; value: string }[] }).metadata_props;
    const meta = Object.fromEntries(props.map((p) => [p.key, p.value]));
    const { vocab } = modelFromSnapshot(readCheckpoint(join(dir, "gru", "checkpoint.safetensors")));
    expect(JSON.parse(meta.vocab)).toEqual([...vocab.tokens]);
    expect(meta.tokens).toBe("chars");
    expect(JSON.parse(meta["rnnlab.options"]).cell).toBe("gru");
  });

  const pytorch: [string, string[], { tied: boolean; cell: string }][] = [
    ["charlm_gru", [], { tied: false, cell: "GRU" }],
    ["charlm_lstm_tied_wlm", ["--vocab", "fox.txt"], { tied: true, cell: "LSTM" }],
    ["charlm_rnn_relu_nobias", ["--vocab", "fox.txt", "--config", '{"nonlinearity":"relu"}'], { tied: false, cell: "RNN" }],
  ];
  for (const [name, args, o] of pytorch) {
    it(`imports PyTorch's ${name} and the checkpoint gives PyTorch's logits`, () => {
      const r = rnnlab(dir, "import", join(FIXTURES, `${name}.safetensors`), ...args, "--out", `${name}.safetensors`);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^${name}\\.safetensors: ${o.cell}`));
      expect(r.stdout.includes("tied weights")).toBe(o.tied);
      const { tensors } = decodeSafetensors(readFileSync(join(FIXTURES, `${name}.expected.safetensors`)));
      const ids = tensors.get("input_ids")!;
      const [T, B] = ids.shape;
      const d = maxRelDiff(logitsOf(join(dir, `${name}.safetensors`), ids.data as Int32Array, T, B), tensors.get("logits_f32")!.data);
      expect(d).toBeLessThan(1e-5);
      const s = rnnlab(dir, "sample", "--checkpoint", `${name}.safetensors`, "--length", "20", "--prime", "the");
      expect(s.status, s.stderr).toBe(0);
      const e = rnnlab(dir, "eval", "foxes.txt", "--checkpoint", `${name}.safetensors`);
      expect(e.status, e.stderr).toBe(0);
      expect(e.stdout).toMatch(/^foxes\.txt: [\d.]+ nats\/char/);
      if (name === "charlm_gru") {
        const d = rnnlab(dir, "diagnose", "--checkpoint", `${name}.safetensors`, "--text", "foxes.txt", "--batch", "2", "--seq", "8", "--out", "diag.html");
        expect(d.status, d.stderr).toBe(0);
        expect(readFileSync(join(dir, "diag.html"), "utf8")).toMatch(/<svg/);
      }
    });
  }
});

describe("rnnlab export and import refuse damaged and unsuitable files", () => {
  /** Runs a command that must fail: one line, status 2, and the folder exactly as before (no output, no temporary file). */
  function refuses(args: string[], ...messages: RegExp[]): void {
    const before = readdirSync(dir).sort();
    const r = rnnlab(dir, ...args);
    expect(r.status, r.stderr).toBe(2);
    expect(isOneLineError(r.stderr), r.stderr).toBe(true);
    for (const m of messages) expect(r.stderr).toMatch(m);
    expect(readdirSync(dir).sort()).toEqual(before);
  }

  it("import: truncated, corrupted, empty and foreign files", () => {
    const good = readFileSync(join(FIXTURES, "charlm_gru.safetensors"));
    const n = Number(new DataView(good.buffer, good.byteOffset).getBigUint64(0, true));
    const damaged: [string, Uint8Array, RegExp][] = [
      ["cut-length.safetensors", good.subarray(0, 5), /shorter than the 8-byte header length/],
      ["cut-header.safetensors", good.subarray(0, 8 + (n >> 1)), /runs past the end/],
      ["cut-data.safetensors", good.subarray(0, good.length - 3), /outside the \d+ data bytes \(truncated\?\)/],
      ["empty.safetensors", new Uint8Array(0), /shorter than the 8-byte/],
      [
        "length.safetensors",
        (() => {
          const b = Uint8Array.from(good);
          b[6] = 0x7f;
          return b;
        })(),
        /exceeds the 104857600-byte limit/,
      ],
      [
        "json.safetensors",
        (() => {
          const b = Uint8Array.from(good);
          b[8] = 0x5b;
          return b;
        })(),
        /header is not valid UTF-8 JSON/,
      ],
      ["dtype.safetensors", Buffer.from(Buffer.from(good).toString("latin1").replace('"dtype":"F32"', '"dtype":"F99"'), "latin1"), /unsupported dtype "F99"/],
      ["text.safetensors", new TextEncoder().encode("this is not a model\n".repeat(20)), /not a valid safetensors file/],
    ];
    for (const [file, bytes] of damaged) writeFileSync(join(dir, file), bytes);
    for (const [file, , message] of damaged) refuses(["import", file, "--out", "x.safetensors"], message, /the file is damaged or not safetensors/);
    refuses(["import", "no-such.safetensors", "--out", "x.safetensors"], /state_dict file no-such\.safetensors does not exist/);
    copyFileSync(join(FIXTURES, "lstm_bidir_l2.safetensors"), join(dir, "bare.safetensors"));
    refuses(["import", "bare.safetensors", "--out", "x.safetensors"], /holds a bare recurrent layer .* not a language model/);
    copyFileSync(join(FIXTURES, "charlm_lstm_tied_wlm.safetensors"), join(dir, "novocab.safetensors"));
    refuses(["import", "novocab.safetensors", "--out", "x.safetensors"], /has no vocabulary .*; pass --vocab with the 18 tokens/);
    refuses(["import", "novocab.safetensors", "--out", "x.safetensors", "--vocab", "abc"], /the vocabulary has 3 tokens but embedding\.weight has 18 rows/);
    refuses(
      ["import", "novocab.safetensors", "--out", "x.safetensors", "--vocab", "fox.txt", "--config", '{"tieWeights":true,"numLayers":3}'],
      /--config says numLayers 3, but the weights .* have 2/,
    );
    refuses(["import", "novocab.safetensors", "--out", "x.safetensors", "--vocab", "fox.txt", "--config", "{nope"], /--config is not valid JSON/);
    refuses(["import", "novocab.safetensors", "--out", "x.safetensors", "--vocab", "missing/vocab.json"], /--vocab missing\/vocab\.json does not exist/);
    copyFileSync(join(FIXTURES, "charlm_rnn_relu_nobias.safetensors"), join(dir, "elman.safetensors"));
    refuses(
      ["import", "elman.safetensors", "--out", "x.safetensors", "--vocab", "fox.txt"],
      /holds an Elman RNN, whose nonlinearity is not in its weights: pass --config/,
    );
    refuses(
      ["import", "elman.safetensors", "--vocab", "fox.txt", "--config", '{"nonlinearity":"relu"}', "--out", "elman.safetensors"],
      /is the input file .*itself/,
    );
  });

  it("export: missing, truncated and corrupted checkpoints, bad formats and unwritable paths", () => {
    const ck = readFileSync(join(dir, "gru", "checkpoint.safetensors"));
    writeFileSync(join(dir, "cut.safetensors"), ck.subarray(0, ck.length - 100));
    writeFileSync(
      join(dir, "flip.safetensors"),
      (() => {
        const b = Uint8Array.from(ck);
        b[3] ^= 0x40;
        return b;
      })(),
    );
    refuses(["export", "--checkpoint", "cut.safetensors", "--out", "x.safetensors"], /checkpoint cut\.safetensors is corrupt or truncated/);
    refuses(
      ["export", "--checkpoint", "flip.safetensors", "--out", "x.safetensors"],
      /checkpoint flip\.safetensors is corrupt or truncated \(header length \d+ exceeds/,
    );
    refuses(["export", "--checkpoint", "nope.safetensors", "--out", "x.safetensors"], /checkpoint nope\.safetensors does not exist/);
    copyFileSync(join(FIXTURES, "charlm_gru.safetensors"), join(dir, "torch.safetensors"));
    refuses(["export", "--checkpoint", "torch.safetensors", "--out", "x.safetensors"], /not an rnnlab checkpoint .*format/);
    refuses(
      ["export", "--checkpoint", "gru/checkpoint.safetensors", "--out", "x.safetensors", "--format", "pickle"],
      /argument 'pickle' is invalid\. expected one of safetensors, onnx/,
    );
    refuses(["export", "--checkpoint", "gru/checkpoint.safetensors", "--out", "x.pt"], /ends neither in \.safetensors nor in \.onnx; give --format/);
    refuses(["export", "--checkpoint", "gru/checkpoint.safetensors", "--out", "no-folder/x.safetensors"], /folder no-folder does not exist/);
    refuses(["export", "--checkpoint", "gru/checkpoint.safetensors", "--out", "gru"], /ends neither|is a folder/);
    refuses(["export", "--checkpoint", "gru/checkpoint.safetensors", "--out", "gru/checkpoint.safetensors"], /is the input file .*itself/);
    refuses(["export", "--checkpoint", "gru/checkpoint.safetensors", "--out", "x.safetensors", "--opset", "15"], /--opset is for --format onnx/);
    refuses(["export", "--checkpoint", "gru/checkpoint.safetensors", "--out", "x.onnx", "--opset", "9"], /opset must be a whole number in \[14, 23\]/);
    if (existsSync("/sys/kernel")) {
      // sysfs takes no new files, even from root
      const r = rnnlab(dir, "export", "--checkpoint", "gru/checkpoint.safetensors", "--out", "/sys/rnnlab-test.safetensors");
      expect(r.status).toBe(2);
      expect(isOneLineError(r.stderr), r.stderr).toBe(true);
      expect(r.stderr).toMatch(/--out \/sys\/rnnlab-test\.safetensors: cannot write in \/sys: .*; choose another place/);
    }
  });
});

// --- the README's Python snippet, run by PyTorch (opt-in: needs /usr/bin/python3 with torch) ----

const PYTHON = process.env.RNNLAB_PYTHON ?? "/usr/bin/python3";
const hasTorch = existsSync(PYTHON) && spawnSync(PYTHON, ["-c", "import torch"], { encoding: "utf8" }).status === 0;
if (!hasTorch)
  console.log(`export-import: skipping the PyTorch snippet check: ${PYTHON} cannot import torch (set RNNLAB_PYTHON to a Python with torch to run it)`);

/** The README's snippet, as it stands there. */
const PYTORCH_SNIPPET = `import json, struct, torch
from torch import nn

def read_safetensors(path):
    """(tensors, metadata) of a .safetensors file, without the safetensors package."""
    with open(path, "rb") as f:
        header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
        data = f.read()
    meta = header.pop("__metadata__", {})
    dtypes = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16, "I32": torch.int32}
    return {k: torch.frombuffer(bytearray(data[v["data_offsets"][0]:v["data_offsets"][1]]), dtype=dtypes[v["dtype"]]).reshape(v["shape"])
            for k, v in header.items()}, meta

class CharLM(nn.Module):
    """Embedding -> RNN/LSTM/GRU -> Linear under rnnlab's names: embedding, rnn, head."""
    def __init__(self, m):
        super().__init__()
        self.embedding = nn.Embedding(m["vocabSize"], m["embedSize"])
        rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[m["cell"]]
        extra = {"nonlinearity": m["nonlinearity"]} if m["cell"] == "rnn" else {}
        self.rnn = rnn(m["embedSize"], m["hiddenSize"], num_layers=m["numLayers"], **extra)
        self.head = nn.Linear(m["hiddenSize"], m["vocabSize"])
        if m["tieWeights"]:
            self.head.weight = self.embedding.weight

    def forward(self, ids, state=None):  # ids (T, B) -> logits (T, B, V), as rnnlab
        y, state = self.rnn(self.embedding(ids), state)
        return self.head(y), state

weights, meta = read_safetensors("model.safetensors")  # from: rnnlab export --checkpoint ... --out model.safetensors
model = CharLM(json.loads(meta["config"])["model"])
model.load_state_dict(weights)  # strict: every name and shape must match
vocab = json.loads(meta["vocab"])
ids = torch.tensor([[vocab.index(c)] for c in "First Citizen:"])  # (T, B = 1)
logits, _ = model(ids)
`;

describe("the docs' PyTorch snippet", () => {
  it("is the one tested here", () => {
    const block = [...readDocs().matchAll(/```python\n([\s\S]*?)```/g)].map((m) => m[1]).find((b) => b.includes("def read_safetensors("));
    expect(block, "the docs' PyTorch loading snippet (def read_safetensors)").toBeDefined();
    expect(block!.trim()).toBe(PYTORCH_SNIPPET.trim());
  });
});

describe.runIf(hasTorch)("the README's PyTorch snippet, run by PyTorch", () => {
  it("loads an export of `rnnlab train --cell gru --hidden 32 --steps 30` and gives rnnlab's logits", () => {
    const tr = rnnlab(dir, "train", "--cell", "gru", "--hidden", "32", "--steps", "30", "--sample-length", "0", "--threads", "1", "--out", "snippet");
    expect(tr.status, tr.stderr).toBe(0);
    const ex = rnnlab(dir, "export", "--checkpoint", "snippet/checkpoint.safetensors", "--out", "model.safetensors");
    expect(ex.status, ex.stderr).toBe(0);
    // the snippet's own input (T = 14, B = 1), and a longer batch of two streams (T = 40, B = 2)
    const harness = String.raw`
text = "First Citizen:\nBefore we proceed any further, hear me speak.\nAll:\nSpeak, speak.\n"
ids2 = torch.tensor([[vocab.index(c) for c in text[:40]], [vocab.index(c) for c in text[40:80]]]).T.contiguous()
flat = lambda t: t.detach().reshape(-1).tolist()
cases = []
for x in (ids, ids2):
    l32 = flat(model.float()(x)[0])
    l64 = flat(model.double()(x)[0])
    cases.append({"T": x.shape[0], "B": x.shape[1], "ids": flat(x), "logits": l32, "logits64": l64})
print(json.dumps(cases))
`;
    writeFileSync(join(dir, "snippet.py"), PYTORCH_SNIPPET + harness);
    const py = spawnSync(PYTHON, ["snippet.py"], { cwd: dir, encoding: "utf8" });
    expect(py.status, py.stderr).toBe(0);
    const cases = JSON.parse(py.stdout) as { T: number; B: number; ids: number[]; logits: number[]; logits64: number[] }[];
    for (const c of cases) {
      const ours = logitsOf(join(dir, "snippet", "checkpoint.safetensors"), Int32Array.from(c.ids), c.T, c.B);
      const d32 = maxRelDiff(ours, c.logits);
      const d64 = maxRelDiff(ours, c.logits64);
      console.log(
        `PyTorch snippet on an rnnlab export (GRU, hidden 32, 30 steps), T = ${c.T}, B = ${c.B}: max |rnnlab - torch| / max(1, |torch|) = ${d32.toExponential(2)} against torch float32, ${d64.toExponential(2)} against torch float64`,
      );
      expect(d32).toBeLessThan(1e-5);
      expect(d64).toBeLessThan(1e-5);
    }
  });
});
