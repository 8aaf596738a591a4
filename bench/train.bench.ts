// Training throughput of a character language model (vocabulary 65, embedding 64, batch 32,
// window 64, Adam, gradient-norm clipping at 5), RNN, LSTM and GRU at hidden 128 and 512:
// rnnlab (WebAssembly SIMD, all cores), TensorFlow.js (cpu and wasm backends) and, where
// Debian's python3-torch is installed, PyTorch (2 threads), all in this run. Each configuration
// runs in a child process of its own, so the peak resident memory reported is its own.

import { execFileSync, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { printTable } from "./harness.js";

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const MB = 1024 * 1024;

function child(script: string, args: string[]): Record<string, number | string> | null {
  const r = spawnSync(process.execPath, ["--import", "tsx", here(script), ...args], { encoding: "utf8", timeout: 900_000 });
  const line = r.stdout.trim().split("\n").filter((l) => l.startsWith("{")).pop();
  if (r.status !== 0 || !line) {
    process.stderr.write(`bench: ${script} ${args.join(" ")} failed: ${r.stderr.trim().split("\n").pop()}\n`);
    return null;
  }
  return JSON.parse(line);
}

function torch(configs: string[], threads: number): Map<string, Record<string, number | string>> | string {
  const py = "/usr/bin/python3";
  try {
    execFileSync(py, ["-c", "import torch"], { stdio: "ignore" });
  } catch {
    return "PyTorch: not measured (Debian's python3-torch is not installed: apt-get install python3-torch libopenblas0-openmp)";
  }
  const out = execFileSync(py, [here("torch_bench.py"), "--configs", configs.join(","), "--threads", String(threads)], { encoding: "utf8", timeout: 900_000 });
  const m = new Map<string, Record<string, number | string>>();
  for (const line of out.trim().split("\n")) {
    const d = JSON.parse(line);
    m.set(`${d.cell}:${d.hidden}`, d);
  }
  return m;
}

export function trainBench(configs: [string, number][], threads: number): void {
  console.log(`\nCharacter model training, chars/s (medians), rnnlab on ${threads} threads\n`);
  const rows: (string | number)[][] = [];
  const mem: (string | number)[][] = [];
  const pt = torch(configs.map(([c, h]) => `${c}:${h}`), 2);
  for (const [cell, H] of configs) {
    const r = child("train-one.ts", [cell, String(H), String(threads)]);
    const cpu = child("tfjs-one.ts", ["cpu", cell, String(H)]);
    const wasm = child("tfjs-one.ts", ["wasm", cell, String(H)]);
    const t = typeof pt === "string" ? null : pt.get(`${cell}:${H}`);
    const n = (x: Record<string, number | string> | null | undefined) => (x ? Number(x.chars_per_s) : NaN);
    const best = Math.max(n(cpu) || 0, n(wasm) || 0);
    rows.push([
      `${cell} ${H}`, Math.round(n(r)), Math.round(n(cpu)), Math.round(n(wasm)), `${(n(r) / best).toFixed(0)}x`,
      t ? Math.round(n(t)) : "-", t ? `${(n(r) / n(t)).toFixed(2)}x` : "-",
    ]);
    if (r) {
      mem.push([
        `${cell} ${H}`, (Number(r.peak_rss) / MB).toFixed(0), (Number(r.rss_after_3_steps) / MB).toFixed(0),
        (Number(r.rss_after_all_steps) / MB).toFixed(0), r.steps_timed, t ? (Number(t.peak_rss_bytes) / MB).toFixed(0) : "-",
      ]);
    }
  }
  printTable(["model", "rnnlab", "TF.js cpu", "TF.js wasm", "rnnlab / best TF.js", "PyTorch", "rnnlab / PyTorch"], rows);
  if (typeof pt === "string") console.log(`\n${pt}`);
  else {
    const any = [...pt.values()][0];
    console.log(`\nPyTorch ${any?.torch}, ${any?.threads} threads, BLAS: ${(any?.blas as unknown as string[])?.join(", ")}`);
  }
  console.log("\nPeak resident memory, MB (rnnlab: also after 3 steps and after all timed steps)\n");
  printTable(["model", "rnnlab peak", "after 3 steps", "after all", "steps", "PyTorch peak (whole run)"], mem);
}
