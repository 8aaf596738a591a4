// Turning text into token ids without ever holding the whole text: the text arrives in chunks
// (of a file, a download, a pasted string); a first pass collects the vocabulary and counts the
// characters, a second pass writes each character's id into a typed array of exactly that length.
// Ids are stored in the narrowest type that holds the vocabulary (Uint8Array up to 256
// characters, Uint16Array up to 65536), so memory grows with the corpus by 1-2 bytes per character.

import { CharVocab } from "./vocab.js";

/** Token ids, in the narrowest type that holds the vocabulary. */
export type TokenArray = Uint8Array | Uint16Array | Int32Array;

const MAX_CODE_POINT = 0x10ffff;

/** Reads the code point at s[i] (joining a surrogate pair); returns it, and how many UTF-16 units it took via `width`. */
function codePointAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
  }
  return c;
}

/** Pass 1: which code points occur, and how many characters there are. */
export class VocabCollector {
  private readonly seen = new Uint8Array(MAX_CODE_POINT + 1);
  /** Characters (code points) seen so far. */
  count = 0;

  /** Records the characters of the next chunk of the text. */
  add(chunk: string): void {
    for (let i = 0; i < chunk.length; ) {
      const cp = codePointAt(chunk, i);
      this.seen[cp] = 1;
      this.count++;
      i += cp > 0xffff ? 2 : 1;
    }
  }

  /** The vocabulary: the distinct characters, sorted by code point. */
  vocab(): CharVocab {
    const chars: string[] = [];
    for (let cp = 0; cp <= MAX_CODE_POINT; cp++) if (this.seen[cp]) chars.push(String.fromCodePoint(cp));
    return new CharVocab(chars);
  }
}

/** A token array able to hold `n` ids of a vocabulary of size V. */
export function allocTokens(n: number, V: number): TokenArray {
  return V <= 256 ? new Uint8Array(n) : V <= 65536 ? new Uint16Array(n) : new Int32Array(n);
}

/** Pass 2: writes ids into a preallocated token array, chunk after chunk. Tracks an FNV-1a hash of the ids. */
export class TokenEncoder {
  readonly tokens: TokenArray;
  /** Ids written so far. */
  length = 0;
  /** FNV-1a (32-bit) over the ids written, to recognise the same data later. */
  hash = 0x811c9dc5;
  private readonly table: Int32Array;

  constructor(
    readonly vocab: CharVocab,
    n: number,
  ) {
    this.tokens = allocTokens(n, vocab.size);
    this.table = new Int32Array(MAX_CODE_POINT + 1).fill(-1);
    vocab.chars.forEach((ch, id) => (this.table[ch.codePointAt(0)!] = id));
  }

  /** Encodes a chunk; throws a RangeError naming the first character outside the vocabulary. */
  add(chunk: string): void {
    const { tokens, table } = this;
    let h = this.hash;
    for (let i = 0; i < chunk.length; ) {
      const cp = codePointAt(chunk, i);
      const id = table[cp];
      if (id < 0) throw new RangeError(`character ${JSON.stringify(String.fromCodePoint(cp))} is not in the vocabulary`);
      if (this.length >= tokens.length) throw new RangeError("more characters than announced");
      tokens[this.length++] = id;
      h = Math.imul(h ^ id, 0x01000193) >>> 0;
      i += cp > 0xffff ? 2 : 1;
    }
    this.hash = h;
  }
}

/** Vocabulary and ids of a whole string (for small texts; files go through the two passes). */
export function encodeText(text: string, vocab?: CharVocab): { vocab: CharVocab; tokens: TokenArray; hash: number } {
  const c = new VocabCollector();
  c.add(text);
  const v = vocab ?? c.vocab();
  const n = c.count;
  const e = new TokenEncoder(v, n);
  e.add(text);
  return { vocab: v, tokens: e.tokens.subarray(0, e.length) as TokenArray, hash: e.hash };
}
