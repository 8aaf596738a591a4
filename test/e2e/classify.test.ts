// `rnnlab classify` end to end, as a user runs it: the speaker data set from a slice of the
// embedded text, a classifier trained on an easy synthetic data set (JSON lines and CSV) that
// must beat the majority-class baseline by far, the report's format, and predict on inline
// text, a file and standard input.

import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel } from "../../src/train/model-file.js";
import { Rng } from "../../src/tensor/rng.js";
import { BIN, rnnlab, scratch } from "../helpers/cli.js";

const dir = scratch("rnnlab-classify-");
const LABELS = ["greeting", "question", "order"] as const;

/**
 * An easy data set: the label is told by the first letter (h greeting, w question, g order), then
 * noise. Unbalanced (half are greetings), so the majority-class baseline is about 50%.
 */
function synthetic(n: number, seed: number): { text: string; label: string }[] {
  const rng = new Rng(seed);
  const noise = "abcdefklmnoprstuy ";
  return Array.from({ length: n }, () => {
    const u = rng.uniform();
    const label = u < 0.5 ? LABELS[0] : u < 0.8 ? LABELS[1] : LABELS[2];
    const len = 3 + rng.int(10);
    let text = label === "greeting" ? "h" : label === "question" ? "w" : "g";
    for (let i = 0; i < len; i++) text += noise[rng.int(noise.length)];
    return { text, label };
  });
}

const SMALL = ["--hidden", "16", "--embed", "8", "--epochs", "8", "--batch", "16", "--lr", "0.01", "--seed", "3"];

beforeAll(() => {
  const rows = synthetic(400, 1);
  writeFileSync(join(dir, "easy.jsonl"), `${rows.map((r) => JSON.stringify(r)).join("\n")}\n`);
  // the same as CSV, with RFC 4180 quoting: commas, quotes and a line break inside a text
  const csv = ["text,label", ...rows.map((r) => `"${r.text.replace(/ /, ', "q"\n').replace(/"/g, '""')}",${r.label}`)];
  writeFileSync(join(dir, "easy.csv"), `${csv.join("\r\n")}\r\n`);
  // a slice of tiny Shakespeare, whole speeches
  const text = readFileSync(new URL("../../data/tinyshakespeare.txt", import.meta.url), "utf8");
  writeFileSync(join(dir, "slice.txt"), text.slice(0, text.indexOf("\n\n", 30000) + 2));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("rnnlab classify", () => {
  it("dataset speakers: JSON lines of a play's lines and their speakers, grouped by speech", () => {
    const r = rnnlab(dir, "classify", "dataset", "speakers", "--text", "slice.txt", "--speakers", "3", "--out", "speakers.jsonl");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^wrote speakers\.jsonl: [\d,]+ lines of 3 speakers from \d+ speeches of slice\.txt; "group" is the speech\n/);
    const rows = readFileSync(join(dir, "speakers.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(new Set(rows.map((x) => x.label)).size).toBe(3);
    for (const x of rows) expect(Object.keys(x)).toEqual(["text", "label", "group"]);
    // and it trains (one epoch: the format, not the accuracy)
    const t = rnnlab(
      dir,
      "classify",
      "train",
      "speakers.jsonl",
      "--tokens",
      "words",
      "--lowercase",
      "--split-punctuation",
      "--epochs",
      "1",
      "--out",
      "sp.safetensors",
    );
    expect(t.status, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/split by group, per label/);
    expect(t.stdout).toMatch(/^validation accuracy \d+\.\d% \(majority class \d+\.\d%\) on \d+ examples$/m);
  });

  it("train: beats the majority class by far on an easy data set, and reports precision, recall and the confusion matrix", () => {
    const r = rnnlab(dir, "classify", "train", "easy.jsonl", ...SMALL, "--out", "easy.safetensors");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    const m = /^validation accuracy (\d+\.\d)% \(majority class (\d+\.\d)%\) on (\d+) examples$/m.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    const [accuracy, baseline, n] = [Number(m![1]), Number(m![2]), Number(m![3])];
    expect(n).toBe(40); // 10% of 400, per label
    expect(baseline).toBeGreaterThan(40);
    expect(baseline).toBeLessThan(60);
    expect(accuracy).toBeGreaterThanOrEqual(95);
    expect(r.stdout).toMatch(/^rnnlab classify: easy\.jsonl, 400 examples of 3 labels \(360 train, 40 validation, split by example, per label\)$/m);
    expect(r.stdout).toMatch(/^ {4}label +precision +recall +examples$/m);
    for (const [i, label] of ["greeting", "order", "question"].entries())
      expect(r.stdout).toMatch(new RegExp(`^ ${i}  ${label} +\\d+\\.\\d% +\\d+\\.\\d% +\\d+$`, "m"));
    expect(r.stdout).toMatch(/^confusion matrix \(rows: true label, columns: predicted, numbered as above\)\n {4} +0 +1 +2\n 0 +\d+ +\d+ +\d+\n 1 /m);
    expect(r.stdout).toMatch(/^epoch 8\/8: train loss \d\.\d{3} nats, validation loss \d\.\d{3} nats, accuracy \d+\.\d%/m);
    const saved = loadModel(readFileSync(join(dir, "easy.safetensors")));
    if (saved.kind !== "sequence-classifier") throw new Error(saved.kind);
    expect(saved.labels).toEqual(["greeting", "order", "question"]);
    expect(saved.vocab?.kind).toBe("chars");
    expect(saved.config.vocabSize).toBe(saved.vocab?.size);
  });

  it("train: a CSV file with quoted commas, quotes and line breaks learns the same", () => {
    const r = rnnlab(dir, "classify", "train", "easy.csv", ...SMALL, "--out", "csv.safetensors");
    expect(r.status, r.stderr).toBe(0);
    const m = /^validation accuracy (\d+\.\d)% \(majority class (\d+\.\d)%\)/m.exec(r.stdout);
    expect(Number(m![1])).toBeGreaterThanOrEqual(95);
  });

  it("predict: one label per line, from inline text, a file and standard input", () => {
    const inline = rnnlab(dir, "classify", "predict", "--checkpoint", "easy.safetensors", "hello there");
    expect(inline.status, inline.stderr).toBe(0);
    expect(inline.stdout).toBe("greeting\n");
    // unknown characters are read as the unknown character; an empty line gets an empty answer
    writeFileSync(join(dir, "lines.txt"), "what is it\ngo now\n\nhi 😀 there\n");
    const file = rnnlab(dir, "classify", "predict", "--checkpoint", "easy.safetensors", "lines.txt");
    expect(file.status, file.stderr).toBe(0);
    expect(file.stdout).toBe("question\norder\n\ngreeting\n");
    const stdin = spawnSync(process.execPath, [BIN, "classify", "predict", "--checkpoint", "easy.safetensors", "-"], {
      cwd: dir,
      input: "go away\nwho\n",
      encoding: "utf8",
    });
    expect(stdin.status, stdin.stderr).toBe(0);
    expect(stdin.stdout).toBe("order\nquestion\n");
  });
});
