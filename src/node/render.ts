// Rendering plots in Node: a vega-lite spec (plot/specs.ts) to an SVG string (vega's headless
// View, renderer "none", toSVG), an SVG to a PNG (resvg, with the system's fonts), and a
// self-contained HTML page of SVGs (inline CSS, no scripts, no external URLs).
// The browser draws the same specs with vega itself; nothing here is needed there.

import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

/** A font family present on most Linux machines (DejaVu), with generic fallbacks. */
export const PLOT_FONT = "DejaVu Sans";

/** Options of specToSvg. */
export interface SvgOptions {
  /** Font family of every text. Default PLOT_FONT. */
  font?: string;
}

/**
 * Shortens an SVG from vega without changing what it draws: coordinates in path data and
 * transforms rounded to 2 decimals (1/100 pixel), rgb() colours as #rrggbb. A 200×200 heat
 * map is 40,000 paths, so this halves the file.
 */
export function compactSvg(svg: string): string {
  const round = (s: string) =>
    s.replace(/-?\d*\.\d+/g, (n) => {
      const r = Number(n).toFixed(2).replace(/0+$/, "").replace(/\.$/, "");
      return r === "-0" ? "0" : r;
    });
  return svg
    .replace(/ d="([^"]*)"/g, (_, d: string) => ` d="${round(d)}"`)
    .replace(/ transform="([^"]*)"/g, (_, t: string) => ` transform="${round(t)}"`)
    .replace(
      /rgb\((\d+), ?(\d+), ?(\d+)\)/g,
      (_, r: string, g: string, b: string) => `#${[r, g, b].map((v) => Number(v).toString(16).padStart(2, "0")).join("")}`,
    );
}

/** A vega-lite spec drawn as an SVG document (white background). */
export async function specToSvg(spec: TopLevelSpec, options: SvgOptions = {}): Promise<string> {
  const font = options.font ?? PLOT_FONT;
  const s = spec as TopLevelSpec & { config?: Record<string, unknown>; background?: string };
  const withFont = { ...s, background: s.background ?? "white", config: { font, aria: false, ...(s.config ?? {}) } } as TopLevelSpec;
  // warnings of vega-lite and vega go nowhere: a CLI's output is not the place for them
  const quiet = vega.logger(vega.Error);
  const view = new vega.View(vega.parse(compile(withFont, { logger: quiet }).spec), { renderer: "none", logLevel: vega.Error });
  try {
    return compactSvg(await view.toSVG());
  } finally {
    view.finalize();
  }
}

/** Options of svgToPng. */
export interface PngOptions {
  /** Zoom: output pixels per SVG pixel. Default 2. */
  scale?: number;
  /** Font used when the SVG names one that is missing. Default PLOT_FONT. */
  font?: string;
}

/** An SVG rasterised to PNG bytes (resvg; system fonts). */
export function svgToPng(svg: string, options: PngOptions = {}): Uint8Array {
  const r = new Resvg(svg, {
    font: { loadSystemFonts: true, defaultFontFamily: options.font ?? PLOT_FONT, sansSerifFamily: options.font ?? PLOT_FONT },
    fitTo: { mode: "zoom", value: options.scale ?? 2 },
    background: "white",
  });
  return new Uint8Array(r.render().asPng());
}

/** The 8 bytes every PNG file starts with. */
export const PNG_SIGNATURE = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** One figure of a page. */
export interface PageSection {
  title: string;
  /** An SVG document, as specToSvg returns it. */
  svg?: string;
  /** Text under the figure (or instead of it). */
  note?: string;
}

/** A self-contained HTML page. */
export interface Page {
  title: string;
  /** Paragraphs of the header, plain text. */
  intro: string[];
  /** Lines in a monospaced block under the intro (e.g. the model's config). */
  facts?: string[];
  sections: PageSection[];
}

/** An SVG document made fit for inlining in HTML5: no XML prolog, no namespace declarations (which are URLs). */
export function inlineSvg(svg: string): string {
  return svg
    .replace(/^<\?xml[^>]*>\s*/, "")
    .replace(/\s+xmlns(:\w+)?="[^"]*"/g, "")
    .replace(/xlink:href=/g, "href=");
}

const CSS = `
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; margin: 2rem auto; max-width: 980px; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.5rem; margin-bottom: 0.4rem; }
h2 { font-size: 1.1rem; margin: 2rem 0 0.5rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
pre { background: #f6f6f6; padding: 0.6rem 0.8rem; border-radius: 4px; overflow-x: auto; font-size: 0.85rem; }
figure { margin: 0; }
figure svg { max-width: 100%; height: auto; }
figcaption, p.note { color: #555; font-size: 0.9rem; }
ul.readings li { margin: 0.2rem 0; }
`.trim();

/** A self-contained HTML page: inline CSS and inline SVGs; no scripts, no external URLs. */
export function htmlPage(page: Page): string {
  const parts: string[] = [
    "<!DOCTYPE html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(page.title)}</title>`,
    `<style>\n${CSS}\n</style>`,
    "</head>",
    "<body>",
    `<h1>${escapeHtml(page.title)}</h1>`,
  ];
  if (page.facts?.length) parts.push(`<pre>${page.facts.map(escapeHtml).join("\n")}</pre>`);
  if (page.intro.length) parts.push(`<ul class="readings">\n${page.intro.map((p) => `<li>${escapeHtml(p)}</li>`).join("\n")}\n</ul>`);
  for (const s of page.sections) {
    parts.push(`<section>\n<h2>${escapeHtml(s.title)}</h2>`);
    if (s.svg) parts.push(`<figure>\n${inlineSvg(s.svg)}\n</figure>`);
    if (s.note) parts.push(`<p class="note">${escapeHtml(s.note)}</p>`);
    parts.push("</section>");
  }
  parts.push("</body>", "</html>", "");
  return parts.join("\n");
}
