import { describe, expect, it } from "vitest";
import { tensor } from "../tensor/tensor.js";
import { isPackedSequence, packPaddedSequence, packSequence, padPackedSequence, padSequence } from "./pack.js";

// (T=3, B=3) of one feature: column b is sequence b, padding marked 0
//   t=0: 1 4 6
//   t=1: 2 5 0
//   t=2: 3 0 0
const x = tensor([1, 4, 6, 2, 5, 0, 3, 0, 0], [3, 3], "float64");

describe("pack and pad (torch.nn.utils.rnn)", () => {
  it("packs a sorted batch step by step: data [1 4 6 | 2 5 | 3], batchSizes [3, 2, 1]", () => {
    const p = packPaddedSequence(x, [3, 2, 1]);
    expect(Array.from(p.data.data)).toEqual([1, 4, 6, 2, 5, 3]);
    expect(p.data.shape).toEqual([6]);
    expect(Array.from(p.batchSizes)).toEqual([3, 2, 1]);
    expect(p.sortedIndices).toBeNull();
    expect(p.unsortedIndices).toBeNull();
    expect(isPackedSequence(p)).toBe(true);
    expect(isPackedSequence(x)).toBe(false);
  });

  it("sorts an unsorted batch by decreasing length, ties in batch order, and unpacks it in the original order", () => {
    // lengths [1, 3, 1]: sorted order 1, 0, 2 (the two 1s keep their order)
    const y = tensor([7, 1, 9, 0, 2, 0, 0, 3, 0], [3, 3], "float64");
    const p = packPaddedSequence(y, [1, 3, 1], { enforceSorted: false });
    expect(Array.from(p.sortedIndices!)).toEqual([1, 0, 2]);
    expect(Array.from(p.unsortedIndices!)).toEqual([1, 0, 2]);
    expect(Array.from(p.data.data)).toEqual([1, 7, 9, 2, 3]);
    expect(Array.from(p.batchSizes)).toEqual([3, 1, 1]);
    const { output, lengths } = padPackedSequence(p, { paddingValue: -1, totalLength: 4 });
    expect(output.shape).toEqual([4, 3]);
    expect(Array.from(output.data)).toEqual([7, 1, 9, -1, 2, -1, -1, 3, -1, -1, -1, -1]);
    expect(Array.from(lengths)).toEqual([1, 3, 1]);
  });

  it("batchFirst on both sides, with feature dimensions", () => {
    // (B=2, T=2, 2): sequence 0 has 1 step, sequence 1 has 2
    const y = tensor([1, 2, 0, 0, 3, 4, 5, 6], [2, 2, 2], "float64");
    const p = packPaddedSequence(y, [1, 2], { batchFirst: true, enforceSorted: false });
    expect(p.data.shape).toEqual([3, 2]);
    expect(Array.from(p.data.data)).toEqual([3, 4, 1, 2, 5, 6]);
    const { output } = padPackedSequence(p, { batchFirst: true });
    expect(output.shape).toEqual([2, 2, 2]);
    expect(Array.from(output.data)).toEqual([1, 2, 0, 0, 3, 4, 5, 6]);
  });

  it("padSequence stacks sequences of different lengths; packSequence packs them", () => {
    const a = tensor([1, 2, 3], [3], "float64");
    const b = tensor([4], [1], "float64");
    expect(Array.from(padSequence([a, b]).data)).toEqual([1, 4, 2, 0, 3, 0]);
    const bf = padSequence([a, b], { batchFirst: true, paddingValue: 9 });
    expect(bf.shape).toEqual([2, 3]);
    expect(Array.from(bf.data)).toEqual([1, 2, 3, 4, 9, 9]);
    expect(Array.from(packSequence([a, b]).data.data)).toEqual([1, 4, 2, 3]);
    expect(() => packSequence([b, a])).toThrow(/decreasing order with enforceSorted/);
    expect(Array.from(packSequence([b, a], { enforceSorted: false }).data.data)).toEqual([1, 4, 2, 3]);
  });

  it("refuses what PyTorch refuses", () => {
    expect(() => packPaddedSequence(x, [1, 3, 2])).toThrow(/decreasing order with enforceSorted .*enforceSorted: false/);
    expect(() => packPaddedSequence(x, [3, 0, 1])).toThrow(/lengths\[1\] = 0 is not a whole number in \[1, 3\]/);
    expect(() => packPaddedSequence(x, [4, 2, 1])).toThrow(/lengths\[0\] = 4/);
    expect(() => packPaddedSequence(x, [3, 2])).toThrow(/2 entries for a batch of 3/);
    expect(() => padPackedSequence(packPaddedSequence(x, [3, 2, 1]), { totalLength: 2 })).toThrow(/at least the longest length 3/);
    expect(() => padSequence([tensor([1, 2], [1, 2]), tensor([1, 2, 3], [1, 3])])).toThrow(/sequence 1 has shape \[1, 3\], expected \[L, 2\]/);
    const bad = { data: tensor([1, 2, 3], [3]), batchSizes: Int32Array.from([1, 2]), sortedIndices: null, unsortedIndices: null };
    expect(() => padPackedSequence(bad)).toThrow(/never grow/);
  });
});
