import { describe, expect, it } from "vitest";
import { FeedForwardLM } from "../nn/feedforward-lm.js";
import { LanguageModel } from "../nn/language-model.js";
import type { Float, Ids } from "../tensor/dtype.js";
import { jsKernels } from "../tensor/js-kernels.js";
import { Rng } from "../tensor/rng.js";
import { probeContext } from "./context.js";
import { saliency, type SaliencyModel } from "./saliency.js";

/** log softmax(z)[v], in float64. */
function logProb(z: Float, v: number): number {
  let max = -Infinity;
  for (const x of z) max = Math.max(max, x);
  let s = 0;
  for (const x of z) s += Math.exp(x - max);
  return z[v] - max - Math.log(s);
}

function lstm(seed: number): LanguageModel {
  const lm = new LanguageModel({ vocabSize: 12, embedSize: 5, hiddenSize: 7, numLayers: 2, cell: "lstm", dtype: "float64", seed, kernels: jsKernels });
  const rng = new Rng(seed);
  const v = lm.store.values;
  for (let i = 0; i < v.length; i++) v[i] += 0.3 * rng.uniformRange(-1, 1);
  return lm;
}

/** A model that reads only its last input: its logits are row `last` of a fixed table; its gradient is 0 but at the last step. */
class LastOnly implements SaliencyModel {
  readonly options = { vocabSize: 4, embedSize: 2 };
  readonly table = [
    [0, 1, 2, 3],
    [3, 2, 1, 0],
    [1, 0, 0, 1],
    [0.5, 0, 2, 0],
  ];
  createState(B: number): Float[] {
    return [new Float64Array(B)];
  }
  eval(): this {
    return this;
  }
  predict(inputs: Ids, T: number, B: number, state: Float[]): Float {
    const z = new Float64Array(B * 4);
    for (let b = 0; b < B; b++) {
      state[0][b] = inputs[(T - 1) * B + b];
      z.set(this.table[state[0][b]], b * 4);
    }
    return z;
  }
  logProbGradient(inputs: Ids, T: number, target: number, into: Float): number {
    into.fill(0, 0, T * 2);
    into[(T - 1) * 2] = 3;
    into[(T - 1) * 2 + 1] = 4;
    return logProb(Float64Array.from(this.table[inputs[T - 1]]), target);
  }
}

describe("saliency", () => {
  it("the occlusion of each token is the direct recomputation; the gradient is the norm of logProbGradient's", () => {
    const lm = lstm(3);
    const ids = Int32Array.from([1, 4, 4, 7, 2, 9, 0, 11, 3]);
    const T = ids.length;
    const s = saliency(lm, ids, { replacement: 5, rows: 4 });
    const base = logProb(lm.predict(ids, T, 1, lm.createState(1)), s.target);
    expect(s.logProb).toBeCloseTo(base, 12);
    for (let t = 0; t < T; t++) {
      const occluded = Int32Array.from(ids);
      occluded[t] = 5;
      const lp = logProb(lm.predict(occluded, T, 1, lm.createState(1)), s.target);
      expect(s.occlusion[t], `token ${t}`).toBeCloseTo(base - lp, 12);
    }
    const dx = new Float64Array(T * 5);
    lm.logProbGradient(ids, T, s.target, dx);
    for (let t = 0; t < T; t++) expect(s.gradient[t]).toBeCloseTo(Math.hypot(...dx.subarray(t * 5, t * 5 + 5)), 12);
    // the last token matters to the next one
    expect(s.gradient[T - 1]).toBeGreaterThan(0);
    // the same whatever the batch size
    const one = saliency(lm, ids, { replacement: 5, rows: 1 });
    one.occlusion.forEach((x, t) => expect(x).toBeCloseTo(s.occlusion[t], 12));
  });

  it("top-k: most probable first, the default target its first, probabilities that sum to 1 over the whole vocabulary", () => {
    const lm = lstm(8);
    const ids = Int32Array.from([2, 3, 5, 7]);
    const all = saliency(lm, ids, { replacement: 0, topK: 12 });
    expect(all.top).toHaveLength(12);
    expect(all.top.reduce((a, t) => a + t.prob, 0)).toBeCloseTo(1, 12);
    expect(all.top.every((t, i) => i === 0 || t.prob <= all.top[i - 1].prob)).toBe(true);
    expect(all.target).toBe(all.top[0].token);
    expect(Math.exp(all.logProb)).toBeCloseTo(all.top[0].prob, 12);
    // another target: its own log-probability
    const other = all.top[5].token;
    const s = saliency(lm, ids, { replacement: 0, topK: 3, target: other });
    expect(s.top).toHaveLength(3);
    expect(s.target).toBe(other);
    expect(Math.exp(s.logProb)).toBeCloseTo(all.top[5].prob, 12);
  });

  it("a model that reads only its last token: only that token matters, by both measures; replacing a token by itself changes nothing", () => {
    const m = new LastOnly();
    const ids = Int32Array.from([0, 1, 2, 3, 1]);
    const s = saliency(m, ids, { replacement: 2, rows: 2 });
    expect(s.target).toBe(0); // row 1 of the table: 3 is its largest logit, at token 0
    expect(s.occlusion.slice(0, 4)).toEqual([0, 0, 0, 0]);
    expect(s.occlusion[4]).toBeCloseTo(logProb(Float64Array.from(m.table[1]), 0) - logProb(Float64Array.from(m.table[2]), 0), 12);
    expect(s.gradient).toEqual([0, 0, 0, 0, 5]);
    const same = saliency(m, Int32Array.from([0, 2]), { replacement: 2 });
    expect(same.occlusion).toEqual([0, 0]);
  });

  it("the feed-forward window model fits both probes as it is: nothing beyond its window matters", () => {
    const ff = new FeedForwardLM({ vocabSize: 12, embedSize: 3, hiddenSize: 8, window: 4, dtype: "float64", seed: 2, kernels: jsKernels });
    const model: SaliencyModel = ff;
    const ids = Int32Array.from([1, 4, 4, 7, 2, 9, 0, 11, 3]);
    const s = saliency(model, ids, { replacement: 5 });
    // it sees the last 4 tokens: the 5 before them change nothing, by either measure
    expect(s.occlusion.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    expect(s.gradient.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    expect(s.gradient.slice(5).every((g) => g > 0)).toBe(true);
    const r = probeContext(
      ff,
      Int32Array.from({ length: 80 }, (_, i) => (i * 7) % 12),
      { maxDistance: 4, positions: 10 },
    );
    expect(r.distances).toEqual([1, 2, 4]);
    for (const c of r.curves) expect(c.effective).toBeLessThanOrEqual(4);
  });

  it("refuses an empty text and ids outside the vocabulary", () => {
    const m = new LastOnly();
    expect(() => saliency(m, new Int32Array(0), { replacement: 0 })).toThrow(/no tokens/);
    expect(() => saliency(m, Int32Array.from([1]), { replacement: 4 })).toThrow(/replacement 4/);
    expect(() => saliency(m, Int32Array.from([1]), { replacement: 0, target: -1 })).toThrow(/target -1/);
  });
});
