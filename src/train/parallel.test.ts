// Data parallelism over batch rows on worker threads (the workers run the built dist/ files,
// which npm test builds first).

import { describe, expect, it } from "vitest";
import { encodeText, type TokenArray } from "../data/corpus.js";
import { nodeSpawn } from "../node/threads.js";
import { useKernels, wasmKernels } from "../tensor/select.js";
import { TrainingRun, type RunConfig } from "./run.js";

const TEXT = "It was late in the day. Jane said hi to John. Jane walked into the room. ".repeat(40);

function run(threads: number, cell: RunConfig["model"]["cell"], dropout: number, lm: Partial<RunConfig["model"]> = {}) {
  useKernels("wasm");
  const { vocab, tokens } = encodeText(TEXT);
  const n = Math.floor(tokens.length * 0.9);
  const config: RunConfig = {
    model: { cell, vocabSize: vocab.size, embedSize: 8, hiddenSize: 20, numLayers: 2, nonlinearity: "tanh", tieWeights: false, dropout, ...lm },
    train: { batch: 6, k1: 10, k2: 14, optimizer: "adam", lr: 5e-3, momentum: 0, weightDecay: 0, clipNorm: 1, clipValue: null, nonFinite: "stop", seed: 2 },
  };
  return new TrainingRun(config, vocab, tokens.subarray(0, n) as TokenArray, tokens.subarray(n) as TokenArray, { threads, spawn: nodeSpawn });
}

describe.skipIf(!wasmKernels())("data parallelism on threads", () => {
  for (const [cell, dropout, lm] of [
    ["lstm", 0.3, {}],
    ["gru", 0, {}],
    ["rnn", 0, {}],
    ["gru", 0.2, { embeddingDropout: 0.3, outputDropout: 0.4 }], // word_language_model's dropouts
  ] as const) {
    const what = `${dropout ? " with dropout" : ""}${"embeddingDropout" in lm ? " and embedding and output dropout" : ""}`;
    it(`${cell}${what}: 2 and 3 threads agree with 1 to float32 rounding, and repeat themselves exactly`, () => {
      const results = [1, 2, 3, 2].map((threads) => {
        const r = run(threads, cell, dropout, lm);
        try {
          expect(r.threads).toBe(threads);
          const losses = Array.from({ length: 12 }, () => r.step().loss);
          const val = r.validate()!;
          return { losses, val, values: Float32Array.from(r.model.store.values), h: Float32Array.from(r.trainer.tbptt.state[0]) };
        } finally {
          r.dispose();
        }
      });
      const [one, two, three, twoAgain] = results;
      for (const other of [two, three]) {
        other.losses.forEach((l, i) => expect(Math.abs(l - one.losses[i])).toBeLessThan(1e-5));
        expect(Math.abs(other.val - one.val)).toBeLessThan(1e-5);
        let worst = 0;
        for (let i = 0; i < one.values.length; i++) worst = Math.max(worst, Math.abs(other.values[i] - one.values[i]));
        expect(worst).toBeLessThan(1e-4);
        for (let i = 0; i < one.h.length; i++) expect(Math.abs(other.h[i] - one.h[i])).toBeLessThan(1e-4);
      }
      // a given thread count is deterministic: bit for bit
      expect(twoAgain.losses).toEqual(two.losses);
      expect(twoAgain.values).toEqual(two.values);
    });
  }
});
