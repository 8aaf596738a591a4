// Argument parsers for commander: each checks one option and names the fix when it is wrong.

import { InvalidArgumentError, Option } from "commander";
import { normalizeSchedule, type ScheduleSpec } from "../train/schedule.js";
import { finiteInFloat32 } from "../errors.js";

/**
 * An option with a default value whose help shows it as the user would type it, or in words:
 * `optionWithDefault("--w <lo,hi>", "range of w", rangeArg, [4, 8], "4,8")` shows "(default: 4,8)"
 * where commander would print [4,8]. Every option states its default once, in commander's
 * "(default: ...)" at the end of its help line: a fixed value through commander (here or
 * `.option(flags, text, parse, value)`), a default worked out when the command runs (all cores,
 * the run's validation text) as "(default: ...)" at the end of the description, the value left
 * undefined until given.
 */
export function optionWithDefault<T>(flags: string, description: string, parse: (v: string, previous: T) => T, value: T, shown: string): Option {
  return new Option(flags, description).argParser(parse).default(value, shown);
}

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
    if (!ok) {
      const bounds = [min > -Infinity ? `${open ? ">" : ">="} ${min}` : "", max < Infinity ? `<= ${max}` : ""].filter(Boolean);
      throw new InvalidArgumentError(`expected a number${bounds.length ? ` ${bounds.join(" and ")}` : ""}`);
    }
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

/** A schedule as --lr-schedule gives it; T_MAX and the one-cycle length come from the run's steps. */
export type ScheduleArg =
  | { type: "constant" }
  | { type: "step"; stepSize: number; gamma?: number }
  | { type: "exponential"; gamma: number }
  | { type: "cosine"; tMax?: number; etaMin?: number }
  | { type: "onecycle"; pctStart?: number }
  | { type: "plateau"; patience?: number; factor?: number };

/** `--lr-schedule` values, e.g. cosine, cosine:2000,1e-5, step:500,0.5, exp:0.999, onecycle:0.3, plateau:3,0.5. */
export function scheduleArg(v: string): ScheduleArg {
  const m = /^\s*([a-z]+)\s*(?::\s*([^,\s]+)\s*(?:,\s*([^,\s]+)\s*)?)?$/.exec(v);
  const num = (x: string | undefined) => (x === undefined ? undefined : Number(x));
  const a = num(m?.[2]);
  const b = num(m?.[3]);
  const bad = () =>
    new InvalidArgumentError("expected constant, step:SIZE[,GAMMA], exp:GAMMA, cosine[:T_MAX[,ETA_MIN]], onecycle[:PCT_START] or plateau[:PATIENCE[,FACTOR]]");
  if (!m || [a, b].some((x) => x !== undefined && !Number.isFinite(x))) throw bad();
  const spec: ScheduleArg | null =
    m[1] === "constant" && a === undefined
      ? { type: "constant" }
      : m[1] === "step" && a !== undefined
        ? { type: "step", stepSize: a, ...(b !== undefined ? { gamma: b } : {}) }
        : (m[1] === "exp" || m[1] === "exponential") && a !== undefined && b === undefined
          ? { type: "exponential", gamma: a }
          : m[1] === "cosine"
            ? { type: "cosine", ...(a !== undefined ? { tMax: a } : {}), ...(b !== undefined ? { etaMin: b } : {}) }
            : m[1] === "onecycle" && b === undefined
              ? { type: "onecycle", ...(a !== undefined ? { pctStart: a } : {}) }
              : m[1] === "plateau"
                ? { type: "plateau", ...(a !== undefined ? { patience: a } : {}), ...(b !== undefined ? { factor: b } : {}) }
                : null;
  if (!spec) throw bad();
  try {
    // the numbers that do not depend on the run's length are checked here
    if (spec.type === "step" || spec.type === "exponential" || spec.type === "plateau") normalizeSchedule(spec as ScheduleSpec);
    if (spec.type === "cosine" && spec.tMax !== undefined) normalizeSchedule(spec as ScheduleSpec);
    if (spec.type === "onecycle") normalizeSchedule({ ...spec, totalSteps: 100 });
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message.replace(/^learning-rate schedule: /, ""));
  }
  return spec;
}
