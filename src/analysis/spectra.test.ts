import { describe, expect, it } from "vitest";
import { GRU, LSTM, RNN } from "../nn/recurrent.js";
import { eigenvalues, randomOrthogonal, singularValues, spectralRadius, type Eigenvalues } from "../tensor/linalg.js";
import { Rng } from "../tensor/rng.js";
import { recurrentSpectra } from "./spectra.js";

// ---- helpers ----

function randn(rng: Rng, n: number): Float64Array {
  return Float64Array.from({ length: n }, () => rng.normal());
}

/** C = A·B for n×n row-major matrices. */
function matmul(a: ArrayLike<number>, b: ArrayLike<number>, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k];
      for (let j = 0; j < n; j++) c[i * n + j] += aik * b[k * n + j];
    }
  }
  return c;
}

function transpose(a: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
  return t;
}

/** Inverse by Gauss–Jordan with partial pivoting. */
function inverse(a: ArrayLike<number>, n: number): Float64Array {
  const m = Float64Array.from(a);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let k = 0; k < n; k++) {
    let piv = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i * n + k]) > Math.abs(m[piv * n + k])) piv = i;
    for (const x of [m, inv]) for (let j = 0; j < n; j++) [x[k * n + j], x[piv * n + j]] = [x[piv * n + j], x[k * n + j]];
    const d = m[k * n + k];
    for (let j = 0; j < n; j++) {
      m[k * n + j] /= d;
      inv[k * n + j] /= d;
    }
    for (let i = 0; i < n; i++) {
      if (i === k) continue;
      const f = m[i * n + k];
      for (let j = 0; j < n; j++) {
        m[i * n + j] -= f * m[k * n + j];
        inv[i * n + j] -= f * inv[k * n + j];
      }
    }
  }
  return inv;
}

/** det(A) by LU with partial pivoting. */
function determinant(a: ArrayLike<number>, n: number): number {
  const m = Float64Array.from(a);
  let det = 1;
  for (let k = 0; k < n; k++) {
    let piv = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i * n + k]) > Math.abs(m[piv * n + k])) piv = i;
    if (piv !== k) {
      det = -det;
      for (let j = 0; j < n; j++) [m[k * n + j], m[piv * n + j]] = [m[piv * n + j], m[k * n + j]];
    }
    det *= m[k * n + k];
    for (let i = k + 1; i < n; i++) {
      const f = m[i * n + k] / m[k * n + k];
      for (let j = k; j < n; j++) m[i * n + j] -= f * m[k * n + j];
    }
  }
  return det;
}

/** Each computed eigenvalue matched to a distinct expected one (greedy, nearest) within tol. */
function expectSpectrum(e: Eigenvalues, expected: [number, number][], tol: number): void {
  expect(e.re.length).toBe(expected.length);
  const left = expected.slice();
  for (let i = 0; i < e.re.length; i++) {
    let best = -1;
    let bestDist = Infinity;
    left.forEach(([re, im], j) => {
      const dist = Math.hypot(e.re[i] - re, e.im[i] - im);
      if (dist < bestDist) {
        best = j;
        bestDist = dist;
      }
    });
    expect(bestDist, `eigenvalue ${e.re[i]} + ${e.im[i]}i`).toBeLessThan(tol);
    left.splice(best, 1);
  }
}

/** The output contract: sorted by modulus (descending), conjugate pairs adjacent with +im first. */
function expectOrdered(e: Eigenvalues): void {
  for (let i = 1; i < e.re.length; i++) {
    expect(Math.hypot(e.re[i], e.im[i])).toBeLessThanOrEqual(Math.hypot(e.re[i - 1], e.im[i - 1]) * (1 + 1e-12) + 1e-300);
  }
  for (let i = 0; i < e.re.length; i++) {
    if (e.im[i] > 0) {
      expect(e.re[i + 1]).toBe(e.re[i]);
      expect(e.im[i + 1]).toBe(-e.im[i]);
      i++;
    } else {
      expect(e.im[i]).toBe(0);
    }
  }
}

/** Monic polynomial coefficients c_0..c_{n-1} (x^n + c_{n-1}x^{n-1} + ... + c_0) from roots (complex ones given once, as re ± im i). */
function polyFromRoots(roots: [number, number][]): number[] {
  let p = [1]; // highest degree first
  const mul = (f: number[]): void => {
    const q = new Array<number>(p.length + f.length - 1).fill(0);
    p.forEach((a, i) =>
      f.forEach((b, j) => {
        q[i + j] += a * b;
      }),
    );
    p = q;
  };
  for (const [re, im] of roots) mul(im === 0 ? [1, -re] : [1, -2 * re, re * re + im * im]);
  return p.slice(1).reverse(); // c_0..c_{n-1}
}

// ---- eigenvalues ----

describe("eigenvalues", () => {
  it("of a diagonal matrix are its diagonal, sorted by modulus", () => {
    const diag = [3, -7, 0.5, 2, -1];
    const n = diag.length;
    const a = new Float64Array(n * n);
    diag.forEach((v, i) => {
      a[i * n + i] = v;
    });
    const e = eigenvalues(a, n);
    expect(Array.from(e.re)).toEqual([-7, 3, 2, -1, 0.5]);
    expect(Array.from(e.im)).toEqual([0, 0, 0, 0, 0]);
  });

  it("of upper and lower triangular matrices are their diagonals", () => {
    const rng = new Rng(3);
    const n = 8;
    const diag = [5, -4, 3.5, 2, -1.5, 1, 0.25, -0.125];
    const upper = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = i; j < n; j++) upper[i * n + j] = i === j ? diag[i] : rng.normal();
    const lower = transpose(upper, n, n);
    const expected = diag.map((v) => [v, 0] as [number, number]);
    for (const a of [upper, lower]) {
      const e = eigenvalues(a, n);
      expectSpectrum(e, expected, 1e-12);
      expectOrdered(e);
    }
  });

  it("of a rotation by θ are e^{±iθ}, +im first", () => {
    const th = 0.7;
    const e = eigenvalues([Math.cos(th), -Math.sin(th), Math.sin(th), Math.cos(th)], 2);
    expect(e.re[0]).toBeCloseTo(Math.cos(th), 14);
    expect(e.re[1]).toBeCloseTo(Math.cos(th), 14);
    expect(e.im[0]).toBeCloseTo(Math.sin(th), 14);
    expect(e.im[1]).toBeCloseTo(-Math.sin(th), 14);
    expect(spectralRadius(e)).toBeCloseTo(1, 14);
  });

  it("of a companion matrix are the polynomial's roots, real and complex", () => {
    const roots: [number, number][] = [
      [1, 0],
      [-2, 0],
      [3, 0],
      [1, 2],
      [-0.5, 0.25],
    ];
    const c = polyFromRoots(roots);
    const n = c.length; // 7
    // first row −c_{n−1} … −c_0, ones on the subdiagonal
    const a = new Float64Array(n * n);
    for (let j = 0; j < n; j++) a[j] = -c[n - 1 - j];
    for (let i = 1; i < n; i++) a[i * n + i - 1] = 1;
    const e = eigenvalues(a, n);
    const expected = roots.flatMap(
      ([re, im]) =>
        (im === 0
          ? [[re, 0]]
          : [
              [re, im],
              [re, -im],
            ]) as [number, number][],
    );
    expectSpectrum(e, expected, 1e-9);
    expectOrdered(e);
    expect(spectralRadius(e)).toBeCloseTo(3, 9);
  });

  it("of a cyclic permutation are the roots of unity (the standard shifts stall; the exceptional shift must act)", () => {
    const n = 6;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) a[((i + 1) % n) * n + i] = 1;
    const expected = Array.from({ length: n }, (_, k) => [Math.cos((2 * Math.PI * k) / n), Math.sin((2 * Math.PI * k) / n)] as [number, number]);
    const e = eigenvalues(a, n);
    expectSpectrum(e, expected, 1e-12);
    expectOrdered(e);
  });

  it("of S·diag(λ)·S⁻¹ with random S are the λ (n = 20, to 1e-9)", () => {
    const n = 20;
    const rng = new Rng(11);
    const lambda = Array.from({ length: n }, (_, i) => (i % 2 ? -1 : 1) * (0.5 + i * 0.37));
    const s = randn(rng, n * n);
    const dSinv = inverse(s, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) dSinv[i * n + j] *= lambda[i];
    const a = matmul(s, dSinv, n);
    const e = eigenvalues(a, n);
    expect(Array.from(e.im)).toEqual(new Array(n).fill(0));
    const got = Array.from(e.re).sort((x, y) => x - y);
    const want = lambda.slice().sort((x, y) => x - y);
    got.forEach((v, i) => expect(Math.abs(v - want[i]), `λ${i}`).toBeLessThan(1e-9));
  });

  it("of a badly scaled D·A·D⁻¹ (entries from 1e-24 to 1e24) are those of A (balancing)", () => {
    const n = 8;
    const rng = new Rng(8);
    const lambda = [4, -3, 2.5, 2, -1.5, 1, 0.5, -0.25];
    const s = randn(rng, n * n);
    const dSinv = inverse(s, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) dSinv[i * n + j] *= lambda[i];
    const a = matmul(s, dSinv, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] *= 10 ** (3.4 * (i - j));
    const e = eigenvalues(a, n);
    expectSpectrum(
      e,
      lambda.map((v) => [v, 0] as [number, number]),
      1e-9,
    );
  });

  it("of s·Q, Q random orthogonal, all have modulus s, and all singular values are s", () => {
    for (const [n, s] of [
      [16, 1],
      [40, 0.9],
      [64, 2.5],
    ]) {
      const q = randomOrthogonal(n, n, new Rng(n), s);
      const e = eigenvalues(q, n);
      expect(e.re.length).toBe(n);
      for (let i = 0; i < n; i++) expect(Math.abs(Math.hypot(e.re[i], e.im[i]) - s)).toBeLessThan(1e-10);
      expectOrdered(e);
      const sv = singularValues(q, n, n);
      for (let i = 0; i < n; i++) expect(Math.abs(sv[i] - s)).toBeLessThan(1e-10);
    }
  });

  it("of a random 50×50 matrix: Σλ = trace, Πλ = det, and σ² = eig(AᵀA)", () => {
    const n = 50;
    const a = randn(new Rng(50), n * n);
    const copy = Float64Array.from(a);
    const e = eigenvalues(a, n);
    expect(a).toEqual(copy); // input untouched
    expectOrdered(e);
    expect(e.im.some((v) => v !== 0)).toBe(true); // a random matrix has complex pairs
    let trace = 0;
    for (let i = 0; i < n; i++) trace += a[i * n + i];
    let sumRe = 0,
      sumIm = 0;
    let pr = 1,
      pi = 0; // Π λ, complex
    for (let i = 0; i < n; i++) {
      sumRe += e.re[i];
      sumIm += e.im[i];
      [pr, pi] = [pr * e.re[i] - pi * e.im[i], pr * e.im[i] + pi * e.re[i]];
    }
    expect(Math.abs(sumRe - trace)).toBeLessThan(1e-10 * n);
    expect(Math.abs(sumIm)).toBeLessThan(1e-12);
    const det = determinant(a, n);
    expect(Math.abs(pr - det) / Math.abs(det)).toBeLessThan(1e-9);
    expect(Math.abs(pi) / Math.abs(det)).toBeLessThan(1e-9);

    // singular values squared are the eigenvalues of the symmetric AᵀA
    const ata = matmul(transpose(a, n, n), a, n);
    const ev = eigenvalues(ata, n);
    const sv = singularValues(a, n, n);
    for (let i = 1; i < n; i++) expect(sv[i]).toBeLessThanOrEqual(sv[i - 1]);
    expect(Array.from(ev.im)).toEqual(new Array(n).fill(0));
    for (let i = 0; i < n; i++) expect(Math.abs(sv[i] * sv[i] - ev.re[i]) / ev.re[0]).toBeLessThan(1e-12);
    expect(spectralRadius(e)).toBeLessThanOrEqual(sv[0] * (1 + 1e-12));
  });

  it("of a Jordan block (defective, ill-conditioned) come back finite and near the eigenvalue", () => {
    const n = 10;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      a[i * n + i] = 2;
      if (i + 1 < n) a[i * n + i + 1] = 1;
    }
    a[(n - 1) * n] = 1e-12; // a perturbation in the corner splits λ = 2 into 2 + 1e-12^(1/10)·ω^k
    const e = eigenvalues(a, n);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      expect(Number.isFinite(e.re[i]) && Number.isFinite(e.im[i])).toBe(true);
      expect(Math.hypot(e.re[i] - 2, e.im[i])).toBeLessThan(0.1);
      sum += e.re[i];
    }
    expect(sum).toBeCloseTo(2 * n, 10);
    a[(n - 1) * n] = 0; // the exact Jordan block
    const f = eigenvalues(a, n);
    for (let i = 0; i < n; i++) expect(Math.hypot(f.re[i] - 2, f.im[i])).toBeLessThan(1e-12);
  });

  it("of the zero matrix, a 1×1 and a 0×0 matrix", () => {
    const z = eigenvalues(new Float64Array(9), 3);
    expect(Array.from(z.re)).toEqual([0, 0, 0]);
    expect(Array.from(z.im)).toEqual([0, 0, 0]);
    expect(spectralRadius(z)).toBe(0);
    expect(Array.from(eigenvalues([-4], 1).re)).toEqual([-4]);
    expect(eigenvalues([], 0).re.length).toBe(0);
  });

  it("rejects bad sizes and non-finite entries", () => {
    expect(() => eigenvalues([1, 2, 3], 2)).toThrow(RangeError);
    expect(() => eigenvalues([1, NaN, 0, 1], 2)).toThrow(/finite/);
    expect(() => singularValues([1, 2, 3], 2, 2)).toThrow(RangeError);
    expect(() => singularValues([Infinity], 1, 1)).toThrow(/finite/);
  });
});

// ---- singular values ----

describe("singularValues", () => {
  it("of a diagonal-like rectangular matrix are the |diagonal|, descending", () => {
    expect(Array.from(singularValues([3, 0, 0, 0, -2, 0], 2, 3))).toEqual([3, 2]);
    expect(Array.from(singularValues([1, 0, 0, 0, 0, 0, 0, -5], 4, 2))).toEqual([5, 1]);
  });

  it("of rectangular random matrices: Σσ² = ‖A‖_F², A and Aᵀ agree, and σ² = eig(AᵀA)", () => {
    const rng = new Rng(7);
    for (const [rows, cols] of [
      [30, 12],
      [12, 30],
      [1, 9],
      [9, 1],
      [25, 24],
    ]) {
      const a = randn(rng, rows * cols);
      const sv = singularValues(a, rows, cols);
      expect(sv.length).toBe(Math.min(rows, cols));
      for (let i = 1; i < sv.length; i++) expect(sv[i]).toBeLessThanOrEqual(sv[i - 1]);
      const fro2 = a.reduce((s, v) => s + v * v, 0);
      const sum2 = sv.reduce((s, v) => s + v * v, 0);
      expect(Math.abs(sum2 - fro2) / fro2).toBeLessThan(1e-13);
      const svT = singularValues(transpose(a, rows, cols), cols, rows);
      for (let i = 0; i < sv.length; i++) expect(Math.abs(svT[i] - sv[i]) / sv[0]).toBeLessThan(1e-13);
      // the small Gram matrix
      const k = Math.min(rows, cols);
      const g = new Float64Array(k * k); // AᵀA (tall) or AAᵀ (wide)
      for (let i = 0; i < k; i++) {
        for (let j = 0; j < k; j++) {
          let s = 0;
          const len = Math.max(rows, cols);
          for (let t = 0; t < len; t++) s += rows >= cols ? a[t * cols + i] * a[t * cols + j] : a[i * cols + t] * a[j * cols + t];
          g[i * k + j] = s;
        }
      }
      const ev = eigenvalues(g, k);
      for (let i = 0; i < k; i++) expect(Math.abs(sv[i] * sv[i] - ev.re[i]) / ev.re[0]).toBeLessThan(1e-12);
    }
  });

  it("of a rank-deficient matrix include exact-ish zeros", () => {
    // rank 2: outer products u1 v1ᵀ·3 + u2 v2ᵀ·0.5 with orthonormal u, v
    const u = randomOrthogonal(8, 2, new Rng(1));
    const v = randomOrthogonal(6, 2, new Rng(2));
    const a = new Float64Array(8 * 6);
    for (let i = 0; i < 8; i++) for (let j = 0; j < 6; j++) a[i * 6 + j] = 3 * u[i * 2] * v[j * 2] + 0.5 * u[i * 2 + 1] * v[j * 2 + 1];
    const sv = singularValues(a, 8, 6);
    expect(sv[0]).toBeCloseTo(3, 13);
    expect(sv[1]).toBeCloseTo(0.5, 13);
    for (let i = 2; i < 6; i++) expect(sv[i]).toBeLessThan(1e-14);
  });

  it("of the zero matrix and empty matrices", () => {
    expect(Array.from(singularValues(new Float64Array(12), 3, 4))).toEqual([0, 0, 0]);
    expect(singularValues([], 0, 5).length).toBe(0);
    expect(singularValues([], 4, 0).length).toBe(0);
  });

  it("are scale-equivariant far from 1 (no overflow or underflow in the squares)", () => {
    const a = randn(new Rng(5), 10 * 10);
    const sv = singularValues(a, 10, 10);
    for (const s of [1e-200, 1e200]) {
      const scaled = singularValues(
        a.map((x) => x * s),
        10,
        10,
      );
      for (let i = 0; i < 10; i++) expect(Math.abs(scaled[i] / s - sv[i]) / sv[0]).toBeLessThan(1e-13);
    }
  });
});

// ---- recurrent layers ----

/** Trace of the j-th H×H row block of a (G, H) matrix. */
function blockTrace(w: ArrayLike<number>, H: number, j: number): number {
  let t = 0;
  for (let i = 0; i < H; i++) t += w[(j * H + i) * H + i];
  return t;
}

describe("recurrentSpectra", () => {
  it("Elman RNN: one block 'hh' with γ = 1, the spectrum of W_hh", () => {
    const rnn = new RNN({ inputSize: 3, hiddenSize: 8, seed: 1, dtype: "float64" });
    const s = recurrentSpectra(rnn);
    expect(s.length).toBe(1);
    const [x] = s;
    expect([x.layer, x.direction, x.block, x.gamma, x.bound]).toEqual([0, 0, "hh", 1, 1]);
    expect(x.eigRe.length).toBe(8);
    expect(x.eigIm.length).toBe(8);
    expect(x.singular.length).toBe(8);
    const w = rnn.params[0].weightHh.value;
    expect(x.eigRe.reduce((a, b) => a + b, 0)).toBeCloseTo(blockTrace(w, 8, 0), 12);
    expect(x.sigmaMax).toBe(singularValues(w, 8, 8)[0]);
    expect(x.sigmaMax).toBe(x.singular[0]);
    expect(x.radius).toBeLessThanOrEqual(x.sigmaMax);
    expect(x.radius).toBeCloseTo(Math.hypot(x.eigRe[0], x.eigIm[0]), 14);
    expect(x.regime).toBe(x.sigmaMax < 1 ? "vanishing" : "may-explode");
    expect(recurrentSpectra(new RNN({ inputSize: 3, hiddenSize: 4, nonlinearity: "relu", seed: 1 }))[0].gamma).toBe(1);
  });

  it("stacked bidirectional LSTM: L·D·4 entries, blocks i,f,g,o in order with γ = ¼,¼,1,¼, each its own rows of weight_hh", () => {
    const H = 8;
    const lstm = new LSTM({ inputSize: 3, hiddenSize: H, numLayers: 2, bidirectional: true, seed: 1 });
    const s = recurrentSpectra(lstm);
    expect(s.length).toBe(2 * 2 * 4);
    const gammas: Record<string, number> = { i: 0.25, f: 0.25, g: 1, o: 0.25 };
    s.forEach((x, k) => {
      expect(x.layer).toBe(Math.floor(k / 8));
      expect(x.direction).toBe(Math.floor(k / 4) % 2);
      expect(x.block).toBe("ifgo"[k % 4]);
      expect(x.gamma).toBe(gammas[x.block]);
      expect(x.bound).toBe(1 / x.gamma);
      expect(x.regime).toBe(x.sigmaMax < x.bound ? "vanishing" : "may-explode");
      expect(x.singular.length).toBe(H);
      const w = lstm.params[x.layer * 2 + x.direction].weightHh.value;
      expect(x.eigRe.reduce((a, b) => a + b, 0)).toBeCloseTo(blockTrace(w, H, k % 4), 5);
      expect(x.sigmaMax).toBeCloseTo(singularValues(w.subarray((k % 4) * H * H, ((k % 4) + 1) * H * H), H, H)[0], 12);
    });
    // the default init U(±1/√H) gives σ_max ≈ 2/√3 ≈ 1.15: above the tanh bound 1, far below the sigmoid bound 4
    expect(s.filter((x) => x.gamma === 0.25).every((x) => x.regime === "vanishing")).toBe(true);
  });

  it("GRU: blocks r,z,n with γ = ¼,¼,1", () => {
    const gru = new GRU({ inputSize: 2, hiddenSize: 5, numLayers: 3, seed: 4 });
    const s = recurrentSpectra(gru);
    expect(s.map((x) => x.block).join("")).toBe("rzn".repeat(3));
    expect(s.map((x) => x.gamma)).toEqual([0.25, 0.25, 1, 0.25, 0.25, 1, 0.25, 0.25, 1]);
    expect(s.map((x) => x.layer)).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2]);
  });

  it("orthogonal RNN init: every singular value and |λ| is 1; scaled by 2 it may explode", () => {
    const rnn = new RNN({ inputSize: 3, hiddenSize: 16, seed: 3, init: "orthogonal" });
    const [x] = recurrentSpectra(rnn);
    for (const sv of x.singular) expect(Math.abs(sv - 1)).toBeLessThan(1e-5); // float32 weights
    for (let i = 0; i < 16; i++) expect(Math.abs(Math.hypot(x.eigRe[i], x.eigIm[i]) - 1)).toBeLessThan(1e-5);
    expect(Math.abs(x.sigmaMax - 1)).toBeLessThan(1e-5);
    expect(x.regime).toBe(x.sigmaMax < 1 ? "vanishing" : "may-explode");

    const w = rnn.params[0].weightHh.value;
    for (let i = 0; i < w.length; i++) w[i] *= 2;
    const [y] = recurrentSpectra(rnn);
    expect(y.regime).toBe("may-explode");
    expect(y.sigmaMax).toBeCloseTo(2 * x.sigmaMax, 5);
    expect(y.radius).toBeCloseTo(2, 4);
    for (let i = 0; i < w.length; i++) w[i] *= 0.25; // 0.5·Q
    const [z] = recurrentSpectra(rnn);
    expect(z.regime).toBe("vanishing");
  });
});
