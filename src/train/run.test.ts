import { describe, expect, it } from "vitest";
import { encodeText, type TokenArray } from "../data/corpus.js";
import { TrainingRun, type RunConfig, modelFromSnapshot } from "./run.js";

const TEXT = "It was late in the day. Jane said hi to John. ".repeat(30);

function config(k1: number, k2: number, optimizer: RunConfig["train"]["optimizer"] = "adam", cell: RunConfig["model"]["cell"] = "rnn", dropout = 0): RunConfig {
  const { vocab } = encodeText(TEXT);
  return {
    model: { cell, vocabSize: vocab.size, embedSize: 8, hiddenSize: 12, numLayers: 2, nonlinearity: "tanh", tieWeights: false, dropout },
    train: { batch: 3, k1, k2, optimizer, lr: 3e-3, momentum: 0.9, weightDecay: 0, clipNorm: 1, clipValue: null, nonFinite: "stop", seed: 4 },
  };
}

function setup(k1: number, k2: number, optimizer?: RunConfig["train"]["optimizer"], cell?: RunConfig["model"]["cell"], dropout = 0) {
  const { vocab, tokens } = encodeText(TEXT);
  const n = Math.floor(tokens.length * 0.9);
  const train = tokens.subarray(0, n) as TokenArray;
  const val = tokens.subarray(n) as TokenArray;
  return { run: new TrainingRun(config(k1, k2, optimizer, cell, dropout), vocab, train, val), train, val };
}

describe("TrainingRun snapshots", () => {
  for (const [k1, k2, opt, cell, dropout] of [
    [8, 8, "adam", "rnn", 0],
    [5, 12, "sgd", "gru", 0],
    [6, 9, "rmsprop", "lstm", 0.3],
    [7, 7, "adamw", "lstm", 0],
  ] as const) {
    it(`restore continues bit for bit (${cell}, dropout ${dropout}, k1=${k1}, k2=${k2}, ${opt}), across a pass boundary`, () => {
      const a = setup(k1, k2, opt, cell, dropout);
      a.run.validate(); // validation must leave the dropout stream and training state alone
      for (let i = 0; i < 7; i++) a.run.step();
      const snap = a.run.snapshot({ extra: "kept" });
      expect(snap.metadata.extra).toBe("kept");
      // copy, as a file would
      const copy = {
        metadata: { ...snap.metadata },
        tensors: Object.fromEntries(Object.entries(snap.tensors).map(([k, t]) => [k, { shape: [...t.shape], data: t.data.slice() }])),
      };
      const steps = a.run.stepsPerEpoch + 3;
      const la = Array.from({ length: steps }, () => a.run.step().loss);
      const b = TrainingRun.restore(copy, a.train, a.val);
      expect(b.steps).toBe(7);
      const lb = Array.from({ length: steps }, () => b.step().loss);
      expect(lb).toEqual(la);
      expect(b.model.store.values).toEqual(a.run.model.store.values);
    });
  }

  it("weights alone make a model that predicts the same", () => {
    const a = setup(8, 8);
    for (let i = 0; i < 3; i++) a.run.step();
    const { model } = modelFromSnapshot(a.run.snapshot());
    expect(model.store.values).toEqual(a.run.model.store.values);
  });

  it("rejects a snapshot that is not rnnlab's or does not match its config", () => {
    const a = setup(8, 8);
    const snap = a.run.snapshot();
    expect(() => modelFromSnapshot({ ...snap, metadata: { ...snap.metadata, format: "other" } })).toThrow(/not an rnnlab checkpoint/);
    const cfg = JSON.parse(snap.metadata.config) as RunConfig;
    cfg.model.hiddenSize = 13;
    expect(() => modelFromSnapshot({ ...snap, metadata: { ...snap.metadata, config: JSON.stringify(cfg) } })).toThrow(
      /"rnn.weight_ih_l0" has shape \[12, 8\], the config needs \[13, 8\]/,
    );
  });
});
