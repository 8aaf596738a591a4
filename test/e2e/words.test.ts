// Word-level language models: `rnnlab train --tokens words`, then sample and eval, as a user would.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isOneLineError, rnnlab, scratch } from "../helpers/cli.js";

const lines = [
  "the king is dead , long live the king",
  "the queen is in the garden",
  "a horse , a horse , my kingdom for a horse",
  "to be or not to be",
  "now is the winter of our discontent",
  "all the world is a stage",
];

describe("rnnlab train --tokens words", () => {
  it("trains on words with a capped vocabulary, reports perplexity, samples words, evaluates and resumes", () => {
    const dir = scratch();
    const text = join(dir, "words.txt");
    writeFileSync(text, `${Array.from({ length: 200 }, (_, i) => lines[(i * 7) % lines.length]).join("\n")}\n`);
    const common = ["--cell", "gru", "--hidden", "24", "--embed", "16", "--batch", "4", "--seq", "8", "--sample-length", "12", "--threads", "1"];
    const r = rnnlab(dir, "train", text, "--tokens", "words", "--vocab-size", "20", ...common, "--steps", "60", "--eval-every", "30", "--out", "run");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/words and line ends \([\d,]+ train, [\d,]+ validation\), vocabulary 20 with <unk> and <eos>/m);
    expect(r.stdout).toMatch(/val \d+\.\d+ nats \(ppl \d+\.\d\)/);
    expect(r.stdout).toMatch(/validation \d+\.\d+ nats\/word \(perplexity \d+\.\d\)/);
    const m = readFileSync(join(dir, "run", "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(m[0].ppl).toBeCloseTo(Math.exp(m[0].loss), 9);
    expect(m[0].bpc).toBeUndefined();
    // the sample is words of the vocabulary (and <unk>), separated by spaces and line breaks
    const s = rnnlab(dir, "sample", "--checkpoint", join("run", "checkpoint.safetensors"), "--length", "40", "--prime", "the king");
    expect(s.status, s.stderr).toBe(0);
    expect(s.stdout.startsWith("the king")).toBe(true);
    const words = s.stdout.split(/\s+/).filter(Boolean);
    expect(words.length).toBeGreaterThan(10);
    const known = new Set([...lines.join(" ").split(" "), "<unk>"]);
    expect(words.every((w) => known.has(w))).toBe(true);
    const e = rnnlab(dir, "eval", "--checkpoint", join("run", "checkpoint.safetensors"), text);
    expect(e.status, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/nats\/word, perplexity \d+\.\d\d over [\d,]+ of its [\d,]+ words and line ends/);
    const res = rnnlab(dir, "train", text, "--out", "run", "--resume", "--steps", "80", "--threads", "1");
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/resuming at step 60/);
    const bad = rnnlab(dir, "train", text, "--out", "run", "--resume", "--steps", "90", "--tokens", "chars");
    expect(bad.status).toBe(2);
    expect(isOneLineError(bad.stderr)).toBe(true);
  }, 120_000);

  it("--vocab-size without --tokens words is a mistake", () => {
    const dir = scratch();
    const r = rnnlab(dir, "train", "--vocab-size", "100", "--steps", "1");
    expect(r.status).toBe(2);
    expect(isOneLineError(r.stderr)).toBe(true);
    expect(r.stderr).toMatch(/--tokens words/);
  });
});
