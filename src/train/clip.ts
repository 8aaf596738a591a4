// Gradient clipping, as torch.nn.utils: clip_grad_norm_ rescales all gradients together when
// their total norm passes a threshold (Pascanu, Mikolov & Bengio 2013, "On the difficulty of
// training recurrent neural networks", Algorithm 1), clip_grad_value_ clamps each element.
// Reference: https://pytorch.org/docs/stable/generated/torch.nn.utils.clip_grad_norm_.html

import type { Float } from "../tensor/dtype.js";
import type { Kernels } from "../tensor/kernels.js";
import { jsKernels } from "../tensor/js-kernels.js";
import type { ParamStore } from "../nn/params.js";

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
        if (a > m || a !== a) m = a; // NaN wins, as in torch
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
    throw new RangeError(
      `clipGradNorm: the total norm of order ${normType} of the gradients is ${total}; ` +
        "set errorIfNonfinite to false to clip anyway",
    );
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
      if (v > clipValue) { g[i] = clipValue; n++; }
      else if (v < -clipValue) { g[i] = -clipValue; n++; }
    }
  }
  return n;
}
