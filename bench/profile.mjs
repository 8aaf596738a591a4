// Where a training step's time goes, for one character-LM configuration of bench/train-one.mjs on
// one thread: every kernel call timed and put in a group (the per-step recurrent products, the
// window-wide products, the head's products and the softmax, the cells' elementwise work, the
// optimizer, copies and row sums), and what is left outside the kernels (JavaScript: the time
// loop, the trainer, bookkeeping). Timing each call adds a little to every call, so the shares
// are the guide, not the total. Prints a Markdown table.
// Usage: node bench/profile.mjs CELL HIDDEN [LAYERS=1] [STEPS=5] [VOCAB=65] (VOCAB 10000: the word
// model's shape, bench/word-one.mjs, with random tokens)

import { defaultKernels, encodeText, Rng, TrainingRun } from "../dist/index.js";
import { allowRelaxedSimd } from "../dist/node/relaxed-simd.js";

allowRelaxedSimd(); // as the command line does: the kernels' fused multiply-add build (RNNLAB_KERNELS=wasm-exact: the exact one)

const [cell = "lstm", hidden = "256", layersArg = "1", stepsArg = "5", vocabArg = "65"] = process.argv.slice(2);
const H = Number(hidden);
const L = Number(layersArg);
const steps = Number(stepsArg);
const V = Number(vocabArg);
const whole = (x, lo, hi) => Number.isInteger(x) && x >= lo && x <= hi;
if (!["rnn", "lstm", "gru"].includes(cell) || !whole(H, 1, 4096) || !whole(L, 1, 8) || !whole(steps, 1, 1000) || !whole(V, 2, 60000)) {
  process.stderr.write("profile: usage: node bench/profile.mjs rnn|lstm|gru HIDDEN(1-4096) [LAYERS(1-8)=1] [STEPS(1-1000)=5] [VOCAB(2-60000)=65]\n");
  process.exit(2);
}
// a closed pipe (| head) ends the report quietly
process.stdout.on("error", (e) => process.exit(e.code === "EPIPE" ? 0 : 1));
const rng = new Rng(7);
const chars = Array.from({ length: V }, (_, i) => String.fromCharCode(48 + i)); // V distinct characters
const { vocab, tokens } = encodeText(Array.from({ length: 200_000 }, () => chars[rng.int(V)]).join(""));

const k0 = defaultKernels();
const spent = new Map();
const group = (name, a) => {
  if (name === "gemmPacked") return "recurrent products, per step (W_hh packed)";
  if (name === "packB") return "packing W_hh, once a pass";
  if (name === "gemm") {
    const [, , M, N, K] = a;
    if (M === V || N === V || K === V) return "head products (logits, their gradients)";
    return "window-wide products (input projection, weight gradients)";
  }
  if (/softmax/.test(name)) return "softmax and cross-entropy";
  if (/Cell|tanh|sigmoid|relu/.test(name)) return "cells' elementwise work";
  if (/Step$/.test(name)) return "optimizer update";
  if (name === "sumSquares") return "gradient norm (clipping)";
  return "copies, gathers, row sums";
};
const k = Object.create(k0);
for (const name of Object.keys(k0)) {
  if (typeof k0[name] !== "function") continue;
  k[name] = (...a) => {
    const t0 = performance.now();
    const r = k0[name].apply(k0, a);
    const g = group(name, a);
    spent.set(g, (spent.get(g) ?? 0) + performance.now() - t0);
    return r;
  };
}
k.arena = k0.arena;
k.module = k0.module;

const run = new TrainingRun(
  {
    model: { cell, vocabSize: V, embedSize: 64, hiddenSize: H, numLayers: L, nonlinearity: "tanh", tieWeights: false },
    train: { batch: 32, k1: 64, k2: 64, optimizer: "adam", lr: 2e-3, momentum: 0, weightDecay: 0, clipNorm: 5, clipValue: null, nonFinite: "stop", seed: 1 },
  },
  vocab,
  tokens,
  null,
  { threads: 1, kernels: k },
);
for (let i = 0; i < 2; i++) run.step();
spent.clear();
const t0 = performance.now();
for (let i = 0; i < steps; i++) run.step();
const total = performance.now() - t0;
run.dispose();
const inKernels = [...spent.values()].reduce((a, b) => a + b, 0);
spent.set("outside the kernels (JavaScript)", total - inKernels);
console.log(
  `\n${cell} ${H}${L > 1 ? `, ${L} layers` : ""}${V !== 65 ? `, vocabulary ${V}` : ""}, one thread: ${(total / steps).toFixed(1)} ms a step (${steps} steps, each kernel call timed)\n`,
);
console.log("| where | ms a step | share |");
console.log("| --- | --- | --- |");
for (const [g, t] of [...spent].sort((a, b) => b[1] - a[1])) console.log(`| ${g} | ${(t / steps).toFixed(2)} | ${((100 * t) / total).toFixed(1)}% |`);
