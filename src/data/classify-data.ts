// Labelled texts for sequence classification: reading them (JSON lines, or the rows of a CSV file
// with a header), splitting them into training and validation sets without leakage, and turning
// texts into token ids (characters or words) with an id for what the vocabulary lacks.
//
// JSON lines: one object per line, {"text": "...", "label": "..."} (a label may be a number), and
// optionally "group": examples of one group are never split between training and validation
// (e.g. the lines of one speech, which resemble each other). CSV: a header naming the columns
// text and label (and optionally group); the caller parses the records (RFC 4180).
// Every problem is an InputError naming the line and the fix.

import { InputError } from "../errors.js";
import { Rng } from "../tensor/rng.js";
import { shuffled } from "./sequence-batches.js";
import { CharVocab, type Vocab } from "./vocab.js";
import { UNK, WordCounter, WordVocab } from "./words.js";

/** One labelled text, and the line of its file it came from (1-based). */
export interface TextExample {
  text: string;
  label: string;
  /** Examples of one group stay on one side of the split. */
  group?: string;
  line: number;
}

/**
 * The examples of a JSON-lines text: one object per line with a string "text", a "label" (string
 * or number) and optionally a "group" (string or number). Blank lines are skipped; a byte order
 * mark opening the text is dropped.
 * @throws InputError naming the first line that is not such an object (`what` names the file).
 * @example
 * parseJsonl('{"text": "hi there", "label": "greeting"}\n{"text": "bye", "label": 2}')
 * // => [{ text: "hi there", label: "greeting", line: 1 }, { text: "bye", label: "2", line: 2 }]
 */
export function parseJsonl(text: string, what = "the data"): TextExample[] {
  const out: TextExample[] = [];
  const lines = text.replace(/^\ufeff/, "").split(/\r\n|\n|\r/);
  for (let i = 0; i < lines.length; i++) {
    const s = lines[i];
    if (s.trim() === "") continue;
    let v: unknown;
    try {
      v = JSON.parse(s);
    } catch (e) {
      throw new InputError(
        `${what}: line ${i + 1} is not JSON (${(e as Error).message.split("\n")[0]}); each line must be an object like {"text": "...", "label": "..."}`,
      );
    }
    out.push(exampleOf(v, i + 1, what));
  }
  return out;
}

function exampleOf(v: unknown, line: number, what: string): TextExample {
  if (!v || typeof v !== "object" || Array.isArray(v))
    throw new InputError(`${what}: line ${line} is not a JSON object; each line must be like {"text": "...", "label": "..."}`);
  const o = v as Record<string, unknown>;
  if (typeof o.text !== "string")
    throw new InputError(`${what}: line ${line} has no "text" string${o.text === undefined ? "" : ` (it is ${JSON.stringify(o.text).slice(0, 40)})`}`);
  const label = scalar(o.label);
  if (label === null)
    throw new InputError(
      `${what}: line ${line} has no "label" (a string or a number)${o.label === undefined ? "" : `: it is ${JSON.stringify(o.label).slice(0, 40)}`}`,
    );
  const ex: TextExample = { text: o.text, label, line };
  if (o.group !== undefined) {
    const g = scalar(o.group);
    if (g === null) throw new InputError(`${what}: line ${line}: "group" must be a string or a number, is ${JSON.stringify(o.group).slice(0, 40)}`);
    ex.group = g;
  }
  return ex;
}

/** A label or group as text: a non-empty string (trimmed) or a finite number; else null. */
function scalar(v: unknown): string | null {
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  if (typeof v === "string" && v.trim() !== "") return v.trim();
  return null;
}

/**
 * The examples of a CSV file's records (parsed elsewhere, RFC 4180): the first is the header,
 * which names the columns "text" and "label" (any case; optionally "group"); `lines` gives each
 * record's line in the file (for messages; default: the record's number + 1).
 * @throws InputError when the header lacks a column, or a record its label.
 */
export function examplesFromRecords(records: readonly (readonly string[])[], what = "the data", lines?: readonly number[]): TextExample[] {
  if (records.length === 0) throw new InputError(`${what} is empty; give a CSV file with a header line "text,label" and a row per example`);
  const header = records[0].map((h) => h.trim().toLowerCase());
  const col = (name: string) => header.indexOf(name);
  const [ti, li, gi] = [col("text"), col("label"), col("group")];
  for (const [name, i] of [
    ["text", ti],
    ["label", li],
  ] as const) {
    if (i < 0)
      throw new InputError(
        `${what}: the CSV header has no "${name}" column (it has ${records[0].map((h) => JSON.stringify(h)).join(", ")}); name the columns text and label in the first line`,
      );
  }
  const out: TextExample[] = [];
  for (let r = 1; r < records.length; r++) {
    const rec = records[r];
    const line = lines?.[r] ?? r + 1;
    const label = scalar(rec[li]);
    if (label === null) throw new InputError(`${what}: line ${line} has an empty label`);
    const ex: TextExample = { text: rec[ti] ?? "", label, line };
    if (gi >= 0 && scalar(rec[gi]) !== null) ex.group = scalar(rec[gi])!;
    out.push(ex);
  }
  return out;
}

/** Labels in a fixed order: sorted by code units (numerically when all are numbers). */
export function labelsOf(examples: readonly TextExample[]): string[] {
  const set = [...new Set(examples.map((e) => e.label))];
  const numeric = set.every((l) => l.trim() !== "" && Number.isFinite(Number(l)));
  return set.sort((a, b) => (numeric ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0));
}

/** Options of splitExamples. */
export interface SplitOptions {
  /** Share of the examples for validation, in (0, 1). */
  valFraction: number;
  /** Seed of the split. Default 0. */
  seed?: number;
}

/**
 * A seeded split into training and validation indices, stratified by label and without leakage:
 * each label gives about round(n_c * f) of its n_c examples to validation (never all of them).
 * When examples have groups, whole groups go to one side: a group counts under the label of its
 * first example, and each label's groups are drawn in random order until validation holds that
 * label's share. Otherwise single examples are drawn. Indices are in the examples' order.
 * @throws InputError when validation or training would be empty.
 */
export function splitExamples(examples: readonly TextExample[], o: SplitOptions): { train: Int32Array; val: Int32Array; byGroup: boolean } {
  const f = o.valFraction;
  if (!(f > 0 && f < 1)) throw new RangeError(`splitExamples: valFraction must be in (0, 1), got ${f}`);
  const rng = new Rng(o.seed ?? 0);
  const N = examples.length;
  const isVal = new Uint8Array(N);
  const byGroup = examples.some((e) => e.group !== undefined);
  if (byGroup) {
    // examples without a group are groups of one; a group counts under the label of its first example
    const members = new Map<string, number[]>();
    examples.forEach((e, i) => {
      const k = e.group !== undefined ? `g:${e.group}` : `i:${i}`;
      const m = members.get(k);
      if (m) m.push(i);
      else members.set(k, [i]);
    });
    if (members.size < 2) throw new InputError("every example is in one group; a split by group needs two groups or more");
    const byLabel = new Map<string, number[][]>();
    for (const g of members.values()) {
      const label = examples[g[0]].label;
      const list = byLabel.get(label);
      if (list) list.push(g);
      else byLabel.set(label, [g]);
    }
    // per label, whole groups in random order until validation holds its share of the label's examples
    for (const label of labelsOf(examples)) {
      const groups = byLabel.get(label);
      if (!groups) continue;
      const n = groups.reduce((a, g) => a + g.length, 0);
      const want = Math.round(f * n);
      let taken = 0;
      for (const j of shuffled(groups.length, rng)) {
        if (taken >= want) break;
        if (taken + groups[j].length >= n) continue; // training keeps some of every label
        for (const i of groups[j]) isVal[i] = 1;
        taken += groups[j].length;
      }
    }
  } else {
    const byLabel = new Map<string, number[]>();
    examples.forEach((e, i) => {
      const m = byLabel.get(e.label);
      if (m) m.push(i);
      else byLabel.set(e.label, [i]);
    });
    for (const label of labelsOf(examples)) {
      const idx = byLabel.get(label)!;
      const k = Math.min(idx.length - 1, Math.round(idx.length * f));
      const order = shuffled(idx.length, rng);
      for (let j = 0; j < k; j++) isVal[idx[order[j]]] = 1;
    }
  }
  const val: number[] = [];
  const train: number[] = [];
  for (let i = 0; i < N; i++) (isVal[i] ? val : train).push(i);
  if (val.length === 0)
    throw new InputError(`${N} examples are too few for a validation share of ${f}: none would be held out; use more data or a larger --val-fraction`);
  return { train: Int32Array.from(train), val: Int32Array.from(val), byGroup };
}

/** The token standing for characters a character vocabulary lacks: U+FFFD, the replacement character. */
export const UNKNOWN_CHAR = "\ufffd";

/**
 * A vocabulary for classifying texts: characters (every character seen at least `minCount`
 * times, plus UNKNOWN_CHAR for the rest) or words (Python's str.split(); the most frequent, up to
 * `vocabSize` tokens with <unk> and <eos>, as data/words.ts).
 */
export function textVocab(texts: Iterable<string>, o: { tokens: "chars" | "words"; vocabSize?: number; minCount?: number }): Vocab {
  if (o.tokens === "words") {
    const counter = new WordCounter();
    for (const t of texts) counter.add(`${t}\n`);
    counter.finish();
    return counter.vocab(o.vocabSize ?? 10000);
  }
  const counts = new Map<string, number>();
  for (const t of texts) for (const ch of t) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  const min = o.minCount ?? 1;
  const chars = [...counts].filter(([ch, n]) => n >= min && ch !== UNKNOWN_CHAR).map(([ch]) => ch);
  chars.push(UNKNOWN_CHAR);
  // a lone surrogate (text from JSON can hold one) is no character: it becomes the unknown one
  return new CharVocab(chars.filter((c) => !(c.length === 1 && c >= "\ud800" && c <= "\udfff")).sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!));
}

/**
 * A text's token ids: characters outside a character vocabulary become UNKNOWN_CHAR's id (the
 * vocabulary must have it), words outside a word vocabulary its unknown token's (<unk>).
 * Returns the ids (at most `maxLength`, the first ones) and how many tokens were unknown.
 */
export function textTokenizer(vocab: Vocab, maxLength = Infinity): (text: string) => { ids: Int32Array; unknown: number; cut: boolean } {
  if (vocab instanceof WordVocab) {
    if (vocab.unkId < 0) throw new RangeError(`a word vocabulary for classification needs an unknown token (${UNK})`);
    const unk = vocab.unkId;
    const eos = vocab.eosId;
    return (text) => {
      const all = vocab.encode(text);
      let unknown = 0;
      for (const id of all) if (id === unk) unknown++;
      // a text's own line breaks are <eos> tokens; a trailing one adds nothing
      let n = all.length;
      while (n > 0 && all[n - 1] === eos) n--;
      return { ids: all.subarray(0, Math.min(n, maxLength)), unknown, cut: n > maxLength };
    };
  }
  const index = new Map(vocab.tokens.map((t, i) => [t, i]));
  const unk = index.get(UNKNOWN_CHAR);
  if (unk === undefined)
    throw new RangeError(`a character vocabulary for classification needs ${JSON.stringify(UNKNOWN_CHAR)} (U+FFFD) for unknown characters`);
  return (text) => {
    const ids: number[] = [];
    let unknown = 0;
    let total = 0;
    for (const ch of text) {
      total++;
      if (ids.length >= maxLength) continue;
      const id = index.get(ch);
      if (id === undefined) unknown++;
      ids.push(id ?? unk);
    }
    return { ids: Int32Array.from(ids), unknown, cut: total > maxLength };
  };
}

/** How a text is prepared before it is split into tokens (a classifier's file keeps it, so that predictions prepare texts the same way). */
export interface TextPreparation {
  /** Fold to lower case (String.prototype.toLowerCase, the same in every locale). */
  lowercase?: boolean;
  /**
   * Make each punctuation mark a word of its own: every character that is not a letter, a digit,
   * a combining mark, an apostrophe or whitespace gets a space on either side, so that "lord,"
   * is the two words "lord" and ",". For word tokens.
   */
  splitPunctuation?: boolean;
}

const PUNCTUATION = /([^\p{L}\p{N}\p{M}'\s])/gu;

/**
 * A text prepared for tokenizing (see TextPreparation).
 * @example
 * prepareText("Now, my LORD!", { lowercase: true, splitPunctuation: true }) // => "now ,  my lord ! "
 */
export function prepareText(text: string, o: TextPreparation): string {
  let s = o.lowercase ? text.toLowerCase() : text;
  if (o.splitPunctuation) s = s.replace(PUNCTUATION, " $1 ");
  return s;
}
