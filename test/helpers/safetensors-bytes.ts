// A safetensors file taken apart and put together again, for tests that break files on purpose:
// the header as JSON (tensor entries and `__metadata__`) and the data bytes after it.

/** The header JSON and the data bytes of a safetensors file. */
export function splitSafetensors(bytes: Uint8Array): { header: Record<string, Record<string, unknown>>; data: Uint8Array } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))), data: bytes.slice(8 + n) };
}

/** A safetensors file from any header (written as JSON, valid or not) and data bytes. */
export function joinSafetensors(header: unknown, data: Uint8Array | number[] = []): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}
