// A character vocabulary: the distinct Unicode code points of a text (not UTF-16 units, not
// bytes), sorted by code point, each mapped to an id 0..V-1. (Words: data/words.ts.)

/** Tokens <-> ids, for characters or words. */
export interface Vocab {
  readonly kind: "chars" | "words";
  /** The token of each id. */
  readonly tokens: readonly string[];
  readonly size: number;
  /** Whether a token is in the vocabulary. */
  has(token: string): boolean;
  /** The ids of a text's tokens. */
  encode(text: string): Int32Array;
  /** The text of a sequence of ids. */
  decode(ids: ArrayLike<number>): string;
}

/** Characters <-> ids. */
export class CharVocab implements Vocab {
  readonly kind = "chars" as const;
  readonly chars: readonly string[];
  private readonly index: Map<string, number>;

  constructor(chars: readonly string[]) {
    this.chars = [...chars];
    // one code point each, and a whole one: a lone surrogate is no character of any UTF-8 text
    const bad = this.chars.findIndex((c) => typeof c !== "string" || [...c].length !== 1 || (c.length === 1 && c >= "\ud800" && c <= "\udfff"));
    if (bad >= 0) throw new RangeError(`CharVocab: entry ${bad} (${JSON.stringify(String(this.chars[bad]).slice(0, 20))}) is not one character`);
    this.index = new Map(this.chars.map((c, i) => [c, i]));
    if (this.index.size !== this.chars.length) throw new RangeError("CharVocab: characters must be distinct");
  }

  /**
   * The vocabulary of a text.
   * @example
   * CharVocab.fromText("hello").chars // => ["e", "h", "l", "o"]
   */
  static fromText(text: string): CharVocab {
    const set = new Set<string>();
    for (const ch of text) set.add(ch);
    return new CharVocab([...set].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!));
  }

  /** V: number of distinct characters. */
  get size(): number {
    return this.chars.length;
  }

  get tokens(): readonly string[] {
    return this.chars;
  }

  has(token: string): boolean {
    return this.index.has(token);
  }

  /** The ids of a text's characters; throws a RangeError on a character outside the vocabulary. */
  encode(text: string): Int32Array {
    const out: number[] = [];
    for (const ch of text) {
      const id = this.index.get(ch);
      if (id === undefined) throw new RangeError(`CharVocab: character ${JSON.stringify(ch)} is not in the vocabulary`);
      out.push(id);
    }
    return Int32Array.from(out);
  }

  /** The text of a sequence of ids. */
  decode(ids: ArrayLike<number>): string {
    let s = "";
    for (let i = 0; i < ids.length; i++) s += this.chars[ids[i]];
    return s;
  }
}
