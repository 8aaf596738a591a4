// Plot specs (vega-lite) and their rendering: path clipping arithmetic, the surface figure's
// SVG (one line per descent, dashed when clipped) and PNG, the report's plots from hand-made
// DiagnosticsRecords, the readings in words, and the HTML page.

import { describe, expect, it } from "vitest";
import type { DiagnosticsRecord, SpectrumSummary, StepMetrics } from "../analysis/report-data.js";
import { compactSvg, escapeHtml, htmlPage, inlineSvg, PNG_SIGNATURE, specToSvg, svgToPng } from "../node/render.js";
import {
  clipHistorySpec,
  clipPath,
  diagnosticsOverTrainingSpec,
  eigenvaluesSpec,
  fmtNum,
  gradientByLagSpec,
  gradientByStepSpec,
  lossCurvesSpec,
  reportReadings,
  singularValuesSpec,
  smooth,
  surfaceSpec,
  thin,
} from "./specs.js";

const BOX = { x0: 0, x1: 10, y0: 0, y1: 10 };

describe("clipPath", () => {
  it("keeps the inside of a path, cut where it leaves and re-enters the window", () => {
    // (5,5) -> (5,15) leaves through the top at y = 10, halfway; (5,15) -> (5,7) re-enters at 5/8 of the way
    const { pieces, exits } = clipPath(
      [
        { x: 5, y: 5 },
        { x: 5, y: 15 },
        { x: 5, y: 7 },
        { x: 6, y: 7 },
      ],
      BOX,
    );
    expect(pieces).toEqual([
      [
        { x: 5, y: 5, i: 0 },
        { x: 5, y: 10, i: 0.5 },
      ],
      [
        { x: 5, y: 10, i: 1.625 },
        { x: 5, y: 7, i: 2 },
        { x: 6, y: 7, i: 3 },
      ],
    ]);
    expect(exits).toEqual([{ x: 5, y: 10, step: 1, to: { x: 5, y: 15 }, edge: "top" }]);
  });

  it("drops segments wholly outside, and handles exits through each edge", () => {
    const far = clipPath(
      [
        { x: 20, y: 20 },
        { x: 30, y: 20 },
      ],
      BOX,
    );
    expect(far).toEqual({ pieces: [], exits: [] });
    // (2,2) -> (-2,4): leaves through the left edge at x = 0, halfway: y = 3
    const left = clipPath(
      [
        { x: 2, y: 2 },
        { x: -2, y: 4 },
      ],
      BOX,
    );
    expect(left.exits[0]).toMatchObject({ x: 0, y: 3, edge: "left", step: 1 });
    const right = clipPath(
      [
        { x: 8, y: 1 },
        { x: 12, y: 1 },
      ],
      BOX,
    );
    expect(right.exits[0]).toMatchObject({ x: 10, y: 1, edge: "right" });
    const bottom = clipPath(
      [
        { x: 1, y: 1 },
        { x: 1, y: -3 },
      ],
      BOX,
    );
    expect(bottom.exits[0]).toMatchObject({ x: 1, y: 0, edge: "bottom" });
  });
});

describe("surfaceSpec rendered", () => {
  it("draws the heat map, a line per path (dashed when asked) and marks where a path leaves; SVG and PNG", async () => {
    const x = [0, 1, 2, 3, 4];
    const y = [0, 1, 2, 3];
    const z = Array.from({ length: 20 }, (_, k) => 10 ** -(k % 5)); // 1 ... 1e-4, log colour
    const spec = surfaceSpec({
      x,
      y,
      z,
      xTitle: "w",
      yTitle: "b",
      zTitle: "E",
      title: "test",
      paths: [
        {
          name: "plain",
          points: [
            { x: 1, y: 1 },
            { x: 2, y: 1.5 },
            { x: 50, y: 90 },
          ],
          color: "#ff0000",
        },
        {
          name: "clipped",
          points: [
            { x: 1, y: 1 },
            { x: 2, y: 1.5 },
            { x: 2.5, y: 2 },
          ],
          color: "#0000ff",
          dashed: true,
        },
      ],
    });
    const svg = await specToSvg(spec);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    const lines = [...svg.matchAll(/<g class="mark-line[^>]*><path d="[^"]+"([^>]*)\/>/g)].map((m) => m[1]);
    expect(lines).toHaveLength(2);
    const plain = lines.find((a) => a.includes('stroke="#ff0000"'))!;
    const clipped = lines.find((a) => a.includes('stroke="#0000ff"'))!;
    expect(plain).toMatch(/stroke-dasharray="1,0"/);
    expect(clipped).toMatch(/stroke-dasharray="7,4"/);
    // 20 heat-map cells
    expect((svg.match(/<g class="mark-rect[\s\S]*?<\/g>/)![0].match(/<path /g) ?? []).length).toBe(20);
    // the exit label names where the plain path went
    expect(svg).toContain("→ (50, 90) at step 2");
    expect(svg).toContain('font-family="DejaVu Sans"');
    const png = svgToPng(svg, { scale: 1 });
    expect(Array.from(png.subarray(0, 8))).toEqual(Array.from(PNG_SIGNATURE));
    expect(png.length).toBeGreaterThan(1000);
  });

  it("refuses a grid whose z does not match", () => {
    expect(() => surfaceSpec({ x: [0, 1], y: [0, 1], z: [1, 2, 3], xTitle: "", yTitle: "", zTitle: "" })).toThrow(/z must hold/);
  });
});

// ---------------------------------------------------------------------------------------------
// the report, from hand-made records

function spectrum(layer: number, block: string, gamma: number, eig: [number, number][], singular: number[]): SpectrumSummary {
  const sigmaMax = Math.max(...singular);
  return {
    layer,
    direction: 0,
    block,
    gamma,
    eigRe: eig.map((e) => e[0]),
    eigIm: eig.map((e) => e[1]),
    singular,
    radius: Math.max(...eig.map(([a, b]) => Math.hypot(a, b))),
    sigmaMax,
    bound: 1 / gamma,
    regime: sigmaMax > 1 / gamma ? "may-explode" : "vanishing",
  };
}

const T = 16;
const RNN_RECORD: DiagnosticsRecord = {
  kind: "diagnostics",
  step: 500,
  cell: "rnn",
  T,
  target: T,
  layers: [
    {
      layer: 0,
      direction: 0,
      gradByStep: Array.from({ length: T }, (_, k) => 0.01 * 1.2 ** k),
      gradByLag: Array.from({ length: T }, (_, lag) => (lag === 15 ? 0 : 0.5 * 0.6 ** lag)), // a 0 cannot go on a log axis
      jacobian: { lags: [1, 2, 4, 8, 15], norms: [0.9, 0.7, 0.4, 0.1, 0.003] },
    },
  ],
  spectra: [
    spectrum(
      0,
      "hh",
      1,
      [
        [1.5, 0],
        [0.3, 0.4],
        [0.3, -0.4],
      ],
      [1.8, 0.6, 0.2],
    ),
  ],
  clip: {
    threshold: 5,
    steps: 500,
    clippedShare: 0.02,
    mean: 1.2,
    quantiles: { p10: 0.5, p50: 1, p90: 2, p99: 6, max: 40 },
    suggested: { low: 0.6, high: 12, pick: 2 },
  },
  warnings: ["vanishing gradient: layer 0 passes 1e-4 of the gradient at step 16 back 15 steps"],
};

const LSTM_RECORD: DiagnosticsRecord = {
  kind: "diagnostics",
  step: 800,
  cell: "lstm",
  T,
  target: T,
  layers: [0, 1].map((layer) => ({
    layer,
    direction: 0,
    gradByStep: Array.from({ length: T }, (_, k) => 0.02 * 1.1 ** k),
    cellGradByStep: Array.from({ length: T }, (_, k) => 0.03 * 1.05 ** k),
    gradByLag: Array.from({ length: T }, (_, lag) => 0.4 * 0.8 ** lag),
    cellGradByLag: Array.from({ length: T }, (_, lag) => 0.4 * 0.95 ** lag),
    jacobian: { lags: [1, 2, 4, 8, 15], norms: [0.99, 0.95, 0.9, 0.8, 0.6] },
  })),
  spectra: [0, 1].flatMap((layer) => [
    spectrum(
      layer,
      "i",
      0.25,
      [
        [0.5, 0.1],
        [0.5, -0.1],
      ],
      [0.9, 0.3],
    ),
    spectrum(layer, "f", 0.25, [[0.7, 0]], [0.8, 0.2]),
    spectrum(
      layer,
      "g",
      1,
      [
        [1.1, 0.2],
        [1.1, -0.2],
      ],
      [1.3, 0.4],
    ),
    spectrum(layer, "o", 0.25, [[0.2, 0]], [0.5, 0.1]),
  ]),
  warnings: [],
};

const STEPS: StepMetrics[] = Array.from({ length: 300 }, (_, k) => ({
  step: k + 1,
  loss: 3 * Math.exp(-k / 100) + 0.1 * Math.sin(k),
  grad_norm: k === 150 ? 60 : 1 + 0.5 * Math.sin(k / 7),
  clipped: k === 150,
  ...(k % 100 === 99 ? { val_loss: 3 * Math.exp(-k / 100) + 0.05 } : {}),
}));

describe("report plots from hand-made records", () => {
  it("render, one SVG each, for an Elman RNN and a 2-layer LSTM", async () => {
    for (const rec of [RNN_RECORD, LSTM_RECORD]) {
      const specs = [gradientByLagSpec(rec), gradientByStepSpec(rec), eigenvaluesSpec(rec.spectra), singularValuesSpec(rec.spectra)];
      for (const spec of specs) {
        const svg = await specToSvg(spec);
        expect(svg.match(/<svg/g)).toHaveLength(1);
        expect(svg).toMatch(/<\/svg>\s*$/);
      }
    }
    for (const spec of [
      clipHistorySpec(STEPS, { threshold: 5, suggested: RNN_RECORD.clip!.suggested }),
      lossCurvesSpec(STEPS),
      diagnosticsOverTrainingSpec([RNN_RECORD, { ...RNN_RECORD, step: 1000 }]),
    ]) {
      expect((await specToSvg(spec)).match(/<svg/g)).toHaveLength(1);
    }
  });

  it("put the right numbers in: log axes drop zeros, the LSTM's cell gradients and 1/γ circles appear", () => {
    type Data = { data: { values: Record<string, unknown>[] } };
    const lag = gradientByLagSpec(RNN_RECORD) as unknown as Data;
    const h = lag.data.values.filter((r) => r.quantity === "‖∂E_t/∂h_k‖");
    expect(h).toHaveLength(15); // 16 lags, the 0 at lag 15 dropped
    expect(lag.data.values.filter((r) => String(r.quantity).includes("Jacobian"))).toHaveLength(5);
    const lstm = gradientByLagSpec(LSTM_RECORD) as unknown as Data;
    expect(lstm.data.values.filter((r) => r.quantity === "‖∂E_t/∂c_k‖")).toHaveLength(2 * T);
    const eig = eigenvaluesSpec(LSTM_RECORD.spectra) as unknown as { layer: Data[] };
    const circles = new Set(eig.layer[0].data.values.map((r) => r.circle));
    expect([...circles]).toEqual(["|λ| = 1", "|λ| = 1/γ = 4"]);
    expect(eig.layer[1].data.values).toHaveLength(2 * (2 + 1 + 2 + 1));
    const sv = singularValuesSpec(RNN_RECORD.spectra) as unknown as { layer: Data[] };
    expect(sv.layer[0].data.values.map((r) => r.v)).toEqual([1.8, 0.6, 0.2]);
    const clip = clipHistorySpec(STEPS, { threshold: 5 }) as unknown as { layer: Data[] };
    expect(clip.layer[1].data.values.map((r) => r.step)).toEqual([151]); // the one clipped step
  });

  it("reads the numbers as the lecture does", () => {
    const lines = reportReadings(RNN_RECORD);
    expect(lines[0]).toBe("layer 0 W_hh: σ_max = 1.8 > 1/γ = 1: explosion possible (necessary condition met); spectral radius 1.5.");
    expect(reportReadings({ ...RNN_RECORD, spectra: [spectrum(0, "hh", 1, [[0.5, 0]], [0.9])] })[0]).toMatch(
      /σ_max = 0\.9 ≤ 1\/γ = 1: gradients must vanish \(sufficient condition\)/,
    );
    expect(lines[1]).toMatch(/‖∂E_t\/∂h_\{t−15\}‖ \/ ‖∂E_t\/∂h_t‖ = 0 over 15 steps back from t = 16: vanishing/);
    expect(lines[2]).toMatch(/^Clipping: threshold 5, 2\.0% of 500 steps clipped; .*suggested threshold 2 /);
    expect(lines[3]).toMatch(/^Warning: vanishing gradient/);
    const lstm = reportReadings(LSTM_RECORD);
    expect(lstm[0]).toBe("layer 0 i W_hh: σ_max = 0.9 ≤ 1/γ = 4: the path through this block shrinks gradients; spectral radius 0.5099.");
    expect(lstm.filter((l) => l.includes("may amplify"))).toHaveLength(2); // the g blocks of both layers
    expect(lstm.some((l) => l.startsWith("LSTM: the cell state carries the gradient additively"))).toBe(true);
  });
});

describe("helpers", () => {
  it("smooth is a centred moving average; thin keeps the spikes", () => {
    // window 3: (1+2)/2, (1+2+6)/3, (2+6+3)/3, (6+3)/2
    expect(smooth([1, 2, 6, 3], 3)).toEqual([1.5, 3, 11 / 3, 4.5]);
    const rows = Array.from({ length: 1000 }, (_, k) => ({ k, v: k === 777 ? 100 : 1 }));
    const kept = thin(rows, 100, (r) => r.v);
    expect(kept).toHaveLength(100);
    expect(kept.some((r) => r.k === 777)).toBe(true);
  });

  it("fmtNum, compactSvg and escapeHtml", () => {
    expect([fmtNum(651.30019), fmtNum(412.0485), fmtNum(1e-5), fmtNum(123456), fmtNum(0)]).toEqual(["651.3", "412", "1e-5", "1.23e+5", "0"]);
    expect(compactSvg('<path d="M0.123456,2.5000001L3,4" fill="rgb(253, 231, 37)" transform="translate(1.00001,2)"/>')).toBe(
      '<path d="M0.12,2.5L3,4" fill="#fde725" transform="translate(1,2)"/>',
    );
    expect(escapeHtml('<a href="x">&</a>')).toBe("&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;");
  });

  it("htmlPage inlines SVGs without namespace URLs, scripts or external references", async () => {
    const svg = await specToSvg(gradientByStepSpec(RNN_RECORD));
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    const html = htmlPage({
      title: "report <1>",
      intro: ["σ_max = 1.8 > 1"],
      facts: ["model rnn"],
      sections: [
        { title: "one", svg, note: "a & b" },
        { title: "two", svg },
      ],
    });
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(html.match(/<svg/g)).toHaveLength(2);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/https?:/);
    expect(html).toContain("<title>report &lt;1&gt;</title>");
    expect(html).toContain("σ_max = 1.8 &gt; 1");
    expect(html).toContain("a &amp; b");
    expect(
      inlineSvg(
        '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="2"><image xlink:href="#a"/></svg>',
      ),
    ).toBe('<svg width="2"><image href="#a"/></svg>');
  });
});
