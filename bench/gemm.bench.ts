// GEMM GFLOP/s of each kernel set on the shapes a character model trains with
// (batch B = 32, window T = 64, so T*B = 2048 rows; hidden H; embedding 64).
// Baseline: the naive reference kernel (`js`), in the same run.

import { jsKernels, jsTiledKernels, Rng, type Kernels } from "../src/index.js";
import { medianSeconds, printTable } from "./harness.js";

interface Shape { what: string; tA: boolean; tB: boolean; M: number; N: number; K: number }

function shapes(H: number): Shape[] {
  return [
    { what: `recurrent step (32xH)·(HxH)^T, H=${H}`, tA: false, tB: true, M: 32, N: H, K: H },
    { what: `input projection (2048x64)·(Hx64)^T, H=${H}`, tA: false, tB: true, M: 2048, N: H, K: 64 },
    { what: `all-steps (2048xH)·(HxH)^T, H=${H}`, tA: false, tB: true, M: 2048, N: H, K: H },
    { what: `backward dX (2048xH)·(HxH), H=${H}`, tA: false, tB: false, M: 2048, N: H, K: H },
    { what: `weight grad (2048xH)^T·(2048xH), H=${H}`, tA: true, tB: false, M: H, N: H, K: 2048 },
  ];
}

function gflops(k: Kernels, s: Shape): number {
  const rng = new Rng(1);
  const A = Float32Array.from({ length: s.M * s.K }, () => rng.uniformRange(-1, 1));
  const B = Float32Array.from({ length: s.K * s.N }, () => rng.uniformRange(-1, 1));
  const C = new Float32Array(s.M * s.N);
  const lda = s.tA ? s.M : s.K;
  const ldb = s.tB ? s.K : s.N;
  const reps = Math.max(1, Math.round(5e7 / (s.M * s.N * s.K)));
  const t = medianSeconds(() => {
    for (let r = 0; r < reps; r++) k.gemm(s.tA, s.tB, s.M, s.N, s.K, 1, A, 0, lda, B, 0, ldb, 0, C, 0, s.N);
  });
  return (2 * s.M * s.N * s.K * reps) / t / 1e9;
}

export function gemmBench(hidden: number[]): void {
  console.log("\nGEMM, float32, GFLOP/s (median of 7 timed runs after 3 warm-up runs)\n");
  const rows: (string | number)[][] = [];
  for (const H of hidden) {
    for (const s of shapes(H)) {
      const base = gflops(jsKernels, s);
      const tiled = gflops(jsTiledKernels, s);
      rows.push([s.what, base.toFixed(2), tiled.toFixed(2), `${(tiled / base).toFixed(2)}x`]);
    }
  }
  printTable(["shape", "js (reference)", "js-tiled", "ratio"], rows);
}
