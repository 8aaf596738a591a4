// `npm run bench`: every speed measurement, printed as Markdown tables with the machine line.
// `npm run bench -- gemm`, `-- train`, `-- optimizer`, `-- task`, `-- sample` or `-- word` runs one
// part (several may be named). `--quick` runs a subset that takes about two minutes on a 2-core
// machine: character training of lstm 128 and rnn 512 (one round each side, 3 timed repeats),
// sampling, the task at T = 200 and the word model with fewer steps (gemm and optimizer only
// when named).

import { availableParallelism } from "node:os";
import { allowRelaxedSimd } from "../src/node/relaxed-simd.js";
import { gemmBench } from "./gemm.bench.js";
import { machineLine } from "./harness.js";
import { optimizerBench } from "./optimizer.bench.js";
import { sampleBench } from "./sample.bench.js";
import { taskBench } from "./task.bench.js";
import { type TrainConfig, trainBench } from "./train.bench.js";
import { wordBench } from "./word.bench.js";

const PARTS = ["gemm", "train", "optimizer", "task", "sample", "word"];
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const named = args.filter((a) => a !== "--quick");
const unknown = named.filter((a) => !PARTS.includes(a));
if (unknown.length) {
  console.error(`bench: unknown part ${unknown.join(", ")}; choose from ${PARTS.join(", ")}, and/or --quick`);
  process.exit(2);
}
// a closed pipe (npm run bench | head) ends the run quietly, not with a stack trace
process.stdout.on("error", (e: NodeJS.ErrnoException) => process.exit(e.code === "EPIPE" ? 0 : 1));
const run = (part: string) => (named.length ? named.includes(part) : !quick || !["gemm", "optimizer"].includes(part));
allowRelaxedSimd(); // as the command line does: the kernels' fused multiply-add build (its children do the same)
const threads = availableParallelism();
const t0 = performance.now();

console.log(`rnnlab bench: ${machineLine()}; command: npm run bench${args.length ? ` -- ${args.join(" ")}` : ""}`);
if (run("gemm")) await gemmBench(quick ? [256] : [128, 256, 512, 1024], quick ? 1 : 3);
if (run("train")) {
  const configs: TrainConfig[] = quick
    ? [
        ["lstm", 128, 1],
        ["rnn", 512, 1],
      ]
    : ["rnn", "lstm", "gru"].flatMap((cell): TrainConfig[] => [...[128, 256, 512, 1024].map((H): TrainConfig => [cell, H, 1]), [cell, 512, 2]]);
  trainBench(configs, quick ? { threads, rounds: 1, repeats: 3, tfjsRuns: 1 } : { threads });
}
if (run("optimizer"))
  optimizerBench([
    ["rnn", 128, "adam"],
    ["lstm", 256, "adam"],
    ["lstm", 256, "sgd"],
    ["gru", 512, "adam"],
  ]);
if (run("task")) taskBench(quick ? [200] : [50, 100, 200]);
// `rnnlab train`'s default model
if (run("sample")) sampleBench([["lstm", 256, 1]], quick ? { rounds: 1, repeats: 3 } : {});
if (run("word")) wordBench(quick ? { threads, rounds: 1, repeats: 3, warmup: 1 } : { threads });
process.stderr.write(`bench: finished in ${((performance.now() - t0) / 60000).toFixed(1)} minutes\n`);
