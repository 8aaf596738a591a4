// `rnnlab export --format pytorch-run`: a training run handed to PyTorch as a folder that
// continues it exactly, on one process or under torchrun with DistributedDataParallel, and writes
// rnnlab checkpoints that come back for sample, eval, diagnose, probe and train --resume.
//
// The folder (written whole or not at all: into a temporary folder beside --out, then renamed):
//   model.py, rnnlab_files.py, train.py   the Python (node/pytorch-run-files.ts)
//   requirements.txt                      torch
//   checkpoint.safetensors                the run: weights, optimizer state, carried state, counters
//   tokens.safetensors                    the run's text as token ids (U8, U16 or I32), with its hash
//   vocab.json                            the vocabulary, tokens in id order
//   metrics.jsonl                         the run's history up to the checkpoint (when it has one)
//   README.md                             the three commands, and what continues exactly
// The checkpoint is checked as `rnnlab train --resume` checks it (the whole run is restored once)
// before anything is written, so train.py starts from a run rnnlab itself could continue.

import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { TokenArray } from "../data/corpus.js";
import type { Vocab } from "../data/vocab.js";
import { encodeSafetensors } from "../io/safetensors.js";
import { CELLS } from "../nn/cells.js";
import type { RunConfig, Snapshot } from "../train/run.js";
import { jsonOf, parseRunConfig, parseRunInfo, type RunInfo } from "../train/schema.js";
import { TrainingSession } from "../train/session.js";
import { readCheckpoint, useCheckpoint } from "./checkpoint.js";
import { DEFAULT_CORPUS, loadCorpus } from "./corpus.js";
import { checkOutputFolder, errnoOf, InputError, makeFolder, whyOf, WriteError } from "./files.js";
import { MODEL_PY, RNNLAB_FILES_PY, TRAIN_PY } from "./pytorch-run-files.js";

/** The metadata "format" of the folder's tokens.safetensors. */
export const TOKENS_FORMAT = "rnnlab-tokens/1";

/** What `rnnlab export --format pytorch-run` takes. */
export interface PytorchRunOptions {
  /** A checkpoint.safetensors of rnnlab train (or of a train.py this export wrote). */
  checkpoint: string;
  /** The folder to write: new, or empty. */
  out: string;
  /** The run's text, when it is no longer where the checkpoint says (default: the run's own path). */
  data?: string;
}

/** What was written. */
export interface PytorchRunSummary {
  out: string;
  config: RunConfig;
  step: number;
  /** The files, in the order the README lists them. */
  files: string[];
  bytes: number;
  /** Tokens of the text, and the steps of history in metrics.jsonl. */
  tokens: number;
  history: number;
}

/**
 * Checks, before any work, that `out` is a folder the export may create: a path that does not
 * exist (its nearest existing ancestor a writable folder), or an empty folder. Never over files.
 */
export function checkPytorchRunOut(out: string): void {
  checkOutputFolder(out, { flag: "--out" });
  if (existsSync(out) && readdirSync(out).length > 0)
    throw new InputError(`--out ${out} is a folder with files in it; give a new (or empty) folder: the export never writes over files`);
}

/** The run record of a checkpoint, and why it cannot be continued in PyTorch (an InputError naming the fix). */
function runOf(path: string, snap: Snapshot): { config: RunConfig; info: RunInfo } {
  if (snap.metadata.run === undefined)
    throw new InputError(
      `${path} is not a checkpoint of rnnlab train (it has no "run" record: a model file or an export); --format pytorch-run continues a training run: give its checkpoint.safetensors`,
    );
  const { config, info } = useCheckpoint(path, snap, (s) => ({
    config: parseRunConfig(jsonOf(s.metadata, "config")),
    info: parseRunInfo(jsonOf(s.metadata, "run")),
  }));
  if (config.model.cell === "mlp")
    throw new InputError(
      `${path} holds a feed-forward model (--cell mlp); --format pytorch-run continues recurrent runs (rnn, lstm, gru): export its weights with --format safetensors instead`,
    );
  if (!Object.hasOwn(snap.tensors, "state.h"))
    throw new InputError(
      `${path} holds the weights alone (no optimizer or carried state, as best.safetensors); --format pytorch-run needs the run's checkpoint.safetensors`,
    );
  return { config, info };
}

/** The run's text as rnnlab train --resume finds it: --data, else the path the run recorded (the embedded corpus by its label). */
function textOf(o: PytorchRunOptions, info: RunInfo): { path: string; vocab: Vocab; tokens: TokenArray; hash: number } {
  const path = o.data ?? (info.data.path.startsWith("<embedded") ? DEFAULT_CORPUS : info.data.path);
  const corpus = loadCorpus(path, undefined, {
    tokens: info.data.tokens ?? "chars",
    vocabSize: info.data.vocabSize,
    missing: o.data ? "give the text the run was trained on" : "the run was trained on it: pass that text (or a copy) with --data FILE",
  });
  if (corpus.tokens.length !== info.data.chars || corpus.hash !== info.data.hash) {
    const unit = corpus.vocab.kind === "words" ? "words" : "characters";
    throw new InputError(
      `${path} is not the text the run was trained on (${info.data.chars.toLocaleString("en-US")} ${unit}, hash ${info.data.hash}); pass that text with --data FILE`,
    );
  }
  return corpus;
}

/** The header of tokens.safetensors (ids as U8, U16 or I32, the narrowest the vocabulary needs), padded to 8 bytes. */
function tokensHeader(tokens: TokenArray, metadata: Record<string, string>): Uint8Array {
  const dtype = tokens instanceof Uint8Array ? "U8" : tokens instanceof Uint16Array ? "U16" : "I32";
  const header = { __metadata__: metadata, tokens: { dtype, shape: [tokens.length], data_offsets: [0, tokens.byteLength] } };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8;
  const out = new Uint8Array(8 + json.length + pad).fill(0x20, 8 + json.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length + pad), true);
  out.set(json, 8);
  return out;
}

/** The lines of the run's metrics.jsonl (beside the checkpoint) up to `step`, as --resume keeps them; none when there is no such file. */
function historyOf(checkpoint: string, step: number): string[] {
  const path = join(dirname(checkpoint), "metrics.jsonl");
  if (!existsSync(path)) return [];
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new InputError(`cannot read ${path}: ${whyOf(e)}`);
  }
  return text.split("\n").filter((line) => {
    try {
      const rec = JSON.parse(line) as { step?: unknown };
      return typeof rec.step === "number" && rec.step <= step;
    } catch {
      return false; // a line cut short by a kill
    }
  });
}

/** The folder's README: what it continues, the three commands, the way back, what is exact and what is not. */
export function pytorchRunReadme(config: RunConfig, info: RunInfo, step: number, vocab: Vocab, history: number): string {
  const { model: m, train: t } = config;
  const cell = m.cell === "mlp" ? "mlp" : CELLS[m.cell].pytorch;
  const dropout = (m.dropout ?? 0) > 0 || (m.embeddingDropout ?? 0) > 0 || (m.outputDropout ?? 0) > 0;
  const embedded = info.data.path.startsWith("<embedded");
  const unit = vocab.kind === "words" ? "words and line ends" : "characters";
  const state =
    t.optimizer === "sgd"
      ? "momentum buffers"
      : t.optimizer === "adagrad"
        ? "sums of squares, step count"
        : t.optimizer === "rmsprop"
          ? "averages of squares, momentum buffers, step count"
          : "moments, step count";
  const training = [
    `batch ${t.batch} x ${t.k1} steps, truncated BPTT(${t.k1}, ${t.k2})`,
    `${t.optimizer} lr ${t.lr}${t.momentum ? ` momentum ${t.momentum}` : ""}${t.weightDecay ? ` weight decay ${t.weightDecay}` : ""}`,
    ...(t.schedule && t.schedule.type !== "constant" ? [`schedule ${t.schedule.type}`] : []),
    ...(t.warmup ? [`warm-up ${t.warmup}`] : []),
    ...(t.clipNorm ? [`clip norm ${t.clipNorm}`] : []),
    ...(t.clipValue ? [`clip value ${t.clipValue}`] : []),
  ].join(", ");
  const layers = `${m.numLayers} layer${m.numLayers > 1 ? "s" : ""}`;
  return `# An rnnlab run, continued in PyTorch

This folder continues an rnnlab training run, of ${embedded ? "the embedded tiny Shakespeare" : info.data.path}, from its step ${step}, in
PyTorch: on one process, or on many with DistributedDataParallel under \`torchrun\` (NCCL on GPUs,
Gloo on CPUs), writing rnnlab checkpoints that rnnlab takes back.

- model: ${cell}${m.cell === "rnn" ? ` (${m.nonlinearity})` : ""}, ${layers}, hidden ${m.hiddenSize}, embedding ${m.embedSize}, ${vocab.size.toLocaleString("en-US")} tokens${m.tieWeights ? ", tied weights" : ""}${dropout ? ", dropout" : ""}
- training: ${training}
- validation every ${info.evalEvery} steps, a checkpoint every ${info.saveEvery}

## The three commands

    pip install -r requirements.txt                                # torch (or your platform's build of it)
    python train.py --steps 1000 --out run                         # one process (a CUDA GPU when there is one)
    torchrun --nproc_per_node 2 train.py --steps 1000 --out run    # 2 processes: GPUs with NCCL, else CPU cores with Gloo

\`--steps\` adds steps to the run (here from ${step} to ${step + 1000}); \`--out\` is the folder for
checkpoint.safetensors, best.safetensors and metrics.jsonl, ${history ? `whose metrics.jsonl starts with the run's ${history} lines of history` : "(this run came with no metrics history)"}.
\`--resume\` continues the run in \`--out\` further; \`--device cpu\` keeps it off the GPU. Each process
takes a contiguous share of the ${t.batch} streams, so at most ${t.batch} processes; on several machines, give
torchrun its \`--nnodes\`, \`--node_rank\` and \`--rdzv_endpoint\` as PyTorch's documentation says.
With torch 1.13 under Python 3.11 (Debian 12's python3-torch), torchrun itself stops before it
starts a worker ("'NoneType' object has no attribute 'get'"; fixed in torch 2.0): add
\`--redirects 2 --tee 2\` to its options.

## Back to rnnlab

What train.py writes is an rnnlab checkpoint, and metrics.jsonl runs on without a gap:

    npx rnnlab sample --checkpoint run/checkpoint.safetensors
    npx rnnlab diagnose --checkpoint run/checkpoint.safetensors --out report.html
    npx rnnlab train --out run --resume --steps ${step + 2000}    # rnnlab's --steps counts from the start: 1000 more
${
  embedded
    ? ""
    : `
\`rnnlab train --resume\`, \`diagnose\` and \`eval\` read the run's text from ${info.data.path}, as the run named it
(relative to where \`rnnlab train\` ran); from elsewhere, pass the text as they ask.
`
}
## What continues exactly

The text (tokens.safetensors, its last ${info.data.valFraction} held out for validation), the batching into ${t.batch}
streams and the data position, the window and truncated BPTT(${t.k1}, ${t.k2}) with the carried state and
kept history, the loss, the gradient norm, clipping, the optimizer and its state (${state}),
the learning-rate schedule, non-finite handling (${t.nonFinite}), the evaluation cadence, the best weights, early
stopping, the samples shown at evaluations (rnnlab's own generator), and the step numbering. One
process gives rnnlab's training losses to float32 rounding (PyTorch's kernels add in another
order); N processes give the one-process numbers to float rounding. (Measured on CPUs. On a GPU,
train.py turns TF32 off, so the arithmetic is float32 too, but cuDNN adds in its own order.)

Not reproduced:
${dropout ? "- dropout masks: PyTorch draws them from its own generator (seeded per process), rnnlab hashes a\n  counter; the run continues at the same rates with other masks, statistically, not step for step\n" : ""}- rnnlab train's diagnostics lines (--diagnose-every): run \`rnnlab diagnose\` on a checkpoint instead
- the timing fields of metrics.jsonl (chars_per_s, elapsed_s): this machine's
- a run whose numbers overflow float32: which steps come out non-finite depends on the order of
  additions, so a diverged run (with --on-nonfinite skip) does not skip the same steps

## Files

- model.py: the language model as a torch.nn.Module, with rnnlab's parameter names (embedding, rnn, head)
- train.py: the run (python or torchrun)
- rnnlab_files.py: rnnlab's checkpoints, safetensors and metrics lines from Python, with torch alone
- checkpoint.safetensors: the run at step ${step} (weights, optimizer state, carried state, counters)
- tokens.safetensors: the text as ${info.data.chars.toLocaleString("en-US")} token ids (${unit})
- vocab.json: the vocabulary, tokens in id order
${history ? "- metrics.jsonl: the run's history\n" : ""}- requirements.txt: torch
`;
}

/** Writes one file of the folder: synced, a failure a WriteError naming the export's folder. */
function writeInto(dir: string, out: string, name: string, parts: readonly (Uint8Array | string)[]): number {
  let fd: number | null = null;
  let n = 0;
  try {
    fd = openSync(join(dir, name), "w", 0o644);
    for (const part of parts) {
      const bytes = typeof part === "string" ? new TextEncoder().encode(part) : part;
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      n += bytes.length;
    }
    fsyncSync(fd);
  } catch (e) {
    throw new WriteError(
      out,
      errnoOf(e),
      `cannot write ${join(out, name)}: ${whyOf(e)}; ${errnoOf(e) === "ENOSPC" ? "free some space or " : ""}choose another place`,
    );
  } finally {
    if (fd !== null) closeSync(fd);
  }
  return n;
}

/**
 * Writes the folder that continues the run of `checkpoint` in PyTorch (see the file's header).
 * Everything is checked first; the folder then appears whole (a temporary folder beside it,
 * renamed), or not at all. InputError on a checkpoint that cannot be continued: not a training
 * checkpoint, a feed-forward model, the weights alone, a corrupt run, or a text that is not the run's.
 */
export function exportPytorchRun(o: PytorchRunOptions): PytorchRunSummary {
  checkPytorchRunOut(o.out);
  const snap = readCheckpoint(o.checkpoint);
  const { config, info } = runOf(o.checkpoint, snap);
  const text = textOf(o, info);
  // the whole run, restored as rnnlab train --resume restores it: every tensor and counter checked
  const session = useCheckpoint(o.checkpoint, snap, (s) => TrainingSession.restore(s, { ...text, path: info.data.path }, { threads: 1 }));
  const step = session.steps;
  session.dispose();
  const history = historyOf(o.checkpoint, step);
  const vocab = text.vocab;
  const tokensMeta = { format: TOKENS_FORMAT, tokens: vocab.kind, hash: String(text.hash), path: info.data.path };
  const files: [string, (Uint8Array | string)[]][] = [
    ["README.md", [pytorchRunReadme(config, info, step, vocab, history.length)]],
    ["requirements.txt", ["torch>=1.13\n"]],
    ["model.py", [MODEL_PY]],
    ["train.py", [TRAIN_PY]],
    ["rnnlab_files.py", [RNNLAB_FILES_PY]],
    ["checkpoint.safetensors", [encodeSafetensors(snap.tensors, snap.metadata)]],
    ["tokens.safetensors", [tokensHeader(text.tokens, tokensMeta), new Uint8Array(text.tokens.buffer, text.tokens.byteOffset, text.tokens.byteLength)]],
    ["vocab.json", [`${JSON.stringify({ kind: vocab.kind, tokens: vocab.tokens }, null, 1)}\n`]],
    ...(history.length ? [["metrics.jsonl", history.map((l) => `${l}\n`)] as [string, string[]]] : []),
  ];
  // the folder whole or not at all: written beside its place, then renamed into it
  makeFolder(dirname(o.out));
  const tmp = join(dirname(o.out), `.${basename(o.out)}.tmp-${process.pid}`);
  let bytes = 0;
  try {
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    for (const [name, parts] of files) bytes += writeInto(tmp, o.out, name, parts);
    if (existsSync(o.out)) rmdirSync(o.out); // empty (checked): the rename takes its place
    renameSync(tmp, o.out);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (e instanceof WriteError) throw e;
    throw new WriteError(o.out, errnoOf(e), `cannot write ${o.out}: ${whyOf(e)}; choose another place`);
  }
  return { out: o.out, config, step, files: files.map(([name]) => name), bytes, tokens: text.tokens.length, history: history.length };
}
