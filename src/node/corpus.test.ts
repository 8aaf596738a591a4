// Loading texts from files: words as PyTorch's word_language_model reads them (Python's fixture in
// test/fixtures/text), the byte order mark, and words outside a vocabulary without <unk>.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { CharVocab } from "../data/vocab.js";
import { EOS, UNK, WordVocab } from "../data/words.js";
import { loadCorpus } from "./corpus.js";
import { InputError } from "./files.js";

const dir = mkdtempSync(join(tmpdir(), "rnnlab-corpus-"));
const fixture = JSON.parse(readFileSync(fileURLToPath(new URL("../../test/fixtures/text/text_split.json", import.meta.url)), "utf8")) as {
  text: string;
  tokens: string[];
  idx2word: string[];
  ids: number[];
};

describe("loadCorpus with words", () => {
  it("gives the word_language_model Dictionary's ids for Python's fixture text, read from a file", () => {
    const path = join(dir, "fixture.txt");
    writeFileSync(path, fixture.text); // UTF-8, byte order mark, \r\n, lone \r and rare whitespace as they are
    const { tokens, vocab } = loadCorpus(path, new WordVocab(fixture.idx2word));
    expect(Array.from(tokens)).toEqual(fixture.ids);
    // rnnlab's own vocabulary from the same file: the same tokens, with <unk> and <eos> first
    const own = loadCorpus(path, undefined, { tokens: "words" });
    expect(own.vocab.tokens.slice(0, 2)).toEqual([UNK, EOS]);
    expect(Array.from(own.tokens, (i) => own.vocab.tokens[i])).toEqual(fixture.tokens);
    expect(vocab.tokens).toEqual(fixture.idx2word);
  });

  it("keeps a byte order mark in the first word, as Python's open(path, encoding='utf8') does; characters drop it as before", () => {
    const path = join(dir, "bom.txt");
    writeFileSync(path, "\ufeffhello world\n");
    const words = loadCorpus(path, undefined, { tokens: "words" });
    expect(words.vocab.tokens).toContain("\ufeffhello");
    const chars = loadCorpus(path);
    expect((chars.vocab as CharVocab).chars).not.toContain("\ufeff");
    expect(chars.tokens.length).toBe("hello world\n".length);
  });

  it("names a word outside a vocabulary without unknown token, with the file and the line", () => {
    const path = join(dir, "jester.txt");
    writeFileSync(path, "the king\r\nthe jester\n");
    const v = new WordVocab(["the", "king", EOS]);
    expect(() => loadCorpus(path, v)).toThrow(InputError);
    expect(() => loadCorpus(path, v)).toThrow(
      /jester\.txt: line 2: the word "jester" is not in the vocabulary, which has no unknown token .*--config '\{"unk":"TOKEN"\}'/,
    );
    // with <unk> somewhere in the vocabulary, the word is <unk>
    const u = new WordVocab(["the", "king", EOS, UNK]);
    expect(Array.from(loadCorpus(path, u).tokens)).toEqual([0, 1, 2, 0, 3, 2]);
  });

  it("keeps characters byte for byte: \\r is a character of its own (no newline translation)", () => {
    const path = join(dir, "crlf.txt");
    writeFileSync(path, "ab\r\nc\rd\n");
    const { vocab, tokens } = loadCorpus(path);
    expect((vocab as CharVocab).chars).toEqual(["\n", "\r", "a", "b", "c", "d"]);
    expect(vocab.decode(tokens)).toBe("ab\r\nc\rd\n");
  });
});
