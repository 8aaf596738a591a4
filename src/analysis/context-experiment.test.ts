import { describe, expect, it } from "vitest";
import { ContextStories, fillerWords, STORY_NAMES } from "../data/context-stories.js";
import { CharVocab } from "../data/vocab.js";
import { FeedForwardLM } from "../nn/feedforward-lm.js";
import { LanguageModel } from "../nn/language-model.js";
import type { Float, Ids } from "../tensor/dtype.js";
import { jsKernels } from "../tensor/js-kernels.js";
import { Rng } from "../tensor/rng.js";
import { languageModelParams } from "../train/memory.js";
import {
  CONTEXT_MODELS,
  contextTable,
  encodeStoryTests,
  scoreStories,
  sizeForParams,
  storyChance,
  summarizeContext,
  type StoryPredictor,
} from "./context-experiment.js";

const WORDS = fillerWords("it was late in the day, and the light was going; a man sat by the door and said nothing at all.");
const stories = new ContextStories({ words: WORDS });
const vocab = new CharVocab([...stories.alphabet()]);
const isCapital = (id: number) => /[A-Z]/.test(vocab.chars[id]);

/**
 * A predictor that reads only the last `w` characters of each row (w = Infinity: all of them).
 * The last capital it sees is A (just before the blank); if it sees an earlier capital other than
 * A, that is B, and it answers with it; otherwise it guesses the first initial that is not A.
 * So it is right wherever B is inside its window, and at chance (1/7) beyond it.
 */
class WindowOracle implements StoryPredictor {
  readonly options = { vocabSize: vocab.size };
  constructor(readonly w: number) {}
  createState(B: number): Float[] {
    return [new Float32Array(B)];
  }
  predict(inputs: Ids, T: number, B: number): Float {
    const V = vocab.size;
    const logits = new Float32Array(B * V);
    for (let b = 0; b < B; b++) {
      const caps: number[] = [];
      for (let t = Math.max(0, T - this.w); t < T; t++) if (isCapital(inputs[t * B + b])) caps.push(inputs[t * B + b]);
      const a = caps[caps.length - 1];
      const seen = caps.filter((c) => c !== a);
      const guess = seen.length ? seen[seen.length - 1] : vocab.encode(STORY_NAMES.find((n) => vocab.encode(n[0])[0] !== a)![0])[0];
      logits[b * V + guess] = 10;
    }
    return logits;
  }
}

/** The oracle carries nothing between calls: its prefixes go through predict in one call. */
const ONE_CALL = 1_000_000;

describe("scoreStories", () => {
  const cases = encodeStoryTests(stories.tests(new Rng(4), [0, 20, 60], 2000), vocab);

  it("encodes each distance as one (T, N) batch with the answers' initials", () => {
    expect(cases.map((c) => [c.d, c.distance, c.T, c.N])).toEqual([
      [0, 36, 63, 2000],
      [20, 56, 83, 2000],
      [60, 96, 123, 2000],
    ]);
    for (const c of cases) {
      for (let n = 0; n < 50; n++) {
        // B's initial stands D characters before the blank, i.e. at step T - D
        expect(c.inputs[(c.T - c.distance) * c.N + n]).toBe(c.answers[n]);
        expect(isCapital(c.answers[n])).toBe(true);
      }
    }
  });

  it("a predictor that sees every character scores 100%", () => {
    const s = scoreStories(new WindowOracle(Infinity), cases, ONE_CALL);
    expect(s.map((x) => x.accuracy)).toEqual([1, 1, 1]);
    expect(s.every((x) => x.correct === 2000 && x.n === 2000)).toBe(true);
    // one-hot logits of 10 over 40 characters: log p = 10 - log(e^10 + 39)
    for (const x of s) expect(x.logProb).toBeCloseTo(10 - Math.log(Math.exp(10) + vocab.size - 1), 6);
  });

  it("a predictor whose window ends before B is at chance, 1/(names - 1), and right inside its window", () => {
    // window 50: D = 36 inside; D = 56 and 96 beyond it
    const s = scoreStories(new WindowOracle(50), cases, ONE_CALL);
    const chance = storyChance(STORY_NAMES.length);
    expect(chance).toBeCloseTo(1 / 7, 15);
    expect(s[0].accuracy).toBe(1);
    // binomial standard deviation sqrt(p (1 - p) / N) = sqrt(1/7 * 6/7 / 2000) = 0.0078: within 4 of them
    for (const x of s.slice(1)) expect(Math.abs(x.accuracy - chance)).toBeLessThan(4 * 0.0078);
  });

  it("a feed-forward model whose window cannot reach B is no better than chance, and a model reads the batch as it is", () => {
    const ff = new FeedForwardLM({ vocabSize: vocab.size, embedSize: 4, hiddenSize: 8, window: 16, seed: 1, kernels: jsKernels });
    const lm = new LanguageModel({ vocabSize: vocab.size, embedSize: 4, hiddenSize: 8, numLayers: 1, cell: "lstm", seed: 1, kernels: jsKernels });
    const few = encodeStoryTests(stories.tests(new Rng(5), [0, 40], 300), vocab);
    for (const m of [ff, lm]) {
      const s = scoreStories(m, few);
      // in chunks of 7 steps with the state carried, or all at once: the same scores
      const whole = scoreStories(m, few, 1000);
      const chunked = scoreStories(m, few, 7);
      for (let i = 0; i < s.length; i++) {
        expect(chunked[i].correct).toBe(whole[i].correct);
        expect(chunked[i].logProb).toBeCloseTo(whole[i].logProb, 5);
      }
      for (const x of s) {
        expect(x.accuracy).toBeLessThan(storyChance(8) + 4 * Math.sqrt(((1 / 7) * (6 / 7)) / 300));
        expect(Number.isFinite(x.logProb) && x.logProb < 0).toBe(true);
      }
      // the same stories one at a time give the same scores: rows of a batch do not mix
      const one = few[1];
      let correct = 0;
      for (let n = 0; n < 40; n++) {
        const ids = new Int32Array(one.T);
        for (let t = 0; t < one.T; t++) ids[t] = one.inputs[t * one.N + n];
        const logits = m.predict(ids, one.T, 1, m.createState(1));
        const best = logits.indexOf(Math.max(...logits));
        if (best === one.answers[n]) correct++;
      }
      const sub = scoreStories(m, [{ ...one, N: 40, inputs: sliceColumns(one.inputs, one.T, one.N, 40), answers: one.answers.subarray(0, 40) }]);
      expect(sub[0].correct).toBe(correct);
    }
  });

  it("refuses prefixes of different lengths in one distance", () => {
    expect(() =>
      encodeStoryTests(
        [{ d: 0, distance: 36, prefixes: ["Anne said hi to ", "Bill said hi to you "], answers: ["Bill", "Carl"], firsts: ["Anne", "Bill"] }],
        vocab,
      ),
    ).toThrow(/differ in length/);
  });
});

function sliceColumns(inputs: Int32Array, T: number, N: number, n: number): Int32Array {
  const out = new Int32Array(T * n);
  for (let t = 0; t < T; t++) out.set(inputs.subarray(t * N, t * N + n), t * n);
  return out;
}

describe("sizeForParams", () => {
  it("finds the hidden size whose parameter count is closest to the target", () => {
    // 4h^2 + 117h + 765: h = 85 gives 39,610 (390 short), h = 86 gives 40,411 (411 over)
    expect(sizeForParams((h) => 4 * h * h + 117 * h + 765, 40_000)).toBe(85);
    expect(sizeForParams((h) => h, 7)).toBe(7);
    expect(sizeForParams((h) => 10 * h, 5)).toBe(1);
    expect(sizeForParams((h) => h, 1e9, 64)).toBe(64);
    const V = 40;
    for (const row of CONTEXT_MODELS) {
      const count = (h: number) =>
        languageModelParams({ cell: row.cell, vocabSize: V, embedSize: 16, hiddenSize: h, numLayers: 1, tieWeights: false, window: 64 });
      const h = sizeForParams(count, 40_000);
      expect(Math.abs(count(h) - 40_000)).toBeLessThanOrEqual(Math.abs(count(h + 1) - 40_000));
      expect(Math.abs(count(h) - 40_000)).toBeLessThanOrEqual(Math.abs(count(h - 1) - 40_000));
    }
  });
});

describe("summarizeContext and contextTable", () => {
  it("averages over seeds, shows their range, and adds the chance row", () => {
    const score = (accuracy: number) => ({ d: 0, distance: 36, n: 10, correct: accuracy * 10, accuracy, logProb: -1 });
    const rows = summarizeContext(
      [
        { name: "lstm", label: "LSTM + clipping", params: 39_896 },
        { name: "mlp", label: "feed-forward window", params: 40_001 },
      ],
      [{ d: 0, distance: 36 }],
      [
        { model: "lstm", seed: 1, scores: [score(0.9)] },
        { model: "lstm", seed: 2, scores: [score(0.5)] },
        { model: "mlp", seed: 1 },
      ],
    );
    expect(rows[0].byDistance[0]).toMatchObject({ accuracy: 0.7, runs: 2, min: 0.5, max: 0.9 });
    expect(rows[1].byDistance[0]).toMatchObject({ accuracy: null, runs: 0 });
    const table = contextTable(rows, 1 / 7, 30);
    expect(table.split("\n")).toEqual([
      "| model | parameters | D = 36 * |",
      "|---|---:|---:|",
      "| LSTM + clipping | 39,896 | 70.0 (50.0–90.0) |",
      "| feed-forward window | 40,001 | failed |",
      "| chance (1/(names−1): A is excluded) | | 14.3 |",
    ]);
  });
});
