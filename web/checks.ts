// Messages the page and the worker share: a text too short for the batch and window.

import type { TextFitProblem } from "../src/index.js";
import type { Settings } from "./protocol.js";

/** A text too short for the batch and window, in the page's words, with what would fit. */
export function fitMessage(name: string, p: TextFitProblem, s: Pick<Settings, "batch" | "seq">): string {
  const fixes = [p.batch > 0 ? `batch ${p.batch}` : "", p.window > 0 ? `truncation ${p.window}` : ""].filter(Boolean);
  return (
    `${name} leaves ${p.have.toLocaleString("en-US")} characters for ${p.part}, fewer than one batch needs (batch ${s.batch} × truncation ${s.seq} + 1 = ${p.need.toLocaleString("en-US")}); ` +
    (fixes.length ? `lower the batch or the truncation (${fixes.join(" or ")} fits), or use a longer text` : "use a longer text")
  );
}
