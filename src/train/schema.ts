// What a checkpoint may say, checked before any of it is used. A checkpoint is a user's file: it
// may be cut short, bit-flipped, hand-edited, or written by something else. Every field of its
// metadata is checked for type and range, every tensor for dtype, shape and finiteness, and the
// parts against each other (vocabulary against the model, step counts against each other, data
// position against the text), so that a bad checkpoint is one CheckpointError naming the field,
// never a TypeError, a NaN that spreads, or a model that silently computes something else.
//
// Parsers return fresh objects holding only the known fields, so nothing unchecked travels on.

import { CheckpointError, finiteInFloat32 } from "../errors.js";
import type { Float } from "../tensor/dtype.js";
import type { ModelConfig, RunConfig, TrainConfig } from "./run.js";
import { LM_CELLS } from "../nn/lm.js";
import { MAX_WINDOW as MAX_FF_WINDOW } from "../nn/feedforward-lm.js";
import { OPTIMIZER_NAMES } from "./optim.js";
import { normalizeSchedule, type ScheduleSpec } from "./schedule.js";

/** A field's place in the metadata, for messages: `config.model.hiddenSize`. */
type Where = string;

function fail(where: Where, what: string): never {
  throw new CheckpointError(`metadata ${where} ${what}`);
}

function describe(v: unknown): string {
  if (v === undefined) return "missing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v);
  return String(v);
}

/** A plain JSON object (not null, not a list). */
export function object(v: unknown, where: Where): Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) fail(where, `must be an object, is ${describe(v)}`);
  return v as Record<string, unknown>;
}

/** A whole number in [min, max]. */
export function int(v: unknown, where: Where, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max) {
    fail(where, `must be a whole number from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : " up"}, is ${describe(v)}`);
  }
  return v;
}

/** A number in [min, max] (min excluded when `open`) that float32 holds (finite, not flushed to 0). */
export function num(v: unknown, where: Where, min: number, max = Infinity, open = false): number {
  const inRange = typeof v === "number" && (open ? v > min : v >= min) && v <= max;
  if (!inRange || !finiteInFloat32(v as number)) {
    fail(where, `must be a number ${open ? ">" : ">="} ${min}${max < Infinity ? ` and <= ${max}` : ""} that float32 holds, is ${describe(v)}`);
  }
  return v as number;
}

/** One of `choices`. */
export function oneOf<T extends string>(v: unknown, where: Where, choices: readonly T[]): T {
  if (typeof v !== "string" || !(choices as readonly string[]).includes(v)) fail(where, `must be one of ${choices.join(", ")}, is ${describe(v)}`);
  return v as T;
}

export function bool(v: unknown, where: Where): boolean {
  if (typeof v !== "boolean") fail(where, `must be true or false, is ${describe(v)}`);
  return v;
}

export function str(v: unknown, where: Where): string {
  if (typeof v !== "string") fail(where, `must be a string, is ${describe(v)}`);
  return v;
}

/** Rejects keys other than `known` (a key rnnlab does not know could change what the model computes). */
function onlyKeys(o: Record<string, unknown>, where: Where, known: readonly string[]): void {
  for (const k of Object.keys(o)) if (!known.includes(k)) fail(`${where}.${k}`, `is not a setting rnnlab knows (known: ${known.join(", ")})`);
}

export const INITS = ["default", "orthogonal", "identity", "chrono"] as const;
/** Sizes a config may claim (the memory check then says whether they fit). */
export const MAX_SIZE = 2 ** 31 - 1;
/** Batch rows and steps per window a config may claim. */
export const MAX_WINDOW = 2 ** 20;

/** Every key a ModelConfig may have (a config with another is refused). */
export const MODEL_KEYS: readonly string[] = [
  "cell",
  "vocabSize",
  "embedSize",
  "hiddenSize",
  "numLayers",
  "nonlinearity",
  "tieWeights",
  "dropout",
  "embeddingDropout",
  "outputDropout",
  "init",
  "forgetBias",
  "window",
  "direct",
];
/** Every key a TrainConfig may have (a config with another is refused). */
export const TRAIN_KEYS: readonly string[] = [
  "batch",
  "k1",
  "k2",
  "optimizer",
  "lr",
  "momentum",
  "weightDecay",
  "clipNorm",
  "clipValue",
  "nonFinite",
  "seed",
  "schedule",
  "warmup",
];

/** A ModelConfig, checked. */
export function parseModelConfig(v: unknown, where: Where = "config.model"): ModelConfig {
  const o = object(v, where);
  onlyKeys(o, where, MODEL_KEYS);
  const m: ModelConfig = {
    cell: oneOf(o.cell, `${where}.cell`, LM_CELLS),
    vocabSize: int(o.vocabSize, `${where}.vocabSize`, 1, MAX_SIZE),
    embedSize: int(o.embedSize, `${where}.embedSize`, 1, MAX_SIZE),
    hiddenSize: int(o.hiddenSize, `${where}.hiddenSize`, 1, MAX_SIZE),
    numLayers: int(o.numLayers, `${where}.numLayers`, 1, 4096),
    nonlinearity: oneOf(o.nonlinearity, `${where}.nonlinearity`, ["tanh", "relu"] as const),
    tieWeights: bool(o.tieWeights, `${where}.tieWeights`),
  };
  if (o.dropout !== undefined) m.dropout = num(o.dropout, `${where}.dropout`, 0, 0.99);
  // absent in configs older than these options: no dropout there
  if (o.embeddingDropout !== undefined) m.embeddingDropout = num(o.embeddingDropout, `${where}.embeddingDropout`, 0, 0.99);
  if (o.outputDropout !== undefined) m.outputDropout = num(o.outputDropout, `${where}.outputDropout`, 0, 0.99);
  if (o.init !== undefined) m.init = oneOf(o.init, `${where}.init`, INITS);
  if (o.forgetBias !== undefined) m.forgetBias = num(o.forgetBias, `${where}.forgetBias`, -Infinity);
  if (m.cell === "mlp") {
    // the feed-forward model: a window, optional direct connections, none of the recurrent options
    m.window = int(o.window, `${where}.window`, 1, MAX_FF_WINDOW);
    if (o.direct !== undefined) m.direct = bool(o.direct, `${where}.direct`);
    if (m.tieWeights) fail(`${where}.tieWeights`, "is true, but the feed-forward model (cell mlp) has no tied weights");
    for (const k of ["dropout", "embeddingDropout", "outputDropout"] as const)
      if ((m[k] ?? 0) > 0) fail(`${where}.${k}`, "is above 0, but the feed-forward model (cell mlp) has no dropout");
    if ((m.init ?? "default") !== "default")
      fail(`${where}.init`, `is "${m.init}", but the feed-forward model (cell mlp) has PyTorch's default initialisation only`);
  } else if (o.window !== undefined || o.direct !== undefined) {
    fail(`${where}.${o.window !== undefined ? "window" : "direct"}`, `is for the feed-forward model (cell mlp), the cell is ${m.cell}`);
  }
  if (m.tieWeights && m.embedSize !== m.hiddenSize)
    fail(`${where}.tieWeights`, `is true, but tying needs embedSize = hiddenSize (${m.embedSize} and ${m.hiddenSize})`);
  if (m.forgetBias !== undefined && m.cell !== "lstm") fail(`${where}.forgetBias`, `is for an LSTM, the cell is ${m.cell}`);
  if (m.init === "identity" && m.cell !== "rnn") fail(`${where}.init`, `"identity" is for an Elman RNN, the cell is ${m.cell}`);
  return m;
}

/** A TrainConfig, checked. */
export function parseTrainConfig(v: unknown, where: Where = "config.train"): TrainConfig {
  const o = object(v, where);
  onlyKeys(o, where, TRAIN_KEYS);
  const t: TrainConfig = {
    batch: int(o.batch, `${where}.batch`, 1, MAX_WINDOW),
    k1: int(o.k1, `${where}.k1`, 1, MAX_WINDOW),
    k2: int(o.k2, `${where}.k2`, 1, MAX_WINDOW),
    optimizer: oneOf(o.optimizer, `${where}.optimizer`, OPTIMIZER_NAMES),
    lr: num(o.lr, `${where}.lr`, 0, Infinity, true),
    momentum: num(o.momentum, `${where}.momentum`, 0, 1),
    weightDecay: num(o.weightDecay, `${where}.weightDecay`, 0),
    clipNorm: o.clipNorm === null ? null : num(o.clipNorm, `${where}.clipNorm`, 0, Infinity, true),
    clipValue: o.clipValue === null ? null : num(o.clipValue, `${where}.clipValue`, 0, Infinity, true),
    nonFinite: oneOf(o.nonFinite, `${where}.nonFinite`, ["stop", "skip"] as const),
    seed: int(o.seed, `${where}.seed`, 0),
  };
  if (t.k2 < t.k1) fail(`${where}.k2`, `(${t.k2}) must be >= k1 (${t.k1})`);
  if (o.warmup !== undefined) t.warmup = int(o.warmup, `${where}.warmup`, 0);
  if (o.schedule !== undefined) {
    const spec = object(o.schedule, `${where}.schedule`);
    try {
      t.schedule = normalizeSchedule(spec as unknown as ScheduleSpec);
    } catch (e) {
      fail(`${where}.schedule`, `is not a schedule: ${(e as Error).message}`);
    }
    const known = [
      "type",
      "stepSize",
      "gamma",
      "tMax",
      "etaMin",
      "totalSteps",
      "pctStart",
      "anneal",
      "divFactor",
      "finalDivFactor",
      "threePhase",
      "factor",
      "patience",
      "threshold",
      "thresholdMode",
      "cooldown",
      "minLr",
      "eps",
    ];
    onlyKeys(spec, `${where}.schedule`, known);
  }
  return t;
}

/** A RunConfig, checked. */
export function parseRunConfig(v: unknown, where: Where = "config"): RunConfig {
  const o = object(v, where);
  onlyKeys(o, where, ["model", "train"]);
  return { model: parseModelConfig(o.model, `${where}.model`), train: parseTrainConfig(o.train, `${where}.train`) };
}

/** What the CLI and the lab keep in a checkpoint's "run" metadata: the data and cadence of the run. */
export interface RunInfo {
  /** The text: its path (or "<embedded tinyshakespeare.txt>"), token count, FNV-1a hash of the ids, validation share, tokenisation. */
  data: { path: string; chars: number; hash: number; valFraction: number; tokens?: "chars" | "words"; vocabSize?: number };
  /** Steps the run was asked for (null: until a time limit). */
  targetSteps: number | null;
  evalEvery: number;
  saveEvery: number;
  sampleLength: number;
  bestVal: number | null;
  bestStep: number | null;
  finished: boolean;
  /** Diagnostics cadence (rnnlab train --diagnose-every, --diagnose-rows, --explode-factor), kept on resume. */
  diagnose?: { every: number; rows: number; explodeFactor: number };
  /** Early stopping: patience in evaluations, the improvement that counts, and evaluations since the last. */
  earlyStop?: { patience: number; minDelta: number; stale: number };
}

/** A RunInfo, checked. Unknown keys are dropped (the lab and the CLI may keep notes of their own). */
export function parseRunInfo(v: unknown, where: Where = "run"): RunInfo {
  const o = object(v, where);
  const d = object(o.data, `${where}.data`);
  const data: RunInfo["data"] = {
    path: str(d.path, `${where}.data.path`),
    chars: int(d.chars, `${where}.data.chars`, 2),
    hash: int(d.hash, `${where}.data.hash`, 0, 0xffffffff),
    valFraction: num(d.valFraction, `${where}.data.valFraction`, 0, 0.9),
  };
  if (data.path === "") fail(`${where}.data.path`, "is empty");
  if (d.tokens !== undefined) data.tokens = oneOf(d.tokens, `${where}.data.tokens`, ["chars", "words"] as const);
  if (d.vocabSize !== undefined && d.vocabSize !== null) data.vocabSize = int(d.vocabSize, `${where}.data.vocabSize`, 3, MAX_SIZE);
  const info: RunInfo = {
    data,
    targetSteps: o.targetSteps === null ? null : int(o.targetSteps, `${where}.targetSteps`, 1),
    evalEvery: int(o.evalEvery, `${where}.evalEvery`, 1),
    saveEvery: int(o.saveEvery, `${where}.saveEvery`, 1),
    sampleLength: int(o.sampleLength, `${where}.sampleLength`, 0, 1e9),
    bestVal: o.bestVal === null ? null : num(o.bestVal, `${where}.bestVal`, 0),
    bestStep: o.bestStep === null ? null : int(o.bestStep, `${where}.bestStep`, 0),
    finished: bool(o.finished, `${where}.finished`),
  };
  if ((info.bestVal === null) !== (info.bestStep === null)) fail(`${where}.bestStep`, "and bestVal must both be set or both be null");
  if (o.diagnose !== undefined) {
    const g = object(o.diagnose, `${where}.diagnose`);
    info.diagnose = {
      every: int(g.every, `${where}.diagnose.every`, 0),
      rows: int(g.rows, `${where}.diagnose.rows`, 1, MAX_WINDOW),
      explodeFactor: num(g.explodeFactor, `${where}.diagnose.explodeFactor`, 1, Infinity, true),
    };
  }
  if (o.earlyStop !== undefined) {
    const g = object(o.earlyStop, `${where}.earlyStop`);
    info.earlyStop = {
      patience: int(g.patience, `${where}.earlyStop.patience`, 1),
      minDelta: num(g.minDelta, `${where}.earlyStop.minDelta`, 0),
      stale: int(g.stale, `${where}.earlyStop.stale`, 0),
    };
  }
  return info;
}

/** Checks a RunInfo against the step of the checkpoint it came with. */
export function checkRunInfo(info: RunInfo, step: number, where: Where = "run"): void {
  if (info.bestStep !== null && info.bestStep > step) fail(`${where}.bestStep`, `(${info.bestStep}) is after the checkpoint's step ${step}`);
  if (info.finished && info.targetSteps !== null && step < info.targetSteps) fail(`${where}.finished`, `is true at step ${step} of ${info.targetSteps}`);
}

// Non-finite numbers in metadata JSON. JSON has none, and JSON.stringify writes them as null, which
// a reader cannot tell from "none" (a plateau schedule's best before its first evaluation,
// Infinity, came back as null and the checkpoint was refused). Metadata is written with the
// literals Python's json module writes and reads (Infinity, -Infinity, NaN), so a value comes back
// as it went, in rnnlab and in Python alike.
const NONFINITE: Record<string, number> = { "\u0000Infinity": Infinity, "\u0000-Infinity": -Infinity, "\u0000NaN": Number.NaN };

/** JSON text of a metadata value; non-finite numbers as the bare literals Infinity, -Infinity and NaN (as Python's json.dumps). */
export function metaJson(value: unknown): string {
  let found = false;
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v !== "number" || Number.isFinite(v)) return v;
    found = true;
    return Number.isNaN(v) ? "\u0000NaN" : v > 0 ? "\u0000Infinity" : "\u0000-Infinity";
  });
  return found ? text.replace(/"\\u0000(-?Infinity|NaN)"/g, "$1") : text;
}

/** Parses metadata JSON as metaJson writes it: standard JSON plus the bare literals Infinity, -Infinity and NaN outside strings. */
export function parseMetaJson(text: string): unknown {
  if (!/Infinity|NaN/.test(text)) return JSON.parse(text);
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === "\\") out += text[++i] ?? "";
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      continue;
    }
    const lit = text.startsWith("-Infinity", i) ? "-Infinity" : text.startsWith("Infinity", i) ? "Infinity" : text.startsWith("NaN", i) ? "NaN" : null;
    if (lit) {
      out += `"\\u0000${lit}"`;
      i += lit.length - 1;
    } else out += c;
  }
  return JSON.parse(out, (_k, v: unknown) => (typeof v === "string" && Object.hasOwn(NONFINITE, v) ? NONFINITE[v] : v));
}

/** Metadata `key` as JSON (metaJson's, non-finite numbers included; a CheckpointError when missing or not JSON). */
export function jsonOf(meta: Record<string, string>, key: string): unknown {
  const s = meta[key];
  if (typeof s !== "string") fail(`"${key}"`, "is missing");
  try {
    return parseMetaJson(s);
  } catch {
    fail(`"${key}"`, "is not valid JSON");
  }
}

/** Metadata `key` as a whole number in [min, max]. */
export function intOf(meta: Record<string, string>, key: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const s = meta[key];
  if (typeof s !== "string" || !/^\d+$/.test(s)) fail(`"${key}"`, `must be a whole number, is ${describe(s)}`);
  return int(Number(s), `"${key}"`, min, max);
}

/** Index and value of the first element that is NaN or infinite, or null. */
export function firstNonFinite(a: ArrayLike<number>): { index: number; value: number } | null {
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    if (x - x !== 0) return { index: i, value: x }; // NaN - NaN and Inf - Inf are NaN
  }
  return null;
}

/** Throws a CheckpointError when a float tensor holds NaN or an infinity. */
export function checkFinite(
  name: string,
  data: Float | ArrayLike<number>,
  what = "the checkpoint is poisoned: use an earlier checkpoint (e.g. best.safetensors)",
): void {
  const bad = firstNonFinite(data);
  if (bad) throw new CheckpointError(`tensor "${name}" holds ${bad.value} at element ${bad.index}; ${what}`);
}
