// One rnnlab training configuration, run in a child process of bench/train.bench.ts so that its
// peak resident memory is its own. Prints one JSON line.
// Usage: node --import tsx bench/train-one.ts CELL HIDDEN THREADS

import { availableParallelism } from "node:os";
import { defaultKernels, encodeText, Rng, TrainingRun } from "../src/index.js";
import { nodeSpawn } from "../src/io/threads.js";
import { medianSeconds } from "./harness.js";

const [cell, hidden, threadsArg] = process.argv.slice(2);
const H = Number(hidden);
const threads = Number(threadsArg ?? availableParallelism());
const V = 65, E = 64, B = 32, T = 64;

// random text over 65 characters: speed does not depend on the data
const rng = new Rng(7);
const chars = Array.from({ length: V }, (_, i) => String.fromCharCode(48 + i));
const text = Array.from({ length: 200_000 }, () => chars[rng.int(V)]).join("");
const { vocab, tokens } = encodeText(text);
const run = new TrainingRun(
  {
    model: { cell: cell as "rnn" | "lstm" | "gru", vocabSize: V, embedSize: E, hiddenSize: H, numLayers: 1, nonlinearity: "tanh", tieWeights: false },
    train: { batch: B, k1: T, k2: T, optimizer: "adam", lr: 2e-3, momentum: 0, weightDecay: 0, clipNorm: 5, clipValue: null, nonFinite: "stop", seed: 1 },
  },
  vocab, tokens, null, { threads, spawn: nodeSpawn },
);
const steps = H <= 128 ? 10 : 2;
for (let i = 0; i < 3; i++) run.step();
const rssWarm = process.memoryUsage().rss;
const t = medianSeconds(() => {
  for (let i = 0; i < steps; i++) run.step();
}, 5, 0);
const rssEnd = process.memoryUsage().rss;
run.dispose();
console.log(JSON.stringify({
  cell, hidden: H, threads: run.threads, kernels: defaultKernels().name, chars_per_s: (steps * B * T) / t,
  steps_timed: 5 * steps + 3, rss_after_3_steps: rssWarm, rss_after_all_steps: rssEnd, peak_rss: process.resourceUsage().maxRSS * 1024,
}));
