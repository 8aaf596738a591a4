// The layers of ARCHITECTURE.md, checked on the source: every import points down (or within its
// own folder), only src/node and src/cli import Node's modules, and the lab (web/) reaches the
// library only through its public API and the plot specs. A new file that breaks the layering
// fails here, naming the file and the import.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SRC = join(ROOT, "src");

/** What each folder of src/ may import besides itself ("root": src/errors.ts). */
const MAY_IMPORT: Record<string, readonly string[]> = {
  root: [],
  tensor: ["root"],
  nn: ["tensor", "root"],
  data: ["tensor", "root"],
  io: ["nn", "data", "tensor", "root"],
  analysis: ["nn", "data", "tensor", "root"],
  plot: ["analysis", "nn", "data", "tensor", "root"],
  train: ["analysis", "io", "nn", "data", "tensor", "root"],
  node: ["train", "analysis", "plot", "io", "nn", "data", "tensor", "root"],
  cli: ["node", "train", "analysis", "plot", "io", "nn", "data", "tensor", "root"],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === "as" || name === "generated" ? [] : files(p);
    return p.endsWith(".ts") && !p.endsWith(".test.ts") && !p.endsWith(".d.ts") ? [p] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/^(?:import|export)\b[^;]*?from\s+"([^"]+)"/gms)].map((m) => m[1]);
}

/** The folder of src/ a file belongs to ("root" for src/errors.ts; "index" for the public API). */
function layer(file: string): string {
  const rel = relative(SRC, file).split(/[\\/]/);
  if (rel.length === 1) return rel[0] === "index.ts" ? "index" : "root";
  return rel[0];
}

describe("architecture", () => {
  const sources = files(SRC);

  it("knows every folder of src/", () => {
    const folders = new Set(sources.map(layer));
    for (const f of folders) expect(f === "index" || f in MAY_IMPORT, `src/${f} is not in ARCHITECTURE.md's layers`).toBe(true);
  });

  it("imports point down: each folder imports only the layers below it", () => {
    const bad: string[] = [];
    for (const file of sources) {
      const from = layer(file);
      if (from === "index") continue;
      for (const spec of imports(file)) {
        if (!spec.startsWith(".")) continue;
        const to = layer(join(file, "..", spec));
        if (to !== from && !MAY_IMPORT[from].includes(to)) bad.push(`${relative(ROOT, file)} imports ${spec} (${from} -> ${to})`);
      }
    }
    expect(bad).toEqual([]);
  });

  it("only src/node and src/cli import Node's own modules", () => {
    const bad = sources.filter((f) => !["node", "cli"].includes(layer(f)) && imports(f).some((s) => s.startsWith("node:")));
    expect(bad.map((f) => relative(ROOT, f))).toEqual([]);
  });

  it("the public API (src/index.ts) exports nothing Node-only", () => {
    const bad = imports(join(SRC, "index.ts")).filter((s) => s.startsWith("./node/") || s.startsWith("./cli/"));
    expect(bad).toEqual([]);
  });

  it("the lab reaches the library through its public API and the plot specs only", () => {
    const web = join(ROOT, "web");
    const allowed = ["../src/index.js", "../src/plot/specs.js", "../src/analysis/report-data.js"];
    const bad: string[] = [];
    for (const f of readdirSync(web).filter((n) => n.endsWith(".ts"))) {
      for (const spec of imports(join(web, f))) {
        if (spec.startsWith("../") && !allowed.includes(spec)) bad.push(`web/${f} imports ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
