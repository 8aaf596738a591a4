// Drawing: vega-lite specs (the CLI's own from src/plot/specs.ts where they fit, and the lab's
// heat map) compiled and rendered by vega. Redraws are throttled: at most one chart per frame,
// each at most every `minGap` ms, so the page stays responsive while the worker posts numbers.
// A chart whose compiled spec keeps its shape (everything but the inline data, the size, and the
// titles and literal scale domains, which are lifted into signals) is updated in place, not
// rebuilt, so the renderer's memory stays flat over a long run. Spec transformers add the lab's
// layers (pinned runs, setting-change markers, values a log axis cannot show); a read-out of the
// values under the pointer follows it.

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

// ---------------------------------------------------------------------------------------------
// spec transformers

const Q = "quantitative";
const markType = (l: AnySpec): unknown => (typeof l.mark === "string" ? l.mark : (l.mark as AnySpec | undefined)?.type);

/** A unit spec as a layered one (data, title, size and config stay at the top); a layered spec as it is. */
function layered(s: AnySpec): AnySpec {
  if (Array.isArray(s.layer)) return s;
  const { mark, encoding, transform, params, ...rest } = s;
  const unit: AnySpec = { mark };
  if (encoding) unit.encoding = encoding;
  if (transform) unit.transform = transform;
  if (params) unit.params = params;
  return { ...rest, layer: [unit] };
}

/** Adds `layer` to a spec (each view of a concatenation), at `at(layers)` (default: on top). */
function addLayer(spec: TopLevelSpec, layer: AnySpec, at?: (layers: AnySpec[]) => number): TopLevelSpec {
  const s = spec as unknown as AnySpec;
  for (const k of ["hconcat", "vconcat", "concat"]) {
    const views = s[k];
    if (Array.isArray(views)) return { ...s, [k]: views.map((v) => addLayer(v as TopLevelSpec, layer, at)) } as unknown as TopLevelSpec;
  }
  const u = layered(s);
  const layers = [...(u.layer as AnySpec[])];
  const i = at ? at(layers) : -1;
  layers.splice(i < 0 ? layers.length : i, 0, layer);
  return { ...u, layer: layers } as unknown as TopLevelSpec;
}

/** Below the first line (so a pinned or clipped curve lies under the live one), over bands. */
const underLines = (layers: AnySpec[]) =>
  Math.max(
    0,
    layers.findIndex((l) => markType(l) === "line"),
  );

/** The colour floor of the heat map: eight decades below the largest norm. */
const HEAT_DECADES = 1e-8;

/**
 * (lab) ‖∂E_t/∂h_{t−lag}‖ over lag (up) and training step (across), one column per diagnosis;
 * log colour from 1e-8 times the largest norm (computed by vega, so the spec's shape does not
 * change while columns arrive) up to it: a gradient that vanishes over the lags turns dark.
 */
export function lagHeatmapSpec(cols: readonly { step: number; gradByLag: readonly number[] }[], title: string, every: number): TopLevelSpec {
  const rows: { s0: number; s1: number; lag: number; l0: number; l1: number; v: number }[] = [];
  cols.forEach((c, k) => {
    const next = k + 1 < cols.length ? cols[k + 1].step : c.step + every;
    c.gradByLag.forEach((v, lag) => {
      if (Number.isFinite(v) && v > 0) rows.push({ s0: c.step, s1: next, lag, l0: lag - 0.5, l1: lag + 0.5, v });
    });
  });
  const scale = { type: "log", scheme: "inferno", clamp: true };
  const legend = { format: ".0e", gradientLength: 150 };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "Gradient reaching back in time", subtitle: title, anchor: "start" },
    data: { values: rows },
    layer: [
      {
        // the colour domain [floor, max]: two invisible points, so vega computes it from the data
        transform: [
          { aggregate: [{ op: "max", field: "v", as: "hi" }] },
          { calculate: `datum.hi * ${HEAT_DECADES}`, as: "lo" },
          { fold: ["lo", "hi"], as: ["end", "vf"] },
        ],
        mark: { type: "point", filled: true, size: 0, opacity: 0, aria: false, tooltip: null },
        encoding: { color: { field: "vf", type: Q, title: "norm", scale, legend } },
      },
      {
        transform: [{ joinaggregate: [{ op: "max", field: "v", as: "vmax" }] }, { calculate: `max(datum.v, datum.vmax * ${HEAT_DECADES})`, as: "vf" }],
        mark: { type: "rect", aria: false },
        encoding: {
          x: { field: "s0", type: Q, title: "training step", scale: { zero: false, nice: false } },
          x2: { field: "s1" },
          y: { field: "l0", type: Q, title: "lag t − k (steps back)", scale: { zero: false, nice: false } },
          y2: { field: "l1" },
          color: { field: "vf", type: Q, title: "norm", scale, legend },
          tooltip: [
            { field: "s0", type: Q, title: "training step" },
            { field: "lag", type: Q, title: "lag" },
            { field: "v", type: Q, title: "norm" },
          ],
        },
      },
    ],
    config: { view: { stroke: null } },
  } as unknown as TopLevelSpec;
}

/**
 * Two heat maps side by side: the current run's and a pinned run's, under a faded title `label`
 * as given (e.g. "pinned: lr 0.1", as withOverlay's), on one colour scale (so the colours compare). Both are lagHeatmapSpec's (sized, and
 * with markers, as wanted); the current one's config is kept.
 */
export function pinnedHeatmapSpec(current: TopLevelSpec, pinned: TopLevelSpec, label: string): TopLevelSpec {
  const view = (s: TopLevelSpec): AnySpec => {
    const v = { ...(s as unknown as AnySpec) };
    delete v.$schema;
    delete v.config;
    return v;
  };
  const cur = current as unknown as AnySpec;
  const p = view(pinned);
  const t = typeof p.title === "object" && p.title !== null ? (p.title as AnySpec) : {};
  return {
    $schema: cur.$schema,
    hconcat: [view(current), { ...p, title: { anchor: "start", ...t, text: label, color: "#999", subtitleColor: "#aaa" } }],
    resolve: { scale: { color: "shared" } },
    config: cur.config,
  } as unknown as TopLevelSpec;
}

/** Adds the post-clip norm (min(norm, threshold)) to the CLI's clipping-history chart. */
export function withAfterClip(spec: TopLevelSpec, rows: readonly { step: number; v: number }[]): TopLevelSpec {
  // under the pre-clip line (which stays visible where nothing is clipped), over the suggestion band
  return addLayer(
    spec,
    {
      data: { values: rows },
      mark: { type: "line", strokeWidth: 2.5, color: "#f58518", opacity: 0.85 },
      encoding: {
        x: { field: "step", type: Q },
        y: { field: "v", type: Q },
        tooltip: [
          { field: "step", type: Q, title: "training step" },
          { field: "v", type: Q, title: "after clipping" },
        ],
      },
    },
    underLines,
  );
}

/** A value a log axis cannot show, at a training step. */
export interface BadPoint {
  step: number;
  kind: "nonfinite" | "zero";
}

/**
 * Splits rows for a log axis: `good` where `field` is finite and > 0; `bad` (at `xField`) where it
 * is ±∞ or NaN ("nonfinite") or ≤ 0 ("zero"). Rows without the field are in neither.
 */
export function splitBad<T extends object>(
  rows: readonly T[],
  field: keyof T & string,
  xField: keyof T & string = "step" as keyof T & string,
): { good: T[]; bad: BadPoint[] } {
  const good: T[] = [];
  const bad: BadPoint[] = [];
  for (const r of rows) {
    const v = r[field] as unknown;
    if (v === undefined || v === null) continue;
    if (typeof v === "number" && Number.isFinite(v) && v > 0) good.push(r);
    else bad.push({ step: Number(r[xField]), kind: typeof v === "number" && Number.isFinite(v) ? "zero" : "nonfinite" });
  }
  return { good, bad };
}

/**
 * Marks the steps whose value a log axis cannot show, on the chart's x scale: red triangles at the
 * top edge for ±∞/NaN (the first labelled "∞/NaN"), grey ticks at the bottom edge for zeros. The
 * line's own data should leave those rows out (splitBad).
 */
export function withBadPoints(spec: TopLevelSpec, bad: readonly BadPoint[], xField = "step"): TopLevelSpec {
  const x = { field: xField, type: Q };
  const tooltip = [
    { field: xField, type: Q, title: "training step" },
    { field: "value", type: "nominal", title: "value" },
  ];
  const nonfinite = { filter: "datum.kind === 'nonfinite'" };
  return addLayer(spec, {
    data: { values: bad.map((b) => ({ [xField]: b.step, kind: b.kind })) },
    transform: [{ calculate: "datum.kind === 'zero' ? '0' : '∞ or NaN'", as: "value" }],
    layer: [
      {
        transform: [nonfinite],
        mark: { type: "point", shape: "triangle-down", filled: true, color: "#e45756", size: 50, opacity: 1, yOffset: 5 },
        encoding: { x, y: { value: 0 }, tooltip },
      },
      {
        transform: [{ filter: "datum.kind === 'zero'" }],
        mark: { type: "point", shape: "M0,-1V1", filled: false, color: "#888", strokeWidth: 1.5, size: 60, opacity: 1, yOffset: -5 },
        encoding: { x, y: { value: "height" }, tooltip },
      },
      {
        transform: [nonfinite, { aggregate: [{ op: "min", field: xField, as: xField }] }],
        mark: { type: "text", text: "∞/NaN", align: "left", baseline: "top", dx: 7, dy: 1, fontSize: 9, color: "#e45756", aria: false },
        encoding: { x, y: { value: 0 } },
      },
    ],
  });
}

/** A change of settings during a run, at a training step. */
export interface Marker {
  step: number;
  label: string;
}

/** A level worth a horizontal rule (e.g. a task's trivial baseline), in the chart's y units. */
export interface Level {
  v: number;
  label: string;
}

/**
 * Dashed vertical rules at the markers' steps, on the chart's x scale (`xField`: "step" for the
 * loss and gradient charts, "s0" for the heat map), each with a small label read upwards from
 * the top edge; and, if `levels` is given, dashed horizontal rules at those values of `yField`,
 * labelled at the right end. `color`: of rules and labels (default grey, light on the heat map).
 */
export function withMarkers(
  spec: TopLevelSpec,
  markers: readonly Marker[],
  xField = "step",
  levels?: readonly Level[],
  yField = "v",
  color = xField === "s0" ? "#d0d0d0" : "#666",
): TopLevelSpec {
  const x = { field: xField, type: Q };
  let out = addLayer(spec, {
    data: { values: markers.map((m) => ({ [xField]: m.step, label: m.label })) },
    layer: [
      { mark: { type: "rule", strokeDash: [4, 3], strokeWidth: 1, color, aria: false }, encoding: { x } },
      {
        mark: { type: "text", angle: 270, align: "right", baseline: "bottom", dx: -4, dy: -2, fontSize: 9, color, limit: 140, aria: false },
        encoding: { x, y: { value: 0 }, text: { field: "label" } },
      },
    ],
  });
  if (levels) {
    const y = { field: yField, type: Q };
    out = addLayer(out, {
      data: { values: levels.map((l) => ({ [yField]: l.v, label: l.label })) },
      layer: [
        { mark: { type: "rule", strokeDash: [6, 3], strokeWidth: 1, color, aria: false }, encoding: { y } },
        {
          mark: { type: "text", align: "right", baseline: "bottom", dx: -4, dy: -2, fontSize: 9, color, aria: false },
          encoding: { y, x: { value: "width" }, text: { field: "label" } },
        },
      ],
    });
  }
  return out;
}

/**
 * Adds a pinned earlier run to the loss chart (lossCurvesSpec) or the gradient chart
 * (clipHistorySpec): a faded grey line under the live ones, on the same scales, labelled with
 * `label` as given (e.g. "pinned: lr 0.1") at its end and in the read-out. Rows (at most 2000 are drawn) are {step, v}; `yField`/`xField`
 * name the chart's own fields (both charts: "v", "step"). On a log y axis, values ≤ 0 are left out.
 */
export function withOverlay(spec: TopLevelSpec, rows: readonly { step: number; v: number }[], label: string, yField = "v", xField = "step"): TopLevelSpec {
  const s = layered(spec as unknown as AnySpec);
  const line = (s.layer as AnySpec[]).find((l) => markType(l) === "line");
  const y = (line?.encoding as AnySpec | undefined)?.y as AnySpec | undefined;
  const log = (y?.scale as AnySpec | undefined)?.type === "log";
  const every = Math.max(1, Math.ceil(rows.length / 2000));
  const pts: AnySpec[] = [];
  rows.forEach((r, k) => {
    if ((k % every === 0 || k === rows.length - 1) && Number.isFinite(r.v) && (!log || r.v > 0)) pts.push({ [xField]: r.step, [yField]: r.v });
  });
  const end = pts.length ? [{ ...pts[pts.length - 1], label }] : [];
  const enc = { x: { field: xField, type: Q }, y: { field: yField, type: Q } };
  return addLayer(
    s as unknown as TopLevelSpec,
    {
      layer: [
        {
          data: { values: pts },
          mark: { type: "line", color: "#888", opacity: 0.45, strokeWidth: 1.5 },
          encoding: {
            ...enc,
            tooltip: [
              { field: xField, type: Q, title: "training step" },
              { field: yField, type: Q, title: label },
            ],
          },
        },
        {
          data: { values: end },
          mark: { type: "text", align: "right", baseline: "bottom", dy: -3, fontSize: 9, color: "#888", aria: false },
          encoding: { ...enc, text: { field: "label" } },
        },
      ],
    },
    underLines,
  );
}

// ---------------------------------------------------------------------------------------------
// compiling: shapes, lifted signals, inline data

/**
 * vega's Relay (which copies a dataset's tuples where its transforms write to them, as vega-lite's
 * formulas do) keeps a key per tuple it ever saw, so replacing a view's data grows its memory
 * without bound (about 100 bytes per row and update). This one forgets the tuples removed.
 */
type RelayCtor = { (this: { value: Record<number, unknown> | null }, params: unknown): void; prototype: object; Definition?: unknown; lean?: boolean };
{
  const registry = vega.transforms as unknown as Record<string, RelayCtor | undefined>;
  const Relay = registry.relay;
  if (Relay && !Relay.lean) {
    const base = Relay.prototype as { transform(this: { value: Record<number, unknown> | null }, _: { derive?: boolean }, pulse: unknown): unknown };
    const LeanRelay = function (this: { value: Record<number, unknown> | null }, params: unknown) {
      Relay.call(this, params);
    } as RelayCtor;
    LeanRelay.prototype = Object.create(Relay.prototype, {
      constructor: { value: LeanRelay, writable: true, configurable: true },
      transform: {
        value(
          this: { value: Record<number, unknown> | null },
          _: { derive?: boolean },
          pulse: { REM: number; visit(flags: number, f: (t: object) => void): void },
        ) {
          const out = base.transform.call(this, _, pulse);
          const lut = this.value;
          if (_.derive && lut) pulse.visit(pulse.REM, (t) => delete lut[vega.tupleid(t)]);
          return out;
        },
      },
    });
    LeanRelay.Definition = Relay.Definition;
    LeanRelay.lean = true;
    registry.relay = LeanRelay;
  }
}

/** Tooltip numbers: whole numbers (steps) in full, others by the CLI's rule. */
vega.expressionFunction("rlnum", (v: unknown) =>
  typeof v === "number" ? (Number.isInteger(v) && Math.abs(v) < 1e15 ? String(v) : fmtNum(v)) : v == null ? "" : String(v),
);
const HOVER_CONFIG = { customFormatTypes: true, tooltipFormat: { numberFormatType: "rlnum" } };

/** A spec compiled for vega, split into what makes a new view (`shape`) and what updates one. */
export interface Compiled {
  /** The vega spec, with the lifted signals. */
  spec: vega.Spec;
  /** JSON of the spec without inline data and lifted values: equal shapes can be updated in place. */
  shape: string;
  /** Signals lifted out of the spec (titles, literal scale domains), with their values. */
  signals: [string, unknown][];
  /** The inline datasets: name, values, and the format to parse them with (if any). */
  data: [string, unknown[], AnySpec | undefined][];
  /** The plotting area's width and height, for a single (not concatenated) view. */
  size: [number, number] | null;
}

/**
 * Names every inline dataset (rl_0, rl_1, …): vega-lite merges unnamed identical ones (e.g. two
 * empty layers), which would change the shape. With `hover`, a view with x2 or y2 (cells, bands)
 * and no tooltip of its own gets one without them (vega-lite's would list the cell's far edges).
 */
function prepare(s: AnySpec, hover: boolean, n: { k: number }): AnySpec {
  let o = s;
  const d = s.data as AnySpec | undefined;
  if (d && Array.isArray(d.values) && d.name === undefined) o = { ...o, data: { ...d, name: `rl_${n.k++}` } };
  const enc = s.encoding as Record<string, AnySpec | undefined> | undefined;
  if (hover && enc && (enc.x2 || enc.y2) && enc.tooltip === undefined) {
    const tooltip: AnySpec[] = [];
    for (const c of ["x", "y", "color", "size", "opacity", "text"]) {
      const f = enc[c];
      if (typeof f?.field === "string") tooltip.push({ field: f.field, type: f.type ?? Q, ...(typeof f.title === "string" ? { title: f.title } : {}) });
    }
    o = { ...o, encoding: { ...enc, tooltip } };
  }
  for (const k of ["layer", "hconcat", "vconcat", "concat"]) {
    const views = s[k];
    if (Array.isArray(views)) o = { ...o, [k]: views.map((v) => prepare(v as AnySpec, hover, n)) };
  }
  if (s.spec && typeof s.spec === "object") o = { ...o, spec: prepare(s.spec as AnySpec, hover, n) };
  return o;
}

const isNumbers = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "number" && Number.isFinite(x));
const isText = (v: unknown) => typeof v === "string" || (Array.isArray(v) && v.every((x) => typeof x === "string"));

/** Copies a compiled group (or the root) with titles and literal numeric scale domains lifted into signals. */
function liftGroup(g: AnySpec, lift: (v: unknown) => { signal: string }): AnySpec {
  const o = { ...g };
  const title = (t: unknown): unknown => {
    if (isText(t)) return lift(t);
    if (!t || typeof t !== "object" || "signal" in t) return t;
    const c = { ...(t as AnySpec) };
    if (isText(c.text)) c.text = lift(c.text);
    if (isText(c.subtitle)) c.subtitle = lift(c.subtitle);
    return c;
  };
  if (o.title !== undefined) o.title = title(o.title);
  for (const k of ["axes", "legends"]) {
    const guides = o[k];
    if (Array.isArray(guides)) o[k] = guides.map((a: AnySpec) => (a.title === undefined ? a : { ...a, title: title(a.title) }));
  }
  if (Array.isArray(o.scales)) {
    o.scales = o.scales.map((sc: AnySpec) => {
      const c = { ...sc };
      if (isNumbers(c.domain)) c.domain = lift(c.domain);
      for (const k of ["domainMin", "domainMax", "domainMid"]) if (typeof c[k] === "number") c[k] = lift(c[k]);
      return c;
    });
  }
  if (Array.isArray(o.marks)) o.marks = o.marks.map((m: AnySpec) => (m.type === "group" ? liftGroup(m, lift) : tooltipNumbers(m)));
  return o;
}

/** Tooltips format numbers by the lab's rule, also where the field has an axis format (e.g. "~e"). */
function tooltipNumbers(m: AnySpec): AnySpec {
  const update = (m.encode as AnySpec | undefined)?.update as AnySpec | undefined;
  const tip = update?.tooltip as { signal?: unknown } | undefined;
  if (!tip || typeof tip.signal !== "string") return m;
  const signal = tip.signal.replace(/format\((datum\["[^"\]]*"\]), "[^"]*"\)/g, "rlnum($1)");
  return signal === tip.signal ? m : { ...m, encode: { ...(m.encode as AnySpec), update: { ...update, tooltip: { signal } } } };
}

/**
 * Compiles a chart's vega-lite spec for vega: inline data named, tooltips on every mark (when
 * `hover`; see prepare), titles and literal scale domains lifted into signals. Two specs that differ only in
 * data, titles and such domains have the same `shape`.
 */
export function compileChart(spec: TopLevelSpec, hover = true): Compiled {
  let s = prepare(spec as unknown as AnySpec, hover, { k: 0 });
  if (hover) {
    const config = (s.config as AnySpec | undefined) ?? {};
    s = { ...s, config: { ...config, ...HOVER_CONFIG, mark: { ...((config.mark as AnySpec | undefined) ?? {}), tooltip: true } } };
  }
  const signals: [string, unknown][] = [];
  const lift = (value: unknown) => {
    const name = `rl_lift_${signals.length}`;
    signals.push([name, value]);
    return { signal: name };
  };
  const vg = liftGroup(compile(s as unknown as TopLevelSpec, { logger: quiet }).spec as unknown as AnySpec, lift);
  const data: Compiled["data"] = [];
  const bare = ((vg.data as AnySpec[] | undefined) ?? []).map((d) => {
    if (!Array.isArray(d.values)) return d;
    const format = d.format as AnySpec | undefined;
    data.push([d.name as string, d.values, format?.parse ? format : undefined]);
    const { values, ...rest } = d;
    return rest;
  });
  // the plotting size of a single view (the page sets it from the room there is) is updated too
  const size: [number, number] | null = typeof vg.width === "number" && typeof vg.height === "number" ? [vg.width, vg.height] : null;
  const shape = JSON.stringify({ ...vg, data: bare, ...(size ? { width: 0, height: 0 } : {}) });
  const all = [...((vg.signals as AnySpec[] | undefined) ?? []), ...signals.map(([name, value]) => ({ name, value }))];
  return { spec: { ...vg, signals: all } as unknown as vega.Spec, shape, signals, data, size };
}

/** Updates a view built from a spec of the same shape: size, lifted signals, then each inline dataset's values. */
export async function updateView(view: vega.View, k: Compiled): Promise<vega.View> {
  if (k.size) {
    if (view.width() !== k.size[0]) view.width(k.size[0]);
    if (view.height() !== k.size[1]) view.height(k.size[1]);
  }
  for (const [name, value] of k.signals) view.signal(name, value as vega.SignalValue);
  for (const [name, values, format] of k.data) {
    // parsed as vega parses inline data when it builds the view
    view.data(name, format ? vega.read(values as unknown as string, format as unknown as vega.Format) : values);
  }
  return view.runAsync();
}

// ---------------------------------------------------------------------------------------------
// read-outs: what is under the pointer

/** The read-out under the pointer: rows of (name, value) and the datum (with `step` where there is one). */
export interface Readout {
  rows: [string, string][];
  datum: Record<string, unknown>;
}

interface SceneItem {
  x?: number;
  y?: number;
  width?: number;
  height?: number;
  datum?: Record<string, unknown>;
  tooltip?: unknown;
  opacity?: number;
  bounds?: { x1: number; y1: number; x2: number; y2: number };
  items?: SceneMark[];
}
interface SceneMark {
  marktype?: string;
  role?: string;
  items?: SceneItem[];
}

/** Pixels: a line's nearest point counts within this distance in x; points and rects are hit within `HIT`. */
const NEAR = 40;
const HIT = 3;

/** The (name, value) pairs of an item: its tooltip, or else its datum. */
function entries(it: SceneItem): [string, string][] {
  const t = it.tooltip;
  if (t && typeof t === "object") return Object.entries(t as AnySpec).map(([k, v]) => [k, String(v)]);
  if (t != null) return [["", String(t)]];
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(it.datum ?? {})) if (typeof v === "number" || typeof v === "string") out.push([k, typeof v === "number" ? fmt(v) : v]);
  return out;
}

const numeric = (v: string) => v !== "" && !Number.isNaN(Number(v.replace(/,/g, "")));

/**
 * What is at (x, y) (pixels from the view's origin): over a chart with lines of training steps
 * (items whose datum has `step`), the step nearest in x and each line's value there; else the
 * point or rect under the pointer (its tooltip); a point of a step (e.g. a ∞/NaN marker) first.
 */
export function readoutAt(view: vega.View, x: number, y: number): Readout | null {
  let hit: SceneItem | null = null;
  const near: { it: SceneItem; dx: number }[] = [];
  const visit = (mark: SceneMark, ox: number, oy: number, w: number, h: number): void => {
    const items = mark.items;
    if (!items?.length) return;
    const role = mark.role ?? "";
    if (role.startsWith("axis") || role.startsWith("legend") || role.startsWith("title")) return;
    if (mark.marktype === "group") {
      for (const g of items) for (const m of g.items ?? []) visit(m, ox + (g.x ?? 0), oy + (g.y ?? 0), g.width ?? w, g.height ?? h);
      return;
    }
    if (role !== "mark") return;
    const lx = x - ox;
    const ly = y - oy;
    if (mark.marktype === "line" || mark.marktype === "area") {
      if (typeof items[0].datum?.step !== "number" || lx < -HIT || lx > w + HIT || ly < -HIT || ly > h + HIT) return;
      // points in x order (vega-lite sorts lines by x): binary search, else scan
      let best = 0;
      if ((items[0].x ?? 0) <= (items[items.length - 1].x ?? 0)) {
        let lo = 0;
        let hi = items.length - 1;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if ((items[mid].x ?? 0) < lx) lo = mid + 1;
          else hi = mid;
        }
        best = lo > 0 && Math.abs((items[lo - 1].x ?? 0) - lx) <= Math.abs((items[lo].x ?? 0) - lx) ? lo - 1 : lo;
      } else {
        for (let i = 1; i < items.length; i++) if (Math.abs((items[i].x ?? 0) - lx) < Math.abs((items[best].x ?? 0) - lx)) best = i;
      }
      const dx = Math.abs((items[best].x ?? 0) - lx);
      if (dx <= NEAR) near.push({ it: items[best], dx });
    } else if (mark.marktype === "symbol" || mark.marktype === "rect") {
      for (const it of items) {
        const b = it.bounds;
        if (it.opacity !== 0 && b && b.x2 > b.x1 && lx >= b.x1 - HIT && lx <= b.x2 + HIT && ly >= b.y1 - HIT && ly <= b.y2 + HIT) hit = it;
      }
    }
  };
  visit((view.scenegraph() as unknown as { root: SceneMark }).root, 0, 0, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY);
  const picked = hit as SceneItem | null;
  if (picked?.datum && (typeof picked.datum.step === "number" || !near.length)) return { rows: entries(picked), datum: picked.datum };
  if (!near.length) return null;
  let first = near[0];
  for (const n of near) if (n.dx < first.dx) first = n;
  // faded lines (a pinned run, the post-clip norm) after the live ones
  near.sort((a, b) => (b.it.opacity ?? 1) - (a.it.opacity ?? 1));
  const head = entries(first.it)[0];
  const rows: [string, string][] = head ? [head] : [];
  const seen = new Set(rows.map((r) => r[0]));
  for (const n of near) {
    if (n.dx > first.dx + 12) continue;
    const rest = entries(n.it).slice(1);
    // a series name (a value that is not a number) names the line's value
    const name = rest.find(([, v]) => !numeric(v));
    const own: [string, string][] = name ? [[name[1], rest.find(([, v]) => numeric(v))?.[1] ?? ""]] : rest;
    for (const r of own) {
      if (seen.has(r[0])) continue;
      seen.add(r[0]);
      rows.push(r);
    }
  }
  return { rows, datum: first.it.datum ?? {} };
}

/** The one read-out box of the page (inline styles: no CSS needed). */
let tip: HTMLDivElement | null = null;
let tipOwner: Chart | null = null;
let tipKey = "";

function showTip(c: Chart, rows: [string, string][], cx: number, cy: number): void {
  if (!tip) {
    tip = document.createElement("div");
    tip.setAttribute("aria-hidden", "true");
    tip.style.cssText =
      "position:fixed;z-index:1000;pointer-events:none;display:none;background:rgba(255,255,255,0.96);color:#222;" +
      "border:1px solid #bbb;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,0.18);padding:4px 7px;" +
      `font:11px/1.45 ${FONT};white-space:nowrap;font-variant-numeric:tabular-nums`;
    document.body.append(tip);
  }
  const key = rows.map((r) => `${r[0]}\u0000${r[1]}`).join("\u0001");
  if (key !== tipKey) {
    tipKey = key;
    tip.replaceChildren(
      ...rows.map(([k, v], i) => {
        const line = document.createElement("div");
        const name = document.createElement("span");
        name.style.color = "#666";
        name.textContent = k ? `${k}: ` : "";
        const value = document.createElement("span");
        value.style.fontWeight = i === 0 ? "600" : "500";
        value.textContent = v;
        line.append(name, value);
        return line;
      }),
    );
  }
  tipOwner = c;
  tip.style.display = "block";
  // beside the pointer, flipped to the other side near the window's right or bottom edge
  const w = tip.offsetWidth;
  const h = tip.offsetHeight;
  tip.style.left = `${cx + 14 + w > window.innerWidth ? Math.max(0, cx - 14 - w) : cx + 14}px`;
  tip.style.top = `${cy + 14 + h > window.innerHeight ? Math.max(0, cy - 14 - h) : cy + 14}px`;
}

function hideTip(c: Chart): void {
  if (tip && tipOwner === c) tip.style.display = "none";
}

interface HoverState {
  /** The pointer in client coordinates (null: not over the chart). */
  pointer: [number, number] | null;
  queued: boolean;
  datum: Record<string, unknown> | null;
  listeners: ((datum: Record<string, unknown> | null) => void)[];
}
const hovers = new WeakMap<Chart, HoverState>();

function hoverState(c: Chart): HoverState {
  let s = hovers.get(c);
  if (!s) {
    s = { pointer: null, queued: false, datum: null, listeners: [] };
    hovers.set(c, s);
  }
  return s;
}

/** The read-out at the pointer: the box, and the page's onHover functions when the datum changes. */
function hover(c: Chart): void {
  const s = hoverState(c);
  const view = c.view;
  const target = view?.container()?.querySelector("canvas, svg");
  let r: Readout | null = null;
  if (s.pointer && view && target) {
    const box = target.getBoundingClientRect();
    const [ox, oy] = view.origin();
    r = readoutAt(view, s.pointer[0] - box.left - ox, s.pointer[1] - box.top - oy);
  }
  if (r && s.pointer) showTip(c, r.rows, s.pointer[0], s.pointer[1]);
  else hideTip(c);
  const datum = r?.datum ?? null;
  if (datum === s.datum) return;
  s.datum = datum;
  const out = datum && typeof datum.step !== "number" && typeof datum.s0 === "number" ? { ...datum, step: datum.s0 } : datum;
  for (const f of s.listeners) f(out);
}

/**
 * Calls `f` with the datum under the pointer (with `step`: the training step, also on the heat
 * map) when it changes, and with null when the pointer leaves the chart. Needs `hover` (default).
 */
export function onHover(c: Chart, f: (datum: Record<string, unknown> | null) => void): void {
  hoverState(c).listeners.push(f);
}

/** A one-line summary of the chart for screen readers (role="img" and aria-label on its element). */
export function describe(c: Chart, text: string): void {
  if (c.el.getAttribute("role") !== "img") c.el.setAttribute("role", "img");
  if (c.el.getAttribute("aria-label") !== text) c.el.setAttribute("aria-label", text);
}

// ---------------------------------------------------------------------------------------------
// charts and their redraws

export interface Chart {
  el: HTMLElement;
  renderer: "svg" | "canvas";
  view: vega.View | null;
  /** Builds the spec when the chart is redrawn (null: nothing to draw yet). */
  build: () => TopLevelSpec | null;
  dirty: boolean;
  last: number;
  /** Draws (new views and in-place updates), and new views built. */
  draws: number;
  builds: number;
  /** The compiled shape of the view drawn (compileChart). */
  shape: string;
  minGap: number;
  /** Read-outs under the pointer (tooltips on every mark). */
  hover: boolean;
  onDraw?: (view: vega.View) => void;
}

/** chart()'s options. `hover` (default true): a read-out box follows the pointer, and onHover works. */
export interface ChartOptions {
  renderer?: "svg" | "canvas";
  minGap?: number;
  hover?: boolean;
  onDraw?: (v: vega.View) => void;
}

const charts: Chart[] = [];
/** vega-lite's notes about the CLI's specs (e.g. on legends) are not the user's business. */
const quiet = vega.logger(vega.Error);
let scheduled = false;
let busy = false;
/** Milliseconds from navigation start to the first chart drawn (for the page's own timing). */
export const timing = { firstChart: -1, workerReady: -1, firstData: -1 };

export function chart(el: HTMLElement, build: () => TopLevelSpec | null, o: ChartOptions = {}): Chart {
  const c: Chart = {
    el,
    renderer: o.renderer ?? "svg",
    view: null,
    build,
    dirty: false,
    last: 0,
    draws: 0,
    builds: 0,
    shape: "",
    minGap: o.minGap ?? 600,
    hover: o.hover ?? true,
    onDraw: o.onDraw,
  };
  charts.push(c);
  if (c.hover) {
    const s = hoverState(c);
    el.addEventListener("pointermove", (e) => {
      s.pointer = [e.clientX, e.clientY];
      if (s.queued) return;
      s.queued = true;
      requestAnimationFrame(() => {
        s.queued = false;
        hover(c);
      });
    });
    el.addEventListener("pointerleave", () => {
      s.pointer = null;
      hover(c);
    });
  }
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
  const k = compileChart(spec, c.hover);
  const old = c.view;
  let updated = false;
  if (old && k.shape === c.shape && old.container() && c.el.contains(old.container())) {
    try {
      await updateView(old, k);
      updated = true;
    } catch (e) {
      console.warn("rnnlab lab: a chart could not be updated, rebuilding it:", e);
    }
  }
  if (!updated) {
    const view = new vega.View(vega.parse(k.spec), { renderer: c.renderer, hover: false, logLevel: vega.Error, tooltip: () => {} });
    // render off-page, then swap, so the old chart stays visible until the new one is ready
    const holder = document.createElement("div");
    holder.className = "vega-chart";
    await view.initialize(holder).runAsync();
    c.view?.finalize();
    c.el.replaceChildren(holder);
    c.view = view;
    c.shape = k.shape;
    c.builds++;
    c.el.dataset.builds = String(c.builds);
  }
  c.draws++;
  c.el.dataset.draws = String(c.draws);
  if (timing.firstChart < 0) timing.firstChart = performance.now();
  // the values under a resting pointer have changed
  if (c.hover && hovers.get(c)?.pointer) hover(c);
  c.onDraw?.(c.view as vega.View);
}
