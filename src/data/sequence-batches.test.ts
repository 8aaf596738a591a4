import { describe, expect, it } from "vitest";
import { BucketBatcher, padBatch } from "./sequence-batches.js";

describe("padBatch", () => {
  it("stacks token ids time-major with each row's length", () => {
    // x[t, b] = sequences[b][t]: rows (t = 0) 5 8, (t = 1) 6 pad, (t = 2) 7 pad
    const { x, T, B, lengths } = padBatch([[5, 6, 7], [8]]);
    expect([T, B]).toEqual([3, 2]);
    expect([...x]).toEqual([5, 8, 6, 0, 7, 0]);
    expect([...lengths]).toEqual([3, 1]);
    expect([...padBatch([[5, 6, 7], [8]], { paddingValue: -1 }).x]).toEqual([5, 8, 6, -1, 7, -1]);
  });

  it("stacks float sequences of F features a step, keeping their type", () => {
    const p = padBatch([Float64Array.of(1, 2, 3, 4), Float64Array.of(5, 6)], { features: 2 });
    expect(p.x).toBeInstanceOf(Float64Array);
    // (T=2, B=2, F=2): step 0 rows [1,2] [5,6]; step 1 rows [3,4] [pad]
    expect([...p.x]).toEqual([1, 2, 5, 6, 3, 4, 0, 0]);
    expect([...p.lengths]).toEqual([2, 1]);
  });

  it("refuses what it cannot pad", () => {
    expect(() => padBatch([])).toThrow(/no sequences/);
    expect(() => padBatch([[1], []])).toThrow(/sequence 1 is empty/);
    expect(() => padBatch([[1.5]])).toThrow(/token ids are whole numbers/);
    expect(() => padBatch([Float32Array.of(1, 2, 3)], { features: 2 })).toThrow(/not a multiple of 2 features/);
    expect(() => padBatch([[1]], { padding: 0 } as never)).toThrow(/unknown option "padding"/);
  });
});

describe("BucketBatcher", () => {
  const lengths = [5, 1, 9, 3, 3, 7, 2, 8, 4, 6, 1, 2];
  const seqs = lengths.map((n, i) => Int32Array.from({ length: n }, () => i));
  const labels = lengths.map((_, i) => i % 3);

  it("gives every sequence once an epoch, with its label, in a seeded order", () => {
    const a = new BucketBatcher(seqs, labels, { batchSize: 4, seed: 3 });
    const e1 = a.epoch();
    expect(e1).toHaveLength(a.batchesPerEpoch);
    const seen = e1.flatMap((b) => [...b.indices]).sort((x, y) => x - y);
    expect(seen).toEqual(lengths.map((_, i) => i));
    for (const b of e1) {
      b.indices.forEach((i, r) => {
        expect(b.labels[r]).toBe(labels[i]);
        expect(b.lengths[r]).toBe(lengths[i]);
        expect(b.x[r]).toBe(i); // step 0 of row r is sequence i's
      });
    }
    const b = new BucketBatcher(seqs, labels, { batchSize: 4, seed: 3 });
    expect(b.epoch().map((x) => [...x.indices])).toEqual(e1.map((x) => [...x.indices]));
    expect(a.epoch().map((x) => [...x.indices])).not.toEqual(e1.map((x) => [...x.indices]));
  });

  it("groups sequences of similar length (one bucket: sorted by length, then cut)", () => {
    const e = new BucketBatcher(seqs, labels, { batchSize: 4, seed: 1 }).epoch();
    const spans = e.map((b) => [Math.min(...b.lengths), Math.max(...b.lengths)]).sort((p, q) => p[0] - q[0]);
    expect(spans).toEqual([
      [1, 2],
      [3, 5],
      [6, 9],
    ]);
  });

  it("pads per-step labels with IGNORE_INDEX", () => {
    const steps = [Int32Array.of(1, 2, 3), Int32Array.of(4)];
    const b = new BucketBatcher(steps, [[0, 1, 1], [2]], { batchSize: 2, bucketBatches: 1 }).batchOf([0, 1]);
    expect([...b.labels]).toEqual([0, 2, 1, -100, 1, -100]);
    expect(() => new BucketBatcher(steps, [[0, 1], [2]], { batchSize: 2 })).toThrow(/label 0 must be a list of 3 labels/);
    expect(() => new BucketBatcher(steps, [0], { batchSize: 2 })).toThrow(/2 sequences but 1 labels/);
  });
});
