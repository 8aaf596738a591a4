import { describe, expect, it } from "vitest";
import { Rng } from "../tensor/rng.js";
import { generate, sampleLogits } from "./generate.js";
import { LanguageModel } from "./language-model.js";

describe("sampling", () => {
  const logits = new Float64Array([1, 3, 2, -1]);

  it("temperature 0 takes the most likely token", () => {
    expect(sampleLogits(logits, 0, 4, new Rng(1), { temperature: 0 })).toBe(1);
  });

  it("top-k draws only among the k most likely", () => {
    const rng = new Rng(2);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) seen.add(sampleLogits(logits, 0, 4, rng, { topK: 2 }));
    expect([...seen].sort()).toEqual([1, 2]);
  });

  it("draws with probability softmax(z / T)", () => {
    // softmax([1, 3, 2, -1] / 2) = e^{[0.5, 1.5, 1, -0.5]} / sum
    const p = [0.5, 1.5, 1, -0.5].map(Math.exp);
    const sum = p.reduce((a, b) => a + b);
    const rng = new Rng(3);
    const counts = [0, 0, 0, 0];
    const n = 40000;
    for (let i = 0; i < n; i++) counts[sampleLogits(logits, 0, 4, rng, { temperature: 2 })]++;
    // 4 standard errors of a proportion at n = 40000 is under 0.01
    counts.forEach((c, j) => expect(Math.abs(c / n - p[j] / sum)).toBeLessThan(0.01));
  });

  it("generate feeds each token back, from the prime's final state, deterministically per seed", () => {
    const lm = new LanguageModel({ vocabSize: 6, embedSize: 4, hiddenSize: 8, seed: 1 });
    const prime = Int32Array.from([1, 2, 3]);
    const a = generate(lm, { prime, length: 20, rng: new Rng(5) });
    expect(a).toEqual(generate(lm, { prime, length: 20, rng: new Rng(5) }));
    // greedy generation equals stepping by hand with predict
    const g = generate(lm, { prime, length: 5, rng: new Rng(5), temperature: 0 });
    const state = lm.createState(1);
    let logitsNow = lm.predict(prime, 3, 1, state);
    for (let i = 0; i < 5; i++) {
      const id = sampleLogits(logitsNow, 0, 6, new Rng(0), { temperature: 0 });
      expect(g[i]).toBe(id);
      logitsNow = lm.predict(Int32Array.from([id]), 1, 1, state);
    }
  });
});

describe("predict with a plan (the embedding and biases folded, W_hh packed, once for a run of calls)", () => {
  for (const dtype of ["float64", "float32"] as const) {
    it(`${dtype}: the logits of predict without a plan, to float rounding, and a new plan sees changed weights`, () => {
      const V = 7;
      const lm = new LanguageModel({ vocabSize: V, embedSize: 5, hiddenSize: 6, cell: "lstm", numLayers: 2, seed: 2, dtype });
      const ids = Int32Array.from([1, 4, 6, 0, 2, 5, 3, 3]);
      const run = (plan: boolean) => {
        const state = lm.createState(1);
        const p = { steps: 100, reuse: false };
        const out: number[] = [];
        out.push(...lm.predict(ids.subarray(0, 3), 3, 1, state, plan ? p : undefined));
        p.reuse = true;
        for (let i = 3; i < ids.length; i++) out.push(...lm.predict(ids.subarray(i, i + 1), 1, 1, state, plan ? p : undefined));
        return out;
      };
      const tol = dtype === "float64" ? 1e-12 : 1e-5;
      const plain = run(false);
      run(true).forEach((v, i) => expect(Math.abs(v - plain[i])).toBeLessThan(tol));
      // change W_ih: a plan's first call folds again
      const w = lm.store.params.find((p) => p.name === "rnn.weight_ih_l0")!;
      for (let i = 0; i < w.size; i++) w.value[i] *= 1.5;
      const plain2 = run(false);
      expect(Math.abs(plain2[0] - plain[0])).toBeGreaterThan(1e-6);
      run(true).forEach((v, i) => expect(Math.abs(v - plain2[i])).toBeLessThan(tol));
      // change W_hh and the biases (a plan packs W_hh and folds the biases into its table once): a plan's first call does both again
      for (const name of ["rnn.weight_hh_l0", "rnn.weight_hh_l1", "rnn.bias_ih_l0", "rnn.bias_hh_l0"]) {
        const q = lm.store.params.find((p) => p.name === name)!;
        for (let i = 0; i < q.size; i++) q.value[i] = q.value[i] * 0.5 + 0.01;
      }
      const plain3 = run(false);
      expect(Math.abs(plain3[10] - plain2[10])).toBeGreaterThan(1e-6);
      run(true).forEach((v, i) => expect(Math.abs(v - plain3[i])).toBeLessThan(tol));
    });
  }
});
