// `rnnlab experiment clipping`: the experiment of Pascanu, Mikolov & Bengio (2013), §4.1.1 and
// figure 7, within a time budget: a long-range task at several lengths, solved (or not) by a tanh
// RNN without clipping, with clipping, with clipping and the Ω regulariser, and by an LSTM and a
// GRU, over several seeds. Each cell of the table is one `rnnlab task ... --json` child process,
// as many at a time as there are cores. Prints the success table beside the paper's, and writes
// it as JSON, Markdown, SVG and PNG. `rnnlab experiment context` (the second half of the file):
// the lecture's "Jane said hi to __" as language models of equal size against the distance back
// to the name. No numerics here.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, InvalidArgumentError, Option } from "commander";
import { createTask, TASK_NAMES, type TaskName } from "../data/tasks.js";
import { checkOutputFolder, InputError, makeFolder, whyOf, writeFilesAtomic } from "../node/files.js";
import { checkTaskFits, checkTrainingFits, languageModelParams } from "../train/memory.js";
import { ContextStories, FILLER_KINDS, fillerWords, type FillerKind } from "../data/context-stories.js";
import { CharVocab } from "../data/vocab.js";
import { encodeText } from "../data/corpus.js";
import { ResourceError } from "../errors.js";
import { MAX_WINDOW } from "../nn/feedforward-lm.js";
import type { ModelConfig } from "../nn/language-model.js";
import { Rng } from "../tensor/rng.js";
import {
  CONTEXT_MODELS,
  contextTable,
  encodeStoryTests,
  scoreStories,
  sizeForParams,
  storyChance,
  summarizeContext,
  type ContextModelRow,
  type StoryScore,
} from "../analysis/context-experiment.js";
import { DEFAULT_CORPUS } from "../node/corpus.js";
import { contextExperimentSpec } from "../plot/context-spec.js";
import { TrainingSession } from "../train/session.js";
import type { TrainConfig } from "../train/run.js";
import { CELL_NAMES } from "../nn/cells.js";
import { OPTIMIZER_NAMES } from "../train/optim.js";
import { experimentSpec } from "../plot/experiment-spec.js";
import type { TaskResult } from "./task.js";
import { choiceArg, f32Arg, fmtDuration, intArg, numArg, optionWithDefault } from "./options.js";
import { say } from "./output.js";
import { rnnlab } from "./invocation.js";

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

/** The options that belong to one experiment only (commander's attribute names). */
const CLIPPING_ONLY = ["task", "lengths", "variants", "hidden", "batch", "optimizer", "evalEvery", "evalSize"];
const CONTEXT_ONLY = ["distances", "fillers", "models", "params", "window", "testSize", "seed", "child"];

/** `rnnlab experiment <name>`: clipping or context. */
export function experimentCommand(): Command {
  const int = intArg(1);
  return new Command("experiment")
    .description(
      'reproduce an experiment: clipping (Pascanu et al. 2013, temporal order and other long-range tasks) or context (the lecture\'s "Jane said hi to __": how far back a language model carries a name)',
    )
    .argument("<name>", "the experiment: clipping or context")
    .option("--task <name>", `clipping: the task: ${TASK_NAMES.join(", ")}`, choiceArg(TASK_NAMES), "temporal-order")
    .addOption(optionWithDefault("--lengths <list>", "clipping: sequence lengths T", listArg(int), [20, 50, 100, 200], "20,50,100,200"))
    .addOption(
      optionWithDefault(
        "--variants <list>",
        `clipping: rows of the table: ${VARIANTS.map((v) => v.name).join(", ")}`,
        listArg((s) => s),
        VARIANTS.map((v) => v.name),
        "all",
      ),
    )
    .option(
      "--distances <list>",
      `context: filler lengths d in characters (B's initial is D = d + ${new ContextStories({ words: ["a"] }).baseDistance} characters before the blank) (default: ${CONTEXT_DEFAULTS.distances.join(",")})`,
      listArg(intArg(0)),
    )
    .option(
      "--fillers <kind>",
      `context: fixed (one filler per distance, the same in every story, as the lecture's "It was late in the day.") or random (new words in every story: much slower to learn) (default: ${CONTEXT_DEFAULTS.fillers})`,
      choiceArg(FILLER_KINDS),
    )
    .option(
      "--models <list>",
      `context: rows of the table: ${CONTEXT_MODELS.map((m) => m.name).join(", ")} (default: all)`,
      listArg((s) => s),
    )
    .option("--params <n>", `context: parameters of every model (each row's hidden size comes closest) (default: ${CONTEXT_DEFAULTS.params})`, intArg(1))
    .option("--window <n>", `context: characters the feed-forward model sees, at most ${MAX_WINDOW} (default: ${CONTEXT_DEFAULTS.window})`, intArg(1))
    .option("--test-size <n>", `context: held-out stories per distance (default: ${CONTEXT_DEFAULTS.testSize})`, intArg(1))
    .option("--seed <n>", `context: seed of the stories (training text and test) (default: ${CONTEXT_DEFAULTS.seed})`, intArg(0))
    .option("--seeds <n>", "runs per cell (clipping) or per model (context), seeds 1..n", intArg(1), 1)
    .option(
      "--budget <minutes>",
      `wall-clock minutes for the whole sweep (split evenly between the runs) (default: ${CLIPPING_BUDGET} for clipping, ${CONTEXT_DEFAULTS.budget} for context)`,
      numArg(0, Infinity, true),
    )
    .addOption(optionWithDefault("--parallel <n>", "runs at a time", intArg(1), availableParallelism(), "all cores"))
    .option("--hidden <n>", "clipping: hidden units (the paper: 50)", intArg(1), 50)
    .option("--batch <n>", "clipping: sequences per step (the paper: 20)", intArg(1), 20)
    .option("--optimizer <name>", `clipping: ${OPTIMIZER_NAMES.join(", ")} (the paper: sgd)`, choiceArg(OPTIMIZER_NAMES), "sgd")
    .option("--lr <x>", `learning rate (default: ${CLIPPING_LR} for clipping, the paper's; ${CONTEXT_DEFAULTS.lr} for context, adam's)`, f32Arg(0))
    .option("--eval-every <n>", "clipping: test the criterion every n steps", intArg(1), 500)
    .option("--eval-size <n>", "clipping: held-out sequences of the criterion (the paper: 10000)", intArg(1), 1000)
    .option(
      "--out <dir>",
      "where the table goes: results.json, table.md and success.svg/png (clipping) or accuracy.svg/png (context) (default: experiment-<name>)",
    )
    .addOption(new Option("--child <json>", "context: train and score one run, print it as JSON (what the sweep starts)").hideHelp())
    .action(async (name: string, given: Omit<ExperimentOpts, "budget" | "out" | "lr"> & ContextOpts, cmd: Command) => {
      if (name !== "clipping" && name !== "context") throw new InputError(`unknown experiment "${name}"; the ones available are: clipping, context`);
      // an option of the other experiment: refused, not silently ignored
      const onCli = (key: string) => cmd.getOptionValueSource(key) === "cli";
      const flag = (key: string) => cmd.options.find((x) => x.attributeName() === key)?.long ?? key;
      const foreign = (name === "clipping" ? CONTEXT_ONLY : CLIPPING_ONLY).filter(onCli);
      if (foreign.length)
        throw new InputError(
          `${foreign.map(flag).join(", ")} ${foreign.length > 1 ? "belong" : "belongs"} to experiment ${name === "clipping" ? "context" : "clipping"}, not ${name}; see ${rnnlab("experiment --help")}`,
        );
      if (name === "context") {
        await contextExperiment(given);
        return;
      }
      const o: ExperimentOpts = { ...given, lr: given.lr ?? CLIPPING_LR, budget: given.budget ?? CLIPPING_BUDGET, out: given.out ?? "experiment-clipping" };
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
  /** The child's exit status when it printed no result. */
  status?: number | null;
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
        cell.status = code;
      }
      resolve();
    });
  });
}

/**
 * A run whose child exited with status 2 met a usage or system error (an unusable environment
 * variable, a full disk) that every other run would meet too: the sweep stops there with the
 * child's own line and status 2, rather than writing a table of crashed runs. Other failures (a
 * bug: status 1) are counted as crashed runs and the sweep goes on.
 */
function stopOnUsageError(run: { error?: string; status?: number | null }): void {
  if (run.status !== 2 || run.error === undefined) return;
  const line = run.error.replace(/^exit 2: /, "").replace(/^rnnlab: /, "");
  throw new InputError(`a run of the experiment stopped: ${line || "exit status 2"}`);
}

/**
 * Runs `each` on every item, `slots` at a time, in order. Ctrl-C or SIGTERM: no new runs, the
 * running child processes stopped, exit 130 (no table: it would be partial); the children are
 * stopped too when this process exits for any other reason.
 */
async function runPool<T>(items: readonly T[], slots: number, each: (item: T, stopped: () => boolean) => Promise<void>): Promise<void> {
  let next = 0;
  let stopped = false;
  const kill = () => {
    for (const c of children) c.kill("SIGTERM");
  };
  const stop = () => {
    stopped = true;
    kill();
    say("\nrnnlab experiment: stopped; no table was written\n");
    process.exit(130);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  process.on("exit", kill);
  const worker = async () => {
    while (next < items.length && !stopped) await each(items[next++], () => stopped);
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
  const num = (x: number | null | undefined, digits: number) => (typeof x === "number" && Number.isFinite(x) ? x.toPrecision(digits) : "n/a");
  await runPool(cells, slots, async (cell, stopped) => {
    await runCell(cell, o, minutes);
    if (stopped()) return; // stopped by another run's failure: its line is the one to read
    stopOnUsageError(cell);
    const r = cell.result;
    say(
      `  T=${cell.length} ${cell.variant.name} seed ${cell.seed}: ` +
        (r
          ? `${r.solved ? "solved" : "not solved"} after ${r.steps} steps (${fmtDuration(r.seconds)}), ${typeof r.testError === "number" ? (100 * r.testError).toFixed(1) : "n/a"}% wrong, ` +
            `loss ${num(r.testLoss, 3)} / baseline ${num(r.baseline, 3)}`
          : cell.error) +
        "\n",
    );
  });
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
  const command = rnnlab(`experiment clipping ${process.argv.slice(4).join(" ")}`.trim());
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

// ---------------------------------------------------------------------------------------------
// `rnnlab experiment context`: the lecture's "Jane walked into the room. John walked in too. It
// was late in the day. Jane said hi to __" as a controlled experiment. Character-level language
// models of equal parameter counts (the feed-forward window model, the tanh RNN without and with
// clipping, the LSTM, the GRU) train on stories of the template family (data/context-stories.ts)
// with fillers of every length, mixed; then each reads held-out stories up to "said hi to " and
// is scored at each distance D back to where the answer appeared (analysis/context-experiment.ts).
// Each (model, seed) is one child process (`experiment context --child`), as many at a time as
// --parallel says; the table, JSON and plot are written after the whole sweep.

/** What `experiment context` takes (undefined: the default). */
interface ContextOpts {
  distances?: number[];
  lr?: number;
  fillers?: FillerKind;
  models?: string[];
  params?: number;
  window?: number;
  testSize?: number;
  seed?: number;
  seeds: number;
  budget?: number;
  parallel: number;
  out?: string;
  child?: string;
}

/** The default --budget (minutes) and --lr of experiment clipping. */
const CLIPPING_BUDGET = 30;
const CLIPPING_LR = 0.01;

/** The defaults of experiment context. */
const CONTEXT_DEFAULTS = {
  distances: [0, 16, 32, 64, 128],
  fillers: "fixed" as FillerKind,
  params: 40_000,
  window: 64,
  testSize: 500,
  seed: 1,
  budget: 60,
  lr: 5e-3,
};

/**
 * What every row trains with (and the rate, --lr); only the cell, its hidden size and its
 * clipping differ. Adam at 5e-3 by default, above its usual 2e-3: in a budget of minutes the
 * gated models learn the name sooner (the tanh RNNs are stabler at 2e-3).
 */
const CONTEXT_RECIPE = { embedSize: 16, batch: 32, optimizer: "adam" as const };

/** The longest filler (characters) and the most held-out stories per distance the experiment takes. */
const MAX_FILLER = 4096;
const MAX_TEST_SIZE = 100_000;

/** The files experiment context writes into --out. */
const CONTEXT_FILES = ["results.json", "table.md", "accuracy.svg", "accuracy.png"];

/**
 * Training text per second of a run's budget (about what a run reads), within bounds: a long run
 * passes over its text more than once (the test stories are drawn from a generator of their own).
 */
const CHARS_PER_SECOND = 60_000;
const MIN_TEXT = 1_000_000;
const MAX_TEXT = 8_000_000;

/** The test stories come from their own generator: seed + this. */
const TEST_STREAM = 1_000_003;

/** A row of the sweep with its size. */
interface SizedRow {
  row: ContextModelRow;
  hidden: number;
  params: number;
}

/** Everything a sweep and each of its runs need, checked. */
interface ContextPlan {
  distances: number[];
  lr: number;
  fillers: FillerKind;
  rows: SizedRow[];
  params: number;
  window: number;
  testSize: number;
  seed: number;
  seeds: number;
  budget: number;
  parallel: number;
  out: string;
  stories: ContextStories;
  vocab: CharVocab;
  /** Truncated BPTT k1 = k2: the longest story, rounded up to a multiple of 32. */
  k: number;
}

/** The result of one run, as its child process prints it. */
interface ContextRunResult {
  model: string;
  seed: number;
  hidden: number;
  params: number;
  steps: number;
  /** Seconds of training. */
  seconds: number;
  /** Mean training loss (nats per character) of the last steps. */
  loss: number;
  /** Steps skipped for a non-finite loss or gradient. */
  skipped: number;
  scores: StoryScore[];
}

function planContext(o: ContextOpts): ContextPlan {
  const distances = [...new Set(o.distances ?? CONTEXT_DEFAULTS.distances)].sort((a, b) => a - b);
  const long = distances.find((d) => d > MAX_FILLER);
  if (long !== undefined)
    throw new InputError(`--distances ${long}: a filler of at most ${MAX_FILLER.toLocaleString("en-US")} characters; use shorter distances`);
  const names = [...new Set(o.models ?? CONTEXT_MODELS.map((m) => m.name))];
  const unknown = names.filter((n) => !CONTEXT_MODELS.some((m) => m.name === n));
  if (unknown.length) throw new InputError(`unknown model ${unknown.join(", ")}; choose from ${CONTEXT_MODELS.map((m) => m.name).join(", ")}`);
  const window = o.window ?? CONTEXT_DEFAULTS.window;
  if (window > MAX_WINDOW) throw new InputError(`--window ${window}: the feed-forward model sees at most ${MAX_WINDOW} characters; use a smaller --window`);
  const testSize = o.testSize ?? CONTEXT_DEFAULTS.testSize;
  if (testSize > MAX_TEST_SIZE) throw new InputError(`--test-size ${testSize}: at most ${MAX_TEST_SIZE.toLocaleString("en-US")} stories per distance`);
  const runs = names.length * o.seeds;
  if (runs > MAX_RUNS)
    throw new InputError(
      `${runs.toLocaleString("en-US")} runs (models x seeds) are more than one sweep takes (at most ${MAX_RUNS.toLocaleString("en-US")}); use fewer --seeds`,
    );
  const target = o.params ?? CONTEXT_DEFAULTS.params;
  let text: string;
  try {
    text = readFileSync(DEFAULT_CORPUS, "utf8");
  } catch (e) {
    throw new InputError(`cannot read the embedded corpus ${DEFAULT_CORPUS} (the fillers' words): ${whyOf(e)}; reinstall rnnlab`);
  }
  const fillers = o.fillers ?? CONTEXT_DEFAULTS.fillers;
  const seed = o.seed ?? CONTEXT_DEFAULTS.seed;
  const stories = new ContextStories({ words: fillerWords(text), fillers, fillerSeed: seed });
  const vocab = new CharVocab([...stories.alphabet()]);
  const k = Math.ceil(stories.lengthOf(distances[distances.length - 1]) / 32) * 32;
  const rows = names.map((name) => {
    const row = CONTEXT_MODELS.find((m) => m.name === name)!;
    const config = (h: number): ModelConfig => ({
      cell: row.cell,
      vocabSize: vocab.size,
      embedSize: CONTEXT_RECIPE.embedSize,
      hiddenSize: h,
      numLayers: 1,
      nonlinearity: "tanh",
      tieWeights: false,
      ...(row.cell === "mlp" ? { window } : {}),
    });
    const hidden = sizeForParams((h) => languageModelParams(config(h)), target);
    const params = languageModelParams(config(hidden));
    if (Math.abs(params - target) > 0.25 * target) {
      const why = row.cell === "mlp" ? `its window of ${window} characters alone makes it larger; lower --window or raise --params` : "raise --params";
      throw new InputError(
        `--params ${target}: the closest ${row.name} model has ${params.toLocaleString("en-US")} parameters (hidden size ${hidden}); ${why}`,
      );
    }
    try {
      checkTrainingFits(config(hidden), trainConfig(row, k, 1, CONTEXT_DEFAULTS.lr));
    } catch (e) {
      if (e instanceof ResourceError)
        throw new InputError(
          `the ${row.name} model of ${params.toLocaleString("en-US")} parameters, over windows of ${k} characters, needs more memory than a run may use; lower --params or the longest of --distances`,
        );
      throw e;
    }
    return { row, hidden, params };
  });
  return {
    distances,
    lr: o.lr ?? CONTEXT_DEFAULTS.lr,
    fillers,
    rows,
    params: target,
    window,
    testSize,
    seed,
    seeds: o.seeds,
    budget: o.budget ?? CONTEXT_DEFAULTS.budget,
    parallel: o.parallel,
    out: o.out ?? "experiment-context",
    stories,
    vocab,
    k,
  };
}

/** The training settings of a row. */
function trainConfig(row: ContextModelRow, k: number, seed: number, lr: number): TrainConfig {
  return {
    batch: CONTEXT_RECIPE.batch,
    k1: k,
    k2: k,
    optimizer: CONTEXT_RECIPE.optimizer,
    lr,
    momentum: 0,
    weightDecay: 0,
    clipNorm: row.clipNorm,
    clipValue: null,
    nonFinite: "skip",
    seed,
  };
}

/** The held-out stories of a plan (their own generator: the same for every run). */
function contextTests(plan: ContextPlan) {
  return plan.stories.tests(new Rng(plan.seed + TEST_STREAM), plan.distances, plan.testSize);
}

/** One run (a child process): trains a row for `seconds`, scores it, prints the result as one JSON line. */
async function contextChild(plan: ContextPlan, json: string): Promise<void> {
  let spec: { model?: unknown; seed?: unknown; seconds?: unknown };
  try {
    spec = JSON.parse(json);
  } catch {
    throw new InputError("--child: expected JSON {model, seed, seconds}");
  }
  const sized = plan.rows.find((r) => r.row.name === spec.model);
  const seed = Number(spec.seed);
  const seconds = Number(spec.seconds);
  if (!sized || !Number.isSafeInteger(seed) || !(seconds >= 0)) throw new InputError("--child: expected JSON {model, seed, seconds} with a model of --models");
  const { row, hidden, params } = sized;
  const chars = Math.min(MAX_TEXT, Math.max(MIN_TEXT, Math.round(seconds * CHARS_PER_SECOND)));
  const text = plan.stories.trainingText(new Rng(plan.seed), plan.distances, chars);
  const { tokens, hash } = encodeText(text, plan.vocab);
  const losses: number[] = [];
  let skipped = 0;
  const session = new TrainingSession(
    { vocab: plan.vocab, tokens, hash, path: "<context stories>", name: "the stories" },
    {
      model: {
        cell: row.cell,
        hiddenSize: hidden,
        embedSize: CONTEXT_RECIPE.embedSize,
        numLayers: 1,
        nonlinearity: "tanh",
        tieWeights: false,
        ...(row.cell === "mlp" ? { window: plan.window } : {}),
        ...(row.forgetBias !== undefined ? { forgetBias: row.forgetBias } : {}),
      },
      train: trainConfig(row, plan.k, seed, plan.lr),
      steps: null,
      time: seconds,
      valFraction: 0,
      evalEvery: 1_000_000_000,
      sampleLength: 0,
    },
    {
      onStep: (rec) => {
        if (rec.skipped) skipped++;
        else losses.push(rec.loss);
        if (losses.length > 100) losses.shift();
      },
    },
  );
  try {
    const { steps } = await session.train();
    const scores = scoreStories(session.run.model, encodeStoryTests(contextTests(plan), plan.vocab));
    const loss = losses.length ? losses.reduce((a, b) => a + b, 0) / losses.length : Number.NaN;
    const result: ContextRunResult = { model: row.name, seed, hidden, params, steps, seconds: session.trainSeconds, loss, skipped, scores };
    say(`${JSON.stringify(result)}\n`);
  } finally {
    session.dispose();
  }
}

/** Runs one (model, seed) as a child process; resolves with its result, or the first line of its error. */
function spawnContextRun(
  plan: ContextPlan,
  model: string,
  seed: number,
  seconds: number,
): Promise<{ result?: ContextRunResult; error?: string; status?: number | null }> {
  const args = [
    BIN,
    "experiment",
    "context",
    "--distances",
    plan.distances.join(","),
    "--fillers",
    plan.fillers,
    "--lr",
    String(plan.lr),
    "--models",
    model,
    "--params",
    String(plan.params),
    "--window",
    String(plan.window),
    "--test-size",
    String(plan.testSize),
    "--seed",
    String(plan.seed),
    "--child",
    JSON.stringify({ model, seed, seconds }),
  ];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env } });
    children.add(child);
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("exit", (code) => {
      children.delete(child);
      try {
        resolve({ result: JSON.parse(out.trim().split("\n").pop() ?? "") as ContextRunResult });
      } catch {
        resolve({ error: `exit ${code}: ${err.trim().split("\n")[0] ?? ""}`, status: code });
      }
    });
  });
}

async function contextExperiment(o: ContextOpts): Promise<void> {
  const plan = planContext(o);
  if (o.child !== undefined) {
    await contextChild(plan, o.child);
    return;
  }
  // the table is written after the whole sweep: its place is checked before the first run
  checkOutputFolder(plan.out, { flag: "--out" });
  for (const f of CONTEXT_FILES) {
    if (existsSync(join(plan.out, f)) && statSync(join(plan.out, f)).isDirectory())
      throw new InputError(`--out ${plan.out}: ${join(plan.out, f)} is a folder; choose another --out`);
  }
  const { stories, rows } = plan;
  const runs: { sized: SizedRow; seed: number; result?: ContextRunResult; error?: string; status?: number | null }[] = [];
  for (const sized of rows) for (let seed = 1; seed <= plan.seeds; seed++) runs.push({ sized, seed });
  const slots = Math.min(plan.parallel, runs.length);
  const seconds = (plan.budget * 60) / Math.ceil(runs.length / slots); // the runs in rounds of `slots`: the last round ends at the budget
  const chance = storyChance(stories.names.length);
  const Ds = plan.distances.map((d) => stories.distanceOf(d));
  const hasWindow = rows.some((r) => r.row.cell === "mlp");
  say(
    `rnnlab experiment context: "A walked into the room. B walked in too.<d characters> A said hi to __" (names ${stories.names.join(", ")}; ${plan.fillers} fillers)\n` +
      `distances D = ${Ds.join(", ")} characters back to B (d = ${plan.distances.join(", ")} + ${stories.baseDistance}); ` +
      `${rows.length} model${rows.length > 1 ? "s" : ""} x ${plan.seeds} seed${plan.seeds > 1 ? "s" : ""} = ${runs.length} runs, ${slots} at a time, at most ${fmtDuration(seconds)} of training each (budget ${plan.budget} min)\n` +
      `models at about ${plan.params.toLocaleString("en-US")} parameters: ${rows.map((r) => `${r.row.name}${r.row.cell === "mlp" ? ` (window ${plan.window})` : ""} hidden ${r.hidden}: ${r.params.toLocaleString("en-US")}`).join("; ")}\n` +
      `recipe: ${CONTEXT_RECIPE.optimizer} lr ${plan.lr}, batch ${CONTEXT_RECIPE.batch}, truncated BPTT ${plan.k} characters (the longest story), embedding ${CONTEXT_RECIPE.embedSize}, clipping 1 except rnn${rows
        .filter((r) => r.row.forgetBias !== undefined)
        .map((r) => `, ${r.row.name} forget bias ${r.row.forgetBias}`)
        .join("")}; ` +
      `${plan.testSize} held-out stories per distance; chance ${(100 * chance).toFixed(1)}% (1/(names-1): A is in sight)\n`,
  );
  const t0 = performance.now();
  await runPool(runs, slots, async (run, stopped) => {
    Object.assign(run, await spawnContextRun(plan, run.sized.row.name, run.seed, seconds));
    if (stopped()) return; // stopped by another run's failure: its line is the one to read
    stopOnUsageError(run);
    const r = run.result;
    say(
      `  ${run.sized.row.name} seed ${run.seed}: ` +
        (r
          ? `${r.steps} steps (${fmtDuration(r.seconds)})${r.skipped ? `, ${r.skipped} skipped (non-finite)` : ""}, loss ${Number.isFinite(r.loss) ? r.loss.toFixed(3) : "n/a"}; ` +
            r.scores.map((s) => `D=${s.distance} ${(100 * s.accuracy).toFixed(0)}%`).join(" ")
          : run.error) +
        "\n",
    );
  });
  const wall = (performance.now() - t0) / 1000;

  const tests = plan.distances.map((d) => ({ d, distance: stories.distanceOf(d) }));
  const summary = summarizeContext(
    rows.map((r) => ({ name: r.row.name, label: r.row.cell === "mlp" ? `${r.row.label} (${plan.window})` : r.row.label, params: r.params })),
    tests,
    runs.map((r) => ({ model: r.sized.row.name, seed: r.seed, scores: r.result?.scores })),
  );
  const table = contextTable(summary, chance, hasWindow ? plan.window : undefined);
  const command = rnnlab(`experiment context ${process.argv.slice(4).join(" ")}`.trim());
  const notes = [
    `Accuracy (%) of the name after "said hi to": the share of ${plan.testSize} held-out stories per distance whose most likely next character is B's initial` +
      `${plan.seeds > 1 ? `, the mean over ${plan.seeds} seeds (their range in brackets)` : ""}.`,
    `D: characters from B's first letter (in "B walked in too.") to the blank; the filler is d = D - ${stories.baseDistance} characters of lowercase words` +
      `${plan.fillers === "fixed" ? ", one per distance, the same in every story" : ", drawn anew in every story"}.` +
      (hasWindow ? ` *: beyond the feed-forward model's window of ${plan.window} characters, where it cannot see B.` : ""),
    `Chance: 1/(${stories.names.length}-1) = ${(100 * chance).toFixed(1)}%, a model that cannot see B still sees A just before the blank and excludes it.`,
    `Every model has about ${plan.params.toLocaleString("en-US")} parameters and at most ${fmtDuration(seconds)} of training (${CONTEXT_RECIPE.optimizer} lr ${plan.lr}, batch ${CONTEXT_RECIPE.batch}, truncated BPTT ${plan.k}).`,
  ];
  say(`\naccuracy (%) at distance D, ${fmtDuration(wall)} wall:\n${table}\n`);
  const { specToSvg, svgToPng } = await import("../node/render.js"); // vega and resvg: loaded when needed
  const svg = await specToSvg(contextExperimentSpec(summary, chance, hasWindow ? plan.window : null));
  const created = !existsSync(plan.out);
  makeFolder(plan.out);
  const options = {
    distances: plan.distances,
    fillers: plan.fillers,
    lr: plan.lr,
    models: rows.map((r) => r.row.name),
    params: plan.params,
    window: plan.window,
    testSize: plan.testSize,
    seed: plan.seed,
    seeds: plan.seeds,
    budget: plan.budget,
    parallel: plan.parallel,
    out: plan.out,
  };
  const results = {
    experiment: "context",
    template: "A walked into the room. B walked in too.<filler of d characters> A said hi to B.",
    fillers: plan.fillers === "fixed" ? Object.fromEntries(plan.distances.map((d) => [d, stories.fixedFiller(d)])) : "random",
    names: stories.names,
    baseDistance: stories.baseDistance,
    chance,
    options,
    recipe: {
      ...CONTEXT_RECIPE,
      lr: plan.lr,
      k1: plan.k,
      k2: plan.k,
      clipNorm: Object.fromEntries(rows.map((r) => [r.row.name, r.row.clipNorm])),
      forgetBias: Object.fromEntries(rows.filter((r) => r.row.forgetBias !== undefined).map((r) => [r.row.name, r.row.forgetBias])),
      secondsPerRun: seconds,
    },
    seconds: wall,
    rows: summary.map((s, i) => ({ ...s, cell: rows[i].row.cell, hidden: rows[i].hidden, clipNorm: rows[i].row.clipNorm })),
    runs: runs.map((r) => r.result ?? { model: r.sized.row.name, seed: r.seed, error: r.error }),
  };
  try {
    // the four files as one: a full disk leaves none of them changed
    writeFilesAtomic([
      [join(plan.out, "results.json"), `${JSON.stringify(results, null, 1)}\n`],
      [join(plan.out, "table.md"), `${table}\n\n${notes.join("\n")}\n\nCommand: \`${command}\`; ${fmtDuration(wall)} on this machine.\n`],
      [join(plan.out, "accuracy.svg"), svg],
      [join(plan.out, "accuracy.png"), svgToPng(svg)],
    ]);
  } catch (e) {
    if (created) rmSync(plan.out, { recursive: true, force: true });
    throw e;
  }
  say(`files: ${CONTEXT_FILES.map((f) => join(plan.out, f)).join(", ")}\n`);
}
