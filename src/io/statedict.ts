// State dicts: a model's weights as named tensors under PyTorch's names (what `module.state_dict()`
// holds), loaded back with PyTorch's strictness, and a model's shape read off names and shapes
// alone. No Node APIs: the web lab can read a PyTorch file too.
//
// A language model's names are those of a PyTorch module with submodules `embedding`
// (nn.Embedding), `rnn` (nn.RNN, nn.LSTM or nn.GRU) and `head` (nn.Linear):
//   embedding.weight (V, E)
//   rnn.weight_ih_l{k} (G, I_k), rnn.weight_hh_l{k} (G, H), rnn.bias_ih_l{k} (G), rnn.bias_hh_l{k} (G),
//     each with the suffix "_reverse" too for a bidirectional layer (bare recurrent layers only)
//   head.weight (V, H), head.bias (V)
// G is H (Elman RNN), 3H (GRU) or 4H (LSTM), so the cell is G/H; a bare nn.RNN/LSTM/GRU has the
// same names without "rnn.". Tied weights: PyTorch's state_dict lists the one shared tensor under
// both names, so stateDictOf writes head.weight as a copy of embedding.weight, and loading a file
// whose two are equal keeps them tied. What the names cannot tell (an Elman RNN's nonlinearity,
// the vocabulary) comes from the caller.

import { LanguageModel } from "../nn/language-model.js";
import type { Parameter } from "../nn/params.js";
import { createRecurrent, Recurrent } from "../nn/recurrent.js";
import { SequenceClassifier } from "../nn/sequence-classifier.js";
import { RNNCellBase } from "../nn/rnn-cells.js";
import { cellOfGateCount, type CellName } from "../nn/cells.js";
import { FeedForwardLM } from "../nn/feedforward-lm.js";
import type { DType, Float } from "../tensor/dtype.js";
import type { Kernels } from "../tensor/kernels.js";
import type { ModelConfig } from "../nn/language-model.js";
import type { SafetensorsDType } from "./safetensors.js";

/** A named tensor as read from a file (decodeSafetensors gives these) or as written. */
export interface StateTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array | Float64Array | Int32Array;
  /** The file's element type (F16 and BF16 arrive widened to Float32Array). Default: the buffer's. */
  readonly dtype?: SafetensorsDType;
}

/** Tensors by name: a plain object or a Map (as decodeSafetensors returns). */
export type StateDictInput = Readonly<Record<string, StateTensor>> | ReadonlyMap<string, StateTensor>;

/** A model's weights by PyTorch name, each a copy. */
export type StateDict = Record<string, { shape: number[]; data: Float }>;

/** A state dict that does not fit the model, or names and shapes that describe no model rnnlab has. */
export class StateDictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StateDictError";
  }
}

/** Recurrent cells, in rnnlab's spelling. */
export type CellType = CellName;

function entriesOf(sd: StateDictInput): Map<string, StateTensor> {
  return sd instanceof Map ? new Map(sd as ReadonlyMap<string, StateTensor>) : new Map(Object.entries(sd as Record<string, StateTensor>));
}

function setOwn(o: object, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

const fmtShape = (s: readonly number[]) => `[${s.join(", ")}]`;

function dtypeOfTensor(t: StateTensor): SafetensorsDType {
  return t.dtype ?? (t.data instanceof Float64Array ? "F64" : t.data instanceof Float32Array ? "F32" : "I32");
}

/** A tensor from the caller, with its data checked against its shape (a file's always are; a hand-made one may not be). */
function checked(name: string, t: StateTensor | undefined): StateTensor | undefined {
  if (t && (t.shape.some((d) => !Number.isSafeInteger(d) || d < 0) || t.data.length !== t.shape.reduce((a, b) => a * b, 1))) {
    throw new StateDictError(`${name} has ${t.data.length} values, which do not fill its shape ${fmtShape(t.shape)}`);
  }
  return t;
}

/** A recurrent layer's parameters with their local names (weight_ih_l0, ...), in PyTorch's order. */
function recurrentEntries(rnn: Recurrent): { local: string; param: Parameter }[] {
  const out: { local: string; param: Parameter }[] = [];
  const D = rnn.numDirections;
  for (let l = 0; l < rnn.numLayers; l++) {
    for (let d = 0; d < D; d++) {
      const sfx = `l${l}${d === 1 ? "_reverse" : ""}`;
      const p = rnn.params[l * D + d];
      out.push({ local: `weight_ih_${sfx}`, param: p.weightIh }, { local: `weight_hh_${sfx}`, param: p.weightHh });
      if (p.biasIh) out.push({ local: `bias_ih_${sfx}`, param: p.biasIh });
      if (p.biasHh) out.push({ local: `bias_hh_${sfx}`, param: p.biasHh });
      if (p.weightHr) out.push({ local: `weight_hr_${sfx}`, param: p.weightHr }); // an LSTM's projection (proj_size)
    }
  }
  return out;
}

/** A single-step cell's parameters (RNNCell, LSTMCell, GRUCell) with PyTorch's names: weight_ih, weight_hh, bias_ih, bias_hh. */
function cellEntries(cell: RNNCellBase): { local: string; param: Parameter }[] {
  const out = [
    { local: "weight_ih", param: cell.weightIh },
    { local: "weight_hh", param: cell.weightHh },
  ];
  if (cell.biasIh) out.push({ local: "bias_ih", param: cell.biasIh });
  if (cell.biasHh) out.push({ local: "bias_hh", param: cell.biasHh });
  return out;
}

/** Whether a language model's head uses the embedding's Parameter. */
function isTied(lm: LanguageModel): boolean {
  return lm.head.weight === lm.embedding.weight;
}

/** What a model's state_dict() would hold: name, parameter, and whether the name may be absent (a tied head.weight). */
function expectedOf(
  model: LanguageModel | FeedForwardLM | Recurrent | RNNCellBase | SequenceClassifier,
): { name: string; param: Parameter; optional: boolean }[] {
  if (model instanceof RNNCellBase) return cellEntries(model).map(({ local, param }) => ({ name: local, param, optional: false }));
  // a classifier's store holds embedding.weight (token ids), rnn.*, head.weight, head.bias, declared in PyTorch's order
  if (model instanceof SequenceClassifier) return model.store.params.map((param) => ({ name: param.name, param, optional: false }));
  // so does the feed-forward language model's: embedding.weight, hidden.l.*, head.*, direct.weight
  if (model instanceof FeedForwardLM) return model.store.params.map((param) => ({ name: param.name, param, optional: false }));
  if (!(model instanceof LanguageModel) && !(model instanceof Recurrent)) {
    // plain JavaScript can pass anything: an empty state dict would look like success
    throw new TypeError("state dicts are of a LanguageModel, a SequenceClassifier, an RNN/LSTM/GRU stack or an RNNCell/LSTMCell/GRUCell");
  }
  if (!(model instanceof LanguageModel)) return recurrentEntries(model).map(({ local, param }) => ({ name: local, param, optional: false }));
  const out = [{ name: "embedding.weight", param: model.embedding.weight, optional: false }];
  for (const { param } of recurrentEntries(model.rnn)) out.push({ name: param.name, param, optional: false });
  out.push({ name: "head.weight", param: model.head.weight, optional: isTied(model) });
  if (model.head.bias) out.push({ name: "head.bias", param: model.head.bias, optional: false });
  return out;
}

/**
 * The model's weights under PyTorch's names, in PyTorch's order, as copies: what
 * `module.state_dict()` holds. A language model gives embedding.weight, rnn.*, head.weight and
 * head.bias (head.weight is a copy of embedding.weight when the two are tied, as PyTorch lists a
 * shared tensor under both names); a bare recurrent layer gives weight_ih_l0, weight_hh_l0, ...
 * (and weight_hr_l0, ... for an LSTM with projections); a single-step cell (RNNCell, LSTMCell,
 * GRUCell) gives weight_ih, weight_hh, bias_ih, bias_hh; a SequenceClassifier gives
 * embedding.weight (over token ids), rnn.*, head.weight and head.bias. Anything else is a TypeError.
 * @example
 * const sd = stateDictOf(new LanguageModel({ vocabSize: 5, embedSize: 4, hiddenSize: 4, cell: "gru" }));
 * Object.keys(sd) // => ["embedding.weight", "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0", "head.weight", "head.bias"]
 */
export function stateDictOf(model: LanguageModel | FeedForwardLM | Recurrent | RNNCellBase | SequenceClassifier): StateDict {
  const sd: StateDict = {};
  for (const { name, param } of expectedOf(model)) setOwn(sd, name, { shape: [...param.shape], data: param.value.slice() });
  return sd;
}

/** Options of loadStateDict. */
export interface LoadStateDictOptions {
  /**
   * The file's names start with this, which is stripped; names without it are ignored. E.g.
   * `"module."` for a model saved from inside a wrapper, or `"rnn."` to load a bare recurrent
   * layer from a language model's file. Default `""`.
   */
  prefix?: string;
  /**
   * PyTorch's `strict`: every parameter must be in the file and every name (under the prefix)
   * must be a parameter. When false, missing parameters keep their values and unknown names are
   * skipped; both are reported. Default true.
   */
  strict?: boolean;
}

/** What loadStateDict did. Names are the file's. */
export interface LoadReport {
  loaded: string[];
  /** Parameters the file lacks (only when not strict; they keep their values). */
  missing: string[];
  /** Names (under the prefix) that are no parameter (only when not strict; skipped). */
  unexpected: string[];
  /** Tensors whose element type differs from the model's: widened exactly (F16, BF16, F32 into float64) or rounded (F64 into float32). */
  converted: { name: string; from: SafetensorsDType; to: DType; exact: boolean }[];
  /** A language model with tied weights whose file also held head.weight, equal to embedding.weight: the tie is kept. */
  tied: boolean;
}

/**
 * Loads named tensors into a model's parameters, as PyTorch's `load_state_dict`: names must
 * match (a language model's full names, a bare recurrent layer's or cell's local ones, after `prefix`),
 * shapes must match exactly, values must be finite; F16 and BF16 are widened exactly, F64 is
 * rounded into a float32 model. Every problem is found before anything is written: on an error
 * the model is unchanged. A language model with tied weights needs embedding.weight; a
 * head.weight beside it must be equal to it, or the tie would silently drop one of them.
 * @throws StateDictError naming every missing, unexpected, misshapen or non-finite tensor.
 * @example
 * const { tensors } = decodeSafetensors(bytes); // from torch: {k: v for k, v in lstm.state_dict().items()}
 * loadStateDict(new LSTM({ inputSize: 3, hiddenSize: 4 }), tensors);
 */
export function loadStateDict(
  model: LanguageModel | FeedForwardLM | Recurrent | RNNCellBase | SequenceClassifier,
  tensors: StateDictInput,
  options: LoadStateDictOptions = {},
): LoadReport {
  const prefix = options.prefix ?? "";
  const strict = options.strict ?? true;
  const local = new Map<string, StateTensor>();
  for (const [name, t] of entriesOf(tensors)) if (name.startsWith(prefix)) local.set(name.slice(prefix.length), t);
  const expected = expectedOf(model);
  const names = new Set(expected.map((e) => e.name));
  const missing = expected.filter((e) => !e.optional && !local.has(e.name)).map((e) => prefix + e.name);
  const unexpected = [...local.keys()].filter((n) => !names.has(n)).map((n) => prefix + n);
  const problems: string[] = [];
  const list = (xs: string[]) => (xs.length > 6 ? `${xs.slice(0, 6).join(", ")} and ${xs.length - 6} more` : xs.join(", "));
  if (strict && missing.length) problems.push(`missing ${list(missing)}`);
  if (strict && unexpected.length) problems.push(`unexpected ${list(unexpected)}`);
  const report: LoadReport = { loaded: [], missing: strict ? [] : missing, unexpected: strict ? [] : unexpected, converted: [], tied: false };
  const staged: { param: Parameter; values: Float; name: string }[] = [];
  for (const e of expected) {
    const t = local.get(e.name);
    if (!t) continue;
    const name = prefix + e.name;
    const from = dtypeOfTensor(t);
    if (!(t.data instanceof Float32Array || t.data instanceof Float64Array) || from === "I32") {
      problems.push(`${name} holds integers (${from}), weights must be F64, F32, F16 or BF16`);
      continue;
    }
    const shape = e.param.shape;
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]) || t.data.length !== e.param.size) {
      problems.push(`${name} has shape ${fmtShape(t.shape)}, the model needs ${fmtShape(shape)}`);
      continue;
    }
    const to: DType = e.param.value instanceof Float64Array ? "float64" : "float32";
    const values: Float = to === "float64" ? new Float64Array(t.data.length) : new Float32Array(t.data.length);
    values.set(t.data);
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      const why = Number.isFinite(t.data[bad]) ? `${t.data[bad]}, too large for float32,` : String(t.data[bad]);
      problems.push(`${name} holds ${why} at element ${bad}; weights must be finite`);
      continue;
    }
    if (!(from === "F32" && to === "float32") && !(from === "F64" && to === "float64")) {
      report.converted.push({ name, from, to, exact: !(from === "F64" && to === "float32") });
    }
    staged.push({ param: e.param, values, name });
  }
  // a tied pair: the head's copy must be the embedding's values
  if (model instanceof LanguageModel && isTied(model)) {
    const emb = staged.find((s) => s.param === model.embedding.weight && s.name === `${prefix}embedding.weight`);
    const head = staged.find((s) => s.name === `${prefix}head.weight`);
    if (emb && head) {
      let worst = -1;
      let diff = 0;
      for (let i = 0; i < emb.values.length; i++) {
        const d = Math.abs(emb.values[i] - head.values[i]);
        if (!Object.is(emb.values[i], head.values[i]) && (worst < 0 || d > diff)) {
          worst = i;
          diff = d;
        }
      }
      if (worst >= 0) {
        problems.push(
          `${prefix}head.weight differs from ${prefix}embedding.weight (by up to ${diff.toPrecision(3)}, at element ${worst}) but the model ties them; build it with untied weights (tieWeights: false)`,
        );
      } else {
        report.tied = true;
      }
      staged.splice(staged.indexOf(head), 1);
    }
  }
  if (problems.length) throw new StateDictError(`the state dict does not fit the model: ${problems.join("; ")}`);
  for (const s of staged) {
    s.param.value.set(s.values);
    report.loaded.push(s.name);
  }
  if (report.tied) report.loaded.push(`${prefix}head.weight`);
  return report;
}

/** A recurrent layer as its state dict describes it. */
export interface RecurrentConfig {
  cell: CellType;
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  /** PyTorch's `bias`: whether the file has bias_ih/bias_hh. */
  bias: boolean;
  bidirectional: boolean;
  /** The Elman RNN's nonlinearity (as given: the weights do not tell); "tanh" for LSTM and GRU. */
  nonlinearity: "tanh" | "relu";
  /** An LSTM with projections (PyTorch's proj_size, from weight_hr_l0 (P, H)): P. Absent when there are none. */
  projSize?: number;
}

const RECURRENT_NAME = /^(weight|bias)_(ih|hh|hr)_l(\d+)(_reverse)?$/;

function checkNonlinearity(n: unknown): asserts n is "tanh" | "relu" | undefined {
  if (n !== undefined && n !== "tanh" && n !== "relu") throw new StateDictError(`nonlinearity must be "tanh" or "relu", got ${JSON.stringify(n)}`);
}

/**
 * Reads a recurrent layer's config off the names and shapes of a PyTorch nn.RNN/LSTM/GRU
 * state_dict (under `prefix`, e.g. "rnn."): the cell from the gate multiple G/H of
 * weight_hh_l0 (G, H) (1 RNN, 3 GRU, 4 LSTM), layers from the `_l{k}` suffixes, directions from
 * `_reverse`, bias from bias_ih/bias_hh being there, the input size from weight_ih_l0 (G, I).
 * An LSTM with projections (proj_size P) has weight_hr_l0 (P, H) and weight_hh_l0 (4H, P): H and
 * P come from weight_hr_l0, and the config has `projSize`.
 * An Elman RNN's nonlinearity is not in its weights: pass it (PyTorch's default is "tanh").
 * @throws StateDictError when the names describe no layer rnnlab has (or the nonlinearity is needed and not given).
 * @example
 * inferRecurrentConfig(tensors) // from torch.nn.GRU(3, 5, num_layers=2).state_dict()
 * // => { cell: "gru", inputSize: 3, hiddenSize: 5, numLayers: 2, bias: true, bidirectional: false, nonlinearity: "tanh" }
 */
export function inferRecurrentConfig(tensors: StateDictInput, options: { prefix?: string; nonlinearity?: "tanh" | "relu" } = {}): RecurrentConfig {
  const prefix = options.prefix ?? "";
  checkNonlinearity(options.nonlinearity);
  const m = entriesOf(tensors);
  const get = (n: string) => checked(prefix + n, m.get(prefix + n));
  const hh = get("weight_hh_l0");
  if (!hh) {
    throw new StateDictError(
      `no recurrent layer: ${prefix}weight_hh_l0 is missing (PyTorch's nn.RNN, nn.LSTM and nn.GRU name their weights ${prefix}weight_ih_l0, ${prefix}weight_hh_l0, ${prefix}bias_ih_l0, ${prefix}bias_hh_l0, ...)`,
    );
  }
  if (hh.shape.length !== 2 || hh.shape[1] < 1) throw new StateDictError(`${prefix}weight_hh_l0 has shape ${fmtShape(hh.shape)}; a recurrent weight is (G, H)`);
  const hr = get("weight_hr_l0");
  let G: number;
  let H: number;
  let projSize = 0;
  let cell: CellType | undefined;
  if (hr) {
    // an LSTM with projections: weight_hr_l0 (P, H), weight_hh_l0 (4H, P)
    if (hr.shape.length !== 2 || hr.shape[0] < 1 || hr.shape[1] < 1)
      throw new StateDictError(`${prefix}weight_hr_l0: LSTMs with projections (PyTorch's proj_size) have weight_hr_l0 (P, H), got ${fmtShape(hr.shape)}`);
    [projSize, H] = hr.shape;
    G = 4 * H;
    if (hh.shape[0] !== G || hh.shape[1] !== projSize)
      throw new StateDictError(
        `${prefix}weight_hr_l0: LSTMs with projections (PyTorch's proj_size) need weight_hh_l0 of shape [4H, P] = ${fmtShape([G, projSize])} beside weight_hr_l0 [P, H] = ${fmtShape(hr.shape)}, got ${fmtShape(hh.shape)}`,
      );
    if (projSize >= H) throw new StateDictError(`${prefix}weight_hr_l0 ${fmtShape(hr.shape)}: proj_size ${projSize} must be smaller than hidden size ${H}`);
    cell = "lstm";
  } else {
    [G, H] = hh.shape;
    cell = G % H === 0 ? cellOfGateCount(G / H)?.name : undefined;
    if (!cell)
      throw new StateDictError(
        `${prefix}weight_hh_l0 has shape [G, H] = ${fmtShape(hh.shape)}; G/H must be 1 (RNN), 3 (GRU) or 4 (LSTM), not ${(G / H).toPrecision(3)}`,
      );
  }
  let top = 0;
  let reverse = false;
  for (const name of m.keys()) {
    if (!name.startsWith(prefix)) continue;
    const r = RECURRENT_NAME.exec(name.slice(prefix.length));
    if (!r) continue;
    if (r[2] === "hr" && !hr) throw new StateDictError(`${name}: an LSTM's projections (PyTorch's proj_size) need ${prefix}weight_hr_l0 too`);
    top = Math.max(top, Number(r[3]));
    if (r[4]) reverse = true;
  }
  const numLayers = top + 1;
  const bias = m.has(`${prefix}bias_ih_l0`) || m.has(`${prefix}bias_hh_l0`);
  for (let l = 0; l < numLayers; l++) {
    for (const sfx of reverse ? ["", "_reverse"] : [""]) {
      if (!m.has(`${prefix}weight_hh_l${l}${sfx}`)) {
        throw new StateDictError(
          `${prefix}weight_hh_l${l}${sfx} is missing, but names up to layer ${top}${reverse ? " and reverse directions" : ""} are there`,
        );
      }
      if (projSize && !m.has(`${prefix}weight_hr_l${l}${sfx}`)) {
        throw new StateDictError(`${prefix}weight_hr_l${l}${sfx} is missing: an LSTM with projections (proj_size ${projSize}) has one per layer and direction`);
      }
    }
  }
  const ih = get("weight_ih_l0");
  if (!ih) throw new StateDictError(`${prefix}weight_ih_l0 is missing; the input size cannot be known without it`);
  if (ih.shape.length !== 2 || ih.shape[0] !== G || ih.shape[1] < 1) {
    throw new StateDictError(
      `${prefix}weight_ih_l0 has shape ${fmtShape(ih.shape)}; with ${prefix}weight_hh_l0 ${fmtShape(hh.shape)} it must be [${G}, input size]`,
    );
  }
  let nonlinearity: "tanh" | "relu" = "tanh";
  if (cell === "rnn") {
    if (!options.nonlinearity) throw new StateDictError(`an Elman RNN's nonlinearity is not in its weights: give "tanh" (PyTorch's default) or "relu"`);
    nonlinearity = options.nonlinearity;
  }
  const config: RecurrentConfig = { cell, inputSize: ih.shape[1], hiddenSize: H, numLayers, bias, bidirectional: reverse, nonlinearity };
  if (projSize) config.projSize = projSize;
  return config;
}

/**
 * Builds a recurrent layer from a PyTorch nn.RNN/LSTM/GRU state_dict (inferRecurrentConfig) and
 * loads it (loadStateDict, strict unless told).
 * @example
 * const { rnn } = recurrentFromStateDict(decodeSafetensors(bytes).tensors, { dtype: "float64" });
 * const c = rnn.forward(x, [h0, c0]); // PyTorch's output, h_n, c_n
 */
export function recurrentFromStateDict(
  tensors: StateDictInput,
  options: { prefix?: string; nonlinearity?: "tanh" | "relu"; strict?: boolean; dtype?: DType; kernels?: Kernels } = {},
): { rnn: Recurrent; config: RecurrentConfig; report: LoadReport } {
  const config = inferRecurrentConfig(tensors, options);
  const o = {
    inputSize: config.inputSize,
    hiddenSize: config.hiddenSize,
    numLayers: config.numLayers,
    bias: config.bias,
    bidirectional: config.bidirectional,
    projSize: config.projSize ?? 0,
    dtype: options.dtype,
    kernels: options.kernels,
  };
  const rnn = createRecurrent(config.cell, { ...o, nonlinearity: config.nonlinearity });
  const report = loadStateDict(rnn, tensors, { prefix: options.prefix, strict: options.strict });
  return { rnn, config, report };
}

/** A language model as its state dict describes it: the model half of a run's config, and what the file has of biases. */
export interface LanguageModelConfig extends Pick<ModelConfig, "vocabSize" | "embedSize" | "hiddenSize" | "numLayers" | "nonlinearity" | "tieWeights"> {
  /** The recurrent cell (a state dict of this shape is of a recurrent model). */
  cell: CellName;
  /** Whether the recurrent layers have biases. */
  bias: boolean;
  /** Whether the file has head.bias (rnnlab's head always has one: a missing one loads as zeros). */
  headBias: boolean;
}

/**
 * Reads a language model's config off the names and shapes of an Embedding -> RNN/LSTM/GRU ->
 * Linear state_dict (embedding.weight, rnn.*, head.weight, head.bias; see canonicalNames for
 * other spellings). Tying: with `tieWeights` undefined, the weights are tied when head.weight is
 * absent (and E = H) or equal to embedding.weight element for element; `true` demands that,
 * `false` demands a head.weight of its own. The nonlinearity is needed for an Elman RNN only.
 * @throws StateDictError when the names and shapes describe no language model rnnlab has.
 */
export function inferLanguageModelConfig(tensors: StateDictInput, options: { nonlinearity?: "tanh" | "relu"; tieWeights?: boolean } = {}): LanguageModelConfig {
  const m = entriesOf(tensors);
  const emb = checked("embedding.weight", m.get("embedding.weight"));
  if (!emb) {
    throw new StateDictError(
      "embedding.weight is missing: a language model's state dict holds embedding.weight (V, E), rnn.weight_ih_l0, rnn.weight_hh_l0, ... and head.weight (V, H), head.bias (V)",
    );
  }
  if (emb.shape.length !== 2 || emb.shape[0] < 1 || emb.shape[1] < 1)
    throw new StateDictError(`embedding.weight has shape ${fmtShape(emb.shape)}; an embedding is (V, E)`);
  const [V, E] = emb.shape;
  const r = inferRecurrentConfig(m, { prefix: "rnn.", nonlinearity: options.nonlinearity });
  if (r.projSize)
    throw new StateDictError(
      `rnn.weight_hr_l0: language models with LSTM projections (PyTorch's proj_size ${r.projSize}) are not supported; load the recurrent layer alone with recurrentFromStateDict(tensors, { prefix: "rnn." })`,
    );
  if (r.bidirectional) throw new StateDictError("rnn.*_reverse: a bidirectional layer sees the text after each position, so it cannot be a language model's");
  if (r.inputSize !== E)
    throw new StateDictError(`rnn.weight_ih_l0 takes inputs of size ${r.inputSize}, but embedding.weight ${fmtShape(emb.shape)} gives ${E}`);
  const H = r.hiddenSize;
  const hw = checked("head.weight", m.get("head.weight"));
  const hb = checked("head.bias", m.get("head.bias"));
  if (hw && (hw.shape.length !== 2 || hw.shape[0] !== V || hw.shape[1] !== H)) {
    throw new StateDictError(`head.weight has shape ${fmtShape(hw.shape)}; with ${V} tokens and ${H} hidden units it must be [${V}, ${H}]`);
  }
  if (hb && (hb.shape.length !== 1 || hb.shape[0] !== V)) throw new StateDictError(`head.bias has shape ${fmtShape(hb.shape)}; it must be [${V}]`);
  let tieWeights: boolean;
  if (!hw) {
    if (options.tieWeights === false) throw new StateDictError("head.weight is missing, and untied weights were asked for");
    if (E !== H)
      throw new StateDictError(
        `head.weight is missing, and the embedding [${V}, ${E}] cannot serve as the head (tying needs embedding size ${E} = hidden size ${H})`,
      );
    tieWeights = true;
  } else {
    let equal = E === H;
    for (let i = 0; equal && i < hw.data.length; i++) equal = Object.is(hw.data[i], emb.data[i]);
    if (options.tieWeights === true && !equal) {
      throw new StateDictError(
        E === H
          ? "head.weight differs from embedding.weight, so the two are not tied; import with untied weights"
          : `tying needs embedding size ${E} = hidden size ${H}`,
      );
    }
    tieWeights = options.tieWeights ?? equal;
  }
  return {
    cell: r.cell,
    vocabSize: V,
    embedSize: E,
    hiddenSize: H,
    numLayers: r.numLayers,
    nonlinearity: r.nonlinearity,
    tieWeights,
    bias: r.bias,
    headBias: Boolean(hb),
  };
}

/**
 * Builds a LanguageModel from a state dict (inferLanguageModelConfig) and loads it strictly.
 * A missing head.bias loads as zeros (rnnlab's head always has one; the same function). With
 * `alwaysBias`, recurrent layers without biases are built with zero biases too (the same
 * function again; what a checkpoint, whose config has no bias switch, needs).
 * @example
 * const { model, config } = languageModelFromStateDict(decodeSafetensors(bytes).tensors);
 */
export function languageModelFromStateDict(
  tensors: StateDictInput,
  options: { nonlinearity?: "tanh" | "relu"; tieWeights?: boolean; alwaysBias?: boolean; dtype?: DType; kernels?: Kernels; seed?: number } = {},
): { model: LanguageModel; config: LanguageModelConfig; report: LoadReport; zeroed: string[] } {
  const m = entriesOf(tensors);
  const config = inferLanguageModelConfig(m, options);
  const bias = config.bias || Boolean(options.alwaysBias);
  const model = new LanguageModel({
    vocabSize: config.vocabSize,
    embedSize: config.embedSize,
    hiddenSize: config.hiddenSize,
    numLayers: config.numLayers,
    cell: config.cell,
    nonlinearity: config.nonlinearity,
    tieWeights: config.tieWeights,
    bias,
    dtype: options.dtype,
    kernels: options.kernels,
    seed: options.seed,
  });
  const zeroed: string[] = [];
  const zeros = (name: string, shape: readonly number[]) => {
    m.set(name, { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    zeroed.push(name);
  };
  if (!config.headBias) zeros("head.bias", [config.vocabSize]);
  if (bias && !config.bias) {
    for (const { param } of recurrentEntries(model.rnn)) if (param.shape.length === 1) zeros(param.name, param.shape);
  }
  const report = loadStateDict(model, m);
  return { model, config, report, zeroed };
}

const ROLE_ALIASES: Record<string, string[]> = {
  embedding: ["encoder", "embed", "emb", "embeddings", "tok_emb", "wte"],
  rnn: ["lstm", "gru", "rnns"],
  head: ["decoder", "fc", "linear", "out", "lm_head", "proj"],
};

/**
 * Renames a language model's tensors to embedding.*, rnn.*, head.*: strips a wrapper's prefix
 * shared by every name (e.g. "module." of nn.DataParallel, "model."), then maps common other
 * spellings of the three parts (PyTorch's word_language_model example: encoder, rnn, decoder;
 * also embed, emb, lstm, gru, fc, linear, out, lm_head) when they are unambiguous.
 *
 * With the file's `metadata`, first brings back the names safetensors' `save_model` dropped: it
 * saves a tensor shared by several names (tied weights: word_language_model's encoder.weight and
 * decoder.weight) once, and records each dropped name in the metadata as `dropped: kept`. The
 * dropped name comes back as the same tensor (reported as "encoder.weight = decoder.weight").
 * @example
 * canonicalNames({ "module.encoder.weight": w, "module.rnn.weight_hh_l0": ..., "module.decoder.weight": ... })
 * // => tensors named embedding.weight, rnn.weight_hh_l0, head.weight; renamed ["module.* -> *", "encoder.* -> embedding.*", "decoder.* -> head.*"]
 * canonicalNames({ "decoder.weight": w, "decoder.bias": b, "rnn.weight_hh_l0": ... }, { "encoder.weight": "decoder.weight" })
 * // => embedding.weight and head.weight are both w; renamed ["encoder.weight = decoder.weight (saved once by save_model)", ...]
 */
export function canonicalNames(
  tensors: StateDictInput,
  metadata: Readonly<Record<string, string>> = {},
): { tensors: Map<string, StateTensor>; renamed: string[] } {
  let m = entriesOf(tensors);
  const renamed: string[] = [];
  const shared = Object.entries(metadata).filter(
    ([dropped, kept]) => typeof kept === "string" && !m.has(dropped) && m.has(kept) && /^[\w.]+\.[\w]+$/.test(dropped),
  );
  if (shared.length) {
    m = new Map(m);
    for (const [dropped, kept] of shared) {
      m.set(dropped, m.get(kept)!);
      renamed.push(`${dropped} = ${kept} (saved once by save_model)`);
    }
  }
  const roots = () => new Set([...m.keys()].map((n) => (n.includes(".") ? n.slice(0, n.indexOf(".")) : "")));
  const known = new Set([...Object.keys(ROLE_ALIASES), ...Object.values(ROLE_ALIASES).flat()]);
  for (let i = 0; i < 4; i++) {
    const r = [...roots()];
    if (r.length !== 1 || r[0] === "" || known.has(r[0])) break;
    const p = `${r[0]}.`;
    m = new Map([...m].map(([n, t]) => [n.slice(p.length), t]));
    renamed.push(`${p}* -> *`);
  }
  const present = roots();
  const map = new Map<string, string>();
  for (const [role, aliases] of Object.entries(ROLE_ALIASES)) {
    if (present.has(role)) continue;
    const found = aliases.filter((a) => present.has(a));
    if (found.length === 1) map.set(found[0], role);
  }
  if (map.size === 0) return { tensors: m, renamed };
  for (const [from, to] of map) renamed.push(`${from}.* -> ${to}.*`);
  const out = new Map<string, StateTensor>();
  for (const [n, t] of m) {
    const dot = n.indexOf(".");
    const root = dot >= 0 ? n.slice(0, dot) : "";
    out.set(map.has(root) ? map.get(root)! + n.slice(dot) : n, t);
  }
  return { tensors: out, renamed };
}
