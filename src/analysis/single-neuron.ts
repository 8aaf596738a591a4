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

// ---------------------------------------------------------------------------------------------
// the error surface and gradient descent on it (Pascanu et al. 2013, figure 6)

/**
 * Options of surfaceGrid: an even grid (wRange, bRange, steps), or the grid's coordinates
 * themselves (w, b), e.g. a fixture's points.
 */
export type SurfaceGridOptions = Omit<SingleNeuronOptions, "dtype"> &
  (
    | {
        /** [w_min, w_max]. */
        wRange: readonly [number, number];
        /** [b_min, b_max]. */
        bRange: readonly [number, number];
        /** Points per axis (>= 2), both ends included; or [points along w, points along b]. */
        steps: number | readonly [number, number];
      }
    | {
        /** The w of each column. */
        w: ArrayLike<number>;
        /** The b of each row. */
        b: ArrayLike<number>;
      }
  );

/** Loss and gradient norm of the single neuron on a (w, b) grid, in float64. */
export interface SurfaceGrid {
  /** The w of each column (nw). */
  w: Float64Array;
  /** The b of each row (nb). */
  b: Float64Array;
  /** (nb, nw) row-major: loss[j*nw + i] = E(w[i], b[j]). */
  loss: Float64Array;
  /** (nb, nw): ∂E/∂w and ∂E/∂b at the same points. */
  dw: Float64Array;
  db: Float64Array;
  /** (nb, nw): ‖(∂E/∂w, ∂E/∂b)‖. */
  gradNorm: Float64Array;
}

function linspace(lo: number, hi: number, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = i === n - 1 ? hi : lo + ((hi - lo) * i) / (n - 1);
  return out;
}

/**
 * E(w, b) and ‖∇E‖ on an evenly spaced grid, both ends included (float64).
 * @example
 * const g = surfaceGrid({ wRange: [4, 8], bRange: [-5, -1], steps: 5 });
 * g.loss[0] // => 0.48041774079721467, E(4, -5)
 */
export function surfaceGrid(options: SurfaceGridOptions): SurfaceGrid {
  let w: Float64Array;
  let b: Float64Array;
  if ("w" in options) {
    w = Float64Array.from(options.w);
    b = Float64Array.from(options.b);
    if (w.length < 1 || b.length < 1) throw new RangeError("surfaceGrid: w and b need at least one value each");
  } else {
    const [nw, nb] = typeof options.steps === "number" ? [options.steps, options.steps] : options.steps;
    for (const n of [nw, nb]) {
      if (!Number.isInteger(n) || n < 2) throw new RangeError(`surfaceGrid: steps must be whole numbers >= 2, got ${n}`);
    }
    for (const [name, r] of [
      ["wRange", options.wRange],
      ["bRange", options.bRange],
    ] as const) {
      if (!(Number.isFinite(r[0]) && Number.isFinite(r[1]) && r[0] < r[1]))
        throw new RangeError(`surfaceGrid: ${name} must be [lo, hi] with lo < hi, got [${r.join(", ")}]`);
    }
    w = linspace(options.wRange[0], options.wRange[1], nw);
    b = linspace(options.bRange[0], options.bRange[1], nb);
  }
  const o = { T: options.T, x0: options.x0, target: options.target, dtype: "float64" as const };
  const nw = w.length;
  const n = nw * b.length;
  const out = { w, b, loss: new Float64Array(n), dw: new Float64Array(n), db: new Float64Array(n), gradNorm: new Float64Array(n) };
  for (let j = 0; j < b.length; j++) {
    for (let i = 0; i < nw; i++) {
      const r = singleNeuron(w[i], b[j], o);
      const k = j * nw + i;
      out.loss[k] = r.loss;
      out.dw[k] = r.dw;
      out.db[k] = r.db;
      out.gradNorm[k] = Math.hypot(r.dw, r.db);
    }
  }
  return out;
}

/** Options of descend. */
export interface DescendOptions extends Omit<SingleNeuronOptions, "dtype"> {
  /** Learning rate. */
  lr: number;
  /** Gradient steps. */
  steps: number;
  /** Norm-clipping threshold (null: plain gradient descent). */
  clip: number | null;
}

/** One point of a descent: the parameters, and the loss and gradient there. */
export interface DescentPoint {
  w: number;
  b: number;
  loss: number;
  /** ‖∇E‖ at (w, b), before any clipping. */
  gradNorm: number;
  /** Whether the step taken from this point was clipped (false at the last point). */
  clipped: boolean;
}

/**
 * Gradient descent on the single neuron, (w, b) ← (w, b) − lr·g, from `start`, with optional
 * norm clipping (Pascanu, Mikolov & Bengio 2013, Algorithm 1): if ‖g‖ > clip, g ← clip·g/‖g‖,
 * so no step is longer than lr·clip. Returns steps + 1 points, the start first; it stops early
 * at a point whose loss or gradient is not finite (float64 throughout).
 * @example
 * const path = descend([5, -3], { lr: 1, steps: 10, clip: 1 });
 * path.length // => 11
 */
export function descend(start: readonly [number, number], options: DescendOptions): DescentPoint[] {
  const { lr, steps, clip } = options;
  if (!(Number.isFinite(lr) && lr > 0)) throw new RangeError(`descend: lr must be > 0, got ${lr}`);
  if (!(Number.isInteger(steps) && steps >= 0)) throw new RangeError(`descend: steps must be a whole number >= 0, got ${steps}`);
  if (clip !== null && !(clip > 0)) throw new RangeError(`descend: clip must be > 0 or null, got ${clip}`);
  const o = { T: options.T, x0: options.x0, target: options.target, dtype: "float64" as const };
  let [w, b] = start;
  const path: DescentPoint[] = [];
  for (let i = 0; ; i++) {
    const r = singleNeuron(w, b, o);
    const norm = Math.hypot(r.dw, r.db);
    const ok = Number.isFinite(r.loss) && Number.isFinite(norm);
    const last = i === steps || !ok;
    const clipped = !last && clip !== null && norm > clip;
    path.push({ w, b, loss: r.loss, gradNorm: norm, clipped });
    if (last) return path;
    const scale = clipped ? clip! / norm : 1; // Algorithm 1: g <- threshold * g / ||g||
    w -= lr * scale * r.dw;
    b -= lr * scale * r.db;
  }
}
