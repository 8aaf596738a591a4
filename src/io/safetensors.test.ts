import { describe, expect, it } from "vitest";
import { joinSafetensors } from "../../test/helpers/safetensors-bytes.js";
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from "./safetensors.js";

const raw = joinSafetensors;

describe("safetensors", () => {
  it("round-trips F32, F64 and I32 tensors and metadata bit for bit", () => {
    const f32 = new Float32Array([1.5, -0, NaN, Infinity, 3.4e38, 1e-45]);
    const f64 = new Float64Array([Math.PI, -1e-300]);
    const i32 = new Int32Array([-7, 2147483647]);
    const bytes = encodeSafetensors(
      { a: { shape: [2, 3], data: f32 }, b: { shape: [2], data: f64 }, c: { shape: [1, 2], data: i32 } },
      { step: "7", config: "{}" },
    );
    expect((8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))) % 8).toBe(0); // data starts 8-aligned
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual({ step: "7", config: "{}" });
    expect(tensors.get("a")).toMatchObject({ dtype: "F32", shape: [2, 3] });
    expect(new Uint8Array(tensors.get("a")!.data.buffer)).toEqual(new Uint8Array(f32.buffer));
    expect(tensors.get("b")!.data).toEqual(f64);
    expect(tensors.get("c")).toMatchObject({ dtype: "I32", shape: [1, 2], data: i32 });
  });

  it("takes the tensors decodeSafetensors gives (a Map) as it takes a plain object: the same bytes", () => {
    const bytes = encodeSafetensors({ w: { shape: [2], data: new Float32Array([1, 2]) }, b: { shape: [1], data: new Float64Array([3]) } }, { k: "v" });
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(encodeSafetensors(tensors, metadata)).toEqual(bytes);
  });

  it("reads F16 and BF16 as float32", () => {
    // F16 0x3c00 = 1, 0xc000 = -2, 0x0001 = 2^-24; BF16 0x3f80 = 1, 0x4049 = 3.140625
    const f = decodeSafetensors(
      raw(
        { h: { dtype: "F16", shape: [3], data_offsets: [0, 6] }, b: { dtype: "BF16", shape: [2], data_offsets: [6, 10] } },
        [0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00, 0x80, 0x3f, 0x49, 0x40],
      ),
    );
    expect([...f.tensors.get("h")!.data]).toEqual([1, -2, 2 ** -24]);
    expect([...f.tensors.get("b")!.data]).toEqual([1, 3.140625]);
  });

  const bad: [string, Uint8Array, RegExp][] = [
    ["too short for the length", new Uint8Array(5), /shorter than the 8-byte/],
    ["a header past the end", raw({}).subarray(0, 9), /runs past the end/],
    [
      "a header that is not JSON",
      (() => {
        const r = raw({ a: 1 });
        r[9] = 0x7b;
        r[10] = 0x7b;
        return r;
      })(),
      /not valid UTF-8 JSON/,
    ],
    ["a header that is an array", raw([1, 2]), /not a JSON object/],
    ["an unknown dtype", raw({ t: { dtype: "Q7", shape: [1], data_offsets: [0, 1] } }, [0]), /unsupported dtype "Q7"/],
    ["a bad shape", raw({ t: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }, [0, 0, 0, 0]), /shape is not a list/],
    ["offsets out of range", raw({ t: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }, [0, 0, 0, 0]), /outside the 4 data bytes/],
    ["a size that does not match the shape", raw({ t: { dtype: "F32", shape: [2], data_offsets: [0, 4] } }, [0, 0, 0, 0]), /do not hold shape/],
    [
      "overlapping tensors",
      raw({ a: { dtype: "F32", shape: [1], data_offsets: [0, 4] }, b: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, [0, 0, 0, 0]),
      /overlaps/,
    ],
    ["a hole", raw({ a: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, [0, 0, 0, 0, 0, 0, 0, 0]), /leaves a hole/],
    ["trailing bytes", raw({ a: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, [0, 0, 0, 0, 9]), /not indexed/],
    ["non-string metadata", raw({ __metadata__: { step: 3 } }), /is not a string/],
    ["a huge shape", raw({ t: { dtype: "F32", shape: [2 ** 40, 2 ** 40], data_offsets: [0, 4] } }, [0, 0, 0, 0]), /larger than the file/],
  ];
  for (const [what, bytes, message] of bad) {
    it(`rejects ${what}`, () => {
      expect(() => decodeSafetensors(bytes)).toThrow(SafetensorsError);
      expect(() => decodeSafetensors(bytes)).toThrow(message);
    });
  }
});
