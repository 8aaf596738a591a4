// `rnnlab experiment clipping`: the experiment of Pascanu, Mikolov & Bengio (2013), §4.1.1 and
// figure 7, within a time budget: a long-range task at several lengths, solved (or not) by a tanh
// RNN without clipping, with clipping, with clipping and the Ω regulariser, and by an LSTM and a
// GRU, over several seeds. Each cell of the table is one `rnnlab task ... --json` child process,
// as many at a time as there are cores. Prints the success table beside the paper's, and writes
// it as JSON, Markdown, SVG and PNG. No numerics here.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, rmSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, InvalidArgumentError } from "commander";
import { createTask, TASK_NAMES, type TaskName } from "../data/tasks.js";
import { checkOutputFolder, InputError, makeFolder, writeFilesAtomic } from "../node/files.js";
import { checkTaskFits } from "../train/memory.js";
import { CELL_NAMES } from "../nn/cells.js";
import { OPTIMIZER_NAMES } from "../train/optim.js";
import { experimentSpec } from "../plot/experiment-spec.js";
import type { TaskResult } from "./task.js";
import { choiceArg, f32Arg, fmtDuration, intArg, numArg } from "./options.js";
import { say } from "./output.js";

/** One row of the table: a model and a training recipe. */
export interface Variant {
  name: string;
  label: string;
  args: string[];
  /** What Pascanu et al. (2013) report for it on temporal order, basic tanh init (figure 7, 5 seeds, up to 5M updates). */
  paper: string;
}

/**
 * The paper's recipe (§4.1.1): 50 tanh units, minibatches of 20, SGD at a constant learning rate
 * 0.01, clipping threshold 1, Ω weight 4. The gated cells get the same budget, hidden size and
 * optimizer; they are this experiment's addition (the paper has none).
 */
export const VARIANTS: readonly Variant[] = [
  { name: "rnn", label: "tanh RNN, no clipping (MSGD)", args: ["--cell", "rnn", "--clip", "0"], paper: "fails as T grows (figure 7)" },
  { name: "rnn-clip", label: "tanh RNN + clipping (MSGD-C)", args: ["--cell", "rnn", "--clip", "1"], paper: "better than MSGD at long T (figure 7)" },
  {
    name: "rnn-clip-omega",
    label: "tanh RNN + clipping + Ω (MSGD-CR)",
    args: ["--cell", "rnn", "--clip", "1", "--omega", "4"],
    paper: "5/5 at every T up to 200",
  },
  { name: "lstm", label: "LSTM + clipping", args: ["--cell", "lstm", "--clip", "1"], paper: "(not in the paper)" },
  { name: "gru", label: "GRU + clipping", args: ["--cell", "gru", "--clip", "1"], paper: "(not in the paper)" },
];

interface ExperimentOpts {
  task: TaskName;
  lengths: number[];
  variants: string[];
  seeds: number;
  budget: number;
  parallel: number;
  hidden: number;
  batch: number;
  optimizer: string;
  lr: number;
  evalEvery: number;
  evalSize: number;
  out: string;
}

function listArg<T>(parse: (s: string) => T) {
  return (v: string): T[] => {
    const parts = v
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    if (parts.length === 0) throw new InvalidArgumentError("expected a comma-separated list");
    return parts.map(parse);
  };
}

export function experimentCommand(): Command {
  const int = intArg(1);
  return new Command("experiment")
    .description("reproduce a published experiment; now: clipping (Pascanu et al. 2013, temporal order and other long-range tasks)")
    .argument("<name>", "the experiment: clipping")
    .option("--task <name>", `the task: ${TASK_NAMES.join(", ")}`, choiceArg(TASK_NAMES), "temporal-order")
    .option("--lengths <list>", "sequence lengths T", listArg(int), [20, 50, 100, 200])
    .option(
      "--variants <list>",
      `rows of the table: ${VARIANTS.map((v) => v.name).join(", ")}`,
      listArg((s) => s),
      VARIANTS.map((v) => v.name),
    )
    .option("--seeds <n>", "runs per cell, seeds 1..n", intArg(1), 1)
    .option("--budget <minutes>", "wall-clock minutes for the whole sweep (split evenly between the runs)", numArg(0, Infinity, true), 30)
    .option("--parallel <n>", "runs at a time (default: all cores)", intArg(1), availableParallelism())
    .option("--hidden <n>", "hidden units (the paper: 50)", intArg(1), 50)
    .option("--batch <n>", "sequences per step (the paper: 20)", intArg(1), 20)
    .option("--optimizer <name>", `${OPTIMIZER_NAMES.join(", ")} (the paper: sgd)`, choiceArg(OPTIMIZER_NAMES), "sgd")
    .option("--lr <x>", "learning rate (the paper: 0.01)", f32Arg(0), 0.01)
    .option("--eval-every <n>", "test the criterion every n steps", intArg(1), 500)
    .option("--eval-size <n>", "held-out sequences of the criterion (the paper: 10000)", intArg(1), 1000)
    .option("--out <dir>", "where the table goes (results.json, table.md, success.svg, success.png)", "experiment-clipping")
    .action(async (name: string, o: ExperimentOpts) => {
      if (name !== "clipping") throw new InputError(`unknown experiment "${name}"; the one available is: clipping`);
      const unknown = o.variants.filter((v) => !VARIANTS.some((x) => x.name === v));
      if (unknown.length) throw new InputError(`unknown variant ${unknown.join(", ")}; choose from ${VARIANTS.map((v) => v.name).join(", ")}`);
      const runs = o.lengths.length * o.variants.length * o.seeds;
      if (runs > MAX_RUNS)
        throw new InputError(
          `${runs.toLocaleString("en-US")} runs (lengths x variants x seeds) are more than one sweep takes (at most ${MAX_RUNS.toLocaleString("en-US")}); use fewer --seeds, --lengths or --variants`,
        );
      for (const length of o.lengths) {
        let task: ReturnType<typeof createTask>;
        try {
          task = createTask(o.task, length);
        } catch (e) {
          if (e instanceof RangeError) throw new InputError(`--lengths ${length}: ${e.message}`);
          throw e;
        }
        for (const cell of CELL_NAMES) {
          checkTaskFits({
            steps: task.steps,
            inputSize: task.inputSize,
            outputSize: task.outputSize,
            every: task.output === "class-every",
            cell,
            hidden: o.hidden,
            layers: 1,
            batch: o.batch,
            evalSize: o.evalSize,
          });
        }
      }
      // the table is written after the whole sweep: its place is checked before the first run
      checkOutputFolder(o.out, { flag: "--out" });
      for (const f of OUT_FILES) {
        if (existsSync(join(o.out, f)) && statSync(join(o.out, f)).isDirectory())
          throw new InputError(`--out ${o.out}: ${join(o.out, f)} is a folder; choose another --out`);
      }
      await clippingExperiment(o);
    });
}

interface Cell {
  variant: Variant;
  length: number;
  seed: number;
  result?: TaskResult;
  error?: string;
}

/** The most runs one sweep takes. */
const MAX_RUNS = 10_000;

/** The files the experiment writes into --out. */
const OUT_FILES = ["results.json", "table.md", "success.svg", "success.png"];

const BIN = fileURLToPath(new URL("./main.js", import.meta.url));

/** The task processes running now: stopped with the experiment. */
const children = new Set<ChildProcess>();

function runCell(cell: Cell, o: ExperimentOpts, minutes: number): Promise<void> {
  const args = [
    BIN,
    "task",
    o.task,
    "--length",
    String(cell.length),
    "--seed",
    String(cell.seed),
    "--json",
    "--hidden",
    String(o.hidden),
    "--batch",
    String(o.batch),
    "--optimizer",
    o.optimizer,
    "--lr",
    String(o.lr),
    "--eval-every",
    String(o.evalEvery),
    "--eval-size",
    String(o.evalSize),
    "--time",
    String(minutes),
    "--steps",
    "5000000",
    ...cell.variant.args,
  ];
  return new Promise((resolve) => {
    // one thread per run: the runs themselves fill the cores
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env } });
    children.add(child);
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("exit", (code) => {
      children.delete(child);
      try {
        cell.result = JSON.parse(out.trim().split("\n").pop() ?? "") as TaskResult;
      } catch {
        cell.error = `exit ${code}: ${err.trim().split("\n")[0] ?? ""}`;
      }
      resolve();
    });
  });
}

async function clippingExperiment(o: ExperimentOpts): Promise<void> {
  const variants = VARIANTS.filter((v) => o.variants.includes(v.name));
  const cells: Cell[] = [];
  for (const length of o.lengths) for (const variant of variants) for (let seed = 1; seed <= o.seeds; seed++) cells.push({ variant, length, seed });
  const slots = Math.min(o.parallel, cells.length);
  const minutes = (o.budget * slots) / cells.length;
  say(
    `rnnlab experiment clipping: ${o.task} at T = ${o.lengths.join(", ")}; ${variants.length} variants x ${o.seeds} seed${o.seeds > 1 ? "s" : ""} = ${cells.length} runs, ` +
      `${slots} at a time, at most ${fmtDuration(minutes * 60)} each (budget ${o.budget} min)\n` +
      `recipe: hidden ${o.hidden}, batch ${o.batch}, ${o.optimizer} lr ${o.lr}, clip threshold 1, Ω weight 4 (Pascanu et al. 2013 §4.1.1); criterion on ${o.evalSize} held-out sequences\n`,
  );
  const t0 = performance.now();
  let next = 0;
  let stopped = false;
  // Ctrl-C or SIGTERM: no new runs, the running ones stopped, exit 130 (no table: it would be partial)
  const stop = () => {
    stopped = true;
    for (const c of children) c.kill("SIGTERM");
    say("\nrnnlab experiment: stopped; no table was written\n");
    process.exit(130);
  };
  const kill = () => {
    for (const c of children) c.kill("SIGTERM");
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  process.on("exit", kill);
  const num = (x: number | null | undefined, digits: number) => (typeof x === "number" && Number.isFinite(x) ? x.toPrecision(digits) : "n/a");
  const worker = async () => {
    while (next < cells.length && !stopped) {
      const cell = cells[next++];
      await runCell(cell, o, minutes);
      const r = cell.result;
      say(
        `  T=${cell.length} ${cell.variant.name} seed ${cell.seed}: ` +
          (r
            ? `${r.solved ? "solved" : "not solved"} after ${r.steps} steps (${fmtDuration(r.seconds)}), ${typeof r.testError === "number" ? (100 * r.testError).toFixed(1) : "n/a"}% wrong, ` +
              `loss ${num(r.testLoss, 3)} / baseline ${num(r.baseline, 3)}`
            : cell.error) +
          "\n",
      );
    }
  };
  try {
    await Promise.all(Array.from({ length: slots }, worker));
  } finally {
    stopped = true;
    kill();
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    process.off("exit", kill);
  }
  const wall = (performance.now() - t0) / 1000;

  // the table: rows variants, columns lengths, "solved/seeds"
  const rows = variants.map((v) => {
    const byLength = o.lengths.map((length) => {
      const runs = cells.filter((c) => c.variant === v && c.length === length);
      const solved = runs.filter((c) => c.result?.solved);
      const steps = solved.map((c) => c.result!.steps).sort((a, b) => a - b);
      const failed = runs.filter((c) => c.error).length; // a run that did not finish (crash): not counted as a failure to learn
      return { length, solved: solved.length, runs: runs.length - failed, errors: failed, medianSteps: steps.length ? steps[steps.length >> 1] : null };
    });
    return { variant: v.name, label: v.label, paper: v.paper, byLength };
  });
  const header = `| ${["", ...o.lengths.map((l) => `T = ${l}`), "Pascanu et al. 2013"].join(" | ")} |`;
  const rule = `|${["---", ...o.lengths.map(() => "---"), "---"].join("|")}|`;
  const lines = rows.map(
    (r) =>
      `| ${[r.label, ...r.byLength.map((c) => `${c.solved}/${c.runs}${c.medianSteps !== null ? ` (${c.medianSteps} steps)` : ""}${c.errors ? ` (${c.errors} crashed)` : ""}`), r.paper].join(" | ")} |`,
  );
  const table = [header, rule, ...lines].join("\n");
  say(`\nsolved / runs (median steps to solve), ${o.task}, ${fmtDuration(wall)} wall:\n${table}\n`);
  const command = `npx rnnlab experiment clipping ${process.argv.slice(4).join(" ")}`.trim();
  const { specToSvg, svgToPng } = await import("../node/render.js"); // vega and resvg: loaded when needed
  const svg = await specToSvg(experimentSpec(o.task, rows));
  const created = !existsSync(o.out);
  makeFolder(o.out);
  try {
    // the four files as one: a full disk leaves none of them changed
    writeFilesAtomic([
      [
        join(o.out, "results.json"),
        `${JSON.stringify({ task: o.task, options: o, seconds: wall, rows, runs: cells.map((c) => ({ variant: c.variant.name, ...(c.result ?? { length: c.length, seed: c.seed, error: c.error }) })) }, null, 1)}\n`,
      ],
      [join(o.out, "table.md"), `${table}\n\nCommand: \`${command}\`; ${fmtDuration(wall)} on this machine.\n`],
      [join(o.out, "success.svg"), svg],
      [join(o.out, "success.png"), svgToPng(svg)],
    ]);
  } catch (e) {
    if (created) rmSync(o.out, { recursive: true, force: true });
    throw e;
  }
  say(`files: ${join(o.out, "results.json")}, ${join(o.out, "table.md")}, ${join(o.out, "success.svg")}, ${join(o.out, "success.png")}\n`);
}
