// Finite-difference gradient checks (float64, gradCheck's defaults: five-point centred stencil,
// ε = 1e-4) of the sequence classifier's whole loss, mean cross-entropy, in every parameter:
// token ids through the embedding, float features, both directions, many-to-many with padding
// and ignored labels, dropout between layers with its masks held fixed, and rows of different
// lengths. Maximum relative error must be <= 1e-6, as test/gradcheck/layers.test.ts.

import { afterAll, describe, expect, it } from "vitest";
import { gradCheck, IGNORE_INDEX, Rng, SequenceClassifier, type SequenceClassifierOptions } from "../../src/index.js";

const MAX_REL_ERROR = 1e-6;
const T = 5;
const B = 4;

interface Case {
  options: Omit<SequenceClassifierOptions, "dtype" | "seed">;
  lengths: number[] | null;
}

const cases: Record<string, Case> = {
  "token ids + embedding, LSTM, many-to-one, lengths": {
    options: { vocabSize: 7, embedSize: 3, hiddenSize: 4, numClasses: 3, cell: "lstm" },
    lengths: [5, 2, 4, 1],
  },
  "float features, 2-layer GRU, many-to-one, full length": {
    options: { inputSize: 3, hiddenSize: 4, numLayers: 2, numClasses: 3, cell: "gru" },
    lengths: null,
  },
  "token ids, bidirectional GRU, many-to-one, lengths": {
    options: { vocabSize: 6, embedSize: 3, hiddenSize: 3, numClasses: 4, cell: "gru", bidirectional: true },
    lengths: [3, 5, 1, 4],
  },
  "features, bidirectional 2-layer LSTM, many-to-one, lengths": {
    options: { inputSize: 2, hiddenSize: 3, numLayers: 2, numClasses: 2, cell: "lstm", bidirectional: true },
    lengths: [1, 5, 3, 2],
  },
  "token ids, many-to-many with padding, bidirectional LSTM, lengths and ignored labels": {
    options: { vocabSize: 6, embedSize: 3, hiddenSize: 3, numClasses: 3, cell: "lstm", bidirectional: true, perStep: true },
    lengths: [5, 2, 3, 1],
  },
  "features, many-to-many, relu RNN, lengths": {
    options: { inputSize: 3, hiddenSize: 4, numClasses: 3, cell: "rnn", nonlinearity: "relu", perStep: true },
    lengths: [4, 5, 1, 2],
  },
  "features, many-to-many, LSTM with projections, lengths": {
    options: { inputSize: 2, hiddenSize: 4, projSize: 2, numClasses: 3, cell: "lstm", perStep: true },
    lengths: [2, 5, 3, 3],
  },
  "token ids, 2-layer GRU, dropout 0.4 between layers (masks held fixed), lengths": {
    options: { vocabSize: 6, embedSize: 3, hiddenSize: 4, numLayers: 2, numClasses: 3, cell: "gru", dropout: 0.4 },
    lengths: [5, 3, 4, 2],
  },
};

const report: string[] = [];
afterAll(() => console.log(`classifier gradient checks, max relative error (limit ${MAX_REL_ERROR}):\n  ${report.join("\n  ")}`));

describe("gradient check of SequenceClassifier (float64, centred differences)", () => {
  for (const [name, c] of Object.entries(cases)) {
    it(name, () => {
      const rng = new Rng(21);
      const clf = new SequenceClassifier({ ...c.options, dtype: "float64", seed: 4 });
      // scatter the weights so no two are alike
      const v = clf.store.values;
      for (let i = 0; i < v.length; i++) v[i] += 0.3 * rng.uniformRange(-1, 1);
      const C = c.options.numClasses;
      const x = c.options.vocabSize
        ? Int32Array.from({ length: T * B }, () => rng.int(c.options.vocabSize!))
        : Float64Array.from({ length: T * B * c.options.inputSize! }, () => rng.uniformRange(-1, 1));
      let labels: Int32Array;
      if (c.options.perStep) {
        // labels past each row's end are garbage (never counted), and one valid step is ignored
        labels = Int32Array.from({ length: T * B }, () => rng.int(C));
        if (c.lengths) for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) if (t >= c.lengths[b]) labels[t * B + b] = 99;
        labels[0] = IGNORE_INDEX;
      } else {
        labels = Int32Array.from({ length: B }, () => rng.int(C));
      }
      const batch = { x, labels, T, B, lengths: c.lengths };
      const calls = clf.rnn.dropoutCalls;
      const loss = () => {
        clf.rnn.dropoutCalls = calls; // the same dropout masks in every evaluation
        return clf.forward(batch);
      };
      loss();
      clf.store.zeroGrad();
      loss();
      clf.backward();
      const targets = clf.store.params.map((p) => ({ name: p.name, value: p.value, grad: p.grad }));
      const r = gradCheck(loss, targets);
      report.push(`${r.maxRelError.toExponential(1)}  ${name} (${r.checked} elements)`);
      expect(r.checked).toBe(clf.store.size);
      expect(r.maxRelError, `worst: ${r.name}[${r.index}] analytic ${r.analytic} numeric ${r.numeric}`).toBeLessThanOrEqual(MAX_REL_ERROR);
      // the embedding's rows of ids that appear only past a row's end get no gradient
      if (clf.embedding && c.lengths) {
        const used = new Set<number>();
        for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) if (t < c.lengths[b]) used.add(x[t * B + b]);
        const E = clf.embedding.embeddingDim;
        const g = clf.embedding.weight.grad;
        for (let id = 0; id < clf.embedding.numEmbeddings; id++) {
          if (!used.has(id)) expect([...g.subarray(id * E, (id + 1) * E)]).toEqual(new Array(E).fill(0));
        }
      }
    });
  }

  it("catches a wrong gradient (the harness can fail)", () => {
    const clf = new SequenceClassifier({ vocabSize: 5, embedSize: 3, hiddenSize: 3, numClasses: 2, dtype: "float64", seed: 1 });
    const batch = { x: Int32Array.of(1, 2, 3, 4), labels: Int32Array.of(0, 1), T: 2, B: 2, lengths: [2, 1] };
    clf.store.zeroGrad();
    clf.forward(batch);
    clf.backward();
    clf.embedding!.weight.grad[3] *= 1.001;
    const targets = clf.store.params.map((p) => ({ name: p.name, value: p.value, grad: p.grad }));
    expect(gradCheck(() => clf.forward(batch), targets).maxRelError).toBeGreaterThan(1e-4);
  });
});
