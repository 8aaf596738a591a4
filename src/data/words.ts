// A word vocabulary for word-level language models, as PyTorch's word_language_model example
// builds it: every line of the text is split at whitespace and ends with the token <eos>; the
// most frequent words up to a cap are kept (ties broken by the word itself), every other word
// is <unk>.
//
// Tokens are exactly what the example's data.py makes of a file it opens in text mode
// (`open(path, "r", encoding="utf8")`, then `line.split() + ["<eos>"]` for each line):
//   - words are split where Python's str.split() splits, at every character str.isspace() accepts
//     (PYTHON_WHITESPACE: not U+200B or U+FEFF, which belong to words);
//   - a line ends at \n, \r\n or a lone \r (universal newlines), and nowhere else: \v, \f, \x1c-\x1e,
//     \x85, U+2028 and U+2029 end lines for str.splitlines() but not for a file's lines, so they are
//     plain whitespace here;
//   - the last line ends with <eos> whether or not the text ends with a line break.
// Streaming: a text is fed in chunks of any size (a word, a surrogate pair or a \r\n may straddle
// two chunks).
//
// A vocabulary may come from elsewhere (the example's Dictionary, in order of first appearance):
// WordVocab takes the tokens in any order and finds <unk> and <eos> by name (or as options).

import { InputError } from "../errors.js";
import { allocTokens, type TokenArray } from "./corpus.js";
import type { Vocab } from "./vocab.js";

/** The token of a word outside the vocabulary. */
export const UNK = "<unk>";
/** The token that ends every line. */
export const EOS = "<eos>";

/**
 * The characters Python's `str.split()` (no argument) splits at: those for which `str.isspace()`
 * is true (Python 3.11, /usr/bin/python3; checked against tools/make_text_fixtures.py's fixture).
 * All are in the Basic Multilingual Plane. U+200B (zero width space) and U+FEFF (byte order mark)
 * are not among them: they are parts of words.
 */
export const PYTHON_WHITESPACE: readonly number[] = [
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008,
  0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
];

const LAST_SPACE = 0x3000;
const SPACE = new Uint8Array(LAST_SPACE + 1);
for (const c of PYTHON_WHITESPACE) SPACE[c] = 1;

/** Whether a UTF-16 code unit is a character Python's `str.split()` splits at. */
export function isPythonSpace(codeUnit: number): boolean {
  return codeUnit <= LAST_SPACE && SPACE[codeUnit] === 1;
}

/**
 * Splits chunks of text into words and line ends, as the word_language_model example does with a
 * file opened in text mode: words at Python's whitespace, a line end (`eos`) at \n, \r\n and a lone
 * \r. Holds back a word cut by the chunk's end, and remembers a \r so that a \n opening the next
 * chunk does not end a second line.
 */
export class WordSplitter {
  private carry = "";
  private afterCR = false;

  /** @param eos the token emitted at each line end (default <eos>). */
  constructor(readonly eos: string = EOS) {}

  /** Calls `each` for every complete token of `chunk` (after the carried part of the last one); `lineEnd` tells a line end from a word spelled like it. */
  add(chunk: string, each: (token: string, lineEnd: boolean) => void): void {
    const s = this.carry + chunk;
    let start = -1; // start of the current word, or -1 between words
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c <= LAST_SPACE && SPACE[c] === 1) {
        if (start >= 0) {
          each(s.slice(start, i), false);
          start = -1;
        }
        if (c === 10) {
          if (!this.afterCR) each(this.eos, true); // the \n of a \r\n: the \r ended the line
          this.afterCR = false;
        } else if (c === 13) {
          each(this.eos, true);
          this.afterCR = true;
        } else {
          this.afterCR = false;
        }
      } else {
        this.afterCR = false;
        if (start < 0) start = i;
      }
    }
    this.carry = start >= 0 ? s.slice(start) : "";
  }

  /**
   * The last word, if the text did not end with whitespace; and the final line end of an
   * unterminated last line (`sawText` and not `endedWithNewline`: a text whose last character is
   * neither \n nor \r).
   */
  end(each: (token: string, lineEnd: boolean) => void, sawText: boolean, endedWithNewline: boolean): void {
    if (this.carry) each(this.carry, false);
    this.carry = "";
    this.afterCR = false;
    if (sawText && !endedWithNewline) each(this.eos, true);
  }
}

/** A whole text's tokens, chunk after chunk: a WordSplitter that remembers how the text ended and which line it is on. */
abstract class WordStream {
  private readonly splitter: WordSplitter;
  private last = -1;
  private any = false;
  /** Line ends seen so far (the current line is `lines + 1`). */
  lines = 0;

  /** @param eos the token seen at each line end (default <eos>; a vocabulary's own spelling when encoding with it). */
  constructor(eos: string = EOS) {
    this.splitter = new WordSplitter(eos);
  }

  /** Feeds the next chunk of the text. */
  add(chunk: string): void {
    if (chunk.length === 0) return;
    this.any = true;
    this.last = chunk.charCodeAt(chunk.length - 1);
    this.splitter.add(chunk, (w, lineEnd) => this.token(w, lineEnd));
  }

  /** Flushes the last word (and the last line's end); call once after the last chunk. */
  finish(): void {
    this.splitter.end((w, lineEnd) => this.token(w, lineEnd), this.any, this.last === 10 || this.last === 13);
  }

  private token(w: string, lineEnd: boolean): void {
    this.see(w);
    if (lineEnd) this.lines++;
  }

  protected abstract see(w: string): void;
}

/** Pass 1: word frequencies and the token count. */
export class WordCounter extends WordStream {
  /** How often each token occurred (<eos> included). */
  readonly counts = new Map<string, number>();
  /** Tokens (words and <eos>) seen so far. */
  count = 0;

  /** Counts one token. */
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

/** A word of a text that has no id: it is not in the vocabulary, and the vocabulary has no unknown token to stand for it. */
export class UnknownWordError extends InputError {
  constructor(
    /** The word. */
    readonly word: string,
    /** The line of the text it is on (1-based), when known. */
    readonly line?: number,
  ) {
    super(
      `${line !== undefined ? `line ${line}: ` : ""}the word ${JSON.stringify(word.length > 60 ? `${word.slice(0, 57)}...` : word)} is not in the vocabulary, which has no unknown token (such as ${UNK}) to stand for it`,
    );
    this.name = "UnknownWordError";
  }
}

/** Which tokens of a word vocabulary play the two special parts. */
export interface WordVocabOptions {
  /**
   * The token that stands for every word outside the vocabulary. Default: <unk> if the vocabulary
   * has it, else none. `null`: none (a word outside the vocabulary is then an UnknownWordError).
   */
  unk?: string | null;
  /** The token that ends every line. Default <eos>; the vocabulary must have it. */
  eos?: string;
}

/** JavaScript's whitespace but U+FEFF, which Python counts as part of a word (a text's byte order mark). */
const NOT_A_WORD = /[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;

/**
 * Words <-> ids, in any order: id i is `tokens[i]`, as given (rnnlab train builds <unk>, <eos>,
 * then the most frequent words; PyTorch's word_language_model example lists words in order of
 * first appearance, <eos> after the first line's words, and has <unk> only if the text does).
 * @example
 * const v = new WordVocab(["the", "king", "<eos>"]); // the example's Dictionary of "the king\n"
 * v.encode("the king\nthe") // => Int32Array [0, 1, 2, 0]
 * v.encode("queen")         // throws UnknownWordError: no <unk> to stand for it
 */
export class WordVocab implements Vocab {
  /** Always "words". */
  readonly kind = "words" as const;
  /** The token of each id. */
  readonly tokens: readonly string[];
  /** The token standing for words outside the vocabulary, or null when there is none. */
  readonly unk: string | null;
  /** The token ending every line. */
  readonly eos: string;
  /** The id of `unk`, or -1 when there is none. */
  readonly unkId: number;
  /** The id of `eos`. */
  readonly eosId: number;
  private readonly index: Map<string, number>;

  /**
   * @param tokens the token of each id, in id order: distinct, non-empty, without whitespace.
   * @param options which tokens are the unknown word and the line end (default: <unk> if present, and <eos>).
   * @throws RangeError naming the token that is wrong, or the special token that is missing.
   */
  constructor(tokens: readonly string[], options: WordVocabOptions = {}) {
    for (const k of Object.keys(options))
      if (k !== "unk" && k !== "eos") throw new RangeError(`WordVocab: unknown option ${JSON.stringify(k)}; known: unk, eos`);
    this.tokens = [...tokens];
    const bad = this.tokens.findIndex((w) => typeof w !== "string" || w.length === 0 || NOT_A_WORD.test(w));
    if (bad >= 0)
      throw new RangeError(`WordVocab: token ${bad} (${JSON.stringify(String(this.tokens[bad]).slice(0, 40))}) is not a word (empty or with whitespace)`);
    this.index = new Map(this.tokens.map((w, i) => [w, i]));
    if (this.index.size !== this.tokens.length) {
      const dup = this.tokens.findIndex((w, i) => this.index.get(w) !== i);
      throw new RangeError(
        `WordVocab: words must be distinct; ${JSON.stringify(this.tokens[dup])} is token ${dup} and token ${this.index.get(this.tokens[dup])}`,
      );
    }
    const eos = options.eos ?? EOS;
    if (typeof eos !== "string" || !this.index.has(eos))
      throw new RangeError(
        `WordVocab: the end-of-line token ${JSON.stringify(eos)} is not among the ${this.tokens.length} tokens; a word model ends every line with it: add it, or name the vocabulary's own (option eos)`,
      );
    const unk = options.unk === undefined ? (this.index.has(UNK) ? UNK : null) : options.unk;
    if (unk !== null && (typeof unk !== "string" || !this.index.has(unk)))
      throw new RangeError(`WordVocab: the unknown-word token ${JSON.stringify(unk)} is not among the ${this.tokens.length} tokens`);
    if (unk === eos) throw new RangeError(`WordVocab: ${JSON.stringify(eos)} cannot be both the unknown-word and the end-of-line token`);
    this.eos = eos;
    this.unk = unk;
    this.eosId = this.index.get(eos)!;
    this.unkId = unk === null ? -1 : this.index.get(unk)!;
  }

  /** V: number of tokens, the special ones included. */
  get size(): number {
    return this.tokens.length;
  }

  /**
   * The id of a token. EOS and UNK (the constants) name this vocabulary's line end and unknown
   * token whatever their spelling here; any other token outside the vocabulary gets the unknown
   * token's id (as wordId).
   */
  id(token: string): number {
    const id = this.index.get(token);
    if (id !== undefined) return id;
    if (token === EOS) return this.eosId;
    if (token === UNK && this.unkId >= 0) return this.unkId;
    return this.wordId(token);
  }

  /**
   * The id a word of a text gets: its own, else the unknown token's.
   * @throws UnknownWordError when the word is not in the vocabulary and there is no unknown token.
   */
  wordId(word: string): number {
    const id = this.index.get(word);
    if (id !== undefined) return id;
    if (this.unkId >= 0) return this.unkId;
    throw new UnknownWordError(word);
  }

  /** Whether a token is in the vocabulary. */
  has(token: string): boolean {
    return this.index.has(token);
  }

  /**
   * The ids of a text's words, each line ending with the line end (a prime: its last line stays
   * open, no line end added). Words outside the vocabulary are the unknown token.
   * @throws UnknownWordError (naming the word and its line) when a word is not in a vocabulary without unknown token.
   */
  encode(text: string): Int32Array {
    const out: number[] = [];
    const sp = new WordSplitter(this.eos);
    let line = 1;
    const push = (w: string, lineEnd: boolean) => {
      try {
        out.push(this.wordId(w));
      } catch (e) {
        if (e instanceof UnknownWordError) throw new UnknownWordError(w, line);
        throw e;
      }
      if (lineEnd) line++;
    };
    sp.add(text, push);
    sp.end(push, false, true);
    return Int32Array.from(out);
  }

  /** The text of a sequence of ids: words joined by spaces, the line end as a line break. */
  decode(ids: ArrayLike<number>): string {
    let s = "";
    let lineStart = true;
    for (let i = 0; i < ids.length; i++) {
      s += this.piece(ids[i], lineStart);
      lineStart = ids[i] === this.eosId;
    }
    return s;
  }

  /** The token of one id, as decode writes it after the previous token (`atLineStart`: no space before it). */
  piece(id: number, atLineStart: boolean): string {
    const w = this.tokens[id];
    return id === this.eosId ? "\n" : atLineStart ? w : ` ${w}`;
  }
}

/**
 * What a file's metadata says of a word vocabulary besides its tokens: "unk_token" and
 * "eos_token", written only when they are not the defaults (<unk> when the vocabulary has it,
 * and <eos>); "unk_token" is "" for a vocabulary without unknown token although it has <unk>.
 * Checkpoints of rnnlab train never need them.
 */
export function wordVocabMetadata(vocab: WordVocab): Record<string, string> {
  const meta: Record<string, string> = {};
  const defaultUnk = vocab.has(UNK) ? UNK : null;
  if (vocab.unk !== defaultUnk) meta.unk_token = vocab.unk ?? "";
  if (vocab.eos !== EOS) meta.eos_token = vocab.eos;
  return meta;
}

/**
 * A vocabulary as every rnnlab file's metadata holds it (the one writer; train/run.ts
 * vocabFromMetadata is the one reader): "vocab" (JSON list of the tokens in id order), "tokens"
 * ("chars" or "words") and, for words, wordVocabMetadata's "unk_token" and "eos_token".
 */
export function vocabMetadata(vocab: Vocab): Record<string, string> {
  return { vocab: JSON.stringify(vocab.tokens), tokens: vocab.kind, ...(vocab instanceof WordVocab ? wordVocabMetadata(vocab) : {}) };
}

/** The options wordVocabMetadata wrote into a file's metadata (none: the defaults). */
export function wordVocabOptionsOf(meta: Record<string, string>): WordVocabOptions {
  const o: WordVocabOptions = {};
  if (typeof meta.unk_token === "string") o.unk = meta.unk_token === "" ? null : meta.unk_token;
  if (typeof meta.eos_token === "string") o.eos = meta.eos_token;
  return o;
}

/** Pass 2: writes ids into a preallocated array, chunk after chunk, with an FNV-1a hash of the ids. */
export class WordEncoder extends WordStream {
  /** The ids written so far, in a typed array of the announced length. */
  readonly tokens: TokenArray;
  /** Ids written so far. */
  length = 0;
  /** FNV-1a (32-bit) over the ids written. */
  hash = 0x811c9dc5;

  /**
   * @param vocab the vocabulary to encode with.
   * @param n how many tokens the text has (WordCounter's count).
   */
  constructor(
    readonly vocab: WordVocab,
    n: number,
  ) {
    super(vocab.eos);
    this.tokens = allocTokens(n, vocab.size);
  }

  /** @throws UnknownWordError naming the word and its line, when the vocabulary has no unknown token. */
  protected see(w: string): void {
    if (this.length >= this.tokens.length) throw new RangeError("more words than announced");
    let id: number;
    try {
      id = this.vocab.wordId(w);
    } catch (e) {
      if (e instanceof UnknownWordError) throw new UnknownWordError(w, this.lines + 1);
      throw e;
    }
    this.tokens[this.length++] = id;
    this.hash = Math.imul(this.hash ^ id, 0x01000193) >>> 0;
  }
}
