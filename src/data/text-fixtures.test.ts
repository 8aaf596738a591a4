// Runs every fixture in test/fixtures/text (made by tools/make_text_fixtures.py from Python), by
// its kind; a fixture of a kind this runner does not know fails. (The PyTorch parity runner reads
// test/fixtures/pytorch and test/fixtures/extra, not this folder.)
//
// kind "text_split": PyTorch's word_language_model data.py reading a file in text mode: Python's
// whitespace, its line ends, the tokens, the Dictionary (idx2word) and the ids. rnnlab reads the
// text in chunks of 1, 2, 3 and 7 UTF-16 units, of 1, 2, 3 and 7 UTF-8 bytes (through a streaming
// decoder, as files are read), and whole.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { EOS, isPythonSpace, PYTHON_WHITESPACE, UNK, WordCounter, WordEncoder, WordVocab } from "./words.js";

const DIR = fileURLToPath(new URL("../../test/fixtures/text", import.meta.url));
const SIZES = [1, 2, 3, 7];

interface TextSplitFixture {
  kind: "text_split";
  description: string;
  whitespace: number[];
  line_ends: number[];
  text: string;
  tokens: string[];
  idx2word: string[];
  ids: number[];
}

/** The text in chunks: of `size` UTF-16 units (a surrogate pair may be cut), or whole. */
function unitChunks(text: string, size: number | "whole"): string[] {
  if (size === "whole") return [text];
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** The text as a file is read: UTF-8 bytes in chunks of `size`, decoded as a stream (a byte order mark kept, as words need). */
function byteChunks(text: string, size: number): string[] {
  const bytes = new TextEncoder().encode(text);
  const dec = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  const out: string[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(dec.decode(bytes.subarray(i, i + size), { stream: true }));
  out.push(dec.decode());
  return out;
}

/** Counts then encodes chunks with a vocabulary (the two passes a file goes through). */
function encodeChunks(chunks: string[], vocab: WordVocab): { ids: number[]; count: number; counts: Map<string, number> } {
  const counter = new WordCounter(vocab.eos);
  for (const c of chunks) counter.add(c);
  counter.finish();
  const enc = new WordEncoder(vocab, counter.count);
  for (const c of chunks) enc.add(c);
  enc.finish();
  return { ids: Array.from(enc.tokens.subarray(0, enc.length)), count: counter.count, counts: counter.counts };
}

function textSplit(fx: TextSplitFixture): void {
  it("splits at exactly Python's whitespace (str.isspace), every UTF-16 code unit checked", () => {
    expect([...PYTHON_WHITESPACE]).toEqual(fx.whitespace);
    const ws = new Set(fx.whitespace);
    const wrong: string[] = [];
    for (let u = 0; u <= 0xffff; u++) if (isPythonSpace(u) !== ws.has(u)) wrong.push(u.toString(16));
    expect(wrong).toEqual([]);
    expect(isPythonSpace(0x200b)).toBe(false);
    expect(isPythonSpace(0xfeff)).toBe(false);
  });

  it("ends lines where a text-mode file does (\\n, \\r\\n, \\r), and only there", () => {
    const v = new WordVocab(["a", "b", EOS]);
    for (const c of fx.whitespace) {
      const ids = Array.from(encodeChunks([`a${String.fromCharCode(c)}b`], v).ids);
      expect(ids, `U+${c.toString(16)}`).toEqual(fx.line_ends.includes(c) ? [0, 2, 1, 2] : [0, 1, 2]);
    }
  });

  const vocab = new WordVocab(fx.idx2word);
  it("takes the Dictionary's idx2word as it is: ids as given, <eos> and <unk> found by name", () => {
    expect(vocab.tokens).toEqual(fx.idx2word);
    expect(vocab.eosId).toBe(fx.idx2word.indexOf(EOS));
    expect(vocab.unkId).toBe(fx.idx2word.indexOf(UNK)); // -1 when the text has no <unk>
    expect(vocab.unk).toBe(fx.idx2word.includes(UNK) ? UNK : null);
  });

  for (const size of [...SIZES, "whole" as const]) {
    it(`gives Python's tokens and the Dictionary's ids, in chunks of ${size === "whole" ? "the whole text" : `${size} UTF-16 units`}`, () => {
      const { ids, count, counts } = encodeChunks(unitChunks(fx.text, size), vocab);
      expect(ids).toEqual(fx.ids);
      expect(ids.map((i) => vocab.tokens[i])).toEqual(fx.tokens);
      expect(count).toBe(fx.tokens.length);
      const want = new Map<string, number>();
      for (const t of fx.tokens) want.set(t, (want.get(t) ?? 0) + 1);
      expect(counts).toEqual(want);
    });
  }
  for (const size of SIZES) {
    it(`gives the Dictionary's ids from UTF-8 bytes read ${size} at a time`, () => {
      expect(encodeChunks(byteChunks(fx.text, size), vocab).ids).toEqual(fx.ids);
    });
  }

  it("rnnlab's own vocabulary (<unk>, <eos>, then by frequency) gives the same tokens", () => {
    const counter = new WordCounter();
    counter.add(fx.text);
    counter.finish();
    const own = counter.vocab(10_000);
    expect(own.tokens.slice(0, 2)).toEqual([UNK, EOS]);
    expect(new Set(own.tokens)).toEqual(new Set([UNK, ...fx.idx2word]));
    const { ids } = encodeChunks([fx.text], own);
    expect(ids.map((i) => own.tokens[i])).toEqual(fx.tokens);
  });

  it("encodes the text as a prime (its open last line without <eos>) and decodes ids to a text that splits the same", () => {
    const last = fx.text.charCodeAt(fx.text.length - 1);
    const closed = last === 10 || last === 13;
    expect(Array.from(vocab.encode(fx.text))).toEqual(closed ? fx.ids : fx.ids.slice(0, -1));
    const decoded = vocab.decode(fx.ids);
    expect(encodeChunks([decoded], vocab).ids).toEqual(fx.ids);
  });
}

const RUNNERS: Record<string, (fx: never) => void> = { text_split: textSplit };

const files = readdirSync(DIR)
  .filter((f) => f.endsWith(".json"))
  .sort();

describe("text fixtures (tools/make_text_fixtures.py)", () => {
  it("has fixtures", () => expect(files.length).toBeGreaterThan(0));
  for (const file of files) {
    const fx = JSON.parse(readFileSync(join(DIR, file), "utf8")) as { kind: string; description?: string };
    describe(`${file} [${fx.kind}]: ${fx.description ?? ""}`, () => {
      const run = RUNNERS[fx.kind];
      if (!run) {
        it("has a runner for its kind", () => {
          throw new Error(`no runner for fixture kind "${fx.kind}" (known: ${Object.keys(RUNNERS).join(", ")})`);
        });
        return;
      }
      run(fx as never);
    });
  }
});
