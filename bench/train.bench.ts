// Training throughput of a character language model (vocabulary 65, embedding 64, batch 32,
// window 64, Adam, gradient-norm clipping at 5) in chars/s, per kernel set, in the same run.

import { Adam, jsKernels, jsTiledKernels, LanguageModel, Rng, Trainer, type Kernels } from "../src/index.js";
import { medianSeconds, printTable } from "./harness.js";

function charsPerSecond(k: Kernels, H: number, steps: number): number {
  const V = 65, E = 64, B = 32, T = 64;
  const lm = new LanguageModel({ vocabSize: V, embedSize: E, hiddenSize: H, seed: 1, kernels: k });
  const tr = new Trainer(lm, { optimizer: new Adam(lm.store, { lr: 2e-3 }), batch: B, k1: T, clipNorm: 5 });
  const rng = new Rng(2);
  const x = Int32Array.from({ length: T * B }, () => rng.int(V));
  const y = Int32Array.from({ length: T * B }, () => rng.int(V));
  const t = medianSeconds(() => {
    for (let s = 0; s < steps; s++) tr.step(x, y, T);
  }, 5, 1);
  return (steps * T * B) / t;
}

export function trainBench(hidden: number[]): void {
  console.log("\nRNN (tanh) character model training, chars/s, one thread (median of 5 timed runs of a few steps)\n");
  const rows: (string | number)[][] = [];
  for (const H of hidden) {
    const steps = H <= 128 ? 4 : 2;
    const base = charsPerSecond(jsKernels, H, steps);
    const tiled = charsPerSecond(jsTiledKernels, H, steps);
    rows.push([`rnn H=${H}`, Math.round(base), Math.round(tiled), `${(tiled / base).toFixed(2)}x`]);
  }
  printTable(["model", "js (reference)", "js-tiled", "ratio"], rows);
}
