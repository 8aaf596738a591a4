// A labelled data set made of a play's text: every spoken line labelled with its speaker. The
// text is speeches separated by blank lines, each a line "NAME:" and the lines spoken:
//
//   First Citizen:
//   Before we proceed any further, hear me speak.
//
// (tiny Shakespeare, data/tinyshakespeare.txt, is 7,222 such speeches.) The lines of one speech
// resemble each other, so each example carries its speech's number as its group: a split by
// group (data/classify-data.ts, splitExamples) keeps a speech on one side.

import type { TextExample } from "./classify-data.js";

/** One speech: who speaks, the lines spoken, and its number in the text (0-based). */
export interface Speech {
  speaker: string;
  lines: string[];
  index: number;
}

/**
 * The speeches of a text: blocks separated by blank lines whose first line is a name followed by
 * a colon (and nothing after it) and that have at least one more line. Other blocks are skipped.
 * Lines end at \n, \r\n or \r; lines of only whitespace end a block.
 * @example
 * speechesOf("ROMEO:\nBut, soft!\nWhat light?\n\nJULIET:\nAy me!\n")
 * // => [{ speaker: "ROMEO", lines: ["But, soft!", "What light?"], index: 0 }, { speaker: "JULIET", lines: ["Ay me!"], index: 1 }]
 */
export function speechesOf(text: string): Speech[] {
  const out: Speech[] = [];
  let block: string[] = [];
  const close = () => {
    if (block.length >= 2 && /^[^:\s][^:]*:$/.test(block[0].trim())) {
      out.push({ speaker: block[0].trim().slice(0, -1).trim(), lines: block.slice(1), index: out.length });
    }
    block = [];
  };
  for (const line of text.split(/\r\n|\n|\r/)) {
    if (line.trim() === "") close();
    else block.push(line);
  }
  close();
  return out;
}

/** Options of speakerDataset. */
export interface SpeakerDatasetOptions {
  /** Keep the lines of this many speakers, those with the most lines (ties: by name). Default 8. */
  speakers?: number;
}

/**
 * The speaker data set of a play's text: every line spoken by one of the `speakers` speakers with
 * the most lines, labelled with the speaker, in the text's order; `group` is the number of its
 * speech (so that a split keeps a speech together), `line` its position in the data set (1-based).
 * Also returns the speakers kept with their line counts, and how many speeches the lines come from.
 * @example
 * const { examples, speakers } = speakerDataset(readFileSync("data/tinyshakespeare.txt", "utf8"));
 * speakers[0] // => { name: "GLOUCESTER", lines: 902 }; examples.length => 5592
 */
export function speakerDataset(
  text: string,
  options: SpeakerDatasetOptions = {},
): { examples: TextExample[]; speakers: { name: string; lines: number }[]; speeches: number } {
  for (const k of Object.keys(options)) if (k !== "speakers") throw new RangeError(`speakerDataset: unknown option "${k}" (known options: speakers)`);
  const k = options.speakers ?? 8;
  if (!(Number.isInteger(k) && k >= 2)) throw new RangeError(`speakerDataset: speakers must be a whole number >= 2, got ${k}`);
  const speeches = speechesOf(text);
  const counts = new Map<string, number>();
  for (const s of speeches) counts.set(s.speaker, (counts.get(s.speaker) ?? 0) + s.lines.length);
  const ranked = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, k);
  const kept = new Set(ranked.map(([name]) => name));
  const examples: TextExample[] = [];
  let used = 0;
  for (const s of speeches) {
    if (!kept.has(s.speaker)) continue;
    used++;
    for (const line of s.lines) examples.push({ text: line, label: s.speaker, group: String(s.index), line: examples.length + 1 });
  }
  return { examples, speakers: ranked.map(([name, lines]) => ({ name, lines })), speeches: used };
}
