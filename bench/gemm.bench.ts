// GEMM GFLOP/s on one core against this machine's own WebAssembly SIMD peak, measured here, for
// the products the engine runs: (2048 x H)·(H x H) is a window's input projection or weight
// gradient (all 64 steps of a batch of 32 at once), forward (A·B^T) and transposed (A·B, A^T·B);
// (32 x H)·(H x 4H) is one LSTM time step with W_hh packed once per window (gemmPacked).
//
// The kernels come in two builds (tools/build-wasm.mjs): exact (128-bit SIMD, a multiply and an
// add per 4 lanes) and fused (relaxed SIMD's f32x4.relaxed_madd: one fused multiply-add where the
// CPU has FMA). The peaks: microbenchmarks compiled here from AssemblyScript: independent multiply
// and add chains with no memory access (the arithmetic peak without FMA), and the GEMM kernel's
// 4x8 register tile on packed strips that stay in L1 (the same instruction mix as the engine's
// inner loop), compiled both ways; each build's share is of its own tile's peak. Peaks and
// products are measured in alternating rounds; a product's rate is the median of its rounds, a
// peak the fastest of its rounds (a busy machine only ever slows a run, and a peak measured in a
// slow spell would put products above 100% of it).
// Baselines in the same run: the tiled TypeScript kernels, and PyTorch's torch.mm on OpenBLAS at
// one thread (bench/torch_gemm.py, AVX-512 with fused multiply-add: what bounds rnnlab at large
// hidden sizes), in the same alternating rounds.

import asc from "assemblyscript/asc";
import { jsTiledKernels, Rng, wasmKernels, type Float, type Kernels, type WasmKernels } from "../src/index.js";
import { hasTorch, torchChild, type Row } from "./compare.js";
import { medianSeconds, printTable } from "./harness.js";

const PEAK_SOURCE = `
// c + a·b as the kernels compute it (as/kernels.ts madd): fused in the relaxed-SIMD build
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}
// multiplies and adds in independent chains: no loads, no dependence between the chains
export function chains(n: i32): f32 {
  const m = f32x4.splat(0.99999994); const c = f32x4.splat(1e-7);
  let p0 = f32x4.splat(1), p1 = f32x4.splat(1.1), p2 = f32x4.splat(1.2), p3 = f32x4.splat(1.3), p4 = f32x4.splat(1.4), p5 = f32x4.splat(1.5);
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0.1), s2 = f32x4.splat(0.2), s3 = f32x4.splat(0.3), s4 = f32x4.splat(0.4), s5 = f32x4.splat(0.5);
  for (let i = 0; i < n; i++) {
    p0 = f32x4.mul(p0, m); s0 = f32x4.add(s0, c); p1 = f32x4.mul(p1, m); s1 = f32x4.add(s1, c);
    p2 = f32x4.mul(p2, m); s2 = f32x4.add(s2, c); p3 = f32x4.mul(p3, m); s3 = f32x4.add(s3, c);
    p4 = f32x4.mul(p4, m); s4 = f32x4.add(s4, c); p5 = f32x4.mul(p5, m); s5 = f32x4.add(s5, c);
  }
  const p = f32x4.add(f32x4.add(f32x4.add(p0, p1), f32x4.add(p2, p3)), f32x4.add(p4, p5));
  const s = f32x4.add(f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)), f32x4.add(s4, s5));
  return f32x4.extract_lane(f32x4.add(p, s), 0);
}
// the 4x8 tile of the engine's GEMM (as/kernels.ts tile4x8) over packed strips of 128 k that stay in L1
export function tile(n: i32, A: usize, B: usize): f32 {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let r = 0; r < n; r++) {
    let a = A; let b = B; const end = A + 2048;
    while (a < end) {
      const y0 = v128.load(b), y1 = v128.load(b, 16);
      const x0 = v128.load32_splat(a), x1 = v128.load32_splat(a, 4), x2 = v128.load32_splat(a, 8), x3 = v128.load32_splat(a, 12);
      c00 = madd(x0, y0, c00); c01 = madd(x0, y1, c01);
      c10 = madd(x1, y0, c10); c11 = madd(x1, y1, c11);
      c20 = madd(x2, y0, c20); c21 = madd(x2, y1, c21);
      c30 = madd(x3, y0, c30); c31 = madd(x3, y1, c31);
      a += 16; b += 32;
    }
  }
  const t = f32x4.add(f32x4.add(f32x4.add(c00, c01), f32x4.add(c10, c11)), f32x4.add(f32x4.add(c20, c21), f32x4.add(c30, c31)));
  return f32x4.extract_lane(t, 0);
}
`;

interface Peak {
  chains(n: number): number;
  tile(n: number, A: number, B: number): number;
  memory: WebAssembly.Memory;
}

async function compilePeak(fused: boolean): Promise<Peak> {
  const enable = fused ? ["simd", "relaxed-simd"] : ["simd"];
  const { binary, error } = await asc.compileString(PEAK_SOURCE, { optimizeLevel: 3, runtime: "stub", noAssert: true, enable, initialMemory: 1 });
  if (error || !binary) throw new Error(`bench: the peak microbenchmark did not compile: ${error?.message}`);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(binary)), { env: { abort: () => {} } });
  return instance.exports as unknown as Peak;
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

/** One product, its timed call and its flops. */
interface Product {
  name: string;
  /** The key of the same product in torch_gemm.py's output. */
  torch: string;
  flops: number;
  run: (k: Kernels) => void;
  alloc: (k: Kernels, f: (n: number) => Float) => void;
}

function product(
  name: string,
  torch: string,
  M: number,
  N: number,
  K: number,
  call: (k: Kernels, A: Float, B: Float, C: Float, P: Float) => void,
  tB = false,
): Product {
  const bufs = new Map<Kernels, [Float, Float, Float, Float]>();
  const reps = Math.max(1, Math.round(1e8 / (M * N * K)));
  return {
    name,
    torch,
    flops: 2 * M * N * K * reps,
    alloc(k, f) {
      const rng = new Rng(1);
      const A = f(M * K),
        B = f(N * K),
        C = f(M * N),
        P = f(k.packedSize(K, N));
      for (const X of [A, B]) for (let i = 0; i < X.length; i++) X[i] = rng.uniformRange(-1, 1);
      k.packB(tB, K, N, B, 0, tB ? K : N, P);
      bufs.set(k, [A, B, C, P]);
    },
    run(k) {
      const [A, B, C, P] = bufs.get(k)!;
      for (let r = 0; r < reps; r++) call(k, A, B, C, P);
    },
  };
}

export async function gemmBench(hidden: number[], rounds = 3): Promise<void> {
  const builds = [
    { name: "exact", k: wasmKernels("exact") },
    { name: "fused", k: wasmKernels("fma") },
  ].filter((b): b is { name: string; k: WasmKernels } => b.k !== null);
  if (builds.length === 0) {
    console.log("\nGEMM: WebAssembly SIMD is not available in this runtime");
    return;
  }
  const peaks = new Map<string, Peak>();
  for (const b of builds) peaks.set(b.name, await compilePeak(b.name === "fused"));
  // a new module starts in V8's baseline compiler and is optimised in the background once its
  // functions run: call them, then wait for the optimised code before any timing
  const A = 4096;
  const B = A + 2048;
  for (const peak of peaks.values()) {
    peak.chains(1e5);
    peak.tile(100, A, B);
    // two packed strips of 128 k in the peak module's memory (above its static data)
    new Float32Array(peak.memory.buffer, A, (2048 + 4096) / 4).fill(0.5);
  }
  await new Promise((r) => setTimeout(r, 1000));
  for (const peak of peaks.values()) {
    peak.chains(1e5);
    peak.tile(100, A, B);
  }
  const products: Product[] = [];
  for (const H of hidden) {
    const M = 2048;
    products.push(
      product(
        `(${M}x${H})·(${H}x${H})^T, forward`,
        `${H}:forward`,
        M,
        H,
        H,
        (k, a, b, c) => k.gemm(false, true, M, H, H, 1, a, 0, H, b, 0, H, 0, c, 0, H),
        true,
      ),
      product(`(${M}x${H})·(${H}x${H})`, `${H}:nn`, M, H, H, (k, a, b, c) => k.gemm(false, false, M, H, H, 1, a, 0, H, b, 0, H, 0, c, 0, H)),
      product(`(${H}x${M})^T·(${M}x${H}), weight gradient`, `${H}:grad`, H, H, M, (k, a, b, c) =>
        k.gemm(true, false, H, H, M, 1, a, 0, H, b, 0, H, 0, c, 0, H),
      ),
      product(
        `(32x${H})·(${H}x${4 * H}), one LSTM step, W_hh packed`,
        `${H}:step`,
        32,
        4 * H,
        H,
        (k, a, _b, c, p) => k.gemmPacked(32, 4 * H, H, 1, a, 0, H, p, 1, c, 0, 4 * H),
        true,
      ),
    );
  }
  for (const p of products) {
    for (const b of builds) p.alloc(b.k, (n) => b.k.arena.f32(n));
    p.alloc(jsTiledKernels, (n) => new Float32Array(n));
  }
  const chainsN = 2e7;
  const tileN = 1e5; // 128 k x 16 vector ops a pass
  const peakChains: number[] = [];
  const peakTile = new Map(builds.map((b) => [b.name, [] as number[]]));
  const rates = new Map(builds.map((b) => [b.name, products.map(() => [] as number[])]));
  const tiled = products.map((p) => {
    const t = medianSeconds(() => p.run(jsTiledKernels), 1, 1);
    return p.flops / t / 1e9;
  });
  const withTorch = hasTorch();
  const torchRuns: Row[] = [];
  for (let r = 0; r < rounds; r++) {
    if (withTorch) {
      const t = torchChild("torch_gemm.py", [hidden.join(",")]);
      if (t) torchRuns.push(t);
    }
    const exactPeak = peaks.get(builds[0].name)!;
    peakChains.push((chainsN * 12 * 4) / medianSeconds(() => exactPeak.chains(chainsN), 5, 1) / 1e9);
    for (const b of builds) {
      const peak = peaks.get(b.name)!;
      peakTile.get(b.name)!.push((tileN * 128 * 64) / medianSeconds(() => peak.tile(tileN, A, B), 5, 1) / 1e9);
      products.forEach((p, i) => {
        rates.get(b.name)![i].push(p.flops / medianSeconds(() => p.run(b.k), 5, 1) / 1e9);
      });
    }
  }
  const top = new Map(builds.map((b) => [b.name, Math.max(...peakTile.get(b.name)!)]));
  console.log(`\nGEMM on one core, float32, GFLOP/s (medians of ${rounds} alternating rounds, each a median of 5 timed runs; peaks: the fastest round)\n`);
  console.log(
    `Measured WebAssembly SIMD peak of this machine (128-bit): ${Math.max(...peakChains).toFixed(1)} GFLOP/s in independent multiply and add chains; the GEMM's 4x8 tile on data in L1: ${builds.map((b) => `${top.get(b.name)!.toFixed(1)} ${b.name === "fused" ? "with relaxed-SIMD fused multiply-adds" : "with a multiply and an add"}`).join(", ")}. Each build's share is of its own tile's peak.\n`,
  );
  const torchRate = (key: string) => {
    const v = torchRuns.map((t) => Number((t.gflops as unknown as Record<string, number>)[key])).filter(Number.isFinite);
    return v.length ? median(v) : Number.NaN;
  };
  printTable(
    ["product", ...builds.flatMap((b) => [`wasm ${b.name}`, "share of peak"]), "js tiled", "PyTorch (OpenBLAS, 1 thread)"],
    products.map((p, i) => [
      p.name,
      ...builds.flatMap((b) => {
        const v = median(rates.get(b.name)![i]);
        return [v.toFixed(1), `${((100 * v) / top.get(b.name)!).toFixed(0)}%`];
      }),
      tiled[i].toFixed(2),
      Number.isFinite(torchRate(p.torch)) ? torchRate(p.torch).toFixed(1) : "-",
    ]),
  );
  if (torchRuns.length) console.log(`\nPyTorch ${torchRuns[0].torch}, ${(torchRuns[0].blas as string[]).join(", ")}`);
}
