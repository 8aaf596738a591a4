// Vega-lite specifications of rnnlab's plots: pure functions from data to a spec. No Node APIs
// here, so the CLI (which renders them to SVG and PNG in plot/render.ts) and the web lab (which
// hands them to vega in a browser) draw the very same charts.
//
// - surfaceSpec: a loss surface as a heat map (log colour) with descent paths over it; paths
//   are cut at the window's edge and a marker says where they went;
// - the diagnostics report: gradient against lag, gradient over steps, eigenvalues of W_hh on
//   the complex plane, singular values, clipping history, loss curves, diagnostics over training;
// - reportReadings: the lecture's reading of a DiagnosticsRecord, in words.
// Fonts are left to the renderer (render.ts sets one that exists on the machine).

import type { TopLevelSpec } from "vega-lite";
import type { ClipSummary, DiagnosticsRecord, SpectrumSummary, StepMetrics } from "../analysis/report-data.js";

type Row = Record<string, number | string | boolean | null>;
// vega-lite's types are very wide unions; the builders assemble plain objects and cast once
type AnySpec = Record<string, unknown>;

/** Colours of the categorical series (Tableau 10, vega's default scheme). */
export const SERIES_COLORS = ["#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2", "#ff9da6", "#9d755d", "#bab0ac"];

/** Numbers for labels: 4 significant digits, exponent form when very large or small. */
export function fmtNum(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1e5 || a < 1e-3) return x.toExponential(2).replace(/\.?0+e/, "e");
  return String(+x.toPrecision(4));
}

// ---------------------------------------------------------------------------------------------
// paths over a window

/** A polyline in data coordinates. */
export interface PlotPath {
  /** Legend label, unique per plot. */
  name: string;
  points: readonly { x: number; y: number }[];
  /** Drawn dashed (e.g. descent with clipping). Default false. */
  dashed?: boolean;
  /** Stroke colour. Default: SERIES_COLORS in order. */
  color?: string;
  /** Also mark every point (for a few points, e.g. saved snapshots). Default false. */
  dots?: boolean;
}

/** An axis-aligned window [x0, x1] × [y0, y1]. */
export interface Box {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/** Where a path leaves the window: the crossing point, the step it was heading to, and that point. */
export interface PathExit {
  x: number;
  y: number;
  /** Index of the first point outside. */
  step: number;
  to: { x: number; y: number };
  edge: "left" | "right" | "bottom" | "top";
}

/**
 * The parts of a polyline inside `box` (Liang-Barsky clipping of each segment) and the places
 * where it leaves the box. Each piece is a list of points with the index `i` of the path point
 * (fractional at the crossings).
 */
export function clipPath(points: readonly { x: number; y: number }[], box: Box): { pieces: { x: number; y: number; i: number }[][]; exits: PathExit[] } {
  const pieces: { x: number; y: number; i: number }[][] = [];
  const exits: PathExit[] = [];
  const inside = (p: { x: number; y: number }) => p.x >= box.x0 && p.x <= box.x1 && p.y >= box.y0 && p.y <= box.y1;
  let open: { x: number; y: number; i: number }[] | null = null;
  if (points.length === 1 && inside(points[0])) pieces.push([{ ...points[0], i: 0 }]);
  for (let k = 0; k + 1 < points.length; k++) {
    const a = points[k];
    const b = points[k + 1];
    const dx = b.x - a.x;
    const dy = b.y - a.y;
    let t0 = 0;
    let t1 = 1;
    let enter: PathExit["edge"] | null = null;
    let leave: PathExit["edge"] | null = null;
    const edges: [number, number, PathExit["edge"]][] = [
      [-dx, a.x - box.x0, "left"],
      [dx, box.x1 - a.x, "right"],
      [-dy, a.y - box.y0, "bottom"],
      [dy, box.y1 - a.y, "top"],
    ];
    let visible = Number.isFinite(dx) && Number.isFinite(dy);
    for (const [p, q, edge] of edges) {
      if (!visible) break;
      if (p === 0) {
        if (q < 0) visible = false;
      } else {
        const r = q / p;
        if (p < 0) {
          if (r > t1) visible = false;
          else if (r > t0) [t0, enter] = [r, edge];
        } else {
          if (r < t0) visible = false;
          else if (r < t1) [t1, leave] = [r, edge];
        }
      }
    }
    if (!visible) {
      open = null;
      continue;
    }
    const at = (t: number) => ({ x: a.x + t * dx, y: a.y + t * dy, i: k + t });
    if (enter !== null || open === null) {
      open = [at(t0)];
      pieces.push(open);
    }
    open.push(t1 === 1 ? { x: b.x, y: b.y, i: k + 1 } : at(t1));
    if (leave !== null) {
      const p = at(t1);
      exits.push({ x: p.x, y: p.y, step: k + 1, to: { x: b.x, y: b.y }, edge: leave });
      open = null;
    }
  }
  return { pieces, exits };
}

// ---------------------------------------------------------------------------------------------
// surfaces

/** A loss surface on a grid, with paths over it. */
export interface SurfacePlotInput {
  /** Grid coordinates along x (nx, increasing) and y (ny, increasing). */
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** (ny, nx) row-major: z[j*nx + i] at (x[i], y[j]). */
  z: ArrayLike<number>;
  xTitle: string;
  yTitle: string;
  zTitle: string;
  title?: string;
  subtitle?: string | string[];
  /** Colour scale of z. Default "log". */
  colorScale?: "log" | "linear";
  /** Log colour: decades shown below the largest value; smaller values get the darkest colour. Default 3. */
  decades?: number;
  paths?: PlotPath[];
  /** Labelled markers, e.g. the trained weights θ*. */
  markers?: { x: number; y: number; label: string }[];
  width?: number;
  height?: number;
}

/** The window a grid's cells cover: each cell is centred on its grid point. */
export function gridBox(x: ArrayLike<number>, y: ArrayLike<number>): Box {
  const half = (v: ArrayLike<number>, i: number) =>
    v.length > 1 ? (v[Math.min(i + 1, v.length - 1)] - v[Math.max(i - 1, 0)]) / (i === 0 || i === v.length - 1 ? 2 : 4) : 0.5;
  return { x0: x[0] - half(x, 0), x1: x[x.length - 1] + half(x, x.length - 1), y0: y[0] - half(y, 0), y1: y[y.length - 1] + half(y, y.length - 1) };
}

/**
 * A heat map of z over (x, y) (rect marks; log colour by default) with paths drawn over it:
 * solid or dashed lines, a circle at each start, a square at each end inside the window, and a
 * triangle where a path leaves the window, labelled with the step and where it went.
 */
export function surfaceSpec(s: SurfacePlotInput): TopLevelSpec {
  const { x, y, z } = s;
  const nx = x.length;
  const ny = y.length;
  if (nx < 1 || ny < 1 || z.length !== nx * ny) throw new RangeError(`surfaceSpec: z must hold ${nx}*${ny} values, got ${z.length}`);
  const box = gridBox(x, y);
  const width = s.width ?? 520;
  const height = s.height ?? 440;
  const log = (s.colorScale ?? "log") === "log";
  let zMax = -Infinity;
  let zMin = Infinity;
  for (let k = 0; k < z.length; k++) {
    const v = z[k];
    if (Number.isFinite(v) && (!log || v > 0)) {
      zMax = Math.max(zMax, v);
      zMin = Math.min(zMin, v);
    }
  }
  if (!Number.isFinite(zMax)) [zMin, zMax] = log ? [1e-3, 1] : [0, 1];
  if (zMin === zMax) [zMin, zMax] = log ? [zMin / 2, zMax * 2] : [zMin - 1, zMax + 1];
  const floor = log ? Math.max(zMin, zMax * 10 ** -(s.decades ?? 3)) : zMin;
  // cell edges: halfway between neighbouring grid points
  const edge = (v: ArrayLike<number>, n: number, lo: number, hi: number) => {
    const e = new Float64Array(n + 1);
    e[0] = lo;
    e[n] = hi;
    for (let i = 1; i < n; i++) e[i] = (v[i - 1] + v[i]) / 2;
    return e;
  };
  const ex = edge(x, nx, box.x0, box.x1);
  const ey = edge(y, ny, box.y0, box.y1);
  const cells: Row[] = [];
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const v = z[j * nx + i];
      if (!Number.isFinite(v)) continue;
      // each cell reaches a fifth into its right and upper neighbours (which are drawn later and
      // cover it), so antialiasing leaves no hairline seams between cells
      const x1 = i + 1 < nx ? ex[i + 1] + 0.2 * (ex[i + 2] - ex[i + 1]) : ex[i + 1];
      const y1 = j + 1 < ny ? ey[j + 1] + 0.2 * (ey[j + 2] - ey[j + 1]) : ey[j + 1];
      cells.push({ x0: ex[i], x1, y0: ey[j], y1, z: log ? Math.max(v, floor) : v });
    }
  }
  const xScale = { domain: [box.x0, box.x1], nice: false, zero: false };
  const yScale = { domain: [box.y0, box.y1], nice: false, zero: false };
  const X = { field: "x", type: "quantitative", scale: xScale, title: s.xTitle };
  const Y = { field: "y", type: "quantitative", scale: yScale, title: s.yTitle };
  const layers: AnySpec[] = [
    {
      data: { values: cells },
      mark: { type: "rect", aria: false },
      encoding: {
        x: { field: "x0", type: "quantitative", scale: xScale, title: s.xTitle },
        x2: { field: "x1" },
        y: { field: "y0", type: "quantitative", scale: yScale, title: s.yTitle },
        y2: { field: "y1" },
        color: {
          field: "z",
          type: "quantitative",
          title: s.zTitle,
          scale: log ? { type: "log", scheme: "viridis", domain: [floor, zMax], clamp: true } : { scheme: "viridis", domain: [zMin, zMax] },
          legend: { format: log && (floor < 1e-3 || zMax > 1e4) ? "~e" : "~g", gradientLength: Math.min(height - 40, 260) },
        },
      },
    },
  ];

  const paths = s.paths ?? [];
  if (paths.length > 0) {
    const names = paths.map((p) => p.name);
    const colors = paths.map((p, k) => p.color ?? SERIES_COLORS[k % SERIES_COLORS.length]);
    const dashes = paths.map((p) => (p.dashed ? [7, 4] : [1, 0]));
    const lineRows: Row[] = [];
    const starts: Row[] = [];
    const ends: Row[] = [];
    const exits: Row[] = [];
    const dots: Row[] = [];
    const px = width / (box.x1 - box.x0);
    const py = height / (box.y1 - box.y0);
    paths.forEach((p, k) => {
      const { pieces, exits: out } = clipPath(p.points, box);
      pieces.forEach((piece, seg) => {
        for (const q of piece) {
          lineRows.push({ path: p.name, seg, i: q.i, x: q.x, y: q.y });
          if (p.dots && Number.isInteger(q.i)) dots.push({ path: p.name, x: q.x, y: q.y });
        }
      });
      const first = p.points[0];
      const last = p.points[p.points.length - 1];
      const inBox = (q: { x: number; y: number }) => q.x >= box.x0 && q.x <= box.x1 && q.y >= box.y0 && q.y <= box.y1;
      if (first && inBox(first)) starts.push({ path: p.name, x: first.x, y: first.y });
      if (last && p.points.length > 1 && inBox(last)) ends.push({ path: p.name, x: last.x, y: last.y });
      for (const e of out) {
        const from = p.points[e.step - 1];
        // the triangle points along the path, in screen space (y up in data, down on screen)
        const angle = (Math.atan2((e.to.x - from.x) * px, (e.to.y - from.y) * py) * 180) / Math.PI;
        exits.push({
          path: p.name,
          x: e.x,
          y: e.y,
          angle,
          edge: e.edge,
          label: `→ (${fmtNum(e.to.x)}, ${fmtNum(e.to.y)}) at step ${e.step}`,
          color: colors[k],
        });
      }
    });
    // colour and dash on the same field with the same legend: vega-lite merges them into one legend
    const legend = { symbolType: "stroke", symbolStrokeWidth: 2.5, symbolSize: 300, labelLimit: 800, orient: "bottom", direction: "vertical" };
    const color = { field: "path", type: "nominal", title: null, scale: { domain: names, range: colors }, legend };
    const strokeDash = { field: "path", type: "nominal", title: null, scale: { domain: names, range: dashes }, legend };
    layers.push({
      data: { values: lineRows },
      mark: { type: "line", strokeWidth: 2.25, clip: true, strokeCap: "butt" },
      encoding: { x: X, y: Y, color, strokeDash, detail: { field: "seg", type: "nominal" }, order: { field: "i", type: "quantitative" } },
    });
    if (dots.length) {
      layers.push({
        data: { values: dots },
        mark: { type: "point", shape: "circle", size: 28, filled: true, opacity: 1 },
        encoding: { x: X, y: Y, color: { ...color, legend: null } },
      });
    }
    if (starts.length) {
      layers.push({
        data: { values: starts },
        mark: { type: "point", shape: "circle", size: 90, filled: true, color: "white", stroke: "black", strokeWidth: 1.5, opacity: 1 },
        encoding: { x: X, y: Y },
      });
    }
    if (ends.length) {
      layers.push({
        data: { values: ends },
        mark: { type: "point", shape: "square", size: 70, filled: true, stroke: "white", strokeWidth: 1, opacity: 1 },
        encoding: { x: X, y: Y, color: { ...color, legend: null } },
      });
    }
    if (exits.length) {
      layers.push({
        data: { values: exits },
        mark: { type: "point", shape: "triangle-up", size: 160, filled: true, stroke: "white", strokeWidth: 1, opacity: 1 },
        encoding: { x: X, y: Y, angle: { field: "angle", type: "quantitative", scale: null }, color: { ...color, legend: null } },
      });
      // one text layer per edge, so the label sits inside the window
      // beside the triangle, on the side the path is heading to (so the label does not cover the path)
      const place = (r: Row): string => {
        const a = r.angle as number;
        if (r.edge === "left" || r.edge === "right") return `${r.edge}|${a > 90 && a < 270 ? "below" : "above"}`;
        return `${r.edge}|${a >= 0 ? "right" : "left"}`;
      };
      const styles: Record<string, AnySpec> = {
        "top|right": { align: "left", baseline: "top", dx: 10, dy: 4 },
        "top|left": { align: "right", baseline: "top", dx: -10, dy: 4 },
        "bottom|right": { align: "left", baseline: "bottom", dx: 10, dy: -4 },
        "bottom|left": { align: "right", baseline: "bottom", dx: -10, dy: -4 },
        "left|above": { align: "left", baseline: "bottom", dx: 4, dy: -10 },
        "left|below": { align: "left", baseline: "top", dx: 4, dy: 10 },
        "right|above": { align: "right", baseline: "bottom", dx: -4, dy: -10 },
        "right|below": { align: "right", baseline: "top", dx: -4, dy: 10 },
      };
      for (const [key, style] of Object.entries(styles)) {
        const rows = exits.filter((r) => place(r) === key);
        if (rows.length === 0) continue;
        layers.push({
          data: { values: rows },
          mark: { type: "text", fontSize: 12, fontWeight: "bold", fill: "white", stroke: "black", strokeWidth: 0.35, ...style },
          encoding: { x: X, y: Y, text: { field: "label" } },
        });
      }
    }
  }
  const markers = s.markers ?? [];
  if (markers.length) {
    layers.push({
      data: { values: markers },
      mark: { type: "point", shape: "cross", size: 140, filled: true, color: "white", stroke: "black", strokeWidth: 0.5, opacity: 1 },
      encoding: { x: X, y: Y },
    });
    layers.push({
      data: { values: markers },
      mark: { type: "text", align: "left", dx: 9, dy: -9, fontSize: 12, fontWeight: "bold", fill: "white", stroke: "black", strokeWidth: 0.35 },
      encoding: { x: X, y: Y, text: { field: "label" } },
    });
  }
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    ...(s.title ? { title: { text: s.title, subtitle: s.subtitle ?? "", anchor: "start" } } : {}),
    width,
    height,
    layer: layers,
    resolve: { scale: { color: "independent", strokeDash: "independent" }, legend: { color: "independent", strokeDash: "independent" } },
    config: { view: { stroke: null }, axis: { grid: false } },
  } as unknown as TopLevelSpec;
}

// ---------------------------------------------------------------------------------------------
// the diagnostics report

const SUB = "₀₁₂₃₄₅₆₇₈₉";
const sub = (n: number) => String(n).replace(/\d/g, (d) => SUB[+d]);

/** "layer 0", "layer 1 (reverse)", and ", block f" for a gate block. */
export function seriesName(layer: number, direction: number, block?: string): string {
  return `layer ${layer}${direction ? " (reverse)" : ""}${block && block !== "hh" ? ` ${block}` : ""}`;
}

function chartBase(title: string, subtitle?: string): AnySpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: title, ...(subtitle ? { subtitle } : {}), anchor: "start" },
    width: 460,
    height: 260,
  };
}

const logY = (title: string) => ({ field: "v", type: "quantitative", title, scale: { type: "log" }, axis: { format: "~e" } });

/** Positive, finite values only (a log axis has no place for 0). */
const positive = (v: number) => Number.isFinite(v) && v > 0;

/**
 * (1) ‖∂E_t/∂h_{t−lag}‖ (and ‖∂E_t/∂c_{t−lag}‖ for an LSTM) against the lag, per layer, with
 * the Jacobian norms ‖∂h_t/∂h_{t−lag}‖ as points; log y.
 */
export function gradientByLagSpec(rec: DiagnosticsRecord): TopLevelSpec {
  const rows: Row[] = [];
  const q = { h: "‖∂E_t/∂h_k‖", c: "‖∂E_t/∂c_k‖", j: "‖∂h_t/∂h_k‖ (Jacobian)" };
  for (const f of rec.layers) {
    const name = seriesName(f.layer, f.direction);
    f.gradByLag.forEach((v, lag) => positive(v) && rows.push({ series: name, quantity: q.h, lag, v }));
    f.cellGradByLag?.forEach((v, lag) => positive(v) && rows.push({ series: name, quantity: q.c, lag, v }));
    f.jacobian.lags.forEach((lag, k) => positive(f.jacobian.norms[k]) && rows.push({ series: name, quantity: q.j, lag, v: f.jacobian.norms[k] }));
  }
  const quantities = [q.h, ...(rec.layers.some((f) => f.cellGradByLag) ? [q.c] : []), q.j];
  const enc = {
    x: { field: "lag", type: "quantitative", title: `lag t − k (steps back from t = ${rec.target})` },
    y: logY("norm"),
    color: { field: "series", type: "nominal", title: "layer" },
    strokeDash: {
      field: "quantity",
      type: "nominal",
      title: "quantity",
      scale: {
        domain: quantities,
        range: quantities.map(
          (_, k) =>
            [
              [1, 0],
              [6, 3],
              [2, 2],
            ][k],
        ),
      },
      legend: { labelLimit: 300, symbolType: "stroke" },
    },
  };
  return {
    ...chartBase("Gradient reaching back in time", `from the loss at step t = ${rec.target} of ${rec.T}; points: Jacobian norms`),
    data: { values: rows },
    layer: [
      { mark: { type: "line", strokeWidth: 1.75 }, encoding: enc },
      {
        transform: [{ filter: { field: "quantity", equal: q.j } }],
        mark: { type: "point", filled: true, size: 36 },
        encoding: { x: enc.x, y: enc.y, color: enc.color },
      },
    ],
  } as unknown as TopLevelSpec;
}

/** (2) ‖∂E/∂h_k‖ (and ‖∂E/∂c_k‖) over steps k = 1..T, per layer; log y. */
export function gradientByStepSpec(rec: DiagnosticsRecord): TopLevelSpec {
  const rows: Row[] = [];
  for (const f of rec.layers) {
    const name = seriesName(f.layer, f.direction);
    f.gradByStep.forEach((v, k) => positive(v) && rows.push({ series: name, quantity: "‖∂E/∂h_k‖", k: k + 1, v }));
    f.cellGradByStep?.forEach((v, k) => positive(v) && rows.push({ series: name, quantity: "‖∂E/∂c_k‖", k: k + 1, v }));
  }
  return {
    ...chartBase("Gradient of the whole loss at each step's state", `E summed over all ${rec.T} steps; early steps receive only what survives the way back`),
    data: { values: rows },
    mark: { type: "line", strokeWidth: 1.75 },
    encoding: {
      x: { field: "k", type: "quantitative", title: "step k", scale: { domain: [1, rec.T] } },
      y: logY("norm"),
      color: { field: "series", type: "nominal", title: "layer" },
      strokeDash: { field: "quantity", type: "nominal", title: "quantity" },
    },
  } as unknown as TopLevelSpec;
}

function circleRows(radius: number, label: string, n = 120): Row[] {
  const rows: Row[] = [];
  for (let i = 0; i <= n; i++) {
    const a = (2 * Math.PI * i) / n;
    rows.push({ circle: label, i, re: radius * Math.cos(a), im: radius * Math.sin(a) });
  }
  return rows;
}

/** (3) Eigenvalues of each W_hh block on the complex plane, with the unit circle and the 1/γ circles. */
export function eigenvaluesSpec(spectra: readonly SpectrumSummary[]): TopLevelSpec {
  const points: Row[] = [];
  let R = 1;
  for (const s of spectra) {
    const name = seriesName(s.layer, s.direction, s.block);
    s.eigRe.forEach((re, k) => {
      const im = s.eigIm[k];
      points.push({ series: name, re, im });
      R = Math.max(R, Math.hypot(re, im));
    });
  }
  const bounds = [...new Set(spectra.map((s) => s.bound).filter((b) => Number.isFinite(b) && b !== 1))].sort((a, b) => a - b);
  const circles = [...circleRows(1, "|λ| = 1"), ...bounds.flatMap((b) => circleRows(b, `|λ| = 1/γ = ${fmtNum(b)}`))];
  R = 1.08 * Math.max(R, ...bounds);
  const scale = { domain: [-R, R], nice: false, zero: false };
  return {
    ...chartBase("Eigenvalues of W_hh", "with the unit circle and the 1/γ circles"),
    width: 340,
    height: 340,
    layer: [
      {
        data: { values: circles },
        mark: { type: "line", strokeWidth: 1, color: "#888" },
        encoding: {
          x: { field: "re", type: "quantitative", scale, title: "Re λ" },
          y: { field: "im", type: "quantitative", scale, title: "Im λ" },
          detail: { field: "circle", type: "nominal" },
          order: { field: "i", type: "quantitative" },
          strokeDash: { field: "circle", type: "nominal", title: null },
        },
      },
      {
        data: { values: points },
        mark: { type: "point", filled: true, size: 22, opacity: 0.8 },
        encoding: {
          x: { field: "re", type: "quantitative", scale, title: "Re λ" },
          y: { field: "im", type: "quantitative", scale, title: "Im λ" },
          color: { field: "series", type: "nominal", title: "W_hh block" },
        },
      },
    ],
    resolve: { legend: { strokeDash: "independent" } },
  } as unknown as TopLevelSpec;
}

/** (4) Singular values of each W_hh block, largest first, with a rule at each block's 1/γ. */
export function singularValuesSpec(spectra: readonly SpectrumSummary[]): TopLevelSpec {
  const rows: Row[] = [];
  const rules: Row[] = [];
  const seen = new Set<number>();
  for (const s of spectra) {
    const name = seriesName(s.layer, s.direction, s.block);
    [...s.singular].sort((a, b) => b - a).forEach((v, k) => rows.push({ series: name, rank: k + 1, v }));
    if (!seen.has(s.bound)) {
      seen.add(s.bound);
      rules.push({ v: s.bound, label: `1/γ = ${fmtNum(s.bound)}` });
    }
  }
  return {
    ...chartBase("Singular values of W_hh", "σ_max < 1/γ: gradients vanish; σ_max > 1/γ: they may explode"),
    layer: [
      {
        data: { values: rows },
        mark: { type: "line", point: { size: 16 }, strokeWidth: 1.5 },
        encoding: {
          x: { field: "rank", type: "quantitative", title: "rank" },
          y: { field: "v", type: "quantitative", title: "singular value σ" },
          color: { field: "series", type: "nominal", title: "W_hh block" },
        },
      },
      {
        data: { values: rules },
        layer: [
          { mark: { type: "rule", strokeDash: [5, 3], color: "#444" }, encoding: { y: { field: "v", type: "quantitative" } } },
          {
            mark: { type: "text", align: "right", baseline: "bottom", dy: -3, color: "#444" },
            encoding: { y: { field: "v", type: "quantitative" }, x: { value: 456 }, text: { field: "label" } },
          },
        ],
      },
    ],
  } as unknown as TopLevelSpec;
}

/** Keeps at most `max` rows: the row of largest `key` in each of `max` equal buckets (spikes stay visible). */
export function thin<T>(rows: readonly T[], max: number, key: (r: T) => number): T[] {
  if (rows.length <= max) return [...rows];
  const out: T[] = [];
  const per = rows.length / max;
  for (let b = 0; b < max; b++) {
    let best: T | null = null;
    for (let i = Math.floor(b * per); i < Math.floor((b + 1) * per); i++) if (best === null || key(rows[i]) > key(best)) best = rows[i];
    if (best !== null) out.push(best);
  }
  return out;
}

/**
 * (5) Pre-clip gradient norm per training step (log y), clipped steps marked, the threshold
 * as a line and the suggested range (½ to 10 times the mean norm) as a band.
 */
export function clipHistorySpec(steps: readonly StepMetrics[], clip?: { threshold: number | null; suggested?: ClipSummary["suggested"] }): TopLevelSpec {
  const rows = thin(
    steps.filter((r) => positive(r.grad_norm)),
    2000,
    (r) => r.grad_norm,
  ).map((r) => ({ step: r.step, v: r.grad_norm, clipped: r.clipped }));
  const layers: AnySpec[] = [];
  const sug = clip?.suggested;
  if (sug) {
    layers.push({
      data: { values: [{ lo: sug.low, hi: sug.high }] },
      mark: { type: "rect", color: "#54a24b", opacity: 0.15 },
      encoding: { y: { field: "lo", type: "quantitative" }, y2: { field: "hi" } },
    });
  }
  layers.push(
    {
      data: { values: rows },
      mark: { type: "line", strokeWidth: 1, color: "#4c78a8" },
      encoding: { x: { field: "step", type: "quantitative", title: "training step" }, y: logY("gradient norm before clipping") },
    },
    {
      data: { values: rows.filter((r) => r.clipped) },
      mark: { type: "point", shape: "circle", size: 18, filled: true, color: "#e45756" },
      encoding: { x: { field: "step", type: "quantitative" }, y: { field: "v", type: "quantitative" } },
    },
  );
  const rules: Row[] = [];
  // the threshold's label at the right end, the suggestion's at the left, so they do not collide
  if (clip?.threshold) rules.push({ v: clip.threshold, label: `threshold ${fmtNum(clip.threshold)}`, color: "#e45756", side: "right" });
  if (sug) rules.push({ v: sug.pick, label: `suggested ${fmtNum(sug.pick)} (range ${fmtNum(sug.low)}–${fmtNum(sug.high)})`, color: "#2f7d32", side: "left" });
  if (rules.length) {
    const y = { field: "v", type: "quantitative" };
    const color = { field: "color", type: "nominal", scale: null };
    layers.push({
      data: { values: rules },
      layer: [
        { mark: { type: "rule", strokeDash: [5, 3] }, encoding: { y, color } },
        {
          transform: [{ filter: "datum.side === 'left'" }],
          mark: { type: "text", align: "left", baseline: "bottom", dx: 4, dy: -2 },
          encoding: { y, x: { value: 0 }, text: { field: "label" }, color },
        },
        {
          transform: [{ filter: "datum.side === 'right'" }],
          mark: { type: "text", align: "right", baseline: "top", dx: -4, dy: 3 },
          encoding: { y, x: { value: "width" }, text: { field: "label" }, color },
        },
      ],
    });
  }
  const n = steps.length;
  const share = n ? steps.filter((r) => r.clipped).length / n : 0;
  return {
    ...chartBase("Gradient norm during training", `${n} steps, ${(100 * share).toFixed(1)}% clipped (red points)`),
    layer: layers,
  } as unknown as TopLevelSpec;
}

/** A centred moving average over `window` values (fewer at the ends): no lag on a trend, unlike an exponential one. */
export function smooth(values: readonly number[], window: number): number[] {
  const half = Math.max(0, Math.floor(window / 2));
  const prefix = new Float64Array(values.length + 1);
  for (let i = 0; i < values.length; i++) prefix[i + 1] = prefix[i] + values[i];
  return values.map((_, i) => {
    const lo = Math.max(0, i - half);
    const hi = Math.min(values.length, i + half + 1);
    return (prefix[hi] - prefix[lo]) / (hi - lo);
  });
}

/** (6) Training loss (raw, faint; smoothed) and validation loss over steps, in nats per token. */
export function lossCurvesSpec(steps: readonly StepMetrics[]): TopLevelSpec {
  const train = steps.filter((r) => Number.isFinite(r.loss));
  const window = 2 * Math.max(2, Math.round(train.length / 100)) + 1; // about 2% of the run
  const sm = smooth(
    train.map((r) => r.loss),
    window,
  );
  const every = Math.max(1, Math.ceil(train.length / 2000));
  const rows: Row[] = [];
  train.forEach((r, k) => {
    if (k % every === 0 || k === train.length - 1) {
      rows.push({ step: r.step, v: r.loss, series: "train (raw)" });
      rows.push({ step: r.step, v: sm[k], series: "train (smoothed)" });
    }
  });
  for (const r of steps) if (r.val_loss !== undefined && Number.isFinite(r.val_loss)) rows.push({ step: r.step, v: r.val_loss, series: "validation" });
  const domain = ["train (raw)", "train (smoothed)", "validation"];
  return {
    ...chartBase("Loss", `nats per character; smoothed: centred moving average over ${window} steps`),
    data: { values: rows },
    mark: { type: "line", point: false },
    encoding: {
      x: { field: "step", type: "quantitative", title: "training step" },
      y: { field: "v", type: "quantitative", title: "loss (nats)", scale: { zero: false } },
      color: { field: "series", type: "nominal", title: null, scale: { domain, range: ["#9ecae9", "#4c78a8", "#f58518"] }, legend: { symbolType: "stroke" } },
      strokeWidth: { field: "series", type: "nominal", title: null, scale: { domain, range: [1, 2, 2.5] }, legend: { symbolType: "stroke" } },
    },
  } as unknown as TopLevelSpec;
}

/**
 * (7) Over training, from the diagnostics lines of metrics.jsonl: spectral radius and σ_max of
 * each W_hh block (left), and the gradient reaching the oldest step, ‖∂E_t/∂h_1‖ (right, log y).
 */
export function diagnosticsOverTrainingSpec(records: readonly DiagnosticsRecord[]): TopLevelSpec {
  const spec: Row[] = [];
  const flow: Row[] = [];
  for (const r of records) {
    for (const s of r.spectra) {
      const name = seriesName(s.layer, s.direction, s.block);
      spec.push({ step: r.step, series: name, measure: "σ_max", v: s.sigmaMax });
      spec.push({ step: r.step, series: name, measure: "spectral radius", v: s.radius });
    }
    for (const f of r.layers) {
      const g = f.gradByLag;
      const v = g[g.length - 1];
      if (g.length && positive(v)) flow.push({ step: r.step, series: seriesName(f.layer, f.direction), v });
    }
  }
  const x = { field: "step", type: "quantitative", title: "training step" };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "Diagnostics over training", anchor: "start" },
    hconcat: [
      {
        title: "W_hh: σ_max and spectral radius",
        width: 330,
        height: 240,
        data: { values: spec },
        layer: [
          {
            mark: { type: "line" },
            encoding: {
              x,
              y: { field: "v", type: "quantitative", title: "value" },
              color: { field: "series", type: "nominal", title: "W_hh block" },
              strokeDash: { field: "measure", type: "nominal", title: "measure", legend: { symbolType: "stroke", symbolStrokeWidth: 2 } },
            },
          },
          {
            mark: { type: "point", filled: true, size: 20 },
            encoding: { x, y: { field: "v", type: "quantitative" }, color: { field: "series", type: "nominal", title: "W_hh block" } },
          },
          { data: { values: [{ v: 1 }] }, mark: { type: "rule", color: "#888", strokeDash: [2, 2] }, encoding: { y: { field: "v", type: "quantitative" } } },
        ],
      },
      {
        title: "gradient reaching the oldest step",
        width: 330,
        height: 240,
        data: { values: flow },
        mark: { type: "line", point: { size: 20 } },
        encoding: { x, y: logY(`‖∂E_t/∂h${sub(1)}‖`), color: { field: "series", type: "nominal", title: "layer" } },
      },
    ],
    resolve: { scale: { color: "independent" }, legend: { color: "independent", strokeDash: "independent" } },
  } as unknown as TopLevelSpec;
}

/**
 * The lecture's reading of a diagnosis, one sentence per finding: σ_max against 1/γ for each
 * W_hh block (Pascanu et al. 2013: below, gradients must vanish; above, explosion is possible),
 * how much of the gradient at step t reaches the oldest step, and the clipping statistics.
 */
export function reportReadings(rec: DiagnosticsRecord): string[] {
  const out: string[] = [];
  const gated = rec.cell !== "rnn";
  for (const s of rec.spectra) {
    const name = `${seriesName(s.layer, s.direction, s.block)} W_hh`;
    const cmp = s.sigmaMax > s.bound ? ">" : "≤";
    // Pascanu et al.'s bound is for the Elman recurrence; in a gated cell it covers only the path through this block
    const verdict =
      s.sigmaMax > s.bound
        ? gated
          ? "the path through this block may amplify gradients"
          : "explosion possible (necessary condition met)"
        : gated
          ? "the path through this block shrinks gradients"
          : "gradients must vanish (sufficient condition)";
    out.push(`${name}: σ_max = ${fmtNum(s.sigmaMax)} ${cmp} 1/γ = ${fmtNum(s.bound)}: ${verdict}; spectral radius ${fmtNum(s.radius)}.`);
  }
  if (rec.cell === "lstm" && rec.spectra.length) {
    out.push(
      "LSTM: the cell state carries the gradient additively, past W_hh (the constant error carousel), so these bounds do not limit it; compare ‖∂E_t/∂c_k‖ with ‖∂E_t/∂h_k‖ in plot 1.",
    );
  }
  if (rec.cell === "gru" && rec.spectra.length) {
    out.push("GRU: the update gate's interpolation h_t = (1 − z)·n + z·h_{t−1} carries the gradient past W_hh, so these bounds do not limit it.");
  }
  for (const f of rec.layers) {
    const g = f.gradByLag;
    if (g.length < 2 || !(g[0] > 0)) continue;
    const ratio = g[g.length - 1] / g[0];
    const reading =
      ratio < 1e-3
        ? "vanishing: long-range dependencies get almost no gradient"
        : ratio > 1e3
          ? "exploding: the far past dominates the gradient"
          : "within three orders of magnitude";
    out.push(
      `${seriesName(f.layer, f.direction)}: ‖∂E_t/∂h_{t−${g.length - 1}}‖ / ‖∂E_t/∂h_t‖ = ${fmtNum(ratio)} over ${g.length - 1} steps back from t = ${rec.target}: ${reading}.`,
    );
  }
  const c = rec.clip;
  if (c) {
    const th =
      c.threshold === null ? "no norm clipping" : `threshold ${fmtNum(c.threshold)}, ${(100 * c.clippedShare).toFixed(1)}% of ${c.steps} steps clipped`;
    out.push(
      `Clipping: ${th}; mean norm ${fmtNum(c.mean)}, median ${fmtNum(c.quantiles.p50)}, max ${fmtNum(c.quantiles.max)}; suggested threshold ${fmtNum(c.suggested.pick)} (½ to 10 times the mean: ${fmtNum(c.suggested.low)}–${fmtNum(c.suggested.high)}).`,
    );
  }
  for (const w of rec.warnings) out.push(`Warning: ${w}.`);
  return out;
}
