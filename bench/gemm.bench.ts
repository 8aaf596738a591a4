// GEMM GFLOP/s on one core, per kernel set, for the products a recurrent layer runs:
// (32 x H)·(H x H) is one time step of a batch of 32, (2048 x H)·(H x H) all 64 steps at once.
// Baselines in the same run: the tiled TypeScript kernels and the naive reference loops.

import { jsKernels, jsTiledKernels, Rng, wasmKernels, type Float, type Kernels } from "../src/index.js";
import { medianSeconds, printTable } from "./harness.js";

function gflops(k: Kernels, alloc: (n: number) => Float, M: number, N: number, K: number): number {
  const rng = new Rng(1);
  const A = alloc(M * K),
    B = alloc(N * K),
    C = alloc(M * N);
  for (const X of [A, B]) for (let i = 0; i < X.length; i++) X[i] = rng.uniformRange(-1, 1);
  const reps = Math.max(1, Math.round(2e8 / (M * N * K)));
  // C = A · B^T, as the forward pass multiplies by W^T
  const t = medianSeconds(() => {
    for (let r = 0; r < reps; r++) k.gemm(false, true, M, N, K, 1, A, 0, K, B, 0, K, 0, C, 0, N);
  });
  return (2 * M * N * K * reps) / t / 1e9;
}

export function gemmBench(hidden: number[]): void {
  const w = wasmKernels();
  console.log("\nGEMM on one core, float32, GFLOP/s (median of 7 timed runs)\n");
  const rows: (string | number)[][] = [];
  for (const H of hidden) {
    for (const M of [32, 2048]) {
      const plain = (n: number) => new Float32Array(n);
      const ref = M * H * H <= 2048 * 256 * 256 ? gflops(jsKernels, plain, M, H, H) : NaN;
      const tiled = gflops(jsTiledKernels, plain, M, H, H);
      const simd = w ? gflops(w, (n) => w.arena.f32(n), M, H, H) : NaN;
      rows.push([
        `(${M}x${H})·(${H}x${H})`,
        Number.isNaN(ref) ? "-" : ref.toFixed(2),
        tiled.toFixed(2),
        w ? simd.toFixed(1) : "unavailable",
        w ? `${(simd / tiled).toFixed(1)}x` : "-",
      ]);
    }
  }
  printTable(["product", "js reference", "js tiled", "wasm simd", "simd / tiled"], rows);
}
