// The lecture's backprop recap: a feed-forward network of sigmoid units, built from the same
// Linear and activation twins as everything else. With y_j = σ(z_j):
//   ∂E/∂z_j = y_j (1 - y_j) ∂E/∂y_j,   ∂E/∂y_i = Σ_j w_ij ∂E/∂z_j,   ∂E/∂w_ij = y_i ∂E/∂z_j
// N = rows, sizes = [I, H_1, ..., O]. Every layer (including the output) is Linear then sigmoid,
// as on the slide; the loss is left to the caller, who passes ∂E/∂y of the output.

import type { Float } from "../tensor/dtype.js";
import type { Kernels } from "../tensor/kernels.js";
import { activationBackward, activationForward, type Activation } from "./activations.js";
import { Linear } from "./linear.js";
import { checkOptions, checkSize, MODULE_OPTION_KEYS, moduleContext, type ModuleOptions } from "./module.js";
import type { ParamStore } from "./params.js";

/** Options of an MLP. */
export interface MLPOptions extends ModuleOptions {
  /** The layer sizes `[I, H_1, ..., O]`, at least two. */
  sizes: readonly number[];
  /** Nonlinearity after every layer. Default `"sigmoid"`, as in the lecture. */
  activation?: Activation;
}

const MLP_OPTION_KEYS: readonly string[] = [...MODULE_OPTION_KEYS, "sizes", "activation"];

/**
 * A multilayer perceptron, `y = act(W_L · ... act(W_1 x + b_1) ... + b_L)`, with parameters
 * `layers.{l}.weight` and `layers.{l}.bias`.
 * @example
 * const mlp = new MLP({ sizes: [2, 3, 1], seed: 1 });
 * const y = mlp.forward(new Float32Array([0.5, -1]), 1); // (1, 1), in (0, 1)
 */
export class MLP {
  readonly layers: Linear[] = [];
  readonly activation: Activation;
  readonly store: ParamStore;
  private readonly k: Kernels;
  private N = 0;
  private ys: Float[] = []; // ys[0] = input (a reference), ys[l+1] = output of layer l (N, sizes[l+1])
  private dys: Float[] = []; // gradients of ys

  constructor(readonly options: MLPOptions) {
    checkOptions("MLP", options, MLP_OPTION_KEYS);
    const { sizes } = options;
    if (sizes.length < 2) throw new RangeError("MLP: sizes needs at least an input and an output size");
    sizes.forEach((s, i) => checkSize(`MLP: sizes[${i}]`, s));
    this.activation = options.activation ?? "sigmoid";
    const { store, name, k } = moduleContext(options);
    this.store = store;
    this.k = k;
    for (let l = 0; l + 1 < sizes.length; l++) {
      this.layers.push(new Linear(sizes[l], sizes[l + 1], { store, kernels: k, prefix: name(`layers.${l}`) }));
    }
  }

  /** y (N, O) for x (N, I); the returned buffer is reused by the next forward. */
  forward(x: Float, N: number): Float {
    const { sizes } = this.options;
    if (x.length !== N * sizes[0]) throw new RangeError(`MLP: input must have ${N}*${sizes[0]} values, got ${x.length}`);
    if (N !== this.N) {
      this.ys = [x, ...sizes.slice(1).map((s) => this.store.alloc(N * s))];
      this.dys = sizes.map((s) => this.store.alloc(N * s));
      this.N = N;
    }
    this.ys[0] = x;
    for (let l = 0; l < this.layers.length; l++) {
      const y = this.ys[l + 1];
      this.layers[l].forward(y, this.ys[l], N);
      activationForward(this.activation, y, 0, y, 0, y.length, this.k);
    }
    return this.ys[this.ys.length - 1];
  }

  /** Accumulates parameter gradients from dy (N, O) = ∂E/∂y; returns ∂E/∂x (N, I), reused by the next backward. */
  backward(dy: Float): Float {
    const L = this.layers.length;
    this.k.copy(this.dys[L], 0, dy, 0, dy.length);
    for (let l = L - 1; l >= 0; l--) {
      const d = this.dys[l + 1];
      // ∂E/∂z = y (1 - y) ∂E/∂y for sigmoid: backprop through the nonlinearity
      activationBackward(this.activation, d, 0, d, 0, this.ys[l + 1], 0, d.length, this.k);
      // ∂E/∂w += y_in ∂E/∂z, and ∂E/∂y_in = Σ_j w_ij ∂E/∂z_j
      this.layers[l].backward(this.dys[l], d, this.ys[l], this.N);
    }
    return this.dys[0];
  }
}
