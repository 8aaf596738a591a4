import { describe, expect, it } from "vitest";
import {
  EOS,
  UNK,
  UnknownWordError,
  WordCounter,
  WordEncoder,
  WordSplitter,
  WordVocab,
  type WordVocabOptions,
  wordVocabMetadata,
  wordVocabOptionsOf,
} from "./words.js";

const text = "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n";

function split(chunks: string[]): string[] {
  const out: string[] = [];
  const sp = new WordSplitter();
  for (const c of chunks) sp.add(c, (w) => out.push(w));
  const last = chunks.join("");
  sp.end((w) => out.push(w), last.length > 0, /[\n\r]$/.test(last));
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
    expect(() => new WordVocab([UNK, EOS, "a b"])).toThrow(/token 2 \("a b"\) is not a word/);
    expect(() => new WordVocab([UNK, EOS, ""])).toThrow(/not a word/);
    expect(() => new WordVocab([UNK, EOS, "a", "a"])).toThrow(/distinct; "a" is token 2 and token 3/);
  });

  it("takes the tokens in any order, finding <unk> and <eos> by name (ids exactly as given)", () => {
    // PyTorch's word_language_model Dictionary of "the king\nthe queen\n": order of first appearance
    const v = new WordVocab(["the", "king", EOS, "queen"]);
    expect([v.eosId, v.unkId, v.unk, v.eos]).toEqual([2, -1, null, EOS]);
    expect(Array.from(v.encode("the king\nthe queen\n"))).toEqual([0, 1, 2, 0, 3, 2]);
    expect(v.decode([0, 1, 2, 0, 3])).toBe("the king\nthe queen");
    expect(v.piece(2, false)).toBe("\n");
    expect(v.id(EOS)).toBe(2);
    // no unknown token: a word outside the vocabulary is an error naming it and its line
    expect(() => v.encode("the king\nthe jester")).toThrow(UnknownWordError);
    expect(() => v.encode("the king\nthe jester")).toThrow(/line 2: the word "jester" is not in the vocabulary, which has no unknown token/);
    expect(() => v.wordId("jester")).toThrow(/"jester"/);
    // <unk> anywhere stands for the words outside
    const u = new WordVocab(["the", EOS, UNK, "king"]);
    expect([u.eosId, u.unkId]).toEqual([1, 2]);
    expect(Array.from(u.encode("the jester\n"))).toEqual([0, 2, 1]);
    // an old checkpoint's order (<unk> 0, <eos> 1) means what it always meant
    const old = new WordVocab([UNK, EOS, "the"]);
    expect([old.unkId, old.eosId]).toEqual([0, 1]);
    expect(Array.from(old.encode("the x\n"))).toEqual([2, 0, 1]);
  });

  it("takes the special tokens as options; the end-of-line token must exist", () => {
    const v = new WordVocab(["</s>", "a", "[UNK]"], { unk: "[UNK]", eos: "</s>" });
    expect([v.eosId, v.unkId]).toEqual([0, 2]);
    expect(Array.from(v.encode("a b\na"))).toEqual([1, 2, 0, 1]);
    expect(v.decode([1, 0, 1])).toBe("a\na");
    expect(v.id(EOS)).toBe(0); // EOS names the line end whatever its spelling (sample's line breaks)
    expect(v.id(UNK)).toBe(2);
    // a literal "<eos>" in the text is a word like any other when the line end is spelled otherwise
    expect(Array.from(v.encode("<eos>"))).toEqual([2]);
    expect(() => new WordVocab(["a", "b"])).toThrow(/end-of-line token "<eos>" is not among the 2 tokens/);
    expect(() => new WordVocab(["a", EOS], { eos: "</s>" })).toThrow(/end-of-line token "<\/s>"/);
    expect(() => new WordVocab(["a", EOS], { unk: "<oov>" })).toThrow(/unknown-word token "<oov>" is not among/);
    expect(() => new WordVocab([UNK, EOS], { unk: EOS })).toThrow(/both/);
    expect(() => new WordVocab([EOS], { bos: "<s>" } as never)).toThrow(/unknown option "bos"/);
    // unk: null refuses unknown words although <unk> is there
    const strict = new WordVocab([UNK, EOS, "a"], { unk: null });
    expect(() => strict.encode("b")).toThrow(UnknownWordError);
  });

  it("writes and reads the special tokens in metadata only when they are not the defaults", () => {
    for (const [tokens, options, meta] of [
      [[UNK, EOS, "a"], {}, {}],
      [["a", EOS], {}, {}],
      [[UNK, EOS, "a"], { unk: null }, { unk_token: "" }],
      [["</s>", "a", "[UNK]"], { unk: "[UNK]", eos: "</s>" }, { unk_token: "[UNK]", eos_token: "</s>" }],
    ] as [string[], WordVocabOptions, Record<string, string>][]) {
      const v = new WordVocab(tokens, options);
      expect(wordVocabMetadata(v)).toEqual(meta);
      const back = new WordVocab(tokens, wordVocabOptionsOf(wordVocabMetadata(v)));
      expect([back.unk, back.eos, back.unkId, back.eosId]).toEqual([v.unk, v.eos, v.unkId, v.eosId]);
    }
  });

  it("splits as Python's str.split() on a text-mode file's lines: \\r\\n and \\r end lines, across chunks too", () => {
    expect(split(["a\r", "\nb"])).toEqual(["a", EOS, "b", EOS]); // one line end, though \r and \n are in two chunks
    expect(split(["a\r", "b\r"])).toEqual(["a", EOS, "b", EOS]); // a lone \r ends a line; a text ending in \r has no extra <eos>
    expect(split(["a\r\r\nb\n\rc"])).toEqual(["a", EOS, EOS, "b", EOS, EOS, "c", EOS]);
    expect(split(["a\u2028b\x85c\x0bd\x1ce"])).toEqual(["a", "b", "c", "d", "e", EOS]); // whitespace, but no line end for a file
    expect(split(["\ufeffa\u200bb c\u00a0d"])).toEqual(["\ufeffa\u200bb", "c", "d", EOS]); // U+FEFF and U+200B belong to words
    expect(split(["\ud83d", "\ude00 x"])).toEqual(["\ud83d\ude00", "x", EOS]); // a surrogate pair cut by the chunks
  });
});
