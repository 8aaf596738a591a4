// Finite-difference gradient checks (five-point centred stencil, ε = 1e-4) in float64 of the
// feed-forward language model (Bengio et al. 2003): every parameter, with a window that straddles
// the chunk's start (tokens from the carried state) and padding before the stream's start, with
// and without the direct connections, one and two hidden layers; and the gradient of log p with
// respect to each step's embedded input (logProbGradient), which the saliency probe reads.

import { afterAll, describe, expect, it } from "vitest";
import { FeedForwardLM, gradCheck, jsKernels, Rng, type ParamStore } from "../../src/index.js";

const MAX_REL_ERROR = 1e-6;

function jitter(store: ParamStore, rng: Rng, scale: number): void {
  const v = store.values;
  for (let i = 0; i < v.length; i++) v[i] += scale * rng.uniformRange(-1, 1);
}

const report: string[] = [];
afterAll(() => console.log(`feed-forward LM gradient checks, max relative error (limit ${MAX_REL_ERROR}):\n  ${report.join("\n  ")}`));

describe("gradient check of FeedForwardLM (float64)", () => {
  for (const [name, window, L, direct, act, withState, lossFrom] of [
    ["window 3, 1 hidden layer, tanh, from the stream's start (padding)", 3, 1, false, "tanh", false, 0],
    ["window 4, 2 hidden layers, direct connections, a carried window, loss from step 2", 4, 2, true, "tanh", true, 2],
    ["window 1 (bigram), relu, direct connections", 1, 1, true, "relu", true, 0],
    ["window 7 longer than the chunk, 1 layer", 7, 1, false, "tanh", true, 1],
  ] as [string, number, number, boolean, "tanh" | "relu", boolean, number][]) {
    it(name, () => {
      const rng = new Rng(5);
      const T = 5,
        B = 3,
        V = 7;
      const ff = new FeedForwardLM({
        vocabSize: V,
        embedSize: 3,
        hiddenSize: 5,
        window,
        numLayers: L,
        direct,
        nonlinearity: act,
        dtype: "float64",
        seed: 5,
        kernels: jsKernels,
      });
      jitter(ff.store, rng, 0.2);
      const ids = Int32Array.from({ length: (T + 1) * B }, () => rng.int(V));
      const inputs = ids.subarray(0, T * B);
      const targets = ids.subarray(B);
      const state = ff.createState(B);
      // a carried window: some slots hold tokens (id + 1), some are still empty (0)
      if (withState) for (let i = 0; i < state[0].length; i++) state[0][i] = i % 4 === 0 ? 0 : 1 + rng.int(V);
      const loss = () => ff.forward(inputs, targets, T, B, state, lossFrom);
      ff.store.zeroGrad();
      loss();
      ff.backward();
      const r = gradCheck(
        loss,
        ff.store.params.map((p) => ({ name: p.name, value: p.value, grad: p.grad })),
      );
      report.push(`${name}: ${r.maxRelError.toExponential(2)} (${r.checked} elements; worst ${r.name}[${r.index}])`);
      expect(r.checked).toBe(ff.store.size);
      expect(r.maxRelError, `${r.name}[${r.index}]: analytic ${r.analytic}, numeric ${r.numeric}`).toBeLessThanOrEqual(MAX_REL_ERROR);
    });
  }

  it("logProbGradient: ∂ log p(target) / ∂ x_t by finite differences, zero outside the window; parameter gradients untouched", () => {
    const rng = new Rng(8);
    const V = 6,
      E = 3,
      T = 6,
      n = 4;
    const ff = new FeedForwardLM({
      vocabSize: V,
      embedSize: E,
      hiddenSize: 5,
      window: n,
      numLayers: 2,
      direct: true,
      dtype: "float64",
      seed: 8,
      kernels: jsKernels,
    });
    jitter(ff.store, rng, 0.2);
    const inputs = Int32Array.from([3, 1, 4, 0, 5, 2]); // distinct: a row's gradient is one step's
    const target = 2;
    ff.store.zeroGrad();
    for (let i = 0; i < ff.store.size; i++) ff.store.grads[i] = i * 1e-3;
    const before = Float64Array.from(ff.store.grads);
    const g = new Float64Array(T * E);
    const logp = ff.logProbGradient(inputs, T, target, g);
    expect(Array.from(ff.store.grads)).toEqual(Array.from(before));
    // log p as a function of one step's embedded input: perturb the embedding row through a copy of the model's table
    const w = ff.embedding.weight.value;
    const logpOf = () => {
      const s = ff.createState(1);
      const l = ff.predict(inputs, T, 1, s);
      let m = -Infinity;
      for (let v = 0; v < V; v++) m = Math.max(m, l[v]);
      let sum = 0;
      for (let v = 0; v < V; v++) sum += Math.exp(l[v] - m);
      return l[target] - m - Math.log(sum);
    };
    expect(logpOf()).toBeCloseTo(logp, 12);
    // each step's token is its own: the gradient of the token's embedding row is the step's input gradient
    let checked = 0;
    for (let t = 0; t < T; t++) {
      const tok = inputs[t];
      for (let e = 0; e < E; e++) {
        const i = tok * E + e;
        const x0 = w[i];
        const h = 1e-5;
        w[i] = x0 + h;
        const up = logpOf();
        w[i] = x0 - h;
        const down = logpOf();
        w[i] = x0;
        const numeric = (up - down) / (2 * h);
        if (t < T - n) expect(g[t * E + e]).toBe(0);
        expect(Math.abs(numeric - g[t * E + e])).toBeLessThanOrEqual(1e-7 * Math.max(1, Math.abs(numeric)));
        checked++;
      }
    }
    expect(checked).toBe(T * E);
  });
});
