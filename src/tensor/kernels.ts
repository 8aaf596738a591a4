// The Kernels interface: every numeric loop that nn/ and train/ run in bulk goes through one of
// these, so a faster implementation (WebAssembly SIMD) can replace the plain reference one
// without touching the layers. All buffers are flat and row-major; every argument that indexes a
// buffer has an explicit offset, so one buffer serves many views and no call needs a subarray
// (which would allocate inside the time loop). Outputs come first, then inputs, then sizes.
// All buffers of one call share one dtype.

import type { Float, Ids } from "./dtype.js";

/**
 * A product whose right operand a kernel set packed beforehand (`Kernels.gemmPacked`,
 * `gemmPackedNT`): C (M×N, row stride `ldc`) = alpha · A (M×K, row stride `lda`) · the packed
 * operand + beta · C; `beta` 0 overwrites C.
 */
export type PackedGemm = (
  this: Kernels,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: Float,
  aOff: number,
  lda: number,
  Bp: Float,
  beta: number,
  C: Float,
  cOff: number,
  ldc: number,
) => void;

/**
 * One implementation of every bulk numeric loop (GEMM, the fused cell kernels, elementwise ops,
 * reductions, the optimizers' update rules): `jsKernels` (reference), `jsTiledKernels`, and the
 * WebAssembly SIMD set (`wasmKernels()`). A model computes with its store's set.
 */
export interface Kernels {
  /** A short name for reports and benchmarks, e.g. `"js"`. */
  readonly name: string;

  /**
   * A zeroed float32 buffer where these kernels read it fastest (the WebAssembly set: its
   * shared memory). Absent: plain `new Float32Array(n)`. A model's store allocates through it.
   */
  f32?(n: number): Float32Array;

  /**
   * General matrix multiply, BLAS-style on row-major buffers:
   * `C = alpha * op(A) * op(B) + beta * C`, where op(A) is M×K (A is M×K, or K×M when `transA`),
   * op(B) is K×N (B is K×N, or N×K when `transB`) and C is M×N. `lda`, `ldb`, `ldc` are the row
   * strides. When `beta` is 0, C is overwritten (NaN in C does not leak through).
   */
  gemm(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: Float,
    aOff: number,
    lda: number,
    B: Float,
    bOff: number,
    ldb: number,
    beta: number,
    C: Float,
    cOff: number,
    ldc: number,
  ): void;

  /**
   * Floats of a buffer that holds a K×N matrix packed by `packB` (at least K*N; the WebAssembly
   * set pads the columns to a multiple of 8).
   */
  packedSize(K: number, N: number): number;
  /**
   * Packs op(B) (K×N; B is K×N, or N×K when `transB`, row stride `ldb`) into `dst`
   * (`packedSize(K, N)` floats) in the layout `gemmPacked` reads fastest: a recurrent weight,
   * used at every time step, is packed once per pass instead of at every step.
   */
  packB(transB: boolean, K: number, N: number, B: Float, bOff: number, ldb: number, dst: Float): void;
  /**
   * `C = alpha * A · op(B) + beta * C` with op(B) (K×N) packed by this set's `packB` into `Bp`;
   * A is M×K (row stride `lda`), C is M×N (row stride `ldc`). `beta` 0 overwrites C.
   */
  gemmPacked: PackedGemm;

  /**
   * Packs B (N×K, row stride `ldb`: the right operand of `A · B^T`) into `dst` (N*K floats) in
   * the layout `gemmPackedNT` reads fastest: a recurrent weight multiplied by a batch of fewer
   * than 4 rows at every step (generation), packed once for many steps.
   */
  packNT(N: number, K: number, B: Float, bOff: number, ldb: number, dst: Float): void;
  /**
   * `C = alpha * A · B^T + beta * C` with B (N×K) packed by this set's `packNT` into `Bp`; A is
   * M×K (row stride `lda`), C is M×N (row stride `ldc`). The same bits as
   * `gemm(false, true, ...)` on the unpacked B; built for M < 4 (it reads B once per row of A).
   */
  gemmPackedNT: PackedGemm;

  /** `y[yOff+i] = x[xOff+i]` for i < n. */
  copy(y: Float, yOff: number, x: Float, xOff: number, n: number): void;
  /** `y[yOff+i] += alpha * x[xOff+i]` for i < n. */
  axpy(y: Float, yOff: number, alpha: number, x: Float, xOff: number, n: number): void;
  /** `x[xOff+i] *= alpha` for i < n. */
  scale(x: Float, xOff: number, alpha: number, n: number): void;

  /** `y[yOff+i] = a[aOff+i] * b[bOff+i]` for i < n (y may alias a or b). */
  mul(y: Float, yOff: number, a: Float, aOff: number, b: Float, bOff: number, n: number): void;

  /** Row gather: `out[n, :] = table[ids[n], :]` for n < N, rows of width W (an embedding lookup). */
  gatherRows(out: Float, outOff: number, table: Float, ids: Ids, idsOff: number, N: number, W: number): void;
  /** Row scatter-add: `table[ids[n], :] += src[n, :]` for n < N, rows of width W (its backward). */
  scatterAddRows(table: Float, src: Float, srcOff: number, ids: Ids, idsOff: number, N: number, W: number): void;

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
   * One LSTM step's elementwise work over B rows (gate order i, f, g, o, as PyTorch):
   * `gates` (B, 4H) holds the pre-activations on entry and [σ(i), σ(f), tanh(g), σ(o)] on exit;
   * `c = f*cPrev + i*g`, `tc = tanh(c)`, `h = o*tc`, each (B, H).
   */
  lstmCellForward(
    gates: Float,
    gOff: number,
    c: Float,
    cOff: number,
    tc: Float,
    tcOff: number,
    h: Float,
    hOff: number,
    cPrev: Float,
    cpOff: number,
    B: number,
    H: number,
  ): void;
  /**
   * Backward of one LSTM step: from dh (B, H), the gradient of h_t, and dcNext (B, H), the
   * gradient of c_t arriving from step t+1, writes dgates (B, 4H), the gradient of the gate
   * pre-activations, and dcPrev (B, H), the gradient of c_{t-1} (must not alias dcNext).
   */
  lstmCellBackward(
    dgates: Float,
    dgOff: number,
    dcPrev: Float,
    dcpOff: number,
    dh: Float,
    dhOff: number,
    dcNext: Float,
    dcnOff: number,
    gates: Float,
    gOff: number,
    tc: Float,
    tcOff: number,
    cPrev: Float,
    cpOff: number,
    B: number,
    H: number,
  ): void;
  /**
   * One GRU step's elementwise work over B rows (gate order r, z, n, as PyTorch):
   * from gi (B, 3H) = x W_ih^T + b_ih and gh (B, 3H) = h W_hh^T + b_hh,
   * `r = σ(gi_r + gh_r)`, `z = σ(gi_z + gh_z)`, `n = tanh(gi_n + r*gh_n)`, `h = (1-z)*n + z*hPrev`.
   * Writes gates (B, 3H) = [r, z, n] (may alias gi), ghn (B, H) = gh_n (kept for the backward) and h.
   */
  gruCellForward(
    gates: Float,
    gOff: number,
    ghn: Float,
    ghnOff: number,
    h: Float,
    hOff: number,
    gi: Float,
    giOff: number,
    gh: Float,
    ghOff: number,
    hPrev: Float,
    hpOff: number,
    B: number,
    H: number,
  ): void;
  /**
   * Backward of one GRU step from dh (B, H): writes dgi (B, 3H), the gradient of gi (may alias
   * gates), dgh (B, 3H), the gradient of gh, and dhPrev (B, H) = dh*z, the direct part of the
   * gradient of hPrev (the caller adds dgh W_hh).
   */
  gruCellBackward(
    dgi: Float,
    dgiOff: number,
    dgh: Float,
    dghOff: number,
    dhPrev: Float,
    dhpOff: number,
    dh: Float,
    dhOff: number,
    gates: Float,
    gOff: number,
    ghn: Float,
    ghnOff: number,
    hPrev: Float,
    hpOff: number,
    B: number,
    H: number,
  ): void;

  /** The sum of squares of x[xOff .. xOff+n), accumulated in float64 on the reference path. */
  sumSquares(x: Float, xOff: number, n: number): number;

  // Optimizer updates over n elements from offset off of the parameters p, gradients g and the
  // optimizer's state buffers (PyTorch's update rules; train/optim.ts computes the scalars).

  /** SGD: d = g + wd·p; with momentum buf = first ? d : μ·buf + (1-τ)·d, d = nesterov ? d + μ·buf : buf; p -= lr·d. */
  sgdStep(
    p: Float,
    g: Float,
    buf: Float | null,
    off: number,
    n: number,
    lr: number,
    momentum: number,
    dampening: number,
    weightDecay: number,
    nesterov: boolean,
    first: boolean,
  ): void;
  /** Adagrad: d = g + wd·p; sum += d²; p -= clr·d / (sqrt(sum) + eps). */
  adagradStep(p: Float, g: Float, sum: Float, off: number, n: number, clr: number, weightDecay: number, eps: number): void;
  /**
   * RMSprop: d = g + wd·p; v = α·v + (1-α)·d²; avg = sqrt(v - m²) + eps with m = α·m + (1-α)·d
   * when `gradAvg` is given, else sqrt(v) + eps; with `buf`: buf = μ·buf + d/avg, p -= lr·buf; else p -= lr·d/avg.
   */
  rmspropStep(
    p: Float,
    g: Float,
    squareAvg: Float,
    gradAvg: Float | null,
    buf: Float | null,
    off: number,
    n: number,
    lr: number,
    alpha: number,
    eps: number,
    weightDecay: number,
    momentum: number,
  ): void;
  /**
   * Adam / AdamW: p *= decay (AdamW: 1 - lr·wd, else 1); d = g + l2·p; m = β1·m + (1-β1)·d;
   * v = β2·v + (1-β2)·d²; with `maxV` v̂ = max(v̂, v) (AMSGrad); p -= stepSize·m / (sqrt(v̂)/bc2Sqrt + eps).
   */
  adamStep(
    p: Float,
    g: Float,
    m: Float,
    v: Float,
    maxV: Float | null,
    off: number,
    n: number,
    stepSize: number,
    beta1: number,
    beta2: number,
    eps: number,
    l2: number,
    decay: number,
    bc2Sqrt: number,
  ): void;

  /**
   * Fused, numerically stable softmax + cross-entropy over N rows of V logits:
   * `probs[i] = softmax(logits[i])`, and returns `sum_i (logsumexp(logits[i]) - logits[i, t_i])`
   * over the rows whose target is not `ignoreIndex` (those rows get probs too, but add no loss).
   */
  softmaxXentForward(probs: Float, pOff: number, logits: Float, lOff: number, targets: Ids, tOff: number, N: number, V: number, ignoreIndex: number): number;
  /** `dlogits[i] = scale * (probs[i] - onehot(t_i))`, and 0 for rows whose target is `ignoreIndex` (dlogits may alias probs). */
  softmaxXentBackward(
    dlogits: Float,
    dOff: number,
    probs: Float,
    pOff: number,
    targets: Ids,
    tOff: number,
    N: number,
    V: number,
    ignoreIndex: number,
    scale: number,
  ): void;
}
