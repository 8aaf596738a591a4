// Jacobians of a recurrent layer's state with respect to its earlier states, the quantity the
// lecture's argument on exploding and vanishing gradients is about:
//
//   ∂h_t/∂h_k = Π_{i=k+1..t} ∂h_i/∂h_{i-1},   for an Elman RNN  ∂h_i/∂h_{i-1} = diag(σ'(a_i)) W_hh
//
// (the slides write its transpose, W_hh^T diag(σ'), the factor the gradient is multiplied by on
// its way back). Its spectral norm grows or shrinks like (γ·σ_max(W_hh))^(t-k) at most.
//
// Each step is a linear map given by a Jacobian-vector product (JVP, forward mode) and a
// vector-Jacobian product (VJP, reverse mode), written by hand from the cell's equations and the
// activations a forward pass left in a RecurrentCache, for one batch row. The spectral norm of
// a product of steps is then found by power iteration on J^T J. For the LSTM the state is the
// pair (h, c), a vector of 2H. Float64 throughout; no Node-only APIs.
//
// H = hidden size, G = gate rows of W_hh (H, 3H or 4H), B = batch rows of the cache.

import type { Recurrent, RecurrentCache } from "../nn/recurrent.js";
import { Rng } from "../tensor/rng.js";

/** One step's Jacobian ∂s_i/∂s_{i-1} as a pair of products; s is the state (h, or [h; c] for the LSTM). */
export interface StepJacobian {
  /** Length of the state vector. */
  readonly dim: number;
  /** out = J v */
  jvp(v: Float64Array, out: Float64Array): void;
  /** out = J^T u */
  vjp(u: Float64Array, out: Float64Array): void;
}

/** Options of chainNorm. */
export interface ChainNormOptions {
  /** Power iterations at most. Default 30. */
  iterations?: number;
  /** Stop when the estimate changes by less than this, relatively. Default 1e-7. */
  tolerance?: number;
  /** Seed of the starting vector. Default 1. */
  seed?: number;
}

/**
 * Spectral norm ‖J_n ⋯ J_2 J_1‖₂ of a product of step Jacobians (`steps[0]` applied first), by
 * power iteration on M^T M with M the product: v ← M^T M v / ‖M^T M v‖, σ = ‖M v‖ for unit v.
 * Exact after one iteration when every singular value of M is the same (e.g. s·Q, Q orthogonal).
 */
export function chainNorm(steps: readonly StepJacobian[], options: ChainNormOptions = {}): number {
  if (steps.length === 0) return 1;
  const n = steps[0].dim;
  const iters = options.iterations ?? 30;
  const tol = options.tolerance ?? 1e-7;
  const rng = new Rng(options.seed ?? 1);
  let v = new Float64Array(n);
  let w = new Float64Array(n);
  for (let j = 0; j < n; j++) v[j] = rng.normal();
  normalize(v);
  let sigma = 0;
  for (let it = 0; it < iters; it++) {
    // forward through the steps: w = M v
    for (const s of steps) {
      s.jvp(v, w);
      [v, w] = [w, v];
    }
    const est = Math.sqrt(dot(v, v));
    // back through them: v = M^T (M v)
    for (let i = steps.length - 1; i >= 0; i--) {
      steps[i].vjp(v, w);
      [v, w] = [w, v];
    }
    const done = Math.abs(est - sigma) <= tol * est;
    sigma = est;
    if (est === 0 || !Number.isFinite(est) || normalize(v) === 0 || done) break;
  }
  return sigma;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function normalize(v: Float64Array): number {
  const n = Math.sqrt(dot(v, v));
  if (n > 0) for (let i = 0; i < v.length; i++) v[i] /= n;
  return n;
}

/** A linear step s_i = A s_{i-1} with A (n, n) row-major: the Jacobian of a linear RNN. */
export function linearStep(A: ArrayLike<number>, n: number): StepJacobian {
  return {
    dim: n,
    jvp(v, out) {
      for (let r = 0; r < n; r++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += A[r * n + j] * v[j];
        out[r] = s;
      }
    },
    vjp(u, out) {
      out.fill(0);
      for (let r = 0; r < n; r++) {
        const ur = u[r];
        for (let j = 0; j < n; j++) out[j] += A[r * n + j] * ur;
      }
    },
  };
}

/** out (G) = W v with W (G, H) row-major. */
function matVec(W: ArrayLike<number>, G: number, H: number, v: Float64Array, vOff: number, out: Float64Array): void {
  for (let g = 0; g < G; g++) {
    let s = 0;
    const r = g * H;
    for (let j = 0; j < H; j++) s += W[r + j] * v[vOff + j];
    out[g] = s;
  }
}

/** out (H) = W^T p with W (G, H) row-major (assigns). */
function matTVec(W: ArrayLike<number>, G: number, H: number, p: Float64Array, out: Float64Array, outOff: number): void {
  out.fill(0, outOff, outOff + H);
  for (let g = 0; g < G; g++) {
    const pg = p[g];
    if (pg === 0) continue;
    const r = g * H;
    for (let j = 0; j < H; j++) out[outOff + j] += W[r + j] * pg;
  }
}

/**
 * The step Jacobians ∂s_t/∂s_{t-1} of layer `layer` (direction 0) for batch row `row`, for every
 * step t = 1..T of the last forward pass on `cache`; `result[t-1]` is step t's. Call it after the
 * forward and before any backward on the same cache (the backward overwrites the gate buffers).
 *
 * - RNN:  h = act(a),  a = W_ih x + W_hh h_prev + b:   J v = act'(a) ⊙ (W_hh v)
 * - LSTM: s = [h; c], c = f⊙c_prev + i⊙g, h = o⊙tanh(c), gates from W_hh h_prev:
 *         dc = di⊙g + i⊙dg + df⊙c_prev + f⊙dc_prev,  dh = do⊙tanh(c) + o⊙(1-tanh²c)⊙dc
 * - GRU:  h = (1-z)⊙n + z⊙h_prev, n = tanh(W_in x + b_in + r⊙(W_hn h_prev + b_hn)):
 *         dh = dz⊙(h_prev - n) + (1-z)⊙dn + z⊙dh_prev,  dn = (1-n²)⊙(dr⊙gh_n + r⊙(W_hn dh_prev))
 */
export function stepJacobians(rnn: Recurrent, cache: RecurrentCache, layer: number, row: number): StepJacobian[] {
  if (layer < 0 || layer >= rnn.numLayers) throw new RangeError(`stepJacobians: layer must be in [0, ${rnn.numLayers}), got ${layer}`);
  if (row < 0 || row >= cache.B) throw new RangeError(`stepJacobians: row must be in [0, ${cache.B}), got ${row}`);
  if (rnn.projSize > 0)
    throw new RangeError(`stepJacobians: LSTMs with projections (projSize ${rnn.projSize}) are not supported: the state is [h (P); c (H)] and W_hh is (4H, P)`);
  const H = rnn.hiddenSize;
  const B = cache.B;
  const T = cache.T;
  const D = rnn.numDirections;
  const mode = rnn.mode;
  const W = rnn.params[layer * D].weightHh.value;
  const buf = cache.direction(layer);
  const G = W.length / H;
  const p = new Float64Array(G); // scratch shared by the steps (one product runs at a time)
  const q = new Float64Array(G);
  const steps: StepJacobian[] = [];
  for (let t = 0; t < T; t++) {
    const prev = t * B * H + row * H; // h_{t-1} (and c_{t-1}) of this row in hs / cs
    const next = prev + B * H; //        h_t
    const gOff = t * B * G + row * G; // this row's gates at step t
    const hOff = t * B * H + row * H; // this row's tanh(c_t) / gh_n at step t
    if (cache.lengths && t >= cache.lengths[row]) {
      // past the row's end the state is carried unchanged: the identity
      const dim = mode === "LSTM" ? 2 * H : H;
      steps.push({ dim, jvp: (v, out) => out.set(v), vjp: (u, out) => out.set(u) });
      continue;
    }
    if (mode === "RNN_TANH" || mode === "RNN_RELU") {
      const hs = buf.hs;
      const relu = mode === "RNN_RELU";
      const dact = (j: number) => {
        const h = hs[next + j];
        return relu ? (h > 0 ? 1 : 0) : 1 - h * h;
      };
      steps.push({
        dim: H,
        jvp(v, out) {
          matVec(W, H, H, v, 0, p);
          for (let j = 0; j < H; j++) out[j] = dact(j) * p[j];
        },
        vjp(u, out) {
          for (let j = 0; j < H; j++) q[j] = dact(j) * u[j];
          matTVec(W, H, H, q, out, 0);
        },
      });
    } else if (mode === "LSTM") {
      const gates = buf.gates,
        cs = buf.cs!,
        tc = buf.tc!;
      steps.push({
        dim: 2 * H,
        jvp(v, out) {
          matVec(W, G, H, v, 0, p); // d(pre-activations) = W_hh dh_prev
          for (let j = 0; j < H; j++) {
            const i = gates[gOff + j],
              f = gates[gOff + H + j],
              g = gates[gOff + 2 * H + j],
              o = gates[gOff + 3 * H + j];
            const di = i * (1 - i) * p[j];
            const df = f * (1 - f) * p[H + j];
            const dg = (1 - g * g) * p[2 * H + j];
            const dout = o * (1 - o) * p[3 * H + j];
            const dc = di * g + i * dg + df * cs[prev + j] + f * v[H + j];
            const t2 = tc[hOff + j];
            out[j] = dout * t2 + o * (1 - t2 * t2) * dc;
            out[H + j] = dc;
          }
        },
        vjp(u, out) {
          for (let j = 0; j < H; j++) {
            const i = gates[gOff + j],
              f = gates[gOff + H + j],
              g = gates[gOff + 2 * H + j],
              o = gates[gOff + 3 * H + j];
            const t2 = tc[hOff + j];
            const uc = u[H + j] + u[j] * o * (1 - t2 * t2); // all that reaches c_t
            q[j] = uc * g * i * (1 - i);
            q[H + j] = uc * cs[prev + j] * f * (1 - f);
            q[2 * H + j] = uc * i * (1 - g * g);
            q[3 * H + j] = u[j] * t2 * o * (1 - o);
            out[H + j] = uc * f; // into c_{t-1}
          }
          matTVec(W, G, H, q, out, 0); // into h_{t-1}
        },
      });
    } else {
      const gates = buf.gates,
        ghn = buf.ghn!,
        hs = buf.hs;
      steps.push({
        dim: H,
        jvp(v, out) {
          matVec(W, G, H, v, 0, p); // d(W_hh h_prev)
          for (let j = 0; j < H; j++) {
            const r = gates[gOff + j],
              z = gates[gOff + H + j],
              n = gates[gOff + 2 * H + j];
            const dr = r * (1 - r) * p[j];
            const dz = z * (1 - z) * p[H + j];
            const dn = (1 - n * n) * (dr * ghn[hOff + j] + r * p[2 * H + j]);
            out[j] = dz * (hs[prev + j] - n) + (1 - z) * dn + z * v[j];
          }
        },
        vjp(u, out) {
          for (let j = 0; j < H; j++) {
            const r = gates[gOff + j],
              z = gates[gOff + H + j],
              n = gates[gOff + 2 * H + j];
            const dnPre = u[j] * (1 - z) * (1 - n * n);
            q[j] = dnPre * ghn[hOff + j] * r * (1 - r);
            q[H + j] = u[j] * (hs[prev + j] - n) * z * (1 - z);
            q[2 * H + j] = dnPre * r;
          }
          matTVec(W, G, H, q, out, 0);
          for (let j = 0; j < H; j++) out[j] += gates[gOff + H + j] * u[j]; // h = ... + z⊙h_prev
        },
      });
    }
  }
  return steps;
}

/**
 * ‖∂s_t/∂s_{t-lag}‖₂ for each lag, for one layer, averaged over `rows` batch rows of the last
 * forward on `cache` (t = `target`, 1-based; lags must be in [1, target]).
 */
export function jacobianNorms(
  rnn: Recurrent,
  cache: RecurrentCache,
  layer: number,
  target: number,
  lags: readonly number[],
  rows: number,
  options: ChainNormOptions = {},
): number[] {
  const R = Math.min(rows, cache.B);
  const sums = new Float64Array(lags.length);
  for (let row = 0; row < R; row++) {
    const steps = stepJacobians(rnn, cache, layer, row);
    lags.forEach((lag, i) => {
      if (!(lag >= 1 && lag <= target)) throw new RangeError(`jacobianNorms: lag ${lag} must be in [1, ${target}]`);
      sums[i] += chainNorm(steps.slice(target - lag, target), options);
    });
  }
  return Array.from(sums, (s) => s / R);
}
