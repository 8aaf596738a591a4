// One TensorFlow.js training configuration on one backend, in a child process. Prints one JSON line.
// The same character model as rnnlab's bench (vocabulary 65, embedding 64, batch 32, window 64,
// Adam 2e-3, gradient norm clipped to 5). TF.js's wasm backend has no gradient for the embedding
// lookup (UnsortedSegmentSum), so on both backends the embedding is a product with one-hot
// inputs (2·65·64 extra multiply-adds per character, against the recurrent layer's 2·64·G + 2·H·G).
// Usage: node --import tsx bench/tfjs-one.ts BACKEND CELL HIDDEN [RUNS=3] (timed steps, median taken, after one untimed)

import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { readFileSync } from "node:fs";
import { medianSeconds } from "./harness.js";

/** Peak resident set in bytes: VmHWM (maxRSS would count the parent's memory at fork). */
function peakRss(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
    if (m) return Number(m[1]) * 1024;
  } catch {}
  return process.resourceUsage().maxRSS * 1024;
}

const [backend, cell, hidden, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 3);
const H = Number(hidden);
const V = 65,
  E = 64,
  B = 32,
  T = 64;
const originalWarn = console.warn;
console.warn = () => {}; // TF.js's advice to install tfjs-node
await tf.setBackend(backend);
await tf.ready();
console.warn = originalWarn;
const model = tf.sequential();
model.add(tf.layers.dense({ units: E, useBias: false, inputShape: [T, V] }));
const Layer = { rnn: tf.layers.simpleRNN, lstm: tf.layers.lstm, gru: tf.layers.gru }[cell as "rnn" | "lstm" | "gru"];
model.add(Layer({ units: H, returnSequences: true, recurrentInitializer: "glorotUniform" }));
model.add(tf.layers.dense({ units: V }));
const opt = tf.train.adam(2e-3);
const x = tf.oneHot(tf.randomUniform([B, T], 0, V, "int32"), V).toFloat();
const y = tf.oneHot(tf.randomUniform([B * T], 0, V, "int32"), V);
const step = () =>
  tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, (model.apply(x) as tf.Tensor).reshape([B * T, V])) as tf.Scalar);
    const norm = tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))));
    const scale = tf.minimum(1, tf.div(5, tf.add(norm, 1e-6)));
    opt.applyGradients(Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tf.mul(g, scale)])));
    return value.dataSync()[0];
  });
const t = medianSeconds(step, runs, 1);
console.log(JSON.stringify({ backend: tf.getBackend(), cell, hidden: H, chars_per_s: (B * T) / t, peak_rss: peakRss() }));
