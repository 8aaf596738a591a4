// The context probe's figure (`rnnlab probe context --plot`) as a vega-lite spec: the loss against
// the distance d beyond which the context is perturbed (log₂ x), a line per perturbation, with the
// full-context loss and its 1% band as horizontal rules; one panel per class of target token
// when the probe measured classes. No Node APIs: the web lab can draw it too.

import type { TopLevelSpec } from "vega-lite";
import type { ContextProbeResult } from "../analysis/context.js";
import { SERIES_COLORS } from "./specs.js";

/**
 * Loss against context distance per perturbation (Khandelwal et al. 2018, figure 1's reading):
 * where a curve meets the band, the context beyond d stops mattering.
 */
export function contextProbeSpec(r: ContextProbeResult, units: { loss?: string; tokens?: string } = {}): TopLevelSpec {
  const lossUnit = units.loss ?? "nats per token";
  const tokens = units.tokens ?? "tokens";
  const all = "all targets";
  const groups = [
    { name: all, full: r.fullLoss, count: r.positions.length, curves: r.curves.map((c) => ({ kind: c.perturbation, loss: c.loss, effective: c.effective })) },
    ...(r.fullByClass ?? []).map((fc, k) => ({
      name: fc.name,
      full: fc.loss,
      count: fc.count,
      curves: r.curves.map((c) => ({ kind: c.perturbation, loss: c.byClass![k].loss, effective: c.byClass![k].effective })),
    })),
  ].filter((g) => g.count > 0);
  const panel = (g: (typeof groups)[number]) => `${g.name} (${g.count})`;
  const rows: Record<string, unknown>[] = [];
  for (const g of groups) {
    for (const c of g.curves) {
      const label = `${c.kind} (effective ${c.effective ?? "–"})`;
      c.loss.forEach((loss, i) => Number.isFinite(loss) && rows.push({ panel: panel(g), kind: "curve", series: c.kind, label, d: r.distances[i], loss }));
    }
    rows.push({ panel: panel(g), kind: "full", loss: g.full, band: g.full * (1 + r.tolerance) });
  }
  const domain = r.curves.map((c) => c.perturbation);
  const x = {
    field: "d",
    type: "quantitative",
    title: `distance d: context beyond it perturbed (${tokens})`,
    scale: { type: "log", base: 2 },
    axis: { values: r.distances, format: "d", labelOverlap: false, labelFlush: false },
  };
  const y = { field: "loss", type: "quantitative", title: `loss (${lossUnit})`, scale: { zero: false } };
  const layer = [
    {
      transform: [{ filter: { field: "kind", equal: "full" } }],
      mark: { type: "rule", color: "#444", strokeWidth: 1.25 },
      encoding: { y },
    },
    {
      transform: [{ filter: { field: "kind", equal: "full" } }],
      mark: { type: "rule", color: "#888", strokeDash: [4, 3] },
      encoding: { y: { field: "band", type: "quantitative" } },
    },
    {
      transform: [{ filter: { field: "kind", equal: "curve" } }],
      mark: { type: "line", point: { filled: true, size: 36 }, strokeWidth: 2 },
      encoding: {
        x,
        y,
        color: { field: "series", type: "nominal", title: "context beyond d", scale: { domain, range: SERIES_COLORS.slice(0, domain.length) } },
        tooltip: [{ field: "label" }, { field: "d" }, { field: "loss", format: ".4f" }],
      },
    },
  ];
  const subtitle = [
    `${r.positions.length} targets; full context: the ${r.maxDistance} ${tokens} before each target, from the zero state (solid line);`,
    `dashed: ${Math.round(r.tolerance * 100)}% above it. Effective context: ${r.curves.map((c) => `${c.perturbation} ${c.effective}`).join(", ")}`,
  ];
  const base = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "How far back does the model look?", subtitle, anchor: "start" },
    data: { values: rows },
  };
  if (groups.length === 1) return { ...base, width: 460, height: 280, layer } as unknown as TopLevelSpec;
  return {
    ...base,
    facet: { column: { field: "panel", type: "nominal", title: null, sort: groups.map(panel) } },
    spec: { width: 300, height: 240, layer },
    resolve: { scale: { y: "independent" } },
  } as unknown as TopLevelSpec;
}
