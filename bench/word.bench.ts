// Training throughput of a word-level language model: `rnnlab train --tokens words` with its
// defaults (vocabulary 10,000, LSTM hidden 256, embedding 64, batch 32 x window 64, Adam, clip 5)
// on the embedded tiny Shakespeare (bench/word-one.mjs, all cores), against the same model shape in
// PyTorch on random ids (bench/torch_word.py) at 1 and 2 threads, alternating over the rounds,
// medians of rounds. At this vocabulary the output layer and its softmax are most of the work.

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

export interface WordBenchOptions {
  /** rnnlab's threads (all cores). */
  threads: number;
  /** Alternating rounds (median taken). Default 3. */
  rounds?: number;
  /** Timed repeats of one step in each run (median taken). Default 5. */
  repeats?: number;
  /** Untimed steps first. Default 3 for rnnlab (its threads start in the first), 2 for PyTorch. */
  warmup?: number;
}

const KEY = "tokens_per_s";

export function wordBench(o: WordBenchOptions): void {
  const { threads, rounds = 3, repeats = 5 } = o;
  const warmOurs = o.warmup ?? 3;
  const warmTheirs = o.warmup ?? 2;
  const withTorch = hasTorch();
  console.log(
    `\nWord-level LM training (tiny Shakespeare, vocabulary 10,000 with <unk> and <eos>, LSTM 256, embedding 64, batch 32 x window 64, Adam, clip 5), words/s: ` +
      `rnnlab on ${threads} threads, PyTorch (random ids, the same shapes) on ${TORCH_THREADS.join(" and ")} threads, alternating, ` +
      `median of ${rounds} round${rounds > 1 ? "s" : ""} (each the median of ${repeats} timed steps)\n`,
  );
  const t0 = performance.now();
  const ours: (Row | null)[] = [];
  const theirs = new Map<number, (Row | null)[]>(TORCH_THREADS.map((n) => [n, []]));
  for (let round = 0; round < rounds; round++) {
    ours.push(nodeChild("word-one.mjs", [String(threads), String(repeats), "1", String(warmOurs)]));
    if (!withTorch) continue;
    for (const n of TORCH_THREADS) {
      theirs.get(n)!.push(torchChild("torch_word.py", ["--threads", String(n), "--repeats", String(repeats), "--steps", "1", "--warmup", String(warmTheirs)]));
    }
  }
  const r = medianRun(ours, KEY);
  const t = new Map([...theirs].map(([n, runs]) => [n, medianRun(runs, KEY)]));
  const best = bestOf(t, KEY);
  printTable(
    [
      "model",
      "parameters",
      "rnnlab",
      ...TORCH_THREADS.map((n) => `PyTorch ${n} thread${n > 1 ? "s" : ""}`),
      "rnnlab / PyTorch's best",
      "rnnlab peak MB",
      "PyTorch peak MB",
    ],
    [
      [
        "word lstm 256",
        r ? String(r.parameters) : "-",
        fmtRate(num(r, KEY)),
        ...TORCH_THREADS.map((n) => fmtRate(num(t.get(n), KEY))),
        best ? ratio(num(r, KEY), num(best.run, KEY)) : "-",
        fmtMB(num(r, "peak_rss")),
        best ? fmtMB(num(best.run, "peak_rss_bytes")) : "-",
      ],
    ],
  );
  console.log(`\n${withTorch ? torchLine([...t.values()]) : NO_TORCH}`);
  process.stderr.write(`bench: word done in ${since(t0)}\n`);
}
