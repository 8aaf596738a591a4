// The lab's single-neuron surface numbers (web/surface-compute.ts) in Node: the section across the
// wall, the projected descents, the readout, and the preset start points' claims.

import { describe, expect, it } from "vitest";
import { singleNeuron } from "../../src/index.js";
import { SURFACE, SURFACE_START } from "../../web/protocol.js";
import { SURFACE_PRESETS, SURFACE_WINDOW, surface, wallB } from "../../web/surface-compute.js";

const at = (start: [number, number], o: { lr?: number; clip?: number } = {}) =>
  surface({ type: "surface", start, lr: o.lr ?? SURFACE.lr, clip: o.clip ?? SURFACE.clip, steps: SURFACE.steps });
const inside = (x: number, y: number) => x >= SURFACE_WINDOW.w[0] && x <= SURFACE_WINDOW.w[1] && y >= SURFACE_WINDOW.b[0] && y <= SURFACE_WINDOW.b[1];
const end = (p: { loss: number[] }) => p.loss[p.loss.length - 1];

describe("surface (lab worker)", () => {
  it("echoes its settings and holds the map, two descents and a section", () => {
    const m = at([...SURFACE_START]);
    expect(m).toMatchObject({ type: "surface", start: [5.2, -4], lr: 0.5, clip: 0.2, steps: 100 });
    expect(m.loss).toHaveLength(m.w.length * m.b.length);
    expect(m.paths.map((p) => p.name)).toEqual(["gradient descent", "with norm clipping at 0.2"]);
    for (const p of m.paths) {
      for (const k of ["loss", "gradNorm", "clipped", "along"] as const) expect(p[k]).toHaveLength(p.points.length);
    }
    const s = m.section;
    expect(s.loss).toHaveLength(s.along.length);
    expect(s.gradNorm).toHaveLength(s.along.length);
    expect([...s.along].sort((a, b) => a - b)).toEqual(s.along);
  });

  it("puts the wall at σ(x_T) = 0.7, on the map, where the section's ‖∇E‖ peaks and E drops to the floor", () => {
    for (const w of [4, 5, 6, 7, 8]) {
      const b = wallB(w);
      expect(inside(w, b)).toBe(true);
      // E = (σ(x_T) − 0.7)² is 0 there, up to the wall's steepness in float64
      expect(singleNeuron(w, b).loss).toBeLessThan(1e-4);
      expect(singleNeuron(w, b - 1e-6).xT).toBeLessThan(Math.log(0.7 / 0.3));
      expect(singleNeuron(w, b + 1e-6).xT).toBeGreaterThan(Math.log(0.7 / 0.3));
    }
    const s = at([...SURFACE_START]).section;
    expect(s.wall[1]).toBeCloseTo(wallB(s.wall[0]), 10);
    // the line's ends lie on the window's edges, on both sides of the wall
    for (const p of [s.from, s.to]) expect(inside(p[0] + 1e-9 * Math.sign(6 - p[0]), p[1] + 1e-9 * Math.sign(-3 - p[1]))).toBe(true);
    expect(s.along[0]).toBeLessThan(0);
    expect(s.along[s.along.length - 1]).toBeGreaterThan(0);
    const peak = s.gradNorm.indexOf(Math.max(...s.gradNorm));
    expect(Math.abs(s.along[peak])).toBeLessThan(1e-3);
    expect(Math.min(...s.loss)).toBeLessThan(1e-10);
    // far on the plateau side E is the plateau's 0.49; across the wall it is far lower
    expect(s.loss[0]).toBeGreaterThan(0.4);
    expect(s.loss[s.loss.length - 1]).toBeLessThan(0.1);
  });

  it("projects the descents on the section: the plain one's steepest point sits on the wall", () => {
    const m = at([...SURFACE_START]);
    const plain = m.paths[0];
    let steep = 0;
    plain.gradNorm.forEach((g, i) => {
      if (inside(plain.points[i].x, plain.points[i].y) && g > plain.gradNorm[steep]) steep = i;
    });
    expect(Math.abs(plain.along[steep])).toBeLessThan(0.05);
    // the start is below the wall, on the plateau side
    expect(plain.along[0]).toBeLessThan(0);
    expect(m.paths[1].along[0]).toBe(plain.along[0]);
  });

  it("reads out where each descent ended, and why they coincide when no step was clipped", () => {
    const m = at([...SURFACE_START]);
    expect(m.readout).toMatch(/^Without clipping: thrown off the map at step 54 by a step 770 long \(‖∇E‖ = 1540 before it\); ended at .*, E = 0\.09\./);
    expect(m.readout).toMatch(/With clipping at 0\.2: 23 of 100 steps clipped; ended at \(4\.3, -2\.14\), E = 0\.00137 \(66× lower\)\.$/);
    const flat = at([6, -4.8]);
    expect(flat.readout).toMatch(/^The two paths coincide: no step's gradient norm exceeded the threshold 0\.2 from here \(the largest was 0\.0406\)/);
    expect(flat.readout).toMatch(/both ended at \(6\.02, -3\.75\), E = 0\.453\.$/);
    // a threshold above every gradient on the way: clipping never acts, from the default start too
    expect(at([...SURFACE_START], { clip: 1000, lr: 0.05 }).readout).toMatch(/^The two paths coincide/);
  });

  it("follows the learning rate and the threshold", () => {
    const a = at([...SURFACE_START], { lr: 0.1, clip: 2 });
    expect(a).toMatchObject({ lr: 0.1, clip: 2 });
    expect(a.paths[1].name).toBe("with norm clipping at 2");
    // no clipped step is longer than lr·clip
    const c = a.paths[1];
    for (let i = 0; i + 1 < c.points.length; i++) {
      const len = Math.hypot(c.points[i + 1].x - c.points[i].x, c.points[i + 1].y - c.points[i].y);
      expect(len).toBeLessThanOrEqual(0.1 * 2 + 1e-12);
    }
  });

  describe("the preset start points", () => {
    const differ = SURFACE_PRESETS.filter((p) => p.label !== "on the plateau");
    it.each(differ.map((p) => [p.label, p] as const))("%s: the plain descent is thrown off the map, the clipped one ends on it ≥ 100× lower", (_, p) => {
      const [plain, clipped] = at(p.start).paths;
      expect(plain.points.some((q) => !inside(q.x, q.y))).toBe(true);
      expect(clipped.points.every((q) => inside(q.x, q.y))).toBe(true);
      expect(end(clipped)).toBeLessThan(end(plain) / 100);
      expect(clipped.clipped.filter(Boolean).length).toBeGreaterThan(20);
    });
    it("at the wall: the very first step is clipped", () => {
      const p = SURFACE_PRESETS.find((q) => q.label === "at the wall")!;
      expect(at(p.start).paths[1].clipped[0]).toBe(true);
    });
    it("on the plateau: the paths coincide (no gradient reaches the threshold)", () => {
      const p = SURFACE_PRESETS.find((q) => q.label === "on the plateau")!;
      const [plain, clipped] = at(p.start).paths;
      expect(clipped.clipped.some(Boolean)).toBe(false);
      expect(clipped.points).toEqual(plain.points);
      expect(Math.max(...plain.gradNorm)).toBeLessThan(SURFACE.clip);
    });
    it("are on the map", () => {
      for (const p of SURFACE_PRESETS) expect(inside(...p.start)).toBe(true);
    });
  });
});
