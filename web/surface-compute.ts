// The single-neuron error surface's numbers, computed in the lab's worker by the library
// (src/analysis: surfaceGrid, descend, as `rnnlab surface`) and drawn by surface-view.ts.

import { descend, surfaceGrid } from "../src/index.js";
import type { FromWorker, ToWorker } from "./protocol.js";

let surfaceCache: { key: string; grid: ReturnType<typeof surfaceGrid> } | null = null;

/** The map and the plain and norm-clipped descents from the message's start point. */
export function surface(m: Extract<ToWorker, { type: "surface" }>): Extract<FromWorker, { type: "surface" }> {
  const { start, lr, clip, steps } = m;
  const key = "4,8,-5,-1,48";
  if (!surfaceCache || surfaceCache.key !== key) surfaceCache = { key, grid: surfaceGrid({ wRange: [4, 8], bRange: [-5, -1], steps: 48 }) };
  const g = surfaceCache.grid;
  const plain = descend(start, { lr, steps, clip: null });
  const clipped = descend(start, { lr, steps, clip });
  return {
    type: "surface",
    w: Array.from(g.w),
    b: Array.from(g.b),
    loss: Array.from(g.loss),
    start,
    paths: [
      { name: "gradient descent", dashed: false, points: plain.map((p) => ({ x: p.w, y: p.b })) },
      { name: `with norm clipping at ${clip}`, dashed: true, points: clipped.map((p) => ({ x: p.w, y: p.b })) },
    ],
  };
}
