import { describe, expect, it } from "vitest";
import { jsKernels, jsTiledKernels } from "./js-kernels.js";
import { Rng } from "./rng.js";

// every kernel set runs the same checks; the wasm set joins this list when it exists
const kernelSets = [jsKernels, jsTiledKernels];

function randArray(rng: Rng, n: number): Float64Array {
  return Float64Array.from({ length: n }, () => rng.uniformRange(-1, 1));
}

/** The definition, element by element: C = alpha op(A) op(B) + beta C. */
function naiveGemm(
  tA: boolean,
  tB: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: Float64Array,
  aOff: number,
  lda: number,
  B: Float64Array,
  bOff: number,
  ldb: number,
  beta: number,
  C: Float64Array,
  cOff: number,
  ldc: number,
): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        const a = tA ? A[aOff + k * lda + i] : A[aOff + i * lda + k];
        const b = tB ? B[bOff + j * ldb + k] : B[bOff + k * ldb + j];
        s += a * b;
      }
      C[cOff + i * ldc + j] = alpha * s + (beta === 0 ? 0 : beta * C[cOff + i * ldc + j]);
    }
  }
}

describe.each(kernelSets)("kernels: $name", (k) => {
  // awkward sizes (1, primes, not multiples of 4) exercise every edge of a tiled implementation
  const shapes = [
    [1, 1, 1],
    [3, 5, 7],
    [8, 4, 16],
    [13, 1, 9],
    [2, 17, 3],
    [33, 31, 29],
  ];
  for (const tA of [false, true]) {
    for (const tB of [false, true]) {
      for (const [M, N, K] of shapes) {
        it(`gemm transA=${tA} transB=${tB} ${M}x${N}x${K}, offsets, padded leading dims, alpha and beta`, () => {
          const rng = new Rng(M * 1000 + N * 10 + K);
          const lda = (tA ? M : K) + 2;
          const ldb = (tB ? K : N) + 1;
          const ldc = N + 3;
          const A = randArray(rng, 5 + lda * (tA ? K : M));
          const B = randArray(rng, 7 + ldb * (tB ? N : K));
          for (const [alpha, beta] of [
            [1, 0],
            [0.5, 1],
            [-2, 0.25],
          ]) {
            const C0 = randArray(rng, 2 + ldc * M);
            const expected = C0.slice();
            const actual = C0.slice();
            naiveGemm(tA, tB, M, N, K, alpha, A, 5, lda, B, 7, ldb, beta, expected, 2, ldc);
            k.gemm(tA, tB, M, N, K, alpha, A, 5, lda, B, 7, ldb, beta, actual, 2, ldc);
            for (let i = 0; i < actual.length; i++) expect(actual[i]).toBeCloseTo(expected[i], 12);
          }
        });
      }
    }
  }

  it("gemm with beta 0 overwrites NaN in C (BLAS semantics)", () => {
    const C = new Float64Array([NaN, NaN]);
    k.gemm(false, false, 1, 2, 1, 1, new Float64Array([2]), 0, 1, new Float64Array([3, 4]), 0, 2, 0, C, 0, 2);
    expect([...C]).toEqual([6, 8]);
  });

  it("gemm works on float32 buffers", () => {
    // [1 2] · [[3], [4]] = 11
    const C = new Float32Array(1);
    k.gemm(false, false, 1, 1, 2, 1, new Float32Array([1, 2]), 0, 2, new Float32Array([3, 4]), 0, 1, 0, C, 0, 1);
    expect(C[0]).toBe(11);
  });

  it("elementwise activations and their backward from the output", () => {
    const x = new Float64Array([-2, -0.5, 0, 0.5, 3]);
    const y = new Float64Array(5);
    const dx = new Float64Array(5);
    const dy = new Float64Array([1, 2, 3, 4, 5]);
    k.tanhForward(y, 0, x, 0, 5);
    k.tanhBackward(dx, 0, dy, 0, y, 0, 5);
    x.forEach((v, i) => {
      expect(y[i]).toBeCloseTo(Math.tanh(v), 15);
      expect(dx[i]).toBeCloseTo(dy[i] * (1 - Math.tanh(v) ** 2), 15);
    });
    k.sigmoidForward(y, 0, x, 0, 5);
    k.sigmoidBackward(dx, 0, dy, 0, y, 0, 5);
    x.forEach((v, i) => {
      const s = 1 / (1 + Math.exp(-v));
      expect(y[i]).toBeCloseTo(s, 15);
      expect(dx[i]).toBeCloseTo(dy[i] * s * (1 - s), 15);
    });
    k.reluForward(y, 0, x, 0, 5);
    k.reluBackward(dx, 0, dy, 0, y, 0, 5);
    expect([...y]).toEqual([0, 0, 0, 0.5, 3]);
    expect([...dx]).toEqual([0, 0, 0, 4, 5]); // relu'(0) = 0, as in PyTorch
  });

  it("addRowVector broadcasts over rows and sumRows accumulates column sums", () => {
    const C = new Float64Array([1, 2, 3, 4, 5, 6]); // 2x3
    k.addRowVector(C, 0, new Float64Array([10, 20, 30]), 0, 2, 3);
    expect([...C]).toEqual([11, 22, 33, 14, 25, 36]);
    const out = new Float64Array([1, 1, 1]);
    k.sumRows(out, 0, C, 0, 2, 3);
    expect([...out]).toEqual([26, 48, 70]); // 1 + 11 + 14, 1 + 22 + 25, 1 + 33 + 36
  });

  it("softmax cross-entropy is stable for huge logits and skips ignored rows", () => {
    // row 0: logits [1000, 0]: loss = log(1 + e^-1000) ≈ 0 for target 0, ≈ 1000 for target 1
    const logits = new Float64Array([1000, 0, 1000, 0, 5, 5]);
    const probs = new Float64Array(6);
    const targets = Int32Array.from([0, 1, -100]);
    const loss = k.softmaxXentForward(probs, 0, logits, 0, targets, 0, 3, 2, -100);
    expect(loss).toBeCloseTo(1000, 9);
    expect([...probs.subarray(4)]).toEqual([0.5, 0.5]);
    const d = new Float64Array(6);
    k.softmaxXentBackward(d, 0, probs, 0, targets, 0, 3, 2, -100, 0.5);
    expect([...d]).toEqual([0, 0, 0.5, -0.5, 0, 0]); // 0.5 * (p - onehot); ignored row zero
  });
});
