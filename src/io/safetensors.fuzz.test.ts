// Fuzzing the safetensors reader (fast-check): random bytes, valid files and mutations of them
// (truncation at every boundary, flipped length bytes, edited header JSON, huge header lengths,
// prototype-named keys, deep nesting), each either decoding to something consistent with the
// bytes or throwing a SafetensorsError, never another exception and never a hang; and round trips
// of random tensors, bit for bit, NaN payloads and -0 included.
// Deterministic by default; RNNLAB_FUZZ_SEED=n picks another seed, RNNLAB_FUZZ_SCALE=k runs k
// times as many inputs.

import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { decodeSafetensors, encodeSafetensors, MAX_HEADER_BYTES, SafetensorsError, type SafetensorsDType, type TensorToWrite } from "./safetensors.js";

const SEED = Number(process.env.RNNLAB_FUZZ_SEED ?? 20260101);
const SCALE = Number(process.env.RNNLAB_FUZZ_SCALE ?? 1);
const runs = (n: number) => ({ seed: SEED, numRuns: Math.max(1, Math.round(n * SCALE)) });
const BYTES: Record<SafetensorsDType, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I32: 4 };
const DTYPES = Object.keys(BYTES) as SafetensorsDType[];

let decoded = 0;
let accepted = 0;
const t0 = performance.now();

/** Decodes hostile bytes: a result consistent with the bytes, or a SafetensorsError; anything else fails. */
function attempt(bytes: Uint8Array): ReturnType<typeof decodeSafetensors> | null {
  decoded++;
  let out: ReturnType<typeof decodeSafetensors>;
  try {
    out = decodeSafetensors(bytes);
  } catch (e) {
    if (e instanceof SafetensorsError) {
      expect(e.message).not.toMatch(/\n/); // one line
      expect(e.message.length).toBeLessThan(400);
      return null;
    }
    throw e;
  }
  accepted++;
  // consistent: every tensor's data fills its shape in its dtype, and together they cover the data exactly
  const N = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  let total = 0;
  for (const t of out.tensors.values()) {
    expect(DTYPES).toContain(t.dtype);
    expect(t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)).toBe(true);
    expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
    expect(t.data).toBeInstanceOf(t.dtype === "F64" ? Float64Array : t.dtype === "I32" ? Int32Array : Float32Array);
    total += t.data.length * BYTES[t.dtype];
  }
  expect(total).toBe(bytes.length - 8 - N);
  for (const v of Object.values(out.metadata)) expect(typeof v).toBe("string");
  return out;
}

/** A file from header text and data bytes, with the right length field (or `length` when given). */
function file(headerText: string, data: Uint8Array, length?: bigint): Uint8Array {
  const json = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** JSON object text from entries, keeping keys such as "__proto__" and duplicates as they are. */
const objectText = (entries: [string, string][]) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`;

// --- valid files, built by hand (all five dtypes, any data order, any padding) -------------------

interface Spec {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  bytes: Uint8Array;
}
interface Valid {
  specs: Spec[];
  meta: [string, string][] | null;
  reversed: boolean;
  pad: number;
}

const nameArb = fc
  .oneof(
    { weight: 6, arbitrary: fc.string({ unit: "binary", maxLength: 6 }) },
    { weight: 1, arbitrary: fc.constantFrom("__proto__", "constructor", "toString", "hasOwnProperty", "0", "rnn.weight_ih_l0") },
  )
  .filter((s) => s !== "__metadata__");

const validArb: fc.Arbitrary<Valid> = fc
  .record({
    heads: fc.uniqueArray(fc.record({ name: nameArb, dtype: fc.constantFrom(...DTYPES), shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }) }), {
      selector: (s) => s.name,
      maxLength: 5,
    }),
    meta: fc.option(fc.uniqueArray(fc.tuple(nameArb, fc.string({ unit: "binary", maxLength: 8 })), { selector: (e) => e[0], maxLength: 3 })),
    reversed: fc.boolean(),
    pad: fc.integer({ min: 0, max: 9 }),
  })
  .chain(({ heads, meta, reversed, pad }) =>
    fc
      .tuple(
        ...heads.map((h) => {
          const n = h.shape.reduce((a, b) => a * b, 1) * BYTES[h.dtype];
          return fc.uint8Array({ minLength: n, maxLength: n });
        }),
      )
      .map((bs) => ({ specs: heads.map((h, i) => ({ ...h, bytes: bs[i] })), meta, reversed, pad })),
  );

/** The bytes of a Valid, its header length, and where each tensor's data begins and ends. */
function build(v: Valid): { bytes: Uint8Array; N: number; ranges: [number, number][]; header: [string, string][]; data: Uint8Array } {
  const order = v.reversed ? [...v.specs].reverse() : v.specs;
  const at = new Map<Spec, [number, number]>();
  let off = 0;
  for (const s of order) {
    at.set(s, [off, off + s.bytes.length]);
    off += s.bytes.length;
  }
  const data = new Uint8Array(off);
  for (const s of order) data.set(s.bytes, at.get(s)![0]);
  const header: [string, string][] = v.specs.map((s) => [s.name, JSON.stringify({ dtype: s.dtype, shape: s.shape, data_offsets: at.get(s) })]);
  if (v.meta) header.unshift(["__metadata__", objectText(v.meta.map(([k, val]) => [k, JSON.stringify(val)]))]);
  const text = objectText(header) + " ".repeat(v.pad);
  const bytes = file(text, data);
  const N = bytes.length - 8 - data.length;
  return { bytes, N, ranges: v.specs.map((s) => at.get(s)!), header, data };
}

/** binary16 bits to a number, by assembling float32 bits (not the reader's arithmetic). */
function halfBits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  const u = new Uint32Array(1);
  const f = new Float32Array(u.buffer);
  if (exp === 31) u[0] = sign | 0x7f800000 | (frac << 13);
  else if (exp === 0) return (sign ? -1 : 1) * frac * 2 ** -24;
  else u[0] = sign | ((exp - 15 + 127) << 23) | (frac << 13);
  return f[0];
}

describe("safetensors reader, fuzzed", () => {
  it("random bytes: a SafetensorsError or a consistent result", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (b) => void attempt(b)),
      runs(2500),
    );
  });

  it("a plausible header length followed by random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), (rest, k) => {
        const b = new Uint8Array(8 + rest.length);
        new DataView(b.buffer).setBigUint64(0, BigInt(k % (rest.length + 1)), true);
        b.set(rest, 8);
        attempt(b);
      }),
      runs(1000),
    );
  });

  it("any JSON value as the header, with random data", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.uint8Array({ maxLength: 32 }), (h, d) => void attempt(file(JSON.stringify(h) ?? "null", d))),
      runs(1000),
    );
  });

  it("valid files decode to exactly their bytes, in all five dtypes", () => {
    fc.assert(
      fc.property(validArb, (v) => {
        const { bytes } = build(v);
        const out = attempt(bytes);
        expect(out).not.toBeNull();
        expect(out!.tensors.size).toBe(v.specs.length);
        expect(out!.metadata).toEqual(Object.fromEntries(v.meta ?? []));
        for (const s of v.specs) {
          const t = out!.tensors.get(s.name)!;
          expect(t.dtype).toBe(s.dtype);
          expect(t.shape).toEqual(s.shape);
          const raw = new DataView(s.bytes.buffer, s.bytes.byteOffset, s.bytes.byteLength);
          if (s.dtype === "F16" || s.dtype === "BF16") {
            for (let i = 0; i < t.data.length; i++) {
              const h = raw.getUint16(2 * i, true);
              if (s.dtype === "BF16")
                expect(new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length)[i]).toBe(h * 0x10000); // the top half of a float32, bit for bit
              else expect(t.data[i]).toBe(halfBits(h)); // toBe is Object.is: NaN = NaN, -0 != 0
            }
          } else {
            expect(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)).toEqual(s.bytes);
          }
        }
      }),
      runs(700),
    );
  });

  it("a valid file cut short anywhere, at every boundary especially, is a SafetensorsError", () => {
    fc.assert(
      fc.property(validArb, fc.nat(), (v, k) => {
        const { bytes, N, ranges } = build(v);
        const cuts = new Set([0, 1, 7, 8, 9, 8 + N - 1, 8 + N, k % bytes.length]);
        for (const [b, e] of ranges) for (const c of [b, b + 1, e - 1, e]) cuts.add(8 + N + c);
        for (const c of cuts) {
          if (c < 0 || c >= bytes.length) continue;
          const cut = bytes.slice(0, c);
          expect(attempt(cut), `cut at ${c} of ${bytes.length}`).toBeNull();
        }
      }),
      runs(500),
    );
  });

  it("flipped bytes of the header length, and header lengths near and far past the limit", () => {
    fc.assert(
      fc.property(validArb, fc.integer({ min: 0, max: 7 }), fc.integer({ min: 1, max: 255 }), (v, i, x) => {
        const { bytes, N } = build(v);
        const flipped = bytes.slice();
        flipped[i] ^= x;
        attempt(flipped);
        for (const n of [BigInt(N) - 1n, BigInt(N) + 1n, BigInt(MAX_HEADER_BYTES), BigInt(MAX_HEADER_BYTES) + 1n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n]) {
          if (n < 0n) continue;
          const b = bytes.slice();
          new DataView(b.buffer).setBigUint64(0, n, true);
          const out = attempt(b);
          if (n > BigInt(N)) expect(out).toBeNull();
        }
      }),
      runs(400),
    );
  });

  const nasty = fc.oneof(
    fc.constantFrom<unknown>(
      "F32",
      "F64",
      "F16",
      "BF16",
      "I32",
      "I64",
      "U8",
      "BOOL",
      "f32",
      "",
      "toString",
      "__proto__",
      "constructor",
      "valueOf",
      -1,
      0,
      1,
      2 ** 31,
      2 ** 32,
      2 ** 53,
      2 ** 53 + 2,
      2 ** 64,
      1e300,
      -0,
      0.5,
      null,
      true,
      [],
      {},
      [0],
      [-1],
      [1, 2],
      [2 ** 40, 2 ** 40],
      [2 ** 53, 2 ** 53],
      [0, 2 ** 60],
      [1.5],
      ["1"],
      [[1]],
      [0, 0, 0],
      [4, 0],
      [-4, 4],
      [0, -0],
      [1e308, 1e308],
    ),
    fc.array(fc.integer({ min: -10, max: 2 ** 20 }), { maxLength: 4 }),
    fc.array(fc.oneof(fc.nat(64), fc.constant(2 ** 53 - 1), fc.double()), { maxLength: 3 }),
    fc.jsonValue({ maxDepth: 2 }),
  );

  it("header edits: wrong dtypes, bad, negative, overlapping and out-of-range offsets and shapes, odd entries", () => {
    fc.assert(
      fc.property(
        validArb,
        fc.nat(),
        fc.constantFrom("dtype", "shape", "data_offsets", "entry", "drop", "duplicate", "metadata", "whole", "swap"),
        nasty,
        (v, k, what, value) => {
          const { header, data } = build(v);
          const h = header.map(([n, t]) => [n, t] as [string, string]);
          const i = h.length ? k % h.length : 0;
          const json = (x: unknown) => JSON.stringify(x) ?? "null";
          if (what === "whole") {
            attempt(file(json(value), data));
            return;
          }
          if (h.length === 0) h.push(["t", json({ dtype: "F32", shape: [0], data_offsets: [0, 0] })]);
          const entry = JSON.parse(h[i][1]) as Record<string, unknown>;
          if (what === "dtype" || what === "shape" || what === "data_offsets") {
            entry[what] = value;
            h[i][1] = json(entry);
          } else if (what === "entry") h[i][1] = json(value);
          else if (what === "drop") h.splice(i, 1);
          else if (what === "duplicate") h.push([h[i][0], h[(k >> 3) % h.length][1]]);
          else if (what === "metadata") h.unshift(["__metadata__", json(value)]);
          else if (what === "swap" && h.length > 1) {
            const j = (i + 1) % h.length;
            [h[i][1], h[j][1]] = [h[j][1], h[i][1]];
          }
          attempt(file(objectText(h), data));
        },
      ),
      runs(2500),
    );
  });

  it("a few bytes changed anywhere in a valid file", () => {
    fc.assert(
      fc.property(validArb, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), (v, edits) => {
        const b = build(v).bytes.slice();
        for (const [p, x] of edits) b[p % b.length] ^= x;
        attempt(b);
      }),
      runs(1000),
    );
  });

  it("deep nesting, prototype names and huge shapes neither crash nor hang", () => {
    const deep = (n: number) => "[".repeat(n) + "]".repeat(n);
    const cases = [
      `{"t":{"dtype":${deep(200_000)},"shape":[0],"data_offsets":[0,0]}}`,
      `{"t":{"dtype":"F32","shape":${deep(200_000)},"data_offsets":[0,0]}}`,
      `{"t":{"dtype":"F32","shape":[0],"data_offsets":${deep(200_000)}}}`,
      `{"__metadata__":${deep(200_000)}}`,
      `{"__metadata__":{"k":${deep(200_000)}}}`,
      deep(500_000),
      `{"t":{"dtype":"F32","shape":[${new Array(1_000_000).fill(1).join(",")}],"data_offsets":[0,4]}}`,
      `{"t":{"dtype":"F32","shape":[0,${new Array(100_000).fill(2 ** 52).join(",")}],"data_offsets":[0,0]}}`,
      `{"t":{"dtype":"toString","shape":[1],"data_offsets":[0,4]}}`,
      `{"t":{"dtype":"__proto__","shape":[1],"data_offsets":[0,4]}}`,
      `{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`,
      `{"__metadata__":{"__proto__":"x"},"constructor":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`,
    ];
    for (const c of cases) {
      const started = performance.now();
      attempt(file(c, new Uint8Array(4)));
      expect(performance.now() - started).toBeLessThan(2000);
    }
    const proto = decodeSafetensors(file(`{"__metadata__":{"__proto__":"x"},"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, new Uint8Array(4)));
    expect(Object.getOwnPropertyNames(proto.metadata)).toEqual(["__proto__"]);
    // biome-ignore lint/suspicious/noProto: a key called "__proto__" in a hostile file is the point of this test
    expect(proto.metadata.__proto__).toBe("x");
    expect([...proto.tensors.keys()]).toEqual(["__proto__"]);
    expect(() => decodeSafetensors(file(`{"t":{"dtype":"toString","shape":[1],"data_offsets":[0,4]}}`, new Uint8Array(4)))).toThrow(
      /unsupported dtype "toString"/,
    );
  });
});

// --- round trips through the writer --------------------------------------------------------------

const specialF32 = [0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffbfffff, 0x7fc12345, 0x00000001, 0x807fffff, 0x7f7fffff];
const f32Word = fc.oneof({ weight: 1, arbitrary: fc.constantFrom(...specialF32) }, { weight: 3, arbitrary: fc.integer({ min: 0, max: 0xffffffff }) });
const specialF64 = [
  [0, 0],
  [0, 0x80000000],
  [0, 0x7ff00000],
  [1, 0x7ff00000],
  [0xdeadbeef, 0x7ff7ffff],
  [0, 0x7ff80000],
  [0x12345678, 0xfff80001],
  [1, 0],
  [0xffffffff, 0x800fffff],
];
const f64Words = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(...specialF64) },
  { weight: 3, arbitrary: fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff })) },
);

const tensorArb: fc.Arbitrary<TensorToWrite> = fc
  .tuple(fc.constantFrom("F32", "F64", "I32"), fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }))
  .chain(([dtype, shape]): fc.Arbitrary<TensorToWrite> => {
    const n = shape.reduce((a, b) => a * b, 1);
    if (dtype === "F64") {
      return fc.array(f64Words, { minLength: n, maxLength: n }).map((ws): TensorToWrite => {
        const u = new Uint32Array(ws.flat());
        return { shape, data: new Float64Array(u.buffer) };
      });
    }
    return fc.array(f32Word, { minLength: n, maxLength: n }).map((ws): TensorToWrite => {
      const u = new Uint32Array(ws);
      return { shape, data: dtype === "F32" ? new Float32Array(u.buffer) : new Int32Array(u.buffer) };
    });
  });

describe("safetensors writer and reader, round trips", () => {
  it("random tensors (F32, F64, I32; NaN payloads, -0, subnormals, infinities) and metadata come back bit for bit", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(nameArb, tensorArb), { selector: (e) => e[0], maxLength: 6 }),
        fc.uniqueArray(fc.tuple(nameArb, fc.string({ unit: "binary", maxLength: 12 })), { selector: (e) => e[0], maxLength: 4 }),
        (entries, meta) => {
          const tensors: Record<string, TensorToWrite> = {};
          for (const [n, t] of entries) Object.defineProperty(tensors, n, { value: t, enumerable: true });
          const metadata: Record<string, string> = {};
          for (const [k, v] of meta) Object.defineProperty(metadata, k, { value: v, enumerable: true });
          const bytes = encodeSafetensors(tensors, metadata);
          expect((8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))) % 8).toBe(0);
          const out = attempt(bytes)!;
          expect(out).not.toBeNull();
          expect(out.tensors.size).toBe(entries.length);
          for (const [n, t] of entries) {
            const got = out.tensors.get(n)!;
            expect(got.shape).toEqual(t.shape);
            expect(got.dtype).toBe(t.data instanceof Float64Array ? "F64" : t.data instanceof Float32Array ? "F32" : "I32");
            expect(new Uint8Array(got.data.buffer, got.data.byteOffset, got.data.byteLength)).toEqual(
              new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
            );
          }
          expect(Object.getOwnPropertyNames(out.metadata).sort()).toEqual(meta.map(([k]) => k).sort());
          for (const [k, v] of meta) expect(out.metadata[k]).toBe(v);
        },
      ),
      runs(1500),
    );
  });
});

afterAll(() => {
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(
    `safetensors fuzz: ${decoded} inputs decoded (${accepted} accepted, ${decoded - accepted} SafetensorsError, no other exception) in ${s} s, seed ${SEED}`,
  );
  if (SCALE >= 1) expect(decoded).toBeGreaterThanOrEqual(10_000);
});
