// Single-step recurrent cells, as torch.nn.RNNCell / LSTMCell / GRUCell: one step from the state
// before it to the state after it, for a caller who runs the time loop (and its reverse) itself.
//
//   RNNCell:  h' = act(W_ih x + b_ih + W_hh h + b_hh)                      act = tanh | relu
//   LSTMCell: [i f g o] = W_ih x + b_ih + W_hh h + b_hh, i f o through σ, g through tanh
//             c' = f*c + i*g,  h' = o*tanh(c')
//   GRUCell:  [r z] = σ(W_i[rz] x + b_i[rz] + W_h[rz] h + b_h[rz])
//             n = tanh(W_in x + b_in + r*(W_hn h + b_hn)),  h' = (1-z)*n + z*h
//
// B = batch, I = input size, H = hidden size, G = gate width (H, 4H or 3H).
// Parameters, PyTorch's names and shapes (no _l0 suffix): weight_ih (G, I), weight_hh (G, H),
// bias_ih (G), bias_hh (G), gate blocks in PyTorch's order: LSTM (W_ii|W_if|W_ig|W_io), GRU
// (W_ir|W_iz|W_in). Inputs x (B, I) or unbatched (I); hx (B, H) or (H), zeros when omitted, and
// for the LSTMCell [hx, cx]; output h' (and c') of hx's shape.
//
// The arithmetic is the stacked layer's (nn/recurrent.ts), step for step: the input projection,
// both biases (GRU: b_hh with the hidden side, which r scales), the hidden product, and the same
// fused kernels (Kernels.lstmCellForward, gruCellForward and their backward twins), so a cell run
// over T steps gives the stacked layer's numbers. What the backward needs lives in a CellCache,
// one per step (the layer keeps nothing of a pass): pass one to forward, then to backward.
// Contract: backward accumulates (+=) into parameter gradients and assigns (=) dx, dhx and dcx.

import type { Float } from "../tensor/dtype.js";
import type { Kernels } from "../tensor/kernels.js";
import { checkShape, type Tensor } from "../tensor/tensor.js";
import { activationBackward, activationForward, checkActivation } from "./activations.js";
import { CELLS, type RecurrentMode } from "./cells.js";
import { checkOptions, checkSize, MODULE_OPTION_KEYS, moduleContext, type ModuleOptions } from "./module.js";
import { uniformInit, type Parameter, type ParamStore } from "./params.js";

/** Constructor arguments of LSTMCell and GRUCell (PyTorch's, in camelCase). */
export interface RNNCellBaseOptions extends ModuleOptions {
  /** I: features of the input. */
  inputSize: number;
  /** H: features of the hidden state. */
  hiddenSize: number;
  /** Learn b_ih and b_hh. Default true. */
  bias?: boolean;
}

/** Constructor arguments of RNNCell: RNNCellBaseOptions plus the nonlinearity. */
export interface RNNCellOptions extends RNNCellBaseOptions {
  /** `"tanh"` (default) or `"relu"`. */
  nonlinearity?: "tanh" | "relu";
}

const CELL_OPTION_KEYS: readonly string[] = [...MODULE_OPTION_KEYS, "inputSize", "hiddenSize", "bias"];

/**
 * The buffers of one step of a cell for B rows: a copy of its input and previous state, what the
 * fused kernel kept (gates, and tanh(c') or W_hn h + b_hn), the new state (what forward returns,
 * as views), and the gradients backward returns (views, overwritten by the next backward on the
 * same cache). Make one per step with `cell.createCache(B)` to backpropagate through several.
 */
export class CellCache {
  /** Whether the last forward's input was unbatched (I): outputs and gradients then drop the batch axis. */
  unbatched = false;
  /** Whether a forward filled this cache (backward needs one). */
  filled = false;
  /** (B, I) the input, copied. */
  readonly x: Float;
  /** (B, H) the previous state h (and c for the LSTMCell), copied (zeros when omitted). */
  readonly hPrev: Float;
  readonly cPrev: Float | null;
  /** (B, G) the gates: pre-activations, then activations (LSTM: [σ(i), σ(f), tanh(g), σ(o)]; GRU: [r, z, n]). */
  readonly gates: Float;
  /** (B, H) the new state h' (and c'). */
  readonly h: Float;
  readonly c: Float | null;
  /** LSTMCell (B, H): tanh(c'). */
  readonly tc: Float | null;
  /** GRUCell (B, G): h W_hh^T + b_hh; and (B, H) its n block, kept for the backward. */
  readonly gh: Float | null;
  readonly ghn: Float | null;
  /** (B, G) the gradient of the gates' pre-activations (GRU: of the input side; dgh of the hidden side). */
  readonly dgates: Float;
  readonly dgh: Float | null;
  /** Gradients backward returns: dx (B, I), dhx (B, H), dcx (B, H). */
  readonly dx: Float;
  readonly dhx: Float;
  readonly dcx: Float | null;
  /** LSTMCell (B, H) zeros: the gradient of c' when backward is given none. */
  readonly dcZero: Float | null;

  /** Buffers for B rows of a cell of this mode, I inputs and H hidden features; `alloc` gives zeroed buffers (the store's). */
  constructor(
    readonly mode: RecurrentMode,
    readonly B: number,
    readonly I: number,
    readonly H: number,
    alloc: (n: number) => Float,
  ) {
    const lstm = mode === "LSTM";
    const gru = mode === "GRU";
    const G = gatesOf(mode) * H;
    this.x = alloc(B * I);
    this.hPrev = alloc(B * H);
    this.cPrev = lstm ? alloc(B * H) : null;
    this.gates = alloc(B * G);
    this.h = alloc(B * H);
    this.c = lstm ? alloc(B * H) : null;
    this.tc = lstm ? alloc(B * H) : null;
    this.gh = gru ? alloc(B * G) : null;
    this.ghn = gru ? alloc(B * H) : null;
    this.dgates = alloc(B * G);
    this.dgh = gru ? alloc(B * G) : null;
    this.dx = alloc(B * I);
    this.dhx = alloc(B * H);
    this.dcx = lstm ? alloc(B * H) : null;
    this.dcZero = lstm ? alloc(B * H) : null;
  }
}

function gatesOf(mode: RecurrentMode): number {
  return (mode === "LSTM" ? CELLS.lstm : mode === "GRU" ? CELLS.gru : CELLS.rnn).gates.length;
}

/** What a cell's backward returns: dx (B, I) or (I), dhx (B, H) or (H), and dcx for the LSTMCell (else null); views into the cache. */
export interface CellGrads {
  dx: Tensor;
  dhx: Tensor;
  dcx: Tensor | null;
}

/**
 * What RNNCell, LSTMCell and GRUCell share (PyTorch's RNNCellBase): the parameters, the cache,
 * and the step forward and backward on raw buffers. Use the subclasses.
 */
export abstract class RNNCellBase {
  /** The cell, in PyTorch's mode spelling (RNN_TANH, RNN_RELU, LSTM, GRU). */
  readonly mode: RecurrentMode;
  /** I: features of the input. */
  readonly inputSize: number;
  /** H: features of the state. */
  readonly hiddenSize: number;
  /** Whether the cell has bias_ih and bias_hh. */
  readonly bias: boolean;
  /** weight_ih (G, I), weight_hh (G, H), bias_ih (G), bias_hh (G): PyTorch's names. */
  readonly weightIh: Parameter;
  readonly weightHh: Parameter;
  readonly biasIh: Parameter | null;
  readonly biasHh: Parameter | null;
  readonly store: ParamStore;
  protected readonly k: Kernels;
  protected readonly what: string;

  protected constructor(mode: RecurrentMode, what: string, options: RNNCellOptions, known: readonly string[]) {
    checkOptions(what, options, known);
    const { inputSize, hiddenSize, bias = true } = options;
    checkSize(`${what}: inputSize`, inputSize);
    checkSize(`${what}: hiddenSize`, hiddenSize);
    this.mode = mode;
    this.what = what;
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.bias = bias;
    const { store, name, k } = moduleContext(options);
    this.store = store;
    this.k = k;
    const G = gatesOf(mode) * hiddenSize;
    const std = uniformInit(1 / Math.sqrt(hiddenSize)); // PyTorch's reset_parameters: every parameter U(±1/sqrt(H))
    this.weightIh = store.declare(name("weight_ih"), [G, inputSize], std);
    this.weightHh = store.declare(name("weight_hh"), [G, hiddenSize], std);
    this.biasIh = bias ? store.declare(name("bias_ih"), [G], std) : null;
    this.biasHh = bias ? store.declare(name("bias_hh"), [G], std) : null;
  }

  /** Buffers for one step of B rows: pass it to forward, then the same one to backward. */
  createCache(B: number): CellCache {
    checkSize(`${this.what}: batch`, B);
    return new CellCache(this.mode, B, this.inputSize, this.hiddenSize, (n) => this.store.alloc(n));
  }

  /** Checks x ((B, I) or unbatched (I)) and the states against it; returns B and whether unbatched. */
  protected shapes(x: Tensor, states: (Tensor | null | undefined)[]): { B: number; unbatched: boolean } {
    const I = this.inputSize;
    const H = this.hiddenSize;
    let B: number;
    let unbatched: boolean;
    if (x.shape.length === 1) {
      checkShape(`${this.what} unbatched input x (I)`, x, [I]);
      B = 1;
      unbatched = true;
    } else if (x.shape.length === 2) {
      B = x.shape[0];
      checkShape(`${this.what} input x (B, I)`, x, [B, I]);
      unbatched = false;
    } else {
      throw new RangeError(`${this.what}: input x must be (B, I) or unbatched (I), got shape [${x.shape.join(", ")}]`);
    }
    states.forEach((s, i) => {
      if (!s) return;
      const name = i === 0 ? "hx" : "cx";
      checkShape(`${this.what} ${name} ${unbatched ? "(H), for an unbatched input," : "(B, H)"}`, s, unbatched ? [H] : [B, H]);
    });
    return { B, unbatched };
  }

  /** The cache to use: the caller's (checked) or a new one. */
  protected cacheFor(B: number, cache: CellCache | undefined): CellCache {
    if (!cache) return this.createCache(B);
    if (cache.B !== B || cache.mode !== this.mode || cache.I !== this.inputSize || cache.H !== this.hiddenSize)
      throw new RangeError(`${this.what}: the cache was made for ${cache.B} rows of another shape; make it with this cell's createCache(${B})`);
    return cache;
  }

  /**
   * One step on raw buffers: x (B, I) and the state before it, already copied into `c.x`,
   * `c.hPrev` (and `c.cPrev`), give the state after it in `c.h` (and `c.c`).
   */
  stepForward(c: CellCache): void {
    const { k, inputSize: I, hiddenSize: H } = this;
    const B = c.B;
    const G = gatesOf(this.mode) * H;
    // input projection and both biases (GRU: b_ih only), then the hidden product, as the stacked layer
    k.gemm(false, true, B, G, I, 1, c.x, 0, I, this.weightIh.value, 0, I, 0, c.gates, 0, G); // gates = x W_ih^T
    if (this.biasIh) k.addRowVector(c.gates, 0, this.biasIh.value, 0, B, G);
    if (this.mode === "GRU") {
      // gh = h W_hh^T + b_hh, kept apart: r scales its n block
      k.gemm(false, true, B, G, H, 1, c.hPrev, 0, H, this.weightHh.value, 0, H, 0, c.gh!, 0, G);
      if (this.biasHh) k.addRowVector(c.gh!, 0, this.biasHh.value, 0, B, G);
      k.gruCellForward(c.gates, 0, c.ghn!, 0, c.h, 0, c.gates, 0, c.gh!, 0, c.hPrev, 0, B, H);
      return;
    }
    if (this.biasHh) k.addRowVector(c.gates, 0, this.biasHh.value, 0, B, G);
    k.gemm(false, true, B, G, H, 1, c.hPrev, 0, H, this.weightHh.value, 0, H, 1, c.gates, 0, G); // gates += h W_hh^T
    if (this.mode === "LSTM") k.lstmCellForward(c.gates, 0, c.c!, 0, c.tc!, 0, c.h, 0, c.cPrev!, 0, B, H);
    else activationForward(this.mode === "RNN_RELU" ? "relu" : "tanh", c.h, 0, c.gates, 0, B * H, k);
  }

  /**
   * Backward of stepForward from dh (B, H), the gradient of h', and (LSTMCell) dc (B, H), that of
   * c' (null: 0). Accumulates the parameter gradients; assigns c.dx, c.dhx (and c.dcx).
   */
  stepBackward(c: CellCache, dh: Float, dc: Float | null): void {
    const { k, inputSize: I, hiddenSize: H } = this;
    const B = c.B;
    const G = gatesOf(this.mode) * H;
    const dgates = c.dgates;
    // through the cell's nonlinearities: the gradient of the gates' pre-activations
    if (this.mode === "LSTM") k.lstmCellBackward(dgates, 0, c.dcx!, 0, dh, 0, dc ?? c.dcZero!, 0, c.gates, 0, c.tc!, 0, c.cPrev!, 0, B, H);
    else if (this.mode === "GRU") k.gruCellBackward(dgates, 0, c.dgh!, 0, c.dhx, 0, dh, 0, c.gates, 0, c.ghn!, 0, c.hPrev, 0, B, H);
    else activationBackward(this.mode === "RNN_RELU" ? "relu" : "tanh", dgates, 0, dh, 0, c.h, 0, B * H, k);
    // the hidden side: dW_hh += dgh^T h, db_hh += Σ dgh, dhx (+)= dgh W_hh (GRU: dhx already holds dh*z)
    const dhid = c.dgh ?? dgates;
    k.gemm(true, false, G, H, B, 1, dhid, 0, G, c.hPrev, 0, H, 1, this.weightHh.grad, 0, H);
    if (this.biasHh) k.sumRows(this.biasHh.grad, 0, dhid, 0, B, G);
    k.gemm(false, false, B, H, G, 1, dhid, 0, G, this.weightHh.value, 0, H, this.mode === "GRU" ? 1 : 0, c.dhx, 0, H);
    // the input side: dW_ih += dgates^T x, db_ih += Σ dgates, dx = dgates W_ih
    k.gemm(true, false, G, I, B, 1, dgates, 0, G, c.x, 0, I, 1, this.weightIh.grad, 0, I);
    if (this.biasIh) k.sumRows(this.biasIh.grad, 0, dgates, 0, B, G);
    k.gemm(false, false, B, I, G, 1, dgates, 0, G, this.weightIh.value, 0, I, 0, c.dx, 0, I);
  }

  /** Copies x and the previous states into the cache (zeros for an omitted state) and runs the step. */
  protected run(x: Tensor, h: Tensor | null | undefined, cx: Tensor | null | undefined, cache: CellCache | undefined): CellCache {
    const { B, unbatched } = this.shapes(x, [h, cx]);
    const c = this.cacheFor(B, cache);
    const k = this.k;
    k.copy(c.x, 0, x.data, 0, B * this.inputSize);
    if (h) k.copy(c.hPrev, 0, h.data, 0, B * this.hiddenSize);
    else c.hPrev.fill(0);
    if (c.cPrev) {
      if (cx) k.copy(c.cPrev, 0, cx.data, 0, B * this.hiddenSize);
      else c.cPrev.fill(0);
    }
    c.unbatched = unbatched;
    this.stepForward(c);
    c.filled = true;
    return c;
  }

  /** The public backward: checks the gradients' sizes, runs stepBackward, shapes the results. */
  protected grads(c: CellCache, dh: Tensor | Float, dc: Tensor | Float | null | undefined): CellGrads {
    if (!c.filled) throw new Error(`${this.what}.backward: run forward with this cache first`);
    const raw = (t: Tensor | Float) => ("data" in t ? t.data : t);
    const B = c.B;
    const H = this.hiddenSize;
    const I = this.inputSize;
    const dhr = raw(dh);
    if (dhr.length !== B * H) throw new RangeError(`${this.what}.backward: dh must have ${B}*${H} elements, got ${dhr.length}`);
    const dcr = dc == null ? null : raw(dc);
    if (dcr && (this.mode !== "LSTM" || dcr.length !== B * H)) throw new RangeError(`${this.what}.backward: dc is the LSTMCell's, with ${B}*${H} elements`);
    this.stepBackward(c, dhr, dcr);
    const sh = (n: number) => (c.unbatched ? [n] : [B, n]);
    return {
      dx: { data: c.dx, shape: sh(I) },
      dhx: { data: c.dhx, shape: sh(H) },
      dcx: c.dcx ? { data: c.dcx, shape: sh(H) } : null,
    };
  }

  /** A tensor view of a cache buffer of H features, in the last forward's layout. */
  protected view(c: CellCache, data: Float): Tensor {
    return { data, shape: c.unbatched ? [this.hiddenSize] : [c.B, this.hiddenSize] };
  }
}

/**
 * An Elman RNN cell, as torch.nn.RNNCell: `h' = act(W_ih x + b_ih + W_hh h + b_hh)`, act tanh
 * (default) or relu. Parameters weight_ih (H, I), weight_hh (H, H), bias_ih (H), bias_hh (H).
 * @example
 * const cell = new RNNCell({ inputSize: 3, hiddenSize: 4, seed: 1 });
 * const c0 = cell.createCache(2), c1 = cell.createCache(2);
 * const h1 = cell.forward(x0, null, c0);    // x0 (2, 3) -> h1 (2, 4)
 * const h2 = cell.forward(x1, h1, c1);
 * const g1 = cell.backward(c1, dh2);        // g1.dx, g1.dhx: gradients of x1 and h1
 * cell.backward(c0, g1.dhx);                // back through the first step
 */
export class RNNCell extends RNNCellBase {
  readonly nonlinearity: "tanh" | "relu";
  constructor(options: RNNCellOptions) {
    const nl = options.nonlinearity ?? "tanh";
    checkActivation("RNNCell", nl, ["tanh", "relu"]);
    super(nl === "relu" ? "RNN_RELU" : "RNN_TANH", "RNNCell", options, [...CELL_OPTION_KEYS, "nonlinearity"]);
    this.nonlinearity = nl;
  }

  /**
   * h' (B, H) from x (B, I) and hx (B, H) (or unbatched (I) and (H); zeros when omitted). With
   * `cache` (from createCache), the step is kept there for backward and h' is a view into it;
   * without, a new cache is made.
   */
  forward(x: Tensor, hx?: Tensor | null, cache?: CellCache): Tensor {
    const c = this.run(x, hx, null, cache);
    return this.view(c, c.h);
  }

  /** Gradients of the step in `cache` from dh, the gradient of h': accumulates the parameters', returns dx and dhx. */
  backward(cache: CellCache, dh: Tensor | Float): CellGrads {
    return this.grads(cache, dh, null);
  }
}

/**
 * An LSTM cell, as torch.nn.LSTMCell (gate order i, f, g, o):
 * `[i f g o] = W_ih x + b_ih + W_hh h + b_hh`, `c' = σ(f)*c + σ(i)*tanh(g)`, `h' = σ(o)*tanh(c')`.
 * Parameters weight_ih (4H, I) = (W_ii|W_if|W_ig|W_io), weight_hh (4H, H), bias_ih (4H), bias_hh (4H).
 * @example
 * const cell = new LSTMCell({ inputSize: 3, hiddenSize: 4, seed: 1 });
 * const cache = cell.createCache(2);
 * const [h1, c1] = cell.forward(x, null, cache);   // x (2, 3); h1, c1 (2, 4)
 * const { dx, dhx, dcx } = cell.backward(cache, dh1, dc1);
 */
export class LSTMCell extends RNNCellBase {
  constructor(options: RNNCellBaseOptions) {
    super("LSTM", "LSTMCell", options, CELL_OPTION_KEYS);
  }

  /**
   * [h', c'] (B, H) each, from x (B, I) and hx = [h, c] (B, H) each (or unbatched (I) and (H);
   * zeros when omitted). With `cache` the step is kept there for backward (h', c' are views into
   * it); without, a new cache is made.
   */
  forward(x: Tensor, hx?: readonly [Tensor, Tensor] | null, cache?: CellCache): [Tensor, Tensor] {
    if (hx && hx.length !== 2) throw new RangeError("LSTMCell: hx is [h, c]");
    const c = this.run(x, hx?.[0], hx?.[1], cache);
    return [this.view(c, c.h), this.view(c, c.c!)];
  }

  /** Gradients of the step in `cache` from dh and dc (null: 0), those of h' and c': accumulates the parameters', returns dx, dhx and dcx. */
  backward(cache: CellCache, dh: Tensor | Float, dc?: Tensor | Float | null): CellGrads {
    return this.grads(cache, dh, dc);
  }
}

/**
 * A GRU cell, as torch.nn.GRUCell (gate order r, z, n): `r = σ(W_ir x + b_ir + W_hr h + b_hr)`,
 * `z = σ(W_iz x + b_iz + W_hz h + b_hz)`, `n = tanh(W_in x + b_in + r*(W_hn h + b_hn))`,
 * `h' = (1-z)*n + z*h`. Parameters weight_ih (3H, I) = (W_ir|W_iz|W_in), weight_hh (3H, H),
 * bias_ih (3H), bias_hh (3H).
 * @example
 * const cell = new GRUCell({ inputSize: 3, hiddenSize: 4, seed: 1 });
 * const cache = cell.createCache(1);
 * const h1 = cell.forward(tensor([1, 0, -1], [3]), null, cache); // unbatched: h1 (4)
 * const { dx, dhx } = cell.backward(cache, dh1);
 */
export class GRUCell extends RNNCellBase {
  constructor(options: RNNCellBaseOptions) {
    super("GRU", "GRUCell", options, CELL_OPTION_KEYS);
  }

  /** h' (B, H) from x (B, I) and hx (B, H) (or unbatched; zeros when omitted), kept in `cache` for backward (a new one when omitted). */
  forward(x: Tensor, hx?: Tensor | null, cache?: CellCache): Tensor {
    const c = this.run(x, hx, null, cache);
    return this.view(c, c.h);
  }

  /** Gradients of the step in `cache` from dh, the gradient of h': accumulates the parameters', returns dx and dhx. */
  backward(cache: CellCache, dh: Tensor | Float): CellGrads {
    return this.grads(cache, dh, null);
  }
}
