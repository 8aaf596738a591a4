// `rnnlab train [FILE]`: a character-level language model from the command line. Wires the
// library's TrainingRun to files (checkpoints, metrics), progress output and signals; no numerics.

import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, relative } from "node:path";
import { Command } from "commander";
import type { TokenArray } from "../data/corpus.js";
import { DEFAULT_CORPUS, loadCorpus, type Corpus } from "../node/corpus.js";
import { readCheckpoint, useCheckpoint, writeCheckpoint } from "../node/checkpoint.js";
import {
  Appender, checkOutputFolder, InputError, lockFolder, makeFolder, removeStaleTemps, sameFile, writeFileAtomic, WriteError,
} from "../node/files.js";
import { checkThreads } from "../train/memory.js";
import { checkFinite, checkRunInfo, parseRunConfig, parseRunInfo, type RunInfo } from "../train/schema.js";
import { nodeSpawn } from "../node/threads.js";
import { defaultKernels } from "../tensor/select.js";
import { NonFiniteError } from "../train/trainer.js";
import { clipSummary, diagnose, ExplosionWatch } from "../analysis/gradflow.js";
import { probeBatch } from "../data/batches.js";
import { encodeSafetensors } from "../io/safetensors.js";
import { CheckpointError, TrainingRun, type RunConfig, type Snapshot } from "../train/run.js";
import { OPTIMIZER_NAMES, OPTIMIZERS, type OptimizerName } from "../train/optim.js";
import { CELL_NAMES, CELLS, type CellName } from "../nn/cells.js";
import { choiceArg, f32Arg, fmtDuration, fmtInt, intArg, numArg, tbpttArg } from "./options.js";
import { createProgress } from "./progress.js";
import { say, warn } from "./output.js";

const LN2 = Math.log(2);
/** Validation reads at most this many characters (the whole of tiny Shakespeare's 111,540). */
const MAX_VAL_TOKENS = 1_000_000;
const DEFAULT_STEPS = 3000;
const EMBEDDED = "<embedded tinyshakespeare.txt>";
/** Temperature of the samples shown while training, as `rnnlab sample`'s default. */
const SAMPLE_TEMPERATURE = 0.8;

interface TrainOpts {
  cell: CellName;
  dropout: number;
  init: "default" | "orthogonal" | "identity";
  forgetBias?: number;
  hidden: number;
  layers: number;
  embed: number;
  nonlinearity: "tanh" | "relu";
  tieWeights: boolean;
  seq: number;
  tbptt?: [number, number];
  batch: number;
  optimizer: OptimizerName;
  lr?: number;
  momentum: number;
  weightDecay: number;
  clip: number;
  clipValue: number;
  onNonfinite: "stop" | "skip";
  steps?: number;
  epochs?: number;
  time?: number;
  evalEvery: number;
  saveEvery?: number;
  sampleLength: number;
  valFraction: number;
  seed: number;
  out?: string;
  resume: boolean;
  threads?: number;
  tokens: "chars" | "words";
  vocabSize: number;
  diagnoseEvery: number;
  diagnoseRows: number;
  explodeFactor: number;
}


export function trainCommand(): Command {
  return new Command("train")
    .description("train a character-level language model (default text: the embedded tiny Shakespeare)")
    .argument("[file]", "UTF-8 text file to learn from")
    .option("--cell <type>", `recurrent cell: ${CELL_NAMES.map((c) => `${c} (${CELLS[c].title})`).join(", ")}`, choiceArg(CELL_NAMES), "lstm")
    .option("--hidden <n>", "hidden units per layer", intArg(1), 256)
    .option("--layers <n>", "stacked recurrent layers", intArg(1), 1)
    .option("--embed <n>", "embedding size", intArg(1), 64)
    .option("--nonlinearity <f>", "Elman activation", choiceArg(["tanh", "relu"] as const), "tanh")
    .option("--dropout <p>", "dropout between recurrent layers while training", numArg(0, 0.99), 0)
    .option("--init <scheme>", "recurrent weights: default (uniform), orthogonal, or identity (IRNN, for --nonlinearity relu)", choiceArg(["default", "orthogonal", "identity"] as const), "default")
    .option("--forget-bias <x>", "LSTM forget-gate bias at initialisation (default: PyTorch's uniform)", f32Arg(-Infinity, false))
    .option("--tie-weights", "use the embedding as the output layer's weight (needs --embed = --hidden)", false)
    .option("--seq <n>", "steps per window: truncated BPTT(n, n)", intArg(1), 64)
    .option("--tbptt <k1,k2>", "truncated BPTT: update every k1 steps, backpropagate through k2 >= k1 (overrides --seq)", tbpttArg)
    .option("--batch <n>", "parallel streams per batch", intArg(1), 32)
    .option("--optimizer <name>", OPTIMIZER_NAMES.join(", "), choiceArg(OPTIMIZER_NAMES), "adam")
    .option("--lr <x>", `learning rate (default: ${OPTIMIZER_NAMES.map((n) => `${OPTIMIZERS[n].defaultLr} ${n}`).join(", ")})`, f32Arg(0))
    .option("--momentum <x>", "momentum for sgd and rmsprop", numArg(0, 1), 0)
    .option("--weight-decay <x>", "weight decay (L2; decoupled for adamw)", f32Arg(0, false), 0)
    .option("--clip <x>", "clip the global gradient norm to x (0: off)", f32Arg(0, false), 5)
    .option("--clip-value <x>", "clamp each gradient element to [-x, x] (0: off)", f32Arg(0, false), 0)
    .option("--on-nonfinite <policy>", "on a NaN/infinite loss, gradient or update: stop, or skip the update (the weights stay as they were)", choiceArg(["stop", "skip"] as const), "stop")
    .option("--steps <n>", `training steps (default ${DEFAULT_STEPS} when no length is given)`, intArg(1))
    .option("--epochs <n>", "passes over the training text", numArg(0, Infinity, true))
    .option("--time <minutes>", "stop after this many minutes of training", numArg(0, Infinity, true))
    .option("--eval-every <n>", "validate, print and sample every n steps", intArg(1), 500)
    .option("--save-every <n>", "write the checkpoint every n steps (default: --eval-every)", intArg(1))
    .option("--sample-length <n>", "characters of the sample shown at each evaluation (0: none)", intArg(0), 200)
    .option("--val-fraction <x>", "share of the text, from its end, held out for validation", numArg(0, 0.9), 0.1)
    .option("--seed <n>", "seed of the initial weights and of the samples", intArg(0), 1)
    .option("--out <dir>", "run folder (default: runs/run-<date>-<time>)")
    .option("--resume", "continue the run in --out exactly where its checkpoint left off", false)
    .option("--threads <n>", "threads splitting each batch's rows, at most the batch and 32 (default: all cores)", intArg(1))
    .option("--tokens <unit>", "chars, or words (split at whitespace, <eos> ending each line, as PyTorch's word_language_model)", choiceArg(["chars", "words"] as const), "chars")
    .option("--vocab-size <n>", "words: keep the most frequent, up to n tokens with <unk> and <eos>", intArg(3), 10000)
    .option("--diagnose-every <n>", "every n steps: gradient flow against the time lag, W_hh spectra and clipping statistics into metrics.jsonl, weights into DIR/trajectory (0: off)", intArg(0), 0)
    .option("--diagnose-rows <n>", "validation windows the diagnostics run on", intArg(1), 8)
    .option("--explode-factor <x>", "warn when the gradient norm jumps above x times its recent median", numArg(1, Infinity, true), 10)
    .action(async (file: string | undefined, opts: TrainOpts, cmd: Command) => {
      process.exitCode = await train(file, opts, (name) => cmd.getOptionValueSource(name) === "cli");
    });
}

function timestamp(): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

function split(corpus: Corpus, valFraction: number): { train: TokenArray; val: TokenArray | null } {
  const n = corpus.tokens.length;
  const nTrain = Math.floor(n * (1 - valFraction));
  return { train: corpus.tokens.subarray(0, nTrain) as TokenArray, val: valFraction > 0 ? (corpus.tokens.subarray(nTrain) as TokenArray) : null };
}

function checkSizes(what: string, train: TokenArray, val: TokenArray | null, B: number, T: number, unit: string): void {
  const need = B * T + 1;
  if (train.length < need) {
    throw new InputError(`${what} leaves ${fmtInt(train.length)} ${unit} for training, fewer than one batch needs (batch ${B} x ${T} steps + 1 = ${fmtInt(need)}); use a longer text or a smaller --batch or --seq`);
  }
  if (val && val.length < need) {
    throw new InputError(`${what} leaves ${fmtInt(val.length)} ${unit} for validation, fewer than one batch needs (${fmtInt(need)}); raise --val-fraction, lower --batch or --seq, or use --val-fraction 0`);
  }
}

/** The files of a run folder: a fresh run writes none of them where they exist. */
const RUN_FILES = ["checkpoint.safetensors", "best.safetensors", "metrics.jsonl", "trajectory"];

/** Threads to use: as given (checked against the batch and the maximum), else all cores up to the batch. */
function threadsFor(o: TrainOpts, batch: number): number {
  if (o.threads === undefined) return Math.max(1, Math.min(availableParallelism(), batch, 32));
  checkThreads(o.threads, batch);
  return o.threads;
}

/** Options a resumed run may change; every other one must match the checkpoint. */
const MAY_CHANGE = new Set(["steps", "epochs", "time", "evalEvery", "saveEvery", "sampleLength", "resume", "out", "threads", "diagnoseEvery", "diagnoseRows", "explodeFactor"]);
const FLAG: Record<string, string> = {
  tieWeights: "--tie-weights", weightDecay: "--weight-decay", vocabSize: "--vocab-size", clipValue: "--clip-value", onNonfinite: "--on-nonfinite", valFraction: "--val-fraction",
};

function settingsOf(config: RunConfig, info: RunInfo): Record<string, unknown> {
  const { model: m, train: t } = config;
  return {
    cell: m.cell, hidden: m.hiddenSize, layers: m.numLayers, embed: m.embedSize, nonlinearity: m.nonlinearity, tieWeights: m.tieWeights,
    dropout: m.dropout ?? 0, init: m.init ?? "default", forgetBias: m.forgetBias,
    seq: t.k1 === t.k2 ? t.k1 : undefined, tbptt: [t.k1, t.k2], batch: t.batch, optimizer: t.optimizer, lr: t.lr, momentum: t.momentum,
    weightDecay: t.weightDecay, clip: t.clipNorm ?? 0, clipValue: t.clipValue ?? 0, onNonfinite: t.nonFinite, seed: t.seed,
    valFraction: info.data.valFraction, tokens: info.data.tokens ?? "chars", ...(info.data.vocabSize !== undefined ? { vocabSize: info.data.vocabSize } : {}),
  };
}

function configOf(o: TrainOpts, vocabSize: number): RunConfig {
  const [k1, k2] = o.tbptt ?? [o.seq, o.seq];
  if (o.tieWeights && o.embed !== o.hidden) throw new InputError(`--tie-weights needs --embed equal to --hidden (got ${o.embed} and ${o.hidden})`);
  if (o.forgetBias !== undefined && o.cell !== "lstm") throw new InputError("--forget-bias is for --cell lstm");
  if (o.dropout > 0 && o.layers < 2) {
    warn("rnnlab: warning: --dropout acts between recurrent layers (as PyTorch's), so with --layers 1 it does nothing\n");
  }
  if (o.init === "identity" && o.cell !== "rnn") throw new InputError("--init identity (IRNN) is for --cell rnn (with --nonlinearity relu)");
  if (o.momentum > 0 && !OPTIMIZERS[o.optimizer].momentum) {
    throw new InputError(`--momentum is for --optimizer ${OPTIMIZER_NAMES.filter((n) => OPTIMIZERS[n].momentum).join(" and ")}; ${o.optimizer} has no momentum setting`);
  }
  return {
    model: {
      cell: o.cell, vocabSize, embedSize: o.embed, hiddenSize: o.hidden, numLayers: o.layers, nonlinearity: o.nonlinearity, tieWeights: o.tieWeights,
      dropout: o.dropout, init: o.init, forgetBias: o.forgetBias,
    },
    train: {
      batch: o.batch, k1, k2, optimizer: o.optimizer, lr: o.lr ?? OPTIMIZERS[o.optimizer].defaultLr, momentum: o.momentum, weightDecay: o.weightDecay,
      clipNorm: o.clip > 0 ? o.clip : null, clipValue: o.clipValue > 0 ? o.clipValue : null, nonFinite: o.onNonfinite, seed: o.seed,
    },
  };
}

function targetOf(o: TrainOpts, stepsPerEpoch: number, fallback: number | null): number | null {
  const t: number[] = [];
  if (o.steps !== undefined) t.push(o.steps);
  if (o.epochs !== undefined) t.push(Math.max(1, Math.round(o.epochs * stepsPerEpoch)));
  if (t.length) return Math.min(...t);
  if (o.time !== undefined) return null;
  return fallback;
}

/**
 * Rewrites metrics.jsonl keeping only the lines of steps up to `step` (a resumed run writes the
 * rest again); returns the pre-clip gradient norms of the steps kept, for the clipping statistics.
 */
function truncateMetrics(path: string, step: number): number[] {
  if (!existsSync(path)) return [];
  const norms: number[] = [];
  const keep = readFileSync(path, "utf8").split("\n").filter((line) => {
    try {
      const rec = JSON.parse(line) as { step: number; kind?: string; grad_norm?: number };
      if (rec.step > step) return false;
      if (rec.kind === undefined && typeof rec.grad_norm === "number") norms.push(rec.grad_norm);
      return true;
    } catch {
      return false; // a line cut short by a kill
    }
  });
  writeFileAtomic(path, keep.map((l) => `${l}\n`).join(""));
  return norms;
}

async function train(file: string | undefined, o: TrainOpts, given: (name: string) => boolean): Promise<number> {
  let run: TrainingRun;
  let info: RunInfo;
  let corpus: Corpus;
  let out: string;
  let norms: number[] = [];
  let release: () => void;
  if (o.resume) {
    if (!given("out")) throw new InputError("--resume needs --out DIR, the folder of the run to continue");
    out = o.out!;
    const ckPath = join(out, "checkpoint.safetensors");
    checkOutputFolder(out, { flag: "--out" });
    checkRunFolder(out);
    if (!existsSync(ckPath)) throw new InputError(`${out} holds no checkpoint.safetensors to resume; start a new run without --resume`);
    const snap = readCheckpoint(ckPath);
    const { config, runInfo } = useCheckpoint(ckPath, snap, (s) => {
      if (s.metadata.run === undefined) throw new CheckpointError("it is not a training checkpoint of rnnlab train (no \"run\" metadata): rnnlab sample and eval take it, --resume does not");
      let raw: unknown;
      try {
        raw = JSON.parse(s.metadata.run);
      } catch {
        throw new CheckpointError("metadata \"run\" is not valid JSON");
      }
      let cfg: unknown;
      try {
        cfg = JSON.parse(s.metadata.config ?? "");
      } catch {
        throw new CheckpointError("metadata \"config\" is missing or not valid JSON");
      }
      const runInfo = parseRunInfo(raw);
      checkRunInfo(runInfo, Number(s.metadata.step));
      return { config: parseRunConfig(cfg), runInfo };
    });
    const saved = settingsOf(config, runInfo);
    for (const [key, value] of Object.entries(o)) {
      if (MAY_CHANGE.has(key) || !given(key) || !(key in saved)) continue;
      if (JSON.stringify(value) !== JSON.stringify(saved[key])) {
        const flag = FLAG[key] ?? `--${key}`;
        throw new InputError(
          `${flag} ${JSON.stringify(value)} does not match the run in ${out} (trained with ${JSON.stringify(saved[key])}); ` +
            "a resumed run keeps its settings: only --steps, --epochs, --time, --eval-every, --save-every and --sample-length may change",
        );
      }
    }
    const threads = threadsFor(o, config.train.batch);
    const dataPath = file ?? (runInfo.data.path === EMBEDDED ? DEFAULT_CORPUS : runInfo.data.path);
    checkNotRunFile(dataPath, out);
    corpus = loadCorpus(dataPath, undefined, {
      tokens: runInfo.data.tokens ?? "chars", vocabSize: runInfo.data.vocabSize,
      missing: file ? "give the text the run was trained on" : `the run was trained on it: pass that text (or a copy) as FILE`,
    });
    if (corpus.tokens.length !== runInfo.data.chars || corpus.hash !== runInfo.data.hash) {
      throw new InputError(`${dataPath} is not the text the run in ${out} was trained on (${fmtInt(runInfo.data.chars)} ${corpus.vocab.kind === "words" ? "words" : "characters"}, hash ${runInfo.data.hash}); pass the same file`);
    }
    const parts = split(corpus, runInfo.data.valFraction);
    run = useCheckpoint(ckPath, snap, (s) => TrainingRun.restore(s, parts.train, parts.val, { threads, spawn: nodeSpawn, vocab: corpus.vocab }));
    try {
      const target = targetOf(o, run.stepsPerEpoch, runInfo.targetSteps);
      info = {
        ...runInfo,
        targetSteps: target,
        evalEvery: given("evalEvery") ? o.evalEvery : runInfo.evalEvery,
        saveEvery: given("saveEvery") ? o.saveEvery! : given("evalEvery") ? o.evalEvery : runInfo.saveEvery,
        sampleLength: given("sampleLength") ? o.sampleLength : runInfo.sampleLength,
        finished: false,
        diagnose: {
          every: given("diagnoseEvery") ? o.diagnoseEvery : (runInfo.diagnose?.every ?? o.diagnoseEvery),
          rows: given("diagnoseRows") ? o.diagnoseRows : (runInfo.diagnose?.rows ?? o.diagnoseRows),
          explodeFactor: given("explodeFactor") ? o.explodeFactor : (runInfo.diagnose?.explodeFactor ?? o.explodeFactor),
        },
      };
      if (target !== null && run.steps >= target) {
        throw new InputError(`the run in ${out} already finished at step ${run.steps} of ${target}; pass a larger --steps (or --epochs) to train further`);
      }
      release = lockFolder(out);
    } catch (e) {
      run.dispose();
      throw e;
    }
    try {
      removeStaleTemps(out);
      removeStaleTemps(join(out, "trajectory"));
      norms = truncateMetrics(join(out, "metrics.jsonl"), run.steps);
    } catch (e) {
      run.dispose();
      release();
      throw e;
    }
  } else {
    out = o.out ?? join("runs", `run-${timestamp()}`);
    checkOutputFolder(out, { flag: "--out" });
    // an empty metrics.jsonl (a run killed at its start) holds nothing to lose
    const earlier = existsSync(out) ? RUN_FILES.filter((f) => existsSync(join(out, f)) && !(f === "metrics.jsonl" && statSync(join(out, f)).size === 0)) : [];
    if (earlier.includes("checkpoint.safetensors")) {
      throw new InputError(`${out} already holds a run; continue it with --resume, or choose another --out`);
    }
    if (earlier.length) {
      throw new InputError(`${out} already holds files of an earlier run (${earlier.join(", ")}) but no checkpoint to resume; choose another --out, or remove them first`);
    }
    const dataPath = file ?? DEFAULT_CORPUS;
    if (given("vocabSize") && o.tokens !== "words") throw new InputError("--vocab-size caps a word vocabulary; add --tokens words");
    corpus = loadCorpus(dataPath, undefined, { tokens: o.tokens, vocabSize: o.vocabSize, missing: "give the path of a text file (or none, for the embedded Shakespeare)" });
    const config = configOf(o, corpus.vocab.size);
    const threads = threadsFor(o, config.train.batch);
    const parts = split(corpus, o.valFraction);
    checkSizes(file ?? "the embedded text", parts.train, parts.val, config.train.batch, config.train.k2, corpus.vocab.kind === "words" ? "words" : "characters");
    run = new TrainingRun(config, corpus.vocab, parts.train, parts.val, { threads, spawn: nodeSpawn });
    info = {
      data: { path: file ?? EMBEDDED, chars: corpus.tokens.length, hash: corpus.hash, valFraction: o.valFraction, tokens: o.tokens, vocabSize: o.tokens === "words" ? o.vocabSize : undefined },
      targetSteps: targetOf(o, run.stepsPerEpoch, DEFAULT_STEPS),
      evalEvery: o.evalEvery,
      saveEvery: o.saveEvery ?? o.evalEvery,
      sampleLength: o.sampleLength,
      bestVal: null,
      bestStep: null,
      finished: false,
      diagnose: { every: o.diagnoseEvery, rows: o.diagnoseRows, explodeFactor: o.explodeFactor },
    };
    try {
      makeFolder(out);
      release = lockFolder(out);
    } catch (e) {
      run.dispose();
      throw e;
    }
    removeStaleTemps(out);
  }
  try {
    return await trainLoop(run, info, corpus, out, o, norms);
  } finally {
    run.dispose();
    release();
  }
}

/** The run folder's files are what they should be (files, and a trajectory folder): checked before any training. */
function checkRunFolder(out: string): void {
  for (const f of RUN_FILES) {
    const st = lstatSync(join(out, f), { throwIfNoEntry: false });
    if (!st) continue;
    const folder = f === "trajectory";
    if (folder ? !st.isDirectory() : !st.isFile()) {
      throw new InputError(`${join(out, f)} is not a ${folder ? "folder" : "regular file"}, so the run cannot write it; move it away, or choose another --out`);
    }
  }
}

/** A resumed run rewrites its folder's files: the text it reads must be none of them. */
function checkNotRunFile(path: string, out: string): void {
  const inRun = [...RUN_FILES.map((f) => join(out, f))];
  const traj = join(out, "trajectory");
  if (existsSync(traj)) {
    try {
      for (const f of readdirSync(traj)) inRun.push(join(traj, f));
    } catch {
      // unreadable: nothing of it is rewritten either
    }
  }
  for (const f of inRun) {
    if (existsSync(f) && existsSync(path) && sameFile(path, f)) throw new InputError(`the text ${path} is ${f}, a file of the run itself; pass the text the run was trained on`);
  }
}

async function trainLoop(run: TrainingRun, info: RunInfo, corpus: Corpus, out: string, o: TrainOpts, norms: number[]): Promise<number> {
  const { config } = run;
  const { model: m, train: t } = config;
  const tty = Boolean(process.stdout.isTTY);
  const progress = createProgress(tty);
  const ckPath = join(out, "checkpoint.safetensors");
  const bestPath = join(out, "best.safetensors");
  const metricsPath = join(out, "metrics.jsonl");
  const charsPerStep = t.batch * t.k1;
  // characters: loss in nats and bits per character; words: nats and perplexity
  const words = corpus.vocab.kind === "words";
  const unit = words ? "word" : "char";
  const second = (loss: number) => (words ? `ppl ${Math.exp(loss).toFixed(1)}` : `${(loss / LN2).toFixed(3)} bpc`);
  const nTrain = run.trainTokens.length;
  const nVal = run.valTokens?.length ?? 0;

  const dataName = info.data.path === EMBEDDED ? "tiny Shakespeare (embedded)" : info.data.path;
  progress.line(
    words
      ? `rnnlab train: ${dataName}, ${fmtInt(corpus.tokens.length)} words and line ends (${fmtInt(nTrain)} train, ${fmtInt(nVal)} validation), vocabulary ${fmtInt(corpus.vocab.size)} with <unk> and <eos>`
      : `rnnlab train: ${dataName}, ${fmtInt(corpus.tokens.length)} characters (${fmtInt(nTrain)} train, ${fmtInt(nVal)} validation), ${corpus.vocab.size} distinct`,
  );
  progress.line(
    `model: ${m.cell === "rnn" ? `rnn (${m.nonlinearity})` : m.cell}, ${m.numLayers} layer${m.numLayers > 1 ? "s" : ""}, hidden ${m.hiddenSize}, embedding ${m.embedSize}` +
      `${m.tieWeights ? ", tied" : ""}${m.dropout ? `, dropout ${m.dropout}` : ""}${m.init && m.init !== "default" ? `, ${m.init} init` : ""}` +
      `${m.forgetBias !== undefined ? `, forget bias ${m.forgetBias}` : ""}, ${fmtInt(run.model.store.size)} parameters`,
  );
  progress.line(
    `training: batch ${t.batch} x ${t.k1} steps, truncated BPTT(${t.k1}, ${t.k2}), ${t.optimizer} lr ${t.lr}` +
      `${t.clipNorm ? `, clip norm ${t.clipNorm}` : ""}${t.clipValue ? `, clip value ${t.clipValue}` : ""}` +
      `, ${info.targetSteps ?? "?"} steps${o.time ? ` or ${o.time} min` : ""} (${run.stepsPerEpoch} per pass over the text)`,
  );
  progress.line(`compute: ${defaultKernels().name} kernels, ${run.threads} thread${run.threads > 1 ? "s" : ""}`);
  progress.line(`run folder: ${out}${run.steps > 0 ? ` (resuming at step ${run.steps})` : ""}`);

  const metrics = new Appender(metricsPath);
  const writeMetrics = (rec: Record<string, unknown>) => metrics.write(`${JSON.stringify(rec)}\n`);
  // the step of the checkpoint on disk (null: this run has saved none yet)
  let savedStep: number | null = run.steps > 0 ? run.steps : null;
  const save = (finished: boolean) => {
    info.finished = finished;
    writeCheckpoint(ckPath, run.snapshot({ run: JSON.stringify(info) }));
    savedStep = run.steps;
  };
  const saveBest = (val: number) => {
    const snap: Snapshot = run.snapshot({ run: JSON.stringify(info), val_loss: String(val) });
    const names = new Set(run.model.store.params.map((p) => p.name));
    snap.tensors = Object.fromEntries(Object.entries(snap.tensors).filter(([k]) => names.has(k)));
    writeCheckpoint(bestPath, snap);
  };
  const intact = () => savedStep === null
    ? `no checkpoint was saved (the first was due at step ${Math.min(info.saveEvery, info.evalEvery)})`
    : `the checkpoint of step ${savedStep} in ${out} is intact`;

  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130); // a second Ctrl-C: the last checkpoint on disk is whole
    interrupted = true;
  };
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigint); // a polite kill saves the checkpoint as Ctrl-C does

  const t0 = performance.now();
  let trainSeconds = 0;
  // the last RECENT step times, for chars/s and the ETA
  const RECENT = 50;
  const recent = new Float64Array(RECENT);
  let recentSum = 0;
  let recentN = 0;
  let last = { loss: NaN, grad: NaN };
  let lastVal = null as number | null;
  let lastSkipLine = -Infinity;
  const target = info.targetSteps;
  const timeLimit = o.time !== undefined ? o.time * 60 : Infinity;
  const perStep = () => (recentN > 0 ? recentSum / Math.min(recentN, RECENT) : NaN);
  const speed = () => (recentN > 0 ? charsPerStep / perStep() : 0);
  const eta = () => Math.min(target !== null ? (target - run.steps) * perStep() : Infinity, timeLimit - trainSeconds);
  const clippedShare = () => `${((100 * run.trainer.stats.clipped) / Math.max(1, run.steps)).toFixed(1)}%`;
  const totalForBar = () => target ?? Math.max(run.steps + 1, Math.round(run.steps + (timeLimit - trainSeconds) / perStep()));

  // diagnostics: a fixed probe batch from the validation text (else the training text)
  const diag = info.diagnose ?? { every: 0, rows: 8, explodeFactor: 10 };
  const watch = new ExplosionWatch(diag.explodeFactor);
  let lastWarned = -Infinity;
  const probe = diag.every > 0 ? probeBatch(run.valTokens && run.valTokens.length > t.k1 ? run.valTokens : run.trainTokens, diag.rows, t.k1) : null;
  const trajectoryDir = join(out, "trajectory");
  const runDiagnostics = () => {
    const rec = diagnose(run.model, probe!.inputs, probe!.targets, t.k1, { step: run.steps, clip: clipSummary(norms, t.clipNorm) });
    writeMetrics(rec as unknown as Record<string, unknown>);
    // the weights, for the loss surface's trajectory (rnnlab surface --checkpoint)
    makeFolder(trajectoryDir);
    const names = run.model.store.params;
    for (const p of names) checkFinite(p.name, p.value, "refusing to save non-finite numbers");
    const tensors = Object.fromEntries(names.map((p) => [p.name, { shape: [...p.shape], data: p.value as Float32Array }]));
    writeFileAtomic(join(trajectoryDir, `step-${String(run.steps).padStart(8, "0")}.safetensors`), encodeSafetensors(tensors, { step: String(run.steps) }));
    const top = rec.layers[rec.layers.length - 1];
    const g = top.gradByLag;
    const sig = rec.spectra.reduce((mx, s) => (s.sigmaMax > mx.sigmaMax ? s : mx), rec.spectra[0]);
    progress.line(
      `diagnostics at step ${run.steps}: |dE_${rec.target}/dh| at lag ${g.length - 1} is ${(g[g.length - 1] / g[0]).toExponential(1)} of lag 0` +
        (sig ? `; sigma_max(W_hh${sig.block === "hh" ? "" : ` ${sig.block}`}) ${sig.sigmaMax.toFixed(2)} ${sig.sigmaMax < sig.bound ? "<" : ">"} 1/gamma = ${sig.bound} (${sig.regime})` : "") +
        (rec.clip ? `; grad norm mean ${rec.clip.mean.toPrecision(3)}, suggested clip ${rec.clip.suggested.pick.toPrecision(3)}` : ""),
    );
    for (const w of rec.warnings) progress.line(`warning: ${w}`);
  };

  const evaluate = () => {
    const val = run.validate(MAX_VAL_TOKENS);
    lastVal = val;
    const sample = info.sampleLength > 0 ? run.sample(info.sampleLength, { temperature: SAMPLE_TEMPERATURE }) : "";
    if (val !== null && Number.isFinite(val) && (info.bestVal === null || val < info.bestVal)) {
      info.bestVal = val;
      info.bestStep = run.steps;
      saveBest(val);
    }
    const valText = val === null ? "no validation" : `val ${val.toFixed(3)} nats (${second(val)})`;
    progress.line(
      `step ${run.steps}/${target ?? "?"}  train ${last.loss.toFixed(3)} nats (${second(last.loss)})  ${valText}  ` +
        `grad ${last.grad.toFixed(2)}  clipped ${clippedShare()}  ` +
        `${fmtInt(Math.round(speed()))} ${unit}s/s  ETA ${fmtDuration(eta())}`,
    );
    if (sample) progress.line(`--- sample ---\n${sample}\n---`);
    return val;
  };

  try {
    while ((target === null || run.steps < target) && trainSeconds < timeLimit && !interrupted) {
      const s0 = performance.now();
      const r = run.step();
      const dt = (performance.now() - s0) / 1000;
      trainSeconds += dt;
      recentSum += dt - recent[recentN % RECENT];
      recent[recentN++ % RECENT] = dt;
      last = { loss: r.loss, grad: r.gradNorm };
      const rec: Record<string, unknown> = {
        step: r.step, epoch: run.batcher.epoch, loss: r.loss, ...(words ? { ppl: Math.exp(r.loss) } : { bpc: r.loss / LN2 }), grad_norm: r.gradNorm, clipped: r.clipped, skipped: r.skipped,
        lr: run.optimizer.lr, chars_per_s: Math.round(charsPerStep / dt), elapsed_s: +(trainSeconds).toFixed(3),
      };
      if (r.skipped && r.step - lastSkipLine >= 100) {
        // one line per 100 steps at most: a diverged run under --on-nonfinite skip skips every step
        const n = run.trainer.stats.skipped;
        progress.line(`step ${r.step}: skipped the update (loss ${r.loss}, gradient norm ${r.gradNorm}); ${fmtInt(n)} skipped so far, the weights stay as they were`);
        lastSkipLine = r.step;
      }
      norms.push(r.gradNorm);
      const jump = watch.observe(r.step, r.gradNorm);
      if (jump) {
        rec.warning = jump;
        if (r.step - lastWarned >= 100) {
          progress.line(`warning: ${jump}${t.clipNorm ? ` (clipped to ${t.clipNorm})` : "; consider --clip"}`);
          lastWarned = r.step;
        }
      }
      const done = (target !== null && run.steps >= target) || trainSeconds >= timeLimit;
      if (run.steps % info.evalEvery === 0 || done) {
        const val = evaluate();
        if (val !== null) Object.assign(rec, words ? { val_loss: val, val_ppl: Math.exp(val) } : { val_loss: val, val_bpc: val / LN2 });
      }
      writeMetrics(rec);
      if (probe && (run.steps % diag.every === 0 || done)) runDiagnostics();
      if (run.steps % info.saveEvery === 0 && !done) save(false);
      progress.update(run.steps, totalForBar(), {
        loss: last.loss.toFixed(3), bpc: second(last.loss), val: lastVal === null ? "-" : (lastVal as number).toFixed(3), grad: last.grad.toFixed(2),
        clip: clippedShare(), speed: fmtInt(Math.round(speed())), eta: fmtDuration(eta()),
      });
      await new Promise((resolve) => setImmediate(resolve)); // let signals and the progress bar in
    }
    const finished = target !== null && run.steps >= target;
    if (run.steps !== savedStep || finished) save(finished);
  } catch (e) {
    progress.stop();
    metrics.close();
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigint);
    if (e instanceof NonFiniteError) {
      warn(`rnnlab: ${e.message}; ${intact()}\n`);
      return 1;
    }
    if (e instanceof WriteError) throw new WriteError(e.path, e.code, `${e.message}; ${intact()}${savedStep !== null ? ` (continue it with --resume)` : ""}`);
    if (e instanceof CheckpointError) throw new CheckpointError(`${e.message}; ${intact()}`);
    throw e;
  }
  progress.stop();
  metrics.close();
  process.off("SIGINT", onSigint);
  process.off("SIGTERM", onSigint);
  const wall = (performance.now() - t0) / 1000;
  const rel = relative(process.cwd(), ckPath) || ckPath;
  if (interrupted) {
    say(`interrupted at step ${run.steps}: checkpoint saved to ${rel}; continue with: npx rnnlab train --out ${out} --resume\n`);
    return 130;
  }
  const best = info.bestVal !== null ? `, best ${info.bestVal.toFixed(3)} at step ${info.bestStep}` : "";
  const finalVal = lastVal as number | null; // assigned inside evaluate(), which TypeScript does not follow
  const valText = finalVal !== null
    ? `; validation ${finalVal.toFixed(3)} nats/${unit} (${words ? `perplexity ${Math.exp(finalVal).toFixed(1)}` : `${(finalVal / LN2).toFixed(3)} bits/char`})${best}`
    : "";
  const skipped = run.trainer.stats.skipped;
  const skippedText = skipped ? `; ${fmtInt(skipped)} update${skipped > 1 ? "s" : ""} skipped (non-finite, --on-nonfinite skip)` : "";
  say(`done: ${run.steps} steps in ${fmtDuration(wall)}${valText}${skippedText}\n`);
  say(`files: ${rel}${info.bestVal !== null ? `, ${join(out, "best.safetensors")}` : ""}, ${metricsPath}\n`);
  say(`next: npx rnnlab sample --checkpoint ${rel} --length 500\n`);
  return 0;
}
