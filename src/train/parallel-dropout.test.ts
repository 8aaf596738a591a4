// Data parallelism with the language model's own dropout (on the embedding and on the output, as
// PyTorch's word_language_model) and dropout between the layers: the masks are keyed on the global
// batch row and the counters travel with each command, so 2 threads train what 1 thread trains
// (to float32 rounding: only the order of the gradient sums differs), a given thread count repeats
// itself bit for bit, and the counters advance as one model's would.
//
// The workers run the TypeScript sources (through tsx), not dist/, so this checks the code as it
// is now; parallel.test.ts checks the built worker script that rnnlab train uses.

import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { encodeText, type TokenArray } from "../data/corpus.js";
import { useKernels, wasmKernels } from "../tensor/select.js";
import type { ShardInit, Spawn } from "./parallel.js";
import { TrainingRun, type RunConfig } from "./run.js";
import type { LanguageModel } from "../nn/language-model.js";

const TEXT = "It was late in the day. Jane said hi to John. Jane walked into the room. ".repeat(40);

/** Starts a worker on src/node/shard-worker.ts, compiled on the fly by tsx. */
const sourceSpawn: Spawn = (init: ShardInit) => {
  // tsx's ES-module API (require.resolve finds its CommonJS twin beside it)
  const tsx = pathToFileURL(
    createRequire(import.meta.url)
      .resolve("tsx/esm/api")
      .replace(/\.cjs$/, ".mjs"),
  ).href;
  const entry = new URL("../node/shard-worker.ts", import.meta.url).href;
  const code = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); }).catch((e) => { process.stderr.write("worker boot failed: " + e.stack + "\\n"); })`;
  const w = new Worker(code, { eval: true, workerData: init });
  w.unref();
  w.on("error", (e) => process.stderr.write(`worker ${init.shard} failed: ${e.message}\n`));
  return { terminate: () => void w.terminate() };
};

function run(threads: number, cell: RunConfig["model"]["cell"], model: Partial<RunConfig["model"]>) {
  useKernels("wasm");
  const { vocab, tokens } = encodeText(TEXT);
  const n = Math.floor(tokens.length * 0.9);
  const config: RunConfig = {
    model: { cell, vocabSize: vocab.size, embedSize: 8, hiddenSize: 20, numLayers: 2, nonlinearity: "tanh", tieWeights: false, ...model },
    train: { batch: 6, k1: 10, k2: 14, optimizer: "adam", lr: 5e-3, momentum: 0, weightDecay: 0, clipNorm: 1, clipValue: null, nonFinite: "stop", seed: 2 },
  };
  // not blocking on the threads: a worker that fails to boot ends the test by its timeout, not a hang
  return new TrainingRun(config, vocab, tokens.subarray(0, n) as TokenArray, tokens.subarray(n) as TokenArray, {
    threads,
    spawn: sourceSpawn,
    waitForThreads: false,
  });
}

describe.skipIf(!wasmKernels())("data parallelism with embedding and output dropout (workers on the sources)", () => {
  for (const [cell, model] of [
    ["lstm", { embeddingDropout: 0.3, dropout: 0.2, outputDropout: 0.4 }],
    ["gru", { embeddingDropout: 0.5, outputDropout: 0.25, tieWeights: false }],
  ] as const) {
    it(`${cell} ${JSON.stringify(model)}: 2 threads agree with 1 to float32 rounding, repeat themselves exactly, and count masks as 1 thread`, async () => {
      const results = [];
      for (const threads of [1, 2, 2]) {
        const r = run(threads, cell, model);
        try {
          await r.started();
          expect(r.threads).toBe(threads);
          // counters part-way, as a resumed run has them: the workers must take them from the command
          r.model.dropoutCalls = 7;
          (r.model as LanguageModel).rnn.dropoutCalls = 3;
          const losses = Array.from({ length: 12 }, () => r.step().loss);
          const val = r.validate()!;
          const snap = r.snapshot();
          results.push({
            losses,
            val,
            values: Float32Array.from(r.model.store.values),
            calls: r.model.dropoutCalls,
            rnnCalls: (r.model as LanguageModel).rnn.dropoutCalls,
            meta: snap.metadata.lm_dropout_calls,
          });
        } finally {
          r.dispose();
        }
      }
      const [one, two, twoAgain] = results;
      // masks of other rows, or counters not carried to the workers, change the losses by 1e-3 to 1e-2 here
      two.losses.forEach((l, i) => expect(Math.abs(l - one.losses[i]), `step ${i + 1}`).toBeLessThan(1e-5));
      expect(Math.abs(two.val - one.val)).toBeLessThan(1e-5);
      let worst = 0;
      for (let i = 0; i < one.values.length; i++) worst = Math.max(worst, Math.abs(two.values[i] - one.values[i]));
      expect(worst).toBeLessThan(1e-4);
      expect(twoAgain.losses).toEqual(two.losses);
      expect(twoAgain.values).toEqual(two.values);
      // one count per training forward (validation draws none), on either thread count; in the checkpoint
      expect(one.calls).toBe(7 + 12);
      expect(two.calls).toBe(7 + 12);
      expect(two.rnnCalls).toBe(one.rnnCalls);
      expect(two.meta).toBe("19");
    }, 120_000);
  }
});
