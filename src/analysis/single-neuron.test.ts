// The single neuron's error surface and gradient descent on it (Pascanu et al. 2013, fig. 6):
// the surface against PyTorch's numbers, the wall near b = -2.61 at w = 5, and what norm
// clipping changes about a descent that hits it.

import { describe, expect, it } from "vitest";
import { EXTRA_FIXTURE_DIR, fixtureDir, loadFixtures } from "../../test/helpers/fixtures.js";
import { DEFAULT_CLIP, DEFAULT_ITERS, DEFAULT_LR, DEFAULT_STARTS } from "../cli/surface.js";
import { descend, singleNeuron, surfaceGrid, type DescentPoint } from "./single-neuron.js";

interface Fixture {
  T: number;
  x0: number;
  target: number;
  points: { w: number; b: number; loss: number; dloss_dw: number; dloss_db: number }[];
}

// every fixture of kind single_neuron, whatever its file is called (test/fixtures/pytorch/README.md)
const FIXTURES = [fixtureDir(), EXTRA_FIXTURE_DIR]
  .flatMap((dir) => loadFixtures(dir).map((f) => ({ ...f, dir })))
  .filter((f) => f.data.kind === "single_neuron");

/** |a - b| <= tol * |b|: relative, however small b is. */
function expectRel(name: string, actual: number, expected: number, tol = 1e-9): void {
  const rel = Math.abs(actual - expected) / Math.abs(expected);
  if (!(rel <= tol)) throw new Error(`${name}: got ${actual}, PyTorch ${expected}, relative difference ${rel} > ${tol}`);
}

function longestStep(path: DescentPoint[]): { length: number; from: DescentPoint } {
  let best = { length: 0, from: path[0] };
  for (let i = 1; i < path.length; i++) {
    const d = Math.hypot(path[i].w - path[i - 1].w, path[i].b - path[i - 1].b);
    if (d > best.length) best = { length: d, from: path[i - 1] };
  }
  return best;
}

describe("surfaceGrid", () => {
  it.skipIf(FIXTURES.length === 0)("has single_neuron fixtures to check against", () => {
    expect(FIXTURES.length).toBeGreaterThan(0);
  });
  for (const { file, dir, data } of FIXTURES) {
    it(`gives PyTorch's loss, dE/dw and dE/db at every point of ${file} (1e-9 relative)`, () => {
      const fx = data as unknown as Fixture;
      // the grid of every w with every b the fixture names; each point is read off it
      const ws = [...new Set(fx.points.map((p) => p.w))];
      const bs = [...new Set(fx.points.map((p) => p.b))];
      const g = surfaceGrid({ w: ws, b: bs, T: fx.T, x0: fx.x0, target: fx.target });
      for (const p of fx.points) {
        const k = bs.indexOf(p.b) * ws.length + ws.indexOf(p.w);
        const at = `${dir}/${file} (w ${p.w}, b ${p.b})`;
        expectRel(`loss ${at}`, g.loss[k], p.loss);
        expectRel(`dloss_dw ${at}`, g.dw[k], p.dloss_dw);
        expectRel(`dloss_db ${at}`, g.db[k], p.dloss_db);
        expect(g.gradNorm[k]).toBeCloseTo(Math.hypot(p.dloss_dw, p.dloss_db), 12);
      }
    });
  }

  it("lays an even grid out row by row (b), both ends included", () => {
    const g = surfaceGrid({ wRange: [4, 8], bRange: [-5, -1], steps: [5, 3] });
    expect(Array.from(g.w)).toEqual([4, 5, 6, 7, 8]);
    expect(Array.from(g.b)).toEqual([-5, -3, -1]);
    expect(g.loss.length).toBe(15);
    expect(g.loss[1 * 5 + 1]).toBe(singleNeuron(5, -3).loss);
    expect(g.loss[2 * 5 + 4]).toBe(singleNeuron(8, -1).loss);
  });

  it("refuses impossible grids", () => {
    expect(() => surfaceGrid({ wRange: [4, 8], bRange: [-5, -1], steps: 1 })).toThrow(/steps/);
    expect(() => surfaceGrid({ wRange: [8, 4], bRange: [-5, -1], steps: 10 })).toThrow(/wRange/);
    expect(() => surfaceGrid({ wRange: [4, 8], bRange: [-1, -1], steps: 10 })).toThrow(/bRange/);
  });
});

describe("the wall", () => {
  // Along w = 5 the loss falls from about 0.34 to about 0.01 within 1e-4 of b = -2.61235: below
  // it x_t settles at a low fixed point, above it at a high one (a saddle-node bifurcation).
  const WALL = -2.61235;

  it("along w = 5, the loss jumps between b = -2.7 and b = -2.6, at b = -2.61235", () => {
    const g = surfaceGrid({ w: [5], b: Array.from({ length: 1001 }, (_, k) => -2.7 + k * 1e-4) });
    let drop = 0;
    let at = -1;
    for (let k = 0; k + 1 < g.b.length; k++) {
      const d = g.loss[k] - g.loss[k + 1];
      if (d > drop) [drop, at] = [d, k];
    }
    expect(drop).toBeGreaterThan(0.3); // ~0.34 -> ~0.01 from one grid point to the next
    expect(g.b[at]).toBeLessThan(WALL);
    expect(g.b[at + 1]).toBeGreaterThan(WALL);
    expect(g.b[at + 1] - g.b[at]).toBeLessThan(1.01e-4);
    // everywhere else on the segment neighbours differ by far less
    let rest = 0;
    for (let k = 0; k + 1 < g.b.length; k++) if (k !== at && Math.abs(k - at) > 2) rest = Math.max(rest, Math.abs(g.loss[k] - g.loss[k + 1]));
    expect(rest).toBeLessThan(0.01);
    // bisection: where σ(x_T) crosses between the fixed points (E = 0.2)
    let lo = -2.7;
    let hi = -2.6;
    for (let i = 0; i < 60; i++) {
      const m = (lo + hi) / 2;
      if (singleNeuron(5, m).loss > 0.2) lo = m;
      else hi = m;
    }
    expect(lo).toBeCloseTo(WALL, 5);
  });

  it("the gradient at the wall is orders of magnitude larger than beside it", () => {
    const norm = (b: number) => {
      const r = singleNeuron(5, b);
      return Math.hypot(r.dw, r.db);
    };
    const wall = norm(WALL);
    expect(wall).toBeGreaterThan(1e3);
    for (const b of [-2.7, -2.65, -2.6, -2.55]) expect(wall / norm(b)).toBeGreaterThan(1e3);
  });
});

describe("descend", () => {
  it("takes plain gradient steps, and clips a step to length lr·clip (Pascanu et al. 2013, Algorithm 1)", () => {
    const r = singleNeuron(5, -3);
    const [p0, p1] = descend([5, -3], { lr: 2, steps: 1, clip: null });
    expect(p0).toMatchObject({ w: 5, b: -3, loss: r.loss, clipped: false });
    expect(p1.w).toBe(5 - 2 * r.dw);
    expect(p1.b).toBe(-3 - 2 * r.db);
    // ‖g‖ = 0.1094 at (5, -3): a threshold of 0.05 clips it; the step is then exactly lr·0.05 long
    const [q0, q1] = descend([5, -3], { lr: 2, steps: 1, clip: 0.05 });
    expect(q0.clipped).toBe(true);
    expect(Math.hypot(q1.w - 5, q1.b + 3)).toBeCloseTo(2 * 0.05, 14);
    // and in the same direction
    expect((q1.w - 5) / (q1.b + 3)).toBeCloseTo(r.dw / r.db, 12);
    // below the threshold nothing changes
    expect(descend([5, -3], { lr: 2, steps: 1, clip: 1 })[1]).toEqual(p1);
    expect(descend([5, -3], { lr: 1, steps: 7, clip: null })).toHaveLength(8);
  });

  it("from the default start, plain descent is thrown off the wall near (5, -2.6); the clipped one is not", () => {
    const o = { lr: DEFAULT_LR, steps: DEFAULT_ITERS };
    for (const start of DEFAULT_STARTS) {
      const plain = descend(start, { ...o, clip: null });
      const clipped = descend(start, { ...o, clip: DEFAULT_CLIP });
      const big = longestStep(plain);
      // the jump starts on the wall at w ≈ 5, b ≈ -2.6, where the gradient is huge
      expect(Math.abs(big.from.w - 5)).toBeLessThan(0.1);
      expect(Math.abs(big.from.b + 2.61)).toBeLessThan(0.05);
      expect(big.from.gradNorm).toBeGreaterThan(100);
      expect(big.length).toBeGreaterThan(100);
      // the clipped descent passes the same point, and its longest step is > 1000 times shorter
      const small = longestStep(clipped);
      expect(big.length / small.length).toBeGreaterThan(1000);
      // no clipped step is longer than lr·clip
      for (let i = 1; i < clipped.length; i++) {
        expect(Math.hypot(clipped[i].w - clipped[i - 1].w, clipped[i].b - clipped[i - 1].b)).toBeLessThanOrEqual(DEFAULT_LR * DEFAULT_CLIP * (1 + 1e-12));
      }
      expect(clipped.some((p) => p.clipped && p.gradNorm > 100)).toBe(true);
      // the plain one ends far outside the plotted window; the clipped one inside it, at low loss
      const endP = plain[plain.length - 1];
      expect(Math.hypot(endP.w - 5, endP.b + 2.6)).toBeGreaterThan(100);
      const endC = clipped[clipped.length - 1];
      expect(endC.w).toBeGreaterThan(4);
      expect(endC.w).toBeLessThan(8);
      expect(endC.b).toBeGreaterThan(-5);
      expect(endC.b).toBeLessThan(-1);
      expect(Math.min(...clipped.map((p) => p.loss))).toBeLessThan(1e-3);
    }
  });

  it("refuses a bad learning rate, step count or threshold", () => {
    expect(() => descend([5, -3], { lr: 0, steps: 1, clip: null })).toThrow(/lr/);
    expect(() => descend([5, -3], { lr: 1, steps: 1.5, clip: null })).toThrow(/steps/);
    expect(() => descend([5, -3], { lr: 1, steps: 1, clip: 0 })).toThrow(/clip/);
  });
});
