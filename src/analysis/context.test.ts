import { describe, expect, it } from "vitest";
import { CharVocab } from "../data/vocab.js";
import { WordVocab } from "../data/words.js";
import { LanguageModel } from "../nn/language-model.js";
import { jsKernels } from "../tensor/js-kernels.js";
import type { Float, Ids } from "../tensor/dtype.js";
import { Rng } from "../tensor/rng.js";
import { effectiveContext, logDistances, probeContext, samplePositions, tokenClasses, type ContextModel } from "./context.js";

/**
 * A model that provably sees only its last `k` inputs: its state is those k ids (+1, 0 = none)
 * per row, carried between predict calls, and its logits are a fixed function of them. Records
 * every column it is fed (the whole sequence of a pass, across chunks).
 */
class LastK implements ContextModel {
  readonly options: { vocabSize: number };
  readonly seen: number[][] = [];
  private fresh = true;
  constructor(
    readonly V: number,
    readonly k: number,
  ) {
    this.options = { vocabSize: V };
  }
  createState(B: number): Float[] {
    return [new Float64Array(this.k * B)];
  }
  eval(): this {
    return this;
  }
  predict(inputs: Ids, T: number, B: number, state: Float[]): Float {
    const s = state[0];
    if (this.isZero(s)) {
      this.fresh = true;
    }
    if (this.fresh) {
      for (let b = 0; b < B; b++) this.seen.push([]);
      this.fresh = false;
    }
    const base = this.seen.length - B;
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const id = inputs[t * B + b];
        this.seen[base + b].push(id);
        for (let j = 0; j < this.k - 1; j++) s[b * this.k + j] = s[b * this.k + j + 1];
        s[b * this.k + this.k - 1] = id + 1;
      }
    }
    const z = new Float64Array(B * this.V);
    for (let b = 0; b < B; b++) {
      for (let v = 0; v < this.V; v++) {
        let x = 0;
        for (let j = 0; j < this.k; j++) x += Math.sin(1.3 * (j + 1) * s[b * this.k + j] + 0.7 * v) * (j + 1);
        z[b * this.V + v] = x;
      }
    }
    return z;
  }
  private isZero(s: Float): boolean {
    for (const x of s) if (x !== 0) return false;
    return true;
  }
}

function text(n: number, V: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  return Int32Array.from({ length: n }, () => rng.int(V));
}

describe("context probe helpers", () => {
  it("distances: powers of two below the cap, then the cap", () => {
    expect(logDistances(1)).toEqual([1]);
    expect(logDistances(16)).toEqual([1, 2, 4, 8, 16]);
    expect(logDistances(20)).toEqual([1, 2, 4, 8, 16, 20]);
  });

  it("effective context: the smallest d from which on every loss is within the tolerance", () => {
    const ds = [1, 2, 4, 8, 16];
    // full 2.0: within 1% means <= 2.02
    expect(effectiveContext(ds, [3, 2.5, 2.01, 2.0, 2.0], 2)).toBe(4);
    // a dip at d = 2 that rises again does not count: from d = 8 on
    expect(effectiveContext(ds, [3, 2.01, 2.5, 2.0, 2.0], 2)).toBe(8);
    expect(effectiveContext(ds, [3, 3, 3, 3, 2], 2)).toBe(16);
    expect(effectiveContext(ds, [1.9, 1.9, 1.9, 1.9, 2], 2)).toBe(1);
  });

  it("positions: distinct, ascending, each with D tokens before it; all when fewer are available", () => {
    const p = samplePositions(1000, 100, 50, new Rng(1));
    expect(p).toHaveLength(50);
    expect(new Set(p).size).toBe(50);
    expect(p.every((x, i) => x >= 100 && x < 1000 && (i === 0 || x > p[i - 1]))).toBe(true);
    expect(samplePositions(1000, 100, 50, new Rng(1))).toEqual(p);
    expect(samplePositions(10, 7, 50, new Rng(1))).toEqual([7, 8, 9]);
  });

  it("classes: letters against the rest for characters, frequent against rare for words", () => {
    const cv = new CharVocab([" ", ",", "a", "é", "1"]);
    expect(Array.from(tokenClasses(cv, []).of)).toEqual([1, 1, 0, 0, 1]);
    const wv = new WordVocab(["<eos>", "the", "king", "queen"]);
    const ids = Int32Array.from([1, 1, 1, 2, 0, 3]); // "the" alone is half the text
    const c = tokenClasses(wv, ids);
    expect(Array.from(c.of)).toEqual([1, 0, 1, 1]);
    expect(c.names[0]).toMatch(/the 1 most frequent/);
  });
});

describe("probeContext", () => {
  it("a model that sees only its last 3 tokens: the loss from d = 4 on is the full context's, so the effective context is at most 4", () => {
    const V = 7;
    const tokens = text(400, V, 2);
    const model = new LastK(V, 3);
    const r = probeContext(model, tokens, { maxDistance: 64, positions: 40, seed: 3, rows: 16, chunk: 5 });
    expect(r.distances).toEqual([1, 2, 4, 8, 16, 32, 64]);
    expect(r.positions).toHaveLength(40);
    for (const c of r.curves) {
      expect(c.effective).toBeLessThanOrEqual(4);
      for (let i = 2; i < r.distances.length; i++) expect(c.loss[i]).toBeCloseTo(r.fullLoss, 12);
    }
    // with only one token (d = 1) the loss differs from the full context's
    expect(r.curves.find((c) => c.perturbation === "drop")!.loss[0]).not.toBeCloseTo(r.fullLoss, 3);
  });

  it("every perturbation keeps the last d tokens and the target; shuffle permutes the rest, replace draws it from the text", () => {
    const V = 50;
    const tokens = text(300, V, 5);
    const model = new LastK(V, 1);
    const D = 16;
    const r = probeContext(model, tokens, { maxDistance: D, positions: 7, seed: 9, rows: 3, chunk: 4 });
    // the passes in order: full, then drop, shuffle, replace at d = 1, 2, 4, 8; each pass N columns (+ spare ones of the last batch)
    const N = r.positions.length;
    const cols = (k: number) => {
      const first = k * 9; // 3 batches of 3 columns per pass
      return model.seen.slice(first, first + N);
    };
    const original = (p: number, T: number) => Array.from(tokens.subarray(p - T, p));
    r.positions.forEach((p, i) => expect(cols(0)[i]).toEqual(original(p, D)));
    const ds = [1, 2, 4, 8];
    ds.forEach((d, j) => {
      r.positions.forEach((p, i) => {
        expect(cols(1 + j)[i], "drop").toEqual(original(p, d));
        const sh = cols(1 + ds.length + j)[i];
        expect(sh.slice(D - d), "shuffle keeps the last d").toEqual(original(p, d));
        expect([...sh.slice(0, D - d)].sort((a, b) => a - b)).toEqual(original(p - d, D - d).sort((a, b) => a - b));
        const rep = cols(1 + 2 * ds.length + j)[i];
        expect(rep).toHaveLength(D);
        expect(rep.slice(D - d), "replace keeps the last d").toEqual(original(p, d));
        expect(rep.slice(0, D - d).every((x) => tokens.includes(x))).toBe(true);
      });
    });
    // the shuffles and replacements did change something
    expect(cols(1 + ds.length)[0]).not.toEqual(original(r.positions[0], D));
    expect(cols(1 + 2 * ds.length)[0]).not.toEqual(original(r.positions[0], D));
  });

  it("is deterministic for a seed, and the same whatever the batch and chunk sizes (a real LSTM, float64)", () => {
    const lm = new LanguageModel({ vocabSize: 9, embedSize: 4, hiddenSize: 6, cell: "lstm", dtype: "float64", seed: 4, kernels: jsKernels });
    const tokens = text(200, 9, 8);
    const o = { maxDistance: 32, positions: 11, seed: 5 };
    const a = probeContext(lm, tokens, { ...o, rows: 4, chunk: 3 });
    const b = probeContext(lm, tokens, { ...o, rows: 4, chunk: 3 });
    expect(b).toEqual(a);
    const c = probeContext(lm, tokens, { ...o, rows: 64, chunk: 100 });
    expect(c.positions).toEqual(a.positions);
    expect(c.fullLoss).toBeCloseTo(a.fullLoss, 12);
    c.curves.forEach((curve, i) => curve.loss.forEach((l, j) => expect(l).toBeCloseTo(a.curves[i].loss[j], 12)));
    const d = probeContext(lm, tokens, { ...o, seed: 6, rows: 4, chunk: 3 });
    expect(d.positions).not.toEqual(a.positions);
    // the full-context loss at a position is what predict gives on its D tokens, from the zero state
    const p = a.positions[0];
    const z = lm.predict(Int32Array.from(tokens.subarray(p - 32, p)), 32, 1, lm.createState(1));
    let max = -Infinity;
    for (const x of z) max = Math.max(max, x);
    let s = 0;
    for (const x of z) s += Math.exp(x - max);
    const loss0 = max + Math.log(s) - z[tokens[p]];
    const one = probeContext(lm, tokens.subarray(p - 32, p + 1), { maxDistance: 32, positions: 1, seed: 0, distances: [32] });
    expect(one.positions).toEqual([32]); // the only position with 32 tokens before it
    expect(one.fullLoss).toBeCloseTo(loss0, 12);
  });

  it("losses per class of target token, and the model's mode put back", () => {
    const lm = new LanguageModel({ vocabSize: 5, embedSize: 3, hiddenSize: 4, dtype: "float64", seed: 1, kernels: jsKernels });
    lm.train();
    const tokens = text(120, 5, 1);
    const classes = { names: ["even", "odd"], of: [0, 1, 0, 1, 0] };
    const r = probeContext(lm, tokens, { maxDistance: 8, positions: 30, classes, perturbations: ["drop"] });
    expect(lm.training).toBe(true);
    expect(r.curves.map((c) => c.perturbation)).toEqual(["drop"]);
    const by = r.fullByClass!;
    expect(by[0].count + by[1].count).toBe(30);
    // the class means average back to the overall mean
    expect((by[0].loss * by[0].count + by[1].loss * by[1].count) / 30).toBeCloseTo(r.fullLoss, 12);
    const drop = r.curves[0];
    expect(drop.byClass!.map((c) => c.loss.length)).toEqual([4, 4]);
    expect(drop.byClass![0].loss[3]).toBeCloseTo(by[0].loss, 12);
  });

  it("refuses a text too short for the distance, and a distance beyond a window model's window", () => {
    const model = new LastK(5, 2);
    expect(() => probeContext(model, text(10, 5, 1), { maxDistance: 10 })).toThrow(/a context of 10 needs at least 11/);
    const windowed = Object.assign(new LastK(5, 2), { window: 4 });
    expect(() => probeContext(windowed, text(100, 5, 1), { maxDistance: 8 })).toThrow(/beyond the model's window of 4/);
    expect(probeContext(windowed, text(100, 5, 1), { maxDistance: 4, positions: 5 }).distances).toEqual([1, 2, 4]);
  });
});
