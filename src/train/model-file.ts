// Models saved from code and loaded back, in one file format with the CLI's checkpoints: a
// safetensors file whose tensors are the model's parameters under PyTorch's names and whose
// metadata says what the model is (DESIGN.md, "Files and failure"). Platform-neutral: bytes in,
// bytes out; src/node/model-files.ts writes and reads them as files, atomically.
//
// metadata:
//   format   "rnnlab-checkpoint/1" (SNAPSHOT_FORMAT), as every checkpoint rnnlab train writes
//   model    "language-model" (also when absent: every CLI checkpoint), "sequence-classifier" or "recurrent"
//   config   JSON: a language model's RunConfig {model, train}; a classifier's or a bare stack's constructor options
//   vocab    JSON list of the tokens in id order, with "tokens" ("chars" or "words"): a language model's
//            (required) or a classifier's over token ids (optional)
//   labels   JSON list of a classifier's class names, in class-id order (optional)
//   dtype    the model's element type ("float32" or "float64"); tensors are stored in it
//   step     "0" for a model saved from code (training steps taken, in a CLI checkpoint)
//
// A language model saved here is a checkpoint `rnnlab sample`, `eval`, `diagnose` and `export`
// take as they take one of rnnlab train's; `rnnlab train --resume` does not (no optimizer state).

import { CheckpointError } from "../errors.js";
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from "../io/safetensors.js";
import type { Vocab } from "../data/vocab.js";
import { vocabMetadata } from "../data/words.js";
import { CELL_NAMES, cellOfMode, type CellName } from "../nn/cells.js";
import { LanguageModel, type ModelConfig } from "../nn/language-model.js";
import { FeedForwardLM } from "../nn/feedforward-lm.js";
import type { AnyLanguageModel } from "../nn/lm.js";
import type { ParamStore } from "../nn/params.js";
import { createRecurrent, Recurrent } from "../nn/recurrent.js";
import { SequenceClassifier, type SequenceClassifierConfig } from "../nn/sequence-classifier.js";
import type { DType } from "../tensor/dtype.js";
import type { Kernels } from "../tensor/kernels.js";
import { OPTIMIZERS } from "./optim.js";
import {
  checkSnapshotFinite,
  MODEL_KINDS,
  modelFromSnapshot,
  type ModelKind,
  SNAPSHOT_FORMAT,
  type RunConfig,
  type Snapshot,
  type SnapshotInput,
  snapshotOf,
  type TrainConfig,
  vocabFromMetadata,
} from "./run.js";
import { bool, checkFinite, int, jsonOf, MAX_SIZE, metaJson, num, object, oneOf, parseModelConfig, parseTrainConfig } from "./schema.js";
import { DEFAULT_TRAIN } from "./session.js";

/** A language model's config, read off the model (rnnlab's checkpoint config: train/run.ts ModelConfig). */
function modelConfigOf(model: LanguageModel | FeedForwardLM): ModelConfig {
  if (model instanceof FeedForwardLM) {
    const o = model.options;
    return {
      cell: "mlp",
      vocabSize: o.vocabSize,
      embedSize: o.embedSize,
      hiddenSize: o.hiddenSize,
      numLayers: o.numLayers,
      nonlinearity: o.nonlinearity,
      tieWeights: false,
      window: o.window,
      ...(o.direct ? { direct: true } : {}),
    };
  }
  const o = model.options;
  if (!o.bias) throw new RangeError("saveModel: a language model without recurrent biases (bias: false) has no checkpoint config yet");
  return {
    cell: o.cell,
    vocabSize: o.vocabSize,
    embedSize: o.embedSize,
    hiddenSize: o.hiddenSize,
    numLayers: o.numLayers,
    nonlinearity: o.nonlinearity,
    tieWeights: o.tieWeights,
    dropout: o.dropout,
    init: o.init,
    ...(o.forgetBias !== undefined ? { forgetBias: o.forgetBias } : {}),
    ...(o.embeddingDropout ? { embeddingDropout: o.embeddingDropout } : {}),
    ...(o.outputDropout ? { outputDropout: o.outputDropout } : {}),
  };
}

/** A model saveModel takes: a language model, a sequence classifier, or a bare RNN/LSTM/GRU stack. */
export type SavableModel = LanguageModel | FeedForwardLM | SequenceClassifier | Recurrent;

/** What the weights cannot tell, for saveModel. */
export interface SaveModelOptions {
  /** The tokens of the ids: required for a language model, optional for a classifier over token ids. */
  vocab?: Vocab;
  /** A classifier's class names, in class-id order (numClasses of them). */
  labels?: readonly string[];
  /**
   * A language model's run settings: `train` holds what `rnnlab eval` and a later `rnnlab train`
   * read (batch, k1, k2, optimizer, ...; defaults: rnnlab train's). `model`, when given, must be
   * the model's own config (it is read off the model).
   */
  config?: { model?: unknown; train?: Partial<TrainConfig> };
  /** Extra metadata strings of the caller's (keys the format uses are refused). */
  metadata?: Readonly<Record<string, string>>;
}

/** The shape of a bare recurrent stack, as saved: RNN/LSTM/GRU constructor options. */
export interface SavedRecurrentConfig {
  cell: CellName;
  nonlinearity: "tanh" | "relu";
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bias: boolean;
  dropout: number;
  bidirectional: boolean;
  /** LSTM output projection size (0: none), as nn.LSTM(proj_size=...). Absent in older files: 0. */
  projSize?: number;
  /** Batch-first layout of x and output (B, T, ·), as batch_first=True. Absent in older files: false. */
  batchFirst?: boolean;
}

/** What loadModel returns: the model, built and loaded, and what its file says about it. */
export type LoadedModel =
  | { kind: "language-model"; model: AnyLanguageModel; vocab: Vocab; config: RunConfig; metadata: Record<string, string> }
  | {
      kind: "sequence-classifier";
      model: SequenceClassifier;
      vocab: Vocab | null;
      labels: string[] | null;
      config: SequenceClassifierConfig;
      metadata: Record<string, string>;
    }
  | { kind: "recurrent"; model: Recurrent; config: SavedRecurrentConfig; metadata: Record<string, string> };

/** How loadModel builds the model. */
export interface LoadModelOptions {
  /** Element type of the model. Default: the file's ("dtype" metadata), else float32. */
  dtype?: DType;
  /** Kernel set. Default: the store's default (tensor/select.ts). */
  kernels?: Kernels;
}

const RESERVED = new Set(["format", "model", "config", "vocab", "tokens", "unk_token", "eos_token", "labels", "dtype", "step"]);

/** rnnlab train's training defaults: what eval and a later run read from a language model saved from code. */
function defaultTrain(): TrainConfig {
  return { ...DEFAULT_TRAIN, lr: OPTIMIZERS[DEFAULT_TRAIN.optimizer].defaultLr };
}

/** A bare stack's config, read off the layer. */
function recurrentConfigOf(rnn: Recurrent): SavedRecurrentConfig {
  return {
    cell: cellOfMode(rnn.mode).name,
    nonlinearity: rnn.mode === "RNN_RELU" ? "relu" : "tanh",
    inputSize: rnn.inputSize,
    hiddenSize: rnn.hiddenSize,
    numLayers: rnn.numLayers,
    bias: rnn.bias,
    dropout: rnn.dropout,
    bidirectional: rnn.bidirectional,
    ...(rnn.projSize > 0 ? { projSize: rnn.projSize } : {}),
    ...(rnn.batchFirst ? { batchFirst: true } : {}),
  };
}

function parseRecurrentConfig(v: unknown): SavedRecurrentConfig {
  const o = object(v, "config");
  const known = ["cell", "nonlinearity", "inputSize", "hiddenSize", "numLayers", "bias", "dropout", "bidirectional", "projSize", "batchFirst"];
  for (const k of Object.keys(o)) if (!known.includes(k)) throw new CheckpointError(`config.${k} is not a setting rnnlab knows (known: ${known.join(", ")})`);
  return {
    cell: oneOf(o.cell, "config.cell", CELL_NAMES),
    nonlinearity: oneOf(o.nonlinearity, "config.nonlinearity", ["tanh", "relu"] as const),
    inputSize: int(o.inputSize, "config.inputSize", 1, MAX_SIZE),
    hiddenSize: int(o.hiddenSize, "config.hiddenSize", 1, MAX_SIZE),
    numLayers: int(o.numLayers, "config.numLayers", 1, 4096),
    bias: bool(o.bias, "config.bias"),
    dropout: num(o.dropout, "config.dropout", 0, 0.99),
    bidirectional: bool(o.bidirectional, "config.bidirectional"),
    ...(o.projSize !== undefined ? { projSize: int(o.projSize, "config.projSize", 0, MAX_SIZE) } : {}),
    ...(o.batchFirst !== undefined ? { batchFirst: bool(o.batchFirst, "config.batchFirst") } : {}),
  };
}

/** The store's parameters as tensors, in the store's dtype (each a view: encode before they change). */
function tensorsOf(store: ParamStore): Snapshot["tensors"] {
  const tensors: Snapshot["tensors"] = {};
  for (const p of store.params) tensors[p.name] = { shape: [...p.shape], data: p.value };
  return tensors;
}

/**
 * A model's snapshot (tensors and metadata) as saveModel encodes it. Throws a RangeError when the
 * options do not fit the model, and a CheckpointError when a weight is not finite.
 */
export function modelSnapshot(model: SavableModel, options: SaveModelOptions = {}): Snapshot {
  const known = ["vocab", "labels", "config", "metadata"];
  for (const k of Object.keys(options)) if (!known.includes(k)) throw new RangeError(`saveModel: unknown option "${k}" (known: ${known.join(", ")})`);
  const { vocab, labels, config, metadata = {} } = options;
  for (const k of Object.keys(metadata)) {
    if (RESERVED.has(k)) throw new RangeError(`saveModel: metadata "${k}" is the format's own; choose another key`);
    if (typeof metadata[k] !== "string") throw new RangeError(`saveModel: metadata "${k}" must be a string`);
  }
  const meta: Record<string, string> = { format: SNAPSHOT_FORMAT };
  let kind: ModelKind;
  let cfg: unknown;
  if (model instanceof LanguageModel || model instanceof FeedForwardLM) {
    kind = "language-model";
    if (!vocab) throw new RangeError("saveModel: a language model needs its vocabulary: saveModel(model, { vocab }), e.g. vocab = CharVocab.fromText(text)");
    if (vocab.size !== model.options.vocabSize)
      throw new RangeError(`saveModel: the vocabulary has ${vocab.size} tokens, the model ${model.options.vocabSize}`);
    if (labels) throw new RangeError("saveModel: labels are a classifier's; a language model has none");
    const m = parseModelConfig(modelConfigOf(model));
    if (config?.model !== undefined && JSON.stringify(config.model) !== JSON.stringify(m))
      throw new RangeError(`saveModel: config.model differs from the model's own (${JSON.stringify(m)}); leave it out`);
    const train = parseTrainConfig({ ...defaultTrain(), seed: model.options.seed, ...config?.train }, "config.train");
    cfg = { model: m, train };
  } else if (model instanceof SequenceClassifier) {
    kind = "sequence-classifier";
    if (config) throw new RangeError("saveModel: config is a language model's; a classifier's is read off the model");
    cfg = model.config;
    if (labels) {
      if (labels.length !== model.numClasses || labels.some((l) => typeof l !== "string"))
        throw new RangeError(`saveModel: labels must be ${model.numClasses} strings, one per class, got ${labels.length}`);
      meta.labels = metaJson(labels);
    }
  } else if (model instanceof Recurrent) {
    kind = "recurrent";
    if (config || vocab || labels) throw new RangeError("saveModel: a bare recurrent stack takes no vocab, labels or config (they are read off the layer)");
    cfg = recurrentConfigOf(model);
  } else {
    throw new RangeError("saveModel: the model must be a LanguageModel, a SequenceClassifier or an RNN/LSTM/GRU");
  }
  meta.model = kind;
  meta.config = metaJson(cfg);
  if (vocab) Object.assign(meta, vocabMetadata(vocab));
  meta.dtype = model.store.dtype;
  meta.step = "0";
  const snap: Snapshot = { tensors: tensorsOf(model.store), metadata: { ...meta, ...metadata } };
  checkSnapshotFinite(snap);
  return snap;
}

/**
 * A model as the bytes of a safetensors file, in the format of rnnlab's checkpoints: the weights
 * under PyTorch's names, and in the metadata what the model is, its config, vocabulary and
 * labels. `loadModel(bytes)` builds it back; a language model's bytes written to a file are a
 * checkpoint that `rnnlab sample`, `eval`, `diagnose` and `export` take. A model with a
 * non-finite weight is refused (CheckpointError).
 * @example
 * const bytes = saveModel(lm, { vocab });       // Uint8Array
 * const { model } = loadModel(bytes);           // the same weights, ready to sample
 */
export function saveModel(model: SavableModel, options: SaveModelOptions = {}): Uint8Array {
  const snap = modelSnapshot(model, options);
  return encodeSafetensors(snap.tensors, snap.metadata);
}

/**
 * Builds the model a file holds (saveModel's bytes, any of rnnlab train's checkpoints, or a
 * decoded snapshot with its tensors in a Map or a plain object) and loads its weights. Every
 * weight is checked first (present, of its shape, floating point, finite): a CheckpointError
 * says what is wrong.
 * @example
 * const saved = loadModel(new Uint8Array(await (await fetch("lm.safetensors")).arrayBuffer()));
 * if (saved.kind === "language-model") console.log(saved.vocab.decode(generate(saved.model, { prime: saved.vocab.encode("\n"), length: 80 })));
 */
export function loadModel(source: Uint8Array | ArrayBuffer | SnapshotInput, options: LoadModelOptions = {}): LoadedModel {
  const known = ["dtype", "kernels"];
  for (const k of Object.keys(options)) if (!known.includes(k)) throw new RangeError(`loadModel: unknown option "${k}" (known: ${known.join(", ")})`);
  let snap: Snapshot;
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) {
    try {
      snap = snapshotOf(decodeSafetensors(source instanceof ArrayBuffer ? new Uint8Array(source) : source));
    } catch (e) {
      if (e instanceof SafetensorsError) throw new CheckpointError(`not a safetensors file, or a damaged one (${e.message})`);
      throw e;
    }
  } else {
    snap = snapshotOf(source);
  }
  const meta = snap.metadata;
  if (meta.format !== SNAPSHOT_FORMAT) {
    const f = meta.format;
    throw new CheckpointError(
      `not an rnnlab model file (metadata "format" is ${typeof f === "string" ? JSON.stringify(f.slice(0, 40)) : "missing"}, expected "${SNAPSHOT_FORMAT}"); a PyTorch state dict loads with loadStateDict or rnnlab import`,
    );
  }
  const kind = (meta.model ?? "language-model") as ModelKind;
  if (!MODEL_KINDS.includes(kind))
    throw new CheckpointError(`metadata "model" must be one of ${MODEL_KINDS.join(", ")}, got ${JSON.stringify(String(kind).slice(0, 40))}`);
  const dtype: DType = options.dtype ?? (meta.dtype === "float64" ? "float64" : "float32");
  if (meta.dtype !== undefined && meta.dtype !== "float32" && meta.dtype !== "float64")
    throw new CheckpointError(`metadata "dtype" must be "float32" or "float64", got ${JSON.stringify(meta.dtype.slice(0, 40))}`);
  const metadata = { ...meta };
  try {
    return build(kind, snap, dtype, options.kernels, metadata);
  } catch (e) {
    // a config that builds no model is the file's fault, not the caller's
    if (e instanceof RangeError) throw new CheckpointError(`metadata "config" describes no model rnnlab can build: ${e.message}`);
    throw e;
  }
}

function build(kind: ModelKind, snap: Snapshot, dtype: DType, kernels: Kernels | undefined, metadata: Record<string, string>): LoadedModel {
  const meta = snap.metadata;
  const options = { kernels };
  switch (kind) {
    case "language-model": {
      const { model, vocab, config } = modelFromSnapshot(snap, { kernels: options.kernels, dtype });
      return { kind, model, vocab, config, metadata };
    }
    case "sequence-classifier": {
      const config = SequenceClassifier.parseConfig(jsonOf(meta, "config"));
      const vocab = meta.vocab !== undefined ? vocabFromMetadata(meta) : null;
      const labels = meta.labels !== undefined ? labelsOf(meta, config.numClasses) : null;
      const model = SequenceClassifier.fromConfig(config, { dtype, kernels: options.kernels });
      if (vocab && "vocabSize" in config && config.vocabSize !== undefined && vocab.size !== config.vocabSize)
        throw new CheckpointError(`vocabulary of ${vocab.size} tokens does not match the classifier's ${config.vocabSize}`);
      loadWeights(model.store, snap);
      return { kind, model, vocab, labels, config, metadata };
    }
    case "recurrent": {
      const config = parseRecurrentConfig(jsonOf(meta, "config"));
      const { cell, ...layer } = config;
      const model = createRecurrent(cell, { ...layer, dtype, kernels: options.kernels });
      loadWeights(model.store, snap);
      return { kind, model, config, metadata };
    }
  }
}

function labelsOf(meta: Record<string, string>, C: number): string[] {
  const v = jsonOf(meta, "labels");
  if (!Array.isArray(v) || v.some((l) => typeof l !== "string")) throw new CheckpointError('metadata "labels" is not a list of strings');
  if (v.length !== C) throw new CheckpointError(`metadata "labels" names ${v.length} classes, the classifier has ${C}`);
  return v as string[];
}

/** Every parameter's tensor, checked (present, shape, floating point, finite) before the first is written; a tensor no parameter has is an error. */
export function loadWeights(store: ParamStore, snap: Snapshot): void {
  const names = new Set(store.params.map((p) => p.name));
  for (const name of Object.keys(snap.tensors)) {
    if (!names.has(name)) throw new CheckpointError(`tensor "${name}" belongs to no parameter of the model (it has ${[...names].join(", ")})`);
  }
  const tensors = store.params.map((p) => {
    const t = Object.hasOwn(snap.tensors, p.name) ? snap.tensors[p.name] : undefined;
    if (!t) throw new CheckpointError(`tensor "${p.name}" is missing`);
    if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i]))
      throw new CheckpointError(`tensor "${p.name}" has shape [${t.shape.join(", ")}], the config needs [${p.shape.join(", ")}]`);
    if (t.data instanceof Int32Array) throw new CheckpointError(`tensor "${p.name}" holds integers (I32), but weights are floating point; the file is corrupt`);
    checkFinite(p.name, t.data);
    return t;
  });
  store.params.forEach((p, i) => p.value.set(tensors[i].data));
}
