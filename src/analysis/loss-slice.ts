// A 2-D slice of a trained model's loss landscape around its weights θ*:
//   f(α, β) = L(θ* + α·d1 + β·d2)
// on a grid, after Li, Xu, Taylor, Studer & Goldstein (2018), "Visualizing the Loss Landscape
// of Neural Nets" (https://arxiv.org/abs/1712.09913), §4: d1 and d2 are random Gaussian
// directions, *filter-normalised*: each row of each weight matrix of d (a neuron's incoming
// weights: a row of W_ih, W_hh, the head, an embedding vector) is scaled to the norm of the same
// row of θ*, so that a step of α = 1 changes every neuron by as much as it weighs. Biases (1-D
// parameters) are zeroed by default, as in Li et al.'s code (`--xignore biasbn`); with
// `biases: "filter"` the same row rule applies to them, each element being its own row.
//
// Mode "whh": α scales every recurrent matrix, θ* with W_hh → (1 + α)·W_hh (d1 is θ* on the
// W_hh parameters, 0 elsewhere), and β runs along one random filter-normalised direction: the
// lecture's knob for exploding and vanishing gradients, seen as a loss.
//
// Earlier weights (a training trajectory) are projected onto the plane by least squares.
// The loss itself is the caller's callback, so this file needs no data and no Node APIs.

import type { ParamStore } from "../nn/params.js";
import { Rng } from "../tensor/rng.js";

/** How the slice's first direction is chosen. */
export type SliceMode = "random" | "whh" | "pca";

/** Options of lossSlice. */
export interface LossSliceOptions {
  /**
   * "random": two random directions; "whh": α scales W_hh, β random; "pca": the two principal
   * directions of the trajectory's offsets from θ* (Li et al. 2018, §7), each scaled so that the
   * trajectory's coordinates reach ±1: the plane that holds most of the path. Default "random".
   */
  mode?: SliceMode;
  /** Range of α. Default [-1, 1]. */
  alpha?: readonly [number, number];
  /** Range of β. Default [-1, 1]. */
  beta?: readonly [number, number];
  /** Grid points per axis (both ends included), or [along α, along β]. Default 21. */
  steps?: number | readonly [number, number];
  /** Seed of the random directions. Default 0. */
  seed?: number;
  /** 1-D parameters (biases): "zero" (Li et al.'s default) or "filter" (normalised like rows). Default "zero". */
  biases?: "zero" | "filter";
  /** Earlier weight vectors, each laid out as `store.values`, to project onto the plane. */
  trajectory?: readonly ArrayLike<number>[];
  /** Called after each grid row (of `rows`). */
  onRow?: (done: number, rows: number) => void;
}

/** A point's coordinates in the plane, and the share of its offset from θ* the plane misses. */
export interface Projection {
  alpha: number;
  beta: number;
  /** ‖Δ − (α·d1 + β·d2)‖ / ‖Δ‖ with Δ = θ − θ* (0: in the plane; 0 when Δ = 0). */
  residual: number;
  /** ‖Δ‖, the point's distance from θ*. */
  distance: number;
}

/** The slice. */
export interface LossSlice {
  mode: SliceMode;
  /** α of each column (na) and β of each row (nb). */
  alpha: Float64Array;
  beta: Float64Array;
  /** (nb, na) row-major: loss[j*na + i] = L(θ* + alpha[i]·d1 + beta[j]·d2). */
  loss: Float64Array;
  /** L(θ*). */
  center: number;
  d1: Float64Array;
  d2: Float64Array;
  /** The trajectory's points projected, in the order given. */
  trajectory: Projection[];
}

/** Names of the recurrent matrices W_hh (PyTorch's weight_hh_l{k}, with or without _reverse). */
export function isRecurrentWeight(name: string): boolean {
  return /(^|\.)weight_hh_l\d+(_reverse)?$/.test(name);
}

/**
 * A random Gaussian direction in parameter space, filter-normalised against the store's
 * current values θ (Li et al. 2018): for every parameter of 2 or more dimensions, each row
 * (first index) of d is scaled to ‖the same row of θ‖; 1-D parameters are zeroed, or with
 * `biases: "filter"` scaled element by element (d_i = ±|θ_i|). Laid out as `store.values`.
 */
export function filterNormalizedDirection(store: ParamStore, rng: Rng, biases: "zero" | "filter" = "zero"): Float64Array {
  const theta = store.values;
  const d = new Float64Array(theta.length);
  for (const p of store.params) {
    const rows = p.shape.length >= 2 ? p.shape[0] : p.size;
    const len = p.size / rows;
    const oneD = p.shape.length < 2;
    for (let r = 0; r < rows; r++) {
      const o = p.offset + r * len;
      let dn = 0;
      let tn = 0;
      for (let k = 0; k < len; k++) {
        const g = rng.normal(); // drawn for every element, so the seed fixes d whatever `biases` is
        d[o + k] = g;
        dn += g * g;
        tn += theta[o + k] * theta[o + k];
      }
      const scale = oneD && biases === "zero" ? 0 : dn > 0 ? Math.sqrt(tn / dn) : 0;
      for (let k = 0; k < len; k++) d[o + k] *= scale;
    }
  }
  return d;
}

/** The direction that scales every W_hh: θ on the recurrent matrices, 0 elsewhere. */
export function recurrentWeightDirection(store: ParamStore): Float64Array {
  const d = new Float64Array(store.values.length);
  let found = false;
  for (const p of store.params) {
    if (!isRecurrentWeight(p.name)) continue;
    found = true;
    for (let k = 0; k < p.size; k++) d[p.offset + k] = store.values[p.offset + k];
  }
  if (!found) throw new RangeError('lossSlice: mode "whh" needs a model with recurrent weights (weight_hh_l*)');
  return d;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k] * b[k];
  return s;
}

/**
 * The least-squares coordinates (α, β) of `point` in the plane θ* + α·d1 + β·d2: the solution of
 * the 2×2 normal equations [d1·d1 d1·d2; d1·d2 d2·d2] (α, β) = (d1·Δ, d2·Δ), Δ = point − θ*.
 * @example
 * projectOnto(theta, d1, d2, theta.map((t, k) => t + 0.3 * d1[k])) // => alpha 0.3, beta 0, residual 0 (to rounding)
 */
export function projectOnto(theta: ArrayLike<number>, d1: ArrayLike<number>, d2: ArrayLike<number>, point: ArrayLike<number>): Projection {
  if (point.length !== theta.length) throw new RangeError(`projectOnto: the point has ${point.length} values, θ* ${theta.length}`);
  const delta = new Float64Array(theta.length);
  for (let k = 0; k < delta.length; k++) delta[k] = point[k] - theta[k];
  const a11 = dot(d1, d1);
  const a12 = dot(d1, d2);
  const a22 = dot(d2, d2);
  const r1 = dot(d1, delta);
  const r2 = dot(d2, delta);
  const det = a11 * a22 - a12 * a12;
  if (!(det > 1e-12 * a11 * a22)) throw new RangeError("projectOnto: d1 and d2 are (nearly) parallel");
  const alpha = (a22 * r1 - a12 * r2) / det;
  const beta = (a11 * r2 - a12 * r1) / det;
  let miss = 0;
  let all = 0;
  for (let k = 0; k < delta.length; k++) {
    const e = delta[k] - alpha * d1[k] - beta * d2[k];
    miss += e * e;
    all += delta[k] * delta[k];
  }
  return { alpha, beta, residual: all > 0 ? Math.sqrt(miss / all) : 0, distance: Math.sqrt(all) };
}

function grid(range: readonly [number, number], n: number, name: string): Float64Array {
  if (!(Number.isInteger(n) && n >= 2)) throw new RangeError(`lossSlice: steps must be whole numbers >= 2, got ${n}`);
  if (!(Number.isFinite(range[0]) && Number.isFinite(range[1]) && range[0] < range[1])) {
    throw new RangeError(`lossSlice: ${name} must be [lo, hi] with lo < hi, got [${range.join(", ")}]`);
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = range[0] + ((range[1] - range[0]) * i) / (n - 1);
  // put 0 exactly on the grid when it is (nearly) a grid point, so the centre is θ* itself
  for (let i = 0; i < n; i++) if (Math.abs(out[i]) < 1e-12 * (range[1] - range[0])) out[i] = 0;
  return out;
}

/**
 * The two principal directions of the offsets Δ_i = θ_i − θ* of a trajectory (Li et al. 2018,
 * §7): the top eigenvectors of the n×n Gram matrix G_ij = Δ_i·Δ_j (power iteration with
 * deflation; n is the number of snapshots), mapped back as d = Σ_i v_i Δ_i, each scaled so that
 * the largest |coordinate| of a trajectory point along it is 1.
 */
export function principalDirections(theta: ArrayLike<number>, trajectory: readonly ArrayLike<number>[]): [Float64Array, Float64Array] {
  const n = trajectory.length;
  if (n < 2) throw new RangeError(`principal directions need at least 2 trajectory points, got ${n}`);
  const P = theta.length;
  const deltas = trajectory.map((t) => {
    if (t.length !== P) throw new RangeError(`principalDirections: a trajectory point has ${t.length} values, θ* ${P}`);
    const d = new Float64Array(P);
    for (let k = 0; k < P; k++) d[k] = t[k] - theta[k];
    return d;
  });
  const G = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) G[i * n + j] = G[j * n + i] = dot(deltas[i], deltas[j]);
  const vectors: Float64Array[] = [];
  const lambdas: number[] = [];
  for (let c = 0; c < 2; c++) {
    let lambda = 0;
    // power iteration on G with the earlier eigenvectors projected out
    let v = Float64Array.from({ length: n }, (_, i) => 1 + i / n);
    for (let it = 0; it < 500; it++) {
      for (const u of vectors) {
        const a = dot(u, v);
        for (let i = 0; i < n; i++) v[i] -= a * u[i];
      }
      const w = new Float64Array(n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) w[i] += G[i * n + j] * v[j];
      const norm = Math.sqrt(dot(w, w));
      lambda = norm;
      if (norm === 0) break;
      let change = 0;
      for (let i = 0; i < n; i++) {
        change = Math.max(change, Math.abs(w[i] / norm - v[i]));
        v[i] = w[i] / norm;
      }
      v = v.slice();
      if (change < 1e-13) break;
    }
    if (!(lambda > 1e-10 * (lambdas[0] ?? lambda)) || lambda === 0) {
      throw new RangeError("principal directions: the trajectory does not span two directions (its points coincide or lie on a line through θ*)");
    }
    lambdas.push(lambda);
    vectors.push(v);
  }
  const dirs = vectors.map((v) => {
    const d = new Float64Array(P);
    for (let i = 0; i < n; i++) for (let k = 0; k < P; k++) d[k] += v[i] * deltas[i][k];
    const norm = Math.sqrt(dot(d, d));
    if (!(norm > 0)) throw new RangeError("principal directions: the trajectory does not span two directions");
    // unit length, then stretched so the farthest point's coordinate along it is ±1
    let reach = 0;
    for (const delta of deltas) reach = Math.max(reach, Math.abs(dot(d, delta)) / (norm * norm));
    for (let k = 0; k < P; k++) d[k] *= reach;
    return d;
  }) as [Float64Array, Float64Array];
  return dirs;
}

/**
 * The loss on the plane through θ* (the model's current weights) spanned by d1, d2:
 * f(α, β) = loss(model with weights θ* + α·d1 + β·d2), on a grid. The model's weights are
 * changed in place while it runs and restored exactly (also on an exception).
 * Cost: one `loss` call per grid point.
 * @example
 * const s = lossSlice(lm, (m) => evaluateLoss(m, tokens, 8, 64).loss, { steps: 21, seed: 1 });
 * s.loss[10 * 21 + 10] === s.center // => true: the middle of the grid is θ* itself, evaluated again
 */
export function lossSlice<M extends { store: ParamStore }>(model: M, loss: (m: M) => number, options: LossSliceOptions = {}): LossSlice {
  const mode = options.mode ?? "random";
  const [na, nb] = typeof options.steps === "object" ? options.steps : [options.steps ?? 21, options.steps ?? 21];
  const alpha = grid(options.alpha ?? [-1, 1], na, "alpha");
  const beta = grid(options.beta ?? [-1, 1], nb, "beta");
  const store = model.store;
  const values = store.values;
  const theta = Float64Array.from(values);
  const rng = new Rng(options.seed ?? 0);
  let d1: Float64Array;
  let d2: Float64Array;
  if (mode === "pca") {
    [d1, d2] = principalDirections(theta, options.trajectory ?? []);
  } else {
    d1 = mode === "whh" ? recurrentWeightDirection(store) : filterNormalizedDirection(store, rng, options.biases);
    d2 = filterNormalizedDirection(store, rng, options.biases);
  }
  const trajectory = (options.trajectory ?? []).map((p) => projectOnto(theta, d1, d2, p));
  const out = new Float64Array(na * nb);
  let center = NaN;
  try {
    center = loss(model);
    for (let j = 0; j < nb; j++) {
      for (let i = 0; i < na; i++) {
        const a = alpha[i];
        const b = beta[j];
        for (let k = 0; k < values.length; k++) values[k] = theta[k] + a * d1[k] + b * d2[k];
        out[j * na + i] = loss(model);
      }
      options.onRow?.(j + 1, nb);
    }
  } finally {
    values.set(theta);
  }
  return { mode, alpha, beta, loss: out, center, d1, d2, trajectory };
}
