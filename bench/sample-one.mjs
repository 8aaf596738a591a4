// Sampling speed of one rnnlab language model, in a child process of bench/sample.bench.ts on the
// built package (dist/): generate() with batch 1 and temperature 1 (as `rnnlab sample` calls it),
// from a freshly initialised model (speed does not depend on the weights' values) with the
// default kernels, on one thread (generation runs on the calling thread). Each timed repeat
// generates LENGTH tokens after a prime of 16 random tokens; prints one JSON line: tokens/s (the
// median of the repeats, after one untimed repeat) and the bytes of weights one token reads
// (W_ih and W_hh of every layer and the output layer's weight, float32), and the read bandwidth of
// a buffer that size (a vector sum over it, repeated).
// Usage: node bench/sample-one.mjs CELL HIDDEN [LENGTH=2000] [REPEATS=5] [LAYERS=1] [EMBED=64] [VOCAB=65]

import asc from "assemblyscript/asc";
import { defaultKernels, generate, LanguageModel, Rng } from "../dist/index.js";
import { peakRss } from "./peak-rss.mjs";
import { allowRelaxedSimd } from "../dist/node/relaxed-simd.js";

allowRelaxedSimd(); // as the command line does: the kernels' fused multiply-add build (RNNLAB_KERNELS=wasm-exact: the exact one)

const [cell, hidden, lengthArg, repeatsArg, layersArg, embedArg, vocabArg] = process.argv.slice(2);
const H = Number(hidden);
const length = Number(lengthArg ?? 2000);
const repeats = Number(repeatsArg ?? 5);
const L = Number(layersArg ?? 1);
const E = Number(embedArg ?? 64);
const V = Number(vocabArg ?? 65);

const model = new LanguageModel({ vocabSize: V, embedSize: E, hiddenSize: H, numLayers: L, cell, seed: 1, kernels: defaultKernels() });
const rng = new Rng(1);
const prime = Int32Array.from({ length: 16 }, () => rng.int(V));
const once = () => generate(model, { prime, length, rng, temperature: 1 });
once();
const rates = [];
for (let r = 0; r < repeats; r++) {
  const t0 = performance.now();
  once();
  rates.push(length / ((performance.now() - t0) / 1000));
}
rates.sort((a, b) => a - b);
const peak = peakRss(); // before the bandwidth loop below compiles its kernel (the compiler is large)
// the weights one token reads: W_hh of every layer, W_ih of the layers above the first, the
// output layer's weight, and one row of the first layer's folded input table (generate() folds
// the embedding into W_ih when it runs at least 4V steps)
const wih0 = model.store.params.find((p) => p.name === "rnn.weight_ih_l0");
const G = wih0.shape[0];
const read = (p) => /weight_hh/.test(p.name) || (/weight_ih/.test(p.name) && p.name !== "rnn.weight_ih_l0") || p.name === "head.weight";
const weights = model.store.params.filter(read).reduce((n, p) => n + p.size, 0) + (16 + length >= 4 * V ? G : wih0.size);
// what this machine reads per second from a buffer of the weights' size, again and again (four
// 4-lane sums over it, compiled here): the bandwidth the products of a token could reach
const { binary } = await asc.compileString(
  `export function readSum(p: usize, n: i32): f32 {
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
    for (let i = 0; i < n; i += 16) {
      const o = p + (<usize>i << 2);
      s0 = f32x4.add(s0, v128.load(o)); s1 = f32x4.add(s1, v128.load(o, 16));
      s2 = f32x4.add(s2, v128.load(o, 32)); s3 = f32x4.add(s3, v128.load(o, 48));
    }
    return f32x4.extract_lane(f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)), 0);
  }`,
  { optimizeLevel: 3, runtime: "stub", noAssert: true, enable: ["simd"], initialMemory: 1 },
);
const reader = new WebAssembly.Instance(new WebAssembly.Module(binary), { env: { abort: () => {} } }).exports;
const n16 = (weights + 15) & ~15;
reader.memory.grow(Math.ceil((4 * n16 + 65536) / 65536));
new Float32Array(reader.memory.buffer, 65536, n16).fill(0.5);
const reads = Math.max(1, Math.round(2e9 / (4 * n16)));
const bw = [];
for (let r = 0; r < 5; r++) {
  const t0 = performance.now();
  for (let i = 0; i < reads; i++) reader.readSum(65536, n16);
  bw.push((4 * n16 * reads) / ((performance.now() - t0) / 1000));
}
bw.sort((a, b) => a - b);
console.log(
  JSON.stringify({
    cell,
    hidden: H,
    layers: L,
    embed: E,
    vocab: V,
    kernels: defaultKernels().name,
    tokens_per_s: rates[Math.floor(repeats / 2)],
    weight_bytes_per_token: 4 * weights,
    read_bytes_per_s: bw[2],
    parameters: model.store.size,
    peak_rss: peak,
  }),
);
