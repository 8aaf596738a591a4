// The single recurrent neuron of Pascanu, Mikolov & Bengio (2013), §2.3 and figure 6, the
// lecture's "error surface of a single RNN neuron":
//   x_t = w·σ(x_{t-1}) + b,  t = 1..T,  x_0 given,  E = (σ(x_T) - target)^2
// Its loss surface over (w, b) has the high-curvature walls that make gradients explode; it is
// the smallest model on which norm clipping visibly helps. Forward and BPTT backward by hand.

import type { DType } from "../tensor/dtype.js";
import { rounder } from "../tensor/dtype.js";

/** Options of the single-neuron model. */
export interface SingleNeuronOptions {
  /** Steps. Default 50. */
  T?: number;
  /** Starting value x_0. Default 0.5. */
  x0?: number;
  /** Target of σ(x_T). Default 0.7. */
  target?: number;
  /** Arithmetic precision. Default `"float64"`. */
  dtype?: DType;
}

/** The model's value and gradient at one (w, b). */
export interface SingleNeuronResult {
  xT: number;
  loss: number;
  dw: number;
  db: number;
}

/**
 * Loss and gradient of the single recurrent neuron at (w, b), by BPTT.
 * @example
 * singleNeuron(1, -5).loss // => 0.48061248714682536, the same double PyTorch 1.13 gives
 */
export function singleNeuron(w: number, b: number, options: SingleNeuronOptions = {}): SingleNeuronResult {
  const T = options.T ?? 50;
  const target = options.target ?? 0.7;
  const r = rounder(options.dtype ?? "float64");
  const sig = (x: number) => r(1 / r(1 + r(Math.exp(-x))));
  w = r(w);
  b = r(b);
  // forward, keeping σ(x_{t}) for the backward
  const s = new Float64Array(T + 1); // s[t] = σ(x_t)
  let x = r(options.x0 ?? 0.5);
  s[0] = sig(x);
  for (let t = 1; t <= T; t++) {
    x = r(r(w * s[t - 1]) + b);
    s[t] = sig(x);
  }
  const e = r(s[T] - r(target));
  const loss = r(e * e);
  // backward: dE/dx_T = 2 e σ'(x_T), then x_t = w σ(x_{t-1}) + b back to t = 1
  let dx = r(r(2 * e) * r(s[T] * r(1 - s[T])));
  let dw = 0;
  let db = 0;
  for (let t = T; t >= 1; t--) {
    dw = r(dw + r(dx * s[t - 1])); // w is shared by every step: its gradient is the sum
    db = r(db + dx);
    dx = r(r(dx * w) * r(s[t - 1] * r(1 - s[t - 1]))); // back through σ into x_{t-1}
  }
  return { xT: x, loss, dw, db };
}
