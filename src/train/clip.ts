// Gradient clipping, as torch.nn.utils: clip_grad_norm_ rescales all gradients together when
// their total norm passes a threshold (Pascanu, Mikolov & Bengio 2013, "On the difficulty of
// training recurrent neural networks", Algorithm 1), clip_grad_value_ clamps each element.
// Reference: https://pytorch.org/docs/stable/generated/torch.nn.utils.clip_grad_norm_.html

import type { Float } from "../tensor/dtype.js";
import type { Kernels } from "../tensor/kernels.js";
import { jsKernels } from "../tensor/js-kernels.js";
import type { ParamStore } from "../nn/params.js";
import type { ClipSummary } from "../analysis/report-data.js";

/** Gradients to clip: a ParamStore (every parameter) or a list of gradient buffers. */
export type Grads = ParamStore | Iterable<Float>;

function gradList(g: Grads): Float[] {
  if ("params" in g) return g.params.map((p) => p.grad);
  return [...g];
}

/** A norm type: any p >= 1, or Infinity (also accepted as the string "inf"). */
export type NormType = number | "inf";

function parseNormType(normType: NormType): number {
  const p = normType === "inf" ? Infinity : normType;
  if (!(p >= 1)) throw new RangeError(`norm type must be a number >= 1 or Infinity, got ${normType}`);
  return p;
}

/**
 * The total p-norm of all gradients taken together, ‖(‖g_1‖_p, ‖g_2‖_p, ...)‖_p, which equals
 * the p-norm of all elements concatenated; for p = Infinity, the largest |element|.
 * Accumulates in float64 whatever the buffers' type. `kernels` computes the p = 2 sums.
 */
export function gradNorm(grads: Grads, normType: NormType = 2, kernels: Kernels = jsKernels): number {
  const p = parseNormType(normType);
  const list = gradList(grads);
  if (p === Infinity) {
    let m = 0;
    for (const g of list) {
      for (let i = 0; i < g.length; i++) {
        const a = Math.abs(g[i]);
        if (a > m || Number.isNaN(a)) m = a; // NaN wins, as in torch
      }
    }
    return m;
  }
  let total = 0;
  for (const g of list) {
    let s = 0;
    if (p === 2) s = kernels.sumSquares(g, 0, g.length);
    else if (p === 1) for (let i = 0; i < g.length; i++) s += Math.abs(g[i]);
    else for (let i = 0; i < g.length; i++) s += Math.abs(g[i]) ** p;
    // per-tensor norm, then the norm of the norms (torch's order of operations)
    const n = p === 2 ? Math.sqrt(s) : p === 1 ? s : s ** (1 / p);
    total += p === 2 ? n * n : p === 1 ? n : n ** p;
  }
  return p === 2 ? Math.sqrt(total) : p === 1 ? total : total ** (1 / p);
}

/** Options of clipGradNorm. */
export interface ClipGradNormOptions {
  /** Throw when the total norm is NaN or infinite, leaving the gradients untouched. Default false (as torch). */
  errorIfNonfinite?: boolean;
  /** Kernel set for the norm and the scaling. Default: the plain TypeScript kernels. */
  kernels?: Kernels;
}

/**
 * Rescales all gradients in place so that their total norm is at most `maxNorm`:
 * `g <- g * min(1, maxNorm / (total + 1e-6))`, total = gradNorm(grads, normType).
 * Mutates the gradients; returns the total norm from *before* clipping.
 * @example
 * // global norm = sqrt(3^2 + 4^2) = 5, maxNorm = 2.5, scale = 2.5 / (5 + 1e-6) ≈ 0.5
 * const g = new Float64Array([3, 4]);
 * clipGradNorm([g], 2.5); // => 5, and g ≈ [1.5, 2]
 */
export function clipGradNorm(grads: Grads, maxNorm: number, normType: NormType = 2, options: ClipGradNormOptions = {}): number {
  if (!(maxNorm >= 0)) throw new RangeError(`clipGradNorm: maxNorm must be >= 0, got ${maxNorm}`);
  const k = options.kernels ?? jsKernels;
  const total = gradNorm(grads, normType, k);
  if (options.errorIfNonfinite && !Number.isFinite(total)) {
    throw new RangeError(`clipGradNorm: the total norm of order ${normType} of the gradients is ${total}; set errorIfNonfinite to false to clip anyway`);
  }
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) for (const g of gradList(grads)) k.scale(g, 0, coef, g.length);
  return total;
}

/**
 * Clamps every gradient element to [-clipValue, clipValue], in place (torch.nn.utils.clip_grad_value_).
 * Returns how many elements were clamped.
 */
export function clipGradValue(grads: Grads, clipValue: number): number {
  if (!(clipValue >= 0)) throw new RangeError(`clipGradValue: clipValue must be >= 0, got ${clipValue}`);
  let n = 0;
  for (const g of gradList(grads)) {
    for (let i = 0; i < g.length; i++) {
      const v = g[i];
      if (v > clipValue) {
        g[i] = clipValue;
        n++;
      } else if (v < -clipValue) {
        g[i] = -clipValue;
        n++;
      }
    }
  }
  return n;
}

/**
 * Whether clip_grad_norm_ at `maxNorm` rescales a gradient of total norm `norm`: PyTorch's rule,
 * max_norm / (norm + 1e-6) < 1. The one definition of "clipped" (Updater, clipSummary, reports).
 */
export function isClipped(norm: number, maxNorm: number): boolean {
  return maxNorm / (norm + 1e-6) < 1;
}

// ---------------------------------------------------------------------------------------------
// statistics of the gradient norms of a run

/**
 * Statistics of pre-clip gradient norms and a suggested clipping threshold: the 90th percentile
 * of the norms seen, kept within ½ to 10 times their average (the range in which Pascanu,
 * Mikolov & Bengio (2013, §3.2) found training to converge). The average leaves out the top 1%
 * of the norms, so that a few explosions do not set the scale.
 */
export function clipSummary(norms: ArrayLike<number>, threshold: number | null): ClipSummary {
  const finite = Array.from(norms)
    .filter((x) => Number.isFinite(x))
    .sort((a, b) => a - b);
  const n = finite.length;
  const q = (p: number) => (n === 0 ? 0 : finite[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))]);
  // the average norm, leaving out the top 1% so that one explosion does not set the scale
  const kept = finite.slice(0, Math.max(1, Math.ceil(0.99 * n)));
  const mean = n === 0 ? 0 : kept.reduce((s, x) => s + x, 0) / kept.length;
  const clipped = threshold === null ? 0 : finite.filter((x) => isClipped(x, threshold)).length;
  const low = 0.5 * mean;
  const high = 10 * mean;
  return {
    threshold,
    steps: norms.length,
    clippedShare: n === 0 ? 0 : clipped / n,
    mean,
    quantiles: { p10: q(0.1), p50: q(0.5), p90: q(0.9), p99: q(0.99), max: n === 0 ? 0 : finite[n - 1] },
    suggested: { low, high, pick: Math.min(high, Math.max(low, q(0.9))) },
  };
}

/**
 * Watches pre-clip gradient norms for explosions: a norm more than `factor` times the median of
 * the last `window` norms. Returns a warning in words, or null.
 */
export class ExplosionWatch {
  private readonly recent: number[] = [];
  constructor(
    readonly factor = 10,
    readonly window = 50,
  ) {}

  /** Feeds the norm of step `step`; returns a warning when it jumps. */
  observe(step: number, norm: number): string | null {
    let warning: string | null = null;
    if (this.recent.length >= Math.min(10, this.window)) {
      const sorted = [...this.recent].sort((a, b) => a - b);
      const median = sorted[sorted.length >> 1];
      if (!Number.isFinite(norm) || (median > 0 && norm > this.factor * median)) {
        warning = `exploding gradient at step ${step}: norm ${norm.toPrecision(3)} is ${(norm / median).toFixed(0)}x the recent median ${median.toPrecision(3)}`;
      }
    }
    if (Number.isFinite(norm)) {
      this.recent.push(norm);
      if (this.recent.length > this.window) this.recent.shift();
    }
    return warning;
  }
}
