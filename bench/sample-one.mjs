// Sampling speed of one rnnlab language model, in a child process of bench/sample.bench.ts on the
// built package (dist/): generate() with batch 1 and temperature 1 (as `rnnlab sample` calls it),
// from a freshly initialised model (speed does not depend on the weights' values) with the
// default kernels, on one thread (generation runs on the calling thread). Each timed repeat
// generates LENGTH tokens after a prime of 16 random tokens; prints one JSON line: tokens/s (the
// median of the repeats, after one untimed repeat) and the bytes of weights one token reads
// (W_ih and W_hh of every layer and the output layer's weight, float32).
// Usage: node bench/sample-one.mjs CELL HIDDEN [LENGTH=2000] [REPEATS=5] [LAYERS=1] [EMBED=64] [VOCAB=65]

import { defaultKernels, generate, LanguageModel, Rng } from "../dist/index.js";

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
const weights = model.store.params.filter((p) => /weight_ih|weight_hh/.test(p.name) || p.name === "head.weight").reduce((n, p) => n + p.size, 0);
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
    parameters: model.store.size,
    peak_rss: process.resourceUsage().maxRSS * 1024,
  }),
);
