// LanguageModel.logProbGradient, the saliency probe's gradient: ∂ log p(target | x_1..x_T) / ∂ x_t
// for every step's embedded input, checked by finite differences (five-point stencil, float64)
// against an independent forward (predict, then a log-softmax written here). The inputs are T
// distinct tokens, so nudging row ids[t] of the embedding nudges x_t alone. Also: the call leaves
// the parameters' gradients and the training buffers (a forward awaiting its backward) as they were.

import { afterAll, describe, expect, it } from "vitest";
import { gradCheck, jsKernels, LanguageModel, Rng, type CellName, type Float } from "../../src/index.js";

const MAX_REL_ERROR = 1e-6;

/** log softmax(z)[target], in float64. */
function logSoftmaxAt(z: Float, target: number): number {
  let max = -Infinity;
  for (const v of z) max = Math.max(max, v);
  let sum = 0;
  for (const v of z) sum += Math.exp(v - max);
  return z[target] - max - Math.log(sum);
}

function model(cell: CellName, L: number, fold: boolean | undefined, seed: number): LanguageModel {
  const lm = new LanguageModel({
    vocabSize: 11,
    embedSize: 5,
    hiddenSize: 6,
    numLayers: L,
    cell,
    dropout: L > 1 ? 0.5 : 0, // must be off: logProbGradient runs in evaluation mode
    embeddingDropout: 0.3,
    outputDropout: 0.3,
    foldEmbedding: fold,
    dtype: "float64",
    seed,
    kernels: jsKernels,
  });
  // larger weights than the default init, so that the gradient reaches back through every step
  const rng = new Rng(seed);
  const v = lm.store.values;
  for (let i = 0; i < v.length; i++) v[i] += 0.4 * rng.uniformRange(-1, 1);
  return lm;
}

const report: string[] = [];
afterAll(() => console.log(`logProbGradient, max relative error (limit ${MAX_REL_ERROR}):\n  ${report.join("\n  ")}`));

describe("LanguageModel.logProbGradient (float64, finite differences)", () => {
  for (const [name, cell, L, fold] of [
    ["rnn (tanh), 1 layer", "rnn", 1, undefined],
    ["lstm, 2 layers, in training mode (dropout must be off)", "lstm", 2, undefined],
    ["gru, 2 layers, embedding folded for training", "gru", 2, true],
  ] as [string, CellName, number, boolean | undefined][]) {
    it(name, () => {
      const lm = model(cell, L, fold, 7);
      lm.train(); // dropout on for forward(); logProbGradient must not use it
      const T = 7;
      const E = lm.options.embedSize;
      const ids = Int32Array.from([3, 9, 0, 5, 10, 2, 7]); // distinct: row ids[t] is x_t alone
      const target = 4;
      const into = new Float64Array(T * E);
      const logp = lm.logProbGradient(ids, T, target, into);
      const reference = () => logSoftmaxAt(lm.predict(ids, T, 1, lm.createState(1)), target);
      expect(Math.abs(logp - reference())).toBeLessThan(1e-12);
      expect(lm.training).toBe(true); // the mode is put back
      const w = lm.embedding.weight.value;
      const targets = Array.from({ length: T }, (_, t) => ({
        name: `x_${t}`,
        value: w.subarray(ids[t] * E, (ids[t] + 1) * E),
        grad: into.subarray(t * E, (t + 1) * E),
      }));
      const r = gradCheck(reference, targets);
      report.push(`${name}: ${r.maxRelError.toExponential(2)} (${r.checked} elements; worst ${r.name}[${r.index}])`);
      expect(r.checked).toBe(T * E);
      expect(r.maxRelError, `${r.name}[${r.index}]: analytic ${r.analytic}, numeric ${r.numeric}`).toBeLessThanOrEqual(MAX_REL_ERROR);
      // the early steps do get a gradient (the check is not passing on zeros)
      let first = 0;
      for (let j = 0; j < E; j++) first += into[j] * into[j];
      expect(Math.sqrt(first)).toBeGreaterThan(1e-6);
    });
  }

  it("leaves the parameters' gradients and a pending forward/backward exactly as they were", () => {
    for (const cell of ["rnn", "lstm", "gru"] as const) {
      const rng = new Rng(3);
      const T = 6,
        B = 2;
      const inputs = Int32Array.from({ length: T * B }, () => rng.int(11));
      const targets = Int32Array.from({ length: T * B }, () => rng.int(11));
      const run = (probe: boolean) => {
        const lm = model(cell, 2, undefined, 5);
        lm.eval();
        const g = lm.store.grads;
        for (let i = 0; i < g.length; i++) g[i] = Math.sin(i); // gradients accumulated so far
        const before = Float64Array.from(g);
        const loss = lm.forward(inputs, targets, T, B, null);
        if (probe) {
          lm.logProbGradient(Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), 9, 0, new Float64Array(9 * 5));
          expect(Float64Array.from(lm.store.grads)).toEqual(before);
        }
        lm.backward();
        return { loss, grads: Float64Array.from(lm.store.grads) };
      };
      const plain = run(false);
      const probed = run(true);
      expect(probed.loss).toBe(plain.loss);
      expect(probed.grads).toEqual(plain.grads);
    }
  });

  it("refuses a target outside the vocabulary and a buffer too small", () => {
    const lm = model("rnn", 1, undefined, 1);
    expect(() => lm.logProbGradient(Int32Array.from([1, 2]), 2, 11, new Float64Array(10))).toThrow(/target 11 is outside \[0, 11\)/);
    expect(() => lm.logProbGradient(Int32Array.from([1, 2]), 2, 0, new Float64Array(9))).toThrow(/into needs T\*E = 2\*5/);
  });
});
