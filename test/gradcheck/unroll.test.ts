// The lecture's point, as a test: an RNN unrolled in time is a feed-forward network whose T copies
// share one W_hh. Give every copy its own W_hh (initialised equal), backprop through the
// feed-forward net, and the BPTT gradient of the shared W_hh is the sum of the copies' gradients:
// "compute the gradients as usual and then use dE/dw1 + dE/dw2 for both".

import { describe, expect, it } from "vitest";
import { activationBackward, activationForward, jsKernels as k, Linear, ParamStore, Rng, RNN, tensor } from "../../src/index.js";

describe("backpropagation with weight constraints", () => {
  it("BPTT's gradient of W_hh equals the sum of the unrolled copies' gradients", () => {
    const T = 6,
      B = 2,
      I = 3,
      H = 4;
    const rng = new Rng(11);
    const rnn = new RNN({ inputSize: I, hiddenSize: H, dtype: "float64", seed: 11 });
    const x = Float64Array.from({ length: T * B * I }, () => rng.uniformRange(-1, 1));
    const R = Float64Array.from({ length: T * B * H }, () => rng.uniformRange(-1, 1));
    const [W_ih, W_hh, b_ih, b_hh] = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"].map((n) => rnn.store.get(n).value);
    W_hh.forEach((_, i) => (W_hh[i] *= 3)); // large enough that the steps matter to each other

    // BPTT on the recurrent layer, loss = sum(output * R)
    const c = rnn.forward(tensor(x, [T, B, I], "float64"));
    rnn.store.zeroGrad();
    rnn.backward(c, R);
    const bpttGrad = rnn.store.get("weight_hh_l0").grad;

    // the same network unrolled: T feed-forward layers, each with a W_hh of its own
    const store = new ParamStore({ dtype: "float64" });
    const inProj = new Linear(I, H, { store, prefix: "in" });
    const copies = Array.from({ length: T }, (_, t) => new Linear(H, H, { store, prefix: `copy${t}`, bias: false }));
    inProj.weight.value.set(W_ih);
    inProj.bias!.value.set(b_ih.map((v, i) => v + b_hh[i]));
    for (const cp of copies) cp.weight.value.set(W_hh);
    const hs = Array.from({ length: T + 1 }, () => new Float64Array(B * H)); // hs[0] = 0
    const pre = new Float64Array(B * H);
    for (let t = 0; t < T; t++) {
      copies[t].forward(pre, hs[t], B);
      inProj.forward(hs[t + 1], x.subarray(t * B * I), B);
      k.axpy(hs[t + 1], 0, 1, pre, 0, B * H);
      activationForward("tanh", hs[t + 1], 0, hs[t + 1], 0, B * H, k);
    }
    // the unrolled outputs are the RNN's outputs
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < B * H; i++) expect(hs[t + 1][i]).toBeCloseTo(c.output.data[t * B * H + i], 14);
    }
    // ordinary backprop through the feed-forward chain
    store.zeroGrad();
    const dh = new Float64Array(B * H);
    const dz = new Float64Array(B * H);
    for (let t = T - 1; t >= 0; t--) {
      k.axpy(dh, 0, 1, R, t * B * H, B * H); // the loss at step t joins what came from above
      activationBackward("tanh", dz, 0, dh, 0, hs[t + 1], 0, B * H, k);
      copies[t].backward(dh, dz, hs[t], B); // dh <- dz W_hh^(t): on to layer t-1
    }

    const sum = new Float64Array(H * H);
    for (const cp of copies) k.axpy(sum, 0, 1, cp.weight.grad, 0, H * H);
    for (let i = 0; i < H * H; i++) expect(bpttGrad[i]).toBeCloseTo(sum[i], 12);
    // and no single copy's gradient is the whole story
    const differs = copies.map((cp) => cp.weight.grad.some((g, i) => Math.abs(g - bpttGrad[i]) > 1e-3));
    expect(differs.every(Boolean)).toBe(true);
  });
});
