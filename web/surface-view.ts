// The single-neuron error surface (the lecture's figure from Pascanu et al. 2013, fig. 6): the
// map of E(w, b) and two descents from a start point the user moves, plain and norm-clipped. The
// numbers come from the worker (worker.ts: surface()); this file draws them and takes the input.

import { surfaceSpec } from "../src/plot/specs.js";
import { chart, fmt, invalidate, sized, type Chart } from "./charts.js";
import { SURFACE, SURFACE_START, type FromWorker, type ToWorker } from "./protocol.js";

type SurfaceMessage = Extract<FromWorker, { type: "surface" }>;

let send: (m: ToWorker) => void = () => {};
let surfaceData: SurfaceMessage | null = null;
let surfaceStart: [number, number] = [...SURFACE_START];
// main.ts asked for the first surface before the page's code loaded
let surfaceBusy = true;
let surfacePending = false;

const el = document.querySelector<HTMLElement>("#view-surface .plot")!;

export const surfaceChart: Chart = chart(
  el,
  () => {
    const s = surfaceData;
    if (!s) return null;
    return sized(
      surfaceSpec({
        x: s.w,
        y: s.b,
        z: s.loss,
        xTitle: "w (recurrent weight)",
        yTitle: "b (bias)",
        zTitle: "E (log)",
        title: "Error surface of a single recurrent neuron",
        subtitle: [
          `x_t = w·σ(x_{t−1}) + b, T = 50, E = (σ(x_T) − 0.7)²; descent from (${fmt(s.start[0])}, ${fmt(s.start[1])}), lr ${SURFACE.lr}, ${SURFACE.steps} steps`,
        ],
        paths: s.paths.map((p, k) => ({ ...p, color: k === 0 ? "#ff2d2d" : "#000000" })),
        width: 400,
        height: 260,
      }),
      400,
      260,
    );
  },
  { renderer: "canvas", minGap: 40 },
);

function requestSurface(start: [number, number]): void {
  surfaceStart = start;
  if (surfaceBusy) {
    surfacePending = true;
    return;
  }
  surfaceBusy = true;
  send({ type: "surface", start, ...SURFACE });
}

// drag the start point: pixel -> (w, b) through the chart's own scales
{
  let dragging = false;
  const at = (e: PointerEvent): [number, number] | null => {
    const view = surfaceChart.view;
    const target = el.querySelector("canvas, svg");
    if (!view || !target) return null;
    const r = target.getBoundingClientRect();
    const [ox, oy] = view.origin();
    const x = view.scale("x") as unknown as { invert(p: number): number; domain(): number[] };
    const y = view.scale("y") as unknown as { invert(p: number): number; domain(): number[] };
    const w = x.invert(e.clientX - r.left - ox);
    const b = y.invert(e.clientY - r.top - oy);
    const [w0, w1] = x.domain();
    const [b0, b1] = y.domain();
    if (!(w >= Math.min(w0, w1) && w <= Math.max(w0, w1) && b >= Math.min(b0, b1) && b <= Math.max(b0, b1))) return null;
    return [+w.toFixed(3), +b.toFixed(3)];
  };
  el.addEventListener("pointerdown", (e) => {
    const p = at(e);
    if (!p) return;
    dragging = true;
    el.setPointerCapture(e.pointerId);
    requestSurface(p);
  });
  el.addEventListener("pointermove", (e) => {
    if (!dragging) return;
    const p = at(e);
    if (p) requestSurface(p);
  });
  const end = () => (dragging = false);
  el.addEventListener("pointerup", end);
  el.addEventListener("pointercancel", end);
}

/** The surface view's part of the page: how it sends, and what it reports to the page's test handle. */
export const surfaceView = {
  connect(s: (m: ToWorker) => void): void {
    send = s;
  },
  /** A surface message from the worker. */
  receive(m: SurfaceMessage): void {
    surfaceData = m;
    surfaceBusy = false;
    invalidate(surfaceChart, true);
    if (surfacePending) {
      surfacePending = false;
      requestSurface(surfaceStart);
    }
  },
  get start(): [number, number] | null {
    return surfaceData?.start ?? null;
  },
};
