// Training throughput of a character language model (vocabulary 65, embedding 64, batch 32,
// window 64, Adam, gradient-norm clipping at 5), RNN, LSTM and GRU at hidden 128 and 512:
// rnnlab (WebAssembly SIMD, all cores), TensorFlow.js (cpu and wasm backends) and, where
// Debian's python3-torch is installed, PyTorch (2 threads), all in this run. Each measurement
// runs in a child process of its own, so the peak resident memory reported is its own; rnnlab
// and PyTorch alternate over three rounds per configuration (each round a median of 5 timed
// repeats) and the table gives the median round, so a slow spell of the machine hits both.

import { execFileSync, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { printTable } from "./harness.js";

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const MB = 1024 * 1024;

function child(script: string, args: string[]): Record<string, number | string> | null {
  const loader = script.endsWith(".ts") ? ["--import", "tsx"] : [];
  const r = spawnSync(process.execPath, [...loader, here(script), ...args], { encoding: "utf8", timeout: 900_000 });
  const line = r.stdout
    .trim()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .pop();
  if (r.status !== 0 || !line) {
    process.stderr.write(`bench: ${script} ${args.join(" ")} failed: ${r.stderr.trim().split("\n").pop()}\n`);
    return null;
  }
  return JSON.parse(line);
}

const PY = "/usr/bin/python3";

function hasTorch(): boolean {
  try {
    execFileSync(PY, ["-c", "import torch"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function torch(config: string, threads: number): Record<string, number | string> | null {
  try {
    const out = execFileSync(PY, [here("torch_bench.py"), "--configs", config, "--threads", String(threads)], { encoding: "utf8", timeout: 900_000 });
    return JSON.parse(out.trim().split("\n").pop()!);
  } catch (e) {
    process.stderr.write(`bench: PyTorch ${config} failed: ${(e as Error).message.split("\n")[0]}\n`);
    return null;
  }
}

/** The run whose chars/s is the median of the rounds. */
function medianRun<T extends Record<string, number | string> | null>(runs: T[]): T {
  const ok = runs.filter((r) => r !== null).sort((a, b) => Number(a!.chars_per_s) - Number(b!.chars_per_s));
  return (ok.length ? ok[Math.floor(ok.length / 2)] : null) as T;
}

export function trainBench(configs: [string, number][], threads: number): void {
  console.log(`\nCharacter model training, chars/s (medians), rnnlab on ${threads} threads\n`);
  const rows: (string | number)[][] = [];
  const mem: (string | number)[][] = [];
  const withTorch = hasTorch();
  let torchInfo: Record<string, number | string> | null = null;
  for (const [cell, H] of configs) {
    const ours: (Record<string, number | string> | null)[] = [];
    const theirs: (Record<string, number | string> | null)[] = [];
    for (let round = 0; round < 3; round++) {
      ours.push(child("train-one.mjs", [cell, String(H), String(threads)]));
      if (withTorch) theirs.push(torch(`${cell}:${H}`, 2));
    }
    const r = medianRun(ours);
    const t = withTorch ? medianRun(theirs) : null;
    torchInfo ??= t;
    const cpu = child("tfjs-one.ts", ["cpu", cell, String(H)]);
    const wasm = child("tfjs-one.ts", ["wasm", cell, String(H)]);
    const n = (x: Record<string, number | string> | null | undefined) => (x ? Number(x.chars_per_s) : NaN);
    const best = Math.max(n(cpu) || 0, n(wasm) || 0);
    rows.push([
      `${cell} ${H}`,
      Math.round(n(r)),
      Math.round(n(cpu)),
      Math.round(n(wasm)),
      `${(n(r) / best).toFixed(0)}x`,
      t ? Math.round(n(t)) : "-",
      t ? `${(n(r) / n(t)).toFixed(2)}x` : "-",
    ]);
    if (r) {
      mem.push([
        `${cell} ${H}`,
        (Number(r.peak_rss) / MB).toFixed(0),
        (Number(r.rss_after_3_steps) / MB).toFixed(0),
        (Number(r.rss_after_all_steps) / MB).toFixed(0),
        r.steps_timed,
        t ? (Number(t.peak_rss_bytes) / MB).toFixed(0) : "-",
      ]);
    }
  }
  printTable(["model", "rnnlab", "TF.js cpu", "TF.js wasm", "rnnlab / best TF.js", "PyTorch", "rnnlab / PyTorch"], rows);
  if (!withTorch) console.log("\nPyTorch: not measured (Debian's python3-torch is not installed: apt-get install python3-torch libopenblas0-openmp)");
  else if (torchInfo) console.log(`\nPyTorch ${torchInfo.torch}, ${torchInfo.threads} threads, BLAS: ${(torchInfo.blas as unknown as string[]).join(", ")}`);
  console.log("\nPeak resident memory, MB (rnnlab: also after 3 steps and after all timed steps)\n");
  printTable(["model", "rnnlab peak", "after 3 steps", "after all", "steps", "PyTorch peak"], mem);
}
