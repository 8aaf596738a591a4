// The arena's bump pointer is an unsigned 32-bit address: allocations past 2 GiB work (a signed
// pointer went negative there), and a request past 4 GiB is a ResourceError that reserves nothing.

import { describe, expect, it } from "vitest";
import { ResourceError } from "../../errors.js";
import { Arena, ARENA_LIMIT } from "./arena.js";

describe("Arena", () => {
  it("hands out addresses above 2 GiB, and refuses more than 4 GiB without moving its pointer", () => {
    const a = new Arena(Arena.memory(1));
    const low = a.f32(4);
    expect(low.byteOffset).toBeGreaterThan(0);
    a.reserve(2 ** 31); // grows the memory to just past 2 GiB (untouched pages cost no RAM)
    const high = a.f32(16);
    expect(high.byteOffset).toBeGreaterThan(2 ** 31);
    high[15] = 7;
    expect(high[15]).toBe(7);
    const used = a.used;
    expect(() => a.reserve(ARENA_LIMIT)).toThrow(ResourceError);
    expect(() => a.f32(2 ** 30)).toThrow(/out of memory: 4 GiB more do not fit/);
    expect(a.used).toBe(used);
    expect(a.free).toBe(ARENA_LIMIT - used);
  });
});
