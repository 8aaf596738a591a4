// One rnnlab step-time measurement of the task shape `rnnlab experiment clipping` trains (the
// adding problem of Pascanu et al. 2013: tanh RNN of 50 units, batch 20, T = 200, SGD lr 0.01,
// gradient-norm clipping at 1), run in a child process of bench/task.bench.ts on the built
// package (dist/). Prints one JSON line: milliseconds per step (median of 5 timed repeats).
// Usage: node bench/task-one.mjs [T] [HIDDEN]

import { defaultKernels, TaskRun } from "../dist/index.js";
import { peakRss } from "./peak-rss.mjs";
import { allowRelaxedSimd } from "../dist/node/relaxed-simd.js";

allowRelaxedSimd(); // as the command line does: the kernels' fused multiply-add build (RNNLAB_KERNELS=wasm-exact: the exact one)

const T = Number(process.argv[2] ?? 200);
const H = Number(process.argv[3] ?? 50);
const run = new TaskRun(
  { task: "adding", length: T, cell: "rnn", hidden: H, layers: 1, init: "default", optimizer: "sgd", lr: 0.01, momentum: 0, batch: 20, clip: 1, seed: 1 },
  defaultKernels(),
);
for (let i = 0; i < 20; i++) run.step();
const steps = 50;
const times = [];
for (let r = 0; r < 5; r++) {
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) run.step();
  times.push((performance.now() - t0) / steps);
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({ T, hidden: H, kernels: defaultKernels().name, ms_per_step: times[2], peak_rss: peakRss() }));
