// Whole-engine behaviour: truncated BPTT carries the state exactly, training is deterministic,
// and a small character model actually learns.

import { describe, expect, it } from "vitest";
import { Adam, CharVocab, LanguageModel, RNN, StreamBatcher, tensor, Trainer, TruncatedBPTT, Rng } from "../../src/index.js";
import { WeightedSumRNN } from "../helpers/weighted-sum-rnn.js";

const TEXT = "Jane walked into the room. John walked in too. It was late in the day. Jane said hi to John. ".repeat(40);

function trainRun(seed: number, steps: number): number[] {
  const vocab = CharVocab.fromText(TEXT);
  const ids = vocab.encode(TEXT);
  const B = 4,
    T = 16;
  const lm = new LanguageModel({ vocabSize: vocab.size, embedSize: 16, hiddenSize: 32, numLayers: 2, seed });
  const trainer = new Trainer(lm, { optimizer: new Adam(lm.store, { lr: 3e-3 }), batch: B, k1: T, clipNorm: 5 });
  const batches = new StreamBatcher(ids, B, T);
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const b = batches.next();
    if (b.first) trainer.tbptt.reset();
    losses.push(trainer.step(b.inputs, b.targets, b.T).loss);
  }
  return losses;
}

describe("truncated BPTT", () => {
  it("chunks with the carried state give the same outputs as one long pass", () => {
    const T = 12,
      B = 2,
      I = 3,
      H = 4,
      k1 = 4;
    const rng = new Rng(21);
    const x = Float64Array.from({ length: T * B * I }, () => rng.uniformRange(-1, 1));
    const full = new RNN({ inputSize: I, hiddenSize: H, numLayers: 2, dtype: "float64", seed: 3 }).forward(tensor(x, [T, B, I], "float64"));
    const m = new WeightedSumRNN({ inputSize: I, hiddenSize: H, numLayers: 2, dtype: "float64", seed: 3 });
    const tb = new TruncatedBPTT(m, { k1, batch: B });
    const R = new Float64Array(k1 * B * H);
    for (let c = 0; c < T / k1; c++) {
      tb.step(x.subarray(c * k1 * B * I, (c + 1) * k1 * B * I), R, k1);
      const out = m.rnn.createCache(1, B); // any (L, B, H)-sized buffer
      tb.currentState([out.hN]);
      // the stream's state after chunk c is the long pass's top-layer state at step (c+1)*k1
      const top = out.hN.subarray(B * H);
      const want = full.output.data.subarray(((c + 1) * k1 - 1) * B * H, (c + 1) * k1 * B * H);
      for (let i = 0; i < B * H; i++) expect(top[i]).toBeCloseTo(want[i], 14);
    }
  });

  it("rejects k2 < k1 and chunks longer than k1", () => {
    const m = new WeightedSumRNN({ inputSize: 1, hiddenSize: 1 });
    expect(() => new TruncatedBPTT(m, { k1: 4, k2: 3, batch: 1 })).toThrow(/k2 must be/);
    const tb = new TruncatedBPTT(m, { k1: 2, batch: 1 });
    expect(() => tb.step(new Float32Array(3), new Float32Array(3), 3)).toThrow(/1\.\.k1 = 2/);
  });
});

describe("training", () => {
  it("is deterministic: the same seed gives the identical loss sequence over 50 steps", () => {
    const a = trainRun(5, 50);
    const b = trainRun(5, 50);
    expect(a.length).toBe(50);
    expect(a.every((v, i) => Object.is(v, b[i]))).toBe(true);
    const c = trainRun(6, 50);
    expect(c.some((v, i) => v !== a[i])).toBe(true);
  });

  it("a small character model learns: loss falls from ~log(V) to under half of it", () => {
    const losses = trainRun(1, 300);
    const V = CharVocab.fromText(TEXT).size;
    expect(losses[0]).toBeGreaterThan(0.8 * Math.log(V));
    const last = losses.slice(-20).reduce((s, v) => s + v, 0) / 20;
    expect(last).toBeLessThan(0.5 * Math.log(V));
  });
});
