// The loss slice around trained weights (Li et al. 2018): its centre is the model's own loss,
// its directions are filter-normalised, projections recover known coordinates, and the "whh"
// mode scales W_hh.

import { describe, expect, it } from "vitest";
import { LanguageModel } from "../nn/language-model.js";
import { Rng } from "../tensor/rng.js";
import { evaluateLoss } from "../train/evaluate.js";
import { filterNormalizedDirection, isRecurrentWeight, lossSlice, principalDirections, projectOnto, recurrentWeightDirection } from "./loss-slice.js";

function tinyModel(cell: "rnn" | "lstm" = "rnn"): LanguageModel {
  return new LanguageModel({ vocabSize: 6, embedSize: 3, hiddenSize: 4, cell, seed: 3, dtype: "float64" }).eval();
}

const rng = new Rng(11);
const TOKENS = Int32Array.from({ length: 97 }, () => rng.int(6));
const lossOf = (m: LanguageModel) => evaluateLoss(m, TOKENS, 3, 8, { partial: true }).loss;

function norm(a: ArrayLike<number>, from = 0, to = a.length): number {
  let s = 0;
  for (let k = from; k < to; k++) s += a[k] * a[k];
  return Math.sqrt(s);
}

describe("lossSlice", () => {
  it("at (0, 0) is the model's own loss, and leaves the weights exactly as they were", () => {
    const lm = tinyModel();
    const before = Float64Array.from(lm.store.values);
    const l0 = lossOf(lm);
    const s = lossSlice(lm, lossOf, { steps: 5, seed: 1 });
    expect(Array.from(s.alpha)).toEqual([-1, -0.5, 0, 0.5, 1]);
    expect(s.center).toBe(l0);
    expect(s.loss[2 * 5 + 2]).toBe(l0); // evaluated again at θ* + 0·d1 + 0·d2
    expect(Array.from(lm.store.values)).toEqual(Array.from(before));
    expect(lossOf(lm)).toBe(l0);
    // away from θ* the loss differs (and is finite)
    expect(s.loss[0]).not.toBe(l0);
    expect(s.loss.every((v) => Number.isFinite(v))).toBe(true);
  });

  it("holds L(θ* + α·d1 + β·d2) at each grid point", () => {
    const lm = tinyModel();
    const s = lossSlice(lm, lossOf, { steps: [3, 5], alpha: [-0.4, 0.4], beta: [-1, 1], seed: 2 });
    const theta = Float64Array.from(lm.store.values);
    const [i, j] = [0, 3]; // α = -0.4, β = 0.5
    expect([s.alpha[i], s.beta[j]]).toEqual([-0.4, 0.5]);
    const check = tinyModel();
    for (let k = 0; k < theta.length; k++) check.store.values[k] = theta[k] - 0.4 * s.d1[k] + 0.5 * s.d2[k];
    expect(s.loss[j * 3 + i]).toBeCloseTo(lossOf(check), 12);
  });

  it("restores the weights when the loss throws", () => {
    const lm = tinyModel();
    const before = Float64Array.from(lm.store.values);
    let calls = 0;
    expect(() =>
      lossSlice(
        lm,
        (m) => {
          if (++calls === 4) throw new Error("boom");
          return lossOf(m);
        },
        { steps: 3 },
      ),
    ).toThrow("boom");
    expect(Array.from(lm.store.values)).toEqual(Array.from(before));
  });

  it("with a trajectory point θ* + 0.3·d1, projects it to (0.3, 0)", () => {
    const lm = tinyModel();
    const theta = Float64Array.from(lm.store.values);
    // the slice draws d1 first from Rng(seed): the same direction as drawn here
    const d1 = filterNormalizedDirection(lm.store, new Rng(5));
    const point = theta.map((t, k) => t + 0.3 * d1[k]);
    const s = lossSlice(lm, lossOf, { steps: 3, seed: 5, trajectory: [point, theta] });
    expect(Array.from(s.d1)).toEqual(Array.from(d1));
    expect(s.trajectory[0].alpha).toBeCloseTo(0.3, 12);
    expect(s.trajectory[0].beta).toBeCloseTo(0, 12);
    expect(s.trajectory[0].residual).toBeLessThan(1e-10);
    expect(s.trajectory[1]).toEqual({ alpha: 0, beta: 0, residual: 0, distance: 0 });
  });
});

describe("projectOnto", () => {
  it("solves the least-squares problem: the part outside the plane is left as the residual", () => {
    const r = new Rng(4);
    const n = 50;
    const theta = Float64Array.from({ length: n }, () => r.normal());
    const d1 = Float64Array.from({ length: n }, () => r.normal());
    const d2 = Float64Array.from({ length: n }, (_, k) => 0.5 * d1[k] + r.normal()); // not orthogonal to d1
    // e: random, made orthogonal to d1 and d2 (Gram-Schmidt)
    const e = Float64Array.from({ length: n }, () => r.normal());
    const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, k) => s + v * b[k], 0);
    const q2 = d2.map((v, k) => v - (dot(d2, d1) / dot(d1, d1)) * d1[k]);
    for (const q of [d1, q2]) {
      const c = dot(e, q) / dot(q, q);
      for (let k = 0; k < n; k++) e[k] -= c * q[k];
    }
    const point = theta.map((t, k) => t + 0.3 * d1[k] - 0.2 * d2[k] + e[k]);
    const p = projectOnto(theta, d1, d2, point);
    expect(p.alpha).toBeCloseTo(0.3, 12);
    expect(p.beta).toBeCloseTo(-0.2, 12);
    const delta = point.map((v, k) => v - theta[k]);
    expect(p.distance).toBeCloseTo(norm(delta), 12);
    expect(p.residual).toBeCloseTo(norm(e) / norm(delta), 12);
    expect(() => projectOnto(theta, d1, d1, point)).toThrow(/parallel/);
  });
});

describe("directions", () => {
  it("filter normalisation: each row of d has the norm of the same row of θ*; biases zeroed", () => {
    const lm = tinyModel("lstm");
    const theta = lm.store.values;
    const d = filterNormalizedDirection(lm.store, new Rng(9));
    let rows = 0;
    for (const p of lm.store.params) {
      if (p.shape.length >= 2) {
        const len = p.size / p.shape[0];
        for (let r = 0; r < p.shape[0]; r++) {
          const o = p.offset + r * len;
          expect(norm(d, o, o + len)).toBeCloseTo(norm(theta, o, o + len), 12);
          rows++;
        }
        // a direction, not a copy of θ*
        expect(Array.from(d.subarray(p.offset, p.offset + p.size))).not.toEqual(Array.from(theta.subarray(p.offset, p.offset + p.size)));
      } else {
        expect(Array.from(d.subarray(p.offset, p.offset + p.size)).every((v) => v === 0)).toBe(true);
      }
    }
    expect(rows).toBeGreaterThan(10);
    // biases normalised likewise: every element its own row, |d_i| = |θ_i|
    const f = filterNormalizedDirection(lm.store, new Rng(9), "filter");
    const bias = lm.store.get("rnn.bias_hh_l0");
    for (let k = bias.offset; k < bias.offset + bias.size; k++) expect(Math.abs(f[k])).toBeCloseTo(Math.abs(theta[k]), 14);
    // the weights' rows are the same draws whatever the biases get
    const w = lm.store.get("rnn.weight_hh_l0");
    expect(Array.from(f.subarray(w.offset, w.offset + w.size))).toEqual(Array.from(d.subarray(w.offset, w.offset + w.size)));
    // seeded
    expect(Array.from(filterNormalizedDirection(lm.store, new Rng(9)))).toEqual(Array.from(d));
    expect(Array.from(filterNormalizedDirection(lm.store, new Rng(10)))).not.toEqual(Array.from(d));
  });

  it("mode whh: α scales every W_hh, so α = -1 is the model with W_hh = 0", () => {
    const lm = tinyModel();
    const d1 = recurrentWeightDirection(lm.store);
    for (const p of lm.store.params) {
      const part = Array.from(d1.subarray(p.offset, p.offset + p.size));
      expect(part).toEqual(isRecurrentWeight(p.name) ? Array.from(p.value) : part.map(() => 0));
    }
    const s = lossSlice(lm, lossOf, { mode: "whh", steps: [3, 3], alpha: [-1, 1], seed: 1 });
    expect(Array.from(s.d1)).toEqual(Array.from(d1));
    const zeroed = tinyModel();
    zeroed.store.get("rnn.weight_hh_l0").value.fill(0);
    expect(s.loss[1 * 3 + 0]).toBeCloseTo(lossOf(zeroed), 12); // (α, β) = (-1, 0)
    const doubled = tinyModel();
    doubled.store.get("rnn.weight_hh_l0").value.forEach((v, k, a) => (a[k] = 2 * v));
    expect(s.loss[1 * 3 + 2]).toBeCloseTo(lossOf(doubled), 12); // (1, 0): W_hh -> 2·W_hh
    expect(isRecurrentWeight("rnn.weight_hh_l1_reverse")).toBe(true);
    expect(isRecurrentWeight("rnn.weight_ih_l0")).toBe(false);
  });
});

describe("principal directions of the trajectory (mode pca)", () => {
  it("span the plane a trajectory lies in, orthogonal, scaled so the trajectory reaches ±1", () => {
    const lm = tinyModel("lstm");
    const theta = Float64Array.from(lm.store.values);
    const P = theta.length;
    const r = new Rng(5);
    const u = Float64Array.from({ length: P }, () => r.normal());
    const w = Float64Array.from({ length: P }, () => r.normal());
    // a curved path in the plane θ* + a·u + b·w, ending near θ*
    const traj = [3, 2, 1.2, 0.6, 0.2].map((a, i) => theta.map((t, k) => t + a * u[k] + 0.5 * Math.sin(i) * w[k]));
    const [d1, d2] = principalDirections(theta, traj);
    let dd = 0;
    for (let k = 0; k < P; k++) dd += d1[k] * d2[k];
    expect(Math.abs(dd) / (norm(d1) * norm(d2))).toBeLessThan(1e-10);
    const s = lossSlice(lm, lossOf, { mode: "pca", steps: 3, trajectory: traj });
    expect(s.mode).toBe("pca");
    for (const p of s.trajectory) expect(p.residual).toBeLessThan(1e-9); // the plane holds the whole path
    expect(Math.max(...s.trajectory.map((p) => Math.abs(p.alpha)))).toBeCloseTo(1, 12);
    expect(Math.max(...s.trajectory.map((p) => Math.abs(p.beta)))).toBeCloseTo(1, 12);
    // the first direction carries more of the path than the second: it is (nearly) u
    const cos = Math.abs(Array.from(d1).reduce((acc, x, k) => acc + x * u[k], 0)) / (norm(d1) * norm(u));
    expect(cos).toBeGreaterThan(0.9);
    expect(s.loss[1 * 3 + 1]).toBe(s.center);
  });

  it("needs two points that span a plane", () => {
    const lm = tinyModel();
    const theta = Float64Array.from(lm.store.values);
    expect(() => principalDirections(theta, [theta.map((t) => t + 1)])).toThrow(/at least 2/);
    expect(() => principalDirections(theta, [theta.map((t) => t + 1), theta.map((t) => t + 2)])).toThrow(/two directions/);
  });
});
