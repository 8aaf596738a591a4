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

  it("restore continues bit for bit with embedding and output dropout: the masks' counter is in the snapshot", () => {
    const { vocab, tokens } = encodeText(TEXT);
    const n = Math.floor(tokens.length * 0.9);
    const train = tokens.subarray(0, n) as TokenArray;
    const val = tokens.subarray(n) as TokenArray;
    const cfg = config(6, 9, "adam", "lstm", 0.2);
    cfg.model = { ...cfg.model, embeddingDropout: 0.3, outputDropout: 0.4 };
    const a = new TrainingRun(cfg, vocab, train, val);
    a.validate();
    for (let i = 0; i < 5; i++) a.step();
    const snap = a.snapshot();
    expect(snap.metadata.lm_dropout_calls).toBe("5");
    expect(JSON.parse(snap.metadata.config).model).toMatchObject({ embeddingDropout: 0.3, outputDropout: 0.4 });
    const copy = {
      metadata: { ...snap.metadata },
      tensors: Object.fromEntries(Object.entries(snap.tensors).map(([k, t]) => [k, { shape: [...t.shape], data: t.data.slice() }])),
    };
    const la = Array.from({ length: 6 }, () => a.step().loss);
    const b = TrainingRun.restore(copy, train, val);
    expect(b.model.dropoutCalls).toBe(5);
    expect(b.model.options).toMatchObject({ embeddingDropout: 0.3, outputDropout: 0.4 });
    const lb = Array.from({ length: 6 }, () => b.step().loss);
    expect(lb).toEqual(la);
    expect(b.model.store.values).toEqual(a.model.store.values);
    // another counter would be other masks: the counter is what makes the resume exact
    const c = TrainingRun.restore({ ...copy, metadata: { ...copy.metadata, lm_dropout_calls: "6" } }, train, val);
    expect(Array.from({ length: 6 }, () => c.step().loss)).not.toEqual(la);
    // a model with these dropouts needs the counter; a bad one is named
    const { lm_dropout_calls: _, ...without } = copy.metadata;
    expect(() => TrainingRun.restore({ ...copy, metadata: without }, train, val)).toThrow(/"lm_dropout_calls" must be a whole number, is missing/);
    expect(() => TrainingRun.restore({ ...copy, metadata: { ...copy.metadata, lm_dropout_calls: "-1" } }, train, val)).toThrow(/"lm_dropout_calls"/);
  });

  it("a model without embedding or output dropout writes the snapshot it always wrote (no new keys)", () => {
    const a = setup(6, 6, "adam", "lstm", 0.3);
    a.run.step();
    const snap = a.run.snapshot();
    expect(snap.metadata.lm_dropout_calls).toBeUndefined();
    const model = JSON.parse(snap.metadata.config).model;
    expect(Object.keys(model)).toEqual(["cell", "vocabSize", "embedSize", "hiddenSize", "numLayers", "nonlinearity", "tieWeights", "dropout"]);
    expect(TrainingRun.restore(snap, a.train, a.val).model.dropoutCalls).toBe(0);
  });

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
