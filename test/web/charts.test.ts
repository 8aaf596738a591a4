// @vitest-environment node
// The lab's chart specs (web/charts.ts) in Node, without a browser: each transformer compiles with
// vega-lite and runs in a headless vega view; the marks it adds are there; the compiled shape of
// the live charts stays the same while data grows (so the page updates views in place), and an
// in-place update draws what a new view would.

import * as vega from "vega";
import type { TopLevelSpec } from "vega-lite";
import { describe, expect, it } from "vitest";
import type { StepMetrics } from "../../src/analysis/report-data.js";
import { clipHistorySpec, eigenvaluesSpec, lossCurvesSpec, surfaceSpec } from "../../src/plot/specs.js";
import {
  compileChart,
  lagHeatmapSpec,
  pinnedHeatmapSpec,
  readoutAt,
  sized,
  splitBad,
  updateView,
  withAfterClip,
  withBadPoints,
  withMarkers,
  withOverlay,
} from "../../web/charts.js";

function steps(n: number): StepMetrics[] {
  return Array.from({ length: n }, (_, i) => ({
    step: i + 1,
    loss: 3 / (1 + i / 50) + 0.05 * Math.sin(i),
    grad_norm: 0.5 + 2 * Math.abs(Math.sin(i / 3)),
    clipped: 0.5 + 2 * Math.abs(Math.sin(i / 3)) > 2,
    ...(i % 25 === 24 ? { val_loss: 3 / (1 + i / 50) + 0.1 } : {}),
  }));
}
const after = (st: StepMetrics[]) => st.map((r) => ({ step: r.step, v: Math.min(r.grad_norm, 2) }));
const cols = (n: number, lags = 12) =>
  Array.from({ length: n }, (_, k) => ({ step: 10 * k, gradByLag: Array.from({ length: lags }, (_, l) => 10 ** (-l * (0.2 + k / n))) }));
const suggested = { low: 0.6, high: 12, pick: 2 };

/** The page's charts, as web/app.ts builds them, for n training steps. */
const lossChart = (n: number) =>
  sized(withMarkers(withBadPoints(lossCurvesSpec(steps(n)), []), [{ step: 5, label: "lr 0.1" }]), 440, 210, {
    title: { text: "Loss", subtitle: "nats per character", anchor: "start" },
  });
const gradChart = (n: number) => {
  const st = steps(n);
  return sized(withMarkers(withBadPoints(withAfterClip(clipHistorySpec(st, { threshold: 2, suggested }), after(st)), []), []), 440, 220);
};
const eigChart = (n: number) =>
  sized(
    eigenvaluesSpec([
      { layer: 0, direction: 0, block: "hh", eigRe: [0.5 + n / 10, -0.2], eigIm: [0.1, -0.1], bound: 4 + n, radius: 0.5, sigmaMax: 0.6, singular: [0.6] },
    ] as never),
    250,
    250,
  );
const grid = Array.from({ length: 11 }, (_, i) => -5 + i);
const surfaceChart = (n: number) =>
  surfaceSpec({
    x: grid,
    y: grid,
    z: grid.flatMap((y) => grid.map((x) => 1e-3 + (x * x + y * y) * (1 + n))),
    xTitle: "w",
    yTitle: "b",
    zTitle: "E",
    title: "Error surface",
    subtitle: `from (${n}, 0)`,
    paths: [
      {
        name: "plain",
        points: [
          { x: n, y: 0 },
          { x: 0, y: 0 },
        ],
      },
    ],
  });
const heatChart = (n: number) => sized(withMarkers(lagHeatmapSpec(cols(n), `from step ${10 * n}`, 10), [{ step: 20, label: "clip 1" }], "s0"), 420, 210);

async function run(spec: TopLevelSpec): Promise<vega.View> {
  const view = new vega.View(vega.parse(compileChart(spec).spec), { renderer: "none" });
  await view.runAsync();
  return view;
}

interface Mark {
  type: string;
  name?: string;
  marks?: Mark[];
  encode?: Record<string, Record<string, unknown>>;
}
/** Every mark of a compiled vega spec, groups' children included. */
function marks(spec: vega.Spec): Mark[] {
  const out: Mark[] = [];
  const walk = (ms: Mark[] | undefined) => {
    for (const m of ms ?? []) {
      out.push(m);
      walk(m.marks);
    }
  };
  walk((spec as unknown as { marks: Mark[] }).marks);
  return out;
}
/** The scene items of marks of a type (by vega's marktype), groups walked. */
function items(view: vega.View, type: string): { datum: Record<string, unknown>; x: number; y: number; text?: string }[] {
  const out: { datum: Record<string, unknown>; x: number; y: number; text?: string }[] = [];
  type Node = { marktype?: string; role?: string; items?: (Node & { datum: Record<string, unknown>; x: number; y: number })[] };
  const walk = (m: Node) => {
    for (const it of m.items ?? []) {
      if (m.marktype === type && m.role === "mark") out.push(it);
      if (it.items) for (const c of it.items) walk(c as Node);
    }
  };
  walk((view.scenegraph() as unknown as { root: Node }).root);
  return out;
}

/** Every text drawn (marks, titles, axes, legends). */
function texts(view: vega.View): string[] {
  type Node = { marktype?: string; items?: (Node & { text?: unknown })[] };
  const out: string[] = [];
  const walk = (m: Node) => {
    for (const it of m.items ?? []) {
      if (m.marktype === "text" && it.text !== undefined) out.push(String(it.text));
      for (const c of it.items ?? []) walk(c);
    }
  };
  walk((view.scenegraph() as unknown as { root: Node }).root);
  return out;
}

describe("spec transformers compile, and run in a headless vega view", () => {
  it("lagHeatmapSpec: colour domain [1e-8·max, max] computed by vega from the data", async () => {
    const view = await run(heatChart(6));
    const domain = (view.scale("color") as unknown as { domain(): number[] }).domain();
    expect(domain[1]).toBe(1);
    expect(domain[0]).toBeCloseTo(1e-8, 15);
    expect(items(view, "rect").length).toBe(6 * 12);
  });

  it("withAfterClip keeps the post-clip line under the pre-clip one", async () => {
    const spec = gradChart(60);
    const lines = marks(compileChart(spec).spec).filter((m) => m.type === "line");
    expect(lines.length).toBe(2);
    const view = await run(spec);
    expect(items(view, "line").length).toBe(120);
  });

  it("withBadPoints: red triangles at the top, grey ticks at the bottom, an ∞/NaN label", async () => {
    const { good, bad } = splitBad(
      [
        { step: 1, v: 1 },
        { step: 2, v: Number.NaN },
        { step: 3, v: 0 },
        { step: 4, v: Number.POSITIVE_INFINITY },
        { step: 5, v: 2 },
      ],
      "v",
    );
    expect(good.map((r) => r.step)).toEqual([1, 5]);
    expect(bad).toEqual([
      { step: 2, kind: "nonfinite" },
      { step: 3, kind: "zero" },
      { step: 4, kind: "nonfinite" },
    ]);
    const st = steps(40);
    const view = await run(sized(withBadPoints(clipHistorySpec(st, { threshold: 2 }), bad), 400, 200));
    const symbols = items(view, "symbol").filter((s) => s.datum.kind !== undefined);
    // at the top and bottom edges, 5 px inside
    expect(symbols.filter((s) => s.datum.kind === "nonfinite").map((s) => s.y)).toEqual([5, 5]);
    expect(symbols.filter((s) => s.datum.kind === "zero").map((s) => s.y)).toEqual([195]);
    const x = view.scale("x") as unknown as (v: number) => number;
    expect(symbols.find((s) => s.datum.step === 3)?.x).toBeCloseTo(x(3));
    expect(items(view, "text").filter((t) => t.text === "∞/NaN").length).toBe(1);
  });

  it("withMarkers: dashed rules on the x scale (also the heat map's s0), labels; horizontal levels", async () => {
    const spec = withMarkers(
      lossCurvesSpec(steps(50)),
      [
        { step: 10, label: "lr 0.1" },
        { step: 30, label: "clip 2" },
      ],
      "step",
      [{ v: 2.5, label: "trivial baseline 2.5" }],
    );
    const rules = marks(compileChart(spec).spec).filter((m) => m.type === "rule");
    expect(rules.length).toBe(2);
    const view = await run(sized(spec, 400, 200));
    const x = view.scale("x") as unknown as (v: number) => number;
    const y = view.scale("y") as unknown as (v: number) => number;
    const ruleItems = items(view, "rule");
    expect(ruleItems.filter((r) => r.datum.step !== undefined).map((r) => r.x)).toEqual([x(10), x(30)]);
    expect(ruleItems.find((r) => r.datum.v === 2.5)?.y).toBeCloseTo(y(2.5));
    expect(items(view, "text").map((t) => t.text)).toEqual(expect.arrayContaining(["lr 0.1", "clip 2", "trivial baseline 2.5"]));
    const heat = await run(heatChart(6));
    const hx = heat.scale("x") as unknown as (v: number) => number;
    expect(items(heat, "rule").map((r) => r.x)).toEqual([hx(20)]);
  });

  it("withOverlay: a faded line of a pinned run on the loss and the gradient chart, labelled at its end", async () => {
    const pinnedRows = steps(80).map((r) => ({ step: r.step, v: r.loss + 0.3 }));
    for (const spec of [
      withOverlay(lossCurvesSpec(steps(50)), pinnedRows, "pinned: lr 0.3"),
      withOverlay(withAfterClip(clipHistorySpec(steps(50), { threshold: 2 }), after(steps(50))), [...pinnedRows, { step: 81, v: 0 }], "pinned: lr 0.3"),
    ]) {
      const view = await run(sized(spec, 400, 200));
      const faded = marks(compileChart(spec).spec).filter((m) => m.type === "line" && (m.encode?.update?.opacity as { value?: number })?.value === 0.45);
      expect(faded.length).toBe(1);
      // on the same x scale: the pinned run is longer, so the axis reaches its end
      const xs = (view.scale("x") as unknown as { domain(): number[] }).domain();
      expect(xs[1]).toBeGreaterThanOrEqual(80);
      expect(items(view, "text").some((t) => t.text === "pinned: lr 0.3")).toBe(true);
    }
  });

  it("pinnedHeatmapSpec: two heat maps side by side on one colour scale, the pinned one titled", async () => {
    const spec = pinnedHeatmapSpec(heatChart(6), sized(lagHeatmapSpec(cols(4, 8), "earlier", 10), 200, 210), "pinned: lr 0.3");
    const view = await run(spec);
    expect(items(view, "rect").length).toBe(6 * 12 + 4 * 8);
    type Node = { role?: string; items?: { text?: string; items?: Node[] }[] };
    const titles: string[] = [];
    const walk = (m: Node) => {
      for (const it of m.items ?? []) {
        if (m.role === "title-text" && it.text) titles.push(it.text);
        for (const c of it.items ?? []) walk(c);
      }
    };
    walk((view.scenegraph() as unknown as { root: Node }).root);
    expect(titles).toContain("pinned: lr 0.3");
  });

  it("eigenvaluesSpec and surfaceSpec run with the lab's compile (literal domains lifted into signals)", async () => {
    expect(items(await run(eigChart(0)), "symbol").length).toBe(2);
    expect(items(await run(surfaceChart(2)), "rect").length).toBe(121);
  });
});

describe("shapes: the live charts are updated in place while data grows", () => {
  const cases: [string, (n: number) => TopLevelSpec, number[]][] = [
    ["loss (the page's title)", lossChart, [10, 60, 400, 3000]],
    ["loss (the CLI's title, whose subtitle names the smoothing window)", (n) => sized(lossCurvesSpec(steps(n)), 440, 210), [10, 60, 400, 3000]],
    ["gradient (the CLI's subtitle counts steps and clipped share)", gradChart, [10, 60, 400, 3000]],
    ["heat map", heatChart, [1, 5, 40, 160]],
    ["eigenvalues (axis domains from the data)", eigChart, [0, 1, 5]],
    ["surface (colour domain, subtitle and path from the start point)", surfaceChart, [0, 1, 3]],
  ];
  for (const [name, build, sizes] of cases) {
    it(name, () => {
      const shapes = sizes.map((n) => compileChart(build(n)).shape);
      for (const s of shapes) expect(s).toBe(shapes[0]);
    });
  }

  it("an in-place update draws what a new view draws", async () => {
    const cases: [(n: number) => TopLevelSpec, number, number, string[]][] = [
      [gradChart, 30, 400, ["x", "y"]],
      // and a new width (the page sizes charts to the room there is)
      [(n) => sized(gradChart(n), n > 100 ? 300 : 440, n > 100 ? 180 : 220), 30, 400, ["x", "y"]],
      [lossChart, 30, 400, ["x", "y"]],
      [heatChart, 3, 40, ["x", "y", "color"]],
      [eigChart, 0, 5, ["x", "y"]],
      [surfaceChart, 0, 3, ["x", "y", "layer_0_color"]],
    ];
    for (const [build, a, b, scales] of cases) {
      const view = await run(build(a));
      await updateView(view, compileChart(build(b)));
      const fresh = await run(build(b));
      for (const s of scales) {
        const scale = (v: vega.View) => v.scale(s) as unknown as { domain(): number[]; range(): unknown[] };
        expect(scale(view).domain()).toEqual(scale(fresh).domain());
        expect(scale(view).range()).toEqual(scale(fresh).range());
      }
      for (const type of ["line", "rect", "symbol", "rule"]) expect(items(view, type).length).toBe(items(fresh, type).length);
      // text marks, titles and subtitles, axis labels (kept items come before new ones: order aside)
      expect(texts(view).sort()).toEqual(texts(fresh).sort());
    }
  });
});

describe("memory", () => {
  it("replacing data does not keep a key per tuple ever seen in vega's Relay (vega-lite's formulas derive tuples)", async () => {
    const view = await run(gradChart(500));
    for (let i = 0; i < 5; i++) await updateView(view, compileChart(gradChart(500 + i)));
    const nodes = Object.values(
      (view as unknown as { _runtime: { nodes: Record<string, { value: unknown; constructor: { lean?: boolean } }> } })._runtime.nodes,
    );
    const relays = nodes.filter((n) => n.constructor.lean);
    expect(relays.length).toBeGreaterThan(0);
    // each holds the tuples of the last update only (at most 505 rows each)
    for (const r of relays) expect(Object.keys((r.value ?? {}) as object).length).toBeLessThanOrEqual(505);
  });
});

describe("read-outs", () => {
  it("over the loss chart: the step nearest the pointer and each line's value there", async () => {
    const spec = withOverlay(
      lossChart(100),
      steps(120).map((r) => ({ step: r.step, v: r.loss + 0.3 })),
      "pinned: lr 0.3",
    );
    const view = await run(spec);
    const x = view.scale("x") as unknown as (v: number) => number;
    const r = readoutAt(view, x(50) + 0.4, 100);
    expect(r?.datum.step).toBe(50);
    expect(r?.rows[0]).toEqual(["training step", "50"]);
    // the faded pinned run last
    expect(r?.rows.map((row) => row[0])).toEqual(["training step", "train (raw)", "train (smoothed)", "validation", "pinned: lr 0.3"]);
    // values by the CLI's rule (4 significant digits)
    expect(r?.rows.find((row) => row[0] === "train (raw)")?.[1]).toBe(String(+steps(50)[49].loss.toPrecision(4)));
    expect(readoutAt(view, -200, 100)).toBeNull();
  });

  it("over the gradient chart: before and after clipping", async () => {
    const view = await run(gradChart(100));
    const x = view.scale("x") as unknown as (v: number) => number;
    const r = readoutAt(view, x(40), 50);
    expect(r?.rows.map((row) => row[0])).toEqual(["training step", "gradient norm before clipping", "after clipping"]);
    expect(r?.rows[0]).toEqual(["training step", "40"]);
    const value = (name: string) => r?.rows.find((row) => row[0] === name)?.[1];
    expect(value("gradient norm before clipping")).toBe(String(+steps(40)[39].grad_norm.toPrecision(4)));
    expect(value("after clipping")).toBe(String(+Math.min(2, steps(40)[39].grad_norm).toPrecision(4)));
  });

  it("over the surface: the cell under the pointer, without its far edges", async () => {
    const view = await run(surfaceChart(0));
    const x = view.scale("x") as unknown as (v: number) => number;
    const y = view.scale("y") as unknown as (v: number) => number;
    const r = readoutAt(view, x(1), y(-2));
    expect(r?.rows).toEqual([
      ["w", "0.5"],
      ["b", "-2.5"],
      ["E", "5.001"],
    ]);
  });

  it("over the heat map: the cell under the pointer", async () => {
    const view = await run(heatChart(6));
    const x = view.scale("x") as unknown as (v: number) => number;
    const y = view.scale("y") as unknown as (v: number) => number;
    const r = readoutAt(view, x(25), y(3));
    expect(r?.datum.s0).toBe(20);
    expect(r?.rows.map((row) => row[0])).toEqual(["training step", "lag", "norm"]);
    expect(r?.rows[1][1]).toBe("3");
  });
});
