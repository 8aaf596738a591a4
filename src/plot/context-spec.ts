// The figure of `rnnlab experiment context` as a vega-lite spec: the accuracy of the name after
// "said hi to" against the distance D back to where that name appeared, a line per model (the
// mean over seeds; with several seeds, their range as a bar), the chance level as a dashed rule
// and the feed-forward model's window as a vertical rule: beyond it that model cannot see B.
// No Node APIs: the web lab can draw it too.

import type { TopLevelSpec } from "vega-lite";
import type { ContextSummaryRow } from "../analysis/context-experiment.js";
import { SERIES_COLORS } from "./specs.js";

/**
 * Accuracy (%) against D, one line per model, with the chance level and, when given, the window
 * of the feed-forward model (null: no window model in the table).
 */
export function contextExperimentSpec(rows: readonly ContextSummaryRow[], chance: number, window: number | null): TopLevelSpec {
  const series = (r: ContextSummaryRow) => `${r.label} (${r.params.toLocaleString("en-US")} parameters)`;
  const values = rows.flatMap((r) =>
    r.byDistance
      .filter((c) => c.accuracy !== null)
      .map((c) => ({
        series: series(r),
        D: c.distance,
        d: c.d,
        accuracy: 100 * c.accuracy!,
        lo: 100 * (c.min ?? c.accuracy!),
        hi: 100 * (c.max ?? c.accuracy!),
        runs: c.runs,
      })),
  );
  const domain = rows.map(series);
  const distances = [...new Set(rows.flatMap((r) => r.byDistance.map((c) => c.distance)))].sort((a, b) => a - b);
  const x = {
    field: "D",
    type: "quantitative",
    title: "distance D back to B's first letter (characters)",
    scale: { zero: true },
    axis: { values: distances, labelOverlap: true },
  };
  const y = { field: "accuracy", type: "quantitative", title: 'name after "said hi to" right (%)', scale: { domain: [0, 100] } };
  const color = {
    field: "series",
    type: "nominal",
    title: "model",
    scale: { domain, range: SERIES_COLORS.slice(0, domain.length) },
    legend: { labelLimit: 400 },
  };
  const layer: unknown[] = [
    {
      data: { values: [{ chance: 100 * chance }] },
      mark: { type: "rule", color: "#666", strokeDash: [5, 4] },
      encoding: { y: { field: "chance", type: "quantitative" } },
    },
    {
      data: { values: [{ chance: 100 * chance, label: `chance ${(100 * chance).toFixed(1)}% (A excluded)` }] },
      mark: { type: "text", align: "left", baseline: "top", dx: 3, dy: 3, color: "#666", fontSize: 11 },
      encoding: { y: { field: "chance", type: "quantitative" }, x: { datum: 0, type: "quantitative" }, text: { field: "label" } },
    },
    { mark: { type: "rule", strokeWidth: 1.5 }, encoding: { x, y: { field: "lo", type: "quantitative" }, y2: { field: "hi" }, color } },
    {
      mark: { type: "line", point: { filled: true, size: 45 }, strokeWidth: 2 },
      encoding: {
        x,
        y,
        color,
        tooltip: [
          { field: "series" },
          { field: "D" },
          { field: "d", title: "filler d" },
          { field: "accuracy", format: ".1f" },
          { field: "runs", title: "seeds" },
        ],
      },
    },
  ];
  if (window !== null) {
    layer.push(
      {
        data: { values: [{ w: window }] },
        mark: { type: "rule", color: SERIES_COLORS[0], strokeDash: [2, 3] },
        encoding: { x: { field: "w", type: "quantitative" } },
      },
      {
        data: { values: [{ w: window, label: `window ${window}` }] },
        mark: { type: "text", align: "left", baseline: "top", dx: 4, dy: 4, color: SERIES_COLORS[0], fontSize: 11 },
        encoding: { x: { field: "w", type: "quantitative" }, y: { datum: 100, type: "quantitative" }, text: { field: "label" } },
      },
    );
  }
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: '"Anne said hi to __": how far back can the model carry a name?',
      subtitle: [
        'accuracy of B\'s initial after "said hi to", against the characters back to where B appeared;',
        "dashed: chance; dotted: the edge of the feed-forward model's window",
      ],
      anchor: "start",
    },
    data: { values },
    width: 520,
    height: 300,
    layer,
  } as unknown as TopLevelSpec;
}
