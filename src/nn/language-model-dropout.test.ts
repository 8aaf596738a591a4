// LanguageModel's embedding and output dropout (word_language_model's placement): with every
// dropout 0 the forward and backward are the code path they always were (bit for bit against the
// layers composed by hand, as the model did before these options); in training the masks drop a
// share p of the elements and scale the rest by 1/(1-p), are keyed on the global row (a shard of
// the batch draws the same masks as the whole batch), and advance with a counter; in evaluation
// mode nothing is dropped. The gradients through the masks are checked in test/gradcheck/lm-dropout.test.ts.

import { describe, expect, it } from "vitest";
import type { DType, Float, Ids } from "../tensor/dtype.js";
import { jsKernels, jsTiledKernels } from "../tensor/js-kernels.js";
import type { Kernels } from "../tensor/kernels.js";
import { Rng } from "../tensor/rng.js";
import { wasmKernels } from "../tensor/select.js";
import type { CellName } from "./cells.js";
import { dropoutMask, LanguageModel, type LanguageModelOptions } from "./language-model.js";
import { crossEntropyBackward, crossEntropyForward, IGNORE_INDEX } from "./softmax-xent.js";

function batch(V: number, T: number, B: number, seed: number): { inputs: Int32Array; targets: Int32Array } {
  const rng = new Rng(seed);
  const ids = Int32Array.from({ length: (T + 1) * B }, () => rng.int(V));
  return { inputs: ids.slice(0, T * B), targets: ids.slice(B) };
}

/** Bitwise equality (NaN and -0 included), naming the first difference. */
function expectSameBits(what: string, a: ArrayLike<number>, b: ArrayLike<number>): void {
  expect(a.length, `${what}: length`).toBe(b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) expect.fail(`${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

/**
 * The forward and backward of a language model without embedding or output dropout, composed
 * from its layers the way LanguageModel.forward/backward did before those options existed:
 * embedding (or the folded table) -> Recurrent.forwardRaw -> head over rows r0.. -> cross-entropy,
 * then back. Runs on `lm`'s own layers (its gradients), not through lm.forward.
 */
function referencePass(lm: LanguageModel, inputs: Ids, targets: Ids, T: number, B: number, lossFrom: number, folded: boolean): { loss: number; logits: Float } {
  const { vocabSize: V, embedSize: E, hiddenSize: H } = lm.options;
  const k = lm.store.kernels;
  const N = T * B;
  const r0 = lossFrom * B;
  const c = lm.rnn.createCache(T, B);
  const w = lm.rnn.params[0].weightIh;
  const G = w.shape[0];
  const table = lm.store.alloc(V * G);
  const emb = lm.store.alloc(N * E);
  if (folded) {
    k.gemm(false, true, V, G, E, 1, lm.embedding.weight.value, 0, E, w.value, 0, E, 0, table, 0, G);
    lm.rnn.forwardRaw(c, null, T, null, null, { tables: [table], ids: inputs });
  } else {
    lm.embedding.forward(emb, inputs, N);
    lm.rnn.forwardRaw(c, emb, T, null, null);
  }
  const logits = lm.store.alloc(N * V);
  const probs = lm.store.alloc(N * V);
  lm.head.forward(logits, c.topOutput, N - r0, 0, r0 * H);
  const { loss, count } = crossEntropyForward(probs, logits, targets, N - r0, V, k, IGNORE_INDEX, 0, 0, r0);
  crossEntropyBackward(probs, probs, targets, N - r0, V, count, 1, k, IGNORE_INDEX, 0, 0, r0);
  const dOut = lm.store.alloc(N * H);
  lm.head.backward(dOut, probs, c.topOutput, N - r0, r0 * H, 0, r0 * H);
  lm.rnn.backwardRaw(c, dOut, null);
  if (folded) {
    table.fill(0);
    k.scatterAddRows(table, c.direction(0).gates, 0, inputs, 0, N, G);
    k.gemm(true, false, G, E, V, 1, table, 0, G, lm.embedding.weight.value, 0, E, 1, w.grad, 0, E);
    k.gemm(false, false, V, E, G, 1, table, 0, G, w.value, 0, E, 1, lm.embedding.weight.grad, 0, E);
  } else {
    lm.embedding.backward(c.inputGrad, inputs, N);
  }
  return { loss, logits: logits.subarray(0, (N - r0) * V) };
}

const kernelSets: [string, Kernels, DType][] = [
  ["js reference, float64", jsKernels, "float64"],
  ["js tiled, float32", jsTiledKernels, "float32"],
  ...(wasmKernels() ? [["wasm, float32", wasmKernels()!, "float32"] as [string, Kernels, DType]] : []),
];

describe("LanguageModel with every dropout 0: the code path it always had", () => {
  for (const [kname, kernels, dtype] of kernelSets) {
    for (const [cell, fold, tie, L, dropout, lossFrom] of [
      ["lstm", false, false, 2, 0.3, 0],
      ["gru", true, true, 2, 0, 2],
      ["rnn", false, true, 1, 0, 1],
      ["lstm", true, false, 3, 0.5, 0],
    ] as [CellName, boolean, boolean, number, number, number][]) {
      it(`${kname}: ${L}-layer ${cell}${tie ? ", tied" : ""}${fold ? ", folded" : ""}${dropout ? `, dropout ${dropout} between layers` : ""}, loss from step ${lossFrom}: loss, logits and gradients bit for bit`, () => {
        const T = 5,
          B = 3,
          V = 9;
        const base: LanguageModelOptions = {
          vocabSize: V,
          embedSize: 6,
          hiddenSize: 6,
          numLayers: L,
          cell,
          tieWeights: tie,
          dropout,
          foldEmbedding: fold,
          dtype,
          seed: 4,
          kernels,
        };
        // explicit zeros, and the options left out: both are the old model
        for (const o of [{ ...base, embeddingDropout: 0, outputDropout: 0 }, base]) {
          const lm = new LanguageModel(o);
          const ref = new LanguageModel(base); // the same weights (same seed), driven by hand
          expectSameBits("initial weights", lm.store.values, ref.store.values);
          for (let pass = 0; pass < 3; pass++) {
            const { inputs, targets } = batch(V, T, B, 10 + pass);
            lm.store.zeroGrad();
            ref.store.zeroGrad();
            const loss = lm.forward(inputs, targets, T, B, null, lossFrom);
            lm.backward();
            const r = referencePass(ref, inputs, targets, T, B, lossFrom, fold);
            expect(Object.is(loss, r.loss), `pass ${pass}: loss ${loss} vs ${r.loss}`).toBe(true);
            expectSameBits(`pass ${pass} logits`, lm.lastLogits, r.logits);
            expectSameBits(`pass ${pass} gradients`, lm.store.grads, ref.store.grads);
            expect(lm.rnn.dropoutCalls).toBe(ref.rnn.dropoutCalls);
            expect(lm.dropoutCalls).toBe(0); // no embedding or output masks were drawn
          }
        }
      });
    }
  }
});

describe("dropoutMask", () => {
  it("drops a share p of the elements and scales the rest by 1/(1-p)", () => {
    const N = 2000,
      B = 8,
      W = 16;
    for (const p of [0.1, 0.5, 0.9]) {
      const m = new Float64Array(N * W);
      dropoutMask(m, 0, N, B, W, p, 7, 3, 0, 0);
      let zeros = 0;
      for (const x of m) {
        if (x === 0) zeros++;
        else expect(x).toBe(1 / (1 - p));
      }
      const n = N * W;
      // a binomial share: within 5 standard deviations of p
      expect(Math.abs(zeros / n - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
    }
  });

  it("is a function of (seed, call, site, step, global row, feature): a shard of rows draws the rows of the whole", () => {
    const T = 6,
      B = 6,
      W = 5,
      p = 0.4;
    const whole = new Float64Array(T * B * W);
    dropoutMask(whole, 0, T * B, B, W, p, 11, 2, 1, 0);
    for (const [b0, b1] of [
      [0, 2],
      [2, 6],
      [3, 4],
    ]) {
      const Bs = b1 - b0;
      const part = new Float64Array(T * Bs * W);
      dropoutMask(part, 0, T * Bs, Bs, W, p, 11, 2, 1, b0);
      for (let t = 0; t < T; t++) {
        for (let b = 0; b < Bs; b++) {
          expectSameBits(
            `rows ${b0}.., step ${t}, row ${b}`,
            part.subarray((t * Bs + b) * W, (t * Bs + b + 1) * W),
            whole.subarray((t * B + b0 + b) * W, (t * B + b0 + b + 1) * W),
          );
        }
      }
    }
    // rows from r0 on only: the earlier rows are left alone, the later ones as in the whole
    const tail = new Float64Array(T * B * W).fill(-1);
    dropoutMask(tail, 2 * B, T * B, B, W, p, 11, 2, 1, 0);
    expect(tail.subarray(0, 2 * B * W).every((x) => x === -1)).toBe(true);
    expectSameBits("rows from step 2", tail.subarray(2 * B * W), whole.subarray(2 * B * W));
    // another call, site or seed draws another mask
    for (const [seed, call, site] of [
      [11, 3, 1],
      [11, 2, 0],
      [12, 2, 1],
    ]) {
      const other = new Float64Array(T * B * W);
      dropoutMask(other, 0, T * B, B, W, p, seed, call, site, 0);
      let differ = 0;
      for (let i = 0; i < other.length; i++) if (other[i] !== whole[i]) differ++;
      expect(differ).toBeGreaterThan(other.length / 5);
    }
  });
});

describe("LanguageModel embedding and output dropout", () => {
  const T = 7,
    B = 4,
    V = 11,
    E = 6,
    H = 5;
  const make = (o: Partial<LanguageModelOptions>) =>
    new LanguageModel({ vocabSize: V, embedSize: E, hiddenSize: H, numLayers: 2, cell: "lstm", dtype: "float64", seed: 3, kernels: jsKernels, ...o });

  it("embedding dropout: in training the recurrent layer sees each embedded element dropped (0) or scaled by 1/(1-p); a share p dropped", () => {
    const p = 0.3;
    const lm = make({ embeddingDropout: p });
    const { inputs, targets } = batch(V, 40, B, 1);
    lm.forward(inputs, targets, 40, B, null, 0);
    const x = lm.lastCache!.x!;
    const w = lm.embedding.weight.value;
    let zeros = 0;
    for (let n = 0; n < 40 * B; n++) {
      for (let j = 0; j < E; j++) {
        const v = x[n * E + j];
        if (v === 0) zeros++;
        else expect(v).toBe(w[inputs[n] * E + j] * (1 / (1 - p)));
      }
    }
    const n = 40 * B * E;
    expect(Math.abs(zeros / n - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
    expect(lm.dropoutCalls).toBe(1);
  });

  it("output dropout: the head reads the top layer's output times a mask of 0 and 1/(1-p), from the loss's first row", () => {
    const p = 0.5;
    const lossFrom = 2;
    const lm = make({ outputDropout: p });
    const { inputs, targets } = batch(V, T, B, 2);
    lm.dropoutCalls = 5;
    lm.forward(inputs, targets, T, B, null, lossFrom);
    const N = T * B;
    const r0 = lossFrom * B;
    const mask = new Float64Array(N * H);
    dropoutMask(mask, r0, N, B, H, p, lm.dropoutSeed, 5, lm.options.numLayers, 0);
    const y = lm.lastCache!.topOutput;
    const dropped = new Float64Array(N * H);
    for (let i = r0 * H; i < N * H; i++) dropped[i] = y[i] * mask[i];
    const logits = new Float64Array((N - r0) * V);
    lm.head.forward(logits, dropped, N - r0, 0, r0 * H);
    expectSameBits("logits", lm.lastLogits, logits);
    // the cache keeps the layer's own output (not the dropped one)
    const zeros = mask.subarray(r0 * H).filter((m) => m === 0).length;
    expect(zeros).toBeGreaterThan(0);
    expect(lm.dropoutCalls).toBe(6);
  });

  it("evaluation mode: nothing is dropped, no mask is drawn, and loss and gradients are those of the model without dropout", () => {
    const { inputs, targets } = batch(V, T, B, 3);
    for (const fold of [false, true]) {
      const plain = make({ foldEmbedding: fold, dropout: 0.4 }).eval();
      const drop = make({ foldEmbedding: fold, dropout: 0.4, embeddingDropout: 0.3, outputDropout: 0.6 }).eval();
      for (const m of [plain, drop]) {
        m.store.zeroGrad();
        m.forward(inputs, targets, T, B, null, 0);
        m.backward();
      }
      expectSameBits("logits", drop.lastLogits, plain.lastLogits);
      expectSameBits("gradients", drop.store.grads, plain.store.grads);
      expect(drop.dropoutCalls).toBe(0);
      expect(drop.rnn.dropoutCalls).toBe(0);
      expect(drop.training).toBe(false);
      drop.train();
      expect(drop.training).toBe(true);
    }
  });

  it("training with embedding dropout never folds the embedding (the table would be of undropped rows); output dropout alone still does", () => {
    const { inputs, targets } = batch(V, T, B, 4);
    const run = (o: Partial<LanguageModelOptions>) => {
      const m = make(o);
      m.store.zeroGrad();
      const loss = m.forward(inputs, targets, T, B, null, 0);
      m.backward();
      return { loss, grads: m.store.grads.slice(), logits: m.lastLogits.slice() };
    };
    // V = 11 <= T*B/2: folded by default; with embedding dropout the same numbers as never folding
    const auto = run({ embeddingDropout: 0.25, outputDropout: 0.2 });
    const forced = run({ embeddingDropout: 0.25, outputDropout: 0.2, foldEmbedding: true });
    const unfolded = run({ embeddingDropout: 0.25, outputDropout: 0.2, foldEmbedding: false });
    for (const r of [auto, forced]) {
      expect(Object.is(r.loss, unfolded.loss)).toBe(true);
      expectSameBits("gradients", r.grads, unfolded.grads);
    }
    // output dropout alone keeps the fold: folded and unfolded differ by rounding only
    const f = run({ outputDropout: 0.2, foldEmbedding: true });
    const u = run({ outputDropout: 0.2, foldEmbedding: false });
    expect(Math.abs(f.loss - u.loss)).toBeLessThan(1e-12);
    for (let i = 0; i < f.logits.length; i++) expect(Math.abs(f.logits[i] - u.logits[i])).toBeLessThan(1e-12);
  });

  it("the counter makes each training pass draw new masks, and setting it back redraws the same ones", () => {
    const lm = make({ embeddingDropout: 0.3, outputDropout: 0.3 });
    const { inputs, targets } = batch(V, T, B, 5);
    const l0 = lm.forward(inputs, targets, T, B, null, 0);
    const l1 = lm.forward(inputs, targets, T, B, null, 0);
    expect(l1).not.toBe(l0);
    lm.dropoutCalls = 0;
    expect(lm.forward(inputs, targets, T, B, null, 0)).toBe(l0);
    expect(lm.dropoutCalls).toBe(1);
  });

  it("a shard of the batch (rowOffset) draws the masks of its rows in the whole batch: the same per-row outputs", () => {
    const o = { embeddingDropout: 0.3, dropout: 0.2, outputDropout: 0.4, foldEmbedding: false };
    const whole = make(o);
    const { inputs, targets } = batch(V, T, B, 6);
    whole.forward(inputs, targets, T, B, null, 0);
    const wx = whole.lastCache!.x!.slice(0, T * B * E);
    const wl = whole.lastLogits.slice();
    for (const [b0, b1] of [
      [0, 1],
      [1, 4],
    ]) {
      const Bs = b1 - b0;
      const shard = make(o);
      shard.rowOffset = b0;
      expect(shard.rnn.rowOffset).toBe(b0);
      const pick = (a: Int32Array) => Int32Array.from({ length: T * Bs }, (_, i) => a[Math.floor(i / Bs) * B + b0 + (i % Bs)]);
      shard.forward(pick(inputs), pick(targets), T, Bs, null, 0);
      const sx = shard.lastCache!.x!;
      const sl = shard.lastLogits;
      for (let t = 0; t < T; t++) {
        for (let b = 0; b < Bs; b++) {
          const r = t * B + b0 + b;
          const s = t * Bs + b;
          expectSameBits(`embedded row (${t}, ${b0 + b})`, sx.subarray(s * E, (s + 1) * E), wx.subarray(r * E, (r + 1) * E));
          for (let v = 0; v < V; v++) expect(Math.abs(sl[s * V + v] - wl[r * V + v])).toBeLessThan(1e-12);
        }
      }
    }
  });

  it("refuses probabilities outside [0, 1) and unknown options, naming them", () => {
    for (const key of ["embeddingDropout", "outputDropout"] as const) {
      for (const bad of [1, -0.1, Number.NaN, 1.5]) expect(() => make({ [key]: bad })).toThrow(new RegExp(`${key} must be in \\[0, 1\\)`));
    }
    expect(() => make({ embedingDropout: 0.1 } as Partial<LanguageModelOptions>)).toThrow(/LanguageModel: unknown option "embedingDropout"/);
    expect(() => make({ hiddensize: 4 } as Partial<LanguageModelOptions>)).toThrow(/unknown option "hiddensize" \(known options: vocabSize, embedSize/);
  });

  it("a model rebuilt from another's options is the same model (what threads and analysis copies do)", () => {
    const a = make({ embeddingDropout: 0.2, outputDropout: 0.1, chronoMax: undefined });
    const { dtype: _d, ...o } = a.options;
    const b = new LanguageModel({ ...o, dtype: "float64", kernels: jsKernels });
    expect(b.options).toEqual(a.options);
    expectSameBits("weights", b.store.values, a.store.values);
  });
});
