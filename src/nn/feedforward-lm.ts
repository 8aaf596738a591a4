// A feed-forward language model over a fixed window (Bengio, Ducharme, Vincent & Jauvin 2003,
// "A Neural Probabilistic Language Model"): the n previous tokens are embedded and concatenated,
// x = [C(w_{t-n+1}), ..., C(w_t)] (oldest first), then one or more hidden layers and a softmax:
//
//   a_1 = φ(H_1 x + d_1),  a_l = φ(H_l a_{l-1} + d_l),  logits = U a_L + b (+ W x, the optional "direct connections")
//
// with φ = tanh (Bengio's) or relu. It has no recurrence: what it can use is exactly its window,
// which is the point of comparing it with the recurrent models (the lecture's feed-forward vs
// recurrent). It drives the same truncated-BPTT data path as LanguageModel: its "state" is the
// n-1 tokens before a chunk, so a window that straddles two chunks sees them, and the gradient
// reaches every embedding row it used (ids carry no gradient, so nothing is cut at a chunk's edge).
// Before the start of a stream the window is padded with zero vectors (PyTorch: an Embedding row
// fixed at zero, `padding_idx`).
//
// T = steps, B = batch (streams), V = vocabulary, E = embedding size, n = window, H = hidden.
// Parameter names as a PyTorch module with submodules `embedding`, `hidden` (a ModuleList of
// Linear), `head` and `direct`: embedding.weight (V, E), hidden.0.weight (H, n*E), hidden.0.bias (H),
// hidden.l.weight (H, H) for l >= 1, head.weight (V, H), head.bias (V), direct.weight (V, n*E) (no bias).
// The state is one tensor (n-1, B) of token ids plus one (0: no token, before the stream's start),
// in float so that it travels with the recurrent models' states.

import type { DType, Float, Ids } from "../tensor/dtype.js";
import type { Kernels } from "../tensor/kernels.js";
import { activationBackward, activationForward } from "./activations.js";
import { checkIds, Embedding } from "./embedding.js";
import { Linear } from "./linear.js";
import { checkOptions, checkSize } from "./module.js";
import { ParamStore } from "./params.js";
import { crossEntropyBackward, crossEntropyForward, IGNORE_INDEX } from "./softmax-xent.js";

/** Options of a FeedForwardLM. */
export interface FeedForwardLMOptions {
  /** V: number of distinct tokens. */
  vocabSize: number;
  /** E: embedding size of each token of the window. */
  embedSize: number;
  /** H: size of every hidden layer. */
  hiddenSize: number;
  /** n: tokens the model sees, the current one included (Bengio's n - 1 previous words plus... here n in all). */
  window: number;
  /** Hidden layers. Default 1. */
  numLayers?: number;
  /** Bengio's direct connections from the concatenated embeddings to the logits (W x). Default false. */
  direct?: boolean;
  /** φ of the hidden layers. Default `"tanh"`, as Bengio et al. */
  nonlinearity?: "tanh" | "relu";
  /** Default `"float32"`. */
  dtype?: DType;
  /** Initialisation seed. Default 0. */
  seed?: number;
  kernels?: Kernels;
}

/** Every key FeedForwardLMOptions has (unknown keys are refused). */
export const FEEDFORWARD_LM_OPTION_KEYS: readonly string[] = [
  "vocabSize",
  "embedSize",
  "hiddenSize",
  "window",
  "numLayers",
  "direct",
  "nonlinearity",
  "dtype",
  "seed",
  "kernels",
];

/** The largest window: beyond it a feed-forward model is not what anyone trains. */
export const MAX_WINDOW = 4096;

/**
 * Bengio et al.'s feed-forward language model over a window of n tokens. Implements the contract
 * train/'s truncated BPTT drives (as LanguageModel): `forward` from a state (the n-1 tokens
 * before the chunk) with the loss counted from step `lossFrom` on, `backward`, `stateAt`,
 * `predict`.
 * @example
 * const ff = new FeedForwardLM({ vocabSize: 65, embedSize: 16, hiddenSize: 64, window: 8, seed: 1 });
 * const loss = ff.forward(inputs, targets, T, B, ff.createState(B)); // ~ log(65) = 4.17 at start
 * ff.store.zeroGrad(); ff.backward();
 */
export class FeedForwardLM {
  /** The options as given, with defaults filled in, and the fields every language model config has. */
  readonly options: Required<Omit<FeedForwardLMOptions, "kernels">> & {
    cell: "mlp";
    tieWeights: false;
    dropout: 0;
    embeddingDropout: 0;
    outputDropout: 0;
  };
  readonly store: ParamStore;
  readonly embedding: Embedding;
  /** The hidden layers, `hidden.0` (H, n*E) then `hidden.l` (H, H). */
  readonly hidden: Linear[] = [];
  readonly head: Linear;
  /** Direct connections (V, n*E), or null. */
  readonly direct: Linear | null;
  /** n: the tokens one prediction sees. */
  readonly window: number;
  /** Dropout masks drawn (always 0: this model has no dropout; kept so checkpoints read alike). */
  dropoutCalls = 0;
  /** The global batch index of row 0 (no effect here: no dropout masks). */
  rowOffset = 0;
  private trainingMode = true;
  private readonly k: Kernels;

  // buffers for `cap` counted rows of training; reallocated only when a pass outgrows them
  private tr: Pass = emptyPass();
  // inference (predict, logProbGradient), apart from the training pass's buffers
  private inf: Pass = emptyPass();
  private dA: Float[] = []; // two (rows, H) buffers, ping-pong
  private dX: Float = new Float32Array(0); // (rows, n*E)
  private dX2: Float = new Float32Array(0); // (rows, n*E) direct connections' share
  private probs: Float = new Float32Array(0); // (rows, V) softmax, then dlogits
  private prev: Float = new Float32Array(0); // (n-1, B) the last forward's state0
  private lpg: { dl: Float; dA: Float[]; dX: Float } | null = null; // logProbGradient's buffers
  private last = { T: 0, B: 0, inputs: new Int32Array(0) as Ids, targets: new Int32Array(0) as Ids, r0: 0, rows: 0, count: 0 };

  constructor(options: FeedForwardLMOptions) {
    checkOptions("FeedForwardLM", options, FEEDFORWARD_LM_OPTION_KEYS);
    const o = { numLayers: 1, direct: false, nonlinearity: "tanh" as const, dtype: "float32" as const, seed: 0, ...options };
    checkSize("FeedForwardLM: vocabSize", o.vocabSize);
    checkSize("FeedForwardLM: embedSize", o.embedSize);
    checkSize("FeedForwardLM: hiddenSize", o.hiddenSize);
    checkSize("FeedForwardLM: numLayers", o.numLayers);
    checkSize("FeedForwardLM: window", o.window);
    if (o.window > MAX_WINDOW) throw new RangeError(`FeedForwardLM: window must be at most ${MAX_WINDOW}, got ${o.window}`);
    if (o.nonlinearity !== "tanh" && o.nonlinearity !== "relu")
      throw new RangeError(`FeedForwardLM: nonlinearity must be "tanh" or "relu", got ${JSON.stringify(o.nonlinearity)}`);
    if (typeof o.direct !== "boolean") throw new RangeError(`FeedForwardLM: direct must be true or false, got ${JSON.stringify(o.direct)}`);
    const { kernels, ...rest } = o;
    this.options = { ...rest, cell: "mlp", tieWeights: false, dropout: 0, embeddingDropout: 0, outputDropout: 0 };
    this.window = o.window;
    this.store = new ParamStore({ dtype: o.dtype, seed: o.seed, kernels });
    this.k = this.store.kernels;
    const ctx = { store: this.store, kernels: this.k };
    const nE = o.window * o.embedSize;
    this.embedding = new Embedding(o.vocabSize, o.embedSize, { ...ctx, prefix: "embedding" });
    for (let l = 0; l < o.numLayers; l++) this.hidden.push(new Linear(l === 0 ? nE : o.hiddenSize, o.hiddenSize, { ...ctx, prefix: `hidden.${l}` }));
    this.head = new Linear(o.hiddenSize, o.vocabSize, { ...ctx, prefix: "head" });
    this.direct = o.direct ? new Linear(nE, o.vocabSize, { ...ctx, prefix: "direct", bias: false }) : null;
  }

  /** The empty window: `[ids]`, (n-1, B), all 0 (no token yet); (1, B) for n = 1 (unused). */
  createState(B: number): Float[] {
    return [this.store.alloc(Math.max(1, this.window - 1) * B)];
  }

  /** Training mode (the default) or evaluation mode: the same numbers (there is no dropout). Returns this. */
  train(on = true): this {
    this.trainingMode = on;
    return this;
  }

  /** Evaluation mode. Returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Whether the model is in training mode. */
  get training(): boolean {
    return this.trainingMode;
  }

  /** Buffers of a pass over `rows` rows (grown, never shrunk). */
  private grow(p: Pass, rows: number): Pass {
    if (rows <= p.cap) return p;
    const { vocabSize: V, embedSize: E, hiddenSize: H, numLayers: L } = this.options;
    const n = this.window;
    return {
      cap: rows,
      ctx: new Int32Array(rows * n),
      gat: new Int32Array(rows * n),
      x: this.store.alloc(rows * n * E),
      acts: Array.from({ length: L }, () => this.store.alloc(rows * H)),
      logits: this.store.alloc(rows * V),
    };
  }

  private ensure(rows: number, B: number): void {
    const { vocabSize: V, embedSize: E, hiddenSize: H } = this.options;
    const n = this.window;
    if (rows > this.tr.cap) {
      this.tr = this.grow(this.tr, rows);
      this.probs = this.store.alloc(rows * V);
      this.dA = [this.store.alloc(rows * H), this.store.alloc(rows * H)];
      this.dX = this.store.alloc(rows * n * E);
      if (this.direct) this.dX2 = this.store.alloc(rows * n * E);
    }
    if (this.prev.length < (n - 1) * B) this.prev = this.store.alloc((n - 1) * B);
  }

  /**
   * Fills rows [0, rows) of the window ids for steps t0.. of inputs (T, B): row (t - t0) * B + b
   * holds the ids at steps t-n+1 .. t, those before step 0 from `state` ((n-1, B), id + 1, 0 = none).
   */
  private windows(p: Pass, inputs: Ids, B: number, t0: number, rows: number, state: Float | null): void {
    const n = this.window;
    const { ctx, gat } = p;
    for (let r = 0; r < rows; r++) {
      const t = t0 + Math.floor(r / B);
      const b = r % B;
      for (let j = 0; j < n; j++) {
        const s = t - n + 1 + j; // the step this slot reads
        const id = s >= 0 ? inputs[s * B + b] : state ? state[(n - 1 + s) * B + b] - 1 : -1;
        ctx[r * n + j] = id;
        gat[r * n + j] = id < 0 ? 0 : id;
      }
    }
  }

  /** x (rows, n*E) from the window ids, padding as zero vectors; then the hidden layers and the logits. */
  private run(p: Pass, rows: number): void {
    const { embedSize: E, nonlinearity: act } = this.options;
    const n = this.window;
    const { x, ctx, logits } = p;
    this.k.gatherRows(x, 0, this.embedding.weight.value, p.gat, 0, rows * n, E);
    for (let i = 0; i < rows * n; i++) if (ctx[i] < 0) x.fill(0, i * E, (i + 1) * E);
    let input = x;
    for (let l = 0; l < this.hidden.length; l++) {
      const a = p.acts[l];
      this.hidden[l].forward(a, input, rows);
      activationForward(act, a, 0, a, 0, rows * this.options.hiddenSize, this.k);
      input = a;
    }
    this.head.forward(logits, input, rows);
    if (this.direct) {
      const V = this.options.vocabSize;
      // logits += x W^T
      this.k.gemm(false, true, rows, V, n * E, 1, x, 0, n * E, this.direct.weight.value, 0, n * E, 1, logits, 0, V);
    }
  }

  /**
   * Mean cross-entropy (nats per token) of predicting targets (T, B) from inputs (T, B), each step
   * from the window of its n tokens (those before the chunk from `state0`, (n-1, B); null: none).
   * Steps before `lossFrom`, and targets equal to -100, are not counted.
   */
  forward(inputs: Ids, targets: Ids, T: number, B: number, state0: Float[] | null, lossFrom = 0): number {
    checkSize("FeedForwardLM: steps", T);
    checkSize("FeedForwardLM: batch", B);
    if (inputs.length < T * B || targets.length < T * B) throw new RangeError(`FeedForwardLM: inputs and targets need ${T}*${B} ids`);
    if (!(lossFrom >= 0 && lossFrom < T)) throw new RangeError(`FeedForwardLM: lossFrom must be in [0, ${T}), got ${lossFrom}`);
    const V = this.options.vocabSize;
    checkIds("FeedForwardLM", inputs, 0, T * B, V);
    const rows = (T - lossFrom) * B;
    this.ensure(rows, B);
    const n = this.window;
    // the state before this chunk, kept for stateAt (the caller may pass the same buffer as `into`)
    if (state0) this.k.copy(this.prev, 0, state0[0], 0, (n - 1) * B);
    else this.prev.fill(0, 0, (n - 1) * B);
    this.windows(this.tr, inputs, B, lossFrom, rows, this.prev);
    this.run(this.tr, rows);
    const r0 = lossFrom * B;
    const { loss, count } = crossEntropyForward(this.probs, this.tr.logits, targets, rows, V, this.k, IGNORE_INDEX, 0, 0, r0);
    this.last = { T, B, inputs, targets, r0, rows, count };
    return loss;
  }

  /** Accumulates into every parameter's gradient the gradient of `dloss` times the last forward's loss. */
  backward(dloss = 1): void {
    const { T, targets, r0, rows, count } = this.last;
    if (T === 0) throw new Error("FeedForwardLM.backward: call forward first");
    const { vocabSize: V, embedSize: E, hiddenSize: H, nonlinearity: act } = this.options;
    const n = this.window;
    crossEntropyBackward(this.probs, this.probs, targets, rows, V, count, dloss, this.k, IGNORE_INDEX, 0, 0, r0);
    const { acts, x, ctx, gat } = this.tr;
    const L = this.hidden.length;
    let d = this.dA[0];
    this.head.backward(d, this.probs, acts[L - 1], rows);
    for (let l = L - 1; l >= 0; l--) {
      activationBackward(act, d, 0, d, 0, acts[l], 0, rows * H, this.k);
      const dIn = l === 0 ? this.dX : this.dA[(L - l) % 2];
      this.hidden[l].backward(dIn, d, l === 0 ? x : acts[l - 1], rows);
      d = dIn;
    }
    if (this.direct) {
      this.direct.backward(this.dX2, this.probs, x, rows);
      this.k.axpy(this.dX, 0, 1, this.dX2, 0, rows * n * E);
    }
    // into the embedding rows each slot read; padding slots carry nothing
    for (let i = 0; i < rows * n; i++) if (ctx[i] < 0) this.dX.fill(0, i * E, (i + 1) * E);
    this.k.scatterAddRows(this.embedding.weight.grad, this.dX, 0, gat, 0, rows * n, E);
  }

  /** Copies the window after `t` steps of the last forward (the n-1 tokens up to step t-1) into `into`. */
  stateAt(t: number, into: Float[]): void {
    const { B, inputs } = this.last;
    this.advance(inputs, t, B, this.prev, into[0]);
  }

  /** out (n-1, B) = the n-1 tokens (id + 1) before step t of inputs (T, B), continuing `before`; `out` may be `before`. */
  private advance(inputs: Ids, t: number, B: number, before: Float, out: Float): void {
    const n = this.window;
    // ascending j reads before[j + t] >= j: in place is safe
    for (let j = 0; j < n - 1; j++) {
      const s = t - (n - 1) + j;
      for (let b = 0; b < B; b++) out[j * B + b] = s >= 0 ? inputs[s * B + b] + 1 : before[(j + t) * B + b];
    }
  }

  /**
   * Runs T steps of inputs (T, B) from `state` and returns the logits (B, V) of the last step
   * (a view, valid until the next call); `state` becomes the window after the last step. No loss,
   * no gradients.
   */
  predict(inputs: Ids, T: number, B: number, state: Float[]): Float {
    checkSize("FeedForwardLM: steps", T);
    checkSize("FeedForwardLM: batch", B);
    checkIds("FeedForwardLM", inputs, 0, T * B, this.options.vocabSize);
    this.inf = this.grow(this.inf, B);
    this.windows(this.inf, inputs, B, T - 1, B, state[0]);
    this.run(this.inf, B);
    this.advance(inputs, T, B, state[0], state[0]);
    return this.inf.logits.subarray(0, B * this.options.vocabSize);
  }

  /**
   * log p(target | inputs) after T steps of inputs (batch 1, from the empty window), and into
   * (T*E values) ∂ log p / ∂ x_t, the gradient with respect to each step's embedded input: zero
   * for the steps outside the window. Parameter gradients are left unchanged.
   */
  logProbGradient(inputs: Ids, T: number, target: number, into: Float): number {
    const { vocabSize: V, embedSize: E, hiddenSize: H, nonlinearity: act } = this.options;
    const n = this.window;
    if (!(target >= 0 && target < V)) throw new RangeError(`FeedForwardLM: target ${target} is outside [0, ${V})`);
    if (into.length < T * E) throw new RangeError(`FeedForwardLM: into needs ${T}*${E} values`);
    const state = this.createState(1);
    const logits = this.predict(inputs, T, 1, state);
    // d log p / d logits = onehot(target) - softmax
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[v]);
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logits[v] - max);
    const logp = logits[target] - max - Math.log(sum);
    // backward of the one row, input gradients only, in buffers of its own (the training pass's stay);
    // kept for the next call: nothing is freed in the WebAssembly arena
    this.lpg ??= { dl: this.store.alloc(V), dA: [this.store.alloc(H), this.store.alloc(H)], dX: this.store.alloc(n * E) };
    const { dl, dA, dX } = this.lpg;
    for (let v = 0; v < V; v++) dl[v] = (v === target ? 1 : 0) - Math.exp(logits[v] - max) / sum;
    const L = this.hidden.length;
    let d = dA[0];
    this.k.gemm(false, false, 1, H, V, 1, dl, 0, V, this.head.weight.value, 0, H, 0, d, 0, H);
    for (let l = L - 1; l >= 0; l--) {
      activationBackward(act, d, 0, d, 0, this.inf.acts[l], 0, H, this.k);
      const dIn = l === 0 ? dX : dA[(L - l) % 2];
      const I = l === 0 ? n * E : H;
      this.k.gemm(false, false, 1, I, H, 1, d, 0, H, this.hidden[l].weight.value, 0, I, 0, dIn, 0, I);
      d = dIn;
    }
    if (this.direct) this.k.gemm(false, false, 1, n * E, V, 1, dl, 0, V, this.direct.weight.value, 0, n * E, 1, dX, 0, n * E);
    into.fill(0, 0, T * E);
    for (let j = 0; j < n; j++) {
      const s = T - n + j;
      if (s >= 0) for (let e = 0; e < E; e++) into[s * E + e] = dX[j * E + e];
    }
    return logp;
  }

  /** Logits (rows, V) of the last forward's counted rows (a view, valid until the next forward). */
  get lastLogits(): Float {
    return this.tr.logits.subarray(0, this.last.rows * this.options.vocabSize);
  }
}

/** One pass's activations: window ids, concatenated embeddings, hidden activations, logits. */
interface Pass {
  cap: number;
  ctx: Int32Array; // (rows, n) ids of each row's window, -1 for padding
  gat: Int32Array; // the same with padding as 0 (for the row gather/scatter)
  x: Float; // (rows, n*E)
  acts: Float[]; // (rows, H) per hidden layer
  logits: Float; // (rows, V)
}

function emptyPass(): Pass {
  return { cap: 0, ctx: new Int32Array(0), gat: new Int32Array(0), x: new Float32Array(0), acts: [], logits: new Float32Array(0) };
}
