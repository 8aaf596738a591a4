// A register-tiled GEMM in plain TypeScript: the fast JavaScript path until WebAssembly SIMD
// kernels arrive, and their fallback after. Most of the training time is spent here.
//
// Each output block of 3x4 is computed in 12 local accumulators (7 number loads per 12
// multiply-adds; 3x4 keeps accumulators and operands in the 16 vector registers of x86-64,
// where 4x4 spills: measured 5.3 vs 4.7 GFLOP/s on a 2040x128x128 A·B^T). Two loop nests:
// A·B^T reads both operands along contiguous k (the forward's x W^T), and op(A)·B reads rows
// of B along contiguous j with A strided (the backward's dY W and dY^T X). The rare A^T·B^T
// packs A^T into a reusable scratch buffer first.
// Each C element is one float64 sum over k, added to beta*C once, as in the reference gemm.

import type { Float } from "./dtype.js";

// scratch for packed operands, one pair per element type, grown on demand and then reused
const scratch = {
  f32: [new Float32Array(0)],
  f64: [new Float64Array(0)],
};

function scratchFor(like: Float, slot: 0, n: number): Float {
  const pool = like instanceof Float64Array ? scratch.f64 : scratch.f32;
  if (pool[slot].length < n) pool[slot] = like instanceof Float64Array ? new Float64Array(n) : new Float32Array(n);
  return pool[slot];
}

/** dst (R x Cc, row-major) = transpose of the Cc x R block of src at off with row stride ld. */
function packTransposed(dst: Float, src: Float, off: number, ld: number, R: number, Cc: number): void {
  for (let c = 0; c < Cc; c++) {
    const s = off + c * ld;
    for (let r = 0; r < R; r++) dst[r * Cc + c] = src[s + r];
  }
}

export function gemmTiled(
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
): void {
  if (M === 0 || N === 0) return;
  if (!transA && transB) return gemmNT(M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc);
  if (transA && transB) {
    // rare: pack A^T (M x K) and fall into NT
    const P = scratchFor(A, 0, M * K);
    packTransposed(P, A, aOff, lda, M, K);
    return gemmNT(M, N, K, alpha, P, 0, K, B, bOff, ldb, beta, C, cOff, ldc);
  }
  // NN and TN: rows of B are contiguous along j; A is read with strides (i: sAi, k: sAk)
  return gemmStridedA(M, N, K, alpha, A, aOff, transA ? 1 : lda, transA ? lda : 1, B, bOff, ldb, beta, C, cOff, ldc);
}

/**
 * C = alpha * op(A) · B + beta * C with B (K x N, row stride ldb) and op(A)(i, k) = A[aOff + i*sAi + k*sAk]:
 * the NN case (sAi = lda, sAk = 1) and the TN case (sAi = 1, sAk = lda), 3x4 register tiles.
 */
function gemmStridedA(
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: Float,
  aOff: number,
  sAi: number,
  sAk: number,
  B: Float,
  bOff: number,
  ldb: number,
  beta: number,
  C: Float,
  cOff: number,
  ldc: number,
): void {
  const M3 = M - (M % 3);
  const N4 = N - (N % 4);
  for (let i = 0; i < M3; i += 3) {
    const a0 = aOff + i * sAi;
    const a1 = a0 + sAi;
    const a2 = a1 + sAi;
    const c0 = cOff + i * ldc;
    for (let j = 0; j < N4; j += 4) {
      let s00 = 0,
        s01 = 0,
        s02 = 0,
        s03 = 0;
      let s10 = 0,
        s11 = 0,
        s12 = 0,
        s13 = 0;
      let s20 = 0,
        s21 = 0,
        s22 = 0,
        s23 = 0;
      for (let k = 0, ak = 0, b = bOff + j; k < K; k++, ak += sAk, b += ldb) {
        const x0 = A[a0 + ak],
          x1 = A[a1 + ak],
          x2 = A[a2 + ak];
        const y0 = B[b],
          y1 = B[b + 1],
          y2 = B[b + 2],
          y3 = B[b + 3];
        s00 += x0 * y0;
        s01 += x0 * y1;
        s02 += x0 * y2;
        s03 += x0 * y3;
        s10 += x1 * y0;
        s11 += x1 * y1;
        s12 += x1 * y2;
        s13 += x1 * y3;
        s20 += x2 * y0;
        s21 += x2 * y1;
        s22 += x2 * y2;
        s23 += x2 * y3;
      }
      store4(C, c0 + j, alpha, beta, s00, s01, s02, s03);
      store4(C, c0 + ldc + j, alpha, beta, s10, s11, s12, s13);
      store4(C, c0 + 2 * ldc + j, alpha, beta, s20, s21, s22, s23);
    }
    for (let j = N4; j < N; j++) {
      let s0 = 0,
        s1 = 0,
        s2 = 0;
      for (let k = 0, ak = 0, b = bOff + j; k < K; k++, ak += sAk, b += ldb) {
        const y = B[b];
        s0 += A[a0 + ak] * y;
        s1 += A[a1 + ak] * y;
        s2 += A[a2 + ak] * y;
      }
      store1(C, c0 + j, alpha, beta, s0);
      store1(C, c0 + ldc + j, alpha, beta, s1);
      store1(C, c0 + 2 * ldc + j, alpha, beta, s2);
    }
  }
  for (let i = M3; i < M; i++) {
    const a0 = aOff + i * sAi;
    const c0 = cOff + i * ldc;
    for (let j = 0; j < N4; j += 4) {
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        s3 = 0;
      for (let k = 0, ak = 0, b = bOff + j; k < K; k++, ak += sAk, b += ldb) {
        const x = A[a0 + ak];
        s0 += x * B[b];
        s1 += x * B[b + 1];
        s2 += x * B[b + 2];
        s3 += x * B[b + 3];
      }
      store4(C, c0 + j, alpha, beta, s0, s1, s2, s3);
    }
    for (let j = N4; j < N; j++) {
      let s = 0;
      for (let k = 0, ak = 0, b = bOff + j; k < K; k++, ak += sAk, b += ldb) s += A[a0 + ak] * B[b];
      store1(C, c0 + j, alpha, beta, s);
    }
  }
}

/** C = alpha * A · B^T + beta * C with A (M x K, row stride lda) and B (N x K, row stride ldb). */
function gemmNT(
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
): void {
  const M3 = M - (M % 3);
  const N4 = N - (N % 4);
  for (let i = 0; i < M3; i += 3) {
    const a0 = aOff + i * lda;
    const a1 = a0 + lda;
    const a2 = a1 + lda;
    const c0 = cOff + i * ldc;
    for (let j = 0; j < N4; j += 4) {
      const b0 = bOff + j * ldb;
      const b1 = b0 + ldb;
      const b2 = b1 + ldb;
      const b3 = b2 + ldb;
      let s00 = 0,
        s01 = 0,
        s02 = 0,
        s03 = 0;
      let s10 = 0,
        s11 = 0,
        s12 = 0,
        s13 = 0;
      let s20 = 0,
        s21 = 0,
        s22 = 0,
        s23 = 0;
      for (let k = 0; k < K; k++) {
        const x0 = A[a0 + k],
          x1 = A[a1 + k],
          x2 = A[a2 + k];
        const y0 = B[b0 + k],
          y1 = B[b1 + k],
          y2 = B[b2 + k],
          y3 = B[b3 + k];
        s00 += x0 * y0;
        s01 += x0 * y1;
        s02 += x0 * y2;
        s03 += x0 * y3;
        s10 += x1 * y0;
        s11 += x1 * y1;
        s12 += x1 * y2;
        s13 += x1 * y3;
        s20 += x2 * y0;
        s21 += x2 * y1;
        s22 += x2 * y2;
        s23 += x2 * y3;
      }
      store4(C, c0 + j, alpha, beta, s00, s01, s02, s03);
      store4(C, c0 + ldc + j, alpha, beta, s10, s11, s12, s13);
      store4(C, c0 + 2 * ldc + j, alpha, beta, s20, s21, s22, s23);
    }
    // right edge: the last N % 4 columns, three rows at a time
    for (let j = N4; j < N; j++) {
      const b0 = bOff + j * ldb;
      let s0 = 0,
        s1 = 0,
        s2 = 0;
      for (let k = 0; k < K; k++) {
        const y = B[b0 + k];
        s0 += A[a0 + k] * y;
        s1 += A[a1 + k] * y;
        s2 += A[a2 + k] * y;
      }
      store1(C, c0 + j, alpha, beta, s0);
      store1(C, c0 + ldc + j, alpha, beta, s1);
      store1(C, c0 + 2 * ldc + j, alpha, beta, s2);
    }
  }
  // bottom edge: the last M % 3 rows, one row by four columns
  for (let i = M3; i < M; i++) {
    const a0 = aOff + i * lda;
    const c0 = cOff + i * ldc;
    for (let j = 0; j < N4; j += 4) {
      const b0 = bOff + j * ldb;
      const b1 = b0 + ldb;
      const b2 = b1 + ldb;
      const b3 = b2 + ldb;
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        s3 = 0;
      for (let k = 0; k < K; k++) {
        const x = A[a0 + k];
        s0 += x * B[b0 + k];
        s1 += x * B[b1 + k];
        s2 += x * B[b2 + k];
        s3 += x * B[b3 + k];
      }
      store4(C, c0 + j, alpha, beta, s0, s1, s2, s3);
    }
    for (let j = N4; j < N; j++) {
      const b0 = bOff + j * ldb;
      let s = 0;
      for (let k = 0; k < K; k++) s += A[a0 + k] * B[b0 + k];
      store1(C, c0 + j, alpha, beta, s);
    }
  }
}

function store1(C: Float, c: number, alpha: number, beta: number, s: number): void {
  C[c] = beta === 0 ? alpha * s : alpha * s + beta * C[c];
}

function store4(C: Float, c: number, alpha: number, beta: number, s0: number, s1: number, s2: number, s3: number): void {
  if (beta === 0) {
    C[c] = alpha * s0;
    C[c + 1] = alpha * s1;
    C[c + 2] = alpha * s2;
    C[c + 3] = alpha * s3;
  } else {
    C[c] = alpha * s0 + beta * C[c];
    C[c + 1] = alpha * s1 + beta * C[c + 1];
    C[c + 2] = alpha * s2 + beta * C[c + 2];
    C[c + 3] = alpha * s3 + beta * C[c + 3];
  }
}
