// Training throughput of a word-level language model, in a child process of bench/word.bench.ts on
// the built package (dist/): `rnnlab train --tokens words` on the embedded tiny Shakespeare with its
// defaults (vocabulary capped at 10,000 words with <unk> and <eos>, LSTM, hidden 256, embedding 64,
// batch 32 x window 64, Adam 2e-3, clipping at 5, the first 90% of the words as training data),
// tokenized and counted by the library's own loadCorpus, on THREADS threads. Prints one JSON line:
// words/s (tokens/s, line ends included), the median of REPEATS timed repeats of STEPS steps,
// after WARMUP untimed steps.
// Usage: node bench/word-one.mjs THREADS [REPEATS=5] [STEPS=1] [WARMUP=3] [HIDDEN=256]

import { defaultKernels, TrainingRun } from "../dist/index.js";
import { peakRss } from "./peak-rss.mjs";
import { DEFAULT_CORPUS, loadCorpus } from "../dist/node/index.js";
import { nodeSpawn } from "../dist/node/threads.js";
import { allowRelaxedSimd } from "../dist/node/relaxed-simd.js";

allowRelaxedSimd(); // as the command line does: the kernels' fused multiply-add build (RNNLAB_KERNELS=wasm-exact: the exact one)

const [threadsArg, repeatsArg, stepsArg, warmupArg, hiddenArg] = process.argv.slice(2);
const threads = Number(threadsArg);
const repeats = Number(repeatsArg ?? 5);
const steps = Number(stepsArg ?? 1);
const warmup = Number(warmupArg ?? 3);
const H = Number(hiddenArg ?? 256);
const E = 64,
  B = 32,
  T = 64;

const { vocab, tokens } = loadCorpus(DEFAULT_CORPUS, undefined, { tokens: "words", vocabSize: 10000 });
const train = tokens.subarray(0, Math.floor(tokens.length * 0.9)); // rnnlab train's default --val-fraction 0.1
const run = new TrainingRun(
  {
    model: { cell: "lstm", vocabSize: vocab.size, embedSize: E, hiddenSize: H, numLayers: 1, nonlinearity: "tanh", tieWeights: false },
    train: { batch: B, k1: T, k2: T, optimizer: "adam", lr: 2e-3, momentum: 0, weightDecay: 0, clipNorm: 5, clipValue: null, nonFinite: "stop", seed: 1 },
  },
  vocab,
  train,
  null,
  { threads, spawn: nodeSpawn },
);
for (let i = 0; i < warmup; i++) run.step();
const rates = [];
for (let r = 0; r < repeats; r++) {
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) run.step();
  rates.push((steps * B * T) / ((performance.now() - t0) / 1000));
}
rates.sort((a, b) => a - b);
run.dispose();
console.log(
  JSON.stringify({
    vocab: vocab.size,
    corpus_tokens: tokens.length,
    hidden: H,
    embed: E,
    threads: run.threads,
    kernels: defaultKernels().name,
    tokens_per_s: rates[Math.floor(repeats / 2)],
    steps_timed: repeats * steps + warmup,
    parameters: run.model.store.size,
    peak_rss: peakRss(),
  }),
);
