import { describe, expect, it } from "vitest";
import { padBatch } from "../data/sequence-batches.js";
import { loadStateDict, stateDictOf } from "../io/statedict.js";
import { Rng } from "../tensor/rng.js";
import { loadModel, saveModel } from "../train/model-file.js";
import { Adam, SGD } from "../train/optim.js";
import { NonFiniteError, Trainer } from "../train/trainer.js";
import { SequenceClassifier, type SequenceClassifierOptions } from "./sequence-classifier.js";
import { IGNORE_INDEX } from "./softmax-xent.js";

describe("SequenceClassifier: construction and files", () => {
  it("refuses unknown and contradictory options", () => {
    expect(() => new SequenceClassifier({ inputSize: 2, hiddenSize: 3, numClasses: 2, batch_first: true } as never)).toThrow(
      /SequenceClassifier: unknown option "batch_first"/,
    );
    expect(() => new SequenceClassifier({ inputSize: 2, hiddenSize: 3, numClasses: 2, batchFirst: true } as never)).toThrow(/unknown option "batchFirst"/);
    expect(() => new SequenceClassifier({ inputSize: 2, vocabSize: 5, embedSize: 2, hiddenSize: 3, numClasses: 2 })).toThrow(/not both/);
    expect(() => new SequenceClassifier({ hiddenSize: 3, numClasses: 2 })).toThrow(/give inputSize .* or vocabSize and embedSize/);
    expect(() => new SequenceClassifier({ vocabSize: 5, hiddenSize: 3, numClasses: 2 })).toThrow(/embedSize must be a whole number/);
    expect(() => new SequenceClassifier({ inputSize: 2, hiddenSize: 3, numClasses: 1 })).toThrow(/numClasses must be a whole number >= 2/);
  });

  it("names its parameters as a PyTorch module with embedding, rnn and head", () => {
    const clf = new SequenceClassifier({ vocabSize: 7, embedSize: 3, hiddenSize: 4, numClasses: 5, cell: "gru", bidirectional: true });
    expect(clf.store.params.map((p) => `${p.name} [${p.shape.join(", ")}]`)).toEqual([
      "embedding.weight [7, 3]",
      "rnn.weight_ih_l0 [12, 3]",
      "rnn.weight_hh_l0 [12, 4]",
      "rnn.bias_ih_l0 [12]",
      "rnn.bias_hh_l0 [12]",
      "rnn.weight_ih_l0_reverse [12, 3]",
      "rnn.weight_hh_l0_reverse [12, 4]",
      "rnn.bias_ih_l0_reverse [12]",
      "rnn.bias_hh_l0_reverse [12]",
      "head.weight [5, 8]",
      "head.bias [5]",
    ]);
  });

  const shapes: [string, SequenceClassifierOptions][] = [
    ["token ids, GRU, many-to-one", { vocabSize: 9, embedSize: 4, hiddenSize: 5, numClasses: 3, cell: "gru", seed: 2 }],
    [
      "token ids, 2-layer bidirectional LSTM, per step",
      { vocabSize: 9, embedSize: 4, hiddenSize: 5, numLayers: 2, bidirectional: true, perStep: true, numClasses: 4, seed: 3 },
    ],
    ["features, relu RNN without biases", { inputSize: 3, hiddenSize: 5, numClasses: 2, cell: "rnn", nonlinearity: "relu", bias: false, seed: 4 }],
    [
      "features, LSTM with projections, per step, dropout",
      { inputSize: 3, hiddenSize: 6, projSize: 2, numLayers: 2, dropout: 0.3, perStep: true, numClasses: 3, seed: 5 },
    ],
  ];
  for (const [name, o] of shapes) {
    it(`saveModel/loadModel round-trips its config and logits: ${name}`, () => {
      const clf = new SequenceClassifier(o);
      const labels = Array.from({ length: o.numClasses }, (_, i) => `class ${i}`);
      const back = loadModel(saveModel(clf, { labels }));
      if (back.kind !== "sequence-classifier") throw new Error(back.kind);
      expect(back.config).toEqual(clf.config);
      expect(back.labels).toEqual(labels);
      expect(SequenceClassifier.parseConfig(JSON.parse(JSON.stringify(clf.config)))).toEqual(clf.config);
      const T = 4;
      const B = 2;
      const rng = new Rng(1);
      const x = o.vocabSize
        ? Int32Array.from({ length: T * B }, () => rng.int(o.vocabSize!))
        : Float32Array.from({ length: T * B * o.inputSize! }, () => rng.uniformRange(-1, 1));
      const input = { x, T, B, lengths: [4, 2] };
      expect([...back.model.logitsOf(input)]).toEqual([...clf.logitsOf(input)]);
    });
  }

  it("reads a config written before perStep and projSize existed", () => {
    const old = { cell: "gru", nonlinearity: "tanh", inputSize: 3, hiddenSize: 6, numLayers: 1, bias: true, dropout: 0, bidirectional: false, numClasses: 3 };
    expect(SequenceClassifier.parseConfig(old)).toEqual({ ...old, perStep: false, projSize: 0 });
    expect(() => SequenceClassifier.parseConfig({ ...old, vocabSize: 4, embedSize: 2 })).toThrow(/both inputSize and vocabSize/);
    expect(() => SequenceClassifier.parseConfig({ ...old, perStep: "yes" })).toThrow(/config\.perStep must be true or false/);
  });

  it("stateDictOf and loadStateDict carry its weights under PyTorch's names", () => {
    const a = new SequenceClassifier({ vocabSize: 6, embedSize: 3, hiddenSize: 4, numClasses: 3, cell: "lstm", seed: 1 });
    const b = new SequenceClassifier({ vocabSize: 6, embedSize: 3, hiddenSize: 4, numClasses: 3, cell: "lstm", seed: 2 });
    const sd = stateDictOf(a);
    expect(Object.keys(sd)).toEqual([
      "embedding.weight",
      "rnn.weight_ih_l0",
      "rnn.weight_hh_l0",
      "rnn.bias_ih_l0",
      "rnn.bias_hh_l0",
      "head.weight",
      "head.bias",
    ]);
    const input = { x: Int32Array.of(1, 2, 3, 4, 5, 0), T: 3, B: 2, lengths: [3, 1] };
    expect([...b.logitsOf(input)]).not.toEqual([...a.logitsOf(input)]);
    const report = loadStateDict(b, sd);
    expect(report.loaded).toHaveLength(7);
    expect([...b.logitsOf(input)]).toEqual([...a.logitsOf(input)]);
    const { "head.bias": _, ...missing } = sd;
    expect(() => loadStateDict(b, missing)).toThrow(/missing head\.bias/);
    // plain JavaScript can pass anything: never an empty state dict that looks like success
    expect(() => stateDictOf({ store: a.store } as never)).toThrow(TypeError);
  });
});

describe("SequenceClassifier: forward, predictions, padding", () => {
  it("does not read past each row's length: the padding's value changes nothing", () => {
    for (const perStep of [false, true]) {
      const clf = new SequenceClassifier({ vocabSize: 8, embedSize: 3, hiddenSize: 4, numClasses: 3, bidirectional: true, perStep, seed: 7 });
      const seqs = [Int32Array.of(1, 2, 3, 4), Int32Array.of(5), Int32Array.of(6, 7)];
      const zero = padBatch(seqs);
      const odd = padBatch(seqs, { paddingValue: -100 });
      const labels = perStep ? Int32Array.from(zero.x, (v) => v % 3) : Int32Array.of(0, 1, 2);
      expect(clf.forward({ ...odd, labels })).toBe(clf.forward({ ...zero, labels }));
      expect([...clf.predict(odd)]).toEqual([...clf.predict(zero)]);
      // each row alone gives its own answer
      const together = clf.probabilities(zero);
      seqs.forEach((s, b) => {
        const alone = clf.probabilities(padBatch([s]));
        const C = 3;
        if (perStep) {
          for (let t = 0; t < s.length; t++) for (let c = 0; c < C; c++) expect(together[(t * 3 + b) * C + c]).toBeCloseTo(alone[t * C + c], 6);
        } else {
          for (let c = 0; c < C; c++) expect(together[b * C + c]).toBeCloseTo(alone[c], 6);
        }
      });
    }
  });

  it("per step: the loss counts valid steps only, and predictions past a length are IGNORE_INDEX", () => {
    const clf = new SequenceClassifier({ inputSize: 2, hiddenSize: 4, numClasses: 3, perStep: true, seed: 3, dtype: "float64" });
    const T = 3;
    const B = 2;
    const x = Float64Array.from({ length: T * B * 2 }, (_, i) => Math.sin(i));
    const lengths = [3, 1];
    // labels past row 1's end are garbage on purpose; one valid step is IGNORE_INDEX
    const labels = Int32Array.of(0, 1, 2, 7, IGNORE_INDEX, 9);
    const loss = clf.forward({ x, T, B, lengths, labels });
    const p = clf.probabilities({ x, T, B, lengths });
    // counted: (t0, b0) = 0, (t0, b1) = 1, (t1, b0) = 2; not (t2, b0) (ignored) nor row 1 past step 0
    const want = -(Math.log(p[0 * 3 + 0]) + Math.log(p[1 * 3 + 1]) + Math.log(p[2 * 3 + 2])) / 3;
    expect(loss).toBeCloseTo(want, 12);
    expect([...p.subarray(3 * 3, 4 * 3)]).toEqual([0, 0, 0]); // (t1, b1) is past row 1's end
    const pred = clf.predict({ x, T, B, lengths });
    expect(pred[3]).toBe(IGNORE_INDEX);
    expect(pred[5]).toBe(IGNORE_INDEX);
    const acc = clf.accuracy({ x, T, B, lengths, labels: Int32Array.from(pred, (v) => (v === IGNORE_INDEX ? 0 : v)) });
    expect(acc).toEqual({ correct: 4, count: 4, accuracy: 1 });
  });

  it("checks what it is given", () => {
    const ids = new SequenceClassifier({ vocabSize: 4, embedSize: 2, hiddenSize: 3, numClasses: 2 });
    const feats = new SequenceClassifier({ inputSize: 2, hiddenSize: 3, numClasses: 2 });
    expect(() => ids.predict({ x: new Float32Array(4), T: 2, B: 2 })).toThrow(/reads token ids: x must be an Int32Array/);
    expect(() => feats.predict({ x: new Int32Array(8), T: 2, B: 2 })).toThrow(/x must be a Float32Array/);
    expect(() => ids.predict({ x: new Int32Array(4), T: 2, B: 2, lengths: [2, 3] })).toThrow(/lengths\[1\] = 3 is not a whole number in \[1, 2\]/);
    expect(() => ids.forward({ x: new Int32Array(4), T: 2, B: 2, labels: Int32Array.of(0, 2) })).toThrow(/outside \[0, 2\)/);
    expect(() => ids.forward({ x: new Int32Array(4), T: 2, B: 2, labels: Int32Array.of(0, 1, 1, 0) })).toThrow(/labels must be \(B\) = 2 class ids/);
    expect(() => ids.backward()).toThrow(/call forward first/);
  });
});

describe("SequenceClassifier: trained by Trainer", () => {
  /** Token sequences of 3..12 ids from {2..7}; the label is which of the ids 0 or 1 the sequence opens with. */
  function task(rng: Rng, n: number) {
    const seqs: Int32Array[] = [];
    const labels: number[] = [];
    for (let i = 0; i < n; i++) {
      const y = rng.int(2);
      const len = 3 + rng.int(10);
      const s = Int32Array.from({ length: len }, (_, t) => (t === 0 ? y : 2 + rng.int(6)));
      seqs.push(s);
      labels.push(y);
    }
    return { seqs, labels };
  }

  it("learns a label read at the start of sequences of different lengths, with clipping and the update's checks", () => {
    const rng = new Rng(11);
    const clf = new SequenceClassifier({ vocabSize: 8, embedSize: 8, hiddenSize: 16, numClasses: 2, cell: "gru", seed: 1 });
    const trainer = new Trainer(clf, { optimizer: new Adam(clf.store, { lr: 0.02 }), clipNorm: 1 });
    let last = 0;
    for (let s = 0; s < 120; s++) {
      const { seqs, labels } = task(rng, 16);
      const r = trainer.step({ ...padBatch(seqs), labels: Int32Array.from(labels) });
      expect(r.step).toBe(s + 1);
      expect(r.skipped).toBe(false);
      last = r.loss;
    }
    expect(trainer.stats.steps).toBe(120);
    expect(last).toBeLessThan(0.2);
    const { seqs, labels } = task(rng, 64);
    const acc = clf.accuracy({ ...padBatch(seqs), labels: Int32Array.from(labels) });
    expect(acc.accuracy).toBe(1);
  });

  it("is the same update as forward, backward and the optimizer by hand", () => {
    const make = () => new SequenceClassifier({ vocabSize: 5, embedSize: 3, hiddenSize: 4, numClasses: 3, seed: 9 });
    const a = make();
    const b = make();
    const batch = { ...padBatch([[1, 2, 3], [4]]), labels: Int32Array.of(2, 0) };
    const trainer = new Trainer(a, { optimizer: new SGD(a.store, { lr: 0.5 }) });
    const r = trainer.step(batch);
    const opt = new SGD(b.store, { lr: 0.5 });
    b.store.zeroGrad();
    expect(b.forward(batch)).toBe(r.loss);
    b.backward();
    opt.step();
    expect([...a.store.values]).toEqual([...b.store.values]);
  });

  it("refuses options of truncated BPTT, a stream's step arguments, and non-finite updates", () => {
    const clf = new SequenceClassifier({ inputSize: 1, hiddenSize: 2, numClasses: 2 });
    expect(() => new Trainer(clf, { optimizer: new Adam(clf.store), batch: 4, k1: 8 } as never)).toThrow(/trains on whole sequences .* drop "batch"/);
    expect(() => new Trainer(clf, { optimizer: new Adam(clf.store), clipnorm: 1 } as never)).toThrow(/Trainer: unknown option "clipnorm"/);
    const trainer = new Trainer(clf, { optimizer: new Adam(clf.store) });
    expect(() => trainer.tbptt).toThrow(/no truncated BPTT/);
    expect(() => (trainer.step as (...a: unknown[]) => unknown)(new Float32Array(2), new Int32Array(2), 2)).toThrow(/one batch per step/);
    const bad = { x: Float32Array.of(Number.NaN, 1), T: 1, B: 2, labels: Int32Array.of(0, 1) };
    const before = Float32Array.from(clf.store.values);
    expect(() => trainer.step(bad)).toThrow(NonFiniteError);
    expect([...clf.store.values]).toEqual([...before]);
  });
});
