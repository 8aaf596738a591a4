// Models saved from code are checkpoints the CLI takes: `save` (rnnlab/node) writes a language
// model that rnnlab sample, eval, diagnose and export read as they read rnnlab train's; a
// checkpoint of rnnlab train loads back in code with `load`; a classifier or a bare layer given
// to a language-model command is one line and exit status 2.

import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { encodeText } from "../../src/data/corpus.js";
import { LanguageModel } from "../../src/nn/language-model.js";
import { LSTM } from "../../src/nn/recurrent.js";
import { SequenceClassifier } from "../../src/nn/sequence-classifier.js";
import { load, save } from "../../src/node/model-files.js";
import { isOneLineError, rnnlab, scratch } from "../helpers/cli.js";

const TEXT = "Jane walked into the room. John walked in too. It was late in the day. Jane said hi to John.\n".repeat(30);

let dir: string;
beforeAll(() => {
  dir = scratch("rnnlab-model-files-");
  writeFileSync(join(dir, "jane.txt"), TEXT);
});

describe("models saved from code, used by the CLI", () => {
  it("a language model saved with save() samples, evaluates, diagnoses and exports", () => {
    const { vocab } = encodeText(TEXT);
    const lm = new LanguageModel({ vocabSize: vocab.size, embedSize: 8, hiddenSize: 16, cell: "gru", seed: 5 });
    const file = join(dir, "lm.safetensors");
    save(file, lm, { vocab, config: { train: { batch: 4, k1: 16 } } });
    const s = rnnlab(dir, "sample", "--checkpoint", file, "--length", "40", "--seed", "1");
    expect(s.status, s.stderr).toBe(0);
    expect([...s.stdout.trim()].every((c) => vocab.has(c) || c === "\n")).toBe(true);
    const e = rnnlab(dir, "eval", "jane.txt", "--checkpoint", file);
    expect(e.status, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/nats\/char/);
    const d = rnnlab(dir, "diagnose", "--checkpoint", file, "--text", "jane.txt", "--out", "report.html");
    expect(d.status, d.stderr).toBe(0);
    const x = rnnlab(dir, "export", "--checkpoint", file, "--out", "lm.onnx", "--format", "onnx");
    expect(x.status, x.stderr).toBe(0);
    expect(existsSync(join(dir, "lm.onnx"))).toBe(true);
  });

  it("a checkpoint of rnnlab train loads in code with load()", () => {
    const r = rnnlab(
      dir,
      "train",
      "jane.txt",
      "--cell",
      "lstm",
      "--hidden",
      "12",
      "--embed",
      "6",
      "--batch",
      "4",
      "--seq",
      "16",
      "--steps",
      "5",
      "--sample-length",
      "0",
      "--threads",
      "1",
      "--out",
      "run",
    );
    expect(r.status, r.stderr).toBe(0);
    const saved = load(join(dir, "run", "checkpoint.safetensors"));
    expect(saved.kind).toBe("language-model");
    if (saved.kind === "language-model") expect(saved.config.model).toMatchObject({ cell: "lstm", hiddenSize: 12, embedSize: 6 });
  });

  it("a classifier or a bare layer given to a language-model command is one line and exit status 2", () => {
    save(join(dir, "clf.safetensors"), new SequenceClassifier({ inputSize: 2, hiddenSize: 3, numClasses: 2, seed: 1 }));
    save(join(dir, "lstm.safetensors"), new LSTM({ inputSize: 2, hiddenSize: 3, seed: 1 }));
    for (const [file, what] of [
      ["clf.safetensors", /sequence classifier.*rnnlab classify predict/],
      ["lstm.safetensors", /recurrent.*loadModel/],
    ] as const) {
      const s = rnnlab(dir, "sample", "--checkpoint", file);
      expect(s.status).toBe(2);
      expect(isOneLineError(s.stderr), s.stderr).toBe(true);
      expect(s.stderr).toMatch(what);
    }
  });

  it("load() of a file that is not a model says so in one InputError naming it", () => {
    writeFileSync(join(dir, "junk.safetensors"), "not a model");
    expect(() => load(join(dir, "junk.safetensors"))).toThrow(/junk\.safetensors cannot be loaded: not a safetensors file/);
    expect(() => load(join(dir, "missing.safetensors"))).toThrow(/missing\.safetensors/);
  });
});
