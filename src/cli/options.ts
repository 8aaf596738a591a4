// Argument parsers for commander: each checks one option and names the fix when it is wrong.

import { InvalidArgumentError } from "commander";
import { finiteInFloat32 } from "../errors.js";

/** A whole number >= min. */
export function intArg(min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^[+-]?\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`expected a whole number >= ${min}`);
    return n;
  };
}

/** A number in [min, max] (min excluded when `open`). */
export function numArg(min: number, max = Infinity, open = false) {
  return (v: string): number => {
    const n = Number(v);
    const ok = v.trim() !== "" && Number.isFinite(n) && (open ? n > min : n >= min) && n <= max;
    if (!ok) throw new InvalidArgumentError(`expected a number ${open ? ">" : ">="} ${min}${max < Infinity ? ` and <= ${max}` : ""}`);
    return n;
  };
}

/**
 * A number > min (>= min unless `open`) that float32 holds: finite there and not flushed to 0.
 * For what the engine computes with in float32 (learning rates, thresholds, decays).
 */
export function f32Arg(min: number, open = true, max = Infinity) {
  const plain = numArg(min, max, open);
  return (v: string): number => {
    const n = plain(v);
    if (!finiteInFloat32(n))
      throw new InvalidArgumentError(
        `expected a number float32 can hold (magnitude at most 3.4e38, and not so small that it rounds to 0, below 1.4e-45), got ${v}`,
      );
    return n;
  };
}

/** One of `choices`. */
export function choiceArg<T extends string>(choices: readonly T[]) {
  return (v: string): T => {
    if (!(choices as readonly string[]).includes(v)) throw new InvalidArgumentError(`expected one of ${choices.join(", ")}`);
    return v as T;
  };
}

/** `k1,k2` with 1 <= k1 <= k2. */
export function tbpttArg(v: string): [number, number] {
  const m = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(v);
  const k1 = m ? Number(m[1]) : NaN;
  const k2 = m ? Number(m[2]) : NaN;
  if (!m || k1 < 1 || k2 < k1) throw new InvalidArgumentError("expected k1,k2 with 1 <= k1 <= k2, e.g. 64,64 or 32,96");
  return [k1, k2];
}

/** A whole number with thousands separators, e.g. 1,115,394. */
export function fmtInt(n: number): string {
  return n.toLocaleString("en-US");
}

/** Seconds as e.g. "4m05s" or "1h02m". */
export function fmtDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "?";
  s = Math.round(s);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}
