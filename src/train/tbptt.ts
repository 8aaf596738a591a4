// Backpropagation through time, full and truncated, over a stream of batches.
//
// Truncated BPTT(k1, k2) after Williams & Peng (1990), "An efficient gradient-based algorithm for
// on-line training of recurrent network trajectories": every k1 new steps, backpropagate through
// the last k2 steps. The losses of the k1 new steps are counted (each step's loss once over the
// whole stream); the k2 - k1 older steps only carry gradient back. Precisely: each chunk's window
// is the chunk plus the k2 - k1 steps before it (fewer at the stream's start), so a short final
// chunk backpropagates through fewer than k2 steps, and with k1 = k2 a window is exactly its chunk. k1 = k2 is the common case
// (char-rnn, PyTorch's word_language_model): consecutive chunks, the state carried across them
// and detached at each chunk boundary.
//
// For k2 > k1 this driver keeps the last k2 - k1 steps of input and the state at their start,
// and recomputes their forward with the current weights before the backward. (With frozen
// weights this is exactly Williams & Peng; while training it costs (k2 - k1)/k2 extra forward
// work and makes every window's gradient the exact gradient of its loss under the current weights.)

import type { Float } from "../tensor/dtype.js";
import { checkOptions } from "../nn/module.js";
import type { ParamStore } from "../nn/params.js";

/** Time-major data: T rows of equal width (e.g. (T, B) token ids or (T, B, F) features). */
export type StepArray = Int32Array | Float32Array | Float64Array;

/**
 * What the BPTT driver needs of a model. The recurrent state is a list of buffers (e.g. `[h]`
 * with h (L, B, H), or `[h, c]`); the model never differentiates into it (it is detached).
 */
export interface SequenceModel<X extends StepArray = StepArray, Y extends StepArray = StepArray> {
  readonly store: ParamStore;
  /** A zero state for batch B. */
  createState(B: number): Float[];
  /** Runs T steps of `inputs` from `state0`; returns the loss over steps >= lossFrom. */
  forward(inputs: X, targets: Y, T: number, B: number, state0: Float[] | null, lossFrom: number): number;
  /** Accumulates into the parameters' gradients the gradient of the last forward's loss. */
  backward(): void;
  /** Copies the state after `t` steps of the last forward into `into`. */
  stateAt(t: number, into: Float[]): void;
}

/** Every key of TBPTTOptions (an unknown key is refused). */
export const TBPTT_OPTION_KEYS: readonly string[] = ["k1", "k2", "batch"];

/** Options of TruncatedBPTT. */
export interface TBPTTOptions {
  /** Steps between updates: every call to `step` brings up to k1 new steps. */
  k1: number;
  /** Steps to backpropagate through, k2 >= k1. Default k1. */
  k2?: number;
  /** Batch size (parallel streams). */
  batch: number;
}

function sameKind(a: StepArray, n: number): StepArray {
  return new (a.constructor as new (n: number) => StepArray)(n);
}

/**
 * Truncated BPTT over a stream: call `step(inputs, targets, T)` with consecutive chunks of T <= k1
 * steps; it runs the forward from the carried (detached) state, backpropagates through the last
 * k2 steps, accumulates the gradients into the model's store (the caller zeroes them and applies
 * the update) and carries the state to the next chunk. `reset()` starts a new stream from zeros.
 * @example
 * const tb = new TruncatedBPTT(model, { k1: 64, batch: 32 });
 * for (const { inputs, targets } of chunks) { model.store.zeroGrad(); tb.step(inputs, targets, 64); opt.step(); }
 */
export class TruncatedBPTT<X extends StepArray = StepArray, Y extends StepArray = StepArray> {
  readonly k1: number;
  readonly k2: number;
  readonly batch: number;
  /** The state at the start of the kept history (the next window's start). */
  readonly state: Float[];
  private readonly spare: Float[];
  // k2 > k1 only: the window's inputs/targets, history first, and how many history steps are kept
  private winX: X | null = null;
  private winY: Y | null = null;
  private hist = 0;
  private lastW = 0; // steps of the last forward

  constructor(
    readonly model: SequenceModel<X, Y>,
    o: TBPTTOptions,
  ) {
    checkOptions("TruncatedBPTT", o, TBPTT_OPTION_KEYS);
    const k2 = o.k2 ?? o.k1;
    if (!Number.isInteger(o.k1) || o.k1 < 1) throw new RangeError(`truncated BPTT: k1 must be a whole number >= 1, got ${o.k1}`);
    if (!Number.isInteger(k2) || k2 < o.k1) throw new RangeError(`truncated BPTT: k2 must be a whole number >= k1 = ${o.k1}, got ${k2}`);
    if (!Number.isInteger(o.batch) || o.batch < 1) throw new RangeError(`truncated BPTT: batch must be a whole number >= 1, got ${o.batch}`);
    this.k1 = o.k1;
    this.k2 = k2;
    this.batch = o.batch;
    this.state = model.createState(o.batch);
    this.spare = model.createState(o.batch);
  }

  /** Starts a new stream: zero state, no history. */
  reset(): void {
    for (const s of this.state) s.fill(0);
    this.hist = 0;
    this.lastW = 0;
  }

  /**
   * One truncated-BPTT update's worth of work on the next `T` (<= k1) steps of the stream:
   * forward, backward (gradients accumulate into the store), state carried. Returns the loss of
   * the T new steps.
   */
  step(inputs: X, targets: Y, T: number): number {
    if (!Number.isInteger(T) || T < 1 || T > this.k1) throw new RangeError(`truncated BPTT: a chunk has 1..k1 = ${this.k1} steps, got ${T}`);
    const B = this.batch;
    const m = this.model;
    if (this.k2 === this.k1) {
      // the common case: the window is the chunk; carry its final state, detached
      const loss = m.forward(inputs, targets, T, B, this.state, 0);
      m.backward();
      m.stateAt(T, this.state);
      this.lastW = T;
      return loss;
    }
    const keep = this.k2 - this.k1; // history steps kept between windows
    const wx = inputs.length / T; // widths of one step
    const wy = targets.length / T;
    if (!this.winX || !this.winY) {
      this.winX = sameKind(inputs, this.k2 * wx) as X;
      this.winY = sameKind(targets, this.k2 * wy) as Y;
    }
    const h = this.hist;
    this.winX.set(inputs, h * wx);
    this.winY.set(targets, h * wy);
    const W = h + T;
    const loss = m.forward(this.winX, this.winY, W, B, this.state, h);
    m.backward();
    // the next window starts `keep` steps before this one's end
    const drop = Math.max(0, W - keep);
    if (drop > 0) {
      m.stateAt(drop, this.spare);
      for (let i = 0; i < this.state.length; i++) this.state[i].set(this.spare[i]);
      this.winX.copyWithin(0, drop * wx, W * wx);
      this.winY.copyWithin(0, drop * wy, W * wy);
    }
    this.hist = W - drop;
    this.lastW = W;
    return loss;
  }

  /**
   * What the driver carries between chunks (for checkpoints): the state the next window starts
   * from and, when k2 > k1, the kept history of inputs and targets. The arrays are live views.
   */
  carried(): { state: Float[]; history: number; inputs: X | null; targets: Y | null } {
    const h = this.hist;
    return {
      state: this.state,
      history: h,
      inputs: this.winX && h > 0 ? (this.winX.subarray(0, (this.winX.length / this.k2) * h) as X) : null,
      targets: this.winY && h > 0 ? (this.winY.subarray(0, (this.winY.length / this.k2) * h) as Y) : null,
    };
  }

  /** Restores what `carried()` returned (a resumed run continues exactly). */
  restore(c: { state: ArrayLike<number>[]; history: number; inputs: X | null; targets: Y | null }): void {
    if (c.state.length !== this.state.length || c.state.some((s, i) => s.length !== this.state[i].length)) {
      throw new RangeError("truncated BPTT: the carried state has the wrong shape");
    }
    c.state.forEach((s, i) => this.state[i].set(s));
    this.lastW = 0;
    this.hist = 0;
    if (c.history > 0) {
      if (this.k2 === this.k1 || c.history > this.k2 - this.k1 || !c.inputs || !c.targets) {
        throw new RangeError("truncated BPTT: the carried history does not fit k1 and k2");
      }
      this.winX = sameKind(c.inputs, (c.inputs.length / c.history) * this.k2) as X;
      this.winY = sameKind(c.targets, (c.targets.length / c.history) * this.k2) as Y;
      this.winX.set(c.inputs);
      this.winY.set(c.targets);
      this.hist = c.history;
    }
  }

  /** Copies the state after the last chunk's final step (the stream's current state) into `into`. */
  currentState(into: Float[]): void {
    if (this.lastW === 0) for (let i = 0; i < into.length; i++) into[i].set(this.state[i]);
    else this.model.stateAt(this.lastW, into);
  }
}
