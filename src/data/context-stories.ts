// The lecture's example as data: "Jane walked into the room. John walked in too. It was late in
// the day. Jane said hi to __". A story of the template family is
//
//   `${A} walked into the room. ${B} walked in too.${filler} ${A} said hi to ${B}.\n`
//
// with two different names A and B from a fixed list (equal lengths, distinct capital initials)
// and a filler of exactly d characters: lowercase words of a text, with a little punctuation, so
// no capitalised word (no name) can appear in it. Fillers are "fixed" (one filler per length d,
// the same in every story, as the lecture's "It was late in the day.") or "random" (new words in
// every story: a model's gradient is then mostly the words' entropy, and the name is learned far
// later). The blank is the position after "said hi to ":
// a model that predicts B's initial there must have carried B across the filler. Its distance D
// is counted in characters from B's first letter (in the second sentence) to the blank:
// D = d + |B| + |" walked in too."| + 1 + |A| + |" said hi to "| (36 with 4-letter names).
// Everything is drawn from a seeded Rng: the same seed gives the same stories. No Node APIs.
//
// d = filler characters, D = distance back to B, N = test stories per distance.

import { Rng } from "../tensor/rng.js";

/** The default names: 4 letters each, distinct initials (A to H). */
export const STORY_NAMES: readonly string[] = ["Anne", "Bill", "Carl", "Dora", "Emma", "Fred", "Gail", "Hugh"];

/** The characters a filler may contain besides the words' letters: space and light punctuation. */
export const FILLER_CHARACTERS = "abcdefghijklmnopqrstuvwxyz ,.;'";

const OPENING = " walked into the room. ";
const SECOND = " walked in too.";
const ASK = " said hi to ";
const END = ".\n";
const PUNCTUATION = [",", ".", ";"];

/** One story of the family, and where its parts are. */
export interface Story {
  /** The whole story, ending in ".\n". */
  text: string;
  /** A: the name who walked in first and says hi. */
  first: string;
  /** B: the name to predict after "said hi to ". */
  second: string;
  /** The filler between the second sentence and "A said hi to" (d characters). */
  filler: string;
  /** d: characters of filler. */
  d: number;
  /** D: characters from B's first letter in the second sentence to the blank. */
  distance: number;
  /** Index in `text` of B's first letter in the second sentence. */
  secondAt: number;
  /** Index in `text` of the blank: the first letter of the answer, after "said hi to ". */
  blank: number;
}

/** The held-out stories of one filler length: prefixes up to and including "to ", and their answers. */
export interface StoryTest {
  /** d: characters of filler. */
  d: number;
  /** D: the distance back to B's first letter, in characters. */
  distance: number;
  /** N prefixes, each the story up to the blank (all of the same length). */
  prefixes: string[];
  /** The answer B of each prefix. */
  answers: string[];
  /** The name A of each prefix (it stands just before the blank, so a model can exclude it). */
  firsts: string[];
}

/** Options of ContextStories. */
export interface ContextStoriesOptions {
  /** Lowercase words the fillers are made of, repeated as often as they occur (fillerWords(text) gives them). */
  words: readonly string[];
  /** The names (at least 3, equal lengths, distinct capital initials, letters only). Default STORY_NAMES. */
  names?: readonly string[];
  /**
   * `"random"` (default): every story draws its filler's words anew. `"fixed"`: one filler per
   * length d, drawn once from `fillerSeed` and the same in every story.
   */
  fillers?: FillerKind;
  /** `"fixed"` fillers: the seed they are drawn from. Default 0. */
  fillerSeed?: number;
}

/** How fillers are drawn: anew in every story, or once per filler length. */
export type FillerKind = "random" | "fixed";

/** The filler kinds, in the order the CLI lists them. */
export const FILLER_KINDS: readonly FillerKind[] = ["fixed", "random"];

/**
 * The lowercase words of a text (runs of `[a-z']` between other characters), kept only when the
 * whole word is lowercase (so "Jane" and "JANE" are left out, "don't" is kept) and at most
 * `maxLength` letters, in the text's order with repetitions: drawing from them follows the text's
 * word frequencies.
 * @example
 * fillerWords("Jane said: it was late, wasn't it?") // => ["said", "it", "was", "late", "wasn't", "it"]
 */
export function fillerWords(text: string, maxLength = 10): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/[A-Za-z']+/g)) {
    const w = m[0].replace(/^'+|'+$/g, "");
    if (w.length > 0 && w.length <= maxLength && /^[a-z']+$/.test(w)) out.push(w);
  }
  return out;
}

/**
 * The story family of the context experiment: stories with a filler of d characters, training
 * text mixing the filler lengths, and held-out prefixes per filler length.
 * @example
 * const s = new ContextStories({ words: fillerWords(text) });
 * s.story(new Rng(1), 0).text // => e.g. "Fred walked into the room. Anne walked in too. Fred said hi to Anne.\n"
 * s.distanceOf(32) // => 68: B's first letter is 68 characters before the blank
 */
export class ContextStories {
  /** The names stories draw from. */
  readonly names: readonly string[];
  /** The filler words. */
  readonly words: readonly string[];
  /** D - d: the distance of a story without filler (36 with 4-letter names). */
  readonly baseDistance: number;
  /** Characters of a story without filler (69 with 4-letter names). */
  readonly baseLength: number;
  /** How fillers are drawn. */
  readonly fillers: FillerKind;
  /** The seed of fixed fillers. */
  readonly fillerSeed: number;
  // filler words by length (index = length), for finishing a filler exactly
  private readonly byLength: string[][] = [];
  // fixed fillers drawn so far, by length
  private readonly fixed = new Map<number, string>();

  constructor(options: ContextStoriesOptions) {
    const names = [...(options.names ?? STORY_NAMES)];
    if (names.length < 3) throw new RangeError(`ContextStories: need at least 3 names (a model that excludes A must still guess), got ${names.length}`);
    for (const n of names) {
      if (!/^[A-Z][a-z]*$/.test(n)) throw new RangeError(`ContextStories: name "${n}" must be a capital letter followed by lowercase letters`);
      if (n.length !== names[0].length)
        throw new RangeError(
          `ContextStories: names must have equal lengths (so D is the same for every story of a filler length); "${n}" and "${names[0]}" differ`,
        );
    }
    if (new Set(names.map((n) => n[0])).size !== names.length)
      throw new RangeError("ContextStories: names must have distinct initials (the answer is scored by its first letter)");
    const words = options.words.filter((w) => /^[a-z']+$/.test(w));
    if (words.length !== options.words.length)
      throw new RangeError("ContextStories: filler words must be lowercase [a-z'] only (no capital, so no name, can appear in a filler)");
    if (words.length === 0) throw new RangeError("ContextStories: no filler words");
    if (options.fillers !== undefined && !FILLER_KINDS.includes(options.fillers))
      throw new RangeError(`ContextStories: fillers must be ${FILLER_KINDS.join(" or ")}, got ${JSON.stringify(options.fillers)}`);
    this.fillers = options.fillers ?? "random";
    this.fillerSeed = options.fillerSeed ?? 0;
    this.names = names;
    this.words = words;
    for (const w of words) (this.byLength[w.length] ??= []).push(w);
    const L = names[0].length;
    this.baseDistance = L + SECOND.length + 1 + L + ASK.length;
    this.baseLength = L + OPENING.length + L + SECOND.length + 1 + L + ASK.length + L + END.length;
  }

  /** D for a filler of d characters: d + baseDistance. */
  distanceOf(d: number): number {
    return d + this.baseDistance;
  }

  /** Characters of a story with a filler of d characters: d + baseLength. */
  lengthOf(d: number): number {
    return d + this.baseLength;
  }

  /** Every character a story can contain (sorted, distinct): the vocabulary of the experiment. */
  alphabet(): string {
    const all = new Set([...this.names.join(""), ...OPENING, ...SECOND, ...ASK, ...END, ...FILLER_CHARACTERS]);
    return [...all].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!).join("");
  }

  /**
   * A filler of exactly d characters: " " + words, now and then a comma, full stop or semicolon
   * after a word; lowercase throughout. Draws from `rng`.
   */
  filler(rng: Rng, d: number): string {
    if (!(Number.isInteger(d) && d >= 0)) throw new RangeError(`ContextStories: a filler length must be a whole number >= 0, got ${d}`);
    let out = "";
    let r = d; // characters still to write
    let misses = 0;
    while (r > 0) {
      if (r === 1) {
        out += "."; // only when d = 1: a filler of one character
        break;
      }
      const w = this.words[rng.int(this.words.length)];
      const piece = ` ${w}${rng.uniform() < 0.12 ? PUNCTUATION[rng.int(PUNCTUATION.length)] : ""}`;
      // a piece fits when it fills the rest exactly or leaves room for at least " x"
      if (piece.length === r || piece.length <= r - 2) {
        out += piece;
        r -= piece.length;
        misses = 0;
        continue;
      }
      // it does not fit: finish with a word of exactly r - 1 letters when there is one
      const exact = this.byLength[r - 1];
      if (exact?.length) {
        out += ` ${exact[rng.int(exact.length)]}`;
        break;
      }
      if (++misses > 64) {
        // no word fits (a tiny word list): " a" pieces, and a full stop for an odd rest
        out += " a".repeat(r >> 1) + (r & 1 ? "." : "");
        break;
      }
    }
    return out;
  }

  /** The filler of d characters that every story of length d has, with fixed fillers (drawn from fillerSeed and d). */
  fixedFiller(d: number): string {
    let f = this.fixed.get(d);
    if (f === undefined) {
      f = this.filler(new Rng(this.fillerSeed * 8192 + d), d);
      this.fixed.set(d, f);
    }
    return f;
  }

  /** A story with a filler of d characters; A and B (A != B), and a random filler, drawn from `rng`. */
  story(rng: Rng, d: number): Story {
    const { names } = this;
    const i = rng.int(names.length);
    let j = rng.int(names.length - 1);
    if (j >= i) j++;
    const first = names[i];
    const second = names[j];
    const filler = this.fillers === "fixed" ? this.fixedFiller(d) : this.filler(rng, d);
    const head = `${first}${OPENING}`;
    const secondAt = head.length;
    const prefix = `${head}${second}${SECOND}${filler} ${first}${ASK}`;
    const blank = prefix.length;
    return { text: `${prefix}${second}${END}`, first, second, filler, d, distance: blank - secondAt, secondAt, blank };
  }

  /**
   * Training text: stories one after another, each with d drawn uniformly from `ds`, until the
   * text has at least `chars` characters.
   */
  trainingText(rng: Rng, ds: readonly number[], chars: number): string {
    if (ds.length === 0) throw new RangeError("ContextStories: no filler lengths");
    if (!(chars >= 1)) throw new RangeError(`ContextStories: chars must be >= 1, got ${chars}`);
    const parts: string[] = [];
    let n = 0;
    while (n < chars) {
      const s = this.story(rng, ds[rng.int(ds.length)]).text;
      parts.push(s);
      n += s.length;
    }
    return parts.join("");
  }

  /** N held-out stories for each filler length of `ds`, as prefixes up to the blank with their answers. */
  tests(rng: Rng, ds: readonly number[], N: number): StoryTest[] {
    if (!(Number.isInteger(N) && N >= 1)) throw new RangeError(`ContextStories: test stories per distance must be a whole number >= 1, got ${N}`);
    return ds.map((d) => {
      const t: StoryTest = { d, distance: this.distanceOf(d), prefixes: [], answers: [], firsts: [] };
      for (let n = 0; n < N; n++) {
        const s = this.story(rng, d);
        t.prefixes.push(s.text.slice(0, s.blank));
        t.answers.push(s.second);
        t.firsts.push(s.first);
      }
      return t;
    });
  }
}
