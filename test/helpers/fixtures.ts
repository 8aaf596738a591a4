// Reading PyTorch fixture files (see test/fixtures/pytorch/README.md) and comparing numbers.

import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { fromArray, type DType, type Float } from "../../src/index.js";

/** `{"shape": [...], "data": [...]}` as stored in fixtures. */
export interface FixtureTensor {
  shape: number[];
  data: number[];
}

/** The folder the parity runner reads: $RNNLAB_FIXTURES, else the repository's copy of the shared fixtures. */
export function fixtureDir(): string {
  return process.env.RNNLAB_FIXTURES || fileURLToPath(new URL("../fixtures/pytorch", import.meta.url));
}

/** rnnlab's own extra fixtures (made by tools/make_fixtures.py --set extra). */
export const EXTRA_FIXTURE_DIR = fileURLToPath(new URL("../fixtures/extra", import.meta.url));

/** Every `*.json` in `dir`, parsed, sorted by file name. */
export function loadFixtures(dir: string): { file: string; data: Record<string, unknown> }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((file) => ({ file, data: JSON.parse(readFileSync(join(dir, file), "utf8")) as Record<string, unknown> }));
}

/** A fixture tensor's data as a buffer of `dtype`. */
export function buf(t: FixtureTensor, dtype: DType): Float {
  return fromArray(dtype, t.data);
}

/** A fixture tensor of whole numbers as Int32Array. */
export function ids(t: FixtureTensor): Int32Array {
  return Int32Array.from(t.data, (v) => {
    if (!Number.isInteger(v)) throw new Error(`expected whole numbers, got ${v}`);
    return v;
  });
}

/** The README's tolerance per dtype: |a - b| <= tol * max(1, |b|). */
export function tolerance(dtype: DType): number {
  return dtype === "float64" ? 1e-9 : 1e-4;
}

/**
 * Throws, naming the tensor, the worst index and the max abs difference, unless every element of
 * `actual` is within `tol * max(1, |expected|)` of `expected` (and the lengths agree).
 */
export function expectClose(name: string, actual: ArrayLike<number>, expected: ArrayLike<number> | number, tol: number): void {
  const exp = typeof expected === "number" ? [expected] : expected;
  const act = typeof expected === "number" && typeof actual === "number" ? [actual] : actual;
  if (act.length !== exp.length) throw new Error(`${name}: length ${act.length}, expected ${exp.length}`);
  let worst = -1;
  let worstRel = 0;
  let maxAbs = 0;
  for (let i = 0; i < exp.length; i++) {
    const d = Math.abs(act[i] - exp[i]);
    const rel = d / Math.max(1, Math.abs(exp[i]));
    if (!(rel <= worstRel)) {
      worstRel = rel;
      worst = i;
    }
    if (!(d <= maxAbs)) maxAbs = d;
  }
  if (!(worstRel <= tol)) {
    throw new Error(`${name}: NOT OK, max abs diff ${maxAbs}, relative ${worstRel} > ${tol} at [${worst}] (got ${act[worst]}, expected ${exp[worst]})`);
  }
}

/** Same as expectClose for one number. */
export function expectCloseScalar(name: string, actual: number, expected: number, tol: number): void {
  expectClose(name, [actual], [expected], tol);
}
