// `rnnlab task` and `rnnlab experiment clipping`, run as a user would (the built bin).

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isOneLineError, rnnlab, scratch } from "../helpers/cli.js";

describe("rnnlab task", () => {
  it("solves a short adding problem and says so (exit 0)", () => {
    const dir = scratch();
    const r = rnnlab(dir, "task", "adding", "--length", "10", "--cell", "lstm", "--hidden", "16", "--batch", "16", "--eval-every", "200", "--steps", "4000");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^rnnlab task: Adding problem .*T = 10/m);
    expect(r.stdout).toMatch(/^success: fewer than 1% of sequences wrong/m);
    expect(r.stdout).toMatch(/^solved at step \d+/m);
  }, 120_000);

  it("reports a run that does not solve it (exit 1), and --json gives the result as one line", () => {
    const dir = scratch();
    const r = rnnlab(
      dir,
      "task",
      "temporal-order",
      "--length",
      "200",
      "--cell",
      "rnn",
      "--clip",
      "0",
      "--optimizer",
      "sgd",
      "--lr",
      "0.01",
      "--steps",
      "40",
      "--eval-every",
      "20",
      "--eval-size",
      "100",
      "--json",
    );
    expect(r.status, r.stderr).toBe(1);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const res = JSON.parse(lines[0]);
    expect(res).toMatchObject({ task: "temporal-order", length: 200, cell: "rnn-tanh", clip: null, solved: false, steps: 40 });
    expect(res.testError).toBeGreaterThan(0.5);
    expect(res.baseline).toBeCloseTo(Math.log(4), 12);
  }, 120_000);

  it("answers mistakes with one line and exit status 2", () => {
    const dir = scratch();
    for (const args of [
      ["task", "adding-sideways"],
      ["task", "adding-hs", "--length", "5"],
      ["task", "adding", "--cell", "lstm", "--omega", "4"],
      ["task", "adding", "--length", "0"],
      ["experiment", "dropout"],
      ["experiment", "clipping", "--variants", "rnn,transformer"],
      ["experiment", "clipping", "--lengths", "20,x"],
      ["experiment", "clipping", "--lengths", "5"],
    ]) {
      const r = rnnlab(dir, ...args);
      expect(r.status, args.join(" ")).toBe(2);
      expect(isOneLineError(r.stderr), r.stderr).toBe(true);
    }
  });
});

describe("rnnlab experiment clipping", () => {
  it("runs every cell of a short sweep and writes the table, JSON, SVG and PNG", () => {
    const dir = scratch();
    const out = join(dir, "exp");
    const r = rnnlab(
      dir,
      "experiment",
      "clipping",
      "--lengths",
      "10",
      "--budget",
      "0.25",
      "--eval-every",
      "50",
      "--eval-size",
      "100",
      "--parallel",
      "2",
      "--out",
      out,
    );
    expect(r.status, r.stderr).toBe(0);
    for (const v of ["rnn", "rnn-clip", "rnn-clip-omega", "lstm", "gru"])
      expect(r.stdout).toMatch(new RegExp(`T=10 ${v} seed 1: (solved|not solved) after \\d+ steps`));
    const table = readFileSync(join(out, "table.md"), "utf8");
    expect(table).toMatch(/\| tanh RNN \+ clipping \+ Ω \(MSGD-CR\) \| \d\/1/);
    expect(table).toMatch(/5\/5 at every T up to 200/);
    const res = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
    expect(res.runs).toHaveLength(5);
    expect(res.runs.every((x: { steps?: number }) => (x.steps ?? 0) > 0)).toBe(true);
    expect(readFileSync(join(out, "success.svg"), "utf8")).toMatch(/^<svg/);
    expect(readFileSync(join(out, "success.png")).subarray(0, 4)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    expect(existsSync(join(out, "success.png"))).toBe(true);
  }, 180_000);
});
