// `rnnlab experiment context`, run as a user would (the built bin): a tiny sweep writes its four
// files with the JSON's shape; mistakes are one line and exit status 2, before any training.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isOneLineError, rnnlab, scratch } from "../helpers/cli.js";

describe("rnnlab experiment context", () => {
  it("runs a tiny sweep and writes the table, JSON, SVG and PNG", () => {
    const dir = scratch();
    const out = join(dir, "ctx");
    const r = rnnlab(
      dir,
      "experiment",
      "context",
      "--distances",
      "0,40",
      "--models",
      "mlp,gru",
      "--params",
      "8000",
      "--window",
      "48",
      "--budget",
      "0.1",
      "--test-size",
      "50",
      "--lr",
      "0.004",
      "--parallel",
      "2",
      "--out",
      out,
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/distances D = 36, 76 characters back to B/);
    expect(r.stdout).toMatch(/mlp \(window 48\) hidden \d+: [\d,]+; gru hidden \d+: [\d,]+/);
    for (const m of ["mlp", "gru"]) expect(r.stdout).toMatch(new RegExp(`^  ${m} seed 1: \\d+ steps .* D=36 \\d+% D=76 \\d+%$`, "m"));
    const table = readFileSync(join(out, "table.md"), "utf8");
    expect(table).toMatch(/^\| model \| parameters \| D = 36 \| D = 76 \* \|$/m);
    expect(table).toMatch(/^\| feed-forward window \(48\) \| [\d,]+ \| \d+\.\d \| \d+\.\d \|$/m);
    expect(table).toMatch(/^\| GRU \+ clipping \| [\d,]+ \| \d+\.\d \| \d+\.\d \|$/m);
    expect(table).toMatch(/^\| chance .* \| 14\.3 \| 14\.3 \|$/m);
    expect(table).toMatch(/Command: `npx rnnlab experiment context --distances 0,40/);
    const res = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
    expect(res).toMatchObject({
      experiment: "context",
      baseDistance: 36,
      options: { distances: [0, 40], models: ["mlp", "gru"], params: 8000, window: 48, testSize: 50 },
    });
    expect(res.chance).toBeCloseTo(1 / 7, 12);
    // fixed fillers (the default): the one filler of each distance is in the JSON
    expect(Object.keys(res.fillers)).toEqual(["0", "40"]);
    expect(res.fillers["40"]).toHaveLength(40);
    expect(res.options.fillers).toBe("fixed");
    expect(res.recipe).toMatchObject({ optimizer: "adam", lr: 0.004, batch: 32, clipNorm: { mlp: 1, gru: 1 } });
    expect(res.rows.map((x: { model: string }) => x.model)).toEqual(["mlp", "gru"]);
    for (const row of res.rows) {
      expect(Math.abs(row.params - 8000) / 8000).toBeLessThan(0.1);
      expect(row.byDistance.map((c: { distance: number; runs: number }) => [c.distance, c.runs])).toEqual([
        [36, 1],
        [76, 1],
      ]);
      for (const c of row.byDistance) expect(c.accuracy).toBeGreaterThanOrEqual(0);
    }
    expect(res.runs).toHaveLength(2);
    for (const run of res.runs) {
      expect(run.steps).toBeGreaterThan(0);
      expect(run.scores.map((s: { n: number; d: number }) => [s.d, s.n])).toEqual([
        [0, 50],
        [40, 50],
      ]);
    }
    expect(readFileSync(join(out, "accuracy.svg"), "utf8")).toMatch(/^<svg/);
    expect(readFileSync(join(out, "accuracy.png")).subarray(0, 4)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  }, 120_000);

  it("answers mistakes with one line and exit status 2, before training", () => {
    const dir = scratch();
    writeFileSync(join(dir, "a-file"), "x");
    for (const [args, message] of [
      [["--models", "mlp,transformer"], /unknown model transformer; choose from mlp, rnn, rnn-clip, lstm, gru/],
      [["--distances", ","], /expected a comma-separated list/],
      [["--distances", "0,-4"], /expected a whole number >= 0/],
      [["--window", "5000"], /--window 5000: the feed-forward model sees at most 4096 characters/],
      [["--out", "a-file"], /--out a-file is a file; give a folder/],
      [["--params", "100"], /--params 100: the closest .* model has/],
      [["--lengths", "20"], /--lengths belongs to experiment clipping, not context/],
      [["--fillers", "mixed"], /expected one of fixed, random/],
    ] as const) {
      const r = rnnlab(dir, "experiment", "context", ...args);
      expect(r.status, args.join(" ")).toBe(2);
      expect(isOneLineError(r.stderr), r.stderr).toBe(true);
      expect(r.stderr).toMatch(message);
    }
    const r = rnnlab(dir, "experiment", "clipping", "--distances", "0,16");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--distances belongs to experiment context, not clipping/);
    expect(existsSync(join(dir, "experiment-context"))).toBe(false);
  }, 60_000);
});
