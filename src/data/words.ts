// A word vocabulary for word-level language models, as PyTorch's word_language_model example
// builds it: every line of the text is split at whitespace and ends with the token <eos>; the
// most frequent words up to a cap are kept (ties broken by the word itself), every other word
// is <unk>.
// Streaming: a text is fed in chunks of any size (a word or a line may straddle two chunks).

import { allocTokens, type TokenArray } from "./corpus.js";
import type { Vocab } from "./vocab.js";

/** The token of a word outside the vocabulary. */
export const UNK = "<unk>";
/** The token that ends every line. */
export const EOS = "<eos>";

/** Splits chunks of text into words and <eos> tokens, holding back a word cut by the chunk's end. */
export class WordSplitter {
  private carry = "";

  /** Calls `each` for every complete token of `chunk` (after the carried part of the last one). */
  add(chunk: string, each: (token: string) => void): void {
    const s = this.carry + chunk;
    let start = -1; // start of the current word, or -1 between words
    let i = 0;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      const space =
        c === 32 ||
        c === 9 ||
        c === 10 ||
        c === 13 ||
        c === 11 ||
        c === 12 ||
        c === 0xa0 ||
        c === 0x2028 ||
        c === 0x2029 ||
        c === 0x3000 ||
        c === 0xfeff ||
        (c >= 0x2000 && c <= 0x200a);
      if (space) {
        if (start >= 0) {
          each(s.slice(start, i));
          start = -1;
        }
        if (c === 10) each(EOS);
      } else if (start < 0) {
        start = i;
      }
    }
    this.carry = start >= 0 ? s.slice(start) : "";
  }

  /** The last word, if the text did not end with whitespace; and the final <eos> of an unterminated last line. */
  end(each: (token: string) => void, sawText: boolean, endedWithNewline: boolean): void {
    if (this.carry) each(this.carry);
    this.carry = "";
    if (sawText && !endedWithNewline) each(EOS);
  }
}

/** A whole text's tokens, chunk after chunk: a WordSplitter that remembers how the text ended. */
abstract class WordStream {
  private readonly splitter = new WordSplitter();
  private last = -1;
  private any = false;

  add(chunk: string): void {
    if (chunk.length === 0) return;
    this.any = true;
    this.last = chunk.charCodeAt(chunk.length - 1);
    this.splitter.add(chunk, (w) => this.see(w));
  }

  /** Flushes the last word (and the last line's <eos>); call once after the last chunk. */
  finish(): void {
    this.splitter.end((w) => this.see(w), this.any, this.last === 10);
  }

  protected abstract see(w: string): void;
}

/** Pass 1: word frequencies and the token count. */
export class WordCounter extends WordStream {
  readonly counts = new Map<string, number>();
  /** Tokens (words and <eos>) seen so far. */
  count = 0;

  protected see(w: string): void {
    this.count++;
    this.counts.set(w, (this.counts.get(w) ?? 0) + 1);
  }

  /** The vocabulary: <unk>, <eos>, then the most frequent words (by count, then by code units), at most `cap` tokens in all. */
  vocab(cap: number): WordVocab {
    if (!(Number.isInteger(cap) && cap >= 3)) throw new RangeError(`a word vocabulary needs room for <unk>, <eos> and a word: cap >= 3, got ${cap}`);
    const words = [...this.counts.entries()].filter(([w]) => w !== EOS && w !== UNK);
    words.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return new WordVocab([UNK, EOS, ...words.slice(0, cap - 2).map(([w]) => w)]);
  }
}

/** Words <-> ids; ids 0 and 1 are <unk> and <eos>. */
export class WordVocab implements Vocab {
  readonly kind = "words" as const;
  readonly tokens: readonly string[];
  private readonly index: Map<string, number>;

  constructor(tokens: readonly string[]) {
    if (tokens[0] !== UNK || tokens[1] !== EOS) throw new RangeError(`WordVocab: the first two tokens must be ${UNK} and ${EOS}`);
    this.tokens = [...tokens];
    this.index = new Map(this.tokens.map((w, i) => [w, i]));
    if (this.index.size !== this.tokens.length) throw new RangeError("WordVocab: words must be distinct");
    for (const w of this.tokens)
      if (w.length === 0 || /\s/.test(w)) throw new RangeError(`WordVocab: ${JSON.stringify(w)} is not a word (empty or with whitespace)`);
  }

  /** V: number of tokens, <unk> and <eos> included. */
  get size(): number {
    return this.tokens.length;
  }

  /** The id of a token (<unk>'s for a word outside the vocabulary). */
  id(token: string): number {
    return this.index.get(token) ?? 0;
  }

  has(token: string): boolean {
    return this.index.has(token);
  }

  /** The ids of a text's words, each line ending with <eos> (words outside the vocabulary are <unk>). */
  encode(text: string): Int32Array {
    const out: number[] = [];
    const sp = new WordSplitter();
    sp.add(text, (w) => out.push(this.id(w)));
    sp.end((w) => out.push(this.id(w)), false, true); // a prime's last line stays open: no <eos> added
    return Int32Array.from(out);
  }

  /** The text of a sequence of ids: words joined by spaces, <eos> as a line break. */
  decode(ids: ArrayLike<number>): string {
    let s = "";
    let lineStart = s.length === 0;
    for (let i = 0; i < ids.length; i++) {
      const w = this.tokens[ids[i]];
      if (w === EOS) {
        s += "\n";
        lineStart = true;
      } else {
        s += lineStart ? w : ` ${w}`;
        lineStart = false;
      }
    }
    return s;
  }

  /** The token of one id, as decode writes it after the previous token (`atLineStart`: no space before it). */
  piece(id: number, atLineStart: boolean): string {
    const w = this.tokens[id];
    return w === EOS ? "\n" : atLineStart ? w : ` ${w}`;
  }
}

/** Pass 2: writes ids into a preallocated array, chunk after chunk, with an FNV-1a hash of the ids. */
export class WordEncoder extends WordStream {
  readonly tokens: TokenArray;
  length = 0;
  hash = 0x811c9dc5;

  constructor(
    readonly vocab: WordVocab,
    n: number,
  ) {
    super();
    this.tokens = allocTokens(n, vocab.size);
  }

  protected see(w: string): void {
    if (this.length >= this.tokens.length) throw new RangeError("more words than announced");
    const id = this.vocab.id(w);
    this.tokens[this.length++] = id;
    this.hash = Math.imul(this.hash ^ id, 0x01000193) >>> 0;
  }
}
