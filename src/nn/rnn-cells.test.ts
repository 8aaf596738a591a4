import { describe, expect, it } from "vitest";
import { jsKernels } from "../tensor/js-kernels.js";
import { Rng } from "../tensor/rng.js";
import { tensor, type Tensor } from "../tensor/tensor.js";
import { GRU, LSTM, RNN, type Recurrent } from "./recurrent.js";
import { type CellGrads, GRUCell, LSTMCell, RNNCell, type RNNCellBase } from "./rnn-cells.js";

function rand(rng: Rng, n: number): Float64Array {
  return Float64Array.from({ length: n }, () => rng.uniformRange(-1, 1));
}

function same(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  return a.length === b.length && Array.prototype.every.call(a, (v: number, i: number) => Object.is(v, b[i]));
}

const T = 4,
  B = 3,
  I = 3,
  H = 5;

type Pair = [string, () => RNNCellBase, () => Recurrent];
const pairs: Pair[] = [
  [
    "RNNCell relu / RNN relu",
    () => new RNNCell({ inputSize: I, hiddenSize: H, nonlinearity: "relu", dtype: "float64", seed: 2, kernels: jsKernels }),
    () => new RNN({ inputSize: I, hiddenSize: H, nonlinearity: "relu", dtype: "float64", seed: 9, kernels: jsKernels }),
  ],
  [
    "LSTMCell / LSTM",
    () => new LSTMCell({ inputSize: I, hiddenSize: H, dtype: "float64", seed: 2, kernels: jsKernels }),
    () => new LSTM({ inputSize: I, hiddenSize: H, dtype: "float64", seed: 9, kernels: jsKernels }),
  ],
  [
    "GRUCell / GRU",
    () => new GRUCell({ inputSize: I, hiddenSize: H, dtype: "float64", seed: 2, kernels: jsKernels }),
    () => new GRU({ inputSize: I, hiddenSize: H, dtype: "float64", seed: 9, kernels: jsKernels }),
  ],
];

describe("single-step cells", () => {
  for (const [name, makeCell, makeLayer] of pairs) {
    it(`${name}: the cell stepped T times is the 1-layer stack (the same arithmetic: states bit for bit, gradients to rounding)`, () => {
      const rng = new Rng(4);
      const cell = makeCell();
      const layer = makeLayer();
      // the layer's weights are the cell's: weight_ih_l0 = weight_ih, ...
      for (const p of cell.store.params) layer.store.get(`${p.name}_l0`).value.set(p.value);
      const lstm = cell instanceof LSTMCell;
      const x = rand(rng, T * B * I);
      const h0 = rand(rng, B * H);
      const c0 = rand(rng, B * H);
      const R = rand(rng, T * B * H);
      const hx = lstm ? [tensor(h0, [1, B, H], "float64"), tensor(c0, [1, B, H], "float64")] : tensor(h0, [1, B, H], "float64");
      const lc = layer.forward(tensor(x, [T, B, I], "float64"), hx);
      layer.store.zeroGrad();
      const lg = layer.backward(lc, R);
      // the cell, one cache per step
      const caches = Array.from({ length: T }, () => cell.createCache(B));
      let h: Tensor = tensor(h0, [B, H], "float64");
      let c: Tensor = tensor(c0, [B, H], "float64");
      for (let t = 0; t < T; t++) {
        const xt = tensor(x.subarray(t * B * I, (t + 1) * B * I), [B, I], "float64");
        if (cell instanceof LSTMCell) [h, c] = cell.forward(xt, [h, c], caches[t]);
        else h = (cell as RNNCell | GRUCell).forward(xt, h, caches[t]);
        expect(same(h.data, lc.output.data.subarray(t * B * H, (t + 1) * B * H))).toBe(true);
      }
      if (lstm) expect(same(c.data, lc.cN!)).toBe(true);
      cell.store.zeroGrad();
      const dh = new Float64Array(B * H);
      let dcNext: Float64Array | null = null;
      let dhx: Float64Array | null = null;
      for (let t = T - 1; t >= 0; t--) {
        for (let i = 0; i < B * H; i++) dh[i] = R[t * B * H + i] + (dhx ? dhx[i] : 0);
        const g: CellGrads = cell instanceof LSTMCell ? cell.backward(caches[t], dh, dcNext) : (cell as RNNCell | GRUCell).backward(caches[t], dh);
        for (let j = 0; j < B * I; j++) expect(g.dx.data[j]).toBeCloseTo(lg.dx.data[t * B * I + j], 12);
        dhx = Float64Array.from(g.dhx.data);
        dcNext = g.dcx ? Float64Array.from(g.dcx.data) : null;
      }
      for (let j = 0; j < B * H; j++) expect(dhx![j]).toBeCloseTo(lg.dh0.data[j], 12);
      if (lstm) for (let j = 0; j < B * H; j++) expect(dcNext![j]).toBeCloseTo(lg.dc0!.data[j], 12);
      for (const p of cell.store.params) {
        const lp = layer.store.get(`${p.name}_l0`);
        for (let j = 0; j < p.size; j++) expect(p.grad[j]).toBeCloseTo(lp.grad[j], 12);
      }
    });
  }

  it("PyTorch's names and shapes: weight_ih (G, I), weight_hh (G, H), bias_ih, bias_hh; no bias when asked", () => {
    const shapes = (c: RNNCellBase) => c.store.params.map((p) => `${p.name} ${p.shape.join("x")}`);
    expect(shapes(new LSTMCell({ inputSize: 3, hiddenSize: 4 }))).toEqual(["weight_ih 16x3", "weight_hh 16x4", "bias_ih 16", "bias_hh 16"]);
    expect(shapes(new GRUCell({ inputSize: 3, hiddenSize: 4, prefix: "cell" }))).toEqual([
      "cell.weight_ih 12x3",
      "cell.weight_hh 12x4",
      "cell.bias_ih 12",
      "cell.bias_hh 12",
    ]);
    expect(shapes(new RNNCell({ inputSize: 3, hiddenSize: 4, bias: false }))).toEqual(["weight_ih 4x3", "weight_hh 4x4"]);
    // PyTorch's initialisation: every parameter U(±1/sqrt(H))
    expect(new LSTMCell({ inputSize: 3, hiddenSize: 16, seed: 1 }).store.values.every((v) => Math.abs(v) <= 0.25)).toBe(true);
  });

  it("unbatched input (I) and state (H); an omitted state is zeros; no cache makes one", () => {
    const cell = new LSTMCell({ inputSize: 2, hiddenSize: 3, dtype: "float64", seed: 5 });
    const x = tensor([0.3, -0.7], [2], "float64");
    const [h, c] = cell.forward(x);
    expect(h.shape).toEqual([3]);
    expect(c.shape).toEqual([3]);
    const zeros = tensor([0, 0, 0], [3], "float64");
    const [h2, c2] = cell.forward(x, [zeros, zeros]);
    expect(same(h2.data, h.data)).toBe(true);
    expect(same(c2.data, c.data)).toBe(true);
    const batched = cell.forward(tensor([0.3, -0.7], [1, 2], "float64"))[0];
    expect(batched.shape).toEqual([1, 3]);
    expect(same(batched.data, h.data)).toBe(true);
    const cache = cell.createCache(1);
    cell.forward(x, null, cache);
    const g = cell.backward(cache, tensor([1, 0, 0], [3], "float64"));
    expect(g.dx.shape).toEqual([2]);
    expect(g.dhx.shape).toEqual([3]);
    expect(g.dcx!.shape).toEqual([3]);
  });

  it("refuses shapes that do not fit, a cache of another batch, a backward before a forward, and unknown options", () => {
    const cell = new GRUCell({ inputSize: 2, hiddenSize: 3 });
    expect(() => cell.forward(tensor([1, 2, 3], [3]))).toThrow(/GRUCell unbatched input x \(I\): expected shape \[2\]/);
    expect(() => cell.forward(tensor([1, 2, 3, 4], [2, 2]), tensor([0, 0, 0], [3]))).toThrow(/hx \(B, H\): expected shape \[2, 3\]/);
    expect(() => cell.forward(tensor([1, 2], [2]), tensor([0, 0, 0, 0, 0, 0], [2, 3]))).toThrow(/hx \(H\), for an unbatched input,: expected shape \[3\]/);
    expect(() => cell.forward(tensor([1, 2, 3, 4], [2, 2]), null, cell.createCache(3))).toThrow(/createCache\(2\)/);
    expect(() => cell.backward(cell.createCache(1), new Float32Array(3))).toThrow(/run forward with this cache first/);
    const cache = cell.createCache(1);
    cell.forward(tensor([1, 2], [2]), null, cache);
    expect(() => cell.backward(cache, new Float32Array(4))).toThrow(/dh must have 1\*3 elements/);
    expect(() => new GRUCell({ inputSize: 2, hiddenSize: 3, nonlinearity: "relu" } as never)).toThrow(/GRUCell: unknown option "nonlinearity"/);
    expect(() => new RNNCell({ inputSize: 2, hiddenSize: 3, nonlinearity: "sigmoid" as "tanh" })).toThrow(/nonlinearity must be one of tanh, relu/);
    expect(() => new LSTMCell({ inputSize: 2, hidden_size: 3 } as never)).toThrow(
      /LSTMCell: unknown option "hidden_size" \(known options: .*inputSize, hiddenSize, bias\)/,
    );
  });
});
