import { describe, expect, it } from "vitest";
import { GRU, LSTM, RNN, type Recurrent } from "../nn/recurrent.js";
import { randomOrthogonal } from "../tensor/linalg.js";
import { Rng } from "../tensor/rng.js";
import { tensor } from "../tensor/tensor.js";
import { chainNorm, jacobianNorms, linearStep, stepJacobians } from "./jacobian.js";
import { recurrentSpectra } from "./spectra.js";

function rand(rng: Rng, n: number, scale = 1): Float64Array {
  return Float64Array.from({ length: n }, () => scale * rng.uniformRange(-1, 1));
}
const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, x, i) => s + x * b[i], 0);

describe("Jacobian products of a linear RNN with W_hh = s·Q", () => {
  for (const s of [0.9, 1, 1.1]) {
    it(`‖∂h_T/∂h_k‖ = ${s}^(T-k) for every lag`, () => {
      const H = 12;
      const Q = randomOrthogonal(H, H, new Rng(3));
      const A = Q.map((q) => s * q);
      const steps = Array.from({ length: 40 }, () => linearStep(A, H));
      for (const lag of [1, 2, 5, 17, 40]) {
        const norm = chainNorm(steps.slice(40 - lag), { seed: lag });
        expect(Math.abs(norm / s ** lag - 1)).toBeLessThan(1e-12);
      }
    });
  }

  it("finds the largest singular value of a product whose singular values differ", () => {
    // diag(3, 1, 0.5) then a rotation: the product's norm is 3 whatever the rotation
    const H = 3;
    const D = [3, 0, 0, 0, 1, 0, 0, 0, 0.5];
    const c = Math.cos(0.7),
      s = Math.sin(0.7);
    const R = [c, -s, 0, s, c, 0, 0, 0, 1];
    expect(chainNorm([linearStep(D, H), linearStep(R, H)])).toBeCloseTo(3, 9);
    expect(chainNorm([linearStep(D, H), linearStep(D, H)])).toBeCloseTo(9, 9);
  });
});

describe("hand-written step Jacobians of RNN, LSTM and GRU", () => {
  const cells: [string, (seed: number) => Recurrent][] = [
    ["RNN tanh", (seed) => new RNN({ inputSize: 3, hiddenSize: 5, dtype: "float64", seed })],
    ["RNN relu", (seed) => new RNN({ inputSize: 3, hiddenSize: 5, nonlinearity: "relu", dtype: "float64", seed })],
    ["LSTM", (seed) => new LSTM({ inputSize: 3, hiddenSize: 5, dtype: "float64", seed })],
    ["GRU", (seed) => new GRU({ inputSize: 3, hiddenSize: 5, dtype: "float64", seed })],
  ];
  for (const [name, make] of cells) {
    it(`${name}: J^T is the adjoint of J, and the product over all steps equals finite differences of the layer`, () => {
      const T = 7,
        B = 2,
        I = 3,
        H = 5;
      const rnn = make(4);
      const S = rnn.stateCount;
      const rng = new Rng(11);
      const x = tensor(rand(rng, T * B * I), [T, B, I], "float64");
      const h0 = rand(rng, B * H, 0.5);
      const c0 = rand(rng, B * H, 0.5);
      const hx = S === 2 ? [tensor(h0, [1, B, H], "float64"), tensor(c0, [1, B, H], "float64")] : tensor(h0, [1, B, H], "float64");
      const cache = rnn.forward(x, hx);
      const row = 1;
      const steps = stepJacobians(rnn, cache, 0, row);
      expect(steps.length).toBe(T);
      const dim = steps[0].dim;
      expect(dim).toBe(S * H);
      // adjoint: <u, J v> = <J^T u, v> at every step
      for (const st of steps) {
        const v = rand(rng, dim),
          u = rand(rng, dim);
        const Jv = new Float64Array(dim),
          JTu = new Float64Array(dim);
        st.jvp(v, Jv);
        st.vjp(u, JTu);
        expect(Math.abs(dot(u, Jv) - dot(JTu, v))).toBeLessThan(1e-12);
      }
      // chain of JVPs over all T steps = d(final state)/d(initial state) · v, by central differences
      const v = rand(rng, dim);
      let a = v.slice(),
        b = new Float64Array(dim);
      for (const st of steps) {
        st.jvp(a, b);
        [a, b] = [b, a];
      }
      const eps = 1e-6;
      const finalState = (sign: number) => {
        const hp = h0.slice(),
          cp = c0.slice();
        for (let j = 0; j < H; j++) {
          hp[row * H + j] += sign * eps * v[j];
          if (S === 2) cp[row * H + j] += sign * eps * v[H + j];
        }
        const hxp = S === 2 ? [tensor(hp, [1, B, H], "float64"), tensor(cp, [1, B, H], "float64")] : tensor(hp, [1, B, H], "float64");
        const c = rnn.forward(x, hxp);
        const out = new Float64Array(dim);
        for (let j = 0; j < H; j++) {
          out[j] = c.hN[row * H + j];
          if (S === 2) out[H + j] = c.cN![row * H + j];
        }
        return out;
      };
      const plus = finalState(1),
        minus = finalState(-1);
      for (let j = 0; j < dim; j++) {
        const fd = (plus[j] - minus[j]) / (2 * eps);
        expect(Math.abs(fd - a[j])).toBeLessThan(1e-7 * Math.max(1, Math.abs(fd)));
      }
    });
  }

  it("jacobianNorms of a tanh RNN equal the norm of the explicit Jacobian product", () => {
    const T = 6,
      B = 1,
      I = 2,
      H = 4;
    const rnn = new RNN({ inputSize: I, hiddenSize: H, dtype: "float64", seed: 2 });
    rnn.params[0].weightHh.value.forEach((w, i, a) => (a[i] = 1.5 * w)); // larger, so the norms differ from 1
    const rng = new Rng(5);
    const cache = rnn.forward(tensor(rand(rng, T * B * I), [T, B, I], "float64"));
    const steps = stepJacobians(rnn, cache, 0, 0);
    // explicit H x H matrices from the JVP of unit vectors, multiplied out; norm by power iteration on M^T M to convergence
    const mat = (st: (typeof steps)[number]) => {
      const M = new Float64Array(H * H),
        e = new Float64Array(H),
        col = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        e.fill(0);
        e[j] = 1;
        st.jvp(e, col);
        for (let i = 0; i < H; i++) M[i * H + j] = col[i];
      }
      return M;
    };
    const mul = (A: Float64Array, Bm: Float64Array) => {
      const C = new Float64Array(H * H);
      for (let i = 0; i < H; i++) for (let j = 0; j < H; j++) for (let k = 0; k < H; k++) C[i * H + j] += A[i * H + k] * Bm[k * H + j];
      return C;
    };
    const lags = [1, 3, 6];
    const norms = jacobianNorms(rnn, cache, 0, T, lags, 1, { iterations: 200, tolerance: 1e-14 });
    lags.forEach((lag, i) => {
      let P = mat(steps[T - lag]);
      for (let t = T - lag + 1; t < T; t++) P = mul(mat(steps[t]), P);
      // largest eigenvalue of P^T P by Jacobi-free brute force: many power iterations
      let v = new Float64Array(H).fill(1);
      let sigma = 0;
      for (let it = 0; it < 2000; it++) {
        const w = new Float64Array(H);
        for (let r = 0; r < H; r++) for (let c = 0; c < H; c++) w[r] += P[r * H + c] * v[c];
        const z = new Float64Array(H);
        for (let r = 0; r < H; r++) for (let c = 0; c < H; c++) z[c] += P[r * H + c] * w[r];
        sigma = Math.sqrt(Math.hypot(...z));
        const n = Math.hypot(...z);
        v = z.map((x) => x / n);
      }
      expect(Math.abs(norms[i] / sigma - 1)).toBeLessThan(1e-8);
    });
  });
});

describe("LSTM projections (projSize)", () => {
  it("are refused by name by the Jacobians and the spectra, whose formulas assume h of H features and a square W_hh", () => {
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 5, projSize: 2, dtype: "float64", seed: 1 });
    const cache = lstm.forward(tensor(new Array(4 * 2 * 3).fill(0.1), [4, 2, 3], "float64"));
    expect(() => stepJacobians(lstm, cache, 0, 0)).toThrow(/stepJacobians: LSTMs with projections \(projSize 2\) are not supported/);
    expect(() => recurrentSpectra(lstm)).toThrow(/recurrentSpectra: LSTMs with projections \(projSize 2\) are not supported/);
  });
});
