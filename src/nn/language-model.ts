// A character (or word) language model: Embedding -> stacked recurrent layers (RNN, LSTM or GRU) -> Linear head ->
// softmax cross-entropy against the next token, with optional weight tying (Press & Wolf 2017;
// Inan et al. 2017): the head's weight *is* the embedding's weight, one Parameter used twice,
// so its gradient is the sum of both uses (the lecture's "backpropagation with weight constraints").
//
// T = steps, B = batch (streams), V = vocabulary, E = embedding size, H = hidden, L = layers.
// Parameter names as a PyTorch module with submodules `embedding`, `rnn`, `head` would have:
// embedding.weight (V, E), rnn.weight_ih_l0 (G, E), ..., head.weight (V, H) (absent when tied), head.bias (V).
// The recurrent state is [h] (RNN, GRU) or [h, c] (LSTM), each (L, B, H).
//
// Dropout as PyTorch's word_language_model example places it (its RNNModel: emb = drop(encoder(x));
// out = rnn(emb) with the rnn's own dropout between layers; logits = decoder(drop(out))): in
// training mode only, inverted (kept values scaled by 1/(1-p)), on the embedded inputs (T, B, E)
// with p = embeddingDropout, between the recurrent layers with p = dropout (the Recurrent layer's),
// and on the top layer's outputs (T, B, H) with p = outputDropout. Masks are a counter-based hash
// of (seed, call, site, step, global row, feature), the Recurrent layer's scheme (nn/recurrent.ts):
// the mask of a row does not depend on how a batch is split between threads (rowOffset), and
// `dropoutCalls` (the forward passes that drew masks here; checkpoints keep it) makes the next
// masks reproducible on resume. Sites: 0 the embedding, 1..L-1 the recurrent layers' outputs
// (the Recurrent layer's own keys), L the top layer's output.

import type { DType, Float, Ids } from "../tensor/dtype.js";
import type { Kernels } from "../tensor/kernels.js";
import { checkIds, Embedding } from "./embedding.js";
import { Linear } from "./linear.js";
import { checkOptions, checkSize } from "./module.js";
import { ParamStore, uniformInit } from "./params.js";
import { createRecurrent, type Recurrent, type RecurrentCache, type RecurrentInit } from "./recurrent.js";
import { CELL_NAMES, isCellName, type CellName } from "./cells.js";
import { crossEntropyBackward, crossEntropyForward, IGNORE_INDEX } from "./softmax-xent.js";
import type { PredictPlan } from "./generate.js";

/** A language model's shape as a serializable config: the model half of a run's config (train/run.ts) and of checkpoints. */
export interface ModelConfig {
  /** A recurrent cell, or "mlp": the feed-forward model over a window (FeedForwardLM; numLayers counts its hidden layers). */
  cell: CellName | "mlp";
  /** "mlp" only: the tokens one prediction sees (n). */
  window?: number;
  /** "mlp" only: Bengio's direct connections from the window to the logits. Absent: false. */
  direct?: boolean;
  vocabSize: number;
  embedSize: number;
  hiddenSize: number;
  numLayers: number;
  nonlinearity: "tanh" | "relu";
  tieWeights: boolean;
  /** Dropout between recurrent layers (0: none). */
  dropout?: number;
  /** Dropout on the embedded inputs, in training (absent: 0). */
  embeddingDropout?: number;
  /** Dropout on the top recurrent layer's outputs, before the head, in training (absent: 0). */
  outputDropout?: number;
  init?: RecurrentInit;
  forgetBias?: number;
}

/** Options of a LanguageModel. */
export interface LanguageModelOptions {
  /** V: number of distinct tokens. */
  vocabSize: number;
  /** E: embedding size. */
  embedSize: number;
  /** H: hidden size of every recurrent layer. */
  hiddenSize: number;
  /** L: stacked recurrent layers. Default 1. */
  numLayers?: number;
  /** Recurrent cell. Default `"rnn"` (Elman). */
  cell?: CellName;
  /** Dropout between recurrent layers, in training mode (PyTorch's `dropout`). Default 0. */
  dropout?: number;
  /**
   * Dropout probability p in [0, 1) on the embedded inputs x (T, B, E), in training mode: x_i is
   * kept with probability 1-p and scaled by 1/(1-p), else 0 (word_language_model's `drop(encoder(input))`).
   * While it is active the embedding is never folded (`foldEmbedding`). Default 0.
   */
  embeddingDropout?: number;
  /**
   * Dropout probability p in [0, 1) on the top recurrent layer's outputs y (T, B, H) before the
   * head, in training mode: logits = W_head (m ⊙ y) + b with m_i = 0 or 1/(1-p)
   * (word_language_model's `decoder(drop(output))`). Default 0.
   */
  outputDropout?: number;
  /** Recurrent weight initialisation (see RecurrentOptions.init). Default `"default"`. */
  init?: RecurrentInit;
  /** LSTM forget-gate bias (see RecurrentOptions.forgetBias). Default: PyTorch's uniform init. */
  forgetBias?: number;
  /** `init: "chrono"`: the longest dependency to expect, in steps (see RecurrentOptions.chronoMax). */
  chronoMax?: number;
  /**
   * Fold the embedding into the first recurrent layer's input projection: with E the embedding
   * (V, E) and W_ih (G, E), x_t W_ih^T = (E W_ih^T)[token], so one (V x E)·(E x G) product per
   * pass replaces the (T*B x E)·(E x G) one, and the backward likewise works on V rows, not T*B.
   * The same numbers up to float rounding. Default: when V <= T*B / 2, decided per pass.
   */
  foldEmbedding?: boolean;
  /** Elman nonlinearity. Default `"tanh"`. */
  nonlinearity?: "tanh" | "relu";
  /** Biases in the recurrent layers. Default true. */
  bias?: boolean;
  /**
   * Tie the head's weight to the embedding (needs embedSize === hiddenSize). The shared weight is
   * then initialised uniform ±0.1, as PyTorch's word_language_model example does. Default false.
   */
  tieWeights?: boolean;
  /** Default `"float32"`. */
  dtype?: DType;
  /** Initialisation seed. Default 0. */
  seed?: number;
  kernels?: Kernels;
}

/** Every key LanguageModelOptions has (unknown keys are refused). */
export const LANGUAGE_MODEL_OPTION_KEYS: readonly string[] = [
  "vocabSize",
  "embedSize",
  "hiddenSize",
  "numLayers",
  "cell",
  "dropout",
  "embeddingDropout",
  "outputDropout",
  "init",
  "forgetBias",
  "chronoMax",
  "foldEmbedding",
  "nonlinearity",
  "bias",
  "tieWeights",
  "dtype",
  "seed",
  "kernels",
];

/** A 32-bit integer hash (murmur3's finalizer), uniform over [0, 2^32): the Recurrent layer's, for the masks here. */
function mix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Fills rows [r0, N) of `mask` (N = T*B rows of `width`, row r = step t, batch row b with r = t*B + b)
 * with inverted-dropout factors: 0 with probability p, else 1/(1-p). Element (t, b, j) is a hash
 * of (seed, calls, site, t, rowOffset + b, j), as Recurrent.forwardRaw draws its masks.
 */
export function dropoutMask(
  mask: Float,
  r0: number,
  N: number,
  B: number,
  width: number,
  p: number,
  seed: number,
  calls: number,
  site: number,
  rowOffset: number,
): void {
  const keep = 1 / (1 - p);
  const threshold = p * 4294967296;
  const call = mix32(mix32(seed) ^ calls);
  const siteKey = call ^ Math.imul(site, 0x9e3779b9);
  for (let r = r0; r < N; r++) {
    const t = Math.floor(r / B);
    const b = r - t * B;
    const hb = mix32(mix32(mix32(siteKey) ^ t) ^ (rowOffset + b));
    const o = r * width;
    for (let j = 0; j < width; j++) mask[o + j] = mix32(hb + Math.imul(j, 0x9e3779b9)) < threshold ? 0 : keep;
  }
}

/**
 * Embedding -> RNN -> Linear -> mean cross-entropy. Implements the SequenceModel contract that
 * train/'s truncated BPTT drives: `forward` from a given (detached) state with the loss counted
 * from step `lossFrom` on, `backward`, and `stateAt` to read the state after any step.
 * @example
 * const lm = new LanguageModel({ vocabSize: 65, embedSize: 32, hiddenSize: 64, seed: 1 });
 * const loss = lm.forward(inputs, targets, T, B, lm.createState(B)); // ~ log(65) = 4.17 at start
 * lm.store.zeroGrad(); lm.backward();
 */
export class LanguageModel {
  /** The options as given, with their defaults filled in (no kernels: those are the store's). */
  readonly options: Required<Omit<LanguageModelOptions, "kernels" | "forgetBias" | "foldEmbedding" | "chronoMax">> & {
    forgetBias?: number;
    foldEmbedding?: boolean;
    chronoMax?: number;
  };
  readonly store: ParamStore;
  readonly embedding: Embedding;
  readonly rnn: Recurrent;
  readonly head: Linear;
  /** Seed of the embedding and output dropout masks (the recurrent layer's dropout seed, seed + 1). */
  readonly dropoutSeed: number;
  /**
   * Forward passes that drew embedding or output dropout masks (training mode, embeddingDropout or
   * outputDropout > 0); the next pass's masks depend on it, so it belongs in checkpoints (as the
   * recurrent layer's `rnn.dropoutCalls`, which counts its own).
   */
  dropoutCalls = 0;
  private readonly k: Kernels;

  // activations, sized for up to `cap` steps of batch `B`; reallocated only when a pass outgrows them
  private cap = 0;
  private B = 0;
  private cache: RecurrentCache | null = null;
  private emb: Float = new Float32Array(0); // (cap, B, E) embedded inputs
  private logits: Float = new Float32Array(0); // (cap, B, V)
  private probs: Float = new Float32Array(0); // (cap, B, V) softmax, then dlogits in backward
  private dOut: Float = new Float32Array(0); // (cap, B, H) loss gradient at the top layer's outputs
  private table: Float = new Float32Array(0); // (V, G) embedding · W_ih^T when folding, then its gradient
  // dropout (allocated only when its probability is > 0): masks of 0 or 1/(1-p), and the dropped top output
  private embMask: Float = new Float32Array(0); // (cap, B, E)
  private outMask: Float = new Float32Array(0); // (cap, B, H)
  private outDropped: Float = new Float32Array(0); // (cap, B, H) the top layer's output times outMask: the head's input
  // inference (predict), kept apart from the training buffers above
  // predict's buffers; table: (V, G) the embedding folded into W_ih for a plan, valid while folded
  private inf: { cap: number; B: number; cache: RecurrentCache | null; emb: Float; logits: Float; table: Float; folded: boolean } = {
    cap: 0,
    B: 0,
    cache: null,
    emb: new Float32Array(0),
    logits: new Float32Array(0),
    table: new Float32Array(0),
    folded: false,
  };
  // logProbGradient's own buffers (batch 1), grown on demand: nothing is freed in the WebAssembly arena, so they are kept
  private lpg: { cap: number; cache: RecurrentCache; emb: Float; dOut: Float; z: Float; saved: Float } | null = null;
  // the last forward, for backward
  private last = {
    T: 0,
    inputs: new Int32Array(0) as Ids,
    targets: new Int32Array(0) as Ids,
    r0: 0,
    count: 0,
    folded: false,
    embDrop: false,
    outDrop: false,
  };

  constructor(options: LanguageModelOptions) {
    checkOptions("LanguageModel", options, LANGUAGE_MODEL_OPTION_KEYS);
    const o = {
      numLayers: 1,
      cell: "rnn" as const,
      nonlinearity: "tanh" as const,
      bias: true,
      tieWeights: false,
      dtype: "float32" as const,
      seed: 0,
      dropout: 0,
      embeddingDropout: 0,
      outputDropout: 0,
      init: "default" as const,
      ...options,
    };
    for (const key of ["embeddingDropout", "outputDropout"] as const) {
      const p = o[key];
      if (!(typeof p === "number" && p >= 0 && p < 1)) throw new RangeError(`LanguageModel: ${key} must be in [0, 1), got ${p}`);
    }
    checkSize("LanguageModel: vocabSize", o.vocabSize);
    checkSize("LanguageModel: embedSize", o.embedSize);
    checkSize("LanguageModel: hiddenSize", o.hiddenSize);
    if (!isCellName(o.cell)) throw new RangeError(`LanguageModel: cell "${o.cell}" is not available (have: ${CELL_NAMES.join(", ")})`);
    if (o.tieWeights && o.embedSize !== o.hiddenSize) {
      throw new RangeError(`LanguageModel: tying weights needs embedSize === hiddenSize (got ${o.embedSize} and ${o.hiddenSize})`);
    }
    const { kernels, ...rest } = o;
    this.options = rest;
    this.store = new ParamStore({ dtype: o.dtype, seed: o.seed, kernels });
    this.k = this.store.kernels;
    this.dropoutSeed = (o.seed + 1) >>> 0;
    const ctx = { store: this.store, kernels: this.k };
    this.embedding = new Embedding(o.vocabSize, o.embedSize, {
      ...ctx,
      prefix: "embedding",
      weightInit: o.tieWeights ? uniformInit(0.1) : undefined,
    });
    const ro = {
      ...ctx,
      prefix: "rnn",
      inputSize: o.embedSize,
      hiddenSize: o.hiddenSize,
      numLayers: o.numLayers,
      bias: o.bias,
      dropout: o.dropout,
      init: o.init,
      chronoMax: o.chronoMax,
      dropoutSeed: o.seed + 1,
    };
    this.rnn = createRecurrent(o.cell, { ...ro, forgetBias: o.forgetBias, nonlinearity: o.nonlinearity });
    this.head = new Linear(o.hiddenSize, o.vocabSize, {
      ...ctx,
      prefix: "head",
      tiedWeight: o.tieWeights ? this.embedding.weight : undefined,
    });
  }

  /** A zero recurrent state: `[h]`, or `[h, c]` for an LSTM, each (L, B, H). */
  createState(B: number): Float[] {
    return this.rnn.createState(B);
  }

  /** Training mode (dropout on, the default) or evaluation mode (off). Returns this. */
  train(on = true): this {
    this.rnn.train(on);
    return this;
  }

  /** Whether the model is in training mode (dropout on): the recurrent layer's flag, which train()/eval() set. */
  get training(): boolean {
    return this.rnn.training;
  }

  /** The global batch index of row 0, when this model runs one shard of a larger batch (dropout masks are keyed on global rows). */
  get rowOffset(): number {
    return this.rnn.rowOffset;
  }
  set rowOffset(r: number) {
    this.rnn.rowOffset = r;
  }

  /** Evaluation mode: dropout off. Returns this. */
  eval(): this {
    return this.train(false);
  }

  private ensure(T: number, B: number): void {
    if (this.cache && B === this.B && T <= this.cap) return;
    const { vocabSize: V, embedSize: E, hiddenSize: H } = this.options;
    this.cap = Math.max(T, B === this.B ? this.cap : 0);
    this.B = B;
    this.cache = this.rnn.createCache(this.cap, B);
    this.emb = this.store.alloc(this.cap * B * E);
    if (this.table.length === 0) this.table = this.store.alloc(V * this.rnn.params[0].weightIh.shape[0]);
    this.logits = this.store.alloc(this.cap * B * V);
    this.probs = this.store.alloc(this.cap * B * V);
    this.dOut = this.store.alloc(this.cap * B * H);
    if (this.options.embeddingDropout > 0) this.embMask = this.store.alloc(this.cap * B * E);
    if (this.options.outputDropout > 0) {
      this.outMask = this.store.alloc(this.cap * B * H);
      this.outDropped = this.store.alloc(this.cap * B * H);
    }
  }

  /**
   * Mean cross-entropy (nats per token) of predicting targets (T, B) from inputs (T, B), running
   * from `state0` (treated as a constant: nothing flows back into it). Positions of steps before
   * `lossFrom`, and targets equal to -100, are not counted.
   */
  forward(inputs: Ids, targets: Ids, T: number, B: number, state0: Float[] | null, lossFrom = 0): number {
    checkSize("LanguageModel: steps", T);
    checkSize("LanguageModel: batch", B);
    if (inputs.length < T * B || targets.length < T * B) throw new RangeError(`LanguageModel: inputs and targets need ${T}*${B} ids`);
    if (!(lossFrom >= 0 && lossFrom < T)) throw new RangeError(`LanguageModel: lossFrom must be in [0, ${T}), got ${lossFrom}`);
    this.ensure(T, B);
    const { vocabSize: V, hiddenSize: H } = this.options;
    const N = T * B;
    const c = this.cache!;
    const training = this.rnn.training;
    const embDrop = training && this.options.embeddingDropout > 0;
    const outDrop = training && this.options.outputDropout > 0;
    // the table x W_ih^T is of undropped embeddings: no folding while embedding dropout is on
    const folded = !embDrop && (this.options.foldEmbedding ?? 2 * V <= N);
    if (folded) {
      // the first layer's input projection of every token, then a row lookup per position
      checkIds("Embedding", inputs, 0, N, V);
      const E = this.options.embedSize;
      const w = this.rnn.params[0].weightIh;
      this.k.gemm(false, true, V, w.shape[0], E, 1, this.embedding.weight.value, 0, E, w.value, 0, E, 0, this.table, 0, w.shape[0]);
      this.rnn.forwardRaw(c, null, T, state0, null, { tables: [this.table], ids: inputs });
    } else {
      this.embedding.forward(this.emb, inputs, N);
      if (embDrop) {
        // x ⊙ m, in place: the recurrent layer keeps x for its weight gradient, and the backward multiplies by m again
        const E = this.options.embedSize;
        dropoutMask(this.embMask, 0, N, B, E, this.options.embeddingDropout, this.dropoutSeed, this.dropoutCalls, 0, this.rnn.rowOffset);
        this.k.mul(this.emb, 0, this.emb, 0, this.embMask, 0, N * E);
      }
      this.rnn.forwardRaw(c, this.emb, T, state0, null);
    }
    // the head and the loss run once over every counted row: rows r0.. of the top layer's output
    const r0 = lossFrom * B;
    let top = c.topOutput;
    if (outDrop) {
      // the counted rows of y ⊙ m into a buffer of their own (the cache's output stays the layer's)
      const L = this.options.numLayers;
      dropoutMask(this.outMask, r0, N, B, H, this.options.outputDropout, this.dropoutSeed, this.dropoutCalls, L, this.rnn.rowOffset);
      this.k.mul(this.outDropped, r0 * H, top, r0 * H, this.outMask, r0 * H, (N - r0) * H);
      top = this.outDropped;
    }
    if (embDrop || outDrop) this.dropoutCalls++;
    this.head.forward(this.logits, top, N - r0, 0, r0 * H);
    const { loss, count } = crossEntropyForward(this.probs, this.logits, targets, N - r0, V, this.k, IGNORE_INDEX, 0, 0, r0);
    this.last = { T, inputs, targets, r0, count, folded, embDrop, outDrop };
    return loss;
  }

  /** Accumulates into every parameter's gradient the gradient of `dloss` times the last forward's loss. */
  backward(dloss = 1): void {
    const { T, inputs, targets, r0, count, folded, embDrop, outDrop } = this.last;
    if (T === 0) throw new Error("LanguageModel.backward: call forward first");
    const { vocabSize: V, hiddenSize: H } = this.options;
    const B = this.B;
    const N = T * B;
    const c = this.cache!;
    const top = outDrop ? this.outDropped : c.topOutput;
    // dlogits, in place over probs
    crossEntropyBackward(this.probs, this.probs, targets, N - r0, V, count, dloss, this.k, IGNORE_INDEX, 0, 0, r0);
    // backprop through the head into the top layer's outputs; uncounted steps get no gradient
    this.dOut.fill(0, 0, r0 * H);
    this.head.backward(this.dOut, this.probs, top, N - r0, r0 * H, 0, r0 * H);
    if (outDrop) this.k.mul(this.dOut, r0 * H, this.dOut, r0 * H, this.outMask, r0 * H, (N - r0) * H); // back through the output mask
    this.rnn.backwardRaw(c, this.dOut, null);
    if (folded) {
      // sum the projection's gradient per token (S, V x G); then dW_ih += S^T E and dE += S W_ih
      const E = this.options.embedSize;
      const w = this.rnn.params[0].weightIh;
      const G = w.shape[0];
      const S = this.table;
      S.fill(0);
      this.k.scatterAddRows(S, c.direction(0).gates, 0, inputs, 0, N, G);
      const emb = this.embedding.weight;
      this.k.gemm(true, false, G, E, V, 1, S, 0, G, emb.value, 0, E, 1, w.grad, 0, E);
      this.k.gemm(false, false, V, E, G, 1, S, 0, G, w.value, 0, E, 1, emb.grad, 0, E);
    } else {
      // backprop into the embedding rows (through the mask, in place over the input gradient);
      // with tied weights this adds to the head's contribution
      if (embDrop) this.k.mul(c.inputGrad, 0, c.inputGrad, 0, this.embMask, 0, N * this.options.embedSize);
      this.embedding.backward(c.inputGrad, inputs, N);
    }
  }

  /** Copies the state after `t` steps of the last forward into `into` (as from createState). */
  stateAt(t: number, into: Float[]): void {
    this.rnn.stateAt(this.cache!, t, into);
  }

  /**
   * Runs T steps of inputs (T, B) from `state` and returns the logits (B, V) of the last step
   * (a view, valid until the next predict); `state` is updated in place to the state after the
   * last step. No loss, no gradients, and the training buffers are left alone. With a `plan` of
   * at least 4V steps (generate's), the embedding is folded into the first layer's input
   * projection once, on the plan's first call, and each step reads one row of the table.
   */
  predict(inputs: Ids, T: number, B: number, state: Float[], plan?: PredictPlan): Float {
    const { vocabSize: V, embedSize: E, hiddenSize: H } = this.options;
    const f = this.inf;
    if (!f.cache || f.B !== B || f.cap < T) {
      f.cap = Math.max(T, f.B === B ? f.cap : 0);
      f.B = B;
      f.cache = this.rnn.createCache(f.cap, B);
      f.emb = this.store.alloc(f.cap * B * E);
      f.logits = this.store.alloc(B * V);
    }
    const training = this.rnn.training;
    this.rnn.training = false; // inference: no dropout
    // a plan's later calls keep W_hh as packed by its first (the weights do not change in between)
    f.cache.plan = plan ? { steps: plan.steps, reuse: plan.reuse } : null;
    if (plan && plan.steps * B >= 4 * V) {
      const w = this.rnn.params[0].weightIh;
      const G = w.shape[0];
      if (!plan.reuse || !f.folded) {
        if (f.table.length < V * G) f.table = this.store.alloc(V * G);
        this.k.gemm(false, true, V, G, E, 1, this.embedding.weight.value, 0, E, w.value, 0, E, 0, f.table, 0, G);
        this.rnn.addInputBiases(f.table, this.rnn.params[0], V); // once here instead of at every step
      }
      f.folded = true;
      checkIds("Embedding", inputs, 0, T * B, V);
      this.rnn.forwardRaw(f.cache, null, T, state, null, { tables: [f.table], ids: inputs, biased: true });
    } else {
      f.folded = false; // the weights may change before the next plan
      this.embedding.forward(f.emb, inputs, T * B);
      this.rnn.forwardRaw(f.cache, f.emb, T, state, null);
    }
    this.rnn.training = training;
    this.rnn.stateAt(f.cache, T, state);
    const top = f.cache.topOutput;
    this.head.forward(f.logits, top, B, 0, (T - 1) * B * H);
    return f.logits;
  }

  /**
   * log p(target | inputs) at the last of T steps of `inputs` (batch 1, from the zero state, in
   * evaluation mode: no dropout), and into `into` (T, E) its gradient with respect to each step's
   * embedded input x_t (the embedding's output): ∂ log p / ∂ x_t, by the recurrent layer's own
   * backward through time. The embedding is never folded here (its input gradient is needed).
   * Uses buffers of its own: the training buffers, predict's and every parameter's gradient are
   * as they were (backwardRaw accumulates into the parameters' gradients: they are put back).
   * @example
   * const dx = new Float32Array(ids.length * lm.options.embedSize);
   * const logp = lm.logProbGradient(ids, ids.length, target, dx); // dx[t*E..(t+1)*E): ∂ log p / ∂ x_t
   */
  logProbGradient(inputs: Ids, T: number, target: number, into: Float): number {
    const { vocabSize: V, embedSize: E, hiddenSize: H } = this.options;
    checkSize("LanguageModel.logProbGradient: steps", T);
    if (inputs.length < T) throw new RangeError(`LanguageModel.logProbGradient: inputs need ${T} ids, got ${inputs.length}`);
    if (!(Number.isInteger(target) && target >= 0 && target < V)) throw new RangeError(`LanguageModel.logProbGradient: target ${target} is outside [0, ${V})`);
    if (into.length < T * E) throw new RangeError(`LanguageModel.logProbGradient: into needs T*E = ${T}*${E} values, got ${into.length}`);
    // buffers of its own (the training and predict buffers stay untouched), kept for the next call
    if (!this.lpg || this.lpg.cap < T) {
      this.lpg = {
        cap: T,
        cache: this.rnn.createCache(T, 1),
        emb: this.store.alloc(T * E), // (T, E) embedded inputs
        dOut: this.store.alloc(T * H), // (T, H) gradient at the top layer's outputs
        z: this.lpg?.z ?? this.store.alloc(V), // (V) logits of the last step, then ∂ log p / ∂ logits
        saved: this.lpg?.saved ?? this.store.alloc(this.store.size), // the parameters' gradients while backward runs
      };
    }
    const { cache: c, emb, dOut, z, saved } = this.lpg;
    this.embedding.forward(emb, inputs, T);
    const training = this.rnn.training;
    this.rnn.training = false; // evaluation: no dropout between the layers
    try {
      this.rnn.forwardRaw(c, emb, T, null, null);
      this.head.forward(z, c.topOutput, 1, 0, (T - 1) * H);
      // log-softmax of the last step, in float64
      let max = -Infinity;
      for (let v = 0; v < V; v++) if (z[v] > max) max = z[v];
      let sum = 0;
      for (let v = 0; v < V; v++) sum += Math.exp(z[v] - max);
      const logZ = max + Math.log(sum);
      const logp = z[target] - logZ;
      // ∂ log p / ∂ z_v = [v = target] - softmax_v, in place over the logits
      for (let v = 0; v < V; v++) z[v] = (v === target ? 1 : 0) - Math.exp(z[v] - logZ);
      // back through the head into the last step's output: dy_{T-1} (1, H) = dz (1, V) · W_head (V, H); earlier steps get none
      dOut.fill(0, 0, (T - 1) * H);
      this.k.gemm(false, false, 1, H, V, 1, z, 0, V, this.head.weight.value, 0, H, 0, dOut, (T - 1) * H, H);
      // back through time; it accumulates into the parameters' gradients, which are put back after
      const grads = this.store.grads;
      saved.set(grads);
      this.rnn.backwardRaw(c, dOut, null);
      grads.set(saved);
      for (let i = 0; i < T * E; i++) into[i] = c.inputGrad[i];
      return logp;
    } finally {
      this.rnn.training = training;
    }
  }

  /** The recurrent cache of the last forward (for analysis: gradient flow, Jacobians), or null before the first. */
  get lastCache(): RecurrentCache | null {
    return this.cache;
  }

  /** Logits (T, B, V) of the last forward's counted rows (a view, valid until the next forward). */
  get lastLogits(): Float {
    return this.logits.subarray(0, (this.last.T * this.B - this.last.r0) * this.options.vocabSize);
  }
}
