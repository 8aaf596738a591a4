// `rnnlab import` in process (test/e2e/import-pytorch.test.ts runs the built CLI on PyTorch's own
// files): word vocabularies in any order and as Python writes them, the special tokens, tied
// weights saved once by safetensors' save_model, and pickles refused with the way out.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { WordVocab } from "../data/words.js";
import { encodeSafetensors } from "../io/safetensors.js";
import { stateDictOf } from "../io/statedict.js";
import { LanguageModel } from "../nn/language-model.js";
import { readCheckpoint } from "../node/checkpoint.js";
import { InputError } from "../node/files.js";
import { modelFromSnapshot } from "../train/run.js";
import { importCommand } from "./import.js";

/** The word_language_model Dictionary of "the king is dead\nlong live the king\n": first appearance, <eos> after the first line. */
const IDX2WORD = ["the", "king", "is", "dead", "<eos>", "long", "live"];

let dir: string;
let printed: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "rnnlab-import-"));
  printed = "";
  vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => {
    printed += String(s);
    return true;
  });
});
afterEach(() => vi.restoreAllMocks());

/** Runs `rnnlab import ...args` in process, in the scratch folder's paths. */
async function runImport(...args: string[]): Promise<void> {
  await importCommand()
    .exitOverride()
    .parseAsync(
      args.map((a) => (/\.(safetensors|txt|json|pt|pth|bin|data)$/.test(a) ? join(dir, a) : a)),
      { from: "user" },
    );
}

/** The error `rnnlab import ...args` stops with (an InputError: one line, exit status 2). */
async function refusal(...args: string[]): Promise<string> {
  const e = await runImport(...args).then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(InputError);
  return (e as Error).message;
}

/**
 * A word_language_model state dict (encoder, rnn, decoder) of a model over IDX2WORD, as a
 * safetensors file; tied: saved as safetensors' save_model saves it (decoder.weight kept,
 * encoder.weight dropped and named in the metadata).
 */
function wlmFile(name: string, tied: boolean): LanguageModel {
  const m = new LanguageModel({ vocabSize: IDX2WORD.length, embedSize: 6, hiddenSize: 6, cell: "lstm", tieWeights: tied, seed: 3 });
  const file: Record<string, { shape: readonly number[]; data: Float32Array }> = {};
  for (const [k, t] of Object.entries(stateDictOf(m))) {
    const renamed = k.replace(/^embedding\./, "encoder.").replace(/^head\./, "decoder.");
    if (!(tied && renamed === "encoder.weight")) file[renamed] = { shape: t.shape, data: t.data as Float32Array };
  }
  writeFileSync(join(dir, name), encodeSafetensors(file, tied ? { "encoder.weight": "decoder.weight" } : {}));
  return m;
}

describe("rnnlab import: word vocabularies as PyTorch users have them", () => {
  it("takes the Dictionary's idx2word, one token per line, unchanged: ids as given, <eos> found by name, no <unk>", async () => {
    const m = wlmFile("wlm.safetensors", true);
    writeFileSync(join(dir, "vocab.txt"), IDX2WORD.join("\n")); // "\n".join(corpus.dictionary.idx2word)
    await runImport("wlm.safetensors", "--vocab", "vocab.txt", "--out", "ck.safetensors");
    expect(printed).toMatch(/LSTM language model, 1 layer, hidden 6, embedding 6, 7 words, tied weights/);
    expect(printed).toMatch(/encoder\.weight = decoder\.weight \(saved once by save_model\)/);
    expect(printed).toMatch(
      /vocabulary: .*vocab\.txt read as one token per line .*: 7 words in the order given; line end "<eos>" is id 4; no unknown-word token/,
    );
    const snap = readCheckpoint(join(dir, "ck.safetensors"));
    expect(JSON.parse(snap.metadata.vocab)).toEqual(IDX2WORD);
    expect(snap.metadata.tokens).toBe("words");
    expect(snap.metadata.unk_token).toBeUndefined(); // the defaults need no metadata
    const { model, vocab } = modelFromSnapshot(snap);
    expect([(vocab as WordVocab).eosId, (vocab as WordVocab).unkId]).toEqual([4, -1]);
    expect(model.head.weight).toBe(model.embedding.weight);
    expect(Array.from(model.embedding.weight.value)).toEqual(Array.from(m.embedding.weight.value));
    expect(Array.from(vocab.encode("the king is dead\nlong live"))).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it("reads a vocabulary file with a final line break and \\r\\n, and with --config tokens words whatever its size would say", async () => {
    wlmFile("wlm.safetensors", false);
    writeFileSync(join(dir, "vocab-crlf.txt"), `${IDX2WORD.join("\r\n")}\r\n`);
    await runImport("wlm.safetensors", "--vocab", "vocab-crlf.txt", "--out", "a.safetensors");
    expect(JSON.parse(readCheckpoint(join(dir, "a.safetensors")).metadata.vocab)).toEqual(IDX2WORD);
    await runImport("wlm.safetensors", "--vocab", "vocab-crlf.txt", "--config", '{"tokens":"words"}', "--out", "b.safetensors");
    expect(JSON.parse(readCheckpoint(join(dir, "b.safetensors")).metadata.vocab)).toEqual(IDX2WORD);
    // a JSON list holding <eos> and words is a word vocabulary too
    await runImport("wlm.safetensors", "--vocab", JSON.stringify(IDX2WORD), "--out", "c.safetensors");
    expect(readCheckpoint(join(dir, "c.safetensors")).metadata.tokens).toBe("words");
  });

  it("names the end-of-line and unknown-word tokens with --config, and keeps them in the checkpoint", async () => {
    wlmFile("wlm.safetensors", false);
    const renamed = IDX2WORD.map((w) => (w === "<eos>" ? "</s>" : w));
    writeFileSync(join(dir, "vocab-s.txt"), renamed.join("\n"));
    expect(await refusal("wlm.safetensors", "--vocab", "vocab-s.txt", "--config", '{"tokens":"words"}', "--out", "x.safetensors")).toMatch(
      /the word vocabulary has no end-of-line token "<eos>", .*name it with --config '\{"eos":"TOKEN"\}'/,
    );
    await runImport("wlm.safetensors", "--vocab", "vocab-s.txt", "--config", '{"eos":"</s>","unk":"dead"}', "--out", "s.safetensors");
    const snap = readCheckpoint(join(dir, "s.safetensors"));
    expect([snap.metadata.eos_token, snap.metadata.unk_token]).toEqual(["</s>", "dead"]);
    const vocab = modelFromSnapshot(snap).vocab as WordVocab;
    expect([vocab.eosId, vocab.unkId]).toEqual([4, 3]);
    expect(Array.from(vocab.encode("the jester\n"))).toEqual([0, 3, 4]);
    writeFileSync(join(dir, "vocab.txt"), IDX2WORD.join("\n"));
    expect(await refusal("wlm.safetensors", "--vocab", "vocab.txt", "--config", '{"unk":"<oov>"}', "--out", "x.safetensors")).toMatch(
      /the word vocabulary: the unknown-word token "<oov>" is not among the 7 tokens/,
    );
    expect(await refusal("wlm.safetensors", "--vocab", "vocab.txt", "--config", '{"tokens":"chars","eos":"</s>"}', "--out", "x.safetensors")).toMatch(
      /"unk" and "eos" name tokens of a word vocabulary/,
    );
    expect(await refusal("wlm.safetensors", "--vocab", "vocab.txt", "--config", '{"unk":""}', "--out", "x.safetensors")).toMatch(/"unk" must be a token/);
  });

  it("says which line of a word vocabulary file is not one token", async () => {
    wlmFile("wlm.safetensors", false);
    writeFileSync(join(dir, "bad.txt"), ["the", "king", "is dead", "<eos>", "long", "live", "x"].join("\n"));
    expect(await refusal("wlm.safetensors", "--vocab", "bad.txt", "--config", '{"tokens":"words"}', "--out", "x.safetensors")).toMatch(
      /--vocab .*bad\.txt: line 3 \("is dead"\) is not one token .*one token per line, in id order/,
    );
    // without "tokens", a file whose lines do not fit is read as characters, as before, and the sizes disagree
    expect(await refusal("wlm.safetensors", "--vocab", "bad.txt", "--out", "x.safetensors")).toMatch(
      /the vocabulary has \d+ tokens but embedding\.weight has 7 rows/,
    );
  });
});

describe("rnnlab import: files it cannot read", () => {
  const how = [/save_file\(model\.state_dict\(\), "model\.safetensors"\)/, /save_model\(model, "model\.safetensors"\)/, /save_file refuses shared tensors/];

  it("refuses torch.save pickles, by their first bytes or by their name, saying how to write safetensors", async () => {
    writeFileSync(join(dir, "model.pt"), Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0]));
    writeFileSync(join(dir, "weights.data"), readFileSync(join(dir, "model.pt")));
    writeFileSync(join(dir, "legacy.bin"), Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8]));
    writeFileSync(join(dir, "odd.pth"), "not a pickle either, but named like one");
    for (const [file, what] of [
      ["model.pt", /model\.pt is a PyTorch pickle \(torch\.save, a zip archive\), which rnnlab cannot read/],
      ["weights.data", /weights\.data is a PyTorch pickle/],
      ["legacy.bin", /legacy\.bin is a Python pickle \(torch\.save's legacy format\)/],
      ["odd.pth", /odd\.pth is not safetensors but, by its name \(\.pth\), a PyTorch pickle/],
    ] as const) {
      const message = await refusal(file);
      expect(message).toMatch(what);
      for (const h of how) expect(message).toMatch(h);
      expect(message).toMatch(new RegExp(`torch\\.load\\("${file.replace(".", "\\.")}", map_location="cpu", weights_only=False\\)`));
      expect(message).not.toMatch(/\n/);
      expect(message.length).toBeLessThan(560); // the error boundary cuts lines at 600 characters
    }
  });

  it("reads a safetensors file whatever its name, and calls other damaged files what they are", async () => {
    wlmFile("wlm.safetensors", false);
    writeFileSync(join(dir, "model.bin"), readFileSync(join(dir, "wlm.safetensors")));
    writeFileSync(join(dir, "vocab.txt"), IDX2WORD.join("\n"));
    await runImport("model.bin", "--vocab", "vocab.txt", "--out", "bin.safetensors");
    expect(printed).toMatch(/bin\.safetensors: LSTM language model/);
    writeFileSync(join(dir, "text.txt"), "this is not a model\n".repeat(20));
    expect(await refusal("text.txt")).toMatch(/is not a valid safetensors file .*the file is damaged or not safetensors/);
  });
});
