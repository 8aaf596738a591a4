// Finite-difference gradient checks (five-point centred stencil, ε = 1e-4) in float64 of every layer and of whole models: one table,
// one harness (tinygrad's helper_test_op idea). Layer losses are sum(out * R) with a fixed random R,
// the LSTM gist's "nice hash"; models use their own loss. Maximum relative error must be <= 1e-6.

import { afterAll, describe, expect, it } from "vitest";
import {
  activationBackward,
  activationForward,
  crossEntropyBackward,
  crossEntropyForward,
  Embedding,
  gradCheck,
  GRU,
  jsKernels as k,
  LanguageModel,
  Linear,
  LSTM,
  MLP,
  Rng,
  RNN,
  tensor,
  type Activation,
  type Float,
  type GradCheckTarget,
  type ParamStore,
  type Recurrent,
  type RecurrentOptions,
  SequenceClassifier,
} from "../../src/index.js";
import { WeightedSumRNN } from "../helpers/weighted-sum-rnn.js";

const MAX_REL_ERROR = 1e-6;

interface Case {
  /** Recomputes the loss from the current values (no side effects on them). */
  loss: () => number;
  /** Computes the analytic gradients into the targets' grad buffers (after a fresh loss()). */
  backward: () => void;
  targets: GradCheckTarget[];
}

function rand(rng: Rng, n: number, scale = 1): Float64Array {
  return Float64Array.from({ length: n }, () => scale * rng.uniformRange(-1, 1));
}

function dot(a: Float, b: Float): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function paramTargets(store: ParamStore): GradCheckTarget[] {
  return store.params.map((p) => ({ name: p.name, value: p.value, grad: p.grad }));
}

/** Scatters a model's (randomly initialised) parameters a bit so no two are alike. */
function jitter(store: ParamStore, rng: Rng, scale = 0.5): void {
  const v = store.values;
  for (let i = 0; i < v.length; i++) v[i] += scale * rng.uniformRange(-1, 1);
}

/** A recurrent stack with loss sum(output*R) + sum(h_n*Rh) (+ sum(c_n*Rc)), checked in params, x and the initial state. */
function recurrentCase(cell: "RNN" | "LSTM" | "GRU", o: Partial<RecurrentOptions> & { nonlinearity?: "tanh" | "relu" }, lengths?: number[]): Case {
  const rng = new Rng(5);
  const T = 6,
    B = 3,
    I = 4,
    H = 5;
  const opts = { inputSize: I, hiddenSize: H, ...o, dtype: "float64" as const, seed: 5, forgetBias: cell === "LSTM" && o.bias !== false ? 1 : undefined };
  const m: Recurrent = cell === "LSTM" ? new LSTM(opts) : cell === "GRU" ? new GRU(opts) : new RNN(opts);
  jitter(m.store, rng, 0.2);
  const LD = m.numLayers * m.numDirections;
  const DH = m.numDirections * H;
  const x = tensor(rand(rng, T * B * I), [T, B, I], "float64");
  const hx = Array.from({ length: m.stateCount }, () => tensor(rand(rng, LD * B * H), [LD, B, H], "float64"));
  const R = rand(rng, T * B * DH);
  const Rs = hx.map(() => rand(rng, LD * B * H));
  const dx = new Float64Array(T * B * I);
  const dhx = hx.map(() => new Float64Array(LD * B * H));
  const calls = m.dropoutCalls;
  const lossOf = () => {
    m.dropoutCalls = calls; // the same dropout mask at every evaluation
    const c = m.forward(x, hx, { lengths });
    return { c, loss: dot(c.output.data, R) + dot(c.hN, Rs[0]) + (c.cN ? dot(c.cN, Rs[1]) : 0) };
  };
  return {
    loss: () => lossOf().loss,
    backward: () => {
      m.store.zeroGrad();
      const g = m.backward(lossOf().c, R, Rs[0], Rs[1] ?? null);
      dx.set(g.dx.data);
      dhx[0].set(g.dh0.data);
      if (g.dc0) dhx[1].set(g.dc0.data);
    },
    targets: [
      ...paramTargets(m.store),
      { name: "x", value: x.data, grad: dx },
      ...hx.map((h, i) => ({ name: i === 0 ? "h0" : "c0", value: h.data, grad: dhx[i] })),
    ],
  };
}

const cases: Record<string, () => Case> = {
  "Linear (with bias), params and input": () => {
    const rng = new Rng(1);
    const N = 4,
      I = 3,
      O = 5;
    const lin = new Linear(I, O, { dtype: "float64", seed: 1 });
    const x = rand(rng, N * I);
    const R = rand(rng, N * O);
    const out = new Float64Array(N * O);
    const dx = new Float64Array(N * I);
    return {
      loss: () => (lin.forward(out, x, N), dot(out, R)),
      backward: () => (lin.store.zeroGrad(), lin.backward(dx, R, x, N)),
      targets: [...paramTargets(lin.store), { name: "x", value: x, grad: dx }],
    };
  },
  "Embedding, with a repeated id": () => {
    const rng = new Rng(2);
    const emb = new Embedding(6, 3, { dtype: "float64", seed: 2 });
    const ids = Int32Array.from([1, 4, 1, 0, 5]);
    const R = rand(rng, 5 * 3);
    const out = new Float64Array(5 * 3);
    return {
      loss: () => (emb.forward(out, ids, 5), dot(out, R)),
      backward: () => (emb.store.zeroGrad(), emb.backward(R, ids, 5)),
      targets: paramTargets(emb.store),
    };
  },
  ...Object.fromEntries(
    (["tanh", "sigmoid", "relu"] as Activation[]).map((act) => [
      `activation ${act}`,
      (): Case => {
        const rng = new Rng(3);
        const x = rand(rng, 12, 2);
        const R = rand(rng, 12);
        const y = new Float64Array(12);
        const dx = new Float64Array(12);
        return {
          loss: () => (activationForward(act, y, 0, x, 0, 12, k), dot(y, R)),
          backward: () => {
            activationForward(act, y, 0, x, 0, 12, k);
            activationBackward(act, dx, 0, R, 0, y, 0, 12, k);
          },
          targets: [{ name: "x", value: x, grad: dx }],
        };
      },
    ]),
  ),
  "softmax cross-entropy, mean over positions, with an ignored target": () => {
    const rng = new Rng(4);
    const N = 5,
      V = 7;
    const logits = rand(rng, N * V, 3);
    const targets = Int32Array.from([3, -100, 0, 6, 3]);
    const probs = new Float64Array(N * V);
    const dlogits = new Float64Array(N * V);
    return {
      loss: () => crossEntropyForward(probs, logits, targets, N, V, k).loss,
      backward: () => {
        const { count } = crossEntropyForward(probs, logits, targets, N, V, k);
        crossEntropyBackward(dlogits, probs, targets, N, V, count, 1, k);
      },
      targets: [{ name: "logits", value: logits, grad: dlogits }],
    };
  },
  ...Object.fromEntries(
    (
      [
        ["RNN tanh, 1 layer", "RNN", { numLayers: 1, nonlinearity: "tanh" }],
        ["RNN tanh, 2 layers", "RNN", { numLayers: 2, nonlinearity: "tanh" }],
        ["RNN relu, 2 layers", "RNN", { numLayers: 2, nonlinearity: "relu" }],
        ["RNN tanh, 3 layers, no bias", "RNN", { numLayers: 3, nonlinearity: "tanh", bias: false }],
        ["LSTM, 2 layers", "LSTM", { numLayers: 2 }],
        ["LSTM, no bias", "LSTM", { numLayers: 1, bias: false }],
        ["GRU, 2 layers", "GRU", { numLayers: 2 }],
        ["GRU, 3 layers, no bias", "GRU", { numLayers: 3, bias: false }],
        ["RNN tanh, bidirectional, 2 layers", "RNN", { numLayers: 2, bidirectional: true }],
        ["LSTM, bidirectional, 2 layers", "LSTM", { numLayers: 2, bidirectional: true }],
        ["GRU, bidirectional, 2 layers", "GRU", { numLayers: 2, bidirectional: true }],
        ["RNN relu, variable lengths", "RNN", { numLayers: 2, nonlinearity: "relu" }, [6, 2, 4]],
        ["LSTM, variable lengths", "LSTM", { numLayers: 2 }, [3, 6, 1]],
        ["GRU, variable lengths", "GRU", { numLayers: 2 }, [6, 5, 2]],
        ["LSTM, bidirectional, variable lengths", "LSTM", { numLayers: 2, bidirectional: true }, [2, 6, 4]],
        ["GRU, bidirectional, variable lengths", "GRU", { numLayers: 1, bidirectional: true }, [1, 3, 6]],
        ["LSTM, 3 layers, dropout 0.3 in training mode (mask held fixed)", "LSTM", { numLayers: 3, dropout: 0.3 }],
        ["GRU, bidirectional, dropout 0.5 in training mode (mask held fixed)", "GRU", { numLayers: 2, bidirectional: true, dropout: 0.5 }],
      ] as [string, "RNN" | "LSTM" | "GRU", Partial<RecurrentOptions> & { nonlinearity?: "tanh" | "relu" }, number[]?][]
    ).map(([name, cell, o, lengths]) => [`${name}: params, x, h0${cell === "LSTM" ? ", c0" : ""}`, () => recurrentCase(cell, o, lengths)]),
  ),
  "RNN window with the loss counted from step 3 (truncated BPTT's k2 > k1 window)": () => {
    const rng = new Rng(6);
    const T = 7,
      B = 2,
      I = 3,
      H = 4;
    const m = new WeightedSumRNN({ inputSize: I, hiddenSize: H, dtype: "float64", seed: 6 });
    const x = rand(rng, T * B * I);
    const R = rand(rng, T * B * H);
    const s0 = m.createState(B);
    s0[0].set(rand(rng, B * H));
    return {
      loss: () => m.forward(x, R, T, B, s0, 3),
      backward: () => (m.store.zeroGrad(), m.forward(x, R, T, B, s0, 3), m.backward()),
      targets: paramTargets(m.store),
    };
  },
  "sequence classifier (many-to-one): bidirectional LSTM, variable lengths": () => {
    const rng = new Rng(12);
    const T = 5,
      B = 4,
      I = 2;
    const clf = new SequenceClassifier({ inputSize: I, hiddenSize: 3, numClasses: 3, numLayers: 2, bidirectional: true, dtype: "float64", seed: 12 });
    jitter(clf.store, rng, 0.3);
    const x = rand(rng, T * B * I);
    const labels = Int32Array.from([0, 2, 1, 2]);
    const f = () => clf.forward(x, labels, { T, B, lengths: [5, 1, 3, 4] });
    return { loss: f, backward: () => (clf.store.zeroGrad(), f(), clf.backward()), targets: paramTargets(clf.store) };
  },
  "the lecture's sigmoid MLP, squared error": () => {
    const rng = new Rng(7);
    const N = 4;
    const mlp = new MLP({ sizes: [3, 5, 4, 2], dtype: "float64", seed: 7 });
    const x = rand(rng, N * 3);
    const target = Float64Array.from({ length: N * 2 }, () => rng.uniform());
    const dy = new Float64Array(N * 2);
    const dx = new Float64Array(N * 3);
    // E = 1/2 sum (y - t)^2, dE/dy = y - t
    const lossOf = () => {
      const y = mlp.forward(x, N);
      let e = 0;
      for (let i = 0; i < y.length; i++) e += 0.5 * (y[i] - target[i]) ** 2;
      return { y, e };
    };
    return {
      loss: () => lossOf().e,
      backward: () => {
        const { y } = lossOf();
        for (let i = 0; i < y.length; i++) dy[i] = y[i] - target[i];
        mlp.store.zeroGrad();
        dx.set(mlp.backward(dy));
      },
      targets: [...paramTargets(mlp.store), { name: "x", value: x, grad: dx }],
    };
  },
  ...Object.fromEntries(
    (
      [
        ["2-layer RNN language model", "rnn", false, 0, false],
        ["2-layer RNN language model, embedding folded into the input projection", "rnn", false, 0, true],
        ["2-layer RNN language model, tied embedding and head", "rnn", true, 0, false],
        ["2-layer LSTM language model, tied, folded", "lstm", true, 0, true],
        ["2-layer GRU language model, dropout 0.4 (mask held fixed), folded", "gru", false, 0.4, true],
      ] as const
    ).map(([name, cell, tie, dropout, foldEmbedding]) => [
      name,
      (): Case => {
        const rng = new Rng(8);
        const T = 5,
          B = 3,
          V = 9;
        const lm = new LanguageModel({
          vocabSize: V,
          embedSize: 6,
          hiddenSize: 6,
          numLayers: 2,
          cell,
          tieWeights: tie,
          dropout,
          foldEmbedding,
          dtype: "float64",
          seed: 8,
        });
        jitter(lm.store, rng, 0.3);
        const ids = Int32Array.from({ length: (T + 1) * B }, () => rng.int(V));
        const inputs = ids.subarray(0, T * B);
        const targets = ids.subarray(B);
        const calls = lm.rnn.dropoutCalls;
        const f = () => ((lm.rnn.dropoutCalls = calls), lm.forward(inputs, targets, T, B, null, 0));
        return {
          loss: f,
          backward: () => (lm.store.zeroGrad(), f(), lm.backward()),
          targets: paramTargets(lm.store),
        };
      },
    ]),
  ),
};

const report: string[] = [];
afterAll(() => console.log(`gradient checks, max relative error (limit ${MAX_REL_ERROR}):\n  ${report.join("\n  ")}`));

describe("gradient check (float64, centred differences)", () => {
  for (const [name, make] of Object.entries(cases)) {
    it(name, () => {
      const c = make();
      c.loss();
      c.backward();
      const r = gradCheck(c.loss, c.targets);
      report.push(`${r.maxRelError.toExponential(1)}  ${name} (${r.checked} elements)`);
      expect(r.checked).toBeGreaterThan(0);
      expect(r.maxRelError, `worst: ${r.name}[${r.index}] analytic ${r.analytic} numeric ${r.numeric}`).toBeLessThanOrEqual(MAX_REL_ERROR);
    });
  }

  it("catches a wrong gradient (the harness can fail)", () => {
    const c = cases["Linear (with bias), params and input"]();
    c.loss();
    c.backward();
    c.targets[0].grad[2] *= 1.001; // a 0.1% error in one element
    expect(gradCheck(c.loss, c.targets).maxRelError).toBeGreaterThan(1e-4);
  });
});
