import { describe, expect, it } from "vitest";
import { Rng } from "./rng.js";

describe("Rng", () => {
  it("gives the same numbers, bit for bit, for the same seed", () => {
    const a = new Rng(42);
    const b = new Rng(42);
    for (let i = 0; i < 1000; i++) {
      expect(a.nextU32()).toBe(b.nextU32());
      expect(Object.is(a.uniform(), b.uniform())).toBe(true);
      expect(Object.is(a.normal(), b.normal())).toBe(true);
    }
  });

  it("gives different streams for different seeds, including seeds above 2^32", () => {
    const firsts = [0, 1, 2, 2 ** 32, 2 ** 32 + 1].map((s) => new Rng(s).nextU32());
    expect(new Set(firsts).size).toBe(firsts.length);
  });

  it("restores its state exactly", () => {
    const a = new Rng(7);
    a.uniform();
    const s = a.getState();
    const next = [a.uniform(), a.normal(), a.int(10)];
    const b = new Rng(0);
    b.setState(s);
    expect([b.uniform(), b.normal(), b.int(10)]).toEqual(next);
    expect(() => b.setState([0, 0, 0, 0])).toThrow(/all-zero/);
  });

  it("draws uniforms in [0, 1), integers in range, and normals with mean 0 and variance 1", () => {
    const r = new Rng(3);
    let sum = 0;
    let sq = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const u = r.uniform();
      expect(u >= 0 && u < 1).toBe(true);
      const k = r.int(7);
      expect(Number.isInteger(k) && k >= 0 && k < 7).toBe(true);
      const z = r.normal();
      sum += z;
      sq += z * z;
    }
    // standard error of the mean is 1/sqrt(n) ≈ 0.007; of the variance ≈ sqrt(2/n) ≈ 0.01
    expect(Math.abs(sum / n)).toBeLessThan(0.03);
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.05);
  });
});
