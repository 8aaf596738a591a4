// Sequence classification: a recurrent stack reads each row of a padded batch (each row its own
// length) and a Linear head classifies either the whole sequence (many-to-one) or every step
// (many-to-many, `perStep`), with mean softmax cross-entropy as torch.nn.CrossEntropyLoss.
//
//   input:       x_t = E[id_t] (an Embedding, E (V, Emb)) for token ids, or the features x_t (I) as given
//   recurrent:   h_t = cell(x_t, h_{t-1}) over t < lengths[b] (nn/recurrent.ts: packed-sequence semantics)
//   many-to-one: z_b = W_head [h_fwd(b, lengths[b]-1) | h_rev(b, 0)] + b_head   (B, C): the top layer's
//                state at each row's own last step, and the reverse direction's after reading back to step 0
//   many-to-many: z_tb = W_head y_tb + b_head   (T, B, C), y the top layer's output at step t
//   loss:        E = mean over counted positions of -log softmax(z)[label]; a position is counted when
//                its label is not IGNORE_INDEX (-100, PyTorch's ignore_index) and, per step, t < lengths[b]
//
// T = steps, B = batch, I = input features, V = vocabulary, Emb = embedding size, H = hidden,
// S = the size of h (projSize P for an LSTM with projections, else H), D = directions, C = classes.
// Parameters, in PyTorch's names and order (a module with submodules embedding, rnn, head):
// embedding.weight (V, Emb) (token ids only), rnn.<nn.RNN/LSTM/GRU names>, head.weight (C, D*S), head.bias (C).
// Left out: batch-first layouts (inputs are time-major, (T, B) or (T, B, I), as PyTorch's default).

import type { DType, Float, Ids } from "../tensor/dtype.js";
import type { Kernels } from "../tensor/kernels.js";
import { Embedding } from "./embedding.js";
import { Linear } from "./linear.js";
import { checkOptions, checkSize } from "./module.js";
import { ParamStore } from "./params.js";
import { createRecurrent, type Recurrent, type RecurrentCache, type RecurrentInit } from "./recurrent.js";
import { CELL_NAMES, isCellName, type CellName } from "./cells.js";
import { crossEntropyBackward, crossEntropyForward, IGNORE_INDEX } from "./softmax-xent.js";

/** Options of a SequenceClassifier: what it reads (token ids or features), the recurrent stack, and the head. */
export interface SequenceClassifierOptions {
  /** C: number of classes (>= 2). */
  numClasses: number;
  /** I: features per step, for float inputs x (T, B, I). Give either this or vocabSize and embedSize. */
  inputSize?: number;
  /** V: token ids 0..V-1, for inputs x (T, B) of ids read through an Embedding (as torch.nn.Embedding). */
  vocabSize?: number;
  /** Emb: the embedding's size (with vocabSize). */
  embedSize?: number;
  /** H: hidden size of every recurrent layer. */
  hiddenSize: number;
  /** L: stacked recurrent layers. Default 1. */
  numLayers?: number;
  /** Recurrent cell (nn/cells.ts). Default `"lstm"`. */
  cell?: CellName;
  /** Elman nonlinearity when cell is "rnn". Default `"tanh"`. */
  nonlinearity?: "tanh" | "relu";
  /** Biases in the recurrent layers (the head always has one). Default true. */
  bias?: boolean;
  /** Dropout between recurrent layers, in training mode (PyTorch's `dropout`). Default 0. */
  dropout?: number;
  /** Read each sequence in both directions; the head sees both. Default false. */
  bidirectional?: boolean;
  /** LSTM only: PyTorch's proj_size (see RecurrentOptions.projSize). Default 0. */
  projSize?: number;
  /**
   * Many-to-many: a label per step, labels (T, B), logits (T, B, C), instead of one label per
   * sequence, labels (B), logits (B, C). Default false.
   */
  perStep?: boolean;
  /** Recurrent weight initialisation (RecurrentOptions.init). Default `"default"`. */
  init?: RecurrentInit;
  /** `init: "chrono"`: the longest dependency to expect, in steps. */
  chronoMax?: number;
  /** LSTM forget-gate bias at initialisation (RecurrentOptions.forgetBias). */
  forgetBias?: number;
  /** Default `"float32"`. */
  dtype?: DType;
  /** Initialisation seed (dropout masks use seed + 1). Default 0. */
  seed?: number;
  kernels?: Kernels;
}

/** Every key SequenceClassifierOptions has (an unknown key is refused). */
export const SEQUENCE_CLASSIFIER_OPTION_KEYS: readonly string[] = [
  "numClasses",
  "inputSize",
  "vocabSize",
  "embedSize",
  "hiddenSize",
  "numLayers",
  "cell",
  "nonlinearity",
  "bias",
  "dropout",
  "bidirectional",
  "projSize",
  "perStep",
  "init",
  "chronoMax",
  "forgetBias",
  "dtype",
  "seed",
  "kernels",
];

/**
 * The shape of a classifier as a file keeps it (model files, train/model-file.ts): what builds
 * the same parameters. Exactly one of `inputSize` (features) or `vocabSize` with `embedSize`
 * (token ids) is present. Initialisation settings (init, seed) are not part of it.
 */
export interface SequenceClassifierConfig {
  cell: CellName;
  nonlinearity: "tanh" | "relu";
  /** Float features per step (absent for a classifier over token ids). */
  inputSize?: number;
  /** Token ids 0..V-1 (absent for a classifier over features). */
  vocabSize?: number;
  /** The embedding's size (with vocabSize). */
  embedSize?: number;
  hiddenSize: number;
  numLayers: number;
  bias: boolean;
  dropout: number;
  bidirectional: boolean;
  numClasses: number;
  /** A label per step (many-to-many). Absent in older files: false. */
  perStep: boolean;
  /** LSTM projections (0: none). Absent in older files: 0. */
  projSize: number;
}

const CONFIG_KEYS = [
  "cell",
  "nonlinearity",
  "inputSize",
  "vocabSize",
  "embedSize",
  "hiddenSize",
  "numLayers",
  "bias",
  "dropout",
  "bidirectional",
  "numClasses",
  "perStep",
  "projSize",
] as const;

/**
 * A padded batch of sequences, time-major: x (T, B) token ids (Int32Array) for a classifier over
 * tokens, or (T, B, I) features (the model's float type); `lengths` (B whole numbers in 1..T)
 * gives each row its own length (default: every row has T steps). What is past a row's length is
 * never read. `padBatch` (data/sequence-batches.ts) makes one from a list of sequences.
 */
export interface ClassifierInput {
  x: Ids | Float;
  T: number;
  B: number;
  lengths?: ArrayLike<number> | null;
}

/**
 * A padded batch with its labels: (B) class ids, or (T, B) per step for a `perStep` classifier.
 * A label equal to IGNORE_INDEX (-100) is not counted, nor is a step past its row's length.
 */
export interface ClassifierBatch extends ClassifierInput {
  labels: Ids;
}

/** One pass's buffers (training and inference keep their own), sized for up to `cap` steps of batch B. */
interface Pass {
  cap: number;
  B: number;
  cache: RecurrentCache | null;
  ids: Int32Array; // (cap, B) token ids, positions past a row's length set to 0
  emb: Float; // (cap, B, Emb) embedded inputs
  last: Float; // (B, D*S) top-layer final states (many-to-one)
  logits: Float; // (rows, C)
  probs: Float; // (rows, C) softmax, then dlogits
  labels: Int32Array; // (rows) labels, IGNORE_INDEX where not counted
  dIn: Float; // (B, D*S) many-to-one, or (cap, B, D*S) many-to-many: the head's input gradient
  dState: Float[];
}

function emptyPass(): Pass {
  const f = new Float32Array(0);
  return { cap: 0, B: 0, cache: null, ids: new Int32Array(0), emb: f, last: f, logits: f, probs: f, labels: new Int32Array(0), dIn: f, dState: [] };
}

/**
 * Classifies sequences from a recurrent stack: one label per sequence from each row's state at
 * its own last step (both directions' when bidirectional), or with `perStep` one label per step.
 * Reads token ids through an Embedding (`vocabSize`, `embedSize`) or float features (`inputSize`).
 * Trainable by `Trainer` (train/trainer.ts) as a whole-sequence model: `trainer.step(batch)`.
 * Backward accumulates (+=) into parameter gradients; callers zero them once a step.
 * @example
 * const clf = new SequenceClassifier({ vocabSize: 30, embedSize: 16, hiddenSize: 32, numClasses: 4, cell: "gru", seed: 1 });
 * const batch = { ...padBatch([Int32Array.of(3, 1, 4), Int32Array.of(1, 5)]), labels: Int32Array.of(2, 0) }; // x (3, 2), lengths [3, 2]
 * const loss = clf.forward(batch);   // ~ log(4) = 1.39 at the start
 * clf.store.zeroGrad(); clf.backward(); // then an optimizer step on clf.store, or: trainer.step(batch)
 * clf.predict(batch);                // => Int32Array(2) of class ids
 */
export class SequenceClassifier {
  readonly store: ParamStore;
  /** The embedding of token ids, or null for a classifier over features. */
  readonly embedding: Embedding | null;
  readonly rnn: Recurrent;
  readonly head: Linear;
  readonly numClasses: number;
  /** Whether there is a label per step (many-to-many) rather than per sequence. */
  readonly perStep: boolean;
  /** The classifier's shape (see SequenceClassifierConfig). */
  readonly config: SequenceClassifierConfig;
  private readonly k: Kernels;
  private readonly tr: Pass = emptyPass();
  private readonly inf: Pass = emptyPass();
  // the last training forward, for backward
  private last = { T: 0, rows: 0, count: 0 };

  constructor(o: SequenceClassifierOptions) {
    checkOptions("SequenceClassifier", o, SEQUENCE_CLASSIFIER_OPTION_KEYS);
    checkSize("SequenceClassifier: numClasses", o.numClasses, 2);
    const ids = o.vocabSize !== undefined || o.embedSize !== undefined;
    if (ids && o.inputSize !== undefined)
      throw new RangeError("SequenceClassifier: give inputSize (float features) or vocabSize and embedSize (token ids), not both");
    if (ids) {
      checkSize("SequenceClassifier: vocabSize", o.vocabSize as number);
      checkSize("SequenceClassifier: embedSize", o.embedSize as number);
    } else if (o.inputSize === undefined) {
      throw new RangeError("SequenceClassifier: give inputSize (float features per step) or vocabSize and embedSize (token ids)");
    }
    const cell = o.cell ?? "lstm";
    if (!isCellName(cell)) throw new RangeError(`SequenceClassifier: cell "${cell}" is not available (have: ${CELL_NAMES.join(", ")})`);
    if (o.perStep !== undefined && typeof o.perStep !== "boolean")
      throw new RangeError(`SequenceClassifier: perStep must be true or false, got ${JSON.stringify(o.perStep)}`);
    const seed = o.seed ?? 0;
    this.store = new ParamStore({ dtype: o.dtype ?? "float32", seed, kernels: o.kernels });
    this.k = this.store.kernels;
    this.numClasses = o.numClasses;
    this.perStep = o.perStep ?? false;
    const ctx = { store: this.store, kernels: this.k };
    // declaration order is PyTorch's module order, and the order the seeded initialisation runs in
    this.embedding = ids ? new Embedding(o.vocabSize as number, o.embedSize as number, { ...ctx, prefix: "embedding" }) : null;
    this.rnn = createRecurrent(cell, {
      ...ctx,
      prefix: "rnn",
      inputSize: ids ? (o.embedSize as number) : (o.inputSize as number),
      hiddenSize: o.hiddenSize,
      numLayers: o.numLayers,
      bias: o.bias,
      dropout: o.dropout,
      bidirectional: o.bidirectional,
      projSize: o.projSize,
      init: o.init,
      chronoMax: o.chronoMax,
      forgetBias: o.forgetBias,
      nonlinearity: o.nonlinearity,
      dropoutSeed: seed + 1,
    });
    const r = this.rnn;
    this.head = new Linear(r.numDirections * r.outputSize, o.numClasses, { ...ctx, prefix: "head" });
    this.config = {
      cell,
      nonlinearity: r.mode === "RNN_RELU" ? "relu" : "tanh",
      ...(ids ? { vocabSize: o.vocabSize as number, embedSize: o.embedSize as number } : { inputSize: r.inputSize }),
      hiddenSize: r.hiddenSize,
      numLayers: r.numLayers,
      bias: r.bias,
      dropout: r.dropout,
      bidirectional: r.bidirectional,
      numClasses: o.numClasses,
      perStep: this.perStep,
      projSize: r.projSize,
    };
  }

  /** A classifier of a config's shape (initial weights from `seed`), e.g. to load saved weights into. */
  static fromConfig(config: SequenceClassifierConfig, o: { dtype?: DType; kernels?: Kernels; seed?: number } = {}): SequenceClassifier {
    return new SequenceClassifier({ ...config, ...o });
  }

  /**
   * A config from JSON, checked: a RangeError names the first setting that is wrong. `perStep`
   * and `projSize` may be absent (files written before they existed): false and 0.
   */
  static parseConfig(v: unknown): SequenceClassifierConfig {
    if (!v || typeof v !== "object" || Array.isArray(v)) throw new RangeError("config must be an object");
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o))
      if (!(CONFIG_KEYS as readonly string[]).includes(k)) throw new RangeError(`config.${k} is not a classifier setting (known: ${CONFIG_KEYS.join(", ")})`);
    const size = (k: string, min = 1) => {
      const n = o[k];
      if (typeof n !== "number" || !Number.isSafeInteger(n) || n < min)
        throw new RangeError(`config.${k} must be a whole number >= ${min}, is ${JSON.stringify(n)}`);
      return n;
    };
    const flag = (k: string) => {
      if (typeof o[k] !== "boolean") throw new RangeError(`config.${k} must be true or false, is ${JSON.stringify(o[k])}`);
      return o[k] as boolean;
    };
    if (!isCellName(o.cell)) throw new RangeError(`config.cell must be one of ${CELL_NAMES.join(", ")}, is ${JSON.stringify(o.cell)}`);
    if (o.nonlinearity !== "tanh" && o.nonlinearity !== "relu")
      throw new RangeError(`config.nonlinearity must be "tanh" or "relu", is ${JSON.stringify(o.nonlinearity)}`);
    if (typeof o.dropout !== "number" || !(o.dropout >= 0 && o.dropout < 1))
      throw new RangeError(`config.dropout must be a number in [0, 1), is ${JSON.stringify(o.dropout)}`);
    const ids = o.vocabSize !== undefined || o.embedSize !== undefined;
    if (ids && o.inputSize !== undefined) throw new RangeError("config has both inputSize and vocabSize/embedSize; a classifier reads one or the other");
    return {
      cell: o.cell,
      nonlinearity: o.nonlinearity,
      ...(ids ? { vocabSize: size("vocabSize"), embedSize: size("embedSize") } : { inputSize: size("inputSize") }),
      hiddenSize: size("hiddenSize"),
      numLayers: size("numLayers"),
      bias: flag("bias"),
      dropout: o.dropout,
      bidirectional: flag("bidirectional"),
      numClasses: size("numClasses", 2),
      perStep: o.perStep === undefined ? false : flag("perStep"),
      projSize: o.projSize === undefined ? 0 : size("projSize", 0),
    };
  }

  /** Training mode (dropout on, the default) or evaluation mode (off). Returns this. */
  train(on = true): this {
    this.rnn.train(on);
    return this;
  }

  /** Evaluation mode: dropout off. Returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Whether the classifier is in training mode (the recurrent layer's flag). */
  get training(): boolean {
    return this.rnn.training;
  }

  /** Rows of logits a batch has: B, or T*B per step. */
  private rowsOf(T: number, B: number): number {
    return this.perStep ? T * B : B;
  }

  private ensure(p: Pass, T: number, B: number): void {
    if (p.cache && p.B === B && T <= p.cap) return;
    const r = this.rnn;
    const DS = r.numDirections * r.outputSize;
    const C = this.numClasses;
    p.cap = Math.max(T, B === p.B ? p.cap : 0);
    p.B = B;
    const rows = this.rowsOf(p.cap, B);
    p.cache = r.createCache(p.cap, B);
    p.ids = new Int32Array(this.embedding ? p.cap * B : 0);
    p.emb = this.store.alloc(this.embedding ? p.cap * B * this.embedding.embeddingDim : 0);
    p.last = this.store.alloc(this.perStep ? 0 : B * DS);
    p.logits = this.store.alloc(rows * C);
    p.probs = this.store.alloc(rows * C);
    p.labels = new Int32Array(rows);
    p.dIn = this.store.alloc(rows * DS);
    p.dState = this.perStep ? [] : r.createState(B);
  }

  /** Checks a batch's shape and lengths; returns the lengths as Int32Array, or null when every row has T steps. */
  private check(b: ClassifierInput): Int32Array | null {
    const { x, T, B } = b;
    checkSize("SequenceClassifier: T (steps)", T);
    checkSize("SequenceClassifier: B (batch)", B);
    if (this.embedding) {
      if (!(x instanceof Int32Array)) throw new RangeError("SequenceClassifier: this classifier reads token ids: x must be an Int32Array (T, B)");
      if (x.length !== T * B) throw new RangeError(`SequenceClassifier: x (T, B) must have ${T}*${B} ids, got ${x.length}`);
    } else {
      const I = this.rnn.inputSize;
      const want = this.store.dtype === "float64" ? Float64Array : Float32Array;
      if (!(x instanceof want))
        throw new RangeError(`SequenceClassifier: this classifier reads ${this.store.dtype} features: x must be a ${want.name} (T, B, I)`);
      if (x.length !== T * B * I) throw new RangeError(`SequenceClassifier: x (T, B, I) must have ${T}*${B}*${I} values, got ${x.length}`);
    }
    if (b.lengths == null) return null;
    if (b.lengths.length !== B) throw new RangeError(`SequenceClassifier: lengths has ${b.lengths.length} entries for a batch of ${B}`);
    const lengths = Int32Array.from(b.lengths);
    for (let i = 0; i < B; i++) {
      if (!(Number.isInteger(b.lengths[i]) && lengths[i] >= 1 && lengths[i] <= T))
        throw new RangeError(`SequenceClassifier: lengths[${i}] = ${b.lengths[i]} is not a whole number in [1, ${T}]`);
    }
    return lengths;
  }

  /** Forward through the embedding (or the features), the recurrent stack and the head into p.logits. */
  private run(p: Pass, b: ClassifierInput, lengths: Int32Array | null): void {
    const { T, B } = b;
    this.ensure(p, T, B);
    const c = p.cache!;
    let x: Float;
    if (this.embedding) {
      // positions past a row's length are never read: they look up row 0, whatever the padding was
      const ids = p.ids;
      ids.set(b.x as Ids);
      if (lengths) for (let t = 0; t < T; t++) for (let i = 0; i < B; i++) if (t >= lengths[i]) ids[t * B + i] = 0;
      this.embedding.forward(p.emb, ids, T * B);
      x = p.emb;
    } else {
      x = b.x as Float;
    }
    this.rnn.forwardRaw(c, x, T, null, lengths);
    if (this.perStep) {
      this.head.forward(p.logits, c.topOutput, T * B);
    } else {
      c.lastHidden(p.last);
      this.head.forward(p.logits, p.last, B);
    }
  }

  /** Fills p.labels (rows): the batch's labels, IGNORE_INDEX at steps past a row's length. */
  private labelsOf(p: Pass, b: ClassifierBatch, lengths: Int32Array | null): number {
    const { T, B } = b;
    const rows = this.rowsOf(T, B);
    if (b.labels.length !== rows)
      throw new RangeError(`SequenceClassifier: labels must be ${this.perStep ? `(T, B) = ${T}*${B}` : `(B) = ${B}`} class ids, got ${b.labels.length}`);
    p.labels.set(b.labels.subarray(0, rows));
    if (this.perStep && lengths) for (let t = 0; t < T; t++) for (let i = 0; i < B; i++) if (t >= lengths[i]) p.labels[t * B + i] = IGNORE_INDEX;
    return rows;
  }

  /**
   * Mean cross-entropy (nats) of a batch's labels: over sequences, or over the counted steps with
   * `perStep`. NaN when nothing is counted (as PyTorch). Keeps what backward needs. Takes the
   * batch's parts, x (T, B[, I]), labels (B) or (T, B), T, B and lengths, or one ClassifierBatch.
   * @throws RangeError on a misshapen batch, a length outside 1..T, or a label outside [0, C) that is not IGNORE_INDEX.
   */
  forward(x: Ids | Float, labels: Ids, o: { T: number; B: number; lengths?: ArrayLike<number> | null }): number;
  /** The same, as one batch (what `Trainer.step(batch)` passes). */
  forward(batch: ClassifierBatch): number;
  forward(a: ClassifierBatch | Ids | Float, labels?: Ids, o?: { T: number; B: number; lengths?: ArrayLike<number> | null }): number {
    const b: ClassifierBatch = labels ? { x: a as Ids | Float, labels, T: o!.T, B: o!.B, lengths: o!.lengths } : (a as ClassifierBatch);
    const lengths = this.check(b);
    const p = this.tr;
    this.run(p, b, lengths);
    const rows = this.labelsOf(p, b, lengths);
    const r = crossEntropyForward(p.probs, p.logits, p.labels, rows, this.numClasses, this.k);
    this.last = { T: b.T, rows, count: r.count };
    return r.loss;
  }

  /** Accumulates into every parameter's gradient the gradient of `dloss` times the last forward's loss. */
  backward(dloss = 1): void {
    const { T, rows, count } = this.last;
    if (T === 0) throw new Error("SequenceClassifier.backward: call forward first");
    const p = this.tr;
    const c = p.cache!;
    const B = p.B;
    const r = this.rnn;
    const D = r.numDirections;
    const S = r.outputSize;
    const L = r.numLayers;
    // dlogits, in place over probs; then into the head's input
    crossEntropyBackward(p.probs, p.probs, p.labels, rows, this.numClasses, count, dloss, this.k);
    if (this.perStep) {
      // every step's output gets its gradient; steps past a row's length have none (their labels are ignored)
      this.head.backward(p.dIn, p.probs, c.topOutput, rows);
      r.backwardRaw(c, p.dIn, null);
    } else {
      this.head.backward(p.dIn, p.probs, p.last, B);
      // the head read the top layer's final states: scatter its gradient into dh_n, zero elsewhere
      for (const s of p.dState) s.fill(0);
      for (let d = 0; d < D; d++) {
        for (let b = 0; b < B; b++) this.k.copy(p.dState[0], (((L - 1) * D + d) * B + b) * S, p.dIn, (b * D + d) * S, S);
      }
      r.backwardRaw(c, null, p.dState);
    }
    // into the embedding rows the ids picked (rows past a length have a zero input gradient)
    if (this.embedding) this.embedding.backward(c.inputGrad, p.ids, T * B);
  }

  /**
   * Logits of a batch in evaluation mode (no dropout), apart from training's buffers: (B, C), or
   * (T, B, C) with `perStep` (rows past a sequence's length are the head of a zero state: ignore
   * them). A view, valid until the next inference call.
   */
  logitsOf(input: ClassifierInput): Float;
  /** The same, with the input's parts as arguments. */
  logitsOf(x: Ids | Float, T: number, B: number, lengths?: ArrayLike<number> | null): Float;
  logitsOf(a: ClassifierInput | Ids | Float, T?: number, B?: number, lengths?: ArrayLike<number> | null): Float {
    const b: ClassifierInput = T !== undefined ? { x: a as Ids | Float, T, B: B!, lengths } : (a as ClassifierInput);
    const len = this.check(b);
    const training = this.rnn.training;
    this.rnn.training = false;
    try {
      this.run(this.inf, b, len);
    } finally {
      this.rnn.training = training;
    }
    return this.inf.logits.subarray(0, this.rowsOf(b.T, b.B) * this.numClasses);
  }

  /**
   * Softmax probabilities (B, C), or (T, B, C) with `perStep` (all 0 at steps past a row's
   * length), in evaluation mode. A new array.
   */
  probabilities(input: ClassifierInput): Float {
    const logits = this.logitsOf(input);
    const C = this.numClasses;
    const out = logits.slice();
    const rows = out.length / C;
    for (let n = 0; n < rows; n++) {
      let m = -Infinity;
      for (let j = 0; j < C; j++) m = Math.max(m, out[n * C + j]);
      let s = 0;
      for (let j = 0; j < C; j++) s += out[n * C + j] = Math.exp(out[n * C + j] - m);
      for (let j = 0; j < C; j++) out[n * C + j] /= s;
    }
    if (this.perStep && input.lengths) maskPadded(out, input, C, 0);
    return out;
  }

  /**
   * The likeliest class of each sequence (B), or of each step (T, B) with `perStep`, where steps
   * past a row's length get IGNORE_INDEX (-100). Evaluation mode. A new array.
   */
  predict(input: ClassifierInput): Int32Array {
    const logits = this.logitsOf(input);
    const C = this.numClasses;
    const out = new Int32Array(logits.length / C);
    for (let n = 0; n < out.length; n++) {
      let best = 0;
      for (let j = 1; j < C; j++) if (logits[n * C + j] > logits[n * C + best]) best = j;
      out[n] = best;
    }
    if (this.perStep && input.lengths) maskPadded(out, input, 1, IGNORE_INDEX);
    return out;
  }

  /**
   * How many predictions match a batch's labels, over the counted positions (sequences, or steps
   * within their row's length; labels equal to IGNORE_INDEX are not counted). `accuracy` =
   * correct / count (NaN when nothing is counted).
   */
  accuracy(batch: ClassifierBatch): { correct: number; count: number; accuracy: number } {
    const pred = this.predict(batch);
    if (batch.labels.length !== pred.length)
      throw new RangeError(`SequenceClassifier: labels must be ${this.perStep ? "(T, B)" : "(B)"} = ${pred.length} class ids, got ${batch.labels.length}`);
    let correct = 0;
    let count = 0;
    for (let n = 0; n < pred.length; n++) {
      const y = batch.labels[n];
      if (y === IGNORE_INDEX || pred[n] === IGNORE_INDEX) continue;
      count++;
      if (pred[n] === y) correct++;
    }
    return { correct, count, accuracy: correct / count };
  }
}

/** Sets the rows (T, B, W) of steps past each row's length to `value`. */
function maskPadded(a: Float | Int32Array, input: ClassifierInput, W: number, value: number): void {
  const { T, B, lengths } = input;
  if (!lengths) return;
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) if (t >= lengths[b]) a.fill(value, (t * B + b) * W, (t * B + b + 1) * W);
}
