import { describe, expect, it } from "vitest";
import { LanguageModel } from "../nn/language-model.js";
import { GRU, LSTM, RNN, type Recurrent } from "../nn/recurrent.js";
import { Rng } from "../tensor/rng.js";
import { tensor } from "../tensor/tensor.js";
import { clipSummary, ExplosionWatch } from "../train/clip.js";
import { defaultLags, diagnose } from "./gradflow.js";
import { stepJacobians } from "./jacobian.js";

function rand(rng: Rng, n: number, scale = 1): Float64Array {
  return Float64Array.from({ length: n }, () => scale * rng.uniformRange(-1, 1));
}
const norm = (a: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, x) => s + x * x, 0));

describe("gradient flow recorded by the recurrent backward", () => {
  const cells: [string, () => Recurrent][] = [
    ["RNN", () => new RNN({ inputSize: 3, hiddenSize: 6, numLayers: 2, dtype: "float64", seed: 1 })],
    ["LSTM", () => new LSTM({ inputSize: 3, hiddenSize: 6, numLayers: 2, dtype: "float64", seed: 1 })],
    ["GRU", () => new GRU({ inputSize: 3, hiddenSize: 6, numLayers: 2, dtype: "float64", seed: 1 })],
  ];
  for (const [name, make] of cells) {
    it(`${name}: ‖∂E_T/∂h_k‖ of the top layer equals the chain of hand-written VJPs from step T`, () => {
      const T = 9,
        B = 1,
        I = 3,
        H = 6,
        L = 2;
      const rnn = make();
      const S = rnn.stateCount;
      const rng = new Rng(2);
      const x = tensor(rand(rng, T * B * I), [T, B, I], "float64");
      const c = rnn.forward(x);
      const steps = stepJacobians(rnn, c, L - 1, 0);
      const R = rand(rng, H);
      // the state gradient at step k, by VJPs from step T down (before the backward overwrites the gates)
      const expectH: number[] = [],
        expectC: number[] = [];
      let u = new Float64Array(S * H);
      u.set(R);
      let w = new Float64Array(S * H);
      for (let k = T - 1; k >= 0; k--) {
        expectH[k] = norm(u.subarray(0, H));
        expectC[k] = norm(u.subarray(H));
        steps[k].vjp(u, w);
        [u, w] = [w, u];
      }
      const dOut = new Float64Array(T * B * H);
      dOut.set(R, (T - 1) * B * H); // E = R · h_T of the top layer
      c.flow = { h: new Float64Array(L * T), c: S === 2 ? new Float64Array(L * T) : null };
      rnn.backward(c, dOut);
      for (let k = T - 1; k >= 0; k--) {
        expect(Math.abs(c.flow.h[(L - 1) * T + k] - expectH[k])).toBeLessThan(1e-12 * Math.max(1, expectH[k]));
        if (S === 2) expect(Math.abs(c.flow.c![(L - 1) * T + k] - expectC[k])).toBeLessThan(1e-12 * Math.max(1, expectC[k]));
      }
      // what is left after step 1 is the gradient with respect to the initial state
      expect(norm(u.subarray(0, H))).toBeCloseTo(norm(c.dh0.subarray((L - 1) * H, L * H)), 12);
      // the lower layer saw gradient too, through the upper layer's input weights
      expect(c.flow.h[T - 1]).toBeGreaterThan(0);
    });
  }
});

function toyBatch(V: number, T: number, B: number, seed: number) {
  const rng = new Rng(seed);
  const inputs = Int32Array.from({ length: T * B }, () => rng.int(V));
  const targets = Int32Array.from({ length: T * B }, () => rng.int(V));
  return { inputs, targets };
}

describe("diagnose", () => {
  it("reports every layer and lag, and leaves the model untouched", () => {
    const T = 12,
      B = 3,
      V = 7;
    const lm = new LanguageModel({ vocabSize: V, embedSize: 5, hiddenSize: 8, numLayers: 2, cell: "lstm", dropout: 0.3, seed: 3 });
    const { inputs, targets } = toyBatch(V, T, B, 1);
    lm.forward(inputs, targets, T, B, null);
    lm.store.zeroGrad();
    lm.backward();
    const values = lm.store.values.slice();
    const grads = lm.store.grads.slice();
    const calls = lm.rnn.dropoutCalls;
    const rec = diagnose(lm, inputs, targets, T, { step: 40 });
    expect(lm.store.values).toEqual(values);
    expect(lm.store.grads).toEqual(grads);
    expect(lm.rnn.dropoutCalls).toBe(calls);
    expect(rec.kind).toBe("diagnostics");
    expect(rec.step).toBe(40);
    expect(rec.target).toBe(T);
    expect(rec.layers).toHaveLength(2);
    for (const f of rec.layers) {
      expect(f.gradByStep).toHaveLength(T);
      expect(f.cellGradByStep).toHaveLength(T);
      expect(f.gradByLag).toHaveLength(T);
      expect(f.cellGradByLag).toHaveLength(T);
      expect(f.jacobian.lags).toEqual(defaultLags(T));
      expect(f.jacobian.norms.every((x) => x > 0 && Number.isFinite(x))).toBe(true);
    }
    // the top layer's gradient of E_T at lag 0 is the head's gradient at step T: nonzero; the loss at step T
    // does not depend on... nothing after T: E_T's gradient reaches every earlier step
    expect(rec.layers[1].gradByLag[0]).toBeGreaterThan(0);
    expect(rec.layers[1].gradByLag[T - 1]).toBeGreaterThan(0);
    // c_T gets nothing from E_T through step T+1 (there is none)
    expect(rec.layers[1].cellGradByLag![0]).toBe(0);
    // spectra: one entry per gate block i, f, g, o per layer
    expect(rec.spectra.map((s) => s.block)).toEqual(["i", "f", "g", "o", "i", "f", "g", "o"]);
  });

  it("a tanh RNN with a small W_hh vanishes geometrically and is warned about; a large one is not", () => {
    const T = 40,
      B = 2,
      V = 5;
    const { inputs, targets } = toyBatch(V, T, B, 2);
    const lm = new LanguageModel({ vocabSize: V, embedSize: 4, hiddenSize: 10, cell: "rnn", seed: 1 });
    const w = lm.rnn.params[0].weightHh.value;
    const w0 = w.slice();
    for (let i = 0; i < w.length; i++) w[i] = 0.2 * w0[i];
    const small = diagnose(lm, inputs, targets, T);
    const g = small.layers[0].gradByLag;
    expect(g[T - 1] / g[0]).toBeLessThan(1e-6);
    expect(small.warnings.some((s) => s.startsWith("vanishing gradient"))).toBe(true);
    // Jacobian norms fall with the lag, at most like (γ σ_max)^lag
    const sigma = small.spectra[0].sigmaMax;
    small.layers[0].jacobian.lags.forEach((lag, i) => expect(small.layers[0].jacobian.norms[i]).toBeLessThanOrEqual(sigma ** lag * (1 + 1e-9)));
    for (let i = 0; i < w.length; i++) w[i] = 3 * w0[i];
    const large = diagnose(lm, inputs, targets, T);
    expect(large.warnings).toEqual([]);
    expect(large.spectra[0].regime).toBe("may-explode");
  });
});

describe("clipping statistics", () => {
  it("quantiles, clipped share and a suggestion inside Pascanu's range", () => {
    const norms = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1; the average without the top 1%: 50
    const s = clipSummary(norms, 60);
    expect(s.steps).toBe(100);
    expect(s.clippedShare).toBeCloseTo(0.41, 12); // 100..60: clip_grad_norm_ rescales a norm equal to max_norm too (60 / (60 + 1e-6) < 1)
    expect(s.mean).toBeCloseTo(50, 12);
    expect(s.quantiles).toEqual({ p10: 10, p50: 50, p90: 90, p99: 99, max: 100 });
    expect(s.suggested).toEqual({ low: 25, high: 500, pick: 90 });
    // a small spread: the 90th percentile would sit below half the average, so the suggestion is half the average
    const flat = clipSummary([...Array(95).fill(1), 40, 40, 40, 40, 40], 5);
    expect(flat.suggested.pick).toBeCloseTo(flat.mean / 2, 12);
    // one enormous norm: the 90th percentile stays, the suggestion stays below 10x the mean
    const spiky = clipSummary([...Array(99).fill(1), 1e6], null);
    expect(spiky.suggested.pick).toBe(1);
    expect(spiky.clippedShare).toBe(0);
  });

  it("ExplosionWatch warns on a jump, not on noise", () => {
    const watch = new ExplosionWatch(10, 50);
    const rng = new Rng(1);
    for (let s = 1; s <= 100; s++) expect(watch.observe(s, 1 + rng.uniform())).toBeNull();
    expect(watch.observe(101, 50)).toMatch(/^exploding gradient at step 101/);
    expect(watch.observe(102, Infinity)).toMatch(/exploding/);
  });
});
