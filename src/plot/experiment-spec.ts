// The success table of `rnnlab experiment clipping` as a vega-lite heat map: rows are the
// training recipes, columns the sequence lengths, each cell the share of seeds that solved the
// task (and the count as text). No Node APIs: the web lab can draw it too.

import type { TopLevelSpec } from "vega-lite";

/** One row of the experiment's table. */
export interface ExperimentRow {
  variant: string;
  label: string;
  byLength: { length: number; solved: number; runs: number; medianSteps: number | null }[];
}

/** Heat map of solved runs per (recipe, length). */
export function experimentSpec(task: string, rows: readonly ExperimentRow[]): TopLevelSpec {
  const values = rows.flatMap((r) =>
    r.byLength.map((c) => ({
      recipe: r.label,
      T: c.length,
      share: c.runs ? c.solved / c.runs : 0,
      text: `${c.solved}/${c.runs}${c.medianSteps !== null ? `\n${c.medianSteps} steps` : ""}`,
    })),
  );
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: `${task}: runs that solved the task`, subtitle: "solved / runs (median steps to solve)" },
    data: { values },
    width: { step: 90 },
    height: { step: 40 },
    encoding: {
      x: { field: "T", type: "ordinal", title: "sequence length T", axis: { labelAngle: 0 } },
      y: { field: "recipe", type: "nominal", title: null, sort: rows.map((r) => r.label), axis: { labelLimit: 400 } },
    },
    layer: [
      { mark: "rect", encoding: { color: { field: "share", type: "quantitative", scale: { domain: [0, 1], scheme: "greens" }, title: "share solved" } } },
      {
        mark: { type: "text", lineBreak: "\n", fontSize: 11 },
        encoding: { text: { field: "text" }, color: { condition: { test: "datum.share > 0.6", value: "white" }, value: "black" } },
      },
    ],
  } as unknown as TopLevelSpec;
}
