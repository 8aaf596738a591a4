import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { splitExamples } from "./classify-data.js";
import { speakerDataset, speechesOf } from "./speakers.js";

const PLAY = [
  "ROMEO:",
  "But, soft! what light through yonder window breaks?",
  "It is the east, and Juliet is the sun.",
  "",
  "JULIET:",
  "Ay me!",
  "",
  "Not a speech",
  "",
  "ROMEO:",
  "She speaks:",
  "O, speak again, bright angel!",
  "",
  "",
  "NURSE:\r\nAnon!\r\n",
].join("\n");

describe("the speaker data set", () => {
  it("reads speeches: a NAME: line, the lines spoken, a blank line", () => {
    const s = speechesOf(PLAY);
    expect(s.map((x) => [x.speaker, x.lines.length, x.index])).toEqual([
      ["ROMEO", 2, 0],
      ["JULIET", 1, 1],
      ["ROMEO", 2, 2],
      ["NURSE", 1, 3],
    ]);
    expect(s[2].lines[0]).toBe("She speaks:"); // a spoken line ending in a colon is still a line
  });

  it("labels every line of the most talkative speakers, grouped by speech", () => {
    const { examples, speakers, speeches } = speakerDataset(PLAY, { speakers: 2 });
    // ROMEO 4 lines; JULIET and NURSE 1 each: the tie goes to the name first in order
    expect(speakers).toEqual([
      { name: "ROMEO", lines: 4 },
      { name: "JULIET", lines: 1 },
    ]);
    expect(speeches).toBe(3);
    expect(examples.map((e) => [e.label, e.group, e.line])).toEqual([
      ["ROMEO", "0", 1],
      ["ROMEO", "0", 2],
      ["JULIET", "1", 3],
      ["ROMEO", "2", 4],
      ["ROMEO", "2", 5],
    ]);
    expect(() => speakerDataset(PLAY, { speakers: 1 })).toThrow(/speakers must be a whole number >= 2/);
  });

  it("tiny Shakespeare: 5,592 lines of 8 speakers, split without cutting a speech", () => {
    const text = readFileSync(new URL("../../data/tinyshakespeare.txt", import.meta.url), "utf8");
    const { examples, speakers, speeches } = speakerDataset(text);
    expect(speakers).toEqual([
      { name: "GLOUCESTER", lines: 902 },
      { name: "DUKE VINCENTIO", lines: 822 },
      { name: "KING RICHARD II", lines: 758 },
      { name: "LEONTES", lines: 679 },
      { name: "CORIOLANUS", lines: 674 },
      { name: "ROMEO", lines: 604 },
      { name: "MENENIUS", lines: 585 },
      { name: "PETRUCHIO", lines: 568 },
    ]);
    expect(examples).toHaveLength(5592);
    expect(speeches).toBe(1246);
    expect(examples[0]).toEqual({ text: "What work's, my countrymen, in hand? where go you", label: "MENENIUS", group: "22", line: 1 });
    const { train, val } = splitExamples(examples, { valFraction: 0.1, seed: 1 });
    const valGroups = new Set(Array.from(val, (i) => examples[i].group));
    for (const i of train) expect(valGroups.has(examples[i].group)).toBe(false);
    expect(val.length / examples.length).toBeCloseTo(0.1, 1);
  });
});
