import { describe, expect, it } from "vitest";
import { LanguageModel } from "../nn/language-model.js";
import { Adam, RMSprop, SGD } from "./optim.js";
import { TruncatedBPTT } from "./tbptt.js";
import { NonFiniteError, Trainer, Updater } from "./trainer.js";

function tinyLM(seed = 1) {
  return new LanguageModel({ vocabSize: 5, embedSize: 4, hiddenSize: 6, dtype: "float64", seed });
}

const T = 4,
  B = 2;
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

  it("an update that makes a weight non-finite is undone: parameters, optimizer state and step count as before (stop and skip)", () => {
    for (const policy of ["stop", "skip"] as const) {
      // float32 weights, a learning rate finite in float32 that overflows them: 3e38 x 10
      const lm = new LanguageModel({ vocabSize: 5, embedSize: 4, hiddenSize: 6, seed: 3 });
      const opt = new SGD(lm.store, { lr: 3e38, momentum: 0.9 });
      const up = new Updater(lm.store, opt, { nonFinite: policy });
      const hh = lm.store.get("rnn.weight_hh_l0");
      lm.store.zeroGrad();
      hh.grad[2] = 10;
      const before = lm.store.values.slice();
      const momentum = opt.stateBuffers().momentum_buffer.slice();
      let err: unknown = null;
      let r = null;
      try {
        r = up.apply(1.5);
      } catch (e) {
        err = e;
      }
      if (policy === "stop") {
        expect(err).toBeInstanceOf(NonFiniteError);
        expect((err as Error).message).toMatch(/step 1: the update made a parameter of rnn\.weight_hh_l0 -Infinity .*the update was undone/);
      } else {
        expect(r).toMatchObject({ step: 1, skipped: true });
        expect(up.stats).toEqual({ steps: 1, skipped: 1, clipped: 0 });
      }
      expect(lm.store.values).toEqual(before);
      expect(opt.stateBuffers().momentum_buffer).toEqual(momentum);
      expect(opt.stepCount).toBe(0);
      // the same update at a learning rate float32 can take goes through
      opt.lr = 1e-3;
      lm.store.zeroGrad();
      hh.grad[2] = 10;
      expect(up.apply(1.5).skipped).toBe(false);
      expect(hh.value[2]).toBeCloseTo(before[hh.offset + 2] - 1e-2, 6);
    }
  });

  it("an update that makes the optimizer's state non-finite is undone too", () => {
    const lm = tinyLM();
    const opt = new RMSprop(lm.store, { lr: 1e-3 });
    const up = new Updater(lm.store, opt, { nonFinite: "skip" });
    lm.store.zeroGrad();
    lm.store.grads[0] = 1e200; // its square overflows float64's square_avg
    const before = lm.store.values.slice();
    const r = up.apply(1);
    expect(r.skipped).toBe(true);
    expect(lm.store.values).toEqual(before);
    expect(opt.stateBuffers().square_avg.every((x) => x === 0)).toBe(true);
  });

  it("a learning rate must be finite in float32 for float32 weights (1e39 would make every update infinite)", () => {
    const f32 = new LanguageModel({ vocabSize: 5, embedSize: 4, hiddenSize: 6 });
    expect(() => new SGD(f32.store, { lr: 1e39 })).toThrow(/not a float32 number/);
    expect(() => new Adam(f32.store, { lr: 1e-50 })).toThrow(/not a float32 number/);
    const opt = new Adam(f32.store, { lr: 1e-3 });
    expect(() => (opt.lr = Infinity)).toThrow(RangeError);
    expect(opt.lr).toBe(1e-3);
    expect(new SGD(tinyLM().store, { lr: 1e39 }).lr).toBe(1e39); // float64 holds it
  });
});

describe("unknown options are refused, naming them", () => {
  it("Trainer, Updater and TruncatedBPTT", () => {
    const lm = tinyLM();
    const optimizer = new SGD(lm.store, { lr: 0.1 });
    expect(() => new Trainer(lm, { optimizer, batch: B, k1: T, clipnorm: 1 } as never)).toThrow(
      /^Trainer: unknown option "clipnorm" \(known options: clipNorm, /,
    );
    expect(() => new Trainer(lm, { optimizer, batch: B, k1: T, lr: 0.1 } as never)).toThrow(/Trainer: unknown option "lr"/);
    expect(() => new Updater(lm.store, optimizer, { nonfinite: "skip" } as never)).toThrow(/^Updater: unknown option "nonfinite"/);
    expect(() => new Updater(lm.store, optimizer, { k1: 4 } as never)).toThrow(/Updater: unknown option "k1"/);
    expect(() => new TruncatedBPTT(lm, { k1: T, bacth: B } as never)).toThrow(/^TruncatedBPTT: unknown option "bacth" \(known options: k1, k2, batch\)/);
    // every documented option is accepted
    const tr = new Trainer(lm, { optimizer, batch: B, k1: T, k2: T + 1, clipNorm: 1, normType: 2, clipValue: 3, nonFinite: "skip" });
    expect(tr.tbptt.k2).toBe(T + 1);
    expect(tr.step(inputs, targets, T).skipped).toBe(false);
  });
});
