// Step time of the task shape `rnnlab experiment clipping` spends its whole budget on (the adding
// problem: tanh RNN of 50 units, batch 20, SGD, clipping at 1) at T = 50, 100 and 200: rnnlab
// (bench/task-one.mjs, one thread, as each run of the experiment) against PyTorch
// (bench/torch_task.py) on 1 and 2 threads, alternating over three rounds; medians of rounds.

import { execFileSync, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { printTable } from "./harness.js";

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const PY = "/usr/bin/python3";
type Row = Record<string, number | string | string[]>;

function ours(T: number): Row | null {
  const r = spawnSync(process.execPath, [here("task-one.mjs"), String(T)], { encoding: "utf8", timeout: 600_000 });
  const line = r.stdout.trim().split("\n").pop();
  if (r.status !== 0 || !line?.startsWith("{")) {
    process.stderr.write(`bench: task-one.mjs ${T} failed: ${r.stderr.trim().split("\n").pop()}\n`);
    return null;
  }
  return JSON.parse(line);
}

function theirs(T: number, threads: number): Row | null {
  try {
    const out = execFileSync(PY, [here("torch_task.py"), "--length", String(T), "--threads", String(threads)], { encoding: "utf8", timeout: 600_000 });
    return JSON.parse(out.trim().split("\n").pop()!);
  } catch (e) {
    process.stderr.write(`bench: PyTorch task T = ${T} failed: ${(e as Error).message.split("\n")[0]}\n`);
    return null;
  }
}

const median = (rows: (Row | null)[]) => {
  const v = rows
    .filter((r): r is Row => r !== null)
    .map((r) => Number(r.ms_per_step))
    .sort((a, b) => a - b);
  return v.length ? v[Math.floor(v.length / 2)] : Number.NaN;
};

export function taskBench(lengths: number[]): void {
  let torchOk = true;
  try {
    execFileSync(PY, ["-c", "import torch"], { stdio: "ignore" });
  } catch {
    torchOk = false;
  }
  console.log("\nThe task shape of `rnnlab experiment clipping` (adding problem, tanh RNN 50, batch 20, SGD, clip 1), ms per step (medians of 3 rounds)\n");
  const rows: (string | number)[][] = [];
  let blas = "";
  for (const T of lengths) {
    const a: (Row | null)[] = [];
    const p1: (Row | null)[] = [];
    const p2: (Row | null)[] = [];
    for (let round = 0; round < 3; round++) {
      a.push(ours(T));
      if (torchOk) {
        p1.push(theirs(T, 1));
        p2.push(theirs(T, 2));
      }
    }
    blas ||= String((p1.find((r) => r)?.blas as string[] | undefined)?.slice(-1)[0] ?? "");
    const m = median(a);
    const best = Math.min(median(p1), median(p2));
    rows.push([
      `T = ${T}`,
      m.toFixed(2),
      torchOk ? median(p1).toFixed(2) : "—",
      torchOk ? median(p2).toFixed(2) : "—",
      torchOk ? `${(best / m).toFixed(2)}x` : "—",
    ]);
  }
  printTable(["shape", "rnnlab (1 thread)", "PyTorch 1 thread", "PyTorch 2 threads", "PyTorch's best / rnnlab"], rows);
  if (torchOk) console.log(`\nPyTorch on ${blas || "an unknown BLAS"}.`);
}
