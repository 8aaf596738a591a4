// Finite-difference gradient checks (five-point centred stencil, ε = 1e-4) in float64 of language
// models in training mode with dropout where PyTorch's word_language_model has it: on the
// embedded inputs, between the recurrent layers and on the top layer's outputs. The masks are
// held fixed (the counters set back before every evaluation of the loss), so the loss is a smooth
// function of the weights and the backward through the masks is held to the same 1e-6 as every layer.

import { afterAll, describe, expect, it } from "vitest";
import { gradCheck, jsKernels, LanguageModel, Rng, type CellName, type ParamStore } from "../../src/index.js";

const MAX_REL_ERROR = 1e-6;

function jitter(store: ParamStore, rng: Rng, scale: number): void {
  const v = store.values;
  for (let i = 0; i < v.length; i++) v[i] += scale * rng.uniformRange(-1, 1);
}

const report: string[] = [];
afterAll(() => console.log(`gradient checks with dropout masks held fixed, max relative error (limit ${MAX_REL_ERROR}):\n  ${report.join("\n  ")}`));

describe("gradient check of LanguageModel dropout (float64, training mode, masks held fixed)", () => {
  for (const [name, cell, L, tie, emb, mid, out, lossFrom, fold] of [
    ["2-layer LSTM: embedding 0.3, between layers 0.3, output 0.4", "lstm", 2, false, 0.3, 0.3, 0.4, 0, undefined],
    ["2-layer GRU, tied: embedding 0.2, between layers 0.5, output 0.5, loss from step 2", "gru", 2, true, 0.2, 0.5, 0.5, 2, undefined],
    ["1-layer RNN: output 0.5 only, embedding folded", "rnn", 1, false, 0, 0, 0.5, 0, true],
    ["2-layer LSTM, tied: embedding 0.4 only (the fold asked for is not used)", "lstm", 2, true, 0.4, 0, 0, 1, true],
  ] as [string, CellName, number, boolean, number, number, number, number, boolean | undefined][]) {
    it(name, () => {
      const rng = new Rng(21);
      const T = 5,
        B = 3,
        V = 8;
      const lm = new LanguageModel({
        vocabSize: V,
        embedSize: 6,
        hiddenSize: 6,
        numLayers: L,
        cell,
        tieWeights: tie,
        dropout: mid,
        embeddingDropout: emb,
        outputDropout: out,
        foldEmbedding: fold,
        dtype: "float64",
        seed: 21,
        kernels: jsKernels,
      });
      jitter(lm.store, rng, 0.3);
      const ids = Int32Array.from({ length: (T + 1) * B }, () => rng.int(V));
      const inputs = ids.subarray(0, T * B);
      const targets = ids.subarray(B);
      const calls = { lm: 3, rnn: 5 }; // any point of the mask streams
      const loss = () => {
        lm.dropoutCalls = calls.lm;
        lm.rnn.dropoutCalls = calls.rnn;
        return lm.forward(inputs, targets, T, B, null, lossFrom);
      };
      loss();
      expect(lm.dropoutCalls).toBe(emb > 0 || out > 0 ? calls.lm + 1 : calls.lm); // masks were drawn
      lm.store.zeroGrad();
      loss();
      lm.backward();
      const targetsOf = lm.store.params.map((p) => ({ name: p.name, value: p.value, grad: p.grad }));
      const r = gradCheck(loss, targetsOf);
      report.push(`${name}: ${r.maxRelError.toExponential(2)} (${r.checked} elements; worst ${r.name}[${r.index}])`);
      expect(r.checked).toBe(lm.store.size);
      expect(r.maxRelError, `${r.name}[${r.index}]: analytic ${r.analytic}, numeric ${r.numeric}`).toBeLessThanOrEqual(MAX_REL_ERROR);
    });
  }
});
