import { describe, expect, it } from "vitest";
import { StreamBatcher } from "./batches.js";
import { encodeText, TokenEncoder, VocabCollector } from "./corpus.js";

describe("text to ids", () => {
  it("works on code points, including characters outside the BMP, in chunks that split nothing", () => {
    const text = "héllo 🙂 wörld 🙂\n";
    const { vocab, tokens } = encodeText(text);
    expect(vocab.chars).toEqual(["\n", " ", "d", "h", "l", "o", "r", "w", "é", "ö", "🙂"]);
    expect(tokens).toBeInstanceOf(Uint8Array);
    expect(tokens.length).toBe([...text].length);
    expect(vocab.decode(tokens)).toBe(text);
    // two passes over chunks give the same ids
    const chunks = ["héllo 🙂", " wörld ", "🙂\n"];
    const c = new VocabCollector();
    chunks.forEach((s) => c.add(s));
    expect(c.vocab().chars).toEqual(vocab.chars);
    const e = new TokenEncoder(c.vocab(), c.count);
    chunks.forEach((s) => e.add(s));
    expect(e.tokens).toEqual(tokens);
  });

  it("stores ids in the narrowest type", () => {
    const wide = Array.from({ length: 300 }, (_, i) => String.fromCodePoint(0x4e00 + i)).join("");
    expect(encodeText(wide).tokens).toBeInstanceOf(Uint16Array);
  });

  it("names a character outside the vocabulary", () => {
    expect(() => encodeText("abc", encodeText("ab").vocab)).toThrow(/"c" is not in the vocabulary/);
  });
});

describe("StreamBatcher", () => {
  it("cuts the stream into B contiguous streams and continues each across batches (char-rnn layout)", () => {
    // 0..20: n = 21, B = 2 streams of S = 10: stream 0 is 0..9 (+10), stream 1 is 10..19 (+20)
    const tokens = Uint8Array.from({ length: 21 }, (_, i) => i);
    const b = new StreamBatcher(tokens, 2, 3);
    expect(b.windowsPerPass).toBe(3);
    const w0 = b.next();
    expect([...w0.inputs]).toEqual([0, 10, 1, 11, 2, 12]); // (T, B), time-major
    expect([...w0.targets]).toEqual([1, 11, 2, 12, 3, 13]);
    expect(w0.first).toBe(true);
    const w1 = b.next();
    expect([...w1.inputs]).toEqual([3, 13, 4, 14, 5, 15]);
    expect(w1.first).toBe(false);
    b.next();
    expect(b.next().first).toBe(true); // a new pass
    expect(b.epoch).toBe(1);
  });
});
