// `rnnlab diagnose` end to end: a self-contained HTML report with one SVG per plot, from a
// checkpoint and the metrics.jsonl beside it; written atomically; one-line errors.

import { appendFileSync, copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { DiagnosticsRecord } from "../../src/analysis/report-data.js";
import { isOneLineError, rnnlab, scratch } from "../helpers/cli.js";

const LECTURE = "Jane walked into the room. John walked in too. It was late in the day. Jane said hi to John.\n";
const TINY = ["--hidden", "8", "--embed", "4", "--batch", "4", "--seq", "8", "--steps", "30", "--eval-every", "10", "--sample-length", "0", "--threads", "1"];

/** A diagnostics line as rnnlab train --diagnose-every writes it, made by hand. */
function record(step: number, sigma: number): DiagnosticsRecord {
  const T = 8;
  return {
    kind: "diagnostics",
    step,
    cell: "rnn",
    T,
    target: T,
    layers: [
      {
        layer: 0,
        direction: 0,
        gradByStep: Array(T).fill(0.01),
        gradByLag: Array.from({ length: T }, (_, k) => 0.5 ** k),
        jacobian: { lags: [1, 2, 4, 7], norms: [0.5, 0.25, 0.06, 0.008] },
      },
    ],
    spectra: [
      {
        layer: 0,
        direction: 0,
        block: "hh",
        gamma: 1,
        eigRe: [sigma * 0.8, 0.1],
        eigIm: [0, 0.2],
        singular: [sigma, 0.3],
        radius: sigma * 0.8,
        sigmaMax: sigma,
        bound: 1,
        regime: sigma > 1 ? "may-explode" : "vanishing",
      },
    ],
    warnings: [],
  };
}

function sections(html: string): { h2: number; svg: number } {
  return { h2: (html.match(/<h2>/g) ?? []).length, svg: (html.match(/<svg/g) ?? []).length };
}

function expectSelfContained(html: string): void {
  expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
  expect(html).not.toMatch(/<script/i);
  expect(html).not.toMatch(/https?:/i);
  expect(html).not.toMatch(/<link\b/i);
}

describe("rnnlab diagnose", () => {
  let dir: string;
  beforeAll(() => {
    dir = scratch();
    writeFileSync(join(dir, "jane.txt"), LECTURE.repeat(30));
    const r = rnnlab(dir, "train", "jane.txt", "--cell", "rnn", ...TINY, "--out", "run");
    expect(r.status, r.stderr).toBe(0);
    // two diagnostics lines, and a last line cut short by a kill
    appendFileSync(join(dir, "run", "metrics.jsonl"), `${JSON.stringify(record(10, 0.9))}\n${JSON.stringify(record(30, 1.4))}\n{"step": 31, "lo`);
  });

  it("writes a self-contained report: one SVG per plot, the readings, the training history", () => {
    const r = rnnlab(dir, "diagnose", "--checkpoint", "run/checkpoint.safetensors", "--batch", "2", "--seq", "16");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe("report.html\n");
    const html = readFileSync(join(dir, "report.html"), "utf8");
    expectSelfContained(html);
    // 1 lag, 2 steps, 3 eigenvalues, 4 singular values, 5 clipping, 6 loss, 7 over training, 8 context
    expect(sections(html)).toEqual({ h2: 8, svg: 8 });
    expect(html).toMatch(/layer 0 W_hh: σ_max = [\d.]+ (&gt;|≤) 1\/γ = 1: /);
    expect(html).toMatch(/Clipping: threshold 5, [\d.]+% of 30 steps clipped/);
    expect(html).toContain("30 steps, 2 diagnostics records");
    expect(html).toContain("2 windows of 16 steps from jane.txt, validation split");
    expect(html).toContain("7. Diagnostics over training");
    expect(html).toContain("8. How far back it looks");
    expect(html).toMatch(/Effective context \(the smallest d within 1% of the full loss from there on\): drop \d+, shuffle \d+, replace \d+ characters/);
    // the atomic write leaves no temporary file behind
    expect(readdirSync(dir).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });

  it("without metrics.jsonl and without the context probe: the four plots of the checkpoint alone, on a given text", () => {
    const alone = scratch();
    copyFileSync(join(dir, "run", "checkpoint.safetensors"), join(alone, "model.safetensors"));
    mkdirSync(join(alone, "out"));
    const r = rnnlab(
      alone,
      "diagnose",
      "--checkpoint",
      "model.safetensors",
      "--text",
      join(dir, "jane.txt"),
      "--out",
      "out/r.html",
      "--context-positions",
      "0",
    );
    expect(r.status, r.stderr).toBe(0);
    const html = readFileSync(join(alone, "out", "r.html"), "utf8");
    expectSelfContained(html);
    expect(sections(html)).toEqual({ h2: 4, svg: 4 });
    expect(html).toContain("no metrics.jsonl beside the checkpoint");
  });

  it("an LSTM's report shows the cell-state gradient and reads the gate blocks", () => {
    const r0 = rnnlab(dir, "train", "jane.txt", "--cell", "lstm", "--layers", "2", ...TINY, "--out", "lstm");
    expect(r0.status, r0.stderr).toBe(0);
    const r = rnnlab(dir, "diagnose", "--checkpoint", "lstm/checkpoint.safetensors", "--out", "lstm.html", "--batch", "2", "--seq", "12");
    expect(r.status, r.stderr).toBe(0);
    const html = readFileSync(join(dir, "lstm.html"), "utf8");
    expectSelfContained(html);
    expect(sections(html)).toEqual({ h2: 7, svg: 7 });
    expect(html).toContain("‖∂E_t/∂c_k‖");
    expect(html).toMatch(/layer 1 f W_hh: σ_max = [\d.]+ (&gt;|≤) 1\/γ = 4/);
    expect(html).toContain("LSTM: the cell state carries the gradient additively");
  });

  it("on a mistake: one line, exit status 2, and the previous report left whole", () => {
    writeFileSync(join(dir, "keep.html"), "the previous report");
    const bad: [string[], RegExp][] = [
      [["--text", "missing.txt"], /missing\.txt does not exist/],
      [["--seq", "100000"], /fewer than one window of --seq 100000/],
      [["--batch", "0"], /--batch/],
      [["--out", "nowhere/r.html"], /folder nowhere does not exist/],
    ];
    for (const [args, message] of bad) {
      const r = rnnlab(dir, "diagnose", "--checkpoint", "run/checkpoint.safetensors", "--out", "keep.html", ...args);
      expect(r.status, args.join(" ")).toBe(2);
      expect(isOneLineError(r.stderr), r.stderr).toBe(true);
      expect(r.stderr).toMatch(message);
      expect(readFileSync(join(dir, "keep.html"), "utf8")).toBe("the previous report");
    }
    // a successful run replaces the file by renaming a complete new one over it (a new inode), never by rewriting it in place
    const ino = statSync(join(dir, "keep.html")).ino;
    const ok = rnnlab(dir, "diagnose", "--checkpoint", "run/checkpoint.safetensors", "--out", "keep.html", "--batch", "2", "--seq", "8");
    expect(ok.status, ok.stderr).toBe(0);
    expect(statSync(join(dir, "keep.html")).ino).not.toBe(ino);
    expect(readFileSync(join(dir, "keep.html"), "utf8")).toMatch(/^<!DOCTYPE html>[\s\S]*<\/html>\n$/);
    writeFileSync(join(dir, "broken.safetensors"), "not a checkpoint at all");
    const c = rnnlab(dir, "diagnose", "--checkpoint", "broken.safetensors");
    expect(c.status).toBe(2);
    expect(isOneLineError(c.stderr), c.stderr).toBe(true);
    expect(c.stderr).toMatch(/broken\.safetensors is corrupt or truncated/);
  });
});
