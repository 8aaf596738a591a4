// What the side-by-side benches (train, sample, word) share: each measurement in a child process
// of its own (a Node script on the built package, or a Python script on Debian's python3-torch),
// so that the peak resident memory it reports is its own, and the median of alternating rounds.

import { execFileSync, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** One measurement, as its child printed it (one JSON line). */
export type Row = Record<string, number | string | string[]>;

export const MB = 1024 * 1024;
/** Debian's python3-torch (OpenBLAS-OpenMP), the PyTorch every bench compares with. */
export const PY = "/usr/bin/python3";
/** The thread counts PyTorch is measured at; its best of them is the one compared with. */
export const TORCH_THREADS = [1, 2];

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

/** The last JSON line a child printed, or null (and a line on stderr) when it failed. */
function lastJson(what: string, status: number | null, stdout: string, stderr: string): Row | null {
  const line = (stdout ?? "")
    .trim()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .pop();
  if (status !== 0 || !line) {
    process.stderr.write(`bench: ${what} failed: ${(stderr ?? "").trim().split("\n").pop() || `exit status ${status}`}\n`);
    return null;
  }
  return JSON.parse(line);
}

/** Runs bench/SCRIPT (a .mjs on dist/, or a .ts through tsx) in a child Node process. */
export function nodeChild(script: string, args: string[], timeoutMs = 900_000): Row | null {
  const loader = script.endsWith(".ts") ? ["--import", "tsx"] : [];
  const r = spawnSync(process.execPath, [...loader, here(script), ...args], { encoding: "utf8", timeout: timeoutMs });
  return lastJson(`${script} ${args.join(" ")}`, r.status, r.stdout, r.stderr);
}

/** Runs bench/SCRIPT with Debian's python3 (PyTorch) in a child process. */
export function torchChild(script: string, args: string[], timeoutMs = 900_000): Row | null {
  const r = spawnSync(PY, [here(script), ...args], { encoding: "utf8", timeout: timeoutMs });
  return lastJson(`PyTorch ${script} ${args.join(" ")}`, r.status, r.stdout, r.stderr);
}

let torchAvailable: boolean | undefined;
/** Whether Debian's python3-torch imports. */
export function hasTorch(): boolean {
  if (torchAvailable === undefined) {
    try {
      execFileSync(PY, ["-c", "import torch"], { stdio: "ignore" });
      torchAvailable = true;
    } catch {
      torchAvailable = false;
    }
  }
  return torchAvailable;
}

export const NO_TORCH = "PyTorch: not measured (Debian's python3-torch is not installed: apt-get install python3-torch libopenblas0-openmp)";

/** The run whose `key` is the median of the runs that succeeded (the upper one of an even count), or null. */
export function medianRun(runs: (Row | null)[], key: string): Row | null {
  const ok = runs.filter((r): r is Row => r !== null).sort((a, b) => Number(a[key]) - Number(b[key]));
  return ok.length ? ok[Math.floor(ok.length / 2)] : null;
}

/** A row's number, NaN for a missing row. */
export const num = (r: Row | null | undefined, key: string): number => (r ? Number(r[key]) : Number.NaN);

/** A rate for a table: rounded, "-" when not measured. */
export const fmtRate = (x: number): string | number => (Number.isFinite(x) ? Math.round(x) : "-");

/** Megabytes for a table, "-" when not measured. */
export const fmtMB = (bytes: number): string => (Number.isFinite(bytes) ? (bytes / MB).toFixed(0) : "-");

/** a / b as "1.23x", "-" when either is missing. */
export const ratio = (a: number, b: number, digits = 2): string => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(digits)}x` : "-");

/** PyTorch's version and BLAS, from any of its rows, for the line under a table. */
export function torchLine(rows: (Row | null)[]): string {
  const r = rows.find((x) => x !== null);
  if (!r) return "PyTorch: every run failed (see the messages above)";
  const blas = (r.blas as string[] | undefined) ?? [];
  return `PyTorch ${r.torch}, BLAS: ${blas.length ? blas.join(", ") : "unknown"}`;
}

/** PyTorch's best (highest `key`) over its thread counts: the thread count and its median run. */
export function bestOf(byThreads: Map<number, Row | null>, key: string): { threads: number; run: Row } | null {
  let best: { threads: number; run: Row } | null = null;
  for (const [threads, run] of byThreads) if (run && (!best || num(run, key) > num(best.run, key))) best = { threads, run };
  return best;
}

/** Seconds since `t0` (performance.now()), for the progress lines on stderr. */
export const since = (t0: number): string => `${((performance.now() - t0) / 1000).toFixed(0)} s`;
