// A language-model training run as one object: model, optimizer, truncated BPTT, data position,
// validation, samples, and a snapshot of all of it that restores to a run which continues
// bit for bit as if never stopped. No I/O here: the CLI and the web lab decide where snapshots go.
//
// Snapshot layout (DESIGN.md, "Files and failure"): tensors are the model's parameters under
// PyTorch's names, the optimizer's state as `optim.<buffer>.<parameter>`, and the carried
// recurrent state as `state.h` (plus `state.history_inputs/targets` when k2 > k1); the string
// metadata holds the config, vocabulary, step, RNG state and data position as JSON.

import { CharVocab, type Vocab } from "../data/vocab.js";
import { vocabMetadata, WordVocab, wordVocabOptionsOf } from "../data/words.js";
import { StreamBatcher } from "../data/batches.js";
import type { TokenArray } from "../data/corpus.js";
import { generate, type SampleOptions } from "../nn/generate.js";
import type { ModelConfig } from "../nn/language-model.js";
import { buildLanguageModel as buildModel, isRecurrentLM, stateTensors, type AnyLanguageModel } from "../nn/lm.js";
import { Rng } from "../tensor/rng.js";
import { evaluateLoss } from "./evaluate.js";
import { createOptimizer, type Optimizer, type OptimizerName } from "./optim.js";
import { Trainer, type NonFinitePolicy, type StepReport } from "./trainer.js";
import type { ScheduleSpec } from "./schedule.js";
import type { Kernels } from "../tensor/kernels.js";
import type { DType } from "../tensor/dtype.js";
import { DataParallelLM, type SharedMemoryKernels, type Spawn } from "./parallel.js";
import { CheckpointError, finiteInFloat32 } from "../errors.js";
import { checkInferenceFits, checkTrainingFits, MAX_THREADS } from "./memory.js";
import { checkFinite, int, intOf, jsonOf, metaJson, object, parseRunConfig } from "./schema.js";
import { NON_NEGATIVE_STATE } from "./optim.js";

export type { ModelConfig };

/** The training half of a run's config. */
export interface TrainConfig {
  batch: number;
  /** Truncated BPTT: steps per update (the window length). */
  k1: number;
  /** Truncated BPTT: steps backpropagated through (>= k1). */
  k2: number;
  optimizer: OptimizerName;
  lr: number;
  momentum: number;
  weightDecay: number;
  /** Clip the global gradient norm to this (null: no clipping). */
  clipNorm: number | null;
  /** Clamp gradient elements to ± this (null: no clamping). */
  clipValue: number | null;
  nonFinite: NonFinitePolicy;
  seed: number;
  /** Learning-rate schedule over `lr` (train/schedule.ts). Default constant. */
  schedule?: ScheduleSpec;
  /** Updates of linear warm-up before the schedule (0: none). */
  warmup?: number;
}

/** Settings a run may change between steps (TrainingRun.adjust, TaskRun.adjust; the lab's live controls). */
export interface TrainingAdjustment {
  /** The learning rate (> 0, finite in float32). */
  lr?: number;
  /** The momentum of SGD or RMSprop, in [0, 1] (not from 0 to positive: the optimizer keeps no buffer then). */
  momentum?: number;
  /** Clip the global gradient norm to this (null: no norm clipping). */
  clipNorm?: number | null;
  /** Clamp gradient elements to ± this (null: no value clipping). */
  clipValue?: number | null;
}

/**
 * `changes` checked against the ranges a checkpoint allows and what the optimizer can do;
 * the keys given, or a RangeError naming the first bad one.
 */
export function checkAdjustment(changes: TrainingAdjustment, optimizer: OptimizerName, opt?: Optimizer): TrainingAdjustment {
  const known = ["lr", "momentum", "clipNorm", "clipValue"];
  for (const k of Object.keys(changes)) if (!known.includes(k)) throw new RangeError(`adjust: unknown setting "${k}" (known: ${known.join(", ")})`);
  const positive = (k: string, v: number) => {
    if (!(typeof v === "number" && v > 0 && finiteInFloat32(v))) throw new RangeError(`${k} must be a number > 0 that float32 holds, got ${v}`);
  };
  const out: TrainingAdjustment = {};
  if (changes.lr !== undefined) {
    positive("lr", changes.lr);
    out.lr = changes.lr;
  }
  if (changes.momentum !== undefined) {
    const m = changes.momentum;
    if (optimizer !== "sgd" && optimizer !== "rmsprop") throw new RangeError(`momentum is a setting of sgd and rmsprop; ${optimizer} has none to change`);
    if (!(typeof m === "number" && m >= 0 && m <= 1)) throw new RangeError(`momentum must be a number from 0 to 1, got ${m}`);
    const o = opt as unknown as { momentum?: number; stateBuffers(): Record<string, unknown> } | undefined;
    if (o && m > 0 && !("momentum_buffer" in o.stateBuffers()))
      throw new RangeError(`momentum: this run's ${optimizer} was made without momentum (it keeps no momentum buffer); start a new run with momentum > 0`);
    out.momentum = m;
  }
  for (const k of ["clipNorm", "clipValue"] as const) {
    const v = changes[k];
    if (v === undefined) continue;
    if (v !== null) positive(k, v);
    out[k] = v;
  }
  return out;
}

/** A run's whole config, as checkpoints keep it (metadata "config"): the model's shape and the training settings. */
export interface RunConfig {
  model: ModelConfig;
  train: TrainConfig;
}

/** Tensors and string metadata, ready for a safetensors file. */
export interface Snapshot {
  tensors: Record<string, { shape: number[]; data: Float32Array | Float64Array | Int32Array }>;
  metadata: Record<string, string>;
}

/** A snapshot as the caller has it: tensors in a plain object or a Map (decodeSafetensors returns a Map). */
export interface SnapshotInput {
  tensors:
    | Readonly<Record<string, { readonly shape: readonly number[]; readonly data: Float32Array | Float64Array | Int32Array }>>
    | ReadonlyMap<string, { readonly shape: readonly number[]; readonly data: Float32Array | Float64Array | Int32Array }>;
  metadata: Readonly<Record<string, string>>;
}

/** A Snapshot from either form of its tensors (names become own properties: "__proto__" is a name like any other). */
export function snapshotOf(input: SnapshotInput): Snapshot {
  if (!input || typeof input !== "object" || !input.tensors || typeof input.tensors !== "object")
    throw new CheckpointError("not a snapshot: expected { tensors, metadata } (decodeSafetensors(bytes) gives one)");
  const tensors: Snapshot["tensors"] = {};
  const entries = input.tensors instanceof Map ? [...input.tensors] : Object.entries(input.tensors);
  for (const [name, t] of entries) Object.defineProperty(tensors, name, { value: { shape: [...t.shape], data: t.data }, enumerable: true, writable: true });
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.metadata ?? {})) Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true });
  return { tensors, metadata };
}

export { CheckpointError };

/** The metadata "format" of every rnnlab checkpoint and model file. */
export const SNAPSHOT_FORMAT = "rnnlab-checkpoint/1";

/** Whether a model config has embedding or output dropout (whose mask counter a snapshot keeps as "lm_dropout_calls"). */
function hasModelDropout(m: ModelConfig): boolean {
  return (m.embeddingDropout ?? 0) > 0 || (m.outputDropout ?? 0) > 0;
}

/** How a run computes: threads, and how to start one (platform-specific). */
export interface RunOptions {
  /**
   * Threads for data parallelism over batch rows (1: none). Needs the WebAssembly kernels and
   * `spawn`. At most the batch and MAX_THREADS (32) are used. Default 1.
   */
  threads?: number;
  /** Starts a worker thread (io/threads.ts in Node). */
  spawn?: Spawn;
  /**
   * Block in the constructor until the threads are up (default true). In a browser worker pass
   * false and `await run.started()` before the first step: nested Web Workers start only when
   * their parent yields.
   */
  waitForThreads?: boolean;
  /** The model's kernel set. Default: the store's default (tensor/select.ts). */
  kernels?: Kernels;
}

/** One training run of a character language model. */
export class TrainingRun {
  readonly model: AnyLanguageModel;
  readonly optimizer: Optimizer;
  readonly trainer: Trainer<Int32Array, Int32Array>;
  readonly batcher: StreamBatcher;
  /** The Rng of samples shown during training (training itself draws nothing). */
  readonly rng: Rng;
  /** Threads actually used (1 when the runtime cannot share memory between threads). */
  readonly threads: number;
  private readonly parallel: DataParallelLM | null = null;

  constructor(
    readonly config: RunConfig,
    readonly vocab: Vocab,
    readonly trainTokens: TokenArray,
    readonly valTokens: TokenArray | null,
    options: RunOptions = {},
  ) {
    const { model: m, train: t } = config;
    if (m.vocabSize !== vocab.size) throw new RangeError(`vocabulary has ${vocab.size} tokens, the model ${m.vocabSize}`);
    const threads = Math.max(1, Math.min(options.threads ?? 1, t.batch, MAX_THREADS));
    checkTrainingFits(m, t, threads); // before any buffer is allocated
    this.model = buildModel(m, t.seed, options.kernels);
    this.optimizer = createOptimizer(t.optimizer, this.model.store, { lr: t.lr, momentum: t.momentum, weightDecay: t.weightDecay });
    const k = this.model.store.kernels as Partial<SharedMemoryKernels> & { module?: WebAssembly.Module };
    if (threads > 1 && isRecurrentLM(this.model) && options.spawn && k.arena && k.module && k.arena.holds(this.model.store.values)) {
      this.parallel = new DataParallelLM(this.model, t.batch, t.k2, threads, k as SharedMemoryKernels, k.module, options.spawn, options.waitForThreads ?? true);
    }
    this.threads = this.parallel ? threads : 1;
    this.trainer = new Trainer(this.parallel ?? this.model, {
      optimizer: this.optimizer,
      batch: t.batch,
      k1: t.k1,
      k2: t.k2,
      clipNorm: t.clipNorm ?? undefined,
      clipValue: t.clipValue ?? undefined,
      nonFinite: t.nonFinite,
    });
    this.batcher = new StreamBatcher(trainTokens, t.batch, t.k1);
    this.rng = new Rng(t.seed + 1);
  }

  /** Steps taken so far. */
  get steps(): number {
    return this.trainer.stats.steps;
  }

  /** Windows per pass over the training data. */
  get stepsPerEpoch(): number {
    return this.batcher.windowsPerPass;
  }

  /** One update from the next window; a new pass over the data starts from a zero state. */
  step(): StepReport {
    const b = this.batcher.next();
    if (b.first) this.trainer.tbptt.reset();
    return this.trainer.step(b.inputs, b.targets, b.T);
  }

  /**
   * Changes settings of the running model between steps, as a PyTorch loop may change
   * `param_groups[0]["lr"]` or the max_norm it passes to clip_grad_norm_: the learning rate, the
   * momentum (SGD and RMSprop), norm clipping and value clipping (null: none). The run's config
   * records the new values, so its snapshots continue with them. Throws a RangeError, changing
   * nothing, when a value is out of range.
   */
  adjust(changes: TrainingAdjustment): void {
    const t = this.config.train;
    const next = checkAdjustment(changes, t.optimizer, this.optimizer);
    if (next.lr !== undefined) this.optimizer.lr = next.lr;
    if (next.momentum !== undefined) (this.optimizer as unknown as { momentum: number }).momentum = next.momentum;
    this.trainer.updater.configure(next);
    Object.assign(t, next);
  }

  /** Validation loss in nats per character (null without validation data). */
  validate(maxTokens?: number): number | null {
    if (!this.valTokens) return null;
    this.model.eval(); // no dropout while measuring
    try {
      return evaluateLoss(this.parallel ?? this.model, this.valTokens, this.config.train.batch, this.config.train.k1, { maxTokens }).loss;
    } finally {
      this.model.train();
    }
  }

  /** Resolves when the worker threads are up (at once with one thread). */
  async started(): Promise<void> {
    await this.parallel?.started();
  }

  /** Stops the worker threads, if any. */
  dispose(): void {
    this.parallel?.dispose();
  }

  /** A sample of `length` characters after `prime` (default: a newline when the vocabulary has one). */
  sample(length: number, o: SampleOptions & { prime?: string; rng?: Rng } = {}): string {
    const prime = o.prime ?? defaultPrime(this.vocab);
    const ids = generate(this.model, { prime: this.vocab.encode(prime), length, rng: o.rng ?? this.rng, temperature: o.temperature, topK: o.topK });
    return this.vocab.decode(ids);
  }

  /** Everything needed to continue exactly, plus `extra` metadata strings of the caller's. */
  snapshot(extra: Record<string, string> = {}): Snapshot {
    const { model, optimizer, trainer } = this;
    const tensors: Snapshot["tensors"] = {};
    for (const p of model.store.params) tensors[p.name] = { shape: [...p.shape], data: p.value };
    for (const [buf, flat] of Object.entries(optimizer.stateBuffers())) {
      for (const p of model.store.params) tensors[`optim.${buf}.${p.name}`] = { shape: [...p.shape], data: flat.subarray(p.offset, p.offset + p.size) };
    }
    const B = this.config.train.batch;
    const carried = trainer.tbptt.carried();
    stateTensors(this.config.model, B).forEach((s, i) => (tensors[s.name] = { shape: s.shape, data: carried.state[i] })); // state.h (and state.c), or state.window
    if (carried.history > 0) {
      tensors["state.history_inputs"] = { shape: [carried.history, B], data: carried.inputs! };
      tensors["state.history_targets"] = { shape: [carried.history, B], data: carried.targets! };
    }
    return {
      tensors,
      metadata: {
        format: SNAPSHOT_FORMAT,
        config: metaJson(this.config),
        ...vocabMetadata(this.vocab),
        step: String(this.steps),
        optimizer_steps: String(optimizer.stepCount),
        stats: metaJson(trainer.stats),
        rng: metaJson(this.rng.getState()),
        dropout_calls: String(isRecurrentLM(model) ? model.rnn.dropoutCalls : 0),
        // the embedding and output masks' counter: only models with those dropouts have one (older checkpoints stay as they were)
        ...(hasModelDropout(this.config.model) ? { lm_dropout_calls: String(model.dropoutCalls) } : {}),
        data_position: String(this.batcher.position),
        ...extra,
      },
    };
  }

  /**
   * A run continuing from a snapshot, on the same training and validation tokens. Everything the
   * snapshot says is checked first (train/schema.ts): a CheckpointError names what is wrong.
   */
  static restore(input: SnapshotInput, trainTokens: TokenArray, valTokens: TokenArray | null, options: RunOptions & { vocab?: Vocab } = {}): TrainingRun {
    const snap = snapshotOf(input);
    const { config, vocab } = readHeader(snap);
    // the ids of the text mean the checkpoint's tokens only when the text's vocabulary is the same
    if (
      options.vocab &&
      (options.vocab.kind !== vocab.kind || options.vocab.size !== vocab.size || options.vocab.tokens.some((t, i) => t !== vocab.tokens[i]))
    ) {
      const i = options.vocab.tokens.findIndex((t, j) => t !== vocab.tokens[j]);
      throw new CheckpointError(
        `metadata "vocab" is not the text's vocabulary (${vocab.size} tokens against ${options.vocab.size}${i >= 0 ? `; token ${i} is ${JSON.stringify(vocab.tokens[i] ?? null)} against ${JSON.stringify(options.vocab.tokens[i])}` : ""}); the checkpoint does not belong to this text`,
      );
    }
    const meta = snap.metadata;
    const V = config.model.vocabSize;
    const B = config.train.batch;
    // the counters, against each other, before anything is built
    const step = intOf(meta, "step");
    const optimizerSteps = intOf(meta, "optimizer_steps", 0, step);
    const rawStats = object(jsonOf(meta, "stats"), '"stats"');
    const stats = {
      steps: int(rawStats.steps, '"stats".steps', step, step),
      skipped: int(rawStats.skipped, '"stats".skipped', 0, step),
      clipped: int(rawStats.clipped, '"stats".clipped', 0, step),
    };
    const position = intOf(meta, "data_position", step, step);
    const dropoutCalls = intOf(meta, "dropout_calls");
    // required when the model draws embedding or output masks; absent otherwise (0)
    const lmDropoutCalls = hasModelDropout(config.model) || meta.lm_dropout_calls !== undefined ? intOf(meta, "lm_dropout_calls") : 0;
    const rng = jsonOf(meta, "rng");
    const hist = snap.tensors["state.history_inputs"] ? snap.tensors["state.history_inputs"].shape[0] : 0;
    if (hist > config.train.k2 - config.train.k1)
      throw new CheckpointError(
        `tensor "state.history_inputs" holds ${hist} steps, truncated BPTT(${config.train.k1}, ${config.train.k2}) keeps at most ${config.train.k2 - config.train.k1}`,
      );
    const ids = (name: string): Int32Array => {
      const t = tensorOf(snap, name, [hist, B], "ids");
      const d = t.data as Int32Array;
      for (let i = 0; i < d.length; i++)
        if (d[i] < 0 || d[i] >= V) throw new CheckpointError(`tensor "${name}" holds token id ${d[i]}, outside the vocabulary of ${V}`);
      return d;
    };
    const carried = {
      state: stateTensors(config.model, B).map((s) => {
        const d = tensorOf(snap, s.name, s.shape).data;
        // a window's ids + 1: whole numbers in [0, V]
        if (config.model.cell === "mlp")
          for (let i = 0; i < d.length; i++)
            if (!(Number.isInteger(d[i]) && d[i] >= 0 && d[i] <= V))
              throw new CheckpointError(`tensor "${s.name}" holds ${d[i]} at element ${i}, not a token id + 1 in [0, ${V}]; the checkpoint is corrupt`);
        return d;
      }),
      history: hist,
      inputs: hist ? ids("state.history_inputs") : null,
      targets: hist ? ids("state.history_targets") : null,
    };
    const run = new TrainingRun(config, vocab, trainTokens, valTokens, options);
    try {
      loadParams(run.model, snap);
      for (const [buf, flat] of Object.entries(run.optimizer.stateBuffers())) {
        for (const p of run.model.store.params) {
          const name = `optim.${buf}.${p.name}`;
          const t = tensorOf(snap, name, p.shape);
          if (NON_NEGATIVE_STATE.has(buf)) {
            for (let i = 0; i < t.data.length; i++)
              if (!(t.data[i] >= 0))
                throw new CheckpointError(
                  `tensor "${name}" holds ${t.data[i]} at element ${i}, but a running average of squares is never negative; the checkpoint is corrupt: use an earlier one`,
                );
          }
          flat.set(t.data, p.offset);
        }
      }
      run.optimizer.setStepCount(optimizerSteps);
      run.trainer.tbptt.restore(carried);
      Object.assign(run.trainer.stats, stats);
      run.batcher.position = position;
      try {
        run.rng.setState(rng as number[]);
      } catch (e) {
        throw new CheckpointError(`metadata "rng" is not a generator state: ${(e as Error).message}`);
      }
      if (isRecurrentLM(run.model)) run.model.rnn.dropoutCalls = dropoutCalls;
      run.model.dropoutCalls = lmDropoutCalls;
    } catch (e) {
      run.dispose();
      throw e;
    }
    return run;
  }
}

/**
 * The model, vocabulary and config of a snapshot (weights only: enough to sample and evaluate).
 * The config, vocabulary and weights are checked first: a CheckpointError names what is wrong.
 */
export function modelFromSnapshot(
  input: SnapshotInput,
  options: { kernels?: Kernels; dtype?: DType } = {},
): { model: AnyLanguageModel; vocab: Vocab; config: RunConfig } {
  const snap = snapshotOf(input);
  const { config, vocab } = readHeader(snap);
  checkInferenceFits(config.model, 1, 1); // the weights themselves; evaluation checks its own windows
  const model = buildModel(config.model, config.train.seed, options.kernels, options.dtype);
  loadParams(model, snap);
  return { model, vocab, config };
}

/**
 * Throws a CheckpointError when a snapshot holds a non-finite number in any float tensor; used
 * before every save, so that no checkpoint ever holds NaN or an infinity.
 */
export function checkSnapshotFinite(snap: SnapshotInput): void {
  for (const [name, t] of snap.tensors instanceof Map ? snap.tensors : Object.entries(snap.tensors)) {
    if (!(t.data instanceof Int32Array)) checkFinite(name, t.data, "refusing to save non-finite numbers");
  }
}

/** What generation starts from when no prime is given: a line break (a newline character, or <eos>), else the first token. */
export function defaultPrime(vocab: Vocab): string {
  return vocab.kind === "words" || vocab.has("\n") ? "\n" : vocab.tokens[0];
}

function readHeader(snap: Snapshot): { config: RunConfig; vocab: Vocab } {
  if (snap.metadata.format !== SNAPSHOT_FORMAT) {
    const f = snap.metadata.format;
    throw new CheckpointError(
      `not an rnnlab checkpoint (metadata "format" is ${typeof f === "string" ? JSON.stringify(f.slice(0, 40)) : "missing"}, expected "${SNAPSHOT_FORMAT}")`,
    );
  }
  const kind = snap.metadata.model ?? MODEL_KINDS[0];
  if (kind !== MODEL_KINDS[0]) {
    throw new CheckpointError(
      `the file holds ${kind === "sequence-classifier" ? "a sequence classifier" : kind === "recurrent" ? "a bare recurrent layer (RNN, LSTM or GRU)" : `a model of kind ${JSON.stringify(kind.slice(0, 40))}`}, not a language model${kind === "sequence-classifier" ? " (use rnnlab classify predict, or loadModel in code)" : " (load it in code with loadModel)"}`,
    );
  }
  const config = parseRunConfig(jsonOf(snap.metadata, "config"));
  const vocab = vocabFromMetadata(snap.metadata);
  if (vocab.size !== config.model.vocabSize)
    throw new CheckpointError(`vocabulary of ${vocab.size} tokens does not match the model's ${config.model.vocabSize}`);
  return { config, vocab };
}

/** What a saved file holds (its metadata "model"; absent: a language model, as every CLI checkpoint). */
export const MODEL_KINDS = ["language-model", "sequence-classifier", "recurrent"] as const;
/** One of MODEL_KINDS. */
export type ModelKind = (typeof MODEL_KINDS)[number];

/** The vocabulary in a file's metadata ("vocab": the tokens in id order; "tokens": "chars" or "words"; for words, "unk_token" and "eos_token" when not <unk> and <eos>: data/words.ts wordVocabMetadata), checked. */
export function vocabFromMetadata(meta: Record<string, string>): Vocab {
  const chars = jsonOf(meta, "vocab");
  if (!Array.isArray(chars) || chars.some((c) => typeof c !== "string")) throw new CheckpointError('metadata "vocab" is not a list of tokens');
  const kind = meta.tokens ?? "chars";
  if (kind !== "chars" && kind !== "words") throw new CheckpointError(`metadata "tokens" must be "chars" or "words", got ${JSON.stringify(kind)}`);
  try {
    return kind === "words" ? new WordVocab(chars as string[], wordVocabOptionsOf(meta)) : new CharVocab(chars as string[]);
  } catch (e) {
    throw new CheckpointError(`metadata "vocab": ${(e as Error).message}`);
  }
}

/** Loads every parameter's tensor, each checked for shape, dtype and finiteness before the first is written. */
function loadParams(model: AnyLanguageModel, snap: Snapshot): void {
  const tensors = model.store.params.map((p) => tensorOf(snap, p.name, p.shape));
  model.store.params.forEach((p, i) => p.value.set(tensors[i].data));
}

/**
 * A snapshot's tensor, checked: present, of this shape, and either floating point and finite
 * (weights, optimizer state, carried state) or, for `kind: "ids"`, 32-bit integers.
 */
function tensorOf(snap: Snapshot, name: string, shape: readonly number[], kind: "float" | "ids" = "float"): Snapshot["tensors"][string] {
  const t = Object.hasOwn(snap.tensors, name) ? snap.tensors[name] : undefined;
  if (!t) throw new CheckpointError(`tensor "${name}" is missing`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new CheckpointError(`tensor "${name}" has shape [${t.shape.join(", ")}], the config needs [${shape.join(", ")}]`);
  }
  if (kind === "ids" ? !(t.data instanceof Int32Array) : t.data instanceof Int32Array) {
    throw new CheckpointError(
      `tensor "${name}" holds ${t.data instanceof Int32Array ? "integers (I32)" : "floating-point numbers"}, but ${kind === "ids" ? "token ids are I32" : "it must be floating point (F32, F16, BF16 or F64)"}; the checkpoint is corrupt`,
    );
  }
  if (kind === "float") checkFinite(name, t.data);
  return t;
}
