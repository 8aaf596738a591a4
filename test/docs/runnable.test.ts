// The docs' commands, run. Every ```sh and ```python block of README.md and docs/*.md carries a
// marker on the line before it:
//
//   <!-- test: run -->                       run as shown
//   <!-- test: run --steps 3000 => --steps 20 -->
//                                            run with the replacements after "run", separated by
//                                            ";" (a shortened step count: `A => B` replaces every
//                                            A in the block by B)
//   <!-- test: not run: REASON -->           shown, not run here (the reason is printed by name)
//
// A block without a marker fails the test, so nothing is skipped silently. The blocks of one page
// run in order in one scratch folder (a later block uses what an earlier one wrote), with `npx
// rnnlab` running the built command line (dist/) and `python` the Python with torch
// ($RNNLAB_PYTHON, default /usr/bin/python3). Blocks that need Python (```python blocks, and
// shell blocks that call python or torchrun) run when that Python imports torch; otherwise they
// are printed as not run, by name. A block passes when it exits with status 0, and when the
// output the page shows for it (the first bare ``` or ```text block after it, before the next
// command block or heading) is its output: every labelled line shown ("model: ...", "done: ...",
// "rnnlab train: ...": a lowercase label and a colon at the start) is a line the command printed,
// with numbers, durations and times masked (a shortened run prints other numbers, not other
// lines). Sample text and lines marked … are not compared.

import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { BIN, scratch } from "../helpers/cli.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PYTHON = process.env.RNNLAB_PYTHON ?? "/usr/bin/python3";
const HAS_TORCH = existsSync(PYTHON) && spawnSync(PYTHON, ["-c", "import torch"], { encoding: "utf8" }).status === 0;

interface Block {
  page: string;
  line: number;
  lang: "sh" | "python";
  code: string;
  marker: { run: true; replace: [string, string][] } | { run: false; reason: string } | null;
  /** The output the page shows for the block (its line number and lines), if any. */
  shown: { line: number; lines: string[] } | null;
}

/** A line with its numbers (1,003,854; 0.002; 3m36s; 35s; 0.0%; 2026-12-03) masked and its spaces collapsed. */
function masked(line: string): string {
  return line
    .replace(/\d[\d.,]*(?:e[-+]?\d+)?(?:[a-z%]{1,3}\b|%|(?:m\d[\d.]*s))?/gi, "#")
    .replace(/#(?:[-:/]#)+/g, "#")
    .replace(/\s+/g, " ")
    .trim();
}

/** The lines of shown output the test compares: a lowercase label and a colon first, or "rnnlab <command>:". */
function labelled(line: string): boolean {
  return !line.includes("…") && /^(?:[a-z][a-z ]*|rnnlab [a-z]+(?: [a-z]+)?): /.test(line);
}

/** The fenced sh and python blocks of a page, with the marker on the line before each. */
function blocksOf(page: string, text: string): Block[] {
  const lines = text.split("\n");
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(sh|python)\s*$/.exec(lines[i]);
    if (!open) {
      if (/^```/.test(lines[i])) {
        // any other fence: skip to its end, so its contents are not read as fences
        for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++);
      }
      continue;
    }
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
    const prev = i > 0 ? lines[i - 1].trim() : "";
    // the output shown for it: the next bare or text fence before another command block or heading
    let shown: Block["shown"] = null;
    for (let j = end + 1; j < lines.length; j++) {
      if (/^```(sh|python)\s*$/.test(lines[j]) || /^#/.test(lines[j])) break;
      if (/^```(text)?\s*$/.test(lines[j])) {
        let e = j + 1;
        while (e < lines.length && !/^```\s*$/.test(lines[e])) e++;
        shown = { line: j + 1, lines: lines.slice(j + 1, e) };
        break;
      }
      if (/^```/.test(lines[j])) break;
    }
    let marker: Block["marker"] = null;
    const m = /^<!-- test: (run|not run: (.+?))( .*?)? -->$/.exec(prev);
    if (m?.[1] === "run")
      marker = {
        run: true,
        replace: (m[3] ?? "")
          .split(";")
          .map((r) => r.trim())
          .filter(Boolean)
          .map((r) => {
            const parts = r.split(" => ");
            if (parts.length !== 2) throw new Error(`${page}:${i}: a replacement is "A => B", got "${r}"`);
            return parts as [string, string];
          }),
      };
    else if (m) marker = { run: false, reason: `${m[2]}${m[3] ?? ""}` };
    out.push({ page, line: i + 1, lang: open[1] as "sh" | "python", code: lines.slice(i + 1, end).join("\n"), marker, shown });
    i = end;
  }
  return out;
}

const pages = [
  "README.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => `docs/${f}`),
];

const byPage = pages.map((page) => ({ page, blocks: blocksOf(page, readFileSync(join(ROOT, page), "utf8")) }));

const needsPython = (b: Block) => b.lang === "python" || /(^|[\s;(&|])(python3?|torchrun)\s/m.test(b.code);

describe("every command block of the docs says whether the tests run it", () => {
  it.each(byPage.map((p) => p.page))("%s", (page) => {
    const unmarked = byPage.find((p) => p.page === page)!.blocks.filter((b) => b.marker === null);
    expect(
      unmarked.map((b) => `${b.page}:${b.line}`),
      "a ```sh or ```python block needs <!-- test: run ... --> or <!-- test: not run: REASON --> on the line before it",
    ).toEqual([]);
  });
});

for (const { page, blocks } of byPage) {
  const runs = blocks.filter((b) => b.marker?.run);
  for (const b of blocks) if (b.marker && !b.marker.run) console.log(`docs: not run: ${b.page}:${b.line} (${b.marker.reason})`);
  if (runs.length === 0) continue;
  describe(`the commands of ${page}, run in order`, () => {
    const dir = scratch("rnnlab-docs-");
    symlinkSync(join(ROOT, "data"), join(dir, "data"));
    // `npx rnnlab` is the built command line; `python` the Python with torch
    writeFileSync(
      join(dir, ".shims.sh"),
      [
        `npx() { if [ "$1" = rnnlab ]; then shift; "${process.execPath}" "${BIN}" "$@"; else command npx "$@"; fi; }`,
        `python() { "${PYTHON}" "$@"; }`,
        `python3() { "${PYTHON}" "$@"; }`,
        "export -f npx python python3",
      ].join("\n"),
    );
    let failed = false;
    for (const b of runs) {
      const name = `${page}:${b.line}`;
      const skip = needsPython(b) && !HAS_TORCH;
      if (skip) console.log(`docs: not run: ${name} (${PYTHON} cannot import torch)`);
      it.skipIf(skip)(
        `${name} (${b.lang})`,
        () => {
          expect(failed, "an earlier block of this page failed").toBe(false);
          let code = b.code;
          for (const [from, to] of (b.marker as { replace: [string, string][] }).replace) {
            expect(code, `${name}: the marker replaces "${from}", which the block does not contain`).toContain(from);
            code = code.split(from).join(to);
          }
          const r =
            b.lang === "python"
              ? spawnSync(PYTHON, ["-c", code], { cwd: dir, encoding: "utf8", env: { ...process.env, OMP_NUM_THREADS: "1" } })
              : spawnSync("bash", ["-c", `set -eo pipefail; source .shims.sh\n${code}`], {
                  cwd: dir,
                  encoding: "utf8",
                  env: { ...process.env, FORCE_COLOR: "0", OMP_NUM_THREADS: "1" },
                });
          if (r.status !== 0) failed = true;
          expect(r.status, `${name} exited with ${r.status}:\n${r.stderr.slice(-3000)}\n${r.stdout.slice(-2000)}`).toBe(0);
          if (b.shown) {
            const printed = new Set(`${r.stdout}\n${r.stderr}`.split(/\r|\n/).map(masked));
            const missing = b.shown.lines.filter(labelled).filter((l) => !printed.has(masked(l)));
            expect(missing, `${name}: lines the page shows at ${page}:${b.shown.line} that the command did not print (numbers masked)`).toEqual([]);
          }
        },
        300_000,
      );
    }
  });
}
