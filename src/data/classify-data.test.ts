import { describe, expect, it } from "vitest";
import { InputError } from "../errors.js";
import {
  examplesFromRecords,
  labelsOf,
  parseJsonl,
  prepareText,
  splitExamples,
  textTokenizer,
  textVocab,
  UNKNOWN_CHAR,
  type TextExample,
} from "./classify-data.js";

describe("reading labelled texts", () => {
  it("reads JSON lines, skipping blank ones", () => {
    const ex = parseJsonl('\ufeff{"text": "hi there", "label": "greeting"}\n\n{"text": "bye", "label": 2, "group": 7}\r\n');
    expect(ex).toEqual([
      { text: "hi there", label: "greeting", line: 1 },
      { text: "bye", label: "2", group: "7", line: 3 },
    ]);
  });

  it("names the line that is not an example", () => {
    expect(() => parseJsonl('{"text":"a","label":"x"}\n{oops', "d.jsonl")).toThrow(/d\.jsonl: line 2 is not JSON/);
    expect(() => parseJsonl("[1, 2]", "d.jsonl")).toThrow(/line 1 is not a JSON object/);
    expect(() => parseJsonl('{"label": "x"}', "d.jsonl")).toThrow(/line 1 has no "text" string/);
    expect(() => parseJsonl('{"text": "a", "label": ""}', "d.jsonl")).toThrow(/line 1 has no "label"/);
    expect(() => parseJsonl('{"text": "a", "label": null}', "d.jsonl")).toThrow(InputError);
    expect(() => parseJsonl('{"text": "a", "label": "x", "group": [1]}', "d.jsonl")).toThrow(/"group" must be a string or a number/);
  });

  it("reads CSV records by their header's columns", () => {
    const ex = examplesFromRecords(
      [
        ["Label", "TEXT", "group"],
        ["x", 'a "quoted", text', ""],
        ["y", "b", "g1"],
      ],
      "d.csv",
      [1, 2, 4],
    );
    expect(ex).toEqual([
      { text: 'a "quoted", text', label: "x", line: 2 },
      { text: "b", label: "y", group: "g1", line: 4 },
    ]);
    expect(() => examplesFromRecords([["text", "class"]], "d.csv")).toThrow(/the CSV header has no "label" column \(it has "text", "class"\)/);
  });

  it("orders labels by name, numerically when they are numbers", () => {
    const ex = (labels: string[]) => labels.map((label, i) => ({ text: "t", label, line: i + 1 }));
    expect(labelsOf(ex(["b", "a", "b", "C"]))).toEqual(["C", "a", "b"]);
    expect(labelsOf(ex(["10", "9", "1"]))).toEqual(["1", "9", "10"]);
  });
});

describe("splitExamples", () => {
  const examples: TextExample[] = [];
  for (let i = 0; i < 200; i++) examples.push({ text: `t${i}`, label: i % 4 === 0 ? "rare" : "common", line: i + 1 });

  it("stratifies by label, with a seeded draw", () => {
    const { train, val, byGroup } = splitExamples(examples, { valFraction: 0.1, seed: 1 });
    expect(byGroup).toBe(false);
    expect(train.length + val.length).toBe(200);
    const rare = [...val].filter((i) => examples[i].label === "rare").length;
    expect(rare).toBe(5); // round(50 * 0.1)
    expect(val.length).toBe(20); // and round(150 * 0.1) = 15 common ones
    expect([...splitExamples(examples, { valFraction: 0.1, seed: 1 }).val]).toEqual([...val]);
    expect([...splitExamples(examples, { valFraction: 0.1, seed: 2 }).val]).not.toEqual([...val]);
  });

  it("never splits a group, and holds out about the share of each label", () => {
    const grouped = examples.map((e, i) => ({ ...e, group: String(Math.floor(i / 8)) }));
    // groups of 8 mix labels: a group counts under its first example's label ("rare")
    const { train, val, byGroup } = splitExamples(grouped, { valFraction: 0.2, seed: 3 });
    expect(byGroup).toBe(true);
    const side = new Map<string, boolean>();
    for (const [list, isVal] of [
      [train, false],
      [val, true],
    ] as const) {
      for (const i of list) {
        const g = grouped[i].group!;
        if (side.has(g)) expect(side.get(g)).toBe(isVal);
        side.set(g, isVal);
      }
    }
    expect(val.length).toBe(40); // 5 whole groups of 8: round(0.2 * 200)
  });

  it("refuses a split that would hold nothing out", () => {
    expect(() => splitExamples(examples.slice(0, 4), { valFraction: 0.1 })).toThrow(/too few for a validation share/);
    expect(() =>
      splitExamples(
        examples.map((e) => ({ ...e, group: "all" })),
        { valFraction: 0.1 },
      ),
    ).toThrow(/one group/);
  });
});

describe("texts to token ids", () => {
  it("characters: the training texts' characters, and U+FFFD for the rest", () => {
    const v = textVocab(["abba", "cab"], { tokens: "chars" });
    expect(v.tokens).toEqual(["a", "b", "c", UNKNOWN_CHAR]);
    const tok = textTokenizer(v, 4);
    expect(tok("abz")).toEqual({ ids: Int32Array.of(0, 1, 3), unknown: 1, cut: false });
    expect(tok("abcabc")).toEqual({ ids: Int32Array.of(0, 1, 2, 0), unknown: 0, cut: true });
    // characters seen once are unknown with minCount 2: the unknown id is then trained too
    expect(textVocab(["abba", "cab"], { tokens: "chars", minCount: 2 }).tokens).toEqual(["a", "b", UNKNOWN_CHAR]);
  });

  it("words: str.split's words, the most frequent kept, <unk> for the rest", () => {
    const v = textVocab(["the king", "the queen", "a king"], { tokens: "words", vocabSize: 4 });
    expect(v.tokens).toEqual(["<unk>", "<eos>", "king", "the"]);
    const tok = textTokenizer(v);
    expect(tok("the\u2003queen\n")).toEqual({ ids: Int32Array.of(3, 0), unknown: 1, cut: false });
    expect(tok("the king\nking")).toEqual({ ids: Int32Array.of(3, 2, 1, 2), unknown: 0, cut: false });
  });

  it("prepares texts: lower case, punctuation split off", () => {
    expect(prepareText("Now, my LORD!", { lowercase: true })).toBe("now, my lord!");
    expect(prepareText("Now, my LORD! Ne'er", { splitPunctuation: true }).split(/\s+/)).toEqual(["Now", ",", "my", "LORD", "!", "Ne'er"]);
    expect(prepareText("Über—alles", { lowercase: true, splitPunctuation: true })).toBe("über — alles");
  });
});
