// Finite-difference gradient checks: the independent reference every backward pass is held to.
// Centred differences, compared with the analytic gradient by the relative error
// |a - n| / max(|a|, |n|, floor); the floor guards values that are zero up to rounding.
// The default is the fourth-order centred stencil
//   f'(w) ≈ (f(w-2ε) - 8 f(w-ε) + 8 f(w+ε) - f(w+2ε)) / 12ε
// with ε = 1e-4: its truncation error is O(ε⁴) and its rounding error about 1e-16·|f|/ε, so in
// float64 the reference is good to ~1e-12·|f| (the two-point rule, O(ε²), manages ~1e-10·|f|).
// Meant for float64 models (float32 rounding swamps the differences).

import type { Float } from "../tensor/dtype.js";
import { Rng } from "../tensor/rng.js";

/** One buffer to check: its values (perturbed in place and restored) and its analytic gradient. */
export interface GradCheckTarget {
  name: string;
  value: Float;
  grad: Float;
}

/** Options of gradCheck. */
export interface GradCheckOptions {
  /** Step ε. Default 1e-4 for order 4, 1e-6 for order 2. */
  eps?: number;
  /** Stencil: 2 for (f(w+ε) - f(w-ε)) / 2ε, 4 for the five-point rule. Default 4. */
  order?: 2 | 4;
  /** Check at most this many elements per buffer, chosen at random (all when omitted). */
  maxPerTarget?: number;
  /** Seed for the choice of elements. Default 0. */
  seed?: number;
  /**
   * Denominator floor of the relative error. Default 1e-5: gradients smaller than that are held
   * to an absolute error of maxRelError·1e-5 (1e-11 for a 1e-6 check), since the stencil's own
   * rounding noise is ~1e-12·|f| and a gradient that is exactly 0 (a dead relu unit, an ignored
   * target) would otherwise be judged on noise alone.
   */
  floor?: number;
}

/** The worst element found. */
export interface GradCheckResult {
  maxRelError: number;
  name: string;
  index: number;
  analytic: number;
  numeric: number;
  /** Elements checked. */
  checked: number;
}

/**
 * Compares each target's `grad` (already computed by the caller's backward) with centred finite
 * differences of `loss()`, which must recompute the loss from the current values without side
 * effects on them. Perturbs `value` in place and restores it bit for bit.
 * @example
 * const r = gradCheck(() => forwardLoss(), [{ name: "w", value: w, grad: dw }]);
 * r.maxRelError < 1e-6 // => true for a correct backward in float64
 */
export function gradCheck(loss: () => number, targets: readonly GradCheckTarget[], options: GradCheckOptions = {}): GradCheckResult {
  const order = options.order ?? 4;
  const eps = options.eps ?? (order === 4 ? 1e-4 : 1e-6);
  const floor = options.floor ?? 1e-5;
  const rng = new Rng(options.seed ?? 0);
  const worst: GradCheckResult = { maxRelError: 0, name: "", index: -1, analytic: 0, numeric: 0, checked: 0 };
  for (const t of targets) {
    const n = t.value.length;
    let idx = Array.from({ length: n }, (_, i) => i);
    if (options.maxPerTarget !== undefined && n > options.maxPerTarget) {
      for (let i = n - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [idx[i], idx[j]] = [idx[j], idx[i]];
      }
      idx = idx.slice(0, options.maxPerTarget);
    }
    const analytic = Float64Array.from(t.grad); // the loss closure may overwrite grads
    for (const i of idx) {
      const v = t.value[i];
      const at = (d: number): number => {
        t.value[i] = v + d;
        return loss();
      };
      const num = order === 4 ? (at(-2 * eps) - 8 * at(-eps) + 8 * at(eps) - at(2 * eps)) / (12 * eps) : (at(eps) - at(-eps)) / (2 * eps);
      t.value[i] = v;
      const a = analytic[i];
      const rel = Math.abs(a - num) / Math.max(Math.abs(a), Math.abs(num), floor);
      worst.checked++;
      if (!(rel <= worst.maxRelError)) Object.assign(worst, { maxRelError: rel, name: t.name, index: i, analytic: a, numeric: num });
    }
  }
  return worst;
}
