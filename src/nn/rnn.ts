// Elman RNN, stacked and batched, as torch.nn.RNN (batch_first=False). The only layer that knows
// about time: the forward loop runs t = 0..T-1 and keeps every hidden state, the backward loop
// runs t = T-1..0 carrying dhNext (backpropagation through time).
//
//   h_t^l = act(W_ih^l x_t^l + b_ih^l + W_hh^l h_{t-1}^l + b_hh^l),  act = tanh or relu
//   x_t^0 = input_t,  x_t^l = h_t^{l-1} for l >= 1
//
// T = time steps, B = batch, I = input size, H = hidden size, L = layers, I_l = I if l = 0 else H.
// Parameters per layer l, PyTorch's names and order: weight_ih_l{l} (H, I_l), weight_hh_l{l} (H, H),
// bias_ih_l{l} (H), bias_hh_l{l} (H). W_hh is used at every step: the unrolled network's copies
// share it, so its gradient is the sum over steps (the lecture's weight constraint).
//
// Shape of the work: the input projection of all T*B rows is one GEMM; each step adds one
// (B x H)·(H x H) product and the activation; the weight gradients are one GEMM each over all
// steps after the time loop. Nothing is allocated inside the time loop.
// Contract: backward accumulates (+=) into parameter gradients and assigns (=) dx and dh0.

import type { Float } from "../tensor/dtype.js";
import { alloc, type DType } from "../tensor/dtype.js";
import type { Kernels } from "../tensor/kernels.js";
import { checkShape, type Tensor } from "../tensor/tensor.js";
import { activationBackward, activationForward, checkActivation } from "./activations.js";
import { checkSize, moduleContext, type ModuleOptions } from "./module.js";
import { uniformInit, type Parameter, type ParamStore } from "./params.js";

/** Constructor arguments of an Elman RNN, PyTorch's `nn.RNN(input_size, hidden_size, num_layers, nonlinearity, bias)`. */
export interface RNNOptions extends ModuleOptions {
  /** I: features per input step. */
  inputSize: number;
  /** H: features of the hidden state. */
  hiddenSize: number;
  /** L: stacked layers, each feeding its hidden states to the next. Default 1. */
  numLayers?: number;
  /** `"tanh"` (default) or `"relu"`. */
  nonlinearity?: "tanh" | "relu";
  /** Learn `b_ih` and `b_hh`. Default true. */
  bias?: boolean;
}

/** One layer's parameters. */
export interface RNNLayerParams {
  weightIh: Parameter;
  weightHh: Parameter;
  biasIh: Parameter | null;
  biasHh: Parameter | null;
}

/**
 * What a forward pass produced and what its backward needs. Buffers are sized for up to
 * `capacity` steps and B batch rows and are reused by later passes of the same batch size.
 */
export class RNNCache {
  /** Steps of the last forward pass (<= capacity). */
  T = 0;
  /** The layer-0 input of the last forward (a reference to the caller's buffer, not a copy). */
  x: Float | null = null;
  /** Per layer l: (capacity+1, B, H); row block 0 is h_0, block t+1 is h_t after step t. */
  readonly hs: Float[];
  /** Per layer l: (capacity, B, H) pre-activations in the forward, overwritten by their gradients in the backward. */
  readonly dpre: Float[];
  /** Per layer l: gradient with respect to the layer's input, (capacity, B, I_l). */
  readonly dIn: Float[];
  /** (L, B, H) final states h_n. */
  readonly hN: Float;
  /** (L, B, H) gradient with respect to h_0. */
  readonly dh0: Float;
  /** (B, H) the gradient carried back through time. */
  readonly dhNext: Float;

  constructor(readonly capacity: number, readonly B: number, inputSizes: readonly number[], readonly H: number, dtype: DType) {
    const L = inputSizes.length;
    this.hs = inputSizes.map(() => alloc(dtype, (capacity + 1) * B * H));
    this.dpre = inputSizes.map(() => alloc(dtype, capacity * B * H));
    this.dIn = inputSizes.map((I) => alloc(dtype, capacity * B * I));
    this.hN = alloc(dtype, L * B * H);
    this.dh0 = alloc(dtype, L * B * H);
    this.dhNext = alloc(dtype, B * H);
  }

  /** output (T, B, H): the top layer's hidden state at every step (a view). */
  get output(): Tensor {
    const top = this.hs[this.hs.length - 1];
    const n = this.B * this.H;
    return { data: top.subarray(n, (this.T + 1) * n), shape: [this.T, this.B, this.H] };
  }

  /** h_n (L, B, H): every layer's state after the last step. */
  get hNTensor(): Tensor {
    return { data: this.hN, shape: [this.hs.length, this.B, this.H] };
  }
}

/**
 * A stacked Elman RNN, `h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)`, with PyTorch's
 * parameter names, shapes and default initialisation (uniform ±1/sqrt(H)).
 *
 * Inputs: x (T, B, I), h0 (L, B, H) or omitted for zeros.
 * Outputs (on the returned cache): `output` (T, B, H), `hNTensor` (L, B, H).
 * Backward: `backward(cache, dOutput, dhN)` accumulates every parameter's gradient and returns
 * dx (T, B, I) and dh0 (L, B, H).
 * @example
 * const rnn = new RNN({ inputSize: 3, hiddenSize: 4, numLayers: 2, seed: 1 });
 * const c = rnn.forward(tensor(new Array(5 * 2 * 3).fill(0.5), [5, 2, 3]));
 * c.output.shape // => [5, 2, 4]
 * rnn.backward(c, c.output.data); // gradients of 0.5 * sum(output^2)
 */
export class RNN {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly nonlinearity: "tanh" | "relu";
  readonly bias: boolean;
  readonly layers: RNNLayerParams[] = [];
  readonly store: ParamStore;
  private readonly k: Kernels;

  constructor(options: RNNOptions) {
    const { inputSize, hiddenSize, numLayers = 1, nonlinearity = "tanh", bias = true } = options;
    checkSize("RNN: inputSize", inputSize);
    checkSize("RNN: hiddenSize", hiddenSize);
    checkSize("RNN: numLayers", numLayers);
    checkActivation("RNN", nonlinearity, ["tanh", "relu"]);
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.numLayers = numLayers;
    this.nonlinearity = nonlinearity;
    this.bias = bias;
    const { store, name, k } = moduleContext(options);
    this.store = store;
    this.k = k;
    const init = uniformInit(1 / Math.sqrt(hiddenSize));
    for (let l = 0; l < numLayers; l++) {
      const I = l === 0 ? inputSize : hiddenSize;
      this.layers.push({
        weightIh: store.declare(name(`weight_ih_l${l}`), [hiddenSize, I], init),
        weightHh: store.declare(name(`weight_hh_l${l}`), [hiddenSize, hiddenSize], init),
        biasIh: bias ? store.declare(name(`bias_ih_l${l}`), [hiddenSize], init) : null,
        biasHh: bias ? store.declare(name(`bias_hh_l${l}`), [hiddenSize], init) : null,
      });
    }
  }

  /** Input size of layer l. */
  layerInputSize(l: number): number {
    return l === 0 ? this.inputSize : this.hiddenSize;
  }

  /** Buffers for passes of up to `capacity` steps of batch B. */
  createCache(capacity: number, B: number): RNNCache {
    checkSize("RNN: steps", capacity);
    checkSize("RNN: batch", B);
    const sizes = this.layers.map((_, l) => this.layerInputSize(l));
    return new RNNCache(capacity, B, sizes, this.hiddenSize, this.store.dtype);
  }

  /**
   * Runs the stack over x (T, B, I) from h0 (L, B, H; zeros when omitted). Reuses `cache` when it
   * fits (same B, capacity >= T), else allocates one. Returns the cache holding output and h_n.
   */
  forward(x: Tensor, h0?: Tensor | null, cache?: RNNCache): RNNCache {
    const [T, B] = x.shape;
    checkShape("RNN input x (T, B, I)", x, [T, B, this.inputSize]);
    if (h0) checkShape("RNN h0 (L, B, H)", h0, [this.numLayers, B, this.hiddenSize]);
    const c = cache && cache.B === B && cache.capacity >= T ? cache : this.createCache(T, B);
    this.forwardRaw(c, x.data, T, h0 ? h0.data : null);
    return c;
  }

  /** forward on raw buffers: x (T, B, I) from offset 0, h0 (L, B, H) or null for zeros. */
  forwardRaw(c: RNNCache, x: Float, T: number, h0: Float | null): void {
    const { B } = c;
    const H = this.hiddenSize;
    const BH = B * H;
    const k = this.k;
    const act = this.nonlinearity;
    c.T = T;
    c.x = x;
    for (let l = 0; l < this.numLayers; l++) {
      const p = this.layers[l];
      const I = this.layerInputSize(l);
      const xl = l === 0 ? x : c.hs[l - 1];
      const xOff = l === 0 ? 0 : BH; // layer l-1's h_1..h_T start after its h_0 block
      const hs = c.hs[l];
      const pre = c.dpre[l];
      const wHh = p.weightHh.value;
      // input projection for all T*B rows at once: pre = x_l W_ih^T + b_ih + b_hh
      k.gemm(false, true, T * B, H, I, 1, xl, xOff, I, p.weightIh.value, 0, I, 0, pre, 0, H);
      if (p.biasIh) k.addRowVector(pre, 0, p.biasIh.value, 0, T * B, H);
      if (p.biasHh) k.addRowVector(pre, 0, p.biasHh.value, 0, T * B, H);
      // h_0
      if (h0) k.copy(hs, 0, h0, l * BH, BH);
      else hs.fill(0, 0, BH);
      for (let t = 0; t < T; t++) {
        // pre_t += h_{t-1} W_hh^T, then h_t = act(pre_t)
        k.gemm(false, true, B, H, H, 1, hs, t * BH, H, wHh, 0, H, 1, pre, t * BH, H);
        activationForward(act, hs, (t + 1) * BH, pre, t * BH, BH, k);
      }
      k.copy(c.hN, l * BH, hs, T * BH, BH);
    }
  }

  /**
   * Backpropagation through time for the last forward on `c`. dOutput (T, B, H) is the loss
   * gradient with respect to every output step and dhN (L, B, H) with respect to h_n; either may
   * be null (zero). Accumulates into every parameter's grad; returns dx (T, B, I) and dh0 (L, B, H),
   * views into the cache that the next backward overwrites.
   */
  backward(c: RNNCache, dOutput: Tensor | Float | null, dhN?: Tensor | Float | null): { dx: Tensor; dh0: Tensor } {
    const { T, B } = c;
    const H = this.hiddenSize;
    const dOut = dOutput === null ? null : "data" in dOutput ? dOutput.data : dOutput;
    const dhn = dhN == null ? null : "data" in dhN ? dhN.data : dhN;
    if (dOut && dOut.length !== T * B * H) throw new RangeError(`RNN backward: dOutput must have ${T}*${B}*${H} elements, got ${dOut.length}`);
    if (dhn && dhn.length !== this.numLayers * B * H) throw new RangeError(`RNN backward: dhN must have ${this.numLayers}*${B}*${H} elements`);
    this.backwardRaw(c, dOut, dhn);
    const I = this.inputSize;
    return {
      dx: { data: c.dIn[0].subarray(0, T * B * I), shape: [T, B, I] },
      dh0: { data: c.dh0, shape: [this.numLayers, B, H] },
    };
  }

  /** backward on raw buffers (see `backward`); dOut covers rows 0..T*B of the top layer. */
  backwardRaw(c: RNNCache, dOut: Float | null, dhN: Float | null): void {
    const { T, B } = c;
    const H = this.hiddenSize;
    const BH = B * H;
    const k = this.k;
    const act = this.nonlinearity;
    const dhNext = c.dhNext;
    for (let l = this.numLayers - 1; l >= 0; l--) {
      const p = this.layers[l];
      const I = this.layerInputSize(l);
      const hs = c.hs[l];
      const dpre = c.dpre[l];
      const wHh = p.weightHh.value;
      // the gradient arriving at this layer's outputs: from the loss (top) or from the layer above
      const dl = l === this.numLayers - 1 ? dOut : c.dIn[l + 1];
      if (dhN) k.copy(dhNext, 0, dhN, l * BH, BH);
      else dhNext.fill(0);
      for (let t = T - 1; t >= 0; t--) {
        const off = t * BH;
        // dh_t = dOut_t + dhNext: the loss at step t plus what flows back from step t+1
        if (dl) {
          k.copy(dpre, off, dl, off, BH);
          k.axpy(dpre, off, 1, dhNext, 0, BH);
        } else {
          k.copy(dpre, off, dhNext, 0, BH);
        }
        // backprop through the nonlinearity, using h_t itself
        activationBackward(act, dpre, off, dpre, off, hs, off + BH, BH, k);
        // backprop into h_{t-1}: dhNext = dpre_t W_hh
        k.gemm(false, false, B, H, H, 1, dpre, off, H, wHh, 0, H, 0, dhNext, 0, H);
      }
      k.copy(c.dh0, l * BH, dhNext, 0, BH);
      // weight gradients, one GEMM each over all T*B rows; W_hh's is the sum over every step's use
      const xl = l === 0 ? c.x! : c.hs[l - 1];
      const xOff = l === 0 ? 0 : BH;
      k.gemm(true, false, H, I, T * B, 1, dpre, 0, H, xl, xOff, I, 1, p.weightIh.grad, 0, I);
      k.gemm(true, false, H, H, T * B, 1, dpre, 0, H, hs, 0, H, 1, p.weightHh.grad, 0, H);
      if (p.biasIh) k.sumRows(p.biasIh.grad, 0, dpre, 0, T * B, H);
      if (p.biasHh) k.sumRows(p.biasHh.grad, 0, dpre, 0, T * B, H);
      // gradient with respect to this layer's input: dx_l = dpre W_ih
      k.gemm(false, false, T * B, I, H, 1, dpre, 0, H, p.weightIh.value, 0, I, 0, c.dIn[l], 0, I);
    }
  }

  /** Copies every layer's state after `t` steps of the last forward (t = 0 gives h0) into `into` (L, B, H). */
  stateAt(c: RNNCache, t: number, into: Float): void {
    const BH = c.B * this.hiddenSize;
    for (let l = 0; l < this.numLayers; l++) this.k.copy(into, l * BH, c.hs[l], t * BH, BH);
  }
}
