import { describe, expect, it } from "vitest";
import { RNN } from "../nn/recurrent.js";
import { jsKernels } from "../tensor/js-kernels.js";
import { Rng } from "../tensor/rng.js";
import { tensor } from "../tensor/tensor.js";
import { OmegaRegularizer } from "./omega.js";

function rand(rng: Rng, n: number, scale = 1): Float64Array {
  return Float64Array.from({ length: n }, () => scale * rng.uniformRange(-1, 1));
}

describe("Pascanu's Ω regulariser", () => {
  const T = 6,
    B = 3,
    I = 2,
    H = 4;
  const setup = () => {
    const rnn = new RNN({ inputSize: I, hiddenSize: H, dtype: "float64", seed: 3, kernels: jsKernels });
    const rng = new Rng(8);
    const x = rand(rng, T * B * I);
    const dOutLoss = rand(rng, T * B * H); // E = Σ dOutLoss · h
    return { rnn, x, dOutLoss };
  };

  it("Ω is Σ_k (‖g_k J_k‖/‖g_k‖ - 1)² and its gradient (g held constant) matches central differences", () => {
    const { rnn, x, dOutLoss } = setup();
    const omega = new OmegaRegularizer(rnn, jsKernels);
    // g_k from the loss's backward, recorded
    const c = rnn.forward(tensor(x, [T, B, I], "float64"));
    c.stateGrads = omega.stateGrads(T, B);
    rnn.backward(c, dOutLoss);
    const G = (c.stateGrads as Float64Array).slice(0, T * B * H);
    // Ω with G fixed, as a function of the weights: recomputed from scratch for the differences
    const omegaOf = () => {
      const cc = rnn.forward(tensor(x, [T, B, I], "float64"));
      const hs = cc.layers[0].dirs[0].hs;
      const W = rnn.params[0].weightHh.value;
      let sum = 0;
      for (let t = 0; t < T; t++) {
        let ng = 0,
          nu = 0;
        for (let b = 0; b < B; b++) {
          for (let j = 0; j < H; j++) {
            let uj = 0;
            for (let i = 0; i < H; i++) {
              const h = hs[(t + 1) * B * H + b * H + i];
              uj += G[(t * B + b) * H + i] * (1 - h * h) * W[i * H + j];
            }
            nu += uj * uj;
            ng += G[(t * B + b) * H + j] ** 2;
          }
        }
        sum += (Math.sqrt(nu) / Math.sqrt(ng) - 1) ** 2;
      }
      return sum;
    };
    const lambda = 0.7;
    rnn.store.zeroGrad();
    const dOut = new Float64Array(T * B * H);
    const value = omega.backward(c, lambda, dOut);
    expect(value).toBeCloseTo(omegaOf(), 12);
    expect(value).toBeGreaterThan(0);
    const c2 = rnn.forward(tensor(x, [T, B, I], "float64"));
    rnn.backward(c2, dOut);
    const grads = rnn.store.grads.slice();
    const values = rnn.store.values;
    const eps = 1e-6;
    let worst = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      values[i] = v + eps;
      const up = omegaOf();
      values[i] = v - eps;
      const down = omegaOf();
      values[i] = v;
      const fd = (lambda * (up - down)) / (2 * eps);
      worst = Math.max(worst, Math.abs(fd - grads[i]) / Math.max(1e-6, Math.abs(fd) + Math.abs(grads[i])));
    }
    expect(worst).toBeLessThan(1e-6);
  });

  it("is zero for an orthogonal W_hh in the linear regime, where the norm is kept exactly", () => {
    // tiny inputs and state: σ' ≈ 1, so ‖g W‖ = ‖g‖ for orthogonal W and Ω ≈ 0
    const rnn = new RNN({ inputSize: I, hiddenSize: H, dtype: "float64", seed: 3, kernels: jsKernels, init: "orthogonal" });
    const omega = new OmegaRegularizer(rnn, jsKernels);
    rnn.params[0].biasIh!.value.fill(0);
    rnn.params[0].biasHh!.value.fill(0);
    const rng = new Rng(1);
    const c = rnn.forward(tensor(rand(rng, T * B * I, 1e-6), [T, B, I], "float64"));
    c.stateGrads = omega.stateGrads(T, B);
    rnn.backward(c, rand(rng, T * B * H));
    expect(omega.backward(c, 1, new Float64Array(T * B * H))).toBeLessThan(1e-20);
  });

  it("refuses gated cells and stacks", () => {
    expect(() => new OmegaRegularizer(new RNN({ inputSize: 1, hiddenSize: 2, numLayers: 2 }), jsKernels)).toThrow(/single-layer/);
  });
});
