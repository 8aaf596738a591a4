// Sampling speed (tokens/s, batch 1, temperature 1) of `rnnlab train`'s default model (LSTM,
// hidden 256, embedding 64, vocabulary 65), freshly initialised: rnnlab's generate()
// (bench/sample-one.mjs, one thread: generation runs on the calling thread) against PyTorch's
// eager one-step loop under torch.no_grad() with torch.multinomial (bench/torch_sample.py) at 1
// and 2 threads, alternating over the rounds, medians of rounds. For rnnlab also the memory
// bandwidth it implies: the float32 weights one token reads (W_ih, W_hh and the output layer's
// weight) times tokens/s, to set against the machine's memory bandwidth.

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

/** One model: cell, hidden units, stacked layers (embedding 64, vocabulary 65). */
export type SampleConfig = [cell: string, hidden: number, layers: number];

export interface SampleBenchOptions {
  /** Alternating rounds per model (median taken). Default 3. */
  rounds?: number;
  /** Timed repeats in each run (median taken). Default 5. */
  repeats?: number;
  /** Tokens generated per repeat. Default 2000. */
  length?: number;
}

const KEY = "tokens_per_s";

export function sampleBench(configs: SampleConfig[], o: SampleBenchOptions = {}): void {
  const { rounds = 3, repeats = 5, length = 2000 } = o;
  const withTorch = hasTorch();
  console.log(
    `\nSampling, tokens/s, batch 1, temperature 1, ${length} tokens per repeat after a 16-token prime (embedding 64, vocabulary 65, fresh weights): ` +
      `rnnlab generate() on 1 thread, PyTorch eager one-step loop under no_grad with multinomial at ${TORCH_THREADS.join(" and ")} threads, alternating, ` +
      `median of ${rounds} round${rounds > 1 ? "s" : ""} (each the median of ${repeats} timed repeats); implied bandwidth = 4 bytes x (W_ih + W_hh + head weight parameters) x tokens/s (MB = 10^6 bytes, GB = 10^9 here)\n`,
  );
  const rows: (string | number)[][] = [];
  const torchRuns: (Row | null)[] = [];
  for (const [cell, H, L] of configs) {
    const t0 = performance.now();
    const label = `${cell} ${H}${L > 1 ? `, ${L} layers` : ""}`;
    const ours: (Row | null)[] = [];
    const theirs = new Map<number, (Row | null)[]>(TORCH_THREADS.map((n) => [n, []]));
    for (let round = 0; round < rounds; round++) {
      ours.push(nodeChild("sample-one.mjs", [cell, String(H), String(length), String(repeats), String(L)]));
      if (!withTorch) continue;
      for (const n of TORCH_THREADS) {
        const args = [
          "--threads",
          String(n),
          "--cell",
          cell,
          "--hidden",
          String(H),
          "--layers",
          String(L),
          "--length",
          String(length),
          "--repeats",
          String(repeats),
        ];
        theirs.get(n)!.push(torchChild("torch_sample.py", args));
      }
    }
    const r = medianRun(ours, KEY);
    const t = new Map([...theirs].map(([n, runs]) => [n, medianRun(runs, KEY)]));
    torchRuns.push(...t.values());
    const best = bestOf(t, KEY);
    const bytes = num(r, "weight_bytes_per_token");
    const gbs = (bytes * num(r, KEY)) / 1e9;
    rows.push([
      label,
      fmtRate(num(r, KEY)),
      Number.isFinite(bytes) ? (bytes / 1e6).toFixed(2) : "-",
      Number.isFinite(gbs) ? gbs.toFixed(1) : "-",
      Number.isFinite(num(r, "read_bytes_per_s")) ? (num(r, "read_bytes_per_s") / 1e9).toFixed(1) : "-",
      ...TORCH_THREADS.map((n) => fmtRate(num(t.get(n), KEY))),
      best ? ratio(num(r, KEY), num(best.run, KEY)) : "-",
      fmtMB(num(r, "peak_rss")),
      best ? fmtMB(num(best.run, "peak_rss_bytes")) : "-",
    ]);
    process.stderr.write(`bench: sample ${label} done in ${since(t0)}\n`);
  }
  printTable(
    [
      "model",
      "rnnlab",
      "weights MB / token",
      "rnnlab implied GB/s",
      "read GB/s of that many bytes",
      ...TORCH_THREADS.map((n) => `PyTorch ${n} thread${n > 1 ? "s" : ""}`),
      "rnnlab / PyTorch's best",
      "rnnlab peak MB",
      "PyTorch peak MB",
    ],
    rows,
  );
  console.log(`\n${withTorch ? torchLine(torchRuns) : NO_TORCH}`);
}
