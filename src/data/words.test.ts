import { describe, expect, it } from "vitest";
import { EOS, UNK, WordCounter, WordEncoder, WordSplitter, WordVocab } from "./words.js";

const text = "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n";

function split(chunks: string[]): string[] {
  const out: string[] = [];
  const sp = new WordSplitter();
  for (const c of chunks) sp.add(c, (w) => out.push(w));
  const last = chunks.join("");
  sp.end((w) => out.push(w), last.length > 0, last.endsWith("\n"));
  return out;
}

describe("word tokens (PyTorch word_language_model style)", () => {
  it("splits lines at whitespace and ends each with <eos>, whatever the chunking", () => {
    const whole = split([text]);
    expect(whole.slice(0, 4)).toEqual(["First", "Citizen:", EOS, "Before"]);
    expect(whole.filter((w) => w === EOS)).toHaveLength(5); // one per line, the empty line too
    for (const size of [1, 2, 3, 7, 13]) {
      const chunks: string[] = [];
      for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
      expect(split(chunks)).toEqual(whole);
    }
    // a last line without a newline still ends with <eos>; tabs and CR count as spaces
    expect(split(["a\tb\r\nc"])).toEqual(["a", "b", EOS, "c", EOS]);
  });

  it("keeps the most frequent words up to the cap; the rest are <unk>", () => {
    const c = new WordCounter();
    c.add(text);
    c.finish();
    expect(c.count).toBe(split([text]).length);
    const v = c.vocab(5);
    // <unk>, <eos>, then by count (speak. x2... "Speak," once): ties by the word itself
    expect(v.tokens.slice(0, 2)).toEqual([UNK, EOS]);
    expect(v.size).toBe(5);
    const full = c.vocab(1000);
    expect(full.size).toBe(2 + new Set(split([text]).filter((w) => w !== EOS)).size);
    const enc = new WordEncoder(v, c.count);
    enc.add(text);
    enc.finish();
    expect(enc.length).toBe(c.count);
    const decoded = v.decode(enc.tokens);
    expect(decoded.split("\n")).toHaveLength(6);
    expect(decoded).toContain(UNK);
    // a full vocabulary decodes back to the text, up to whitespace
    const e2 = new WordEncoder(full, c.count);
    e2.add(text);
    e2.finish();
    expect(full.decode(e2.tokens)).toBe(text.replace(/ +/g, " "));
  });

  it("encodes a prime without adding <eos> to its open last line, and rejects bad vocabularies", () => {
    const v = new WordVocab([UNK, EOS, "the", "king"]);
    expect(Array.from(v.encode("the king\nthe queen"))).toEqual([2, 3, 1, 2, 0]);
    expect(Array.from(v.encode("\n"))).toEqual([1]);
    expect(v.piece(3, true)).toBe("king");
    expect(v.piece(3, false)).toBe(" king");
    expect(v.piece(1, false)).toBe("\n");
    expect(() => new WordVocab(["the", UNK, EOS])).toThrow(/first two tokens/);
    expect(() => new WordVocab([UNK, EOS, "a b"])).toThrow(/not a word/);
  });
});
