// `rnnlab probe context` and `rnnlab probe saliency` end to end: on a tiny LSTM trained by the
// CLI (the run's validation split as the default text) and on a word model saved from code; the
// table, the JSON's shape, the plot and the HTML page; the same numbers for the same seed; and
// one line with exit status 2 for a user's mistakes.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { WordVocab } from "../../src/data/words.js";
import { LanguageModel } from "../../src/nn/language-model.js";
import { save } from "../../src/node/model-files.js";
import { isOneLineError, rnnlab, scratch } from "../helpers/cli.js";

const LECTURE = "Jane walked into the room. John walked in too. It was late in the day. Jane said hi to John.\n";
const PREFIX = "Jane walked into the room. John walked in too. It was late in the day. Jane said hi to";
const TINY = ["--hidden", "16", "--embed", "8", "--batch", "4", "--seq", "16", "--steps", "30", "--eval-every", "30", "--sample-length", "0", "--threads", "1"];
const CKPT = "run/checkpoint.safetensors";

let dir: string;
beforeAll(() => {
  dir = scratch("rnnlab-probe-");
  writeFileSync(join(dir, "jane.txt"), LECTURE.repeat(30));
  const r = rnnlab(dir, "train", "jane.txt", "--cell", "lstm", ...TINY, "--out", "run");
  expect(r.status, r.stderr).toBe(0);
});

function readJson(name: string) {
  return JSON.parse(readFileSync(join(dir, name), "utf8"));
}

describe("rnnlab probe context", () => {
  it("on the run's validation split: a table, the JSON and an SVG plot; the same numbers for the same seed", () => {
    const args = ["probe", "context", "--checkpoint", CKPT, "--positions", "12", "--max-distance", "64"];
    const r = rnnlab(dir, ...args, "--json", "a.json", "--plot", "a.svg");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("jane.txt, validation split");
    expect(r.stdout).toContain("the 64 characters before each target (--max-distance), from the zero state");
    expect(r.stdout).toMatch(/all targets: drop \d+.*, shuffle \d+.*, replace \d+/);
    expect(r.stdout.trimEnd().split("\n").slice(-2)).toEqual(["a.json", "a.svg"]);
    const j = readJson("a.json");
    expect(j.distances).toEqual([1, 2, 4, 8, 16, 32, 64]);
    expect(j.positions).toHaveLength(12);
    expect(j.maxDistance).toBe(64);
    expect(j.unit).toBe("characters");
    expect(j.fullContext).toBe("the 64 characters before each target, from the model's zero state");
    expect(j.curves.map((c: { perturbation: string }) => c.perturbation)).toEqual(["drop", "shuffle", "replace"]);
    for (const c of j.curves) {
      expect(c.loss).toHaveLength(7);
      expect(c.loss[6]).toBe(j.fullLoss); // d = D is the full context
      expect(j.distances).toContain(c.effective);
      expect(c.byClass.map((k: { name: string }) => k.name)).toEqual(["letters", "spaces, punctuation and digits"]);
    }
    expect(j.effectiveContext).toEqual(Object.fromEntries(j.curves.map((c: { perturbation: string; effective: number }) => [c.perturbation, c.effective])));
    expect(readFileSync(join(dir, "a.svg"), "utf8")).toMatch(/^<svg[\s\S]*How far back does the model look\?[\s\S]*<\/svg>\s*$/);
    // the same seed, the same file; another seed, other positions
    expect(rnnlab(dir, ...args, "--json", "b.json").status).toBe(0);
    expect(readFileSync(join(dir, "b.json"), "utf8")).toBe(readFileSync(join(dir, "a.json"), "utf8"));
    expect(rnnlab(dir, ...args, "--seed", "2", "--json", "c.json").status).toBe(0);
    expect(readJson("c.json").positions).not.toEqual(j.positions);
  });

  it("on a given text, a PNG plot; without --max-distance a short text sets the longest distance", () => {
    writeFileSync(join(dir, "short.txt"), LECTURE.repeat(3)); // 279 characters
    const r = rnnlab(dir, "probe", "context", "short.txt", "--checkpoint", CKPT, "--positions", "8", "--plot", "p.png", "--json", "p.json");
    expect(r.status, r.stderr).toBe(0);
    expect([...readFileSync(join(dir, "p.png")).subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    const j = readJson("p.json");
    expect(j.maxDistance).toBe(279 - 8); // what 279 characters allow with 8 positions, below the default 1024
    expect(j.maxDistanceFrom).toBe("what 279 characters allow with 8 positions");
    expect(j.distances).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 271]);
  });
});

describe("rnnlab probe saliency", () => {
  it("writes a self-contained HTML page and JSON: both measures per character, the top next characters", () => {
    const r = rnnlab(dir, "probe", "saliency", "--checkpoint", CKPT, "--text", PREFIX, "--top", "5", "--out", "s.html", "--json", "s.json");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/explained: ".+", p = [\d.]+ \(log p = -[\d.]+\), the likeliest next token/);
    expect(r.stdout).toContain('replaced by " " (default: a space)');
    const j = readJson("s.json");
    expect(j.tokens.join("")).toBe(PREFIX);
    expect(j.gradient).toHaveLength(PREFIX.length);
    expect(j.occlusion).toHaveLength(PREFIX.length);
    expect(j.top).toHaveLength(5);
    expect(j.top[0].token).toBe(j.target);
    expect(j.replacementToken).toBe(" ");
    // a space replaced by a space changes nothing
    expect(j.occlusion[PREFIX.indexOf(" ")]).toBeCloseTo(0, 5);
    const html = readFileSync(join(dir, "s.html"), "utf8");
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(html).not.toMatch(/<script|https?:|<link\b/i);
    expect((html.match(/class="tok"/g) ?? []).length).toBe(2 * PREFIX.length);
    // another target
    const t = rnnlab(dir, "probe", "saliency", "--checkpoint", CKPT, "--text", PREFIX, "--target", "J", "--out", "t.html", "--json", "t.json");
    expect(t.status, t.stderr).toBe(0);
    expect(readJson("t.json").targetToken).toBe("J");
  });

  it("a word model saved from code: words it lacks are refused, its own words explained with <unk> as the stand-in", () => {
    const vocab = new WordVocab(["<unk>", "<eos>", ...new Set(PREFIX.split(" ")), "John."]);
    const lm = new LanguageModel({ vocabSize: vocab.size, embedSize: 6, hiddenSize: 8, cell: "gru", seed: 2 });
    save(join(dir, "words.safetensors"), lm, { vocab });
    const bad = rnnlab(dir, "probe", "saliency", "--checkpoint", "words.safetensors", "--text", "Jane said hello to");
    expect(bad.status).toBe(2);
    expect(isOneLineError(bad.stderr), bad.stderr).toBe(true);
    expect(bad.stderr).toMatch(/--text has words the model's vocabulary lacks: "hello"/);
    const r = rnnlab(dir, "probe", "saliency", "--checkpoint", "words.safetensors", "--text", PREFIX, "--out", "w.html", "--json", "w.json");
    expect(r.status, r.stderr).toBe(0);
    const j = readJson("w.json");
    expect(j.unit).toBe("words");
    expect(j.tokens).toEqual(PREFIX.split(" "));
    expect(j.replacementToken).toBe("<unk>");
    // no run text in a saved model: the context probe takes a file
    const none = rnnlab(dir, "probe", "context", "--checkpoint", "words.safetensors");
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/does not name its training text; give a text to probe: npx rnnlab probe context --checkpoint words\.safetensors FILE/);
    writeFileSync(join(dir, "words.txt"), `${PREFIX} John.\n`.repeat(20));
    const c = rnnlab(
      dir,
      "probe",
      "context",
      "words.txt",
      "--checkpoint",
      "words.safetensors",
      "--positions",
      "4",
      "--max-distance",
      "16",
      "--json",
      "wc.json",
    );
    expect(c.status, c.stderr).toBe(0);
    expect(readJson("wc.json").curves[0].byClass[0].name).toMatch(/^frequent words/);
  });
});

describe("rnnlab probe: mistakes are one line and exit status 2", () => {
  it.each([
    [["context", "--checkpoint", "missing.safetensors"], /missing\.safetensors/],
    [["context", "nope.txt", "--checkpoint", CKPT], /nope\.txt does not exist/],
    [["context", "--checkpoint", CKPT, "--max-distance", "5000"], /too few for a context of 5,000 \(--max-distance\)/],
    [["context", "--checkpoint", CKPT, "--positions", "0"], /--positions/],
    [["context", "--checkpoint", CKPT, "--json", CKPT], /is the input file/],
    [["context", "--checkpoint", CKPT, "--plot", "plot.pdf"], /--plot plot\.pdf: give a file ending in \.svg or \.png/],
    [["saliency", "--checkpoint", CKPT, "--text", "Jane said hi to Ω"], /--text has characters the model's vocabulary lacks: "Ω"/],
    [["saliency", "--checkpoint", CKPT, "--text", "Jane", "--target", "Q"], /--target "Q" is not one of the model's characters/],
    [["saliency", "--checkpoint", CKPT, "--text", "Jane", "--out", "x.html", "--json", "x.html"], /name the same file/],
  ] as [string[], RegExp][])("probe %j", (args, message) => {
    const r = rnnlab(dir, "probe", ...args);
    expect(r.status, r.stderr).toBe(2);
    expect(isOneLineError(r.stderr), r.stderr).toBe(true);
    expect(r.stderr).toMatch(message);
  });
});
