// Finite-difference gradient checks (float64, five-point centred stencil) of the rest of PyTorch's
// recurrent API: LSTM projections (projSize), batchFirst, unbatched (2-D) input, a PackedSequence
// input, and the single-step cells (RNNCell, LSTMCell, GRUCell) unrolled over a few steps.
// The harness is layers.test.ts's: loss sum(out * R) with a fixed random R, checked in every
// parameter, the input and the initial state; maximum relative error must be <= 1e-6.

import { afterAll, describe, expect, it } from "vitest";
import {
  type CellCache,
  type Float,
  type GradCheckTarget,
  GRU,
  GRUCell,
  gradCheck,
  LSTM,
  LSTMCell,
  packPaddedSequence,
  type ParamStore,
  type Recurrent,
  type RecurrentOptions,
  RNN,
  RNNCell,
  Rng,
  type Tensor,
  tensor,
} from "../../src/index.js";

const MAX_REL_ERROR = 1e-6;

interface Case {
  loss: () => number;
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

function jitter(store: ParamStore, rng: Rng, scale: number): void {
  const v = store.values;
  for (let i = 0; i < v.length; i++) v[i] += scale * rng.uniformRange(-1, 1);
}

type Cell = "RNN" | "LSTM" | "GRU";
type Input = "time" | "batch" | "unbatched" | "packed";

/**
 * A recurrent stack fed in one of PyTorch's layouts, loss sum(output*R) + sum(h_n*Rh) (+ sum(c_n*Rc)),
 * checked in the parameters, the input as given (for a PackedSequence: its data) and h0 (c0).
 */
function recurrentCase(cell: Cell, o: Partial<RecurrentOptions> & { nonlinearity?: "tanh" | "relu" }, input: Input, lengths?: number[]): Case {
  const rng = new Rng(21);
  const T = 5,
    I = 3,
    H = 5;
  const B = input === "unbatched" ? 1 : 3;
  const opts = { inputSize: I, hiddenSize: H, ...o, batchFirst: input === "batch" || o.batchFirst, dtype: "float64" as const, seed: 21 };
  const m: Recurrent = cell === "LSTM" ? new LSTM(opts) : cell === "GRU" ? new GRU(opts) : new RNN(opts);
  jitter(m.store, rng, 0.2);
  const LD = m.numLayers * m.numDirections;
  const S = m.outputSize;
  const DS = m.numDirections * S;
  const xShape = input === "unbatched" ? [T, I] : input === "batch" ? [B, T, I] : [T, B, I];
  const xPadded = tensor(rand(rng, T * B * I), xShape, "float64");
  // a PackedSequence input is checked in its own data (N, I): the padding is not an input
  const packed = input === "packed" ? packPaddedSequence(xPadded, lengths!, { enforceSorted: false }) : null;
  const x: Tensor = packed ? packed.data : xPadded;
  const stateShape = (F: number) => (input === "unbatched" ? [LD, F] : [LD, B, F]);
  const hx = Array.from({ length: m.stateCount }, (_, i) => {
    const F = i === 0 ? S : H;
    return tensor(rand(rng, LD * B * F), stateShape(F), "float64");
  });
  const rows = packed ? packed.data.shape[0] : T * B;
  const R = rand(rng, rows * DS);
  const Rs = hx.map((h) => rand(rng, h.data.length));
  const dx = new Float64Array(x.data.length);
  const dhx = hx.map((h) => new Float64Array(h.data.length));
  const calls = m.dropoutCalls;
  const lossOf = () => {
    m.dropoutCalls = calls; // the same dropout mask at every evaluation
    const c = packed ? m.forward(packed, hx) : m.forward(x, hx, { lengths });
    if (c.output.data.length !== R.length) throw new Error(`output has ${c.output.data.length} values, expected ${R.length}`);
    return { c, loss: dot(c.output.data, R) + dot(c.hN, Rs[0]) + (c.cN ? dot(c.cN, Rs[1]) : 0) };
  };
  return {
    loss: () => lossOf().loss,
    backward: () => {
      m.store.zeroGrad();
      const g = m.backward(lossOf().c, R, Rs[0], Rs[1] ?? null);
      expect(g.dx.shape).toEqual(x.shape);
      dx.set(g.dx.data);
      dhx[0].set(g.dh0.data);
      if (g.dc0) dhx[1].set(g.dc0.data);
    },
    targets: [
      ...paramTargets(m.store),
      { name: packed ? "packed x" : "x", value: x.data, grad: dx },
      ...hx.map((h, i) => ({ name: i === 0 ? "h0" : "c0", value: h.data, grad: dhx[i] })),
    ],
  };
}

/**
 * A single-step cell unrolled over T steps, one cache per step; loss sum_t sum(h_t*R[t]) (+ the
 * LSTMCell's sum(c_t*Rc[t])); backward in reverse, each step's dhx (dcx) added to the step before.
 */
function cellCase(
  kind: "RNNCell" | "LSTMCell" | "GRUCell",
  o: { nonlinearity?: "tanh" | "relu"; bias?: boolean },
  unbatched: boolean,
  zeroState = false,
): Case {
  const rng = new Rng(22);
  const T = 4,
    I = 3,
    H = 4;
  const B = unbatched ? 1 : 2;
  const base = { inputSize: I, hiddenSize: H, bias: o.bias, dtype: "float64" as const, seed: 22 };
  const cell = kind === "RNNCell" ? new RNNCell({ ...base, nonlinearity: o.nonlinearity }) : kind === "LSTMCell" ? new LSTMCell(base) : new GRUCell(base);
  jitter(cell.store, rng, 0.3);
  const lstm = cell instanceof LSTMCell;
  const sh = (n: number) => (unbatched ? [n] : [B, n]);
  const xs = rand(rng, T * B * I);
  const h0 = tensor(rand(rng, B * H), sh(H), "float64");
  const c0 = tensor(rand(rng, B * H), sh(H), "float64");
  const Rh = rand(rng, T * B * H);
  const Rc = rand(rng, T * B * H);
  const caches: CellCache[] = Array.from({ length: T }, () => cell.createCache(B));
  const dxs = new Float64Array(T * B * I);
  const dh0 = new Float64Array(B * H);
  const dc0 = new Float64Array(B * H);
  const forward = (): number => {
    let h: Tensor | null = zeroState ? null : h0;
    let c: Tensor | null = zeroState ? null : c0;
    let loss = 0;
    for (let t = 0; t < T; t++) {
      const x = { data: xs.subarray(t * B * I, (t + 1) * B * I), shape: sh(I) };
      if (lstm) {
        [h, c] = (cell as LSTMCell).forward(x, h && c ? [h, c] : null, caches[t]);
        loss += dot(c.data, Rc.subarray(t * B * H, (t + 1) * B * H));
      } else {
        h = (cell as RNNCell | GRUCell).forward(x, h, caches[t]);
      }
      loss += dot(h.data, Rh.subarray(t * B * H, (t + 1) * B * H));
    }
    return loss;
  };
  return {
    loss: forward,
    backward: () => {
      cell.store.zeroGrad();
      forward();
      const dh = new Float64Array(B * H);
      const dc = new Float64Array(B * H);
      let next: { dhx: Float; dcx: Float | null } | null = null;
      for (let t = T - 1; t >= 0; t--) {
        for (let i = 0; i < B * H; i++) {
          dh[i] = Rh[t * B * H + i] + (next ? next.dhx[i] : 0);
          dc[i] = Rc[t * B * H + i] + (next?.dcx ? next.dcx[i] : 0);
        }
        const g = lstm ? (cell as LSTMCell).backward(caches[t], dh, dc) : (cell as RNNCell | GRUCell).backward(caches[t], dh);
        dxs.set(g.dx.data, t * B * I);
        next = { dhx: g.dhx.data, dcx: g.dcx ? g.dcx.data : null };
      }
      dh0.set(next!.dhx);
      if (next!.dcx) dc0.set(next!.dcx);
    },
    targets: [
      ...paramTargets(cell.store),
      { name: "x", value: xs, grad: dxs },
      ...(zeroState ? [] : [{ name: "h0", value: h0.data, grad: dh0 }, ...(lstm ? [{ name: "c0", value: c0.data, grad: dc0 }] : [])]),
    ],
  };
}

const cases: Record<string, () => Case> = {
  "LSTM projections, 1 layer": () => recurrentCase("LSTM", { projSize: 2 }, "time"),
  "LSTM projections, 2 layers, no bias": () => recurrentCase("LSTM", { projSize: 3, numLayers: 2, bias: false }, "time"),
  "LSTM projections, bidirectional, 2 layers": () => recurrentCase("LSTM", { projSize: 2, numLayers: 2, bidirectional: true }, "time"),
  "LSTM projections, bidirectional, variable lengths": () => recurrentCase("LSTM", { projSize: 2, numLayers: 2, bidirectional: true }, "time", [2, 5, 3]),
  "LSTM projections, 3 layers, dropout 0.3 in training mode (mask held fixed)": () =>
    recurrentCase("LSTM", { projSize: 3, numLayers: 3, dropout: 0.3 }, "time"),
  "RNN tanh, batchFirst, 2 layers": () => recurrentCase("RNN", { numLayers: 2 }, "batch"),
  "LSTM, batchFirst, bidirectional, variable lengths": () => recurrentCase("LSTM", { bidirectional: true }, "batch", [5, 1, 3]),
  "GRU, batchFirst, 2 layers": () => recurrentCase("GRU", { numLayers: 2 }, "batch"),
  "LSTM projections, batchFirst": () => recurrentCase("LSTM", { projSize: 3, numLayers: 2 }, "batch"),
  "RNN relu, unbatched": () => recurrentCase("RNN", { nonlinearity: "relu", numLayers: 2 }, "unbatched"),
  "LSTM projections, unbatched, bidirectional": () => recurrentCase("LSTM", { projSize: 2, bidirectional: true }, "unbatched"),
  "GRU, unbatched with batchFirst set": () => recurrentCase("GRU", { batchFirst: true, numLayers: 2 }, "unbatched"),
  "GRU, PackedSequence input, bidirectional": () => recurrentCase("GRU", { numLayers: 2, bidirectional: true }, "packed", [3, 5, 3]),
  "LSTM projections, PackedSequence input": () => recurrentCase("LSTM", { projSize: 2 }, "packed", [4, 2, 5]),
  "RNNCell tanh, 4 steps": () => cellCase("RNNCell", {}, false),
  "RNNCell relu, no bias, unbatched, 4 steps": () => cellCase("RNNCell", { nonlinearity: "relu", bias: false }, true),
  "LSTMCell, 4 steps": () => cellCase("LSTMCell", {}, false),
  "LSTMCell, unbatched, from zero states": () => cellCase("LSTMCell", {}, true, true),
  "GRUCell, 4 steps": () => cellCase("GRUCell", {}, false),
  "GRUCell, no bias, unbatched": () => cellCase("GRUCell", { bias: false }, true),
};

const report: string[] = [];
afterAll(() => console.log(`gradient checks of the recurrent API, max relative error (limit ${MAX_REL_ERROR}):\n  ${report.join("\n  ")}`));

describe("gradient check of PyTorch's recurrent API (float64, centred differences)", () => {
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
});
