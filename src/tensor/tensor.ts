// A tensor is a flat row-major buffer plus its shape, nothing more: the public API passes these,
// hot kernels take the buffers with explicit offsets and sizes.

import { alloc, fromArray, type DType, type Float } from "./dtype.js";

/** A row-major view: `data[i0*s0 + i1*s1 + ...]` with `shape = [d0, d1, ...]`. */
export interface Tensor {
  readonly data: Float;
  readonly shape: readonly number[];
}

/** Number of elements of a shape. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * A tensor from nested-free flat values and a shape.
 * @example
 * tensor([1, 2, 3, 4, 5, 6], [2, 3]).shape // => [2, 3]
 */
export function tensor(values: ArrayLike<number>, shape: readonly number[], dtype: DType = "float32"): Tensor {
  const n = numel(shape);
  if (values.length !== n) {
    throw new RangeError(`tensor: ${values.length} values do not fill shape [${shape.join(", ")}] (${n} elements)`);
  }
  return { data: fromArray(dtype, values), shape: [...shape] };
}

/** A zero tensor of `shape`. */
export function zeros(shape: readonly number[], dtype: DType = "float32"): Tensor {
  return { data: alloc(dtype, numel(shape)), shape: [...shape] };
}

/** Throws a RangeError naming `what` unless `t` has exactly `shape`. */
export function checkShape(what: string, t: Tensor, shape: readonly number[]): void {
  const ok = t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]) && t.data.length === numel(shape);
  if (!ok) {
    throw new RangeError(`${what}: expected shape [${shape.join(", ")}], got [${t.shape.join(", ")}]`);
  }
}
