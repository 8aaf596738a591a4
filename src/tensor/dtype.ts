// Numeric types and buffers. float32 is the working type; float64 exists for verification
// (finite-difference gradient checks and PyTorch parity to 1e-9). Every buffer in rnnlab is a
// flat, row-major Float32Array or Float64Array; shapes live beside it, never inside it.

import { ResourceError } from "../errors.js";

/** The element type of a buffer: `"float32"` for work, `"float64"` for verification. */
export type DType = "float32" | "float64";

/** A flat, row-major buffer of either element type. */
export type Float = Float32Array | Float64Array;

/** Integer ids (tokens, targets). */
export type Ids = Int32Array;

/**
 * A zeroed buffer of `n` elements of `dtype`; a ResourceError when it cannot be had. `f32`
 * places float32 buffers (a kernel set's allocator: see ParamStore.alloc); default plain memory.
 */
export function alloc(dtype: DType, n: number, f32?: (n: number) => Float32Array): Float {
  try {
    return dtype === "float64" ? new Float64Array(n) : f32 ? f32(n) : new Float32Array(n);
  } catch (e) {
    if (e instanceof RangeError)
      throw new ResourceError(
        `out of memory: a buffer of ${n.toLocaleString("en-US")} ${dtype} numbers cannot be allocated (${e.message}); use a smaller model, batch or window`,
      );
    throw e;
  }
}

/** A new buffer of `dtype` holding `values` (rounded to float32 when `dtype` is float32). */
export function fromArray(dtype: DType, values: ArrayLike<number>): Float {
  return dtype === "float64" ? Float64Array.from(values) : Float32Array.from(values);
}

/** The dtype of a buffer. */
export function dtypeOf(x: Float): DType {
  return x instanceof Float64Array ? "float64" : "float32";
}

/** Rounding to the working precision: `Math.fround` for float32, identity for float64. */
export function rounder(dtype: DType): (x: number) => number {
  return dtype === "float64" ? (x: number) => x : Math.fround;
}
