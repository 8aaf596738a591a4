// Recurrent layers: Elman RNN, LSTM and GRU, stacked, batched, optionally bidirectional, with
// PyTorch's packed-sequence semantics for variable lengths and dropout between layers, as
// torch.nn.RNN / LSTM / GRU (batch_first=False). The only place that knows about time: the
// forward loop runs the steps in order and keeps every state; the backward loop runs them in
// reverse, carrying dhNext (and dcNext for the LSTM): backpropagation through time.
//
//   RNN:  h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)                     act = tanh | relu
//   LSTM: [i f g o] = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh, i f o through σ, g through tanh
//         c_t = f*c_{t-1} + i*g,  h_t = o*tanh(c_t)
//   GRU:  [r z] = σ(W_i[rz] x_t + b_i[rz] + W_h[rz] h_{t-1} + b_h[rz])
//         n = tanh(W_in x_t + b_in + r*(W_hn h_{t-1} + b_hn)),  h_t = (1-z)*n + z*h_{t-1}
//
// T = steps, B = batch, I = input size, H = hidden size, L = layers, D = directions (1 or 2),
// G = gate width (H, 4H or 3H), I_l = I for layer 0 and D*H above it.
// Parameters per layer l and direction, PyTorch's names, shapes and order: weight_ih_l{l} (G, I_l),
// weight_hh_l{l} (G, H), bias_ih_l{l} (G), bias_hh_l{l} (G); the reverse direction adds the suffix
// "_reverse". Gate blocks are stacked in PyTorch's order: LSTM (W_ii|W_if|W_ig|W_io), GRU (W_ir|W_iz|W_in).
// Inputs x (T, B, I), h0 (L*D, B, H) (and c0 for the LSTM); outputs output (T, B, D*H), the top
// layer's states with the two directions concatenated on the feature axis, and h_n (L*D, B, H)
// ordered layer by layer, forward before reverse.
//
// Lengths (packed sequences): a row b is active for t < lengths[b]; at t >= lengths[b] its state
// is carried unchanged, its output is 0, and nothing flows back through it; h_n is each row's
// state at its own last step, and the reverse direction starts at each row's own last step.
//
// Shape of the work: the input projection of all T*B rows is one GEMM per direction; each step
// adds one (B x H)·(H x G) product and the cell's fused elementwise kernel; the weight gradients
// are one GEMM each over all steps after the time loop. Nothing is allocated inside the time loop.
// Contract: backward accumulates (+=) into parameter gradients and assigns (=) dx, dh0 and dc0.

import type { Float } from "../tensor/dtype.js";
import { alloc } from "../tensor/dtype.js";
import type { Kernels } from "../tensor/kernels.js";
import { randomOrthogonal } from "../tensor/linalg.js";
import { checkShape, type Tensor } from "../tensor/tensor.js";
import { activationBackward, activationForward, checkActivation } from "./activations.js";
import { checkSize, moduleContext, type ModuleOptions } from "./module.js";
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
}

/** A 32-bit integer hash (murmur3's finalizer), uniform over [0, 2^32). */
function mix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** One layer-direction's parameters. */
export interface RecurrentParams {
  weightIh: Parameter;
  weightHh: Parameter;
  biasIh: Parameter | null;
  biasHh: Parameter | null;
}

/**
 * The buffers of one layer in one direction, for up to `capacity` steps of B rows: what the
 * forward keeps for the backward, and what analysis/ (Jacobians, Ω) reads. Block t of a (cap, B, X)
 * buffer is step t, at offset t*B*X.
 */
export interface DirectionBuffers {
  /** (cap, B, G): gate pre-activations, then activations (LSTM, GRU), then their gradients in the backward. */
  gates: Float;
  /** (cap+1, B, H): states; the state before step t is block t (forward) or t+1 (reverse). */
  hs: Float;
  /** LSTM (cap+1, B, H): cell states, laid out as hs. */
  cs: Float | null;
  /** LSTM (cap, B, H): tanh(c_t). */
  tc: Float | null;
  /** GRU (cap, B, H): W_hn h_{t-1} + b_hn. */
  ghn: Float | null;
  /** GRU (cap, B, G): gradient of the hidden-side pre-activations. */
  dgh: Float | null;
}

interface LayerBuffers {
  dirs: DirectionBuffers[];
  /** (cap, B, D*H): the layer's output, 0 at padded steps. */
  out: Float;
  /** (cap, B, I_l): gradient with respect to the layer's input. */
  dIn: Float;
  /** Layers below the top with dropout: (cap, B, D*H) mask (0 or 1/(1-p)) and out*mask, the next layer's input. */
  mask: Float | null;
  dropped: Float | null;
}

/**
 * What a forward pass produced and what its backward needs. Buffers are sized for up to
 * `capacity` steps and B batch rows and are reused by later passes of the same batch size.
 */
export class RecurrentCache {
  /** Steps of the last forward. */
  T = 0;
  /** The layer-0 input of the last forward (a reference to the caller's buffer). */
  x: Float | null = null;
  /** Per-row lengths of the last forward, or null when every row has T steps. */
  lengths: Int32Array | null = null;
  /** Whether the last forward applied dropout. */
  dropped = false;
  /** Whether layer 0's input projection came from a table (forwardRaw's `input0`): its input gradients are the caller's. */
  tableInput = false;
  readonly layers: LayerBuffers[];
  /** (L*D, B, H) final states; cN for the LSTM. */
  readonly hN: Float;
  readonly cN: Float | null;
  /** (L*D, B, H) gradients with respect to h0 (and c0). */
  readonly dh0: Float;
  readonly dc0: Float | null;
  // (B, H) scratch of the backward time loop: dh, the gradient of h_t; dhNext, what flows back
  // from the step processed after t (into h_t, then from it into h_{t-1}); the LSTM's cell
  // gradients dcNext (of c_t) and dcPrev (of c_{t-1}), swapped after each step
  readonly dh: Float;
  readonly dhNext: Float;
  readonly dcNext: Float | null;
  readonly dcPrev: Float | null;
  /** GRU (B, G): h_{t-1} W_hh^T + b_hh of the current step. */
  readonly gh: Float | null;
  /**
   * Gradient flow, recorded by the next backward when set: `h[(l*D + d)*T + t]` = ‖∂E/∂h_t‖ of
   * layer l, direction d (Frobenius over the batch; the total gradient reaching the state after
   * step t), and for the LSTM `c[...]` = ‖∂E/∂c_t‖ (what reaches c_t through step t+1). Each
   * (L*D, T), with T of that forward. Costs one sum of squares per step.
   */
  flow: { h: Float64Array; c: Float64Array | null } | null = null;
  /**
   * When set, the next backward copies ∂E/∂h_t of every layer, direction and step here:
   * (L*D, T, B, H), block (l*D + d)*T + t. Pascanu's Ω regulariser (train/omega.ts) reads it.
   */
  stateGrads: Float | null = null;

  constructor(
    readonly mode: RecurrentMode,
    readonly capacity: number,
    readonly B: number,
    inputSizes: readonly number[],
    readonly H: number,
    readonly D: number,
    dropout: boolean,
    alloc: (n: number) => Float,
  ) {
    const G = GATES[mode] * H;
    const L = inputSizes.length;
    const lstm = mode === "LSTM";
    const gru = mode === "GRU";
    const n = capacity * B;
    this.layers = inputSizes.map((I, l) => ({
      dirs: Array.from({ length: D }, () => ({
        gates: alloc(n * G),
        hs: alloc((capacity + 1) * B * H),
        cs: lstm ? alloc((capacity + 1) * B * H) : null,
        tc: lstm ? alloc(n * H) : null,
        ghn: gru ? alloc(n * H) : null,
        dgh: gru ? alloc(n * G) : null,
      })),
      out: alloc(n * D * H),
      dIn: alloc(n * I),
      mask: dropout && l < L - 1 ? alloc(n * D * H) : null,
      dropped: dropout && l < L - 1 ? alloc(n * D * H) : null,
    }));
    this.hN = alloc(L * D * B * H);
    this.cN = lstm ? alloc(L * D * B * H) : null;
    this.dh0 = alloc(L * D * B * H);
    this.dc0 = lstm ? alloc(L * D * B * H) : null;
    this.dh = alloc(B * H);
    this.dhNext = alloc(B * H);
    this.dcNext = lstm ? alloc(B * H) : null;
    this.dcPrev = lstm ? alloc(B * H) : null;
    this.gh = gru ? alloc(B * G) : null;
  }

  /** output (T, B, D*H): the top layer's output at every step (a view). */
  get output(): Tensor {
    const top = this.layers[this.layers.length - 1].out;
    return { data: top.subarray(0, this.T * this.B * this.D * this.H), shape: [this.T, this.B, this.D * this.H] };
  }

  /** h_n (L*D, B, H). */
  get hNTensor(): Tensor {
    return { data: this.hN, shape: [this.layers.length * this.D, this.B, this.H] };
  }

  /** c_n (L*D, B, H) of an LSTM, else null. */
  get cNTensor(): Tensor | null {
    return this.cN ? { data: this.cN, shape: [this.layers.length * this.D, this.B, this.H] } : null;
  }

  /** The top layer's output buffer (cap, B, D*H), of which the first T steps are the last forward's. */
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

  /**
   * The top layer's final states as (B, D*H), forward then reverse: what a many-to-one model
   * (a sequence classifier) reads. With lengths, each row's state at its own last step.
   */
  lastHidden(into: Float = alloc(this.hN instanceof Float64Array ? "float64" : "float32", this.B * this.D * this.H)): Float {
    const { B, D, H } = this;
    const top = this.layers.length - 1;
    for (let d = 0; d < D; d++) {
      for (let b = 0; b < B; b++) {
        const src = ((top * D + d) * B + b) * H;
        for (let j = 0; j < H; j++) into[(b * D + d) * H + j] = this.hN[src + j];
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
  act: "tanh" | "relu";
  wHh: Float;
  bHh: Float | null;
  buf: DirectionBuffers;
  /** GRU (B, G) scratch: h_{t-1} W_hh^T + b_hh of the current step. */
  gh: Float | null;
  t: number;
  prev: number;
  next: number;
  /** Offset of step t's (B, G) block of gates. */
  gOff: number;
  /** Backward: dh (B, H) the gradient of h_t; dhNext (B, H) written with the gradient of h_{t-1}. */
  dh: Float;
  dhNext: Float;
  /** LSTM backward: the gradient of c_t in, of c_{t-1} out (swapped by the step). */
  dcNext: Float | null;
  dcPrev: Float | null;
  lengths: Int32Array | null;
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
  k.gemm(false, true, B, H, H, 1, buf.hs, s.prev, H, s.wHh, 0, H, 1, buf.gates, s.gOff, H); // gates += h_{t-1} W_hh^T
  activationForward(s.act, buf.hs, s.next, buf.gates, s.gOff, B * H, k); // h_t = act(gates)
}
function rnnStepBackward(s: Step): void {
  const { k, B, H, buf } = s;
  activationBackward(s.act, buf.gates, s.gOff, s.dh, 0, buf.hs, s.next, B * H, k); // backprop through act, from h_t itself
  skipPadded(s, buf.gates, false);
  k.gemm(false, false, B, H, H, 1, buf.gates, s.gOff, H, s.wHh, 0, H, 0, s.dhNext, 0, H); // into h_{t-1}: dhNext = dgates W_hh
}

/** LSTM: [i f g o] = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh; c_t = σ(f)*c_{t-1} + σ(i)*tanh(g); h_t = σ(o)*tanh(c_t). */
function lstmStepForward(s: Step): void {
  const { k, B, H, G, buf } = s;
  k.gemm(false, true, B, G, H, 1, buf.hs, s.prev, H, s.wHh, 0, H, 1, buf.gates, s.gOff, G); // gates += h_{t-1} W_hh^T
  k.lstmCellForward(buf.gates, s.gOff, buf.cs!, s.next, buf.tc!, s.t * B * H, buf.hs, s.next, buf.cs!, s.prev, B, H); // the fused cell
}
function lstmStepBackward(s: Step): void {
  const { k, B, H, G, buf } = s;
  // through the fused cell: dgates over gates, and the gradient of c_{t-1} into dcPrev
  k.lstmCellBackward(buf.gates, s.gOff, s.dcPrev!, 0, s.dh, 0, s.dcNext!, 0, buf.gates, s.gOff, buf.tc!, s.t * B * H, buf.cs!, s.prev, B, H);
  skipPadded(s, buf.gates, true);
  k.gemm(false, false, B, H, G, 1, buf.gates, s.gOff, G, s.wHh, 0, H, 0, s.dhNext, 0, H); // into h_{t-1}: dhNext = dgates W_hh
  const dcPrev = s.dcPrev; // c_{t-1}'s gradient is the next (earlier) step's dcNext
  s.dcPrev = s.dcNext;
  s.dcNext = dcPrev;
}

/** GRU: r, z = σ(W_i[rz] x + b_i[rz] + W_h[rz] h + b_h[rz]); n = tanh(W_in x + b_in + r*(W_hn h + b_hn)); h_t = (1-z)*n + z*h_{t-1}. */
function gruStepForward(s: Step): void {
  const { k, B, H, G, buf } = s;
  // gh = h_{t-1} W_hh^T + b_hh, kept apart: r scales its n block
  k.gemm(false, true, B, G, H, 1, buf.hs, s.prev, H, s.wHh, 0, H, 0, s.gh!, 0, G);
  if (s.bHh) k.addRowVector(s.gh!, 0, s.bHh, 0, B, G);
  k.gruCellForward(buf.gates, s.gOff, buf.ghn!, s.t * B * H, buf.hs, s.next, buf.gates, s.gOff, s.gh!, 0, buf.hs, s.prev, B, H);
}
function gruStepBackward(s: Step): void {
  const { k, B, H, G, buf } = s;
  // through the fused cell: dgi over gates, dgh apart, dhNext = dh*z; then dhNext += dgh W_hh
  k.gruCellBackward(buf.gates, s.gOff, buf.dgh!, s.gOff, s.dhNext, 0, s.dh, 0, buf.gates, s.gOff, buf.ghn!, s.t * B * H, buf.hs, s.prev, B, H);
  skipPadded(s, buf.gates, false);
  skipPadded(s, buf.dgh!, false);
  k.gemm(false, false, B, H, G, 1, buf.dgh!, s.gOff, G, s.wHh, 0, H, 1, s.dhNext, 0, H);
}

/** Each mode's step twins. */
const CELL_STEPS: Record<RecurrentMode, { forward(s: Step): void; backward(s: Step): void }> = {
  RNN_TANH: { forward: rnnStepForward, backward: rnnStepBackward },
  RNN_RELU: { forward: rnnStepForward, backward: rnnStepBackward },
  LSTM: { forward: lstmStepForward, backward: lstmStepBackward },
  GRU: { forward: gruStepForward, backward: gruStepBackward },
};

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

  constructor(mode: RecurrentMode, options: RecurrentOptions) {
    const { inputSize, hiddenSize, numLayers = 1, bias = true, dropout = 0, bidirectional = false, init = "default" } = options;
    checkSize(`${mode}: inputSize`, inputSize);
    checkSize(`${mode}: hiddenSize`, hiddenSize);
    checkSize(`${mode}: numLayers`, numLayers);
    if (!(dropout >= 0 && dropout < 1)) throw new RangeError(`${mode}: dropout must be in [0, 1), got ${dropout}`);
    if (!["default", "orthogonal", "identity", "chrono"].includes(init))
      throw new RangeError(`${mode}: init must be default, orthogonal, identity or chrono, got "${init}"`);
    if (init === "chrono" && mode !== "LSTM" && mode !== "GRU") throw new RangeError(`${mode}: init chrono is for LSTM and GRU (it sets gate biases)`);
    const chronoMax = options.chronoMax ?? 0;
    if (init === "chrono" && !(chronoMax >= 3))
      throw new RangeError(`${mode}: init chrono needs chronoMax, the longest dependency in steps (>= 3), got ${options.chronoMax}`);
    if (init === "chrono" && options.forgetBias !== undefined) throw new RangeError(`${mode}: init chrono sets the forget bias itself; drop forgetBias`);
    if (options.forgetBias !== undefined && mode !== "LSTM") throw new RangeError(`${mode}: forgetBias is for LSTMs`);
    this.mode = mode;
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.numLayers = numLayers;
    this.bias = bias;
    this.dropout = dropout;
    this.bidirectional = bidirectional;
    this.numDirections = bidirectional ? 2 : 1;
    const { store, name, k } = moduleContext(options);
    this.store = store;
    this.k = k;
    this.dropoutSeed = (options.dropoutSeed ?? (options.seed ?? 0) + 1) >>> 0;
    const H = hiddenSize;
    const G = GATES[mode] * H;
    const std = uniformInit(1 / Math.sqrt(H));
    const weightHhInit: Initializer =
      init === "orthogonal"
        ? (v, rng) => v.set(randomOrthogonal(G, H, rng))
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
        this.params.push({
          weightIh: store.declare(name(`weight_ih_${sfx}`), [G, this.layerInputSize(l)], std),
          weightHh: store.declare(name(`weight_hh_${sfx}`), [G, H], weightHhInit),
          biasIh: bias ? store.declare(name(`bias_ih_${sfx}`), [G], biasInit(false)) : null,
          biasHh: bias ? store.declare(name(`bias_hh_${sfx}`), [G], biasInit(true)) : null,
        });
      }
    }
  }

  /** Input size of layer l: I for layer 0, D*H above. */
  layerInputSize(l: number): number {
    return l === 0 ? this.inputSize : this.numDirections * this.hiddenSize;
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

  /** A zero state for batch B: `[h]` or `[h, c]`, each (L*D, B, H). */
  createState(B: number): Float[] {
    const n = this.numLayers * this.numDirections * B * this.hiddenSize;
    return Array.from({ length: this.stateCount }, () => this.store.alloc(n));
  }

  /** Buffers for passes of up to `capacity` steps of batch B. */
  createCache(capacity: number, B: number): RecurrentCache {
    checkSize(`${this.mode}: steps`, capacity);
    checkSize(`${this.mode}: batch`, B);
    const sizes = Array.from({ length: this.numLayers }, (_, l) => this.layerInputSize(l));
    return new RecurrentCache(this.mode, capacity, B, sizes, this.hiddenSize, this.numDirections, this.dropout > 0 && this.numLayers > 1, (n) =>
      this.store.alloc(n),
    );
  }

  /**
   * Runs the stack over x (T, B, I) from the initial state hx (h0 (L*D, B, H), or [h0, c0] for
   * the LSTM; zeros when omitted). `lengths` (B whole numbers in 1..T) gives each row's own
   * length. Reuses `cache` when it fits. Returns the cache, holding output, h_n and c_n.
   * @example
   * const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, seed: 1 });
   * const c = lstm.forward(tensor(new Array(5 * 2 * 3).fill(0.5), [5, 2, 3]), null, { lengths: [5, 3] });
   * c.output.shape // => [5, 2, 4]; output rows of sequence 1 are 0 from step 3 on
   */
  forward(x: Tensor, hx?: Tensor | readonly Tensor[] | null, o: { lengths?: ArrayLike<number>; cache?: RecurrentCache } = {}): RecurrentCache {
    const [T, B] = x.shape;
    checkShape(`${this.mode} input x (T, B, I)`, x, [T, B, this.inputSize]);
    const states = hx == null ? null : "data" in hx ? [hx as Tensor] : (hx as readonly Tensor[]);
    const LD = this.numLayers * this.numDirections;
    if (states) {
      if (states.length !== this.stateCount)
        throw new RangeError(`${this.mode}: the initial state has ${this.stateCount} tensor(s) ${this.mode === "LSTM" ? "(h0, c0)" : "(h0)"}`);
      states.forEach((s, i) => checkShape(`${this.mode} ${i === 0 ? "h0" : "c0"} (L*D, B, H)`, s, [LD, B, this.hiddenSize]));
    }
    let lengths: Int32Array | null = null;
    if (o.lengths) {
      if (o.lengths.length !== B) throw new RangeError(`${this.mode}: lengths has ${o.lengths.length} entries for a batch of ${B}`);
      lengths = Int32Array.from(o.lengths);
      lengths.forEach((n, b) => {
        if (!(Number.isInteger(o.lengths![b]) && n >= 1 && n <= T))
          throw new RangeError(`${this.mode}: lengths[${b}] = ${o.lengths![b]} is not a whole number in [1, ${T}]`);
      });
    }
    const c = o.cache && o.cache.B === B && o.cache.capacity >= T ? o.cache : this.createCache(T, B);
    this.forwardRaw(c, x.data, T, states ? states.map((s) => s.data) : null, lengths);
    return c;
  }

  /**
   * forward on raw buffers: x (T, B, I), state `[h0]` or `[h0, c0]` or null for zeros, lengths or null.
   * With `input0`, layer 0's input projection x_t W_ih^T is read from a table instead of computed:
   * row ids[t*B + b] of tables[d] (one (V, G) table per direction), and x is not used. A language
   * model uses this when its vocabulary is small (LanguageModel.foldEmbedding): the table is
   * embedding · W_ih^T. backwardRaw then leaves layer 0's W_ih gradient and input gradient to the
   * caller, who finds the gradient of the projection in `cache.direction(0, d).gates`.
   */
  forwardRaw(
    cache: RecurrentCache,
    x: Float | null,
    T: number,
    state: Float[] | null,
    lengths: Int32Array | null,
    input0?: { tables: Float[]; ids: Int32Array },
  ): void {
    const { B } = cache;
    const H = this.hiddenSize;
    const D = this.numDirections;
    const G = GATES[this.mode] * H;
    const BH = B * H;
    const DH = D * H;
    const k = this.k;
    const cell = CELL_STEPS[this.mode];
    cache.T = T;
    cache.x = x;
    cache.lengths = lengths;
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
        if (p.biasIh) k.addRowVector(gates, 0, p.biasIh.value, 0, T * B, G);
        if (p.biasHh && this.mode !== "GRU") k.addRowVector(gates, 0, p.biasHh.value, 0, T * B, G);
        // the initial state sits before the first step processed
        const first = fwd ? 0 : T;
        if (state) k.copy(hs, first * BH, state[0], idx * BH, BH);
        else hs.fill(0, first * BH, (first + 1) * BH);
        if (cs) {
          if (state) k.copy(cs, first * BH, state[1], idx * BH, BH);
          else cs.fill(0, first * BH, (first + 1) * BH);
        }
        const step = this.stepOf(cache, buf, p);
        for (let s = 0; s < T; s++) {
          const t = fwd ? s : T - 1 - s; // the time step processed
          step.t = t;
          step.prev = (fwd ? t : t + 1) * BH; // seek to the state before step t
          step.next = (fwd ? t + 1 : t) * BH; // and the state after it
          step.gOff = t * B * G;
          cell.forward(step);
          if (D === 1 && !lengths) {
            k.copy(lb.out, t * BH, hs, step.next, BH); // the output rows are the state rows
            continue;
          }
          // rows past their length keep their state and output 0
          for (let b = 0; b < B; b++) {
            const o = (t * B + b) * DH + d * H;
            if (lengths && t >= lengths[b]) {
              k.copy(hs, step.next + b * H, hs, step.prev + b * H, H);
              if (cs) k.copy(cs, step.next + b * H, cs, step.prev + b * H, H);
              lb.out.fill(0, o, o + H);
            } else {
              k.copy(lb.out, o, hs, step.next + b * H, H);
            }
          }
        }
        const last = fwd ? T : 0;
        k.copy(cache.hN, idx * BH, hs, last * BH, BH);
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
            const o = (t * B + b) * DH;
            for (let j = 0; j < DH; j++) mask[o + j] = mix32(hb + Math.imul(j, 0x9e3779b9)) < threshold ? 0 : keep;
          }
        }
        k.mul(lb.dropped!, 0, lb.out, 0, mask, 0, T * B * DH);
      }
    }
    if (cache.dropped) this.dropoutCalls++;
  }

  /**
   * Backpropagation through time for the last forward on `cache`. dOutput (T, B, D*H) is the loss
   * gradient with respect to every output step, dhN (and dcN) with respect to h_n (and c_n);
   * each may be null (zero). Accumulates into every parameter's grad; returns dx (T, B, I),
   * dh0 (and dc0) (L*D, B, H), views into the cache that the next backward overwrites.
   */
  backward(
    cache: RecurrentCache,
    dOutput: Tensor | Float | null,
    dhN?: Tensor | Float | null,
    dcN?: Tensor | Float | null,
  ): { dx: Tensor; dh0: Tensor; dc0: Tensor | null } {
    const { T, B } = cache;
    const H = this.hiddenSize;
    const LD = this.numLayers * this.numDirections;
    const raw = (t: Tensor | Float | null | undefined) => (t == null ? null : "data" in t ? t.data : t);
    const dOut = raw(dOutput);
    const dh = raw(dhN);
    const dcn = raw(dcN);
    if (dOut && dOut.length !== T * B * this.numDirections * H)
      throw new RangeError(`${this.mode} backward: dOutput must have ${T}*${B}*${this.numDirections * H} elements, got ${dOut.length}`);
    if (dh && dh.length !== LD * B * H) throw new RangeError(`${this.mode} backward: dhN must have ${LD}*${B}*${H} elements`);
    if (dcn && (this.mode !== "LSTM" || dcn.length !== LD * B * H))
      throw new RangeError(`${this.mode} backward: dcN is for LSTMs, with ${LD}*${B}*${H} elements`);
    this.backwardRaw(cache, dOut, dh || dcn ? [dh ?? new Float64Array(LD * B * H), ...(dcn ? [dcn] : [])] : null);
    const I = this.inputSize;
    return {
      dx: { data: cache.inputGrad.subarray(0, T * B * I), shape: [T, B, I] },
      dh0: { data: cache.dh0, shape: [LD, B, H] },
      dc0: cache.dc0 ? { data: cache.dc0, shape: [LD, B, H] } : null,
    };
  }

  /** backward on raw buffers: dOut (T, B, D*H) or null; dState `[dhN]` or `[dhN, dcN]` or null. */
  backwardRaw(cache: RecurrentCache, dOut: Float | null, dState: Float[] | null): void {
    const { T, B, lengths } = cache;
    const H = this.hiddenSize;
    const D = this.numDirections;
    const G = GATES[this.mode] * H;
    const BH = B * H;
    const DH = D * H;
    const k = this.k;
    const cell = CELL_STEPS[this.mode];
    const { dh, dhNext } = cache;
    const flow = cache.flow;
    if (cache.stateGrads && cache.stateGrads.length < this.numLayers * D * T * BH) {
      throw new RangeError(`${this.mode} backward: cache.stateGrads needs (L*D, T, B, H) = ${this.numLayers * D}*${T}*${B}*${H} elements`);
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
        if (cache.dropped) k.mul(dl, 0, dl, 0, lb.mask!, 0, T * B * DH); // back through the dropout mask
      }
      const xl = l === 0 ? cache.x : cache.dropped ? cache.layers[l - 1].dropped! : cache.layers[l - 1].out;
      for (let d = 0; d < D; d++) {
        const p = this.params[l * D + d];
        const buf = lb.dirs[d];
        const { gates, hs, dgh } = buf;
        const fwd = d === 0;
        const idx = l * D + d;
        const step = this.stepOf(cache, buf, p);
        if (dState) k.copy(dhNext, 0, dState[0], idx * BH, BH);
        else dhNext.fill(0);
        if (step.dcNext) {
          if (dState?.[1]) k.copy(step.dcNext, 0, dState[1], idx * BH, BH);
          else step.dcNext.fill(0);
        }
        for (let s = 0; s < T; s++) {
          const t = fwd ? T - 1 - s : s; // steps in the reverse of their processing order
          step.t = t;
          step.prev = (fwd ? t : t + 1) * BH;
          step.next = (fwd ? t + 1 : t) * BH;
          step.gOff = t * B * G;
          // dh_t = the loss's gradient at output t + what flows back from the step processed after t
          if (D === 1 && !lengths) {
            k.copy(dh, 0, dhNext, 0, BH);
            if (dl) k.axpy(dh, 0, 1, dl, t * BH, BH);
          } else {
            for (let b = 0; b < B; b++) {
              const r = b * H;
              if (dl && !(lengths && t >= lengths[b])) {
                k.copy(dh, r, dl, (t * B + b) * DH + d * H, H);
                k.axpy(dh, r, 1, dhNext, r, H);
              } else {
                k.copy(dh, r, dhNext, r, H);
              }
            }
          }
          if (cache.stateGrads) k.copy(cache.stateGrads, (idx * T + t) * BH, dh, 0, BH);
          if (flow) {
            flow.h[idx * T + t] = Math.sqrt(k.sumSquares(dh, 0, BH));
            if (flow.c) flow.c[idx * T + t] = Math.sqrt(k.sumSquares(step.dcNext!, 0, BH));
          }
          cell.backward(step); // dgates over gates, and dhNext (and dcNext) for the step before
          // padded rows pass their gradient through unchanged, as their state did
          if (lengths) for (let b = 0; b < B; b++) if (t >= lengths[b]) k.copy(dhNext, b * H, dh, b * H, H);
        }
        k.copy(cache.dh0, idx * BH, dhNext, 0, BH);
        if (cache.dc0) k.copy(cache.dc0, idx * BH, step.dcNext!, 0, BH);
        // weight gradients, one GEMM each over all T*B rows; W_hh's is the sum over every step's use
        const dhid = dgh ?? gates;
        const external = l === 0 && cache.tableInput; // the caller owns layer 0's input gradients
        if (!external) k.gemm(true, false, G, I, T * B, 1, gates, 0, G, xl!, 0, I, 1, p.weightIh.grad, 0, I);
        k.gemm(true, false, G, H, T * B, 1, dhid, 0, G, hs, fwd ? 0 : BH, H, 1, p.weightHh.grad, 0, H);
        if (p.biasIh) k.sumRows(p.biasIh.grad, 0, gates, 0, T * B, G);
        if (p.biasHh) k.sumRows(p.biasHh.grad, 0, dhid, 0, T * B, G);
        // gradient with respect to this layer's input, summed over the directions
        if (!external) k.gemm(false, false, T * B, I, G, 1, gates, 0, G, p.weightIh.value, 0, I, d === 0 ? 0 : 1, lb.dIn, 0, I);
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
      act: this.mode === "RNN_RELU" ? "relu" : "tanh",
      wHh: p.weightHh.value,
      bHh: p.biasHh ? p.biasHh.value : null,
      buf,
      gh: cache.gh,
      t: 0,
      prev: 0,
      next: 0,
      gOff: 0,
      dh: cache.dh,
      dhNext: cache.dhNext,
      dcNext: cache.dcNext,
      dcPrev: cache.dcPrev,
      lengths: cache.lengths,
    };
  }

  /**
   * Copies the state after `t` steps of the last forward (t = 0: the initial state) into `into`
   * (`[h]` or `[h, c]`, each (L, B, H)). Unidirectional layers only: a reverse direction's state
   * depends on the steps after t.
   */
  stateAt(c: RecurrentCache, t: number, into: Float[]): void {
    if (this.numDirections !== 1) throw new Error(`${this.mode}.stateAt: a bidirectional layer has no state after step t`);
    const BH = c.B * this.hiddenSize;
    for (let l = 0; l < this.numLayers; l++) {
      const buf = c.layers[l].dirs[0];
      this.k.copy(into[0], l * BH, buf.hs, t * BH, BH);
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
 * `c_t = σ(f)*c_{t-1} + σ(i)*tanh(g)`, `h_t = σ(o)*tanh(c_t)`.
 * Parameters weight_ih_l{k} (4H, I_k) = (W_ii|W_if|W_ig|W_io), weight_hh_l{k} (4H, H), biases (4H).
 * State: `[h0, c0]`, each (L*D, B, H).
 * @example
 * const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, forgetBias: 1, seed: 1 });
 * const c = lstm.forward(x);        // c.output (T, B, 4), c.hNTensor and c.cNTensor (1, B, 4)
 */
export class LSTM extends Recurrent {
  constructor(options: RecurrentOptions) {
    super("LSTM", options);
  }
}

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
 * A recurrent stack of the named cell (nn/cells.ts): the one factory every model uses.
 * @example
 * const rnn = createRecurrent("gru", { inputSize: 3, hiddenSize: 4, seed: 1 }); // a GRU
 */
export function createRecurrent(cell: CellName, options: RNNOptions): Recurrent {
  switch (cell) {
    case "lstm":
      return new LSTM(options);
    case "gru":
      return new GRU(options);
    case "rnn":
      return new RNN(options);
    default:
      throw new RangeError(`cell "${cell as string}" is not available (have: ${Object.keys(CELLS).join(", ")})`);
  }
}
