// Training throughput of a character language model (vocabulary 65, embedding 64, batch 32,
// window 64, Adam, gradient-norm clipping at 5), RNN, LSTM and GRU of 1 or 2 layers at hidden
// 128 to 1024: rnnlab (WebAssembly SIMD, all cores), PyTorch (Debian's python3-torch, at 1 and
// at 2 threads, compared at its better one) and, at hidden <= 256, TensorFlow.js (cpu and wasm
// backends), all in this run. Each measurement runs in a child process of its own, so the peak
// resident memory reported is its own; rnnlab and PyTorch alternate over the rounds of each
// configuration (each round a median of timed repeats) and the table gives the median round, so
// a slow spell of the machine hits both.

import {
  bestOf,
  fmtMB,
  fmtRate,
  hasTorch,
  medianRun,
  NO_TORCH,
  nodeChild,
  num,
  ratio,
  type Row,
  since,
  TORCH_THREADS,
  torchChild,
  torchLine,
} from "./compare.js";
import { printTable } from "./harness.js";

/** One configuration: cell, hidden units, stacked layers. */
export type TrainConfig = [cell: string, hidden: number, layers: number];

export interface TrainBenchOptions {
  /** rnnlab's threads (all cores). */
  threads: number;
  /** Alternating rounds of rnnlab and PyTorch per configuration (median taken). Default 3. */
  rounds?: number;
  /** Timed repeats in each run (median taken). Default 5. */
  repeats?: number;
  /** TensorFlow.js only up to this hidden size, one layer (it is very slow above). Default 256; 0: never. */
  tfjsMaxHidden?: number;
  /** TensorFlow.js's timed steps per run (median taken). Default 3. */
  tfjsRuns?: number;
}

const KEY = "chars_per_s";

/** Steps per timed repeat, as bench/train-one.mjs and bench/torch_bench.py choose them. */
const stepsFor = (H: number, L: number) => (L > 1 || H > 512 ? 1 : H <= 128 ? 10 : H <= 256 ? 5 : 2);

export function trainBench(configs: TrainConfig[], o: TrainBenchOptions): void {
  const { threads, rounds = 3, repeats = 5, tfjsMaxHidden = 256, tfjsRuns = 3 } = o;
  const withTorch = hasTorch();
  const tfjsLine =
    tfjsMaxHidden > 0 ? `; TF.js cpu and wasm backends one run each (median of ${tfjsRuns} timed steps), 1 layer at hidden <= ${tfjsMaxHidden} only` : "";
  console.log(
    `\nCharacter LM training (vocabulary 65, embedding 64, batch 32 x window 64, Adam, clip 5), chars/s: rnnlab on ${threads} threads, ` +
      `PyTorch on ${TORCH_THREADS.join(" and ")} threads (ratio against its better), alternating, median of ${rounds} round${rounds > 1 ? "s" : ""} ` +
      `(each the median of ${repeats} timed repeats)${tfjsLine}\n`,
  );
  const rows: (string | number)[][] = [];
  const mem: (string | number)[][] = [];
  const torchRuns: (Row | null)[] = [];
  for (const [cell, H, L] of configs) {
    const t0 = performance.now();
    const label = `${cell} ${H}${L > 1 ? `, ${L} layers` : ""}`;
    const steps = stepsFor(H, L);
    const ours: (Row | null)[] = [];
    const theirs = new Map<number, (Row | null)[]>(TORCH_THREADS.map((n) => [n, []]));
    for (let round = 0; round < rounds; round++) {
      ours.push(nodeChild("train-one.mjs", [cell, String(H), String(threads), String(L), String(repeats), String(steps)]));
      if (!withTorch) continue;
      for (const n of TORCH_THREADS) {
        const args = ["--configs", `${cell}:${H}:${L}`, "--threads", String(n), "--steps", String(steps), "--repeats", String(repeats)];
        theirs.get(n)!.push(torchChild("torch_bench.py", args));
      }
    }
    const r = medianRun(ours, KEY);
    const t = new Map([...theirs].map(([n, runs]) => [n, medianRun(runs, KEY)]));
    torchRuns.push(...t.values());
    const best = bestOf(t, KEY);
    const tfjs = tfjsMaxHidden > 0 && H <= tfjsMaxHidden && L === 1;
    const cpu = tfjs ? nodeChild("tfjs-one.ts", ["cpu", cell, String(H), String(tfjsRuns)]) : null;
    const wasm = tfjs ? nodeChild("tfjs-one.ts", ["wasm", cell, String(H), String(tfjsRuns)]) : null;
    const bestTf = Math.max(num(cpu, KEY) || 0, num(wasm, KEY) || 0);
    rows.push([
      label,
      fmtRate(num(r, KEY)),
      tfjs ? fmtRate(num(cpu, KEY)) : "-",
      tfjs ? fmtRate(num(wasm, KEY)) : "-",
      tfjs && bestTf > 0 ? ratio(num(r, KEY), bestTf, 0) : "-",
      ...TORCH_THREADS.map((n) => fmtRate(num(t.get(n), KEY))),
      best ? ratio(num(r, KEY), num(best.run, KEY)) : "-",
    ]);
    mem.push([
      label,
      fmtMB(num(r, "peak_rss")),
      fmtMB(num(r, "rss_after_3_steps")),
      fmtMB(num(r, "rss_after_all_steps")),
      r ? String(r.steps_timed) : "-",
      best ? fmtMB(num(best.run, "peak_rss_bytes")) : "-",
      best ? best.threads : "-",
    ]);
    process.stderr.write(`bench: train ${label} done in ${since(t0)}\n`);
  }
  printTable(
    [
      "model",
      "rnnlab",
      "TF.js cpu",
      "TF.js wasm",
      "rnnlab / best TF.js",
      ...TORCH_THREADS.map((n) => `PyTorch ${n} thread${n > 1 ? "s" : ""}`),
      "rnnlab / PyTorch's best",
    ],
    rows,
  );
  console.log(`\n${withTorch ? torchLine(torchRuns) : NO_TORCH}`);
  console.log(
    `\nPeak resident memory of each training process, MB (rnnlab: also after 3 steps and after all timed steps; PyTorch: its median round at its better thread count)\n`,
  );
  printTable(["model", "rnnlab peak", "after 3 steps", "after all", "steps", "PyTorch peak", "PyTorch threads"], mem);
}
