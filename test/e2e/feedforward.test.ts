// The feed-forward language model (--cell mlp) from the command line: it trains with the same
// data path, checkpoints and report as the recurrent models, resumes bit for bit, samples and is
// evaluated; what only a recurrent model has (threads, diagnostics, ONNX, the W_hh slice, the
// recurrent options) is one line and exit 2, with nothing written.

import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeSafetensors } from "../../src/io/safetensors.js";
import { isOneLineError, rnnlab, scratch } from "../helpers/cli.js";

const SMALL = ["--cell", "mlp", "--window", "6", "--hidden", "24", "--embed", "6", "--batch", "4", "--seq", "16", "--sample-length", "0"];
const LECTURE = "Jane walked into the room. John walked in too. It was late in the day. Jane said hi to John.\n";
const dir = scratch("rnnlab-ff-");

function tensors(path: string): Record<string, number[]> {
  const { tensors: t } = decodeSafetensors(new Uint8Array(readFileSync(path)));
  return Object.fromEntries([...t].map(([k, v]) => [k, Array.from(v.data)]));
}

beforeAll(() => {
  writeFileSync(join(dir, "jane.txt"), LECTURE.repeat(80));
  const r = rnnlab(dir, "train", "jane.txt", ...SMALL, "--direct", "--steps", "40", "--eval-every", "20", "--out", "ff");
  if (r.status !== 0) throw new Error(r.stderr);
});

describe("rnnlab train --cell mlp", () => {
  it("trains, reports the model, and its checkpoint holds the window", () => {
    const log = readFileSync(join(dir, "ff", "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const evals = log.filter((r) => r.val_loss !== undefined);
    expect(evals.length).toBe(2);
    expect(evals[1].val_loss).toBeLessThan(Math.log(new Set(LECTURE).size)); // below a uniform guess over the lecture's characters
    expect(evals[1].val_loss).toBeLessThan(evals[0].val_loss);
    const t = tensors(join(dir, "ff", "checkpoint.safetensors"));
    expect(Object.keys(t).filter((k) => !k.startsWith("optim."))).toEqual(
      expect.arrayContaining(["embedding.weight", "hidden.0.weight", "hidden.0.bias", "head.weight", "head.bias", "direct.weight", "state.window"]),
    );
    // the carried window: ids + 1 of the 5 tokens before the next chunk, per stream
    expect(t["state.window"].length).toBe(5 * 4);
    expect(t["state.window"].every((v) => Number.isInteger(v) && v >= 1)).toBe(true);
  });

  it("a run stopped and resumed ends bit for bit where an unbroken run ends", () => {
    const a = rnnlab(dir, "train", "jane.txt", ...SMALL, "--steps", "30", "--eval-every", "10", "--out", "straight");
    expect(a.status, a.stderr).toBe(0);
    const b = rnnlab(dir, "train", "jane.txt", ...SMALL, "--steps", "10", "--eval-every", "10", "--out", "broken");
    expect(b.status, b.stderr).toBe(0);
    const c = rnnlab(dir, "train", "jane.txt", "--resume", "--steps", "30", "--out", "broken");
    expect(c.status, c.stderr).toBe(0);
    expect(tensors(join(dir, "broken", "checkpoint.safetensors"))).toEqual(tensors(join(dir, "straight", "checkpoint.safetensors")));
  });

  it("samples and is evaluated", () => {
    const s = rnnlab(dir, "sample", "--checkpoint", "ff/checkpoint.safetensors", "--length", "40", "--seed", "3");
    expect(s.status, s.stderr).toBe(0);
    expect(s.stdout.length).toBeGreaterThan(30);
    const e = rnnlab(dir, "eval", "jane.txt", "--checkpoint", "ff/checkpoint.safetensors");
    expect(e.status, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/nats\/char/);
  });

  const refused: [string, string[], RegExp][] = [
    ["--window with a recurrent cell", ["train", "jane.txt", "--cell", "lstm", "--window", "8", "--out", "x"], /--window is for --cell mlp/],
    ["--direct with a recurrent cell", ["train", "jane.txt", "--cell", "gru", "--direct", "--out", "x"], /--direct is for --cell mlp/],
    ["--tie-weights with mlp", ["train", "jane.txt", ...SMALL, "--tie-weights", "--out", "x"], /--tie-weights is for the recurrent cells/],
    ["--dropout with mlp", ["train", "jane.txt", ...SMALL, "--dropout", "0.2", "--out", "x"], /--dropout is for the recurrent cells/],
    ["--diagnose-every with mlp", ["train", "jane.txt", ...SMALL, "--diagnose-every", "5", "--out", "x"], /--diagnose-every is for the recurrent cells/],
    ["--threads 2 with mlp", ["train", "jane.txt", ...SMALL, "--threads", "2", "--out", "x"], /--threads is for the recurrent cells/],
    ["a window beyond the largest", ["train", "jane.txt", ...SMALL, "--window", "5000", "--out", "x"], /at most 4096/],
    ["ONNX export", ["export", "--checkpoint", "ff/checkpoint.safetensors", "--out", "ff.onnx"], /ONNX export is of recurrent models/],
    ["diagnose", ["diagnose", "--checkpoint", "ff/checkpoint.safetensors", "--out", "ff.html"], /holds a feed-forward model/],
    [
      "surface --mode whh",
      ["surface", "--checkpoint", "ff/checkpoint.safetensors", "--out", "s.svg", "--mode", "whh", "--grid", "3"],
      /--mode whh scales the recurrent weights/,
    ],
  ];
  for (const [name, args, message] of refused) {
    it(`refuses ${name}: one line, exit 2, nothing written`, () => {
      const before = readdirSync(dir).sort();
      const stamp = statSync(join(dir, "ff", "checkpoint.safetensors")).mtimeMs;
      const r = rnnlab(dir, ...args);
      expect(r.status, r.stderr).toBe(2);
      expect(isOneLineError(r.stderr), r.stderr).toBe(true);
      expect(r.stderr).toMatch(message);
      expect(readdirSync(dir).sort()).toEqual(before);
      expect(statSync(join(dir, "ff", "checkpoint.safetensors")).mtimeMs).toBe(stamp);
    });
  }
});

describe("rnnlab task --cell mlp", () => {
  it("runs a task through a window, and says so in its result", () => {
    const r = rnnlab(
      dir,
      "task",
      "adding",
      "--length",
      "10",
      "--cell",
      "mlp",
      "--window",
      "4",
      "--steps",
      "50",
      "--eval-every",
      "50",
      "--eval-size",
      "100",
      "--json",
    );
    expect([0, 1]).toContain(r.status);
    const result = JSON.parse(r.stdout.trim());
    expect(result.cell).toBe("mlp-4");
    expect(result.steps).toBe(50);
  });
  for (const [name, args, message] of [
    ["--window with a recurrent cell", ["task", "adding", "--cell", "gru", "--window", "4"], /--window is for --cell mlp/],
    ["--init with mlp", ["task", "adding", "--cell", "mlp", "--init", "orthogonal"], /--init is for the recurrent cells/],
    ["--omega with mlp", ["task", "adding", "--cell", "mlp", "--omega", "2"], /--omega .* is for --cell rnn/],
  ] as [string, string[], RegExp][]) {
    it(`refuses ${name}: one line, exit 2`, () => {
      const r = rnnlab(dir, ...args);
      expect(r.status, r.stderr).toBe(2);
      expect(isOneLineError(r.stderr), r.stderr).toBe(true);
      expect(r.stderr).toMatch(message);
    });
  }
});
