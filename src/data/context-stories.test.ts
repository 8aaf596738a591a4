import { describe, expect, it } from "vitest";
import { Rng } from "../tensor/rng.js";
import { ContextStories, fillerWords, STORY_NAMES } from "./context-stories.js";

const TEXT = `First Citizen:
Before we proceed any further, hear me speak.
All: Speak, speak. You are all resolved rather to die than to famish? We know't, we know't.
Let us kill him, and we'll have corn at our own price. Is't a verdict? O, I am a man.`;

const stories = () => new ContextStories({ words: fillerWords(TEXT) });

describe("fillerWords", () => {
  it("keeps whole lowercase words (apostrophes inside), with repetitions, and drops capitalised ones", () => {
    expect(fillerWords("Jane said: it was late, wasn't it? 'tis JOHN's")).toEqual(["said", "it", "was", "late", "wasn't", "it", "tis"]);
    expect(fillerWords("a bb ccc dddd", 3)).toEqual(["a", "bb", "ccc"]);
    for (const w of fillerWords(TEXT)) expect(w).toMatch(/^[a-z']+$/);
  });
});

describe("ContextStories", () => {
  it("D = d + |B| + |' walked in too.'| + 1 + |A| + |' said hi to '| = d + 36 with 4-letter names", () => {
    const s = stories();
    // 4 + 15 + 1 + 4 + 12 = 36; the story: 4 + 23 + 4 + 15 + d + 1 + 4 + 12 + 4 + 2 = 69 + d
    expect(s.baseDistance).toBe(36);
    expect(s.baseLength).toBe(69);
    const rng = new Rng(3);
    for (const d of [0, 1, 2, 3, 7, 16, 64, 100, 256]) {
      const st = s.story(rng, d);
      expect(st.distance).toBe(s.distanceOf(d));
      expect(st.text.length).toBe(s.lengthOf(d));
      // the positions say what they claim
      expect(st.text[st.secondAt]).toBe(st.second[0]);
      expect(st.text.slice(st.secondAt, st.secondAt + 4)).toBe(st.second);
      expect(st.text.slice(0, st.blank).endsWith(`${st.first} said hi to `)).toBe(true);
      expect(st.text.slice(st.blank)).toBe(`${st.second}.\n`);
      expect(st.blank - st.secondAt).toBe(d + 36);
      expect(st.text).toBe(`${st.first} walked into the room. ${st.second} walked in too.${st.filler} ${st.first} said hi to ${st.second}.\n`);
      expect(st.first).not.toBe(st.second);
    }
  });

  it("fillers have exactly d characters, no capital letter, and only [a-z ,.;']", () => {
    const s = stories();
    const rng = new Rng(7);
    for (let d = 0; d <= 300; d++) {
      for (let k = 0; k < 5; k++) {
        const f = s.filler(rng, d);
        expect(f.length, JSON.stringify(f)).toBe(d);
        expect(f).toMatch(/^[a-z ,.;']*$/);
        if (d >= 2) expect(f[0]).toBe(" ");
      }
    }
    // a single word of one length: every filler length is still met
    const tiny = new ContextStories({ words: ["abc"] });
    for (let d = 0; d <= 40; d++) expect(tiny.filler(rng, d)).toHaveLength(d);
  });

  it("fixed fillers: one per length, the same in every story, drawn from fillerSeed", () => {
    const s = new ContextStories({ words: fillerWords(TEXT), fillers: "fixed", fillerSeed: 3 });
    const rng = new Rng(1);
    for (const d of [0, 1, 16, 64, 200]) {
      const a = s.story(rng, d);
      const b = s.story(rng, d);
      expect(a.filler).toBe(b.filler);
      expect(a.filler).toBe(s.fixedFiller(d));
      expect(a.filler).toHaveLength(d);
      expect(a.filler).toMatch(/^[a-z ,.;']*$/);
    }
    // the same for the same seed, others for another; the names still vary
    expect(new ContextStories({ words: fillerWords(TEXT), fillers: "fixed", fillerSeed: 3 }).fixedFiller(64)).toBe(s.fixedFiller(64));
    expect(new ContextStories({ words: fillerWords(TEXT), fillers: "fixed", fillerSeed: 4 }).fixedFiller(64)).not.toBe(s.fixedFiller(64));
    const pairs = new Set(s.tests(new Rng(2), [64], 200)[0].prefixes.map((p) => `${p[0]}${p[27]}`));
    expect(pairs.size).toBe(56); // 8 x 7 ordered pairs of names
    expect(() => new ContextStories({ words: ["a"], fillers: "mixed" as "fixed" })).toThrow(/fillers must be fixed or random/);
  });

  it("is deterministic for a seed, and different for another", () => {
    const s = stories();
    const a = s.trainingText(new Rng(5), [0, 16, 64], 5000);
    expect(s.trainingText(new Rng(5), [0, 16, 64], 5000)).toBe(a);
    expect(s.trainingText(new Rng(6), [0, 16, 64], 5000)).not.toBe(a);
    expect(s.tests(new Rng(5), [0, 32], 20)).toEqual(s.tests(new Rng(5), [0, 32], 20));
  });

  it("training text: whole stories of every filler length, at least the characters asked for", () => {
    const s = stories();
    const text = s.trainingText(new Rng(1), [0, 16, 64], 20_000);
    expect(text.length).toBeGreaterThanOrEqual(20_000);
    const lines = text.split("\n").slice(0, -1);
    expect(text.endsWith("\n")).toBe(true);
    const lengths = new Set(lines.map((l) => l.length + 1));
    expect(lengths).toEqual(new Set([69, 85, 133]));
    const alphabet = new Set(s.alphabet());
    expect([...new Set(text)].filter((ch) => !alphabet.has(ch))).toEqual([]);
  });

  it("test prefixes end in 'A said hi to ', share one length per distance, and the answers are uniform over B != A", () => {
    const s = stories();
    const [t0, t1] = s.tests(new Rng(2), [0, 50], 700);
    for (const t of [t0, t1]) {
      expect(t.prefixes).toHaveLength(700);
      expect(new Set(t.prefixes.map((p) => p.length))).toEqual(new Set([s.lengthOf(t.d) - 6]));
      t.prefixes.forEach((p, i) => {
        expect(p.endsWith(`${t.firsts[i]} said hi to `)).toBe(true);
        expect(t.answers[i]).not.toBe(t.firsts[i]);
        // B's initial stands D characters before the blank
        expect(p[p.length - t.distance]).toBe(t.answers[i][0]);
      });
    }
    const counts = STORY_NAMES.map((n) => t0.answers.filter((a) => a === n).length);
    for (const c of counts) expect(c).toBeGreaterThan(50); // 700/8 = 87.5 on average
  });

  it("refuses names it cannot score and filler words with capitals", () => {
    const words = ["a", "the"];
    expect(() => new ContextStories({ words, names: ["Anne", "Bob"] })).toThrow(/at least 3 names/);
    expect(() => new ContextStories({ words, names: ["Anne", "Bill", "Bob"] })).toThrow(/equal lengths/);
    expect(() => new ContextStories({ words, names: ["Anne", "Alan", "Bill"] })).toThrow(/distinct initials/);
    expect(() => new ContextStories({ words, names: ["anne", "Bill", "Carl"] })).toThrow(/capital letter/);
    expect(() => new ContextStories({ words: ["the", "Jane"] })).toThrow(/lowercase/);
    expect(() => new ContextStories({ words: [] })).toThrow(/no filler words/);
    expect(() => stories().filler(new Rng(1), -1)).toThrow(RangeError);
  });
});
