// `npm run bench`: every speed measurement, printed as Markdown tables with the machine line.
// `npm run bench -- gemm`, `-- train`, `-- optimizer` or `-- task` runs one part.
import { availableParallelism } from "node:os";
import { gemmBench } from "./gemm.bench.js";
import { machineLine } from "./harness.js";
import { optimizerBench } from "./optimizer.bench.js";
import { taskBench } from "./task.bench.js";
import { trainBench } from "./train.bench.js";

const only = process.argv[2];
console.log(`rnnlab bench: ${machineLine()}; command: npm run bench${only ? ` -- ${only}` : ""}`);
if (!only || only === "gemm") gemmBench([128, 256, 512]);
if (!only || only === "train") {
  trainBench(
    [
      ["rnn", 128],
      ["rnn", 512],
      ["lstm", 128],
      ["lstm", 512],
      ["gru", 128],
      ["gru", 512],
    ],
    availableParallelism(),
  );
}
if (!only || only === "optimizer")
  optimizerBench([
    ["rnn", 128, "adam"],
    ["lstm", 256, "adam"],
    ["lstm", 256, "sgd"],
    ["gru", 512, "adam"],
  ]);
if (!only || only === "task") taskBench([50, 100, 200]);
