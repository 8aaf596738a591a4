// saveModel / loadModel: every model the library builds goes to bytes and comes back with the same
// weights and the same outputs; the bytes are a checkpoint in rnnlab train's format; a damaged
// or foreign file is one CheckpointError that says what is wrong.

import { describe, expect, it } from "vitest";
import { CheckpointError } from "../errors.js";
import { CharVocab } from "../data/vocab.js";
import { encodeText } from "../data/corpus.js";
import { decodeSafetensors, encodeSafetensors } from "../io/safetensors.js";
import { LanguageModel } from "../nn/language-model.js";
import type { AnyLanguageModel } from "../nn/lm.js";
import { GRU, LSTM, RNN } from "../nn/recurrent.js";
import { SequenceClassifier } from "../nn/sequence-classifier.js";
import { tensor } from "../tensor/tensor.js";
import { loadModel, saveModel } from "./model-file.js";
import { modelFromSnapshot, TrainingRun } from "./run.js";
import { sessionConfig } from "./session.js";

const vocab = CharVocab.fromText("hello world\n");
const ids = (n: number, V: number) => Int32Array.from({ length: n }, (_, i) => (i * 7 + 3) % V);

/** The loss of a language model on a fixed window (eval mode). */
function lmLoss(lm: AnyLanguageModel): number {
  const T = 6;
  const B = 2;
  const V = lm.options.vocabSize;
  lm.eval();
  return lm.forward(
    ids(T * B, V),
    ids(T * B, V).map((x) => (x + 1) % V),
    T,
    B,
    lm.createState(B),
  );
}

describe("saveModel / loadModel", () => {
  it("a language model comes back with the same weights, config and vocabulary, in float32 and float64", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const lm = new LanguageModel({
        vocabSize: vocab.size,
        embedSize: 5,
        hiddenSize: 7,
        numLayers: 2,
        cell: "lstm",
        dtype,
        seed: 3,
        dropout: 0.1,
        embeddingDropout: 0.2,
        outputDropout: 0.3,
      });
      const bytes = saveModel(lm, { vocab });
      const back = loadModel(bytes);
      expect(back.kind).toBe("language-model");
      if (back.kind !== "language-model") return;
      expect(back.model.store.dtype).toBe(dtype);
      expect([...back.vocab.tokens]).toEqual([...vocab.tokens]);
      expect(back.config.model).toMatchObject({
        cell: "lstm",
        embedSize: 5,
        hiddenSize: 7,
        numLayers: 2,
        dropout: 0.1,
        embeddingDropout: 0.2,
        outputDropout: 0.3,
      });
      expect(back.model.store.params.map((p) => p.name)).toEqual(lm.store.params.map((p) => p.name));
      for (const p of lm.store.params) expect(back.model.store.get(p.name).value).toEqual(p.value);
      expect(lmLoss(back.model)).toBe(lmLoss(lm));
    }
  });

  it("tied weights stay one parameter", () => {
    const lm = new LanguageModel({ vocabSize: vocab.size, embedSize: 6, hiddenSize: 6, tieWeights: true, seed: 1 });
    const back = loadModel(saveModel(lm, { vocab }));
    if (back.kind !== "language-model") throw new Error(back.kind);
    expect(back.model.options.tieWeights).toBe(true);
    expect(back.model.head.weight).toBe(back.model.embedding.weight);
    expect(lmLoss(back.model)).toBe(lmLoss(lm));
  });

  it("the bytes are an rnnlab checkpoint: modelFromSnapshot reads them straight from decodeSafetensors (a Map)", () => {
    const lm = new LanguageModel({ vocabSize: vocab.size, embedSize: 4, hiddenSize: 5, cell: "gru", seed: 2 });
    const decoded = decodeSafetensors(saveModel(lm, { vocab, config: { train: { batch: 8, k1: 16 } } }));
    expect(decoded.tensors).toBeInstanceOf(Map);
    const { model, config } = modelFromSnapshot(decoded);
    expect(config.train).toMatchObject({ batch: 8, k1: 16, optimizer: "adam" });
    expect(lmLoss(model)).toBe(lmLoss(lm));
  });

  it("loads a checkpoint of a training run, and a snapshot given with a Map or a plain object", () => {
    const { vocab: v, tokens } = encodeText("to be or not to be, that is the question\n".repeat(20));
    const config = sessionConfig({ model: { cell: "rnn", hiddenSize: 8, embedSize: 4 }, train: { batch: 2, k1: 8 } }, v.size);
    const run = new TrainingRun(config, v, tokens, null);
    run.step();
    const snap = run.snapshot();
    const viaObject = loadModel(snap);
    const viaMap = loadModel({ tensors: new Map(Object.entries(snap.tensors)), metadata: snap.metadata });
    const viaBytes = loadModel(encodeSafetensors(snap.tensors, snap.metadata));
    for (const back of [viaObject, viaMap, viaBytes]) {
      if (back.kind !== "language-model") throw new Error(back.kind);
      expect(lmLoss(back.model)).toBe(lmLoss(run.model));
    }
    run.dispose();
  });

  it("a sequence classifier comes back with its labels and the same logits", () => {
    const clf = new SequenceClassifier({ inputSize: 3, hiddenSize: 6, numClasses: 3, cell: "gru", bidirectional: true, numLayers: 2, seed: 4 });
    const labels = ["a", "b", "c"];
    const back = loadModel(saveModel(clf, { labels }));
    if (back.kind !== "sequence-classifier") throw new Error(back.kind);
    expect(back.labels).toEqual(labels);
    expect(back.config).toEqual(clf.config);
    const x = Float32Array.from({ length: 5 * 2 * 3 }, (_, i) => Math.sin(i));
    expect([...back.model.logitsOf(x, 5, 2, [5, 3])]).toEqual([...clf.logitsOf(x, 5, 2, [5, 3])]);
  });

  it("bare RNN, LSTM and GRU stacks come back with the same outputs", () => {
    const x = tensor(
      Array.from({ length: 4 * 2 * 3 }, (_, i) => Math.cos(i)),
      [4, 2, 3],
      "float64",
    );
    for (const rnn of [
      new RNN({ inputSize: 3, hiddenSize: 4, nonlinearity: "relu", dtype: "float64", seed: 1 }),
      new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, dtype: "float64", seed: 2 }),
      new GRU({ inputSize: 3, hiddenSize: 4, bias: false, dtype: "float64", seed: 3 }),
      new LSTM({ inputSize: 3, hiddenSize: 4, projSize: 2, numLayers: 2, dtype: "float64", seed: 4 }),
    ]) {
      const back = loadModel(saveModel(rnn));
      if (back.kind !== "recurrent") throw new Error(back.kind);
      expect(back.model.mode).toBe(rnn.mode);
      expect(back.model.store.dtype).toBe("float64");
      expect([...back.model.forward(x).output.data]).toEqual([...rnn.forward(x).output.data]);
    }
  });

  it("a batch-first layer comes back batch-first", () => {
    const gru = new GRU({ inputSize: 3, hiddenSize: 4, batchFirst: true, dtype: "float64", seed: 5 });
    const x = tensor(
      Array.from({ length: 2 * 4 * 3 }, (_, i) => Math.sin(i)),
      [2, 4, 3],
      "float64",
    ); // (B, T, I)
    const back = loadModel(saveModel(gru));
    if (back.kind !== "recurrent") throw new Error(back.kind);
    expect(back.config.batchFirst).toBe(true);
    expect(back.model.forward(x).output.shape).toEqual([2, 4, 4]);
    expect([...back.model.forward(x).output.data]).toEqual([...gru.forward(x).output.data]);
  });

  it("refuses what it cannot save: no vocabulary, a wrong one, unknown options, non-finite weights", () => {
    const lm = new LanguageModel({ vocabSize: vocab.size, embedSize: 4, hiddenSize: 4, seed: 1 });
    expect(() => saveModel(lm)).toThrow(/needs its vocabulary/);
    expect(() => saveModel(lm, { vocab: CharVocab.fromText("ab") })).toThrow(/2 tokens, the model 9/);
    expect(() => saveModel(lm, { vocab, vocabulary: vocab } as never)).toThrow(/unknown option "vocabulary"/);
    expect(() => saveModel(lm, { vocab, metadata: { format: "x" } })).toThrow(/format's own/);
    lm.store.params[1].value[2] = Number.NaN;
    expect(() => saveModel(lm, { vocab })).toThrow(CheckpointError);
  });

  it("says what is wrong with a file it cannot load", () => {
    const lm = new LanguageModel({ vocabSize: vocab.size, embedSize: 4, hiddenSize: 4, seed: 1 });
    const { tensors, metadata } = decodeSafetensors(saveModel(lm, { vocab }));
    const damaged = (change: (t: Map<string, unknown>, m: Record<string, string>) => void) => {
      const t = new Map(tensors) as Map<string, unknown>;
      const m = { ...metadata };
      change(t, m);
      return () => loadModel({ tensors: t as never, metadata: m });
    };
    expect(() => loadModel(new Uint8Array([1, 2, 3]))).toThrow(/not a safetensors file/);
    expect(damaged((_, m) => delete m.format)).toThrow(/not an rnnlab model file/);
    expect(damaged((_, m) => (m.model = "transformer"))).toThrow(/metadata "model" must be one of/);
    expect(damaged((t) => t.delete("head.bias"))).toThrow(/tensor "head.bias" is missing/);
    expect(damaged((_, m) => (m.config = "{}"))).toThrow(CheckpointError);
    const clf = new SequenceClassifier({ inputSize: 2, hiddenSize: 3, numClasses: 2, seed: 1 });
    const c = decodeSafetensors(saveModel(clf));
    expect(() => loadModel({ tensors: c.tensors, metadata: { ...c.metadata, config: '{"numClasses":1}' } })).toThrow(/describes no model/);
    expect(() =>
      loadModel({ tensors: new Map([...c.tensors, ["extra", { dtype: "F32" as const, shape: [1], data: new Float32Array(1) }]]), metadata: c.metadata }),
    ).toThrow(/tensor "extra" belongs to no parameter/);
    // the CLI's reader: a classifier is no language model
    expect(() => modelFromSnapshot(c)).toThrow(/holds a sequence classifier, not a language model/);
  });
});
