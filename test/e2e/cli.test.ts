// The installed command: runs the built bin (npm test builds first), as a user would.

import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readDocs } from "../helpers/docs.js";

const bin = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

function rnnlab(...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });
}

describe("rnnlab CLI", () => {
  it("prints its version", () => {
    const r = rnnlab("--version");
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it("answers a mistake with one line and exit status 2, no stack trace", () => {
    const r = rnnlab("--no-such-option");
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/unknown option '--no-such-option'/);
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });
});

describe("README quick start", () => {
  it("runs and its loss falls", () => {
    const script = fileURLToPath(new URL("../../examples/quickstart.mjs", import.meta.url));
    const r = spawnSync(process.execPath, [script], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const losses = [...r.stdout.matchAll(/loss ([\d.]+) nats/g)].map((m) => Number(m[1]));
    expect(losses.length).toBe(7);
    expect(losses[6]).toBeLessThan(losses[0] / 10);
  });

  it("the TrainingSession example: warm-up, cosine schedule, early stopping", () => {
    const script = fileURLToPath(new URL("../../examples/session.mjs", import.meta.url));
    const r = spawnSync(process.execPath, [script], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const vals = [...r.stdout.matchAll(/val ([\d.]+) nats\/char/g)].map((m) => Number(m[1]));
    expect(vals[0]).toBeGreaterThan(vals[3]); // it learns
    expect(r.stdout).toMatch(/ended after \d+ steps \(early-stop\); best [\d.]+ at step \d+/);
    expect(r.stdout).toMatch(/^ROMEO:/m);
    // the docs show the file as it is (all but its first comment line)
    const readme = readDocs();
    expect(readme).toContain(readFileSync(script, "utf8").split("\n").slice(1).join("\n").trim());
  }, 180_000);
});
