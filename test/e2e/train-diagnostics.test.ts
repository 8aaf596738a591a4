// `rnnlab train --diagnose-every`: gradient flow, spectra and clipping statistics in metrics.jsonl,
// weight snapshots for the loss surface, and the explosion warning on the progress output.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { rnnlab, scratch } from "../helpers/cli.js";

const small = ["--hidden", "32", "--embed", "16", "--batch", "8", "--seq", "16", "--sample-length", "0", "--threads", "1"];

function lines(path: string): Record<string, unknown>[] {
  return readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("rnnlab train --diagnose-every", () => {
  it("logs diagnostics records and weight snapshots every n steps, and keeps them through a resume", () => {
    const dir = scratch();
    const out = join(dir, "run");
    const r = rnnlab(
      dir,
      "train",
      "--cell",
      "lstm",
      ...small,
      "--steps",
      "20",
      "--eval-every",
      "10",
      "--diagnose-every",
      "10",
      "--diagnose-rows",
      "4",
      "--out",
      out,
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^diagnostics at step 10: \|dE_16\/dh\| at lag 15 is [\d.e+-]+ of lag 0; sigma_max\(W_hh [ifgo]\) [\d.]+ [<>] 1\/gamma = (1|4)/m);
    const recs = lines(join(out, "metrics.jsonl"));
    const diag = recs.filter((x) => x.kind === "diagnostics") as unknown as {
      step: number;
      T: number;
      target: number;
      layers: { gradByLag: number[]; cellGradByLag: number[]; jacobian: { lags: number[]; norms: number[] } }[];
      spectra: { block: string; sigmaMax: number }[];
      clip: { steps: number; threshold: number; suggested: { pick: number } };
    }[];
    expect(diag.map((d) => d.step)).toEqual([10, 20]);
    for (const d of diag) {
      expect(d.T).toBe(16);
      expect(d.layers[0].gradByLag).toHaveLength(16);
      expect(d.layers[0].cellGradByLag).toHaveLength(16);
      expect(d.layers[0].jacobian.lags).toEqual([1, 2, 4, 8, 15]);
      expect(d.spectra.map((s) => s.block)).toEqual(["i", "f", "g", "o"]);
      expect(d.clip.steps).toBe(d.step);
      expect(d.clip.threshold).toBe(5);
      expect(d.clip.suggested.pick).toBeGreaterThan(0);
    }
    for (const s of [10, 20]) expect(existsSync(join(out, "trajectory", `step-${String(s).padStart(8, "0")}.safetensors`))).toBe(true);
    // resumed: the clipping statistics count the steps before the resume too
    const r2 = rnnlab(dir, "train", "--out", out, "--resume", "--steps", "30", "--diagnose-every", "10", "--threads", "1");
    expect(r2.status, r2.stderr).toBe(0);
    const diag2 = lines(join(out, "metrics.jsonl")).filter((x) => x.kind === "diagnostics") as unknown as { step: number; clip: { steps: number } }[];
    expect(diag2.map((d) => d.step)).toEqual([10, 20, 30]);
    expect(diag2[2].clip.steps).toBe(30);
  }, 120_000);

  it("warns when the gradient norm jumps (an IRNN at a high learning rate), and clipping keeps it training", () => {
    const dir = scratch();
    const out = join(dir, "run");
    const r = rnnlab(
      dir,
      "train",
      "--cell",
      "rnn",
      "--nonlinearity",
      "relu",
      "--init",
      "identity",
      "--hidden",
      "64",
      "--batch",
      "8",
      "--seq",
      "64",
      "--optimizer",
      "sgd",
      "--lr",
      "0.1",
      "--clip",
      "1",
      "--steps",
      "100",
      "--eval-every",
      "100",
      "--sample-length",
      "0",
      "--threads",
      "1",
      "--out",
      out,
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^warning: exploding gradient at step \d+: norm [\d.e+]+ is \d+x the recent median [\d.e+]+ \(clipped to 1\)$/m);
    const warned = lines(join(out, "metrics.jsonl")).filter((x) => typeof x.warning === "string");
    expect(warned.length).toBeGreaterThan(0);
    expect(r.stdout).toMatch(/validation \d\.\d+ nats\/char/); // finite: clipping kept the weights usable
  }, 60_000);
});
