// The safetensors format (https://github.com/huggingface/safetensors), read and written without
// Node APIs: an 8-byte little-endian header length N, N bytes of JSON header
//   { "<name>": { "dtype": "F32", "shape": [d0, ...], "data_offsets": [begin, end] }, ...,
//     "__metadata__": { "<key>": "<string>" } }
// then the tensors' bytes, little-endian and row-major, offsets relative to the end of the header.
// The reader treats its input as hostile: every length, offset and shape is checked before use,
// the data must be covered exactly (no holes, no overlaps), and any violation is a
// SafetensorsError naming the problem, never an out-of-bounds read.
// Reads F64, F32, F16, BF16, I32; writes F64, F32, I32, bit for bit (NaN payloads and -0 too).
// Deliberately no memory mapping. safetensors.fuzz.test.ts feeds it random and mutated files.

/** Element types rnnlab reads. */
export type SafetensorsDType = "F64" | "F32" | "F16" | "BF16" | "I32";

const BYTES: Record<SafetensorsDType, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I32: 4 };

/** Whether `s` names a dtype rnnlab reads (own keys only: "toString" is not a dtype). */
function isDType(s: unknown): s is SafetensorsDType {
  return typeof s === "string" && Object.hasOwn(BYTES, s);
}

/** Typed arrays hold their elements in the host's byte order; on little-endian hosts (all that run Node or a browser in practice) bytes are copied as they are, which keeps NaN payloads bit for bit. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A name or key for an error message: quoted, escaped (one line), and cut to 80 characters. */
function q(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 77)}...` : s);
}

/** A JSON value for an error message, without walking into it (it may be nested a million deep). */
function describe(v: unknown): string {
  if (typeof v === "string") return q(v);
  if (Array.isArray(v)) return "a list";
  if (v === null) return "null";
  return typeof v === "object" ? "an object" : typeof v === "number" || typeof v === "boolean" ? String(v) : typeof v;
}

/** Sets an own property, even one called "__proto__" (plain assignment would set the prototype). */
function setOwn(o: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The header is capped at 100 MB, as in the reference implementation. */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/** A decoded tensor. F16 and BF16 are widened to Float32Array. */
export interface SafetensorsTensor {
  dtype: SafetensorsDType;
  shape: number[];
  data: Float64Array | Float32Array | Int32Array;
}

/** A tensor to write: its type follows the buffer unless `dtype` says otherwise. */
export interface TensorToWrite {
  shape: readonly number[];
  data: Float64Array | Float32Array | Int32Array;
}

/** A malformed or unsupported safetensors file. */
export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SafetensorsError";
  }
}

function dtypeOfBuffer(d: TensorToWrite["data"]): SafetensorsDType {
  return d instanceof Float64Array ? "F64" : d instanceof Float32Array ? "F32" : "I32";
}

/**
 * Serialises tensors (in the given order; a plain object or a Map, as decodeSafetensors returns) and string metadata. The header is padded with spaces
 * to a multiple of 8 bytes so that every tensor starts 8-byte aligned in the file.
 * @example
 * const bytes = encodeSafetensors({ w: { shape: [2], data: new Float32Array([1, 2]) } }, { step: "3" });
 * decodeSafetensors(bytes).metadata.step // => "3"
 */
export function encodeSafetensors(
  tensors: Readonly<Record<string, TensorToWrite>> | ReadonlyMap<string, TensorToWrite>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) {
    const meta: Record<string, string> = {};
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string") throw new SafetensorsError(`metadata ${q(k)} is not a string`);
      setOwn(meta, k, v);
    }
    header.__metadata__ = meta;
  }
  let offset = 0;
  const parts: { at: number; t: TensorToWrite }[] = [];
  const entries: Iterable<readonly [string, TensorToWrite]> = tensors instanceof Map ? tensors : Object.entries(tensors as Record<string, TensorToWrite>);
  for (const [name, t] of entries) {
    if (name === "__metadata__") throw new SafetensorsError('a tensor cannot be called "__metadata__"');
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.shape.some((d) => !Number.isSafeInteger(d) || d < 0))
      throw new SafetensorsError(`tensor ${q(name)}: shape [${t.shape}] is not a list of whole numbers`);
    if (n !== t.data.length) throw new SafetensorsError(`tensor ${q(name)}: shape [${t.shape}] does not match ${t.data.length} values`);
    const dtype = dtypeOfBuffer(t.data);
    const bytes = n * BYTES[dtype];
    setOwn(header, name, { dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes] });
    parts.push({ at: offset, t });
    offset += bytes;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - ((8 + json.length) % 8)) % 8;
  if (pad) {
    const padded = new Uint8Array(json.length + pad).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  const base = 8 + json.length;
  for (const { at, t } of parts) {
    const d = t.data;
    let p = base + at;
    if (LITTLE_ENDIAN) out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), p);
    else if (d instanceof Float64Array) for (let i = 0; i < d.length; i++, p += 8) view.setFloat64(p, d[i], true);
    else if (d instanceof Float32Array) for (let i = 0; i < d.length; i++, p += 4) view.setFloat32(p, d[i], true);
    else for (let i = 0; i < d.length; i++, p += 4) view.setInt32(p, d[i], true);
  }
  return out;
}

/**
 * Parses and checks a whole safetensors file held in memory. Throws a SafetensorsError naming
 * the first problem (bad lengths, a header that is not JSON, unknown dtypes, offsets out of
 * range, overlapping or leaving holes, a truncated file).
 */
export function decodeSafetensors(bytes: Uint8Array): { tensors: Map<string, SafetensorsTensor>; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new SafetensorsError(`file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError(`header length ${n64} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const N = Number(n64);
  if (8 + N > bytes.length) throw new SafetensorsError(`header length ${N} runs past the end of the ${bytes.length}-byte file (truncated?)`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + N)));
  } catch {
    throw new SafetensorsError("header is not valid UTF-8 JSON");
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) throw new SafetensorsError("header is not a JSON object");
  const dataStart = 8 + N;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: SafetensorsDType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new SafetensorsError("__metadata__ is not an object");
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== "string") throw new SafetensorsError(`__metadata__[${q(k)}] is not a string`);
        setOwn(metadata, k, v);
      }
      continue;
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== "object" || e === null || Array.isArray(e)) throw new SafetensorsError(`tensor ${q(name)}: entry is not an object`);
    if (!isDType(e.dtype)) throw new SafetensorsError(`tensor ${q(name)}: unsupported dtype ${describe(e.dtype)} (rnnlab reads F64, F32, F16, BF16 and I32)`);
    const dtype = e.dtype;
    if (!Array.isArray(e.shape) || e.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      throw new SafetensorsError(`tensor ${q(name)}: shape is not a list of whole numbers`);
    }
    const shape = e.shape as number[];
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || off.some((o) => !Number.isSafeInteger(o) || o < 0)) {
      throw new SafetensorsError(`tensor ${q(name)}: data_offsets is not a pair of whole numbers`);
    }
    const [begin, end] = off as [number, number];
    if (begin > end || end > dataLen)
      throw new SafetensorsError(`tensor ${q(name)}: data_offsets [${begin}, ${end}] outside the ${dataLen} data bytes (truncated?)`);
    let numel = shape.includes(0) ? 0 : 1; // an empty dimension empties the tensor, whatever follows
    for (const d of shape) {
      if (numel === 0) break;
      numel *= d;
      if (numel > dataLen)
        throw new SafetensorsError(`tensor ${q(name)}: shape [${shape.length > 8 ? `${shape.slice(0, 8)},...` : shape}] is larger than the file`);
    }
    if (numel * BYTES[dtype] !== end - begin) {
      throw new SafetensorsError(
        `tensor ${q(name)}: ${end - begin} bytes do not hold shape [${shape.length > 8 ? `${shape.slice(0, 8)},...` : shape}] of ${dtype}`,
      );
    }
    entries.push({ name, dtype, shape, begin, end });
  }
  // the data must be covered exactly: sorted ranges, each starting where the last ended
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of sorted) {
    if (e.begin !== at)
      throw new SafetensorsError(`tensor ${q(e.name)}: data at ${e.begin} ${e.begin < at ? "overlaps the tensor before it" : "leaves a hole"}`);
    at = e.end;
  }
  if (at !== dataLen) throw new SafetensorsError(`${dataLen - at} data bytes after the last tensor are not indexed`);
  const tensors = new Map<string, SafetensorsTensor>();
  for (const e of entries) {
    const n = (e.end - e.begin) / BYTES[e.dtype];
    const p0 = dataStart + e.begin;
    let data: SafetensorsTensor["data"];
    if (LITTLE_ENDIAN && e.dtype !== "F16" && e.dtype !== "BF16") {
      data = e.dtype === "F64" ? new Float64Array(n) : e.dtype === "F32" ? new Float32Array(n) : new Int32Array(n);
      new Uint8Array(data.buffer).set(bytes.subarray(p0, p0 + (e.end - e.begin)));
    } else if (e.dtype === "F64") {
      data = new Float64Array(n);
      for (let i = 0; i < n; i++) data[i] = view.getFloat64(p0 + 8 * i, true);
    } else if (e.dtype === "F32") {
      data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = view.getFloat32(p0 + 4 * i, true);
    } else if (e.dtype === "I32") {
      data = new Int32Array(n);
      for (let i = 0; i < n; i++) data[i] = view.getInt32(p0 + 4 * i, true);
    } else if (e.dtype === "BF16") {
      // bfloat16 is the top half of a float32
      data = new Float32Array(n);
      const u = new Uint32Array(data.buffer);
      for (let i = 0; i < n; i++) u[i] = view.getUint16(p0 + 2 * i, true) << 16;
    } else {
      data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = halfToFloat(view.getUint16(p0 + 2 * i, true));
    }
    tensors.set(e.name, { dtype: e.dtype, shape: [...e.shape], data });
  }
  return { tensors, metadata };
}

/** IEEE 754 binary16 to a number. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // subnormal
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
