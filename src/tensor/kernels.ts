// The Kernels interface: every numeric loop that nn/ and train/ run in bulk goes through one of
// these, so a faster implementation (WebAssembly SIMD) can replace the plain reference one
// without touching the layers. All buffers are flat and row-major; every argument that indexes a
// buffer has an explicit offset, so one buffer serves many views and no call needs a subarray
// (which would allocate inside the time loop). Outputs come first, then inputs, then sizes.
// All buffers of one call share one dtype.

import type { Float, Ids } from "./dtype.js";

export interface Kernels {
  /** A short name for reports and benchmarks, e.g. `"js"`. */
  readonly name: string;

  /**
   * General matrix multiply, BLAS-style on row-major buffers:
   * `C = alpha * op(A) * op(B) + beta * C`, where op(A) is M×K (A is M×K, or K×M when `transA`),
   * op(B) is K×N (B is K×N, or N×K when `transB`) and C is M×N. `lda`, `ldb`, `ldc` are the row
   * strides. When `beta` is 0, C is overwritten (NaN in C does not leak through).
   */
  gemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number,
    alpha: number, A: Float, aOff: number, lda: number,
    B: Float, bOff: number, ldb: number,
    beta: number, C: Float, cOff: number, ldc: number,
  ): void;

  /** `y[yOff+i] = x[xOff+i]` for i < n. */
  copy(y: Float, yOff: number, x: Float, xOff: number, n: number): void;
  /** `y[yOff+i] += alpha * x[xOff+i]` for i < n. */
  axpy(y: Float, yOff: number, alpha: number, x: Float, xOff: number, n: number): void;
  /** `x[xOff+i] *= alpha` for i < n. */
  scale(x: Float, xOff: number, alpha: number, n: number): void;

  /** Broadcast add over rows: `C[i, j] += v[j]` for an M×N block of C (row stride N). */
  addRowVector(C: Float, cOff: number, v: Float, vOff: number, M: number, N: number): void;
  /** Column sums, accumulated: `out[j] += sum_i X[i, j]` for an M×N block of X. */
  sumRows(out: Float, outOff: number, X: Float, xOff: number, M: number, N: number): void;

  /** `y = tanh(x)` elementwise (y may alias x). */
  tanhForward(y: Float, yOff: number, x: Float, xOff: number, n: number): void;
  /** `dx = dy * (1 - y^2)`, from the forward output y (dx may alias dy). */
  tanhBackward(dx: Float, dxOff: number, dy: Float, dyOff: number, y: Float, yOff: number, n: number): void;
  /** `y = 1 / (1 + exp(-x))` elementwise (y may alias x). */
  sigmoidForward(y: Float, yOff: number, x: Float, xOff: number, n: number): void;
  /** `dx = dy * y * (1 - y)`, from the forward output y (dx may alias dy). */
  sigmoidBackward(dx: Float, dxOff: number, dy: Float, dyOff: number, y: Float, yOff: number, n: number): void;
  /** `y = max(x, 0)` elementwise (y may alias x). */
  reluForward(y: Float, yOff: number, x: Float, xOff: number, n: number): void;
  /** `dx = dy * (y > 0)`, from the forward output y (dx may alias dy). */
  reluBackward(dx: Float, dxOff: number, dy: Float, dyOff: number, y: Float, yOff: number, n: number): void;

  /**
   * Fused, numerically stable softmax + cross-entropy over N rows of V logits:
   * `probs[i] = softmax(logits[i])`, and returns `sum_i (logsumexp(logits[i]) - logits[i, t_i])`
   * over the rows whose target is not `ignoreIndex` (those rows get probs too, but add no loss).
   */
  softmaxXentForward(
    probs: Float, pOff: number, logits: Float, lOff: number,
    targets: Ids, tOff: number, N: number, V: number, ignoreIndex: number,
  ): number;
  /** `dlogits[i] = scale * (probs[i] - onehot(t_i))`, and 0 for rows whose target is `ignoreIndex` (dlogits may alias probs). */
  softmaxXentBackward(
    dlogits: Float, dOff: number, probs: Float, pOff: number,
    targets: Ids, tOff: number, N: number, V: number, ignoreIndex: number, scale: number,
  ): void;
}
