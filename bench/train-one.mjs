// One rnnlab training configuration, run in a child process of bench/train.bench.ts so that its
// peak resident memory is its own, on the built package (dist/, plain JavaScript: no loader
// threads beside the measured ones). Prints one JSON line: chars/s, the median of REPEATS timed
// repeats of STEPS steps each, after 3 untimed steps.
// Usage: node bench/train-one.mjs CELL HIDDEN THREADS [LAYERS=1] [REPEATS=5] [STEPS=by size]

import { defaultKernels, encodeText, Rng, TrainingRun } from "../dist/index.js";
import { peakRss } from "./peak-rss.mjs";
import { nodeSpawn } from "../dist/node/threads.js";
import { allowRelaxedSimd } from "../dist/node/relaxed-simd.js";

allowRelaxedSimd(); // as the command line does: the kernels' fused multiply-add build (RNNLAB_KERNELS=wasm-exact: the exact one)

const [cell, hidden, threadsArg, layersArg, repeatsArg, stepsArg] = process.argv.slice(2);
const H = Number(hidden);
const threads = Number(threadsArg);
const L = Number(layersArg ?? 1);
const repeats = Number(repeatsArg ?? 5);
const V = 65,
  E = 64,
  B = 32,
  T = 64;
// steps per timed repeat: about the same work per repeat whatever the size
const steps = Number(stepsArg ?? (L > 1 || H > 512 ? 1 : H <= 128 ? 10 : H <= 256 ? 5 : 2));

// random text over 65 characters: speed does not depend on the data
const rng = new Rng(7);
const chars = Array.from({ length: V }, (_, i) => String.fromCharCode(48 + i));
const { vocab, tokens } = encodeText(Array.from({ length: 200_000 }, () => chars[rng.int(V)]).join(""));
const run = new TrainingRun(
  {
    model: { cell, vocabSize: V, embedSize: E, hiddenSize: H, numLayers: L, nonlinearity: "tanh", tieWeights: false },
    train: { batch: B, k1: T, k2: T, optimizer: "adam", lr: 2e-3, momentum: 0, weightDecay: 0, clipNorm: 5, clipValue: null, nonFinite: "stop", seed: 1 },
  },
  vocab,
  tokens,
  null,
  { threads, spawn: nodeSpawn },
);
for (let i = 0; i < 3; i++) run.step();
const rssWarm = process.memoryUsage().rss;
const rates = [];
for (let r = 0; r < repeats; r++) {
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) run.step();
  rates.push((steps * B * T) / ((performance.now() - t0) / 1000));
}
rates.sort((a, b) => a - b);
const rssEnd = process.memoryUsage().rss;
run.dispose();
console.log(
  JSON.stringify({
    cell,
    hidden: H,
    layers: L,
    threads: run.threads,
    kernels: defaultKernels().name,
    chars_per_s: rates[Math.floor(repeats / 2)],
    steps_timed: repeats * steps + 3,
    rss_after_3_steps: rssWarm,
    rss_after_all_steps: rssEnd,
    peak_rss: peakRss(),
  }),
);
