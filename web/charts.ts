// Drawing: vega-lite specs (the CLI's own from src/plot/specs.ts where they fit, and the lab's
// heat map) compiled and rendered by vega. Redraws are throttled: at most one chart per frame,
// each at most every `minGap` ms, so the page stays responsive while the worker posts numbers.

import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { fmtNum } from "../src/plot/specs.js";

type AnySpec = Record<string, unknown>;

/** Numbers for labels: the CLI's own rule. */
export const fmt = fmtNum;

const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const CONFIG = {
  font: FONT,
  background: "#ffffff",
  title: { fontSize: 13, subtitleFontSize: 11, subtitleColor: "#666" },
  axis: { labelFontSize: 10, titleFontSize: 11, titleFontWeight: 500, labelOverlap: "greedy", labelSeparation: 3 },
  legend: { labelFontSize: 10, titleFontSize: 11 },
};

/** A spec with the lab's size and look (width, height given for the plotting area). */
export function sized(spec: TopLevelSpec, width: number, height: number, patch: AnySpec = {}): TopLevelSpec {
  const s = spec as unknown as AnySpec;
  const config = { ...CONFIG, ...((s.config as AnySpec | undefined) ?? {}), ...((patch.config as AnySpec | undefined) ?? {}) };
  return { ...s, width, height, ...patch, config } as unknown as TopLevelSpec;
}

/**
 * (lab) ‖∂E_t/∂h_{t−lag}‖ over lag (up) and training step (across), one column per diagnosis;
 * log colour: a gradient that vanishes over the lags turns dark.
 */
export function lagHeatmapSpec(cols: readonly { step: number; gradByLag: readonly number[] }[], title: string, every: number): TopLevelSpec {
  const rows: { s0: number; s1: number; l0: number; l1: number; v: number }[] = [];
  let max = 0;
  cols.forEach((c, k) => {
    const next = k + 1 < cols.length ? cols[k + 1].step : c.step + every;
    c.gradByLag.forEach((v, lag) => {
      if (Number.isFinite(v) && v > 0) {
        rows.push({ s0: c.step, s1: next, l0: lag - 0.5, l1: lag + 0.5, v });
        max = Math.max(max, v);
      }
    });
  });
  const floor = max > 0 ? max * 1e-8 : 1e-8;
  for (const r of rows) r.v = Math.max(r.v, floor);
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "Gradient reaching back in time", subtitle: title, anchor: "start" },
    data: { values: rows },
    mark: { type: "rect", aria: false },
    encoding: {
      x: { field: "s0", type: "quantitative", title: "training step", scale: { zero: false, nice: false } },
      x2: { field: "s1" },
      y: { field: "l0", type: "quantitative", title: "lag t − k (steps back)", scale: { zero: false, nice: false } },
      y2: { field: "l1" },
      color: {
        field: "v",
        type: "quantitative",
        title: "norm",
        scale: { type: "log", scheme: "inferno", domain: [floor, max || 1], clamp: true },
        legend: { format: ".0e", gradientLength: 150 },
      },
    },
    config: { view: { stroke: null } },
  } as unknown as TopLevelSpec;
}

/** Adds the post-clip norm (min(norm, threshold)) to the CLI's clipping-history chart. */
export function withAfterClip(spec: TopLevelSpec, rows: readonly { step: number; v: number }[]): TopLevelSpec {
  const s = spec as unknown as { layer: AnySpec[] } & AnySpec;
  const after: AnySpec = {
    data: { values: rows },
    mark: { type: "line", strokeWidth: 2.5, color: "#f58518", opacity: 0.85 },
    encoding: { x: { field: "step", type: "quantitative" }, y: { field: "v", type: "quantitative" } },
  };
  // under the pre-clip line (which stays visible where nothing is clipped), over the suggestion band
  const at = s.layer.findIndex((l) => (l.mark as AnySpec | undefined)?.type === "line");
  const layer = [...s.layer];
  layer.splice(at, 0, after);
  return { ...s, layer } as unknown as TopLevelSpec;
}

export interface Chart {
  el: HTMLElement;
  renderer: "svg" | "canvas";
  view: vega.View | null;
  /** Builds the spec when the chart is redrawn (null: nothing to draw yet). */
  build: () => TopLevelSpec | null;
  dirty: boolean;
  last: number;
  draws: number;
  minGap: number;
  onDraw?: (view: vega.View) => void;
}

const charts: Chart[] = [];
/** vega-lite's notes about the CLI's specs (e.g. on legends) are not the user's business. */
const quiet = vega.logger(vega.Error);
let scheduled = false;
let busy = false;
/** Milliseconds from navigation start to the first chart drawn (for the page's own timing). */
export const timing = { firstChart: -1, workerReady: -1, firstData: -1 };

export function chart(
  el: HTMLElement,
  build: () => TopLevelSpec | null,
  o: { renderer?: "svg" | "canvas"; minGap?: number; onDraw?: (v: vega.View) => void } = {},
): Chart {
  const c: Chart = { el, renderer: o.renderer ?? "svg", view: null, build, dirty: false, last: 0, draws: 0, minGap: o.minGap ?? 600, onDraw: o.onDraw };
  charts.push(c);
  return c;
}

export function invalidate(c: Chart, now = false): void {
  c.dirty = true;
  if (now) c.last = 0;
  schedule();
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    void pump();
  });
}

async function pump(): Promise<void> {
  if (busy) return;
  const now = performance.now();
  const ready = charts.filter((c) => c.dirty && now - c.last >= c.minGap).sort((a, b) => a.last - b.last);
  const c = ready[0];
  if (c) {
    busy = true;
    c.dirty = false;
    c.last = now;
    try {
      await render(c);
    } catch (e) {
      console.warn("rnnlab lab: a chart could not be drawn:", e);
    } finally {
      busy = false;
    }
  }
  if (charts.some((x) => x.dirty)) {
    // wait for the next chart's gap to pass without spinning
    const wait = Math.max(0, Math.min(...charts.filter((x) => x.dirty).map((x) => x.minGap - (performance.now() - x.last))));
    setTimeout(schedule, Math.min(wait, 1000));
  }
}

async function render(c: Chart): Promise<void> {
  const spec = c.build();
  if (!spec) return;
  const vg = compile(spec, { logger: quiet }).spec;
  const view = new vega.View(vega.parse(vg), { renderer: c.renderer, hover: false, logLevel: vega.Error });
  // render off-page, then swap, so the old chart stays visible until the new one is ready
  const holder = document.createElement("div");
  holder.className = "vega-chart";
  await view.initialize(holder).runAsync();
  c.view?.finalize();
  c.el.replaceChildren(holder);
  c.view = view;
  c.draws++;
  c.el.dataset.draws = String(c.draws);
  if (timing.firstChart < 0) timing.firstChart = performance.now();
  c.onDraw?.(view);
}
