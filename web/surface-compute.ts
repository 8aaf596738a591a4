// The single-neuron error surface's numbers, computed in the lab's worker by the library
// (src/analysis: surfaceGrid, descend, as `rnnlab surface`) and drawn by surface-view.ts: the map,
// the plain and norm-clipped descents, E along a line across the wall, and what happened in words.
// The page imports only the plain constants (SURFACE_WINDOW, SURFACE_PRESETS); the bundler leaves
// the library out of the page for them (the package has no side effects).

import { descend, fmtNum, singleNeuron, surfaceGrid, type DescentPoint } from "../src/index.js";
import type { FromWorker, ToWorker } from "./protocol.js";

type SurfaceMessage = Extract<FromWorker, { type: "surface" }>;

/** The map's window: the grid's first and last w and b (start points are kept inside it). */
export const SURFACE_WINDOW = { w: [4, 8], b: [-5, -1] } as const;
const GRID = 48;

/** A start point worth trying, with what it shows at the default lr 0.5 and threshold 0.2. */
export interface SurfacePreset {
  /** Button text. */
  label: string;
  start: [number, number];
  /** What happens from there (measured with descend, 100 steps). */
  note: string;
}

/**
 * Start points that teach, chosen by running descend (lr 0.5, threshold 0.2, 100 steps) from
 * every point of a 0.05 grid over the window and keeping those where the plain and the clipped
 * descents end furthest apart, in E, and tell the same story from all 8 neighbours ±0.05 away
 * (so a nudge by keyboard does not change the lesson); plus one where they coincide.
 */
export const SURFACE_PRESETS: readonly SurfacePreset[] = [
  {
    label: "before the wall",
    start: [5.3, -3.6],
    note: "plain descent climbs the plateau for 41 steps, meets the wall at ‖∇E‖ = 18.2 and is thrown 9.1 off the map (E = 0.49); clipped: 27 steps clipped, E = 9.0e-4",
  },
  {
    label: "at the wall",
    start: [4.3, -2.25],
    note: "the very first step is clipped; plain descent is thrown 13.4 off the map at step 4 (‖∇E‖ = 26.8, E = 0.09); clipped: 28 steps clipped, E = 7.2e-6",
  },
  {
    label: "above the wall",
    start: [4.5, -1.85],
    note: "plain descent walks down into the valley and is thrown out of it at step 24 (‖∇E‖ = 4.0, E = 0.082); clipped: 25 steps clipped, E = 3.4e-7, 5.4 decades lower",
  },
  {
    label: "on the plateau",
    start: [6, -4.8],
    note: "the paths coincide: ‖∇E‖ stays below 0.042 for 100 steps, far under the threshold, so clipping never acts (both end at E = 0.45)",
  },
];

let surfaceCache: { key: string; grid: ReturnType<typeof surfaceGrid> } | null = null;

/** The map, the plain and norm-clipped descents from the message's start point, the section across the wall, and the readout. */
export function surface(m: Extract<ToWorker, { type: "surface" }>): SurfaceMessage {
  const { start, lr, clip, steps } = m;
  const { w: wr, b: br } = SURFACE_WINDOW;
  const key = `${wr},${br},${GRID}`;
  if (!surfaceCache || surfaceCache.key !== key) surfaceCache = { key, grid: surfaceGrid({ wRange: wr, bRange: br, steps: GRID }) };
  const g = surfaceCache.grid;
  const plain = descend(start, { lr, steps, clip: null });
  const clipped = descend(start, { lr, steps, clip });
  const section = wallSection(plain);
  const { wall, normal } = section;
  const along = (p: DescentPoint) => (p.w - wall[0]) * normal[0] + (p.b - wall[1]) * normal[1];
  const path = (name: string, dashed: boolean, ps: DescentPoint[]) => ({
    name,
    dashed,
    points: ps.map((p) => ({ x: p.w, y: p.b })),
    loss: ps.map((p) => p.loss),
    gradNorm: ps.map((p) => p.gradNorm),
    clipped: ps.map((p) => p.clipped),
    along: ps.map(along),
  });
  return {
    type: "surface",
    w: Array.from(g.w),
    b: Array.from(g.b),
    loss: Array.from(g.loss),
    start,
    lr,
    clip,
    steps,
    paths: [path("gradient descent", false, plain), path(`with norm clipping at ${fmtNum(clip)}`, true, clipped)],
    section: { from: section.from, to: section.to, wall, along: section.along, loss: section.loss, gradNorm: section.gradNorm },
    readout: surfaceReadout(plain, clipped, clip),
  };
}

// ---------------------------------------------------------------------------------------------
// the wall and the section across it

const TARGET_LOGIT = Math.log(0.7 / 0.3); // σ(x_T) = 0.7: E = 0

/**
 * The b where σ(x_T) = 0.7 at this w (E = 0): the valley floor, right beside the wall. For w > 0,
 * x_T grows with b (each x_t = w·σ(x_{t−1}) + b does), so bisection finds the one crossing.
 */
export function wallB(w: number): number {
  let lo = -50;
  let hi = 50;
  for (let i = 0; i < 64; i++) {
    const mid = (lo + hi) / 2;
    if (singleNeuron(w, mid).xT < TARGET_LOGIT) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

const inWindow = (p: { w: number; b: number }) =>
  p.w >= SURFACE_WINDOW.w[0] && p.w <= SURFACE_WINDOW.w[1] && p.b >= SURFACE_WINDOW.b[0] && p.b <= SURFACE_WINDOW.b[1];

/**
 * E along the straight line across the wall where the plain descent meets it: through the wall
 * at the w of the descent's steepest point on the map, perpendicular to the wall there, cut to
 * the map's window. Sampled evenly, and densely close to the wall so its drop shows on a log axis.
 */
function wallSection(plain: DescentPoint[]) {
  const inside = plain.filter(inWindow);
  const steep = (inside.length ? inside : plain).reduce((a, p) => (p.gradNorm > a.gradNorm ? p : a));
  const [w0, w1] = SURFACE_WINDOW.w;
  const [b0, b1] = SURFACE_WINDOW.b;
  const w = Math.min(w1, Math.max(w0, steep.w));
  const wall: [number, number] = [w, wallB(w)];
  const h = 1e-3;
  const slope = (wallB(w + h) - wallB(w - h)) / (2 * h);
  const len = Math.hypot(slope, 1);
  const normal: [number, number] = [-slope / len, 1 / len]; // towards larger b: off the plateau
  // the line's stretch inside the window: wall + t·normal
  let tLo = -Infinity;
  let tHi = Infinity;
  for (const [p, d, lo, hi] of [
    [wall[0], normal[0], w0, w1],
    [wall[1], normal[1], b0, b1],
  ]) {
    if (Math.abs(d) < 1e-12) continue;
    const [ta, tb] = [(lo - p) / d, (hi - p) / d];
    tLo = Math.max(tLo, Math.min(ta, tb));
    tHi = Math.min(tHi, Math.max(ta, tb));
  }
  const ts = new Set<number>();
  const n = 240;
  for (let i = 0; i <= n; i++) ts.add(tLo + ((tHi - tLo) * i) / n);
  for (let e = -8; e <= 0; e += 0.25) {
    for (const t of [10 ** e, -(10 ** e)]) if (t > tLo && t < tHi) ts.add(t);
  }
  ts.add(0);
  const along = [...ts].sort((a, b) => a - b);
  const loss: number[] = [];
  const gradNorm: number[] = [];
  for (const t of along) {
    const r = singleNeuron(wall[0] + t * normal[0], wall[1] + t * normal[1]);
    loss.push(r.loss);
    gradNorm.push(Math.hypot(r.dw, r.db));
  }
  const at = (t: number): [number, number] => [wall[0] + t * normal[0], wall[1] + t * normal[1]];
  return { wall, normal, from: at(tLo), to: at(tHi), along, loss, gradNorm };
}

// ---------------------------------------------------------------------------------------------
// the readout

/** A number for the readout: 3 significant digits (the CLI's format beyond that). */
const num = (x: number) => fmtNum(Number.isFinite(x) ? +x.toPrecision(3) : x);
const pt = (p: { w: number; b: number }) => `(${num(p.w)}, ${num(p.b)})`;

/** Where a descent went: thrown off the map (the step, its length, ‖∇E‖ before it), blew up, or stayed; and where it ended. */
function ending(path: DescentPoint[]): string {
  const end = path[path.length - 1];
  const out = path.findIndex((p) => !inWindow(p));
  let how = "";
  if (out > 0) {
    const from = path[out - 1];
    const len = Math.hypot(path[out].w - from.w, path[out].b - from.b);
    // a long step is a throw (the map is 4 wide); a short one walks off the edge
    how =
      len > 0.5 ? `thrown off the map at step ${out} by a step ${num(len)} long (‖∇E‖ = ${num(from.gradNorm)} before it); ` : `left the map at step ${out}; `;
  }
  if (!(Number.isFinite(end.loss) && Number.isFinite(end.gradNorm))) return `${how}blew up at step ${path.length - 1} (E is no longer a number)`;
  return `${how}ended at ${pt(end)}, E = ${num(end.loss)}`;
}

/** "550×", "13,000×": how many times one loss is another. */
const times = (r: number) => `${(+r.toPrecision(2)).toLocaleString("en-US")}×`;

/**
 * What happened, in plain words: where each descent ended and E there, how many steps were
 * clipped, and, when the two paths coincide, why (no step's gradient norm exceeded the threshold).
 */
export function surfaceReadout(plain: DescentPoint[], clipped: DescentPoint[], clip: number): string {
  const steps = clipped.length - 1;
  const n = clipped.filter((p) => p.clipped).length;
  if (n === 0) {
    const largest = plain.slice(0, -1).reduce((m, p) => Math.max(m, p.gradNorm), 0);
    const why =
      steps === 0
        ? "no steps were taken"
        : `no step's gradient norm exceeded the threshold ${num(clip)} from here (the largest was ${num(largest)}), so clipping never acted`;
    return `The two paths coincide: ${why}; both ${ending(plain)}.`;
  }
  const ep = plain[plain.length - 1].loss;
  const ec = clipped[clipped.length - 1].loss;
  let compare = "";
  if (Number.isFinite(ep) && Number.isFinite(ec) && ep > 0 && ec > 0) {
    if (ep / ec >= 2) compare = ` (${times(ep / ec)} lower)`;
    else if (ec / ep >= 2) compare = ` (${times(ec / ep)} higher)`;
  }
  return `Without clipping: ${ending(plain)}. With clipping at ${num(clip)}: ${n} of ${steps} steps clipped; ${ending(clipped)}${compare}.`;
}
