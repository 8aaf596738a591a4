import { describe, expect, it } from "vitest";
import { ParamStore } from "../nn/params.js";
import { clipGradNorm, clipGradValue, gradNorm } from "./clip.js";

describe("clipGradNorm", () => {
  it("rescales all gradients together and returns the norm before clipping", () => {
    // global norm = sqrt(3^2 + 4^2) = 5, maxNorm = 2.5, scale = 2.5 / (5 + 1e-6)
    const a = new Float64Array([3]);
    const b = new Float64Array([4]);
    expect(clipGradNorm([a, b], 2.5)).toBe(5);
    const scale = 2.5 / (5 + 1e-6);
    expect(a[0]).toBeCloseTo(3 * scale, 15);
    expect(b[0]).toBeCloseTo(4 * scale, 15);
  });

  it("leaves gradients alone below the threshold", () => {
    const g = new Float64Array([0.3, -0.4]);
    expect(clipGradNorm([g], 1)).toBeCloseTo(0.5, 15);
    expect([...g]).toEqual([0.3, -0.4]);
  });

  it("supports p = 1, p = 3 and the infinity norm", () => {
    // |1| + |-2| + |3| = 6; (1 + 8 + 27)^(1/3) = 36^(1/3); max |.| = 3
    expect(gradNorm([new Float64Array([1, -2]), new Float64Array([3])], 1)).toBe(6);
    expect(gradNorm([new Float64Array([1, -2]), new Float64Array([3])], 3)).toBeCloseTo(36 ** (1 / 3), 14);
    const g = new Float64Array([1, -2, 3]);
    expect(clipGradNorm([g], 1.5, "inf")).toBe(3);
    expect(g[2]).toBeCloseTo(3 * (1.5 / (3 + 1e-6)), 15);
    expect(() => gradNorm([g], 0.5)).toThrow(/norm type/);
  });

  it("works over a ParamStore's parameters", () => {
    const store = new ParamStore({ dtype: "float64" });
    store.declare("a", [2], () => {});
    store.declare("b", [1], () => {});
    store.grads.set([3, 0, 4]);
    expect(clipGradNorm(store, 1)).toBe(5);
    expect(store.grads[2]).toBeCloseTo(0.8, 6);
  });

  it("can refuse a non-finite norm, leaving the gradients untouched", () => {
    const g = new Float64Array([1, NaN]);
    expect(() => clipGradNorm([g], 1, 2, { errorIfNonfinite: true })).toThrow(/NaN/);
    expect(g[0]).toBe(1);
    expect(gradNorm([new Float64Array([1, NaN])], "inf")).toBeNaN();
  });
});

describe("clipGradValue", () => {
  it("clamps every element and counts the clamped ones", () => {
    const g = new Float32Array([-7, 0.5, 2, -1]);
    expect(clipGradValue([g], 1)).toBe(2);
    expect([...g]).toEqual([-1, 0.5, 1, -1]);
  });
});
