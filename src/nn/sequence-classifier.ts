// Many-to-one: a recurrent stack reads a sequence (each row its own length) and a Linear head
// classifies it from the top layer's final state (both directions' when bidirectional), with
// mean softmax cross-entropy against one label per sequence.
// T = steps, B = batch, I = input features, H = hidden, D = directions, C = classes.
// Parameters: rnn.<PyTorch names> and head.weight (C, D*H), head.bias (C).

import type { DType, Float, Ids } from "../tensor/dtype.js";
import type { Kernels } from "../tensor/kernels.js";
import { Linear } from "./linear.js";
import { checkSize } from "./module.js";
import { ParamStore } from "./params.js";
import { createRecurrent, type Recurrent, type RecurrentCache, type RecurrentOptions } from "./recurrent.js";
import type { CellName } from "./cells.js";
import { crossEntropyBackward, crossEntropyForward } from "./softmax-xent.js";

/** Options of a SequenceClassifier. */
export interface SequenceClassifierOptions extends Omit<RecurrentOptions, "store" | "prefix" | "kernels"> {
  /** C: number of classes. */
  numClasses: number;
  /** Default `"lstm"`. */
  cell?: CellName;
  /** Elman nonlinearity when cell is "rnn". Default `"tanh"`. */
  nonlinearity?: "tanh" | "relu";
  kernels?: Kernels;
}

/**
 * Classifies whole sequences from their final recurrent state.
 * @example
 * const clf = new SequenceClassifier({ inputSize: 1, hiddenSize: 16, numClasses: 2, cell: "gru", seed: 1 });
 * const loss = clf.forward(x, labels, { lengths }); // x (T, B, 1), labels (B), lengths (B)
 * clf.store.zeroGrad(); clf.backward();             // then an optimizer step on clf.store
 */
export class SequenceClassifier {
  readonly store: ParamStore;
  readonly rnn: Recurrent;
  readonly head: Linear;
  readonly numClasses: number;
  private readonly k: Kernels;
  private cache: RecurrentCache | null = null;
  private B = 0;
  private last: Float = new Float32Array(0); // (B, D*H) top-layer final states
  private logits: Float = new Float32Array(0); // (B, C)
  private probs: Float = new Float32Array(0); // (B, C), then dlogits
  private dLast: Float = new Float32Array(0); // (B, D*H)
  private dState: Float[] = [];
  private labels: Ids = new Int32Array(0);
  private count = 0;

  constructor(o: SequenceClassifierOptions) {
    checkSize("SequenceClassifier: numClasses", o.numClasses, 2);
    const dtype: DType = o.dtype ?? "float32";
    this.store = new ParamStore({ dtype, seed: o.seed ?? 0, kernels: o.kernels });
    this.k = this.store.kernels;
    this.numClasses = o.numClasses;
    const { cell = "lstm", numClasses: _c, kernels: _k, nonlinearity, ...ro } = o;
    const ctx = { ...ro, store: this.store, prefix: "rnn", kernels: this.k };
    this.rnn = createRecurrent(cell, { ...ctx, nonlinearity });
    this.head = new Linear(this.rnn.numDirections * this.rnn.hiddenSize, o.numClasses, { store: this.store, prefix: "head", kernels: this.k });
  }

  /** Logits (B, C) of sequences x (T, B, I) with optional per-row lengths (a view, valid until the next call). */
  logitsOf(x: Float, T: number, B: number, lengths?: ArrayLike<number>): Float {
    const D = this.rnn.numDirections;
    const H = this.rnn.hiddenSize;
    const I = this.rnn.inputSize;
    if (x.length !== T * B * I) throw new RangeError(`SequenceClassifier: x must have ${T}*${B}*${I} values, got ${x.length}`);
    if (!this.cache || this.B !== B || this.cache.capacity < T) {
      this.cache = this.rnn.createCache(T, B);
      this.B = B;
      this.last = this.store.alloc(B * D * H);
      this.logits = this.store.alloc(B * this.numClasses);
      this.probs = this.store.alloc(B * this.numClasses);
      this.dLast = this.store.alloc(B * D * H);
      this.dState = this.rnn.createState(B);
    }
    this.cache = this.rnn.forward({ data: x, shape: [T, B, I] }, null, { lengths, cache: this.cache });
    this.cache.lastHidden(this.last);
    this.head.forward(this.logits, this.last, B);
    return this.logits;
  }

  /** Mean cross-entropy of the sequences' labels (B). */
  forward(x: Float, labels: Ids, o: { T: number; B: number; lengths?: ArrayLike<number> }): number {
    this.logitsOf(x, o.T, o.B, o.lengths);
    const r = crossEntropyForward(this.probs, this.logits, labels, o.B, this.numClasses, this.k);
    this.labels = labels;
    this.count = r.count;
    return r.loss;
  }

  /** Accumulates the gradient of the last forward's loss into every parameter. */
  backward(): void {
    const { B } = this;
    const D = this.rnn.numDirections;
    const H = this.rnn.hiddenSize;
    const L = this.rnn.numLayers;
    crossEntropyBackward(this.probs, this.probs, this.labels, B, this.numClasses, this.count, 1, this.k);
    this.head.backward(this.dLast, this.probs, this.last, B);
    // the head read the top layer's final states: scatter its gradient into dh_n, zero elsewhere
    for (const s of this.dState) s.fill(0);
    for (let d = 0; d < D; d++) {
      for (let b = 0; b < B; b++) this.k.copy(this.dState[0], (((L - 1) * D + d) * B + b) * H, this.dLast, (b * D + d) * H, H);
    }
    this.rnn.backwardRaw(this.cache!, null, this.dState);
  }
}
