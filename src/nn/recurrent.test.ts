import { describe, expect, it } from "vitest";
import { Rng } from "../tensor/rng.js";
import { tensor } from "../tensor/tensor.js";
import { createRecurrent, GRU, LSTM, RNN, type Recurrent, type RecurrentOptions } from "./recurrent.js";
import { packPaddedSequence, padPackedSequence } from "./pack.js";
import { SequenceClassifier } from "./sequence-classifier.js";
import { Adam } from "../train/optim.js";
import { wasmKernels } from "../tensor/select.js";

type Cell = "RNN" | "LSTM" | "GRU";
function make(cell: Cell, o: RecurrentOptions): Recurrent {
  return cell === "LSTM" ? new LSTM(o) : cell === "GRU" ? new GRU(o) : new RNN(o);
}
function rand(rng: Rng, n: number): Float64Array {
  return Float64Array.from({ length: n }, () => rng.uniformRange(-1, 1));
}

describe("variable-length batches (packed-sequence semantics)", () => {
  for (const cell of ["RNN", "LSTM", "GRU"] as const) {
    for (const bidirectional of [false, true]) {
      it(`${cell}${bidirectional ? " bidirectional" : ""}: a padded batch with lengths equals each sequence run alone`, () => {
        const T = 6,
          I = 3,
          H = 4,
          L = 2;
        const lengths = [6, 2, 4];
        const B = lengths.length;
        const rng = new Rng(9);
        const m = make(cell, { inputSize: I, hiddenSize: H, numLayers: L, bidirectional, dtype: "float64", seed: 2 });
        const D = m.numDirections;
        const x = rand(rng, T * B * I);
        const R = rand(rng, T * B * D * H);
        const Rh = rand(rng, L * D * B * H);
        // the batch
        const c = m.forward(tensor(x, [T, B, I], "float64"), null, { lengths });
        m.store.zeroGrad();
        const g = m.backward(c, R, Rh);
        const batchGrads = m.store.grads.slice();
        const out = c.output.data.slice();
        const hN = c.hN.slice();
        const dx = g.dx.data.slice();
        // each sequence alone, its own length, no padding
        const sum = new Float64Array(batchGrads.length);
        for (let b = 0; b < B; b++) {
          const n = lengths[b];
          const xb = new Float64Array(n * I);
          const Rb = new Float64Array(n * D * H);
          const Rhb = new Float64Array(L * D * H);
          for (let t = 0; t < n; t++) {
            xb.set(x.subarray((t * B + b) * I, (t * B + b + 1) * I), t * I);
            Rb.set(R.subarray((t * B + b) * D * H, (t * B + b + 1) * D * H), t * D * H);
          }
          for (let j = 0; j < L * D; j++) Rhb.set(Rh.subarray((j * B + b) * H, (j * B + b + 1) * H), j * H);
          const cb = m.forward(tensor(xb, [n, 1, I], "float64"));
          m.store.zeroGrad();
          const gb = m.backward(cb, Rb, Rhb);
          for (let i = 0; i < sum.length; i++) sum[i] += m.store.grads[i];
          for (let t = 0; t < T; t++) {
            for (let j = 0; j < D * H; j++) {
              const got = out[(t * B + b) * D * H + j];
              expect(got).toBeCloseTo(t < n ? cb.output.data[t * D * H + j] : 0, 12);
            }
            for (let j = 0; j < I; j++) expect(dx[(t * B + b) * I + j]).toBeCloseTo(t < n ? gb.dx.data[t * I + j] : 0, 12);
          }
          for (let j = 0; j < L * D; j++) {
            for (let q = 0; q < H; q++) expect(hN[(j * B + b) * H + q]).toBeCloseTo(cb.hN[j * H + q], 12);
          }
        }
        for (let i = 0; i < sum.length; i++) expect(batchGrads[i]).toBeCloseTo(sum[i], 11);
      });
    }
  }

  it("rejects lengths outside 1..T", () => {
    const m = new GRU({ inputSize: 1, hiddenSize: 2 });
    const x = tensor(new Array(6).fill(0), [3, 2, 1]);
    expect(() => m.forward(x, null, { lengths: [3, 0] })).toThrow(/lengths\[1\] = 0/);
    expect(() => m.forward(x, null, { lengths: [4, 1] })).toThrow(/lengths\[0\] = 4/);
    expect(() => m.forward(x, null, { lengths: [3] })).toThrow(/1 entries for a batch of 2/);
  });
});

describe("dropout between layers", () => {
  const T = 5,
    B = 4,
    I = 3,
    H = 64;
  const x = tensor(rand(new Rng(1), T * B * I), [T, B, I]);

  it("is off in eval mode and on in training mode, on every layer's output but the last", () => {
    const plain = new LSTM({ inputSize: I, hiddenSize: H, numLayers: 3, seed: 4 });
    const drop = new LSTM({ inputSize: I, hiddenSize: H, numLayers: 3, dropout: 0.5, seed: 4 });
    const a = plain.forward(x).output.data.slice();
    expect(drop.eval().forward(x).output.data).toEqual(a);
    const c = drop.train().forward(x);
    expect(c.output.data).not.toEqual(a);
    // the mask keeps about half, scaled by 1 / (1 - p) = 2; layer 2 (the top) has none
    const mask = c.layers[0].mask!;
    const n = T * B * H;
    let kept = 0;
    for (let i = 0; i < n; i++) {
      expect([0, 2]).toContain(mask[i]);
      if (mask[i]) kept++;
    }
    expect(Math.abs(kept / n - 0.5)).toBeLessThan(0.05);
    expect(c.layers[2].mask).toBeNull();
  });

  it("is seeded: the same seed gives the same masks", () => {
    const a = new GRU({ inputSize: I, hiddenSize: H, numLayers: 2, dropout: 0.3, seed: 4, dropoutSeed: 11 }).forward(x).output.data.slice();
    const b = new GRU({ inputSize: I, hiddenSize: H, numLayers: 2, dropout: 0.3, seed: 4, dropoutSeed: 11 }).forward(x).output.data;
    expect(b).toEqual(a);
  });
});

describe("initialisation", () => {
  it("default: every parameter uniform in ±1/sqrt(H), as PyTorch", () => {
    const m = new LSTM({ inputSize: 3, hiddenSize: 16, seed: 1 });
    const bound = 1 / 4;
    expect(m.store.values.every((v) => Math.abs(v) <= bound)).toBe(true);
  });

  it("orthogonal: weight_hh has orthonormal columns (torch.nn.init.orthogonal_ on the (G, H) matrix)", () => {
    const H = 8;
    const m = new GRU({ inputSize: 2, hiddenSize: H, init: "orthogonal", seed: 3, dtype: "float64" });
    const W = m.params[0].weightHh.value; // (3H, H)
    for (let a = 0; a < H; a++) {
      for (let b = 0; b < H; b++) {
        let s = 0;
        for (let r = 0; r < 3 * H; r++) s += W[r * H + a] * W[r * H + b];
        expect(s).toBeCloseTo(a === b ? 1 : 0, 12);
      }
    }
    const rnn = new RNN({ inputSize: 2, hiddenSize: H, init: "orthogonal", seed: 3, dtype: "float64" });
    const Q = rnn.params[0].weightHh.value; // square: orthogonal rows too
    let s = 0;
    for (let j = 0; j < H; j++) s += Q[j] * Q[H + j];
    expect(s).toBeCloseTo(0, 12);
  });

  it("identity (IRNN): weight_hh = I and zero biases", () => {
    const m = new RNN({ inputSize: 2, hiddenSize: 3, nonlinearity: "relu", init: "identity", seed: 3 });
    expect([...m.params[0].weightHh.value]).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect([...m.params[0].biasIh!.value, ...m.params[0].biasHh!.value]).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it("forget bias: the forget block of bias_ih is set and bias_hh's is 0, so their sum is the bias", () => {
    const H = 3;
    const m = new LSTM({ inputSize: 2, hiddenSize: H, forgetBias: 1, seed: 3 });
    const { biasIh, biasHh } = m.params[0];
    expect([...biasIh!.value.subarray(H, 2 * H)]).toEqual([1, 1, 1]);
    expect([...biasHh!.value.subarray(H, 2 * H)]).toEqual([0, 0, 0]);
    expect(() => new GRU({ inputSize: 1, hiddenSize: 1, forgetBias: 1 })).toThrow(/forgetBias is for LSTMs/);
  });
});

describe("PyTorch's parameter names and output layout", () => {
  it("bidirectional layers add _reverse parameters and concatenate the directions", () => {
    const m = new GRU({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, bias: false });
    expect(m.store.params.map((p) => `${p.name} [${p.shape}]`)).toEqual([
      "weight_ih_l0 [12,3]",
      "weight_hh_l0 [12,4]",
      "weight_ih_l0_reverse [12,3]",
      "weight_hh_l0_reverse [12,4]",
      "weight_ih_l1 [12,8]",
      "weight_hh_l1 [12,4]",
      "weight_ih_l1_reverse [12,8]",
      "weight_hh_l1_reverse [12,4]",
    ]);
    const c = m.forward(tensor(new Array(2 * 5 * 3).fill(0.1), [2, 5, 3]));
    expect(c.output.shape).toEqual([2, 5, 8]);
    expect(c.hNTensor.shape).toEqual([4, 5, 4]);
  });
});

describe("SequenceClassifier (many-to-one)", () => {
  it("learns to read a label from the first step of sequences of different lengths", () => {
    // label = sign of x_0; then noise; lengths 3..10: the answer sits at the far end of the sequence
    const T = 10,
      B = 16;
    const rng = new Rng(5);
    const clf = new SequenceClassifier({ inputSize: 1, hiddenSize: 12, numClasses: 2, cell: "gru", seed: 2 });
    const opt = new Adam(clf.store, { lr: 0.02 });
    const batch = () => {
      const x = new Float32Array(T * B);
      const labels = new Int32Array(B);
      const lengths = Array.from({ length: B }, () => 3 + rng.int(T - 2));
      for (let b = 0; b < B; b++) {
        labels[b] = rng.int(2);
        x[b] = labels[b] ? 1 : -1;
        for (let t = 1; t < T; t++) x[t * B + b] = t < lengths[b] ? rng.uniformRange(-1, 1) : 99; // padding must not matter
      }
      return { x, labels, lengths };
    };
    let loss = 0;
    for (let s = 0; s < 150; s++) {
      const { x, labels, lengths } = batch();
      clf.store.zeroGrad();
      loss = clf.forward(x, labels, { T, B, lengths });
      clf.backward();
      opt.step();
    }
    const { x, labels, lengths } = batch();
    const logits = clf.logitsOf(x, T, B, lengths);
    let right = 0;
    for (let b = 0; b < B; b++) if ((logits[2 * b + 1] > logits[2 * b] ? 1 : 0) === labels[b]) right++;
    expect(loss).toBeLessThan(0.1);
    expect(right).toBe(B);
  });
});

describe("chrono initialisation (Tallec & Ollivier 2018)", () => {
  it("LSTM: b_f = log U[1, chronoMax - 1] and b_i = -b_f in b_ih, b_hh's blocks 0; GRU: the update gate's", () => {
    const H = 50,
      Tm = 100;
    const lstm = new LSTM({ inputSize: 2, hiddenSize: H, init: "chrono", chronoMax: Tm, seed: 3, dtype: "float64" });
    const bih = lstm.params[0].biasIh!.value,
      bhh = lstm.params[0].biasHh!.value;
    for (let j = 0; j < H; j++) {
      expect(bih[H + j]).toBeGreaterThanOrEqual(0);
      expect(bih[H + j]).toBeLessThanOrEqual(Math.log(Tm - 1));
      expect(bih[j]).toBe(-bih[H + j]);
      expect(bhh[j]).toBe(0);
      expect(bhh[H + j]).toBe(0);
    }
    // spread over the range, not one value: memory times from ~1 to ~T steps
    const f = Array.from(bih.subarray(H, 2 * H));
    expect(Math.max(...f) - Math.min(...f)).toBeGreaterThan(2);
    // the other blocks keep PyTorch's uniform ±1/sqrt(H)
    for (let j = 2 * H; j < 4 * H; j++) expect(Math.abs(bih[j])).toBeLessThanOrEqual(1 / Math.sqrt(H));
    const gru = new GRU({ inputSize: 2, hiddenSize: H, init: "chrono", chronoMax: Tm, seed: 3, dtype: "float64" });
    const gih = gru.params[0].biasIh!.value,
      ghh = gru.params[0].biasHh!.value;
    for (let j = 0; j < H; j++) {
      expect(gih[H + j]).toBeGreaterThanOrEqual(0);
      expect(gih[H + j]).toBeLessThanOrEqual(Math.log(Tm - 1));
      expect(ghh[H + j]).toBe(0);
    }
  });

  it("refuses the Elman RNN, a missing chronoMax, and a forget bias beside it", () => {
    expect(() => new RNN({ inputSize: 1, hiddenSize: 2, init: "chrono", chronoMax: 10 })).toThrow(/for LSTM and GRU/);
    expect(() => new LSTM({ inputSize: 1, hiddenSize: 2, init: "chrono" })).toThrow(/needs chronoMax/);
    expect(() => new LSTM({ inputSize: 1, hiddenSize: 2, init: "chrono", chronoMax: 10, forgetBias: 1 })).toThrow(/drop forgetBias/);
  });
});

/** Bit-for-bit equality of two buffers (Object.is, so -0 and NaN count). */
function same(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  return a.length === b.length && Array.prototype.every.call(a, (v: number, i: number) => Object.is(v, b[i]));
}

/** (R, C, F) -> (C, R, F). */
function transpose(x: Float64Array, R: number, C: number, F: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) y.set(x.subarray((r * C + c) * F, (r * C + c + 1) * F), (c * R + r) * F);
  return y;
}

describe("PyTorch's layouts: batchFirst, unbatched, PackedSequence", () => {
  const T = 5,
    B = 3,
    I = 3,
    H = 4;
  for (const cell of ["RNN", "LSTM", "GRU"] as const) {
    it(`${cell} batchFirst: the time-major layer's numbers on the transposed input, forward and backward, bit for bit`, () => {
      const rng = new Rng(31);
      const o = { inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true, dtype: "float64" as const, seed: 3 };
      const tm = make(cell, o);
      const bf = make(cell, { ...o, batchFirst: true });
      const D = tm.numDirections;
      const x = rand(rng, T * B * I); // (T, B, I)
      const R = rand(rng, T * B * D * H);
      const lengths = [5, 2, 4];
      const a = tm.forward(tensor(x, [T, B, I], "float64"), null, { lengths });
      const b = bf.forward(tensor(transpose(x, T, B, I), [B, T, I], "float64"), null, { lengths });
      expect(b.output.shape).toEqual([B, T, D * H]);
      expect(same(b.output.data, transpose(Float64Array.from(a.output.data), T, B, D * H))).toBe(true);
      expect(same(b.hN, a.hN)).toBe(true);
      expect(b.hNTensor.shape).toEqual([2 * D, B, H]);
      tm.store.zeroGrad();
      bf.store.zeroGrad();
      const ga = tm.backward(a, R);
      const gb = bf.backward(b, transpose(R, T, B, D * H));
      expect(gb.dx.shape).toEqual([B, T, I]);
      expect(same(gb.dx.data, transpose(Float64Array.from(ga.dx.data), T, B, I))).toBe(true);
      expect(same(gb.dh0.data, ga.dh0.data)).toBe(true);
      expect(same(bf.store.grads, tm.store.grads)).toBe(true);
    });
  }

  it("unbatched (T, I): a batch of one with the batch axis dropped, output, h_n, c_n and every gradient", () => {
    const rng = new Rng(32);
    const m = new LSTM({ inputSize: I, hiddenSize: H, projSize: 2, numLayers: 2, bidirectional: true, dtype: "float64", seed: 3 });
    const x = rand(rng, T * I);
    const h0 = rand(rng, 4 * 2);
    const c0 = rand(rng, 4 * H);
    const R = rand(rng, T * 2 * 2);
    const one = m.forward(tensor(x, [T, 1, I], "float64"), [tensor(h0, [4, 1, 2], "float64"), tensor(c0, [4, 1, H], "float64")]);
    const out = Float64Array.from(one.output.data);
    const hN = Float64Array.from(one.hN);
    m.store.zeroGrad();
    const g1 = m.backward(one, R);
    const dx1 = Float64Array.from(g1.dx.data);
    const grads1 = m.store.grads.slice();
    const un = m.forward(tensor(x, [T, I], "float64"), [tensor(h0, [4, 2], "float64"), tensor(c0, [4, H], "float64")]);
    expect(un.output.shape).toEqual([T, 4]);
    expect(un.hNTensor.shape).toEqual([4, 2]);
    expect(un.cNTensor!.shape).toEqual([4, H]);
    expect(same(un.output.data, out)).toBe(true);
    expect(same(un.hN, hN)).toBe(true);
    m.store.zeroGrad();
    const g = m.backward(un, R);
    expect(g.dx.shape).toEqual([T, I]);
    expect(g.dh0.shape).toEqual([4, 2]);
    expect(g.dc0!.shape).toEqual([4, H]);
    expect(same(g.dx.data, dx1)).toBe(true);
    expect(same(m.store.grads, grads1)).toBe(true);
    // PyTorch's rule: an unbatched input takes 2-D states
    expect(() => m.forward(tensor(x, [T, I], "float64"), [tensor(h0, [4, 1, 2], "float64"), tensor(c0, [4, 1, H], "float64")])).toThrow(
      /h0 \(L\*D, S\) of an unbatched input: expected shape \[4, 2\]/,
    );
    expect(() => m.forward(tensor(x, [T, 1, I], "float64"), [tensor(h0, [4, 2], "float64"), tensor(c0, [4, H], "float64")])).toThrow(
      /expected shape \[4, 1, 2\]/,
    );
    expect(() => m.forward(tensor(x, [1, T, 1, I], "float64"))).toThrow(/3-D \(T, B, I\) or unbatched 2-D \(T, I\)/);
  });

  for (const enforceSorted of [false, true]) {
    it(`a PackedSequence (${enforceSorted ? "sorted" : "unsorted"}) gives the { lengths } numbers, its output packed the same way`, () => {
      const rng = new Rng(33);
      const m = new GRU({ inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true, dtype: "float64", seed: 3 });
      const lengths = enforceSorted ? [5, 4, 2] : [2, 5, 4];
      const x = tensor(rand(rng, T * B * I), [T, B, I], "float64");
      const h0 = tensor(rand(rng, 4 * B * H), [4, B, H], "float64");
      const R = rand(rng, T * B * 2 * H);
      const a = m.forward(x, h0, { lengths });
      const out = Float64Array.from(a.output.data);
      const hN = Float64Array.from(a.hN);
      m.store.zeroGrad();
      const dxPadded = Float64Array.from(m.backward(a, R).dx.data);
      const grads = m.store.grads.slice();
      const packed = packPaddedSequence(x, lengths, { enforceSorted });
      const c = m.forward(packed, h0);
      const po = c.packedOutput!;
      expect(po.batchSizes).toEqual(packed.batchSizes);
      expect(po.sortedIndices).toEqual(packed.sortedIndices);
      expect(c.output.shape).toEqual([11, 2 * H]); // N = 2 + 5 + 4 = 11 rows
      expect(same(padPackedSequence(po, { totalLength: T }).output.data, out)).toBe(true);
      expect(same(c.hN, hN)).toBe(true);
      m.store.zeroGrad();
      const dOut = packPaddedSequence({ data: R, shape: [T, B, 2 * H] }, lengths, { enforceSorted });
      const g = m.backward(c, dOut.data);
      expect(g.dx.shape).toEqual([11, I]);
      expect(same(padPackedSequence({ ...packed, data: g.dx }).output.data, dxPadded)).toBe(true);
      expect(same(m.store.grads, grads)).toBe(true);
      expect(() => m.forward(packed, h0, { lengths })).toThrow(/carries its lengths/);
    });
  }
});

describe("LSTM projections (projSize)", () => {
  it("has PyTorch's parameters and sizes: weight_hr (P, H), weight_hh (4H, P), h (L*D, B, P), c (L*D, B, H)", () => {
    const m = new LSTM({ inputSize: 3, hiddenSize: 5, projSize: 2, numLayers: 2, bidirectional: true, seed: 1 });
    expect(m.store.params.map((p) => `${p.name} ${p.shape.join("x")}`).slice(0, 10)).toEqual([
      "weight_ih_l0 20x3",
      "weight_hh_l0 20x2",
      "bias_ih_l0 20",
      "bias_hh_l0 20",
      "weight_hr_l0 2x5",
      "weight_ih_l0_reverse 20x3",
      "weight_hh_l0_reverse 20x2",
      "bias_ih_l0_reverse 20",
      "bias_hh_l0_reverse 20",
      "weight_hr_l0_reverse 2x5",
    ]);
    expect(m.store.get("weight_ih_l1").shape).toEqual([20, 4]); // D*P inputs above layer 0
    expect(m.outputSize).toBe(2);
    const [h, c] = m.createState(3);
    expect([h.length, c.length]).toEqual([4 * 3 * 2, 4 * 3 * 5]);
    const cache = m.forward(tensor(new Array(4 * 3 * 3).fill(0.5), [4, 3, 3]));
    expect(cache.output.shape).toEqual([4, 3, 4]);
    expect(cache.hNTensor.shape).toEqual([4, 3, 2]);
    expect(cache.cNTensor!.shape).toEqual([4, 3, 5]);
    expect(cache.lastHidden().length).toBe(3 * 2 * 2);
  });

  it("refuses projections on RNN and GRU, projSize >= hiddenSize, and a fractional projSize", () => {
    expect(() => new GRU({ inputSize: 2, hiddenSize: 4, projSize: 2 })).toThrow(/GRU: projSize is for LSTMs only/);
    expect(() => new RNN({ inputSize: 2, hiddenSize: 4, projSize: 2 })).toThrow(/RNN: projSize is for LSTMs only/);
    expect(() => createRecurrent("gru", { inputSize: 2, hiddenSize: 4, projSize: 1 })).toThrow(RangeError);
    expect(() => new LSTM({ inputSize: 2, hiddenSize: 4, projSize: 4 })).toThrow(/projSize must be smaller than hiddenSize.*4 >= hiddenSize 4/);
    expect(() => new LSTM({ inputSize: 2, hiddenSize: 4, projSize: 1.5 })).toThrow(/projSize must be a whole number/);
    expect(() => new LSTM({ inputSize: 2, hiddenSize: 4, projSize: 2, init: "identity" })).toThrow(/init identity/);
  });

  it("a cache made for another projSize is refused, not misread", () => {
    const a = new LSTM({ inputSize: 2, hiddenSize: 4, projSize: 2 });
    const b = new LSTM({ inputSize: 2, hiddenSize: 4 });
    const x = tensor(new Array(3 * 2 * 2).fill(0.1), [3, 2, 2]);
    expect(() => b.forwardRaw(a.createCache(3, 2), x.data, 3, null, null)).toThrow(/made for projSize 2/);
    // forward() makes a fitting cache instead of reusing one of another shape
    expect(b.forward(x, null, { cache: a.createCache(3, 2) }).P).toBe(0);
  });
});

describe("options", () => {
  it("an unknown option is an error that names it and the known ones", () => {
    expect(() => new LSTM({ inputSize: 2, hiddenSize: 3, batch_first: true } as RecurrentOptions)).toThrow(
      /LSTM: unknown option "batch_first" \(known options: store, prefix, dtype, seed, kernels, inputSize, hiddenSize, .*batchFirst, projSize\)/,
    );
    expect(() => new GRU({ inputSize: 2, hiddenSize: 3, nonlinearity: "relu" } as RecurrentOptions)).toThrow(/GRU: unknown option "nonlinearity"/);
    expect(() => new RNN({ inputSize: 2, hiddenSize: 3, hidenSize: 3 } as RecurrentOptions)).toThrow(/RNN: unknown option "hidenSize"/);
    expect(() => createRecurrent("rnn", { inputSize: 2, hiddenSize: 3, proj_size: 1 } as RecurrentOptions)).toThrow(
      /createRecurrent: unknown option "proj_size"/,
    );
  });

  it("createRecurrent takes nonlinearity for every cell, as its contract says (LSTM and GRU ignore it)", () => {
    expect(createRecurrent("lstm", { inputSize: 2, hiddenSize: 3, nonlinearity: "relu" }).mode).toBe("LSTM");
    expect(createRecurrent("gru", { inputSize: 2, hiddenSize: 3, nonlinearity: "tanh" }).mode).toBe("GRU");
    expect(createRecurrent("rnn", { inputSize: 2, hiddenSize: 3, nonlinearity: "relu" }).mode).toBe("RNN_RELU");
  });
});

describe("the per-step products", () => {
  const wasm = wasmKernels();
  for (const cell of ["RNN", "LSTM", "GRU"] as const) {
    for (const dtype of ["float64", "float32"] as const) {
      it.skipIf(dtype === "float32" && !wasm)(`${cell} ${dtype}: a batch of 6 rows (W_hh packed once a pass) equals its rows run alone (W_hh in place)`, () => {
        const [T, I, H, B, L] = [5, 3, 7, 6, 2];
        const rng = new Rng(4);
        const kernels = dtype === "float32" ? wasm! : undefined;
        const m = make(cell, { inputSize: I, hiddenSize: H, numLayers: L, dtype, seed: 3, kernels });
        const x = rand(rng, T * B * I);
        const R = rand(rng, T * B * H);
        const X = dtype === "float32" ? Float32Array.from(x) : x;
        const c = m.forward(tensor(X, [T, B, I], dtype));
        m.store.zeroGrad();
        const dx = m.backward(c, R).dx.data.slice();
        const grads = Float64Array.from(m.store.grads);
        const out = c.output.data.slice();
        const sum = new Float64Array(grads.length);
        const tol = dtype === "float32" ? 5e-5 : 1e-12;
        for (let b = 0; b < B; b++) {
          const xb = new Float64Array(T * I);
          const Rb = new Float64Array(T * H);
          for (let t = 0; t < T; t++) {
            xb.set(x.subarray((t * B + b) * I, (t * B + b + 1) * I), t * I);
            Rb.set(R.subarray((t * B + b) * H, (t * B + b + 1) * H), t * H);
          }
          const cb = m.forward(tensor(dtype === "float32" ? Float32Array.from(xb) : xb, [T, 1, I], dtype));
          m.store.zeroGrad();
          const gb = m.backward(cb, Rb);
          for (let i = 0; i < sum.length; i++) sum[i] += m.store.grads[i];
          for (let t = 0; t < T; t++) {
            for (let j = 0; j < H; j++) expect(Math.abs(out[(t * B + b) * H + j] - cb.output.data[t * H + j])).toBeLessThan(tol);
            for (let j = 0; j < I; j++) expect(Math.abs(dx[(t * B + b) * I + j] - gb.dx.data[t * I + j])).toBeLessThan(tol);
          }
        }
        for (let i = 0; i < sum.length; i++) expect(Math.abs(grads[i] - sum[i])).toBeLessThan(tol * 10);
      });
    }
  }

  it("needInputGrad false: the same parameter gradients, no input gradient (0)", () => {
    const [T, I, H, B] = [4, 3, 5, 6];
    const rng = new Rng(5);
    const m = make("LSTM", { inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true, dtype: "float64", seed: 1 });
    const x = tensor(rand(rng, T * B * I), [T, B, I], "float64");
    const R = rand(rng, T * B * 2 * H);
    const c = m.forward(x);
    m.store.zeroGrad();
    const dx = m.backward(c, R).dx.data.slice();
    const grads = m.store.grads.slice();
    expect(dx.some((v) => v !== 0)).toBe(true);
    c.needInputGrad = false;
    m.forward(x, null, { cache: c });
    m.store.zeroGrad();
    const dx2 = m.backward(c, R).dx.data;
    expect(Array.from(m.store.grads)).toEqual(Array.from(grads));
    expect(dx2.every((v) => v === 0)).toBe(true);
  });
});
