// How much of a training step the optimizer's update takes (issue 13: the updates stay in the
// kernel interface only if they matter). For each configuration: the step's time, the update's
// time with the WebAssembly kernels (what training runs), and the same update run by the plain
// TypeScript kernels on the same parameters (what plain loops in optim.ts would cost), all on
// one thread, medians of repeated steps.

import { Adam, createOptimizer, encodeText, jsTiledKernels, Rng, TrainingRun, wasmKernels, type OptimizerName } from "../dist/index.js";
import { printTable } from "./harness.js";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

export function optimizerBench(configs: [string, number, OptimizerName][]): void {
  console.log("\nThe optimizer's share of a training step (1 thread, batch 32 x 64, medians)\n");
  const w = wasmKernels();
  if (!w) {
    console.log("no WebAssembly SIMD here: nothing to compare");
    return;
  }
  const V = 65;
  const rng = new Rng(7);
  const chars = Array.from({ length: V }, (_, i) => String.fromCharCode(48 + i));
  const { vocab, tokens } = encodeText(Array.from({ length: 200_000 }, () => chars[rng.int(V)]).join(""));
  const rows: (string | number)[][] = [];
  for (const [cell, H, optimizer] of configs) {
    const run = new TrainingRun(
      {
        model: { cell: cell as "rnn" | "lstm" | "gru", vocabSize: V, embedSize: 64, hiddenSize: H, numLayers: 1, nonlinearity: "tanh", tieWeights: false },
        train: {
          batch: 32,
          k1: 64,
          k2: 64,
          optimizer,
          lr: 2e-3,
          momentum: optimizer === "sgd" ? 0.9 : 0,
          weightDecay: 0,
          clipNorm: 5,
          clipValue: null,
          nonFinite: "stop",
          seed: 1,
        },
      },
      vocab,
      tokens,
      null,
      { kernels: w },
    );
    const opt = run.optimizer;
    const step = opt.step.bind(opt);
    const updates: number[] = [];
    opt.step = () => {
      const t = performance.now();
      step();
      updates.push(performance.now() - t);
    };
    for (let i = 0; i < 3; i++) run.step();
    updates.length = 0;
    const steps: number[] = [];
    for (let i = 0; i < (H >= 512 ? 5 : 15); i++) {
      const t = performance.now();
      run.step();
      steps.push(performance.now() - t);
    }
    // the same update by the TypeScript kernels, on the same parameters and gradients
    const js =
      optimizer === "adam"
        ? new Adam(run.model.store, { lr: 2e-3, kernels: jsTiledKernels })
        : createOptimizer(optimizer, run.model.store, { lr: 2e-3, momentum: 0.9, kernels: jsTiledKernels });
    const jsTimes: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      js.step();
      jsTimes.push(performance.now() - t);
    }
    const s = median(steps);
    const u = median(updates);
    const j = median(jsTimes);
    rows.push([
      `${cell} ${H} ${optimizer}`,
      run.model.store.size,
      s.toFixed(1),
      u.toFixed(2),
      `${((100 * u) / s).toFixed(1)}%`,
      j.toFixed(2),
      `${((100 * j) / s).toFixed(1)}%`,
    ]);
    run.dispose();
  }
  printTable(["model", "parameters", "step ms", "update ms (wasm)", "share", "update ms (TypeScript)", "share"], rows);
}
