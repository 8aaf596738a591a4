// Recurrent layers: Elman RNN, LSTM and GRU, stacked, batched, optionally bidirectional, with
// PyTorch's packed-sequence semantics for variable lengths and dropout between layers, as
// torch.nn.RNN / LSTM / GRU, LSTM projections (proj_size) included. The only place that knows
// about time: the forward loop runs the steps in order and keeps every state; the backward loop
// runs them in reverse, carrying dhNext (and dcNext for the LSTM): backpropagation through time.
//
//   RNN:  h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)                     act = tanh | relu
//   LSTM: [i f g o] = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh, i f o through σ, g through tanh
//         c_t = f*c_{t-1} + i*g,  h_t = o*tanh(c_t)            (projSize P > 0: h_t = W_hr (o*tanh(c_t)))
//   GRU:  [r z] = σ(W_i[rz] x_t + b_i[rz] + W_h[rz] h_{t-1} + b_h[rz])
//         n = tanh(W_in x_t + b_in + r*(W_hn h_{t-1} + b_hn)),  h_t = (1-z)*n + z*h_{t-1}
//
// T = steps, B = batch, I = input size, H = hidden size, L = layers, D = directions (1 or 2),
// G = gate width (H, 4H or 3H), S = the size of h_t (H_out in PyTorch's docs: P for an LSTM with
// projections, else H), I_l = I for layer 0 and D*S above it.
// Parameters per layer l and direction, PyTorch's names, shapes and order: weight_ih_l{l} (G, I_l),
// weight_hh_l{l} (G, S), bias_ih_l{l} (G), bias_hh_l{l} (G), and with projections weight_hr_l{l}
// (P, H); the reverse direction adds the suffix "_reverse". Gate blocks are stacked in PyTorch's
// order: LSTM (W_ii|W_if|W_ig|W_io), GRU (W_ir|W_iz|W_in).
// Inputs x (T, B, I), h0 (L*D, B, S) (and c0 (L*D, B, H) for the LSTM); outputs output
// (T, B, D*S), the top layer's states with the two directions concatenated on the feature axis,
// h_n (L*D, B, S) ordered layer by layer, forward before reverse, and c_n (L*D, B, H).
// `forward` also takes PyTorch's other layouts and converts them at the edges (the time loops
// always run on (T, B, ·) buffers): batchFirst x (B, T, I) and output (B, T, D*S) (states keep
// (L*D, B, ·)); unbatched x (T, I), output (T, D*S), h0 and h_n (L*D, S); a PackedSequence
// (nn/pack.ts) in, its output packed the same way.
//
// Lengths (packed sequences): a row b is active for t < lengths[b]; at t >= lengths[b] its state
// is carried unchanged, its output is 0, and nothing flows back through it; h_n is each row's
// state at its own last step, and the reverse direction starts at each row's own last step.
//
// Shape of the work: the input projection of all T*B rows is one GEMM per direction; each step
// adds one (B x S)·(S x G) product and the cell's fused elementwise kernel (and the (B x H)·(H x P)
// projection); the weight gradients are one GEMM each over all steps after the time loop.
// Nothing is allocated inside the time loop.
// Contract: backward accumulates (+=) into parameter gradients and assigns (=) dx, dh0 and dc0.

import type { Float } from "../tensor/dtype.js";
import { alloc } from "../tensor/dtype.js";
import type { Kernels } from "../tensor/kernels.js";
import { randomOrthogonal } from "../tensor/linalg.js";
import { checkShape, type Tensor } from "../tensor/tensor.js";
import { activationBackward, activationForward, checkActivation } from "./activations.js";
import { checkOptions, checkSize, MODULE_OPTION_KEYS, moduleContext, type ModuleOptions } from "./module.js";
import { isPackedSequence, packedLayout, type PackedSequence } from "./pack.js";
import { uniformInit, zerosInit, type Initializer, type Parameter, type ParamStore } from "./params.js";
import { CELLS, cellOfMode, type CellName, type RecurrentMode } from "./cells.js";

export type { RecurrentMode };

/** Gate blocks per cell: G = GATES[mode] * H (nn/cells.ts). */
const GATES: Record<RecurrentMode, number> = {
  RNN_TANH: CELLS.rnn.gates.length,
  RNN_RELU: CELLS.rnn.gates.length,
  LSTM: CELLS.lstm.gates.length,
  GRU: CELLS.gru.gates.length,
};

/** Weight initialisation schemes. */
export type RecurrentInit = "default" | "orthogonal" | "identity" | "chrono";

/** Constructor arguments shared by RNN, LSTM and GRU (PyTorch's, in camelCase). */
export interface RecurrentOptions extends ModuleOptions {
  /** I: features per input step. */
  inputSize: number;
  /** H: features of the hidden state. */
  hiddenSize: number;
  /** L: stacked layers. Default 1. */
  numLayers?: number;
  /** Learn b_ih and b_hh. Default true. */
  bias?: boolean;
  /** Dropout probability on the outputs of every layer but the last, in training mode. Default 0. */
  dropout?: number;
  /** Run a second direction from the last step back to the first. Default false. */
  bidirectional?: boolean;
  /**
   * `"default"`: every parameter uniform ±1/sqrt(H), as PyTorch. `"orthogonal"`: each weight_hh
   * orthogonal (torch.nn.init.orthogonal_ on the whole (G, H) matrix), the rest default.
   * `"identity"` (IRNN, Le et al. 2015; for relu RNNs): weight_hh = I and biases 0, weight_ih default.
   * `"chrono"` (Tallec & Ollivier 2018, for LSTM and GRU): gate biases that give each unit a memory
   * time drawn from [1, chronoMax]: LSTM b_f = log U[1, chronoMax - 1] and b_i = -b_f; GRU update
   * gate b_z = log U[1, chronoMax - 1] (h = (1 - z) n + z h_prev keeps h when z is near 1); those
   * blocks of b_ih, with b_hh's 0; the rest default.
   */
  init?: RecurrentInit;
  /** `init: "chrono"`: the longest dependency to expect, in steps (e.g. the sequence length). */
  chronoMax?: number;
  /** LSTM only: the forget gate's bias (b_ih's forget block; b_hh's is then 0), e.g. 1 (Jozefowicz et al. 2015). */
  forgetBias?: number;
  /** Seed of the dropout masks. Default: the store's seed + 1. */
  dropoutSeed?: number;
  /**
   * PyTorch's batch_first: `forward` takes x (B, T, I) and gives output (B, T, D*S), and
   * `backward` takes dOutput and gives dx in that layout; h0, h_n and c_n stay (L*D, B, ·), as in
   * PyTorch. forwardRaw and backwardRaw are always (T, B, ·). Default false.
   */
  batchFirst?: boolean;
  /**
   * LSTM only, PyTorch's proj_size: P > 0 (and < hiddenSize) projects each state,
   * h_t = W_hr (o*tanh(c_t)) with weight_hr_l{k} (P, H), so h_t, h0, h_n and each direction's
   * output have P features, weight_hh_l{k} is (4H, P) and layers above 0 take D*P inputs
   * (Sak et al. 2014). c_t keeps H. Default 0: no projection.
   */
  projSize?: number;
}

/** Every key of RecurrentOptions: what the constructors accept (RNN adds `nonlinearity`). */
export const RECURRENT_OPTION_KEYS: readonly string[] = [
  ...MODULE_OPTION_KEYS,
  "inputSize",
  "hiddenSize",
  "numLayers",
  "bias",
  "dropout",
  "bidirectional",
  "init",
  "chronoMax",
  "forgetBias",
  "dropoutSeed",
  "batchFirst",
  "projSize",
];

/** A 32-bit integer hash (murmur3's finalizer), uniform over [0, 2^32). */
function mix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** One layer-direction's parameters. */
export interface RecurrentParams {
  /** weight_ih_l{k} (G, I_l). */
  weightIh: Parameter;
  /** weight_hh_l{k} (G, S). */
  weightHh: Parameter;
  biasIh: Parameter | null;
  biasHh: Parameter | null;
  /** weight_hr_l{k} (P, H) of an LSTM with projections (projSize P > 0), else null. */
  weightHr: Parameter | null;
}

/**
 * The buffers of one layer in one direction, for up to `capacity` steps of B rows: what the
 * forward keeps for the backward, and what analysis/ (Jacobians, Ω) reads. Block t of a (cap, B, X)
 * buffer is step t, at offset t*B*X.
 */
export interface DirectionBuffers {
  /** (cap, B, G): gate pre-activations, then activations (LSTM, GRU), then their gradients in the backward. */
  gates: Float;
  /** (cap+1, B, S): states h; the state before step t is block t (forward) or t+1 (reverse). */
  hs: Float;
  /** LSTM (cap+1, B, H): cell states, laid out as hs. */
  cs: Float | null;
  /** LSTM (cap, B, H): tanh(c_t). */
  tc: Float | null;
  /** GRU (cap, B, H): W_hn h_{t-1} + b_hn. */
  ghn: Float | null;
  /** GRU (cap, B, G): gradient of the hidden-side pre-activations. */
  dgh: Float | null;
  /** LSTM with projections (cap, B, H): o*tanh(c_t), the state before its projection W_hr. */
  ms: Float | null;
  /** LSTM with projections (cap, B, P): ∂E/∂h_t of the backward's steps (0 on padded rows), for W_hr's gradient. */
  dhs: Float | null;
  /**
   * W_hh^T (S, G) and W_hh (G, S) packed by the kernels' packB, refreshed at the start of each
   * forward and backward, for the per-step products; allocated by the first pass that packs.
   */
  packedT: Float | null;
  packed: Float | null;
  /** W_hh (G, S) packed by the kernels' packNT, for forwards of fewer than 4 rows (generation). */
  packedNT: Float | null;
  /**
   * Whether the last forward on this cache left its packed W_hh (packedT, or packedNT for fewer
   * than 4 rows: a cache's batch size fixes which) as the weights it ran on; a later forward with
   * `plan.reuse` keeps it.
   */
  forwardPacked: boolean;
}

/** How forward's input was laid out: (T, B, ·), batchFirst (B, T, ·), unbatched (T, ·), or a PackedSequence. */
export type RecurrentLayout = "time" | "batch" | "unbatched" | "packed";

/** One layer's buffers: each direction's (DirectionBuffers), the layer's output and its input gradient. */
export interface LayerBuffers {
  /** Per direction, forward then reverse. */
  dirs: DirectionBuffers[];
  /** (cap, B, D*S): the layer's output, 0 at padded steps. */
  out: Float;
  /** (cap, B, I_l): gradient with respect to the layer's input. */
  dIn: Float;
  /** Layers below the top with dropout: (cap, B, D*S) mask (0 or 1/(1-p)) and out*mask, the next layer's input. */
  mask: Float | null;
  /** out*mask (cap, B, D*S): the next layer's input when dropout is on. */
  dropped: Float | null;
}

/**
 * Where forward and backward convert PyTorch's other layouts to and from the (T, B, ·) buffers
 * of the time loops, allocated by the first pass that needs them: x (cap, B, I) the input in time
 * order, out (cap, B, D*S) the output in the caller's layout, dOut (cap, B, D*S) the output's
 * gradient in time order, dx (cap, B, I) the input's gradient in the caller's layout.
 */
interface LayoutBuffers {
  x: Float;
  out: Float;
  dOut: Float;
  dx: Float;
}

/**
 * What a forward pass produced and what its backward needs. Buffers are sized for up to
 * `capacity` steps and B batch rows and are reused by later passes of the same batch size.
 */
export class RecurrentCache {
  /** Steps of the last forward. */
  T = 0;
  /** The layer-0 input of the last forward, (T, B, I) (a reference to the caller's buffer, or the cache's own copy of a converted layout). */
  x: Float | null = null;
  /** Per-row lengths of the last forward, or null when every row has T steps. */
  lengths: Int32Array | null = null;
  /** Whether the last forward applied dropout. */
  dropped = false;
  /**
   * Set by a caller that runs forwards one after another on weights that do not change between
   * them (generation, a token at a time): `steps`, the input steps of the whole run; `reuse`,
   * whether the weights are still those of the previous forward on this cache, so that its
   * packed W_hh can be kept instead of packed again. With a plan, batches of fewer than 4 rows
   * pack W_hh too (once for the run instead of never). Null: every forward packs afresh.
   */
  plan: { steps: number; reuse: boolean } | null = null;
  /** (G) backward's scratch: the bias gradients' sum over rows, when b_ih and b_hh share it (allocated by the first backward that needs it). */
  biasSum: Float | null = null;
  /** Whether layer 0's input projection came from a table (forwardRaw's `input0`): its input gradients are the caller's. */
  tableInput = false;
  /** The layout of the last forward's input (and of its output and gradients); forwardRaw's is "time". */
  layout: RecurrentLayout = "time";
  /** A packed last forward: its batch sizes and permutations (the output is packed the same way), and N, its rows. */
  packed: { batchSizes: Int32Array; sortedIndices: Int32Array | null; unsortedIndices: Int32Array | null; N: number } | null = null;
  readonly layers: LayerBuffers[];
  /** S: features of h (P for an LSTM with projections, else H). */
  readonly S: number;
  /** (L*D, B, S) final states h; cN (L*D, B, H) for the LSTM. */
  readonly hN: Float;
  readonly cN: Float | null;
  /** (L*D, B, S) gradients with respect to h0 (and c0, (L*D, B, H)). */
  readonly dh0: Float;
  readonly dc0: Float | null;
  // (B, S) scratch of the backward time loop: dh, the gradient of h_t; dhNext, what flows back
  // from the step processed after t (into h_t, then from it into h_{t-1}); the LSTM's (B, H) cell
  // gradients dcNext (of c_t) and dcPrev (of c_{t-1}), swapped after each step
  readonly dh: Float;
  readonly dhNext: Float;
  readonly dcNext: Float | null;
  readonly dcPrev: Float | null;
  /** GRU (B, G): h_{t-1} W_hh^T + b_hh of the current step. */
  readonly gh: Float | null;
  /** LSTM with projections (B, H): the gradient of o*tanh(c_t), dh_t W_hr. */
  readonly dm: Float | null;
  /**
   * Gradient flow, recorded by the next backward when set: `h[(l*D + d)*T + t]` = ‖∂E/∂h_t‖ of
   * layer l, direction d (Frobenius over the batch; the total gradient reaching the state after
   * step t), and for the LSTM `c[...]` = ‖∂E/∂c_t‖ (what reaches c_t through step t+1). Each
   * (L*D, T), with T of that forward. Costs one sum of squares per step.
   */
  flow: { h: Float64Array; c: Float64Array | null } | null = null;
  /**
   * When set, the next backward copies ∂E/∂h_t of every layer, direction and step here:
   * (L*D, T, B, S), block (l*D + d)*T + t. Pascanu's Ω regulariser (train/omega.ts) reads it.
   */
  stateGrads: Float | null = null;
  /**
   * Whether the next backwards compute the gradient with respect to the input (`dx`, and the
   * layer-0 `inputGrad`). A caller whose input is data, not the output of a parameter, sets it
   * false and saves one GEMM per pass (the input gradient is then 0); parameter gradients are
   * unchanged. Default true.
   */
  needInputGrad = true;
  private io: LayoutBuffers | null = null;
  private readonly allocate: (n: number) => Float;

  /**
   * Buffers for `capacity` steps of B rows of a stack whose layers take `inputSizes`, with hidden
   * size H, D directions, and projections to P features (0: none, LSTM only).
   */
  constructor(
    readonly mode: RecurrentMode,
    readonly capacity: number,
    readonly B: number,
    inputSizes: readonly number[],
    readonly H: number,
    readonly D: number,
    dropout: boolean,
    alloc: (n: number) => Float,
    readonly P = 0,
  ) {
    const G = GATES[mode] * H;
    const S = P > 0 ? P : H;
    const L = inputSizes.length;
    const lstm = mode === "LSTM";
    const gru = mode === "GRU";
    const proj = P > 0;
    const n = capacity * B;
    this.S = S;
    this.allocate = alloc;
    this.layers = inputSizes.map((I, l) => ({
      dirs: Array.from({ length: D }, () => ({
        gates: alloc(n * G),
        hs: alloc((capacity + 1) * B * S),
        cs: lstm ? alloc((capacity + 1) * B * H) : null,
        tc: lstm ? alloc(n * H) : null,
        ghn: gru ? alloc(n * H) : null,
        dgh: gru ? alloc(n * G) : null,
        ms: proj ? alloc(n * H) : null,
        dhs: proj ? alloc(n * P) : null,
        packedT: null,
        packed: null,
        packedNT: null,
        forwardPacked: false,
      })),
      out: alloc(n * D * S),
      dIn: alloc(n * I),
      mask: dropout && l < L - 1 ? alloc(n * D * S) : null,
      dropped: dropout && l < L - 1 ? alloc(n * D * S) : null,
    }));
    this.hN = alloc(L * D * B * S);
    this.cN = lstm ? alloc(L * D * B * H) : null;
    this.dh0 = alloc(L * D * B * S);
    this.dc0 = lstm ? alloc(L * D * B * H) : null;
    this.dh = alloc(B * S);
    this.dhNext = alloc(B * S);
    this.dcNext = lstm ? alloc(B * H) : null;
    this.dcPrev = lstm ? alloc(B * H) : null;
    this.gh = gru ? alloc(B * G) : null;
    this.dm = proj ? alloc(B * H) : null;
  }

  /** n floats from this cache's allocator (the layer's packed weights, once per cache). */
  alloc(n: number): Float {
    return this.allocate(n);
  }

  /**
   * output: the top layer's output at every step (a view), in the last forward's layout:
   * (T, B, D*S); batchFirst (B, T, D*S); unbatched (T, D*S); packed (N, D*S), the data of
   * `packedOutput`.
   */
  get output(): Tensor {
    const { T, B, D, S } = this;
    const DS = D * S;
    switch (this.layout) {
      case "batch":
        return { data: this.io!.out.subarray(0, T * B * DS), shape: [B, T, DS] };
      case "packed":
        return { data: this.io!.out.subarray(0, this.packed!.N * DS), shape: [this.packed!.N, DS] };
      default: {
        const top = this.layers[this.layers.length - 1].out;
        return { data: top.subarray(0, T * B * DS), shape: this.layout === "unbatched" ? [T, DS] : [T, B, DS] };
      }
    }
  }

  /** A packed last forward's output as a PackedSequence (PyTorch's output), else null. */
  get packedOutput(): PackedSequence | null {
    const p = this.packed;
    return p ? { data: this.output, batchSizes: p.batchSizes, sortedIndices: p.sortedIndices, unsortedIndices: p.unsortedIndices } : null;
  }

  /** h_n (L*D, B, S); unbatched (L*D, S). */
  get hNTensor(): Tensor {
    const LD = this.layers.length * this.D;
    return { data: this.hN, shape: this.layout === "unbatched" ? [LD, this.S] : [LD, this.B, this.S] };
  }

  /** c_n (L*D, B, H) of an LSTM (unbatched (L*D, H)), else null. */
  get cNTensor(): Tensor | null {
    const LD = this.layers.length * this.D;
    return this.cN ? { data: this.cN, shape: this.layout === "unbatched" ? [LD, this.H] : [LD, this.B, this.H] } : null;
  }

  /** The top layer's output buffer (cap, B, D*S), of which the first T steps are the last forward's. */
  get topOutput(): Float {
    return this.layers[this.layers.length - 1].out;
  }

  /** After a backward: the gradient of layer 0's input, (cap, B, I), first T steps. */
  get inputGrad(): Float {
    return this.layers[0].dIn;
  }

  /** The buffers of layer l, direction d (0 forward, 1 reverse): states, gates and cell buffers (DirectionBuffers). */
  direction(l: number, d = 0): DirectionBuffers {
    return this.layers[l].dirs[d];
  }

  /** The layout conversion buffers (allocated on first use, outside any time loop). @internal */
  layoutBuffers(): LayoutBuffers {
    if (!this.io) {
      const n = this.capacity * this.B;
      const I = this.layers[0].dIn.length / n;
      const DS = this.D * this.S;
      this.io = { x: this.allocate(n * I), out: this.allocate(n * DS), dOut: this.allocate(n * DS), dx: this.allocate(n * I) };
    }
    return this.io;
  }

  /**
   * The top layer's final states as (B, D*S), forward then reverse: what a many-to-one model
   * (a sequence classifier) reads. With lengths, each row's state at its own last step.
   */
  lastHidden(into: Float = alloc(this.hN instanceof Float64Array ? "float64" : "float32", this.B * this.D * this.S)): Float {
    const { B, D, S } = this;
    const top = this.layers.length - 1;
    for (let d = 0; d < D; d++) {
      for (let b = 0; b < B; b++) {
        const src = ((top * D + d) * B + b) * S;
        for (let j = 0; j < S; j++) into[(b * D + d) * S + j] = this.hN[src + j];
      }
    }
    return into;
  }
}

// ---------------------------------------------------------------------------------------------
// The cells, one step each: forward from the state before step t to the state after it, and its
// backward beside it (llm.c's twins). The time loops in Recurrent.forwardRaw and backwardRaw
// call them for every step; the input projection and the weight gradients are outside the loop.

/** One layer-direction's buffers and weights, and where step t sits in them (`prev`, `next`: offsets of h_{t-1} and h_t). */
interface Step {
  k: Kernels;
  B: number;
  H: number;
  G: number;
  /** Features of h: P with projections, else H. */
  S: number;
  act: "tanh" | "relu";
  wHh: Float;
  bHh: Float | null;
  /** LSTM with projections: W_hr (P, H). */
  wHr: Float | null;
  buf: DirectionBuffers;
  /** GRU (B, G) scratch: h_{t-1} W_hh^T + b_hh of the current step. */
  gh: Float | null;
  t: number;
  /** Offsets of h_{t-1} and h_t in hs, and (LSTM) of c_{t-1} and c_t in cs: the same unless projected. */
  prev: number;
  next: number;
  cPrev: number;
  cNext: number;
  /** Offset of step t's (B, G) block of gates. */
  gOff: number;
  /** Backward: dh (B, S) the gradient of h_t; dhNext (B, S) written with the gradient of h_{t-1}. */
  dh: Float;
  dhNext: Float;
  /** LSTM backward: the gradient of c_t in, of c_{t-1} out (swapped by the step). */
  dcNext: Float | null;
  dcPrev: Float | null;
  /** LSTM with projections, backward (B, H) scratch: the gradient of o*tanh(c_t). */
  dm: Float | null;
  lengths: Int32Array | null;
  /** W_hh^T and W_hh packed for this pass (null: multiply by wHh directly). */
  packedT: Float | null;
  packed: Float | null;
  /** W_hh packed by packNT for a forward of fewer than 4 rows (null: not packed). */
  packedNT: Float | null;
}

/** C (B, G) = A (B, S) · W_hh^T + beta * C: the recurrent product of a forward step. */
function timesWhhT(s: Step, A: Float, aOff: number, beta: number, C: Float, cOff: number): void {
  const G = s.G;
  if (s.packedT) s.k.gemmPacked(s.B, G, s.S, 1, A, aOff, s.S, s.packedT, beta, C, cOff, G);
  else if (s.packedNT) s.k.gemmPackedNT(s.B, G, s.S, 1, A, aOff, s.S, s.packedNT, beta, C, cOff, G);
  else s.k.gemm(false, true, s.B, G, s.S, 1, A, aOff, s.S, s.wHh, 0, s.S, beta, C, cOff, G);
}

/** C (B, S) = A (B, G) · W_hh + beta * C: the recurrent product of a backward step. */
function timesWhh(s: Step, A: Float, aOff: number, beta: number, C: Float, cOff: number): void {
  const S = s.S;
  if (s.packed) s.k.gemmPacked(s.B, S, s.G, 1, A, aOff, s.G, s.packed, beta, C, cOff, S);
  else s.k.gemm(false, false, s.B, S, s.G, 1, A, aOff, s.G, s.wHh, 0, S, beta, C, cOff, S);
}

/** Zeroes the gate-gradient rows of rows past their length at step t (and, for the LSTM, carries their dc). */
function skipPadded(s: Step, g: Float, carryCell: boolean): void {
  if (!s.lengths) return;
  for (let b = 0; b < s.B; b++) {
    if (s.t < s.lengths[b]) continue;
    g.fill(0, s.gOff + b * s.G, s.gOff + (b + 1) * s.G);
    if (carryCell) s.k.copy(s.dcPrev!, b * s.H, s.dcNext!, b * s.H, s.H);
  }
}

/** Elman RNN: h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh). */
function rnnStepForward(s: Step): void {
  const { k, B, H, buf } = s;
  timesWhhT(s, buf.hs, s.prev, 1, buf.gates, s.gOff); // gates += h_{t-1} W_hh^T
  activationForward(s.act, buf.hs, s.next, buf.gates, s.gOff, B * H, k); // h_t = act(gates)
}
function rnnStepBackward(s: Step): void {
  const { k, B, H, buf } = s;
  activationBackward(s.act, buf.gates, s.gOff, s.dh, 0, buf.hs, s.next, B * H, k); // backprop through act, from h_t itself
  skipPadded(s, buf.gates, false);
  timesWhh(s, buf.gates, s.gOff, 0, s.dhNext, 0); // into h_{t-1}: dhNext = dgates W_hh
}

/** LSTM: [i f g o] = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh; c_t = σ(f)*c_{t-1} + σ(i)*tanh(g); h_t = σ(o)*tanh(c_t). */
function lstmStepForward(s: Step): void {
  const { k, B, H, buf } = s;
  timesWhhT(s, buf.hs, s.prev, 1, buf.gates, s.gOff); // gates += h_{t-1} W_hh^T
  k.lstmCellForward(buf.gates, s.gOff, buf.cs!, s.next, buf.tc!, s.t * B * H, buf.hs, s.next, buf.cs!, s.prev, B, H); // the fused cell
}
function lstmStepBackward(s: Step): void {
  const { k, B, H, buf } = s;
  // through the fused cell: dgates over gates, and the gradient of c_{t-1} into dcPrev
  k.lstmCellBackward(buf.gates, s.gOff, s.dcPrev!, 0, s.dh, 0, s.dcNext!, 0, buf.gates, s.gOff, buf.tc!, s.t * B * H, buf.cs!, s.prev, B, H);
  skipPadded(s, buf.gates, true);
  timesWhh(s, buf.gates, s.gOff, 0, s.dhNext, 0); // into h_{t-1}: dhNext = dgates W_hh
  const dcPrev = s.dcPrev; // c_{t-1}'s gradient is the next (earlier) step's dcNext
  s.dcPrev = s.dcNext;
  s.dcNext = dcPrev;
}

/** GRU: r, z = σ(W_i[rz] x + b_i[rz] + W_h[rz] h + b_h[rz]); n = tanh(W_in x + b_in + r*(W_hn h + b_hn)); h_t = (1-z)*n + z*h_{t-1}. */
function gruStepForward(s: Step): void {
  const { k, B, H, G, buf } = s;
  // gh = h_{t-1} W_hh^T + b_hh, kept apart: r scales its n block
  timesWhhT(s, buf.hs, s.prev, 0, s.gh!, 0);
  if (s.bHh) k.addRowVector(s.gh!, 0, s.bHh, 0, B, G);
  k.gruCellForward(buf.gates, s.gOff, buf.ghn!, s.t * B * H, buf.hs, s.next, buf.gates, s.gOff, s.gh!, 0, buf.hs, s.prev, B, H);
}
function gruStepBackward(s: Step): void {
  const { k, B, H, buf } = s;
  // through the fused cell: dgi over gates, dgh apart, dhNext = dh*z; then dhNext += dgh W_hh
  k.gruCellBackward(buf.gates, s.gOff, buf.dgh!, s.gOff, s.dhNext, 0, s.dh, 0, buf.gates, s.gOff, buf.ghn!, s.t * B * H, buf.hs, s.prev, B, H);
  skipPadded(s, buf.gates, false);
  skipPadded(s, buf.dgh!, false);
  timesWhh(s, buf.dgh!, s.gOff, 1, s.dhNext, 0);
}

/** LSTM with projections (Sak et al. 2014; PyTorch's proj_size P): the LSTM step on an h of P features, then h_t = (o*tanh(c_t)) W_hr^T. */
function lstmProjStepForward(s: Step): void {
  const { k, B, H, S, buf } = s;
  const mOff = s.t * B * H; // step t's (B, H) block of tanh(c_t) and of m_t = o*tanh(c_t)
  timesWhhT(s, buf.hs, s.prev, 1, buf.gates, s.gOff); // gates += h_{t-1} W_hh^T
  k.lstmCellForward(buf.gates, s.gOff, buf.cs!, s.cNext, buf.tc!, mOff, buf.ms!, mOff, buf.cs!, s.cPrev, B, H); // the fused cell, m_t
  k.gemm(false, true, B, S, H, 1, buf.ms!, mOff, H, s.wHr!, 0, H, 0, buf.hs, s.next, S); // h_t = m_t W_hr^T
}
function lstmProjStepBackward(s: Step): void {
  const { k, B, H, S, buf } = s;
  const mOff = s.t * B * H;
  const dOff = s.t * B * S;
  const dhs = buf.dhs!;
  // keep dh_t for W_hr's gradient after the loop; padded rows pass their gradient by, not through W_hr
  k.copy(dhs, dOff, s.dh, 0, B * S);
  if (s.lengths) for (let b = 0; b < B; b++) if (s.t >= s.lengths[b]) dhs.fill(0, dOff + b * S, dOff + (b + 1) * S);
  k.gemm(false, false, B, H, S, 1, dhs, dOff, S, s.wHr!, 0, H, 0, s.dm!, 0, H); // back through the projection: dm = dh W_hr
  // through the fused cell: dgates over gates, and the gradient of c_{t-1} into dcPrev
  k.lstmCellBackward(buf.gates, s.gOff, s.dcPrev!, 0, s.dm!, 0, s.dcNext!, 0, buf.gates, s.gOff, buf.tc!, mOff, buf.cs!, s.cPrev, B, H);
  skipPadded(s, buf.gates, true);
  timesWhh(s, buf.gates, s.gOff, 0, s.dhNext, 0); // into h_{t-1}: dhNext = dgates W_hh
  const dcPrev = s.dcPrev;
  s.dcPrev = s.dcNext;
  s.dcNext = dcPrev;
}

/** Batches of fewer rows multiply by W_hh in place (a packed strip holds 4 rows). */
const PACK_MIN_ROWS = 4;

/** Forwards of fewer rows pack W_hh by packNT when they (or their plan: RecurrentCache.plan) run at least this many steps. */
const PACK_NT_MIN_STEPS = 4;

/** Each mode's step twins. */
const CELL_STEPS: Record<RecurrentMode, { forward(s: Step): void; backward(s: Step): void }> = {
  RNN_TANH: { forward: rnnStepForward, backward: rnnStepBackward },
  RNN_RELU: { forward: rnnStepForward, backward: rnnStepBackward },
  LSTM: { forward: lstmStepForward, backward: lstmStepBackward },
  GRU: { forward: gruStepForward, backward: gruStepBackward },
};
const LSTM_PROJ_STEPS = { forward: lstmProjStepForward, backward: lstmProjStepBackward };

// ---------------------------------------------------------------------------------------------
// Layout conversions at the edges of forward and backward (outside the time loops).

/** dst (C, R, F) = src (R, C, F) transposed on its first two axes: (B, T, F) <-> (T, B, F). */
function transposeTB(k: Kernels, dst: Float, src: Float, R: number, C: number, F: number): void {
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) k.copy(dst, (c * R + r) * F, src, (r * C + c) * F, F);
}

/** padded (T, B, F) rows of the packed rows (N, F): row offsets[t] + i is step t of batch row order[i]. Other rows are left alone. */
function scatterPacked(k: Kernels, padded: Float, packed: Float, pl: { T: number; offsets: Int32Array; order: Int32Array }, B: number, F: number): void {
  for (let t = 0; t < pl.T; t++) {
    for (let i = 0; i < pl.offsets[t + 1] - pl.offsets[t]; i++) k.copy(padded, (t * B + pl.order[i]) * F, packed, (pl.offsets[t] + i) * F, F);
  }
}

/** packed (N, F) = the rows of padded (T, B, F) that the packing holds (scatterPacked's inverse). */
function gatherPacked(k: Kernels, packed: Float, padded: Float, pl: { T: number; offsets: Int32Array; order: Int32Array }, B: number, F: number): void {
  for (let t = 0; t < pl.T; t++) {
    for (let i = 0; i < pl.offsets[t + 1] - pl.offsets[t]; i++) k.copy(packed, (pl.offsets[t] + i) * F, padded, (t * B + pl.order[i]) * F, F);
  }
}

/** The row layout of a cache's packed forward. */
function packedLayoutOf(c: RecurrentCache): { T: number; offsets: Int32Array; order: Int32Array } {
  const p = c.packed!;
  const T = p.batchSizes.length;
  const offsets = new Int32Array(T + 1);
  for (let t = 0; t < T; t++) offsets[t + 1] = offsets[t] + p.batchSizes[t];
  const order = p.sortedIndices ?? Int32Array.from({ length: c.B }, (_, i) => i);
  return { T, offsets, order };
}

/**
 * A stacked recurrent layer. Use the subclasses RNN, LSTM and GRU, which take PyTorch's
 * constructor arguments.
 */
export class Recurrent {
  readonly mode: RecurrentMode;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bias: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  /** D: 1, or 2 when bidirectional. */
  readonly numDirections: number;
  /** `forward` takes (B, T, I) and gives (B, T, D*S) (PyTorch's batch_first). */
  readonly batchFirst: boolean;
  /** P: the LSTM's projection size (PyTorch's proj_size), 0 for none. */
  readonly projSize: number;
  /** Per layer and direction, index l*D + d: the parameters. */
  readonly params: RecurrentParams[] = [];
  readonly store: ParamStore;
  /**
   * Dropout masks are a counter-based hash of (seed, call, layer, step, row, feature), not a
   * sequential stream, so the mask of a row does not depend on how a batch is split between
   * threads. `dropoutCalls` counts the forward passes that drew masks; it belongs in checkpoints.
   */
  readonly dropoutSeed: number;
  dropoutCalls = 0;
  /** The global batch index of this layer's row 0, when it runs one shard of a larger batch. */
  rowOffset = 0;
  /** Training mode (dropout on) or evaluation mode (off), as torch.nn.Module.train()/eval(). */
  training = true;
  protected readonly k: Kernels;

  constructor(mode: RecurrentMode, options: RecurrentOptions & { nonlinearity?: "tanh" | "relu" }) {
    const what = cellOfMode(mode).pytorch;
    checkOptions(what, options, mode === "RNN_TANH" || mode === "RNN_RELU" ? [...RECURRENT_OPTION_KEYS, "nonlinearity"] : RECURRENT_OPTION_KEYS);
    const { inputSize, hiddenSize, numLayers = 1, bias = true, dropout = 0, bidirectional = false, init = "default" } = options;
    const { batchFirst = false, projSize = 0 } = options;
    checkSize(`${mode}: inputSize`, inputSize);
    checkSize(`${mode}: hiddenSize`, hiddenSize);
    checkSize(`${mode}: numLayers`, numLayers);
    if (!(dropout >= 0 && dropout < 1)) throw new RangeError(`${mode}: dropout must be in [0, 1), got ${dropout}`);
    if (typeof batchFirst !== "boolean") throw new RangeError(`${mode}: batchFirst must be true or false, got ${JSON.stringify(batchFirst)}`);
    if (projSize !== 0) {
      if (mode !== "LSTM") throw new RangeError(`${what}: projSize is for LSTMs only (PyTorch's proj_size), got projSize ${projSize} for ${mode}`);
      checkSize(`${mode}: projSize`, projSize, 0);
      if (projSize >= hiddenSize)
        throw new RangeError(`${mode}: projSize must be smaller than hiddenSize (PyTorch's rule), got projSize ${projSize} >= hiddenSize ${hiddenSize}`);
    }
    if (!["default", "orthogonal", "identity", "chrono"].includes(init))
      throw new RangeError(`${mode}: init must be default, orthogonal, identity or chrono, got "${init}"`);
    if (init === "chrono" && mode !== "LSTM" && mode !== "GRU") throw new RangeError(`${mode}: init chrono is for LSTM and GRU (it sets gate biases)`);
    const chronoMax = options.chronoMax ?? 0;
    if (init === "chrono" && !(chronoMax >= 3))
      throw new RangeError(`${mode}: init chrono needs chronoMax, the longest dependency in steps (>= 3), got ${options.chronoMax}`);
    if (init === "chrono" && options.forgetBias !== undefined) throw new RangeError(`${mode}: init chrono sets the forget bias itself; drop forgetBias`);
    if (options.forgetBias !== undefined && mode !== "LSTM") throw new RangeError(`${mode}: forgetBias is for LSTMs`);
    if (init === "identity" && projSize > 0) throw new RangeError(`${mode}: init identity is for square W_hh, not projections (projSize ${projSize})`);
    this.mode = mode;
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.numLayers = numLayers;
    this.bias = bias;
    this.dropout = dropout;
    this.bidirectional = bidirectional;
    this.numDirections = bidirectional ? 2 : 1;
    this.batchFirst = batchFirst;
    this.projSize = projSize;
    const { store, name, k } = moduleContext(options);
    this.store = store;
    this.k = k;
    this.dropoutSeed = (options.dropoutSeed ?? (options.seed ?? 0) + 1) >>> 0;
    const H = hiddenSize;
    const S = this.outputSize;
    const G = GATES[mode] * H;
    const std = uniformInit(1 / Math.sqrt(H));
    const weightHhInit: Initializer =
      init === "orthogonal"
        ? (v, rng) => v.set(randomOrthogonal(G, S, rng))
        : init === "identity"
          ? (v) => {
              v.fill(0);
              for (let i = 0; i < Math.min(G, H); i++) v[i * H + i] = 1;
            }
          : std;
    const biasInit = (hh: boolean): Initializer => {
      if (init === "identity") return zerosInit;
      if (init === "chrono") {
        return (v, rng) => {
          std(v, rng);
          for (let j = 0; j < H; j++) {
            const b = hh ? 0 : Math.log(1 + rng.uniform() * (chronoMax - 2)); // log U[1, chronoMax - 1]
            if (mode === "LSTM") {
              v[H + j] = b; //  forget block of i|f|g|o
              v[j] = hh ? 0 : -b; // input block
            } else {
              v[H + j] = b; //  update block of r|z|n
            }
          }
        };
      }
      if (options.forgetBias === undefined) return std;
      const fb = options.forgetBias;
      return (v, rng) => {
        std(v, rng);
        for (let j = H; j < 2 * H; j++) v[j] = hh ? 0 : fb; // the forget block, i|f|g|o
      };
    };
    for (let l = 0; l < numLayers; l++) {
      for (let d = 0; d < this.numDirections; d++) {
        const sfx = `l${l}${d === 1 ? "_reverse" : ""}`;
        // PyTorch's order within a layer-direction: weight_ih, weight_hh, bias_ih, bias_hh, weight_hr
        const weightIh = store.declare(name(`weight_ih_${sfx}`), [G, this.layerInputSize(l)], std);
        const weightHh = store.declare(name(`weight_hh_${sfx}`), [G, S], weightHhInit);
        const biasIh = bias ? store.declare(name(`bias_ih_${sfx}`), [G], biasInit(false)) : null;
        const biasHh = bias ? store.declare(name(`bias_hh_${sfx}`), [G], biasInit(true)) : null;
        const weightHr = projSize > 0 ? store.declare(name(`weight_hr_${sfx}`), [projSize, H], std) : null;
        this.params.push({ weightIh, weightHh, biasIh, biasHh, weightHr });
      }
    }
  }

  /** S, PyTorch's H_out: the features of h_t, h0, h_n and of each direction's output (projSize when > 0, else hiddenSize). */
  get outputSize(): number {
    return this.projSize > 0 ? this.projSize : this.hiddenSize;
  }

  /** Input size of layer l: I for layer 0, D*S above. */
  layerInputSize(l: number): number {
    return l === 0 ? this.inputSize : this.numDirections * this.outputSize;
  }

  /** Number of state tensors: 2 (h, c) for the LSTM, else 1 (h). */
  get stateCount(): number {
    return cellOfMode(this.mode).states.length;
  }

  /** Training mode: dropout on (the default, as PyTorch). Returns this. */
  train(on = true): this {
    this.training = on;
    return this;
  }

  /** Evaluation mode: dropout off. Returns this. */
  eval(): this {
    return this.train(false);
  }

  /** A zero state for batch B: `[h]` or `[h, c]`, h (L*D, B, S) and c (L*D, B, H). */
  createState(B: number): Float[] {
    const n = this.numLayers * this.numDirections * B;
    return Array.from({ length: this.stateCount }, (_, i) => this.store.alloc(n * (i === 0 ? this.outputSize : this.hiddenSize)));
  }

  /** Buffers for passes of up to `capacity` steps of batch B. */
  createCache(capacity: number, B: number): RecurrentCache {
    checkSize(`${this.mode}: steps`, capacity);
    checkSize(`${this.mode}: batch`, B);
    const sizes = Array.from({ length: this.numLayers }, (_, l) => this.layerInputSize(l));
    return new RecurrentCache(
      this.mode,
      capacity,
      B,
      sizes,
      this.hiddenSize,
      this.numDirections,
      this.dropout > 0 && this.numLayers > 1,
      (n) => this.store.alloc(n),
      this.projSize,
    );
  }

  /**
   * Runs the stack from the initial state hx (h0, or [h0, c0] for the LSTM; zeros when omitted)
   * over x, in PyTorch's layouts (S = outputSize, H_c = hiddenSize):
   * - x (T, B, I), or (B, T, I) with batchFirst: output (T, B, D*S) or (B, T, D*S);
   *   h0 (L*D, B, S), c0 (L*D, B, H_c);
   * - unbatched x (T, I) (either way): output (T, D*S); h0 (L*D, S), c0 (L*D, H_c), h_n likewise;
   * - a PackedSequence (nn/pack.ts): the output is packed the same way (`cache.packedOutput`,
   *   `cache.output` its data (N, D*S)); h0 and h_n are in the batch's original order, as PyTorch.
   * `lengths` (B whole numbers in 1..T) gives each row of a padded batch its own length: the
   * same as packing it. Reuses `cache` when it fits. Returns the cache, holding output, h_n and c_n.
   * @example
   * const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, seed: 1 });
   * const c = lstm.forward(tensor(new Array(5 * 2 * 3).fill(0.5), [5, 2, 3]), null, { lengths: [5, 3] });
   * c.output.shape // => [5, 2, 4]; output rows of sequence 1 are 0 from step 3 on
   */
  forward(x: Tensor | PackedSequence, hx?: Tensor | readonly Tensor[] | null, o: { lengths?: ArrayLike<number>; cache?: RecurrentCache } = {}): RecurrentCache {
    const what = cellOfMode(this.mode).pytorch;
    const I = this.inputSize;
    const packed = isPackedSequence(x) ? x : null;
    let T: number;
    let B: number;
    let layout: RecurrentLayout;
    let lengths: Int32Array | null = null;
    let pl: ReturnType<typeof packedLayout> | null = null;
    if (packed) {
      if (o.lengths) throw new RangeError(`${what}: a PackedSequence carries its lengths; drop the lengths option`);
      pl = packedLayout(packed);
      if (pl.F !== I) throw new RangeError(`${what}: the PackedSequence's rows have ${pl.F} features, the layer takes ${I}`);
      ({ T, B } = pl);
      lengths = pl.lengths;
      layout = "packed";
    } else {
      const t = x as Tensor;
      if (t.shape.length === 2) {
        // unbatched (T, I): PyTorch adds a batch of one, whatever batch_first says
        [T] = t.shape;
        B = 1;
        checkShape(`${this.mode} unbatched input x (T, I)`, t, [T, I]);
        layout = "unbatched";
      } else if (t.shape.length === 3) {
        [T, B] = this.batchFirst ? [t.shape[1], t.shape[0]] : [t.shape[0], t.shape[1]];
        checkShape(`${this.mode} input x ${this.batchFirst ? "(B, T, I)" : "(T, B, I)"}`, t, this.batchFirst ? [B, T, I] : [T, B, I]);
        layout = this.batchFirst ? "batch" : "time";
      } else {
        throw new RangeError(
          `${what}: input x must be 3-D ${this.batchFirst ? "(B, T, I)" : "(T, B, I)"} or unbatched 2-D (T, I), got shape [${t.shape.join(", ")}]`,
        );
      }
      if (o.lengths) {
        if (o.lengths.length !== B) throw new RangeError(`${this.mode}: lengths has ${o.lengths.length} entries for a batch of ${B}`);
        lengths = Int32Array.from(o.lengths);
        lengths.forEach((n, b) => {
          if (!(Number.isInteger(o.lengths![b]) && n >= 1 && n <= T))
            throw new RangeError(`${this.mode}: lengths[${b}] = ${o.lengths![b]} is not a whole number in [1, ${T}]`);
        });
      }
    }
    const states = hx == null ? null : "data" in hx ? [hx as Tensor] : (hx as readonly Tensor[]);
    const LD = this.numLayers * this.numDirections;
    if (states) {
      if (states.length !== this.stateCount)
        throw new RangeError(`${this.mode}: the initial state has ${this.stateCount} tensor(s) ${this.mode === "LSTM" ? "(h0, c0)" : "(h0)"}`);
      states.forEach((s, i) => {
        const F = i === 0 ? this.outputSize : this.hiddenSize;
        const name = i === 0 ? "h0" : "c0";
        if (layout === "unbatched") checkShape(`${this.mode} ${name} (L*D, ${i === 0 ? "S" : "H"}) of an unbatched input`, s, [LD, F]);
        else checkShape(`${this.mode} ${name} (L*D, B, ${i === 0 ? "S" : "H"})`, s, [LD, B, F]);
      });
    }
    const c = o.cache && o.cache.B === B && o.cache.capacity >= T && o.cache.P === this.projSize ? o.cache : this.createCache(T, B);
    const DS = this.numDirections * this.outputSize;
    let xs: Float = (x as Tensor).data;
    if (layout === "batch" || layout === "packed") {
      // into the time loops' (T, B, I) order
      const io = c.layoutBuffers();
      xs = io.x;
      if (pl) {
        xs.fill(0, 0, T * B * I);
        scatterPacked(this.k, xs, packed!.data.data, pl, B, I);
      } else {
        transposeTB(this.k, xs, (x as Tensor).data, B, T, I); // (B, T, I) -> (T, B, I)
      }
    }
    this.forwardRaw(c, xs, T, states ? states.map((s) => s.data) : null, lengths);
    c.layout = layout;
    if (layout === "batch") transposeTB(this.k, c.layoutBuffers().out, c.topOutput, T, B, DS); // (T, B, D*S) -> (B, T, D*S)
    if (pl) {
      gatherPacked(this.k, c.layoutBuffers().out, c.topOutput, pl, B, DS);
      c.packed = { batchSizes: packed!.batchSizes, sortedIndices: packed!.sortedIndices, unsortedIndices: packed!.unsortedIndices, N: pl.N };
    }
    return c;
  }

  /**
   * Adds to each of `rows` rows of `gates` (rows, G) the biases a forward adds to its input
   * projection: b_ih, then b_hh (except GRU's, which r scales). A table of input projections
   * with them added (forwardRaw's `input0.biased`) gives the same bits as adding them per step.
   */
  addInputBiases(gates: Float, p: RecurrentParams, rows: number): void {
    const G = GATES[this.mode] * this.hiddenSize;
    if (p.biasIh) this.k.addRowVector(gates, 0, p.biasIh.value, 0, rows, G);
    if (p.biasHh && this.mode !== "GRU") this.k.addRowVector(gates, 0, p.biasHh.value, 0, rows, G);
  }

  /**
   * forward on raw buffers, always in time order: x (T, B, I), state `[h0]` or `[h0, c0]` (each
   * (L*D, B, ·)) or null for zeros, lengths or null. Leaves `cache.layout` "time".
   * With `input0`, layer 0's input projection x_t W_ih^T is read from a table instead of computed:
   * row ids[t*B + b] of tables[d] (one (V, G) table per direction), and x is not used. A language
   * model uses this when its vocabulary is small (LanguageModel.foldEmbedding): the table is
   * embedding · W_ih^T. backwardRaw then leaves layer 0's W_ih gradient and input gradient to the
   * caller, who finds the gradient of the projection in `cache.direction(0, d).gates`. With
   * `input0.biased`, the tables hold the biases too (see {@link Recurrent.addInputBiases}).
   */
  forwardRaw(
    cache: RecurrentCache,
    x: Float | null,
    T: number,
    state: Float[] | null,
    lengths: Int32Array | null,
    input0?: { tables: Float[]; ids: Int32Array; biased?: boolean },
  ): void {
    const { B } = cache;
    const H = this.hiddenSize;
    const S = this.outputSize;
    const D = this.numDirections;
    const G = GATES[this.mode] * H;
    const BH = B * H;
    const BS = B * S;
    const DS = D * S;
    const k = this.k;
    const cell = this.projSize > 0 ? LSTM_PROJ_STEPS : CELL_STEPS[this.mode];
    if (cache.P !== this.projSize) throw new RangeError(`${this.mode}: the cache was made for projSize ${cache.P}, the layer has ${this.projSize}`);
    cache.T = T;
    cache.x = x;
    cache.lengths = lengths;
    cache.layout = "time";
    cache.packed = null;
    cache.tableInput = Boolean(input0);
    cache.dropped = this.training && this.dropout > 0 && this.numLayers > 1;
    for (let l = 0; l < this.numLayers; l++) {
      const I = this.layerInputSize(l);
      const lb = cache.layers[l];
      const xl = l === 0 ? x : cache.dropped ? cache.layers[l - 1].dropped! : cache.layers[l - 1].out;
      for (let d = 0; d < D; d++) {
        const p = this.params[l * D + d];
        const buf = lb.dirs[d];
        const { gates, hs, cs } = buf;
        const fwd = d === 0;
        const idx = l * D + d;
        // input projection for all T*B rows at once (+ both biases, except GRU's b_hh, which r scales)
        if (l === 0 && input0) k.gatherRows(gates, 0, input0.tables[d], input0.ids, 0, T * B, G);
        else k.gemm(false, true, T * B, G, I, 1, xl!, 0, I, p.weightIh.value, 0, I, 0, gates, 0, G);
        if (!(l === 0 && input0?.biased)) this.addInputBiases(gates, p, T * B);
        // the initial state sits before the first step processed
        const first = fwd ? 0 : T;
        if (state) k.copy(hs, first * BS, state[0], idx * BS, BS);
        else hs.fill(0, first * BS, (first + 1) * BS);
        if (cs) {
          if (state) k.copy(cs, first * BH, state[1], idx * BH, BH);
          else cs.fill(0, first * BH, (first + 1) * BH);
        }
        const step = this.stepOf(cache, buf, p);
        this.packForward(cache, buf, p, step);
        for (let s = 0; s < T; s++) {
          const t = fwd ? s : T - 1 - s; // the time step processed
          step.t = t;
          step.prev = (fwd ? t : t + 1) * BS; // seek to the state before step t
          step.next = (fwd ? t + 1 : t) * BS; // and the state after it
          step.cPrev = (fwd ? t : t + 1) * BH; // the same for the cell state (of H features)
          step.cNext = (fwd ? t + 1 : t) * BH;
          step.gOff = t * B * G;
          cell.forward(step);
          if (D === 1 && !lengths) continue; // the output rows are the state rows: copied after the loop
          // rows past their length keep their state and output 0
          for (let b = 0; b < B; b++) {
            const o = (t * B + b) * DS + d * S;
            if (lengths && t >= lengths[b]) {
              k.copy(hs, step.next + b * S, hs, step.prev + b * S, S);
              if (cs) k.copy(cs, step.cNext + b * H, cs, step.cPrev + b * H, H);
              lb.out.fill(0, o, o + S);
            } else {
              k.copy(lb.out, o, hs, step.next + b * S, S);
            }
          }
        }
        if (D === 1 && !lengths) k.copy(lb.out, 0, hs, BS, T * BS); // steps 0..T-1's outputs are states 1..T
        const last = fwd ? T : 0;
        k.copy(cache.hN, idx * BS, hs, last * BS, BS);
        if (cs) k.copy(cache.cN!, idx * BH, cs, last * BH, BH);
      }
      if (cache.dropped && l < this.numLayers - 1) {
        // dropout on this layer's output: keep with probability 1-p, scaled by 1/(1-p)
        const mask = lb.mask!;
        const keep = 1 / (1 - this.dropout);
        const threshold = this.dropout * 4294967296;
        const call = mix32(mix32(this.dropoutSeed) ^ this.dropoutCalls);
        for (let t = 0; t < T; t++) {
          for (let b = 0; b < B; b++) {
            const hb = mix32(mix32(mix32(call ^ Math.imul(l + 1, 0x9e3779b9)) ^ t) ^ (this.rowOffset + b));
            const o = (t * B + b) * DS;
            for (let j = 0; j < DS; j++) mask[o + j] = mix32(hb + Math.imul(j, 0x9e3779b9)) < threshold ? 0 : keep;
          }
        }
        k.mul(lb.dropped!, 0, lb.out, 0, mask, 0, T * B * DS);
      }
    }
    if (cache.dropped) this.dropoutCalls++;
  }

  /**
   * Backpropagation through time for the last forward on `cache`. dOutput is the loss gradient
   * with respect to every output step, in the layout of that forward's output ((T, B, D*S),
   * batchFirst (B, T, D*S), unbatched (T, D*S), or packed (N, D*S), the gradient of the packed
   * output's data); dhN (and dcN) with respect to h_n (and c_n); each may be null (zero).
   * Accumulates into every parameter's grad; returns dx in the input's layout ((T, B, I),
   * (B, T, I), (T, I) or packed (N, I)) and dh0 (and dc0), (L*D, B, ·) or unbatched (L*D, ·):
   * views into the cache that the next backward overwrites.
   */
  backward(
    cache: RecurrentCache,
    dOutput: Tensor | Float | null,
    dhN?: Tensor | Float | null,
    dcN?: Tensor | Float | null,
  ): { dx: Tensor; dh0: Tensor; dc0: Tensor | null } {
    const { T, B, layout } = cache;
    const H = this.hiddenSize;
    const S = this.outputSize;
    const I = this.inputSize;
    const DS = this.numDirections * S;
    const LD = this.numLayers * this.numDirections;
    const k = this.k;
    const raw = (t: Tensor | Float | null | undefined) => (t == null ? null : "data" in t ? t.data : t);
    let dOut = raw(dOutput);
    const dh = raw(dhN);
    const dcn = raw(dcN);
    const rows = layout === "packed" ? cache.packed!.N : T * B;
    if (dOut && dOut.length !== rows * DS) {
      const shape = layout === "packed" ? `${rows}*${DS}` : layout === "unbatched" ? `${T}*${DS}` : layout === "batch" ? `${B}*${T}*${DS}` : `${T}*${B}*${DS}`;
      throw new RangeError(`${this.mode} backward: dOutput must have ${shape} elements, got ${dOut.length}`);
    }
    if (dh && dh.length !== LD * B * S) throw new RangeError(`${this.mode} backward: dhN must have ${LD}*${B}*${S} elements`);
    if (dcn && (this.mode !== "LSTM" || dcn.length !== LD * B * H))
      throw new RangeError(`${this.mode} backward: dcN is for LSTMs, with ${LD}*${B}*${H} elements`);
    // the output's gradient into the time loops' (T, B, D*S) order
    if (dOut && (layout === "batch" || layout === "packed")) {
      const io = cache.layoutBuffers();
      if (layout === "batch") transposeTB(k, io.dOut, dOut, B, T, DS);
      else {
        io.dOut.fill(0, 0, T * B * DS);
        scatterPacked(k, io.dOut, dOut, packedLayoutOf(cache), B, DS);
      }
      dOut = io.dOut;
    }
    this.backwardRaw(cache, dOut, dh || dcn ? [dh ?? this.store.alloc(LD * B * S), ...(dcn ? [dcn] : [])] : null);
    let dx: Tensor;
    if (layout === "batch") {
      const out = cache.layoutBuffers().dx;
      transposeTB(k, out, cache.inputGrad, T, B, I); // (T, B, I) -> (B, T, I)
      dx = { data: out.subarray(0, T * B * I), shape: [B, T, I] };
    } else if (layout === "packed") {
      const out = cache.layoutBuffers().dx;
      gatherPacked(k, out, cache.inputGrad, packedLayoutOf(cache), B, I);
      dx = { data: out.subarray(0, rows * I), shape: [rows, I] };
    } else {
      dx = { data: cache.inputGrad.subarray(0, T * B * I), shape: layout === "unbatched" ? [T, I] : [T, B, I] };
    }
    const un = layout === "unbatched";
    return {
      dx,
      dh0: { data: cache.dh0, shape: un ? [LD, S] : [LD, B, S] },
      dc0: cache.dc0 ? { data: cache.dc0, shape: un ? [LD, H] : [LD, B, H] } : null,
    };
  }

  /** backward on raw buffers, always in time order: dOut (T, B, D*S) or null; dState `[dhN]` or `[dhN, dcN]` (each (L*D, B, ·)) or null. */
  backwardRaw(cache: RecurrentCache, dOut: Float | null, dState: Float[] | null): void {
    const { T, B, lengths } = cache;
    const H = this.hiddenSize;
    const S = this.outputSize;
    const D = this.numDirections;
    const G = GATES[this.mode] * H;
    const BH = B * H;
    const BS = B * S;
    const DS = D * S;
    const k = this.k;
    const cell = this.projSize > 0 ? LSTM_PROJ_STEPS : CELL_STEPS[this.mode];
    const flow = cache.flow;
    if (cache.stateGrads && cache.stateGrads.length < this.numLayers * D * T * BS) {
      throw new RangeError(`${this.mode} backward: cache.stateGrads needs (L*D, T, B, S) = ${this.numLayers * D}*${T}*${B}*${S} elements`);
    }
    if (flow && (flow.h.length < this.numLayers * D * T || (flow.c && flow.c.length < this.numLayers * D * T))) {
      throw new RangeError(`${this.mode} backward: cache.flow needs (L*D, T) = ${this.numLayers * D}*${T} elements`);
    }
    for (let l = this.numLayers - 1; l >= 0; l--) {
      const I = this.layerInputSize(l);
      const lb = cache.layers[l];
      // the gradient arriving at this layer's outputs: from the loss (top) or from the layer above
      let dl: Float | null = dOut;
      if (l < this.numLayers - 1) {
        dl = cache.layers[l + 1].dIn;
        if (cache.dropped) k.mul(dl, 0, dl, 0, lb.mask!, 0, T * B * DS); // back through the dropout mask
      }
      const xl = l === 0 ? cache.x : cache.dropped ? cache.layers[l - 1].dropped! : cache.layers[l - 1].out;
      for (let d = 0; d < D; d++) {
        const p = this.params[l * D + d];
        const buf = lb.dirs[d];
        const { gates, hs, dgh, ms, dhs } = buf;
        const fwd = d === 0;
        const idx = l * D + d;
        const step = this.stepOf(cache, buf, p);
        step.packed = this.packWeight(cache, buf, p, true);
        // grad: ∂E/∂h of the state before the step processed last (dh_{t} entering step t's backward
        // once the loss's share is added); spare: the other buffer. Unpadded single-direction
        // layers swap them each step instead of copying.
        let grad = cache.dhNext;
        let spare = cache.dh;
        if (dState) k.copy(grad, 0, dState[0], idx * BS, BS);
        else grad.fill(0);
        if (step.dcNext) {
          if (dState?.[1]) k.copy(step.dcNext, 0, dState[1], idx * BH, BH);
          else step.dcNext.fill(0);
        }
        for (let s = 0; s < T; s++) {
          const t = fwd ? T - 1 - s : s; // steps in the reverse of their processing order
          step.t = t;
          step.prev = (fwd ? t : t + 1) * BS;
          step.next = (fwd ? t + 1 : t) * BS;
          step.cPrev = (fwd ? t : t + 1) * BH;
          step.cNext = (fwd ? t + 1 : t) * BH;
          step.gOff = t * B * G;
          // dh_t = the loss's gradient at output t + what flows back from the step processed after t
          const swap = D === 1 && !lengths;
          if (swap) {
            if (dl) k.axpy(grad, 0, 1, dl, t * BS, BS);
            step.dh = grad;
            step.dhNext = spare;
          } else {
            const dh = spare;
            step.dh = dh;
            step.dhNext = grad;
            const dhNext = grad;
            for (let b = 0; b < B; b++) {
              const r = b * S;
              if (dl && !(lengths && t >= lengths[b])) {
                k.copy(dh, r, dl, (t * B + b) * DS + d * S, S);
                k.axpy(dh, r, 1, dhNext, r, S);
              } else {
                k.copy(dh, r, dhNext, r, S);
              }
            }
          }
          const dh = step.dh;
          if (cache.stateGrads) k.copy(cache.stateGrads, (idx * T + t) * BS, dh, 0, BS);
          if (flow) {
            flow.h[idx * T + t] = Math.sqrt(k.sumSquares(dh, 0, BS));
            if (flow.c) flow.c[idx * T + t] = Math.sqrt(k.sumSquares(step.dcNext!, 0, BH));
          }
          cell.backward(step); // dgates over gates, and dhNext (and dcNext) for the step before
          // padded rows pass their gradient through unchanged, as their state did
          if (lengths) for (let b = 0; b < B; b++) if (t >= lengths[b]) k.copy(step.dhNext, b * S, dh, b * S, S);
          if (swap) {
            spare = grad;
            grad = step.dhNext;
          }
        }
        k.copy(cache.dh0, idx * BS, grad, 0, BS);
        if (cache.dc0) k.copy(cache.dc0, idx * BH, step.dcNext!, 0, BH);
        // weight gradients, one GEMM each over all T*B rows; W_hh's is the sum over every step's use
        const dhid = dgh ?? gates;
        const external = l === 0 && cache.tableInput; // the caller owns layer 0's input gradients
        if (!external) k.gemm(true, false, G, I, T * B, 1, gates, 0, G, xl!, 0, I, 1, p.weightIh.grad, 0, I);
        k.gemm(true, false, G, S, T * B, 1, dhid, 0, G, hs, fwd ? 0 : BS, S, 1, p.weightHh.grad, 0, S);
        if (p.weightHr) k.gemm(true, false, S, H, T * B, 1, dhs!, 0, S, ms!, 0, H, 1, p.weightHr.grad, 0, H); // W_hr's: sum over steps of dh_t^T m_t
        if (p.biasIh && p.biasHh && dhid === gates) {
          // both biases enter the same pre-activations (not GRU's b_hh): one sum, added to each
          cache.biasSum ??= cache.alloc(G);
          cache.biasSum.fill(0, 0, G);
          k.sumRows(cache.biasSum, 0, gates, 0, T * B, G);
          k.axpy(p.biasIh.grad, 0, 1, cache.biasSum, 0, G);
          k.axpy(p.biasHh.grad, 0, 1, cache.biasSum, 0, G);
        } else {
          if (p.biasIh) k.sumRows(p.biasIh.grad, 0, gates, 0, T * B, G);
          if (p.biasHh) k.sumRows(p.biasHh.grad, 0, dhid, 0, T * B, G);
        }
        // gradient with respect to this layer's input, summed over the directions
        if (!external && (l > 0 || cache.needInputGrad))
          k.gemm(false, false, T * B, I, G, 1, gates, 0, G, p.weightIh.value, 0, I, d === 0 ? 0 : 1, lb.dIn, 0, I);
        else if (!external) lb.dIn.fill(0, 0, T * B * I);
      }
    }
  }

  /** The step context of one layer-direction: made once per layer-direction and pass, updated per step. */
  private stepOf(cache: RecurrentCache, buf: DirectionBuffers, p: RecurrentParams): Step {
    return {
      k: this.k,
      B: cache.B,
      H: this.hiddenSize,
      G: GATES[this.mode] * this.hiddenSize,
      S: this.outputSize,
      act: this.mode === "RNN_RELU" ? "relu" : "tanh",
      wHh: p.weightHh.value,
      bHh: p.biasHh ? p.biasHh.value : null,
      wHr: p.weightHr ? p.weightHr.value : null,
      buf,
      gh: cache.gh,
      t: 0,
      prev: 0,
      next: 0,
      cPrev: 0,
      cNext: 0,
      gOff: 0,
      dh: cache.dh,
      dhNext: cache.dhNext,
      dcNext: cache.dcNext,
      dcPrev: cache.dcPrev,
      dm: cache.dm,
      lengths: cache.lengths,
      packedT: null,
      packed: null,
      packedNT: null,
    };
  }

  /**
   * Sets the forward step's packed W_hh, packed once before the pass's loop: W_hh^T by packB for
   * 4 rows or more, W_hh by packNT for fewer when the pass (or its plan) runs enough steps to gain
   * from it, none otherwise; with `cache.plan.reuse`, the previous forward's packing is kept.
   */
  private packForward(cache: RecurrentCache, buf: DirectionBuffers, p: RecurrentParams, step: Step): void {
    const keep = cache.plan?.reuse === true && buf.forwardPacked;
    step.packedT = null;
    step.packedNT = null;
    if (cache.B >= PACK_MIN_ROWS) {
      step.packedT = keep ? buf.packedT : this.packWeight(cache, buf, p, false);
    } else if (Math.max(cache.T, cache.plan?.steps ?? 0) >= PACK_NT_MIN_STEPS) {
      // a few rows: W_hh is read once a step, and packing it costs about one read and one write
      if (!keep) {
        const G = GATES[this.mode] * this.hiddenSize;
        buf.packedNT ??= cache.alloc(G * this.outputSize);
        this.k.packNT(G, this.outputSize, p.weightHh.value, 0, this.outputSize, buf.packedNT);
      }
      step.packedNT = buf.packedNT;
    }
    buf.forwardPacked = step.packedT !== null || step.packedNT !== null;
  }

  /**
   * W_hh packed for one pass's per-step products (W_hh^T for forward, W_hh for backward), or
   * null when the batch has too few rows to gain from it. Packed once per pass, before its loop.
   */
  private packWeight(cache: RecurrentCache, buf: DirectionBuffers, p: RecurrentParams, backward: boolean): Float | null {
    if (cache.B < PACK_MIN_ROWS) return null;
    const G = GATES[this.mode] * this.hiddenSize;
    const S = this.outputSize;
    const [K, N] = backward ? [G, S] : [S, G];
    const k = this.k;
    let dst = backward ? buf.packed : buf.packedT;
    if (!dst) {
      dst = cache.alloc(k.packedSize(K, N));
      if (backward) buf.packed = dst;
      else buf.packedT = dst;
    }
    k.packB(!backward, K, N, p.weightHh.value, 0, S, dst);
    return dst;
  }

  /**
   * Copies the state after `t` steps of the last forward (t = 0: the initial state) into `into`
   * (`[h]` or `[h, c]`, h (L, B, S) and c (L, B, H)). Unidirectional layers only: a reverse
   * direction's state depends on the steps after t.
   */
  stateAt(c: RecurrentCache, t: number, into: Float[]): void {
    if (this.numDirections !== 1) throw new Error(`${this.mode}.stateAt: a bidirectional layer has no state after step t`);
    const BS = c.B * this.outputSize;
    const BH = c.B * this.hiddenSize;
    for (let l = 0; l < this.numLayers; l++) {
      const buf = c.layers[l].dirs[0];
      this.k.copy(into[0], l * BS, buf.hs, t * BS, BS);
      if (buf.cs) this.k.copy(into[1], l * BH, buf.cs, t * BH, BH);
    }
  }
}

/** Constructor arguments of `RNN`: RecurrentOptions plus the nonlinearity. */
export interface RNNOptions extends RecurrentOptions {
  /** `"tanh"` (default) or `"relu"`. */
  nonlinearity?: "tanh" | "relu";
}

/**
 * Elman RNN, `h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)`, as torch.nn.RNN.
 * Parameters weight_ih_l{k} (H, I_k), weight_hh_l{k} (H, H), bias_ih_l{k} (H), bias_hh_l{k} (H).
 * @example
 * const rnn = new RNN({ inputSize: 3, hiddenSize: 4, numLayers: 2, seed: 1 });
 * const c = rnn.forward(tensor(new Array(5 * 2 * 3).fill(0.5), [5, 2, 3]));
 * rnn.backward(c, c.output.data); // gradients of 0.5 * sum(output^2)
 */
export class RNN extends Recurrent {
  readonly nonlinearity: "tanh" | "relu";
  constructor(options: RNNOptions) {
    const nl = options.nonlinearity ?? "tanh";
    checkActivation("RNN", nl, ["tanh", "relu"]);
    super(nl === "relu" ? "RNN_RELU" : "RNN_TANH", options);
    this.nonlinearity = nl;
  }
}

/**
 * Long short-term memory, as torch.nn.LSTM (Hochreiter & Schmidhuber 1997; PyTorch's form):
 * `[i f g o] = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh` (gate order i, f, g, o),
 * `c_t = σ(f)*c_{t-1} + σ(i)*tanh(g)`, `h_t = σ(o)*tanh(c_t)`; with `projSize` P > 0 (PyTorch's
 * proj_size, Sak et al. 2014) `h_t = W_hr (σ(o)*tanh(c_t))`, of P features.
 * Parameters weight_ih_l{k} (4H, I_k) = (W_ii|W_if|W_ig|W_io), weight_hh_l{k} (4H, S), biases
 * (4H), and with projections weight_hr_l{k} (P, H); S = P with projections, else H.
 * State: `[h0, c0]`, h0 (L*D, B, S), c0 (L*D, B, H).
 * @example
 * const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, forgetBias: 1, seed: 1 });
 * const c = lstm.forward(x);        // c.output (T, B, 4), c.hNTensor and c.cNTensor (1, B, 4)
 */
export class LSTM extends Recurrent {
  constructor(options: RecurrentOptions) {
    super("LSTM", options);
  }
}

/** Every key `createRecurrent` accepts: RecurrentOptions and `nonlinearity`. */
const FACTORY_OPTION_KEYS: readonly string[] = [...RECURRENT_OPTION_KEYS, "nonlinearity"];

/**
 * Gated recurrent unit, as torch.nn.GRU (Cho et al. 2014; PyTorch's form, gate order r, z, n):
 * `r = σ(W_ir x + b_ir + W_hr h + b_hr)`, `z = σ(W_iz x + b_iz + W_hz h + b_hz)`,
 * `n = tanh(W_in x + b_in + r*(W_hn h + b_hn))`, `h_t = (1-z)*n + z*h_{t-1}`.
 * Parameters weight_ih_l{k} (3H, I_k) = (W_ir|W_iz|W_in), weight_hh_l{k} (3H, H), biases (3H).
 * @example
 * const gru = new GRU({ inputSize: 3, hiddenSize: 4, bidirectional: true, seed: 1 });
 * const c = gru.forward(x, null, { lengths: [5, 2] }); // output (T, B, 8), h_n (2, B, 4)
 */
export class GRU extends Recurrent {
  constructor(options: RecurrentOptions) {
    super("GRU", options);
  }
}

/**
 * A recurrent stack of the named cell (nn/cells.ts): the one factory every model uses. Takes
 * RNNOptions for every cell: `nonlinearity` applies to the Elman RNN and is ignored for LSTM and
 * GRU (whose nonlinearities are fixed), so one options object serves every cell; any other key
 * the cell does not know is an error.
 * @example
 * const rnn = createRecurrent("gru", { inputSize: 3, hiddenSize: 4, seed: 1 }); // a GRU
 */
export function createRecurrent(cell: CellName, options: RNNOptions): Recurrent {
  checkOptions("createRecurrent", options, FACTORY_OPTION_KEYS);
  const { nonlinearity, ...gated } = options;
  switch (cell) {
    case "lstm":
      return new LSTM(gated);
    case "gru":
      return new GRU(gated);
    case "rnn":
      return new RNN(options);
    default:
      throw new RangeError(`cell "${cell as string}" is not available (have: ${Object.keys(CELLS).join(", ")})`);
  }
}
