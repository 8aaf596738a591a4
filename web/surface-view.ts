// The single-neuron error surface (the lecture's figure from Pascanu et al. 2013, fig. 6): the
// map of E(w, b) and two descents from a start point the user moves (drag, or the arrow keys),
// plain and norm-clipped; under it E along a line across the wall with the descents projected on
// it, a readout of what happened, sliders for the learning rate and the clipping threshold, and
// start points that teach. The numbers come from the worker (surface-compute.ts); this file draws
// them and takes the input. Its controls are made here, inside #view-surface.

import type { TopLevelSpec } from "vega-lite";
import { surfaceSpec } from "../src/plot/specs.js";
import { chart, fmt, invalidate, sized, type Chart } from "./charts.js";
import { SURFACE, SURFACE_START, type FromWorker, type ToWorker } from "./protocol.js";
import { SURFACE_PRESETS, SURFACE_WINDOW } from "./surface-compute.js";

type SurfaceMessage = Extract<FromWorker, { type: "surface" }>;
type AnySpec = Record<string, unknown>;

/** What the surface view shows: the start point of the descents, their learning rate and clipping threshold. */
export interface SurfaceSettings {
  start: [number, number];
  lr: number;
  clip: number;
}

/** The sliders' ranges (log scale). */
const LR_RANGE = [0.01, 10] as const;
const CLIP_RANGE = [0.01, 1000] as const;
/** Arrow keys move the start by this much (shift: ×10). */
const KEY_STEP = 0.05;
const COLORS = ["#ff2d2d", "#000000"];
/** The section's E axis starts here (E is 0 on the valley floor, beside the wall). */
const E_FLOOR = 1e-8;

let send: (m: ToWorker) => void = () => {};
let surfaceData: SurfaceMessage | null = null;
/** The latest settings asked for (the one drawn is surfaceData's). */
let want: SurfaceSettings = { start: [...SURFACE_START], lr: SURFACE.lr, clip: SURFACE.clip };
// main.ts asked for the first surface before the page's code loaded
let surfaceBusy = true;
let surfacePending = false;

const fig = document.querySelector<HTMLElement>("#view-surface")!;
const el = fig.querySelector<HTMLElement>(".plot")!;

// ---------------------------------------------------------------------------------------------
// the page's part: the elements under the map, before the caption

const css = document.createElement("style");
css.textContent = `
.surface-map:focus-visible { outline: 2px solid var(--accent, #2f6fbd); outline-offset: 2px; }
.surface-section { min-height: 150px; }
.surface-readout { font-size: 12px; line-height: 1.4; margin: 2px 0 6px; font-variant-numeric: tabular-nums; min-height: 2.8em; }
.surface-controls { display: flex; flex-wrap: wrap; gap: 6px 18px; align-items: center; font-size: 12px; margin: 4px 0; }
.surface-slider { display: flex; align-items: center; gap: 6px; }
.surface-slider input { width: 130px; margin: 0; }
.surface-slider output { min-width: 3.5em; font-variant-numeric: tabular-nums; }
.surface-presets { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin: 4px 0 6px; font-size: 12px; }
.surface-presets button { font-size: 12px; padding: 3px 9px; }
.surface-presets button[aria-pressed="true"] { border-color: var(--accent, #2f6fbd); background: #e6eef8; }
.surface-sr { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; border: 0; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;
document.head.append(css);

/** An element with properties and attributes. */
function make<K extends keyof HTMLElementTagNameMap>(tag: K, props: Record<string, string> = {}, attrs: Record<string, string> = {}): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  Object.assign(e, props);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

const sectionEl = make("div", { className: "surface-section" });
const readoutEl = make("p", { className: "surface-readout", id: "surface-readout" });
const liveEl = make("div", { className: "surface-sr" }, { "aria-live": "polite", "aria-atomic": "true" });

/** A range input on a log scale, with a label and a number readout. */
function logSlider(id: string, text: string, range: readonly [number, number], title: string, onInput: (v: number) => void) {
  const row = make("div", { className: "surface-slider", title });
  const label = make("label", { htmlFor: id, textContent: text });
  const input = make("input", { type: "range", id, min: String(Math.log10(range[0])), max: String(Math.log10(range[1])), step: "0.01" });
  const output = make("output", { id: `${id}-value` }, { for: id });
  row.append(label, input, output);
  input.addEventListener("input", () => onInput(+(10 ** Number(input.value)).toPrecision(2)));
  return {
    row,
    /** Shows a value in the readout, and the slider at its log (clamped to the range) unless it is being dragged. */
    show(v: number, thumb = true): void {
      if (thumb) input.value = String(Math.log10(v));
      input.setAttribute("aria-valuetext", fmt(v));
      output.value = fmt(v);
    },
  };
}

const lrSlider = logSlider("surface-lr", "learning rate", LR_RANGE, "gradient-descent step size, both descents (log scale)", (v) =>
  update({ lr: v }, "slider"),
);
const clipSlider = logSlider(
  "surface-clip",
  "clipping threshold",
  CLIP_RANGE,
  "the dashed descent's gradients are rescaled to this norm when longer (log scale)",
  (v) => update({ clip: v }, "slider"),
);
const controls = make("div", { className: "surface-controls" });
controls.append(lrSlider.row, clipSlider.row);

const presets = make("div", { className: "surface-presets" }, { role: "group", "aria-label": "start points" });
presets.append(make("span", { textContent: "start:" }, { "aria-hidden": "true" }));
const presetButtons: { button: HTMLButtonElement; start: readonly [number, number] }[] = [];
const DEFAULT_PRESET = { label: "default", start: [...SURFACE_START] as [number, number], note: "the figure's start point (rnnlab surface's default)" };
for (const p of [...SURFACE_PRESETS, DEFAULT_PRESET]) {
  const where = `(${fmt(p.start[0])}, ${fmt(p.start[1])})`;
  const name = p === DEFAULT_PRESET ? `default start, at ${where}` : `start ${p.label}, at ${where}`;
  const button = make("button", { type: "button", textContent: p.label, title: `${where}: ${p.note}` }, { "aria-label": name });
  button.addEventListener("click", () => update({ start: p.start }));
  presets.append(button);
  presetButtons.push({ button, start: p.start });
}
const reset = make("button", {
  type: "button",
  textContent: "reset all",
  title: `start ${fmt(SURFACE_START[0])}, ${fmt(SURFACE_START[1])}, lr ${SURFACE.lr}, threshold ${SURFACE.clip}`,
});
reset.setAttribute("aria-label", "reset the start point, learning rate and threshold to their defaults");
reset.addEventListener("click", () => update({ start: SURFACE_START, lr: SURFACE.lr, clip: SURFACE.clip }));
presets.append(reset);

// under the map, before the caption: the section, what happened, the start points, the sliders
const caption = fig.querySelector("figcaption");
for (const e of [sectionEl, readoutEl, presets, controls, liveEl]) fig.insertBefore(e, caption);

// the map takes the keyboard: focusable, and says where the start point is
el.classList.add("surface-map");
el.tabIndex = 0;
el.setAttribute("role", "application");
el.setAttribute("aria-roledescription", "error surface map");
el.setAttribute("aria-describedby", readoutEl.id);

// ---------------------------------------------------------------------------------------------
// the charts

export const surfaceChart: Chart = chart(
  el,
  () => {
    const s = surfaceData;
    if (!s) return null;
    const xTitle = "w (recurrent weight)";
    const yTitle = "b (bias)";
    const spec = surfaceSpec({
      x: s.w,
      y: s.b,
      z: s.loss,
      xTitle,
      yTitle,
      zTitle: "E (log)",
      title: "Error surface of a single recurrent neuron",
      subtitle: [
        "x_t = w·σ(x_{t−1}) + b, T = 50, E = (σ(x_T) − 0.7)²",
        `descent from (${fmt(s.start[0])}, ${fmt(s.start[1])}): lr ${fmt(s.lr)}, clipping threshold ${fmt(s.clip)}, ${s.steps} steps`,
        "dotted: where the section below cuts across the wall",
      ],
      paths: s.paths.map((p, k) => ({ name: p.name, points: p.points, dashed: p.dashed, color: COLORS[k % COLORS.length] })),
      width: 400,
      height: 260,
    }) as unknown as { layer: AnySpec[] } & AnySpec;
    // the section's line, over the heat map and under the paths, on the map's own scales
    const enc = spec.layer[0].encoding as { x: { scale: unknown }; y: { scale: unknown } };
    const { from, to } = s.section;
    const line: AnySpec = {
      data: { values: [{ x: from[0], y: from[1], x2: to[0], y2: to[1] }] },
      mark: { type: "rule", color: "white", strokeWidth: 1.5, strokeDash: [2, 3], opacity: 0.9 },
      encoding: {
        x: { field: "x", type: "quantitative", scale: enc.x.scale, title: xTitle },
        y: { field: "y", type: "quantitative", scale: enc.y.scale, title: yTitle },
        x2: { field: "x2" },
        y2: { field: "y2" },
      },
    };
    spec.layer.splice(1, 0, line);
    return sized(spec as unknown as TopLevelSpec, 400, 260);
  },
  { renderer: "canvas", minGap: 40 },
);

/** E along the section across the wall (log), with the descents' points placed by their distance across it. */
function sectionSpec(s: SurfaceMessage): TopLevelSpec {
  const sec = s.section;
  const lo = sec.along[0];
  const hi = sec.along[sec.along.length - 1];
  const E = (v: number) => Math.max(v, E_FLOOR);
  const profile = sec.along.flatMap((a, i) => (Number.isFinite(sec.loss[i]) ? [{ a, E: E(sec.loss[i]) }] : []));
  const X = {
    field: "a",
    type: "quantitative",
    scale: { domain: [lo, hi], nice: false, zero: false },
    title: "distance across the wall (negative: the plateau side)",
  };
  const Y = {
    field: "E",
    type: "quantitative",
    scale: { type: "log", domain: [E_FLOOR, 1], clamp: true },
    axis: { values: [1e-8, 1e-6, 1e-4, 1e-2, 1], labelExpr: "datum.value === 1 ? '1' : format(datum.value, '~e')", grid: true, gridOpacity: 0.4 },
    title: "E (log)",
  };
  const layers: AnySpec[] = [
    {
      data: { values: [{ a: 0, E: 1, label: "wall" }] },
      mark: { type: "rule", color: "#ff9f1c", strokeWidth: 1, strokeDash: [4, 3], opacity: 0.8 },
      encoding: { x: X },
    },
    { data: { values: profile }, mark: { type: "line", color: "#7a8694", strokeWidth: 1.5, clip: true }, encoding: { x: X, y: Y } },
    {
      data: { values: [{ a: 0, E: 1, label: "wall" }] },
      mark: { type: "text", align: "left", baseline: "top", dx: 4, dy: 2, fontSize: 10, color: "#b86800" },
      encoding: { x: X, y: Y, text: { field: "label" } },
    },
  ];
  const ends: AnySpec[] = [];
  s.paths.forEach((p, k) => {
    // points only: a descent that zigzags across the wall would be a tangle of lines
    const rows = p.along.flatMap((a, i) => (a >= lo && a <= hi && Number.isFinite(p.loss[i]) ? [{ a, E: E(p.loss[i]) }] : []));
    const last = p.along.length - 1;
    if (last > 0 && p.along[last] >= lo && p.along[last] <= hi && Number.isFinite(p.loss[last]))
      ends.push({ a: p.along[last], E: E(p.loss[last]), color: COLORS[k] });
    const color = COLORS[k % COLORS.length];
    layers.push({
      data: { values: rows },
      mark: { type: "point", shape: p.dashed ? "diamond" : "circle", filled: true, size: 16, color, opacity: 0.6, clip: true },
      encoding: { x: X, y: Y },
    });
  });
  const p0 = s.paths[0];
  if (p0 && p0.along[0] >= lo && p0.along[0] <= hi) {
    layers.push({
      data: { values: [{ a: p0.along[0], E: E(p0.loss[0]) }] },
      mark: { type: "point", shape: "circle", size: 70, filled: true, color: "white", stroke: "black", strokeWidth: 1.5, opacity: 1 },
      encoding: { x: X, y: Y },
    });
  }
  if (ends.length) {
    layers.push({
      data: { values: ends },
      mark: { type: "point", shape: "square", size: 50, filled: true, stroke: "white", strokeWidth: 1, opacity: 1 },
      encoding: { x: X, y: Y, color: { field: "color", type: "nominal", scale: null, legend: null } },
    });
  }
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: "Across the wall",
      subtitle: [
        "E along the dotted line on the map, across the wall; the descents' points",
        "at their distance across it and their E (red: plain, black ◆: clipped)",
      ],
      anchor: "start",
    },
    layer: layers,
    config: { view: { stroke: null }, axis: { grid: false } },
  } as unknown as TopLevelSpec;
}

/** The section under the map. */
export const sectionChart: Chart = chart(sectionEl, () => (surfaceData ? sized(sectionSpec(surfaceData), 400, 110) : null), { renderer: "svg", minGap: 40 });

// ---------------------------------------------------------------------------------------------
// input: settings -> one request in flight, the latest pending

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const round3 = (v: number) => Math.round(v * 1000) / 1000;

function requestSurface(): void {
  if (surfaceBusy) {
    surfacePending = true;
    return;
  }
  surfaceBusy = true;
  send({ type: "surface", start: [...want.start], lr: want.lr, clip: want.clip, steps: SURFACE.steps });
}

/** The controls and the map's label, from `want` (a dragged slider keeps its thumb where it is). */
function showSettings(thumbs = true): void {
  const [w, b] = want.start;
  lrSlider.show(want.lr, thumbs);
  clipSlider.show(want.clip, thumbs);
  el.setAttribute(
    "aria-label",
    `Start point w = ${fmt(w)}, b = ${fmt(b)}. Arrow keys move it by ${KEY_STEP}, Shift+arrow by ${10 * KEY_STEP}, Home resets it.`,
  );
  for (const p of presetButtons) p.button.setAttribute("aria-pressed", String(p.start[0] === w && p.start[1] === b));
}

/** Checks, clamps and applies new settings (a slider already shows its own), then asks for the descents. */
function update(o: { start?: readonly [number, number]; lr?: number; clip?: number }, from?: "slider"): void {
  const next = { ...want };
  if (o.start !== undefined) {
    const [w, b] = o.start;
    if (!(Number.isFinite(w) && Number.isFinite(b))) throw new RangeError(`surfaceView.set: start must be two finite numbers, got [${o.start.join(", ")}]`);
    next.start = [round3(clamp(w, SURFACE_WINDOW.w[0], SURFACE_WINDOW.w[1])), round3(clamp(b, SURFACE_WINDOW.b[0], SURFACE_WINDOW.b[1]))];
  }
  for (const [k, range] of [
    ["lr", LR_RANGE],
    ["clip", CLIP_RANGE],
  ] as const) {
    const v = o[k];
    if (v === undefined) continue;
    if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`surfaceView.set: ${k} must be a number > 0, got ${v}`);
    next[k] = clamp(v, range[0], range[1]);
  }
  want = next;
  showSettings(from !== "slider");
  requestSurface();
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
    update({ start: p });
  });
  el.addEventListener("pointermove", (e) => {
    if (!dragging) return;
    const p = at(e);
    if (p) update({ start: p });
  });
  const end = () => (dragging = false);
  el.addEventListener("pointerup", end);
  el.addEventListener("pointercancel", end);
}

// the keyboard: arrows move the start (shift: further), Home puts it back
el.addEventListener("keydown", (e) => {
  if (e.altKey || e.ctrlKey || e.metaKey) return;
  const d = e.shiftKey ? 10 * KEY_STEP : KEY_STEP;
  const [w, b] = want.start;
  const moves: Record<string, [number, number]> = {
    ArrowLeft: [w - d, b],
    ArrowRight: [w + d, b],
    ArrowUp: [w, b + d],
    ArrowDown: [w, b - d],
    Home: [...SURFACE_START],
  };
  const p = moves[e.key];
  if (!p) return;
  e.preventDefault();
  update({ start: p });
});

// the readout, and the same words for a screen reader once the drawing settles
let liveTimer: ReturnType<typeof setTimeout> | undefined;
function showReadout(text: string): void {
  readoutEl.textContent = text;
  clearTimeout(liveTimer);
  liveTimer = setTimeout(() => (liveEl.textContent = text), 600);
}

showSettings();

/**
 * The surface view's part of the page: how it sends, what it receives, what it reports to the
 * page's test handle, and its settings for the guided lecture mode.
 */
export const surfaceView = {
  connect(s: (m: ToWorker) => void): void {
    send = s;
  },
  /** A surface message from the worker. */
  receive(m: SurfaceMessage): void {
    surfaceData = m;
    surfaceBusy = false;
    showReadout(m.readout);
    invalidate(surfaceChart, true);
    invalidate(sectionChart, true);
    if (surfacePending) {
      surfacePending = false;
      requestSurface();
    }
  },
  /** The start point of the descents drawn (null: none yet). */
  get start(): [number, number] | null {
    return surfaceData?.start ?? null;
  },
  /** The latest settings asked for (drawn once the worker answers). */
  get settings(): SurfaceSettings {
    return { start: [...want.start], lr: want.lr, clip: want.clip };
  },
  /**
   * Moves the start point and sets the learning rate and clipping threshold (unset: unchanged),
   * as the controls do: shown in them, and the descents recomputed. The start is kept on the map
   * ([4, 8] × [−5, −1]); lr within [0.01, 10] and the threshold within [0.01, 1000].
   * @throws RangeError for a start that is not two finite numbers, or an lr or threshold not > 0.
   */
  set(o: { start?: readonly [number, number]; lr?: number; clip?: number }): void {
    update(o);
  },
};
