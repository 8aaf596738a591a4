import { describe, expect, it } from "vitest";
import { LanguageModel } from "../nn/language-model.js";
import { Adam, SGD } from "./optim.js";
import { NonFiniteError, Trainer } from "./trainer.js";

function tinyLM(seed = 1) {
  return new LanguageModel({ vocabSize: 5, embedSize: 4, hiddenSize: 6, dtype: "float64", seed });
}

const T = 4, B = 2;
const inputs = Int32Array.from([0, 1, 2, 3, 4, 0, 1, 2]);
const targets = Int32Array.from([1, 2, 3, 4, 0, 1, 2, 3]);

describe("Trainer", () => {
  it("reports the pre-clip norm and whether the step was clipped", () => {
    const lm = tinyLM();
    const tr = new Trainer(lm, { optimizer: new SGD(lm.store, { lr: 0.1 }), batch: B, k1: T, clipNorm: 1e-3 });
    const r = tr.step(inputs, targets, T);
    expect(r).toMatchObject({ step: 1, clipped: true, skipped: false });
    expect(r.gradNorm).toBeGreaterThan(1e-3);
    expect(tr.stats.clipped).toBe(1);
  });

  it("policy stop: throws a NonFiniteError naming the step and the norm, parameters untouched", () => {
    const lm = tinyLM();
    const tr = new Trainer(lm, { optimizer: new Adam(lm.store), batch: B, k1: T });
    tr.step(inputs, targets, T);
    const before = lm.store.values.slice();
    lm.store.get("head.bias").value[0] = NaN; // poison the next forward
    before[lm.store.get("head.bias").offset] = NaN;
    let err: unknown;
    try {
      tr.step(inputs, targets, T);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NonFiniteError);
    expect((err as Error).message).toMatch(/non-finite values at step 2: loss NaN, gradient norm NaN/);
    expect(lm.store.values).toEqual(before);
  });

  it("policy skip: skips and counts the update, resets a non-finite state, and goes on", () => {
    const lm = tinyLM();
    const opt = new Adam(lm.store);
    const tr = new Trainer(lm, { optimizer: opt, batch: B, k1: T, nonFinite: "skip" });
    const w = lm.store.get("rnn.weight_hh_l0").value;
    const saved = w[0];
    w[0] = NaN; // the recurrent state becomes NaN
    const before = lm.store.values.slice();
    const r = tr.step(inputs, targets, T);
    expect(r.skipped).toBe(true);
    expect(r.loss).toBeNaN();
    expect(lm.store.values).toEqual(before);
    expect(opt.stepCount).toBe(0);
    expect(tr.tbptt.state[0].every(Number.isFinite)).toBe(true);
    w[0] = saved;
    const r2 = tr.step(inputs, targets, T);
    expect(r2.skipped).toBe(false);
    expect(Number.isFinite(r2.loss)).toBe(true);
    expect(tr.stats).toEqual({ steps: 2, skipped: 1, clipped: 0 });
  });
});
