// The WebAssembly SIMD kernel set: the Kernels interface over the compiled AssemblyScript
// kernels (as/kernels.ts). float32 buffers that live in the shared arena go to WebAssembly; any
// other buffer (float64 for verification, or a Float32Array from elsewhere) goes to the tiled
// TypeScript kernels, so every call is correct whatever it is given. Nothing here allocates per call.

import type { Float, Ids } from "../dtype.js";
import { jsTiledKernels } from "../js-kernels.js";
import type { Kernels } from "../kernels.js";
import { Arena } from "./arena.js";
import { KERNELS_FMA_WASM_BASE64, KERNELS_WASM_BASE64 } from "./generated/kernels-wasm.js";

interface Exports {
  heapBase(): number;
  fused(): number;
  gemmNT(M: number, N: number, K: number, alpha: number, A: number, lda: number, B: number, ldb: number, beta: number, C: number, ldc: number): void;
  gemmSA(
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: number,
    sAi: number,
    sAk: number,
    B: number,
    ldb: number,
    beta: number,
    C: number,
    ldc: number,
    P: number,
  ): void;
  gemmP(
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: number,
    sAi: number,
    sAk: number,
    B: number,
    sBk: number,
    sBj: number,
    beta: number,
    C: number,
    ldc: number,
    W: number,
  ): void;
  gemmPScratch(): number;
  packNT(N: number, K: number, B: number, ldb: number, dst: number): void;
  gemmNTP(M: number, N: number, K: number, alpha: number, A: number, lda: number, Bp: number, beta: number, C: number, ldc: number): void;
  packedSize(K: number, N: number): number;
  packB(K: number, N: number, B: number, sBk: number, sBj: number, dst: number): void;
  gemmPB(
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: number,
    sAi: number,
    sAk: number,
    Bp: number,
    beta: number,
    C: number,
    ldc: number,
    W: number,
  ): void;
  copy(y: number, x: number, n: number): void;
  axpy(y: number, alpha: number, x: number, n: number): void;
  scale(x: number, alpha: number, n: number): void;
  mul(y: number, a: number, b: number, n: number): void;
  addRowVector(C: number, v: number, M: number, N: number): void;
  gatherRows(out: number, table: number, ids: number, N: number, W: number): void;
  scatterAddRows(table: number, src: number, ids: number, N: number, W: number): void;
  sumRows(out: number, X: number, M: number, N: number): void;
  tanhForward(y: number, x: number, n: number): void;
  tanhBackward(dx: number, dy: number, y: number, n: number): void;
  sigmoidForward(y: number, x: number, n: number): void;
  sigmoidBackward(dx: number, dy: number, y: number, n: number): void;
  reluForward(y: number, x: number, n: number): void;
  reluBackward(dx: number, dy: number, y: number, n: number): void;
  lstmCellForward(gates: number, c: number, tc: number, h: number, cPrev: number, B: number, H: number): void;
  lstmCellBackward(dgates: number, dcPrev: number, dh: number, dcNext: number, gates: number, tc: number, cPrev: number, B: number, H: number): void;
  gruCellForward(gates: number, ghn: number, h: number, gi: number, gh: number, hPrev: number, B: number, H: number): void;
  gruCellBackward(dgi: number, dgh: number, dhPrev: number, dh: number, gates: number, ghn: number, hPrev: number, B: number, H: number): void;
  softmaxXentForward(probs: number, logits: number, targets: number, N: number, V: number, ignoreIndex: number): number;
  sumSquares(x: number, n: number): number;
  sgdStep(p: number, g: number, buf: number, n: number, lr: number, mu: number, dampening: number, wd: number, nesterov: number, first: number): void;
  adagradStep(p: number, g: number, sum: number, n: number, clr: number, wd: number, eps: number): void;
  rmspropStep(p: number, g: number, v: number, m: number, buf: number, n: number, lr: number, alpha: number, eps: number, wd: number, mu: number): void;
  adamStep(
    p: number,
    g: number,
    m: number,
    v: number,
    vmax: number,
    n: number,
    stepSize: number,
    b1: number,
    b2: number,
    eps: number,
    l2: number,
    decay: number,
    bc2Sqrt: number,
  ): void;
  softmaxXentBackward(dlogits: number, probs: number, targets: number, N: number, V: number, ignoreIndex: number, s: number): void;
}

/** Products of at least this many rows pack both operands (gemmP): below it, packing B costs more than it saves. */
const PACK_ROWS = 16;

/** k values per block of the kernels' packed layout (PKC in as/kernels.ts). */
const PACK_KC = 128;

/**
 * C = alpha · A · B + beta · C in TypeScript, reading B(k, j) from a packed buffer at `at(k, j)`:
 * a packed operand in the kernels' memory multiplied with A or C outside it (rare; never in a loop).
 */
function packedProduct(
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: Float,
  aOff: number,
  lda: number,
  Bp: Float,
  at: (k: number, j: number) => number,
  beta: number,
  C: Float,
  cOff: number,
  ldc: number,
): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += A[aOff + i * lda + k] * Bp[at(k, j)];
      const c = cOff + i * ldc + j;
      C[c] = beta === 0 ? alpha * s : alpha * s + beta * C[c];
    }
  }
}

/** Where B(j, k) of an N×K matrix sits in the kernels' packNT layout (as/kernels.ts packNT). */
function packedNTAt(N: number, K: number, j: number, k: number): number {
  const K4 = K & ~3;
  if (j >= (N & ~3)) return j * K + k;
  const base = (j & ~3) * K;
  const r = j & 3;
  return k < K4 ? base + (k >> 2) * 16 + r * 4 + (k & 3) : base + 4 * K4 + r * (K - K4) + (k - K4);
}

/** Where op(B)(k, j) of a K×N matrix sits in the kernels' packed layout (as/kernels.ts packB). */
function packedAt(K: number, N: number, k: number, j: number): number {
  const pc = k - (k % PACK_KC);
  const kc = Math.min(PACK_KC, K - pc);
  return pc * ((N + 7) & ~7) + (j - (j & 7)) * kc + (k - pc) * 8 + (j & 7);
}

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * Which build of the WebAssembly kernels to compile: `"exact"` rounds every product before adding
 * it (the same bits on every runtime: the reference), `"fma"` uses relaxed SIMD's fused
 * multiply-add (`f32x4.relaxed_madd`) in the matrix products (one rounding instead of two; about
 * a third faster on CPUs with FMA; Chromium and Node 22 accept it, Node 20 with
 * `--experimental-wasm-relaxed-simd`), `"auto"` the fused build where the runtime accepts it, else
 * the exact one.
 */
export type WasmBuild = "auto" | "fma" | "exact";

/** The bytes of one build, or null where the runtime lacks WebAssembly, SharedArrayBuffer or the build's features. */
function validBytes(base64: string): Uint8Array<ArrayBuffer> | null {
  try {
    if (typeof WebAssembly !== "object" || typeof SharedArrayBuffer !== "function") return null;
    const bytes = decodeBase64(base64);
    return WebAssembly.validate(bytes) ? bytes : null;
  } catch {
    return null;
  }
}

/** Whether this runtime accepts the kernels' fused multiply-add build (relaxed SIMD). */
export function fusedKernelsValidate(): boolean {
  return validBytes(KERNELS_FMA_WASM_BASE64) !== null;
}

/** The compiled module, or null where the runtime lacks WebAssembly SIMD, threads or SharedArrayBuffer (or, for `"fma"`, relaxed SIMD). */
export function compileKernels(build: WasmBuild = "auto"): WebAssembly.Module | null {
  const bytes = (build !== "exact" ? validBytes(KERNELS_FMA_WASM_BASE64) : null) ?? (build !== "fma" ? validBytes(KERNELS_WASM_BASE64) : null);
  try {
    return bytes ? new WebAssembly.Module(bytes) : null;
  } catch {
    return null;
  }
}

/** The WebAssembly kernel set: Kernels plus its memory and compiled module (for worker threads). */
export type WasmKernels = Kernels & { arena: Arena; module: WebAssembly.Module };

/**
 * A wasm kernel set over `memory` (a new shared memory when omitted; pass another thread's to
 * share its buffers), or null when unsupported.
 */
export function createWasmKernels(module: WebAssembly.Module | null = compileKernels(), memory?: WebAssembly.Memory): WasmKernels | null {
  if (!module) return null;
  let a: Arena;
  let ex: Exports;
  try {
    const mem = memory ?? Arena.memory();
    ex = new WebAssembly.Instance(module, { env: { memory: mem } }).exports as unknown as Exports;
    a = new Arena(mem, ex.heapBase()); // above the module's static data, which instantiation writes
  } catch {
    return null;
  }
  const js = jsTiledKernels;
  const on = (x: Float): boolean => x instanceof Float32Array && a.holds(x);
  const at = (x: Float, off: number): number => x.byteOffset + 4 * off;
  // scratch of gemmSA's packed A strips: K-block (128) x 4 floats
  const pack = a.f32(128 * 4);
  // gemmP's packed panels, for products with many rows
  const packP = a.f32(ex.gemmPScratch());
  // A^T for the rare A^T·B^T with few rows, grown on demand
  let packT = a.f32(1024);
  // targets are Int32Array from anywhere: copied into an arena buffer grown on demand
  let ids = a.i32(1024);
  const idsAt = (t: Ids, off: number, N: number): number => {
    if (ids.length < N) ids = a.i32(N);
    for (let i = 0; i < N; i++) ids[i] = t[off + i];
    return ids.byteOffset;
  };
  return {
    name: ex.fused() ? "wasm-simd-fma" : "wasm-simd",
    arena: a,
    module,
    f32: (n) => a.f32(n),
    gemm(tA, tB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc) {
      if (M === 0 || N === 0) return;
      if (!on(A) || !on(B) || !on(C)) return js.gemm(tA, tB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc);
      if (M >= PACK_ROWS) {
        // many rows: both operands packed (the same arithmetic per element as gemmSA)
        ex.gemmP(M, N, K, alpha, at(A, aOff), tA ? 1 : lda, tA ? lda : 1, at(B, bOff), tB ? 1 : ldb, tB ? ldb : 1, beta, at(C, cOff), ldc, packP.byteOffset);
        return;
      }
      if (tA && tB) {
        // A^T·B^T: pack A^T (M x K) and multiply it by B^T
        if (packT.length < M * K) packT = a.f32(M * K);
        for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) packT[i * K + k] = A[aOff + k * lda + i];
        return ex.gemmNT(M, N, K, alpha, packT.byteOffset, K, at(B, bOff), ldb, beta, at(C, cOff), ldc);
      }
      if (!tA && tB) ex.gemmNT(M, N, K, alpha, at(A, aOff), lda, at(B, bOff), ldb, beta, at(C, cOff), ldc);
      else ex.gemmSA(M, N, K, alpha, at(A, aOff), tA ? 1 : lda, tA ? lda : 1, at(B, bOff), ldb, beta, at(C, cOff), ldc, pack.byteOffset);
    },
    // a packed buffer in this memory has the WebAssembly layout (packedAt); any other, jsKernels'
    packedSize: (K, N) => ex.packedSize(K, N),
    packB(tB, K, N, B, bOff, ldb, dst) {
      if (!on(dst)) return js.packB(tB, K, N, B, bOff, ldb, dst);
      if (on(B)) return ex.packB(K, N, at(B, bOff), tB ? 1 : ldb, tB ? ldb : 1, dst.byteOffset);
      for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) dst[packedAt(K, N, k, j)] = tB ? B[bOff + j * ldb + k] : B[bOff + k * ldb + j];
    },
    gemmPacked(M, N, K, alpha, A, aOff, lda, Bp, beta, C, cOff, ldc) {
      if (M === 0 || N === 0) return;
      if (!on(Bp)) return js.gemmPacked(M, N, K, alpha, A, aOff, lda, Bp, beta, C, cOff, ldc);
      if (on(A) && on(C)) return ex.gemmPB(M, N, K, alpha, at(A, aOff), lda, 1, Bp.byteOffset, beta, at(C, cOff), ldc, packP.byteOffset);
      packedProduct(M, N, K, alpha, A, aOff, lda, Bp, (k, j) => packedAt(K, N, k, j), beta, C, cOff, ldc);
    },
    // a buffer packed by packNT in this memory has the WebAssembly layout; any other, jsKernels' (B itself)
    packNT(N, K, B, bOff, ldb, dst) {
      if (!on(dst)) return js.packNT(N, K, B, bOff, ldb, dst);
      if (on(B)) return ex.packNT(N, K, at(B, bOff), ldb, dst.byteOffset);
      for (let j = 0; j < N; j++) for (let k = 0; k < K; k++) dst[packedNTAt(N, K, j, k)] = B[bOff + j * ldb + k];
    },
    gemmPackedNT(M, N, K, alpha, A, aOff, lda, Bp, beta, C, cOff, ldc) {
      if (M === 0 || N === 0) return;
      if (!on(Bp)) return js.gemmPackedNT(M, N, K, alpha, A, aOff, lda, Bp, beta, C, cOff, ldc);
      if (on(A) && on(C)) return ex.gemmNTP(M, N, K, alpha, at(A, aOff), lda, Bp.byteOffset, beta, at(C, cOff), ldc);
      packedProduct(M, N, K, alpha, A, aOff, lda, Bp, (k, j) => packedNTAt(N, K, j, k), beta, C, cOff, ldc);
    },
    copy(y, yOff, x, xOff, n) {
      if (on(y) && on(x)) ex.copy(at(y, yOff), at(x, xOff), n);
      else js.copy(y, yOff, x, xOff, n);
    },
    axpy(y, yOff, alpha, x, xOff, n) {
      if (on(y) && on(x)) ex.axpy(at(y, yOff), alpha, at(x, xOff), n);
      else js.axpy(y, yOff, alpha, x, xOff, n);
    },
    scale(x, xOff, alpha, n) {
      if (on(x)) ex.scale(at(x, xOff), alpha, n);
      else js.scale(x, xOff, alpha, n);
    },
    mul(y, yOff, p, pOff, q, qOff, n) {
      if (on(y) && on(p) && on(q)) ex.mul(at(y, yOff), at(p, pOff), at(q, qOff), n);
      else js.mul(y, yOff, p, pOff, q, qOff, n);
    },
    gatherRows(out, outOff, table, ids, idsOff, N, W) {
      if (on(out) && on(table)) ex.gatherRows(at(out, outOff), table.byteOffset, idsAt(ids, idsOff, N), N, W);
      else js.gatherRows(out, outOff, table, ids, idsOff, N, W);
    },
    scatterAddRows(table, src, srcOff, ids, idsOff, N, W) {
      if (on(table) && on(src)) ex.scatterAddRows(table.byteOffset, at(src, srcOff), idsAt(ids, idsOff, N), N, W);
      else js.scatterAddRows(table, src, srcOff, ids, idsOff, N, W);
    },
    addRowVector(C, cOff, v, vOff, M, N) {
      if (on(C) && on(v)) ex.addRowVector(at(C, cOff), at(v, vOff), M, N);
      else js.addRowVector(C, cOff, v, vOff, M, N);
    },
    sumRows(out, outOff, X, xOff, M, N) {
      if (on(out) && on(X)) ex.sumRows(at(out, outOff), at(X, xOff), M, N);
      else js.sumRows(out, outOff, X, xOff, M, N);
    },
    tanhForward(y, yOff, x, xOff, n) {
      if (on(y) && on(x)) ex.tanhForward(at(y, yOff), at(x, xOff), n);
      else js.tanhForward(y, yOff, x, xOff, n);
    },
    tanhBackward(dx, dxOff, dy, dyOff, y, yOff, n) {
      if (on(dx) && on(dy) && on(y)) ex.tanhBackward(at(dx, dxOff), at(dy, dyOff), at(y, yOff), n);
      else js.tanhBackward(dx, dxOff, dy, dyOff, y, yOff, n);
    },
    sigmoidForward(y, yOff, x, xOff, n) {
      if (on(y) && on(x)) ex.sigmoidForward(at(y, yOff), at(x, xOff), n);
      else js.sigmoidForward(y, yOff, x, xOff, n);
    },
    sigmoidBackward(dx, dxOff, dy, dyOff, y, yOff, n) {
      if (on(dx) && on(dy) && on(y)) ex.sigmoidBackward(at(dx, dxOff), at(dy, dyOff), at(y, yOff), n);
      else js.sigmoidBackward(dx, dxOff, dy, dyOff, y, yOff, n);
    },
    reluForward(y, yOff, x, xOff, n) {
      if (on(y) && on(x)) ex.reluForward(at(y, yOff), at(x, xOff), n);
      else js.reluForward(y, yOff, x, xOff, n);
    },
    reluBackward(dx, dxOff, dy, dyOff, y, yOff, n) {
      if (on(dx) && on(dy) && on(y)) ex.reluBackward(at(dx, dxOff), at(dy, dyOff), at(y, yOff), n);
      else js.reluBackward(dx, dxOff, dy, dyOff, y, yOff, n);
    },
    lstmCellForward(gates, gOff, c, cOff, tc, tcOff, h, hOff, cPrev, cpOff, B, H) {
      if (on(gates) && on(c) && on(tc) && on(h) && on(cPrev))
        ex.lstmCellForward(at(gates, gOff), at(c, cOff), at(tc, tcOff), at(h, hOff), at(cPrev, cpOff), B, H);
      else js.lstmCellForward(gates, gOff, c, cOff, tc, tcOff, h, hOff, cPrev, cpOff, B, H);
    },
    lstmCellBackward(dgates, dgOff, dcPrev, dcpOff, dh, dhOff, dcNext, dcnOff, gates, gOff, tc, tcOff, cPrev, cpOff, B, H) {
      if (on(dgates) && on(dcPrev) && on(dh) && on(dcNext) && on(gates) && on(tc) && on(cPrev)) {
        ex.lstmCellBackward(at(dgates, dgOff), at(dcPrev, dcpOff), at(dh, dhOff), at(dcNext, dcnOff), at(gates, gOff), at(tc, tcOff), at(cPrev, cpOff), B, H);
      } else js.lstmCellBackward(dgates, dgOff, dcPrev, dcpOff, dh, dhOff, dcNext, dcnOff, gates, gOff, tc, tcOff, cPrev, cpOff, B, H);
    },
    gruCellForward(gates, gOff, ghn, ghnOff, h, hOff, gi, giOff, gh, ghOff, hPrev, hpOff, B, H) {
      if (on(gates) && on(ghn) && on(h) && on(gi) && on(gh) && on(hPrev)) {
        ex.gruCellForward(at(gates, gOff), at(ghn, ghnOff), at(h, hOff), at(gi, giOff), at(gh, ghOff), at(hPrev, hpOff), B, H);
      } else js.gruCellForward(gates, gOff, ghn, ghnOff, h, hOff, gi, giOff, gh, ghOff, hPrev, hpOff, B, H);
    },
    gruCellBackward(dgi, dgiOff, dgh, dghOff, dhPrev, dhpOff, dh, dhOff, gates, gOff, ghn, ghnOff, hPrev, hpOff, B, H) {
      if (on(dgi) && on(dgh) && on(dhPrev) && on(dh) && on(gates) && on(ghn) && on(hPrev)) {
        ex.gruCellBackward(at(dgi, dgiOff), at(dgh, dghOff), at(dhPrev, dhpOff), at(dh, dhOff), at(gates, gOff), at(ghn, ghnOff), at(hPrev, hpOff), B, H);
      } else js.gruCellBackward(dgi, dgiOff, dgh, dghOff, dhPrev, dhpOff, dh, dhOff, gates, gOff, ghn, ghnOff, hPrev, hpOff, B, H);
    },
    sumSquares(x, xOff, n) {
      return on(x) ? ex.sumSquares(at(x, xOff), n) : js.sumSquares(x, xOff, n);
    },
    sgdStep(p, g, buf, off, n, lr, mu, dampening, wd, nesterov, first) {
      if (on(p) && on(g) && (!buf || on(buf)))
        ex.sgdStep(at(p, off), at(g, off), buf ? at(buf, off) : 0, n, lr, mu, dampening, wd, nesterov ? 1 : 0, first ? 1 : 0);
      else js.sgdStep(p, g, buf, off, n, lr, mu, dampening, wd, nesterov, first);
    },
    adagradStep(p, g, sum, off, n, clr, wd, eps) {
      if (on(p) && on(g) && on(sum)) ex.adagradStep(at(p, off), at(g, off), at(sum, off), n, clr, wd, eps);
      else js.adagradStep(p, g, sum, off, n, clr, wd, eps);
    },
    rmspropStep(p, g, v, m, buf, off, n, lr, alpha, eps, wd, mu) {
      if (on(p) && on(g) && on(v) && (!m || on(m)) && (!buf || on(buf))) {
        ex.rmspropStep(at(p, off), at(g, off), at(v, off), m ? at(m, off) : 0, buf ? at(buf, off) : 0, n, lr, alpha, eps, wd, mu);
      } else js.rmspropStep(p, g, v, m, buf, off, n, lr, alpha, eps, wd, mu);
    },
    adamStep(p, g, m, v, vmax, off, n, stepSize, b1, b2, eps, l2, decay, bc2Sqrt) {
      if (on(p) && on(g) && on(m) && on(v) && (!vmax || on(vmax))) {
        ex.adamStep(at(p, off), at(g, off), at(m, off), at(v, off), vmax ? at(vmax, off) : 0, n, stepSize, b1, b2, eps, l2, decay, bc2Sqrt);
      } else js.adamStep(p, g, m, v, vmax, off, n, stepSize, b1, b2, eps, l2, decay, bc2Sqrt);
    },
    softmaxXentForward(probs, pOff, logits, lOff, targets, tOff, N, V, ignoreIndex) {
      if (!on(probs) || !on(logits)) return js.softmaxXentForward(probs, pOff, logits, lOff, targets, tOff, N, V, ignoreIndex);
      return ex.softmaxXentForward(at(probs, pOff), at(logits, lOff), idsAt(targets, tOff, N), N, V, ignoreIndex);
    },
    softmaxXentBackward(dlogits, dOff, probs, pOff, targets, tOff, N, V, ignoreIndex, scale) {
      if (!on(dlogits) || !on(probs)) return js.softmaxXentBackward(dlogits, dOff, probs, pOff, targets, tOff, N, V, ignoreIndex, scale);
      ex.softmaxXentBackward(at(dlogits, dOff), at(probs, pOff), idsAt(targets, tOff, N), N, V, ignoreIndex, scale);
    },
  };
}
