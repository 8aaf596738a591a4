// `rnnlab task NAME`: train a recurrent net on one of the long-range dependency benchmarks
// (data/tasks.ts) until the task's own success criterion is met on held-out sequences, or the
// step or time budget runs out. Wires the library's TaskRun to the terminal; no numerics.
// Exit status: 0 solved, 1 not solved within the budget, 2 a usage error.

import { Command } from "commander";
import { createTask, TASK_NAMES, type TaskName } from "../data/tasks.js";
import { InputError } from "../node/files.js";
import { TaskRun, type TaskRunConfig } from "../train/task-run.js";
import { checkTaskFits } from "../train/memory.js";
import { clipSummary } from "../train/clip.js";
import { OPTIMIZER_NAMES, type OptimizerName } from "../train/optim.js";
import { CELL_NAMES, CELLS } from "../nn/cells.js";
import { LM_CELLS, type LMCell } from "../nn/lm.js";
import { MAX_WINDOW } from "../nn/feedforward-lm.js";
import { choiceArg, f32Arg, fmtDuration, fmtInt, intArg, numArg } from "./options.js";
import { say as print } from "./output.js";

/** --cell mlp's window when --window is not given. */
const DEFAULT_TASK_WINDOW = 10;

interface TaskOpts {
  length: number;
  cell: LMCell;
  window?: number;
  hidden: number;
  nonlinearity: "tanh" | "relu";
  init?: "default" | "orthogonal" | "identity" | "chrono";
  optimizer: OptimizerName;
  lr: number;
  batch: number;
  clip: number;
  omega: number;
  steps: number;
  time: number;
  evalEvery: number;
  evalSize: number;
  seed: number;
  json: boolean;
}

/** What one task run ended with; `--json` prints it as one line. */
export interface TaskResult {
  task: TaskName;
  length: number;
  cell: string;
  clip: number | null;
  omega: number;
  seed: number;
  solved: boolean;
  /** Step at which the criterion was met (or the last step). */
  steps: number;
  seconds: number;
  testLoss: number;
  /** Share of held-out sequences wrong. */
  testError: number;
  baseline: number;
  /** Share of training steps whose gradient norm was above the clipping threshold (or would have been above 1 without clipping). */
  clippedShare: number;
  maxGradNorm: number;
  /** Updates skipped because the loss, gradient or update was not finite (the weights stayed as they were). */
  skipped: number;
}

export function taskCommand(): Command {
  return new Command("task")
    .description("train on a long-range dependency benchmark until its success criterion is met (exit 0) or the budget ends (exit 1)")
    .argument("<name>", `the task: ${TASK_NAMES.join(", ")}`)
    .option("--length <T>", "sequence length parameter T", intArg(1), 100)
    .option(
      "--cell <type>",
      `${CELL_NAMES.map((c) => `${c} (${CELLS[c].title})`).join(", ")}, or mlp (feed-forward over a window of the last --window steps: no recurrence)`,
      choiceArg(LM_CELLS),
      "lstm",
    )
    .option("--window <n>", "--cell mlp: the steps each output sees, the current one included (default: 10)", intArg(1))
    .option("--hidden <n>", "hidden units", intArg(1), 64)
    .option("--nonlinearity <f>", "Elman activation", choiceArg(["tanh", "relu"] as const), "tanh")
    .option(
      "--init <scheme>",
      "default (PyTorch's uniform), orthogonal, identity (IRNN), or chrono (gate biases for memories up to T steps; Tallec & Ollivier 2018) (default: chrono for lstm and gru, default for rnn)",
      choiceArg(["default", "orthogonal", "identity", "chrono"] as const),
    )
    .option("--optimizer <name>", OPTIMIZER_NAMES.join(", "), choiceArg(OPTIMIZER_NAMES), "adam")
    .option("--lr <x>", "learning rate", f32Arg(0), 3e-3)
    .option("--batch <n>", "fresh sequences per step", intArg(1), 32)
    .option("--clip <x>", "clip the global gradient norm to x (0: off)", f32Arg(0, false), 1)
    .option("--omega <lambda>", "weight of Pascanu's Ω regulariser against vanishing gradients (--cell rnn; 0: off)", f32Arg(0, false), 0)
    .option("--steps <n>", "at most this many steps", intArg(1), 20000)
    .option("--time <minutes>", "at most this many minutes", numArg(0, Infinity, true), 15)
    .option("--eval-every <n>", "test the criterion every n steps", intArg(1), 500)
    .option("--eval-size <n>", "held-out sequences the criterion is tested on", intArg(1), 1000)
    .option("--seed <n>", "seed of the weights and the sequences", intArg(0), 1)
    .option("--json", "print only the result, as one JSON line", false)
    .action(async (name: string, o: TaskOpts) => {
      if (!(TASK_NAMES as readonly string[]).includes(name)) throw new InputError(`unknown task "${name}"; choose one of ${TASK_NAMES.join(", ")}`);
      const result = runTask(name as TaskName, o);
      process.exitCode = result.solved ? 0 : 1;
    });
}

/** Trains one task run as the options say; prints progress (or the JSON result) and returns the result. */
export function runTask(name: TaskName, o: TaskOpts): TaskResult {
  if (o.window !== undefined && o.cell !== "mlp")
    throw new InputError(`--window is for --cell mlp (the feed-forward window model); --cell ${o.cell} sees the whole sequence`);
  if (o.cell === "mlp" && o.init !== undefined)
    throw new InputError("--init is for the recurrent cells; the feed-forward model (--cell mlp) has PyTorch's default initialisation");
  const window = o.cell === "mlp" ? (o.window ?? DEFAULT_TASK_WINDOW) : undefined;
  if (window !== undefined && window > MAX_WINDOW) throw new InputError(`--window ${window} is more than ${MAX_WINDOW} steps`);
  if (o.omega > 0 && o.cell !== "rnn") throw new InputError("--omega (Pascanu's regulariser) is for --cell rnn");
  const init = o.init ?? (o.cell === "lstm" || o.cell === "gru" ? "chrono" : "default");
  if (init === "chrono" && o.cell === "rnn") throw new InputError("--init chrono sets LSTM and GRU gate biases; use it with --cell lstm or gru");
  if (init === "identity" && o.cell !== "rnn") throw new InputError("--init identity (IRNN) is for --cell rnn");
  try {
    createTask(name, o.length);
  } catch (e) {
    if (e instanceof RangeError) throw new InputError(`--length ${o.length}: ${e.message}`);
    throw e;
  }
  const t = createTask(name, o.length);
  checkTaskFits({
    steps: t.steps,
    inputSize: t.inputSize,
    outputSize: t.outputSize,
    every: t.output === "class-every",
    cell: o.cell,
    hidden: o.hidden,
    layers: 1,
    batch: o.batch,
    evalSize: o.evalSize,
    ...(window !== undefined ? { window } : {}),
  });
  const config: TaskRunConfig = {
    task: name,
    length: o.length,
    cell: o.cell,
    ...(window !== undefined ? { window } : {}),
    hidden: o.hidden,
    nonlinearity: o.nonlinearity,
    init,
    optimizer: o.optimizer,
    lr: o.lr,
    batch: o.batch,
    clip: o.clip > 0 ? o.clip : null,
    omega: o.omega,
    seed: o.seed,
  };
  const run = new TaskRun(config);
  const task = run.task;
  const say = (s: string) => {
    if (!o.json) print(`${s}\n`);
  };
  const model =
    o.cell === "rnn" ? `${o.nonlinearity} RNN` : o.cell === "mlp" ? `feed-forward (${o.nonlinearity}) over a window of ${window} steps` : o.cell.toUpperCase();
  say(`rnnlab task: ${task.title}, T = ${task.length} (${task.steps} steps per sequence)`);
  say(`source: ${task.source}`);
  say(`success: ${task.criterion}`);
  say(`baseline: ${task.baseline.toPrecision(4)} (${task.baselineNote})`);
  say(
    `model: ${model}, hidden ${o.hidden}${o.cell === "mlp" ? "" : `, ${init} init`}, ${fmtInt(run.model.store.size)} parameters; ${o.optimizer} lr ${o.lr}, batch ${o.batch}` +
      `${config.clip ? `, clip norm ${config.clip}` : ", no clipping"}${o.omega ? `, Ω λ = ${o.omega}` : ""}, seed ${o.seed}`,
  );
  const t0 = performance.now();
  const seconds = () => (performance.now() - t0) / 1000;
  const norms: number[] = [];
  let maxNorm = 0;
  let last = { loss: NaN, metric: 1, solved: false };
  let steps = 0;
  let lossSum = 0;
  let lossN = 0;
  while (steps < o.steps && seconds() < o.time * 60) {
    const r = run.step();
    steps = r.step;
    norms.push(r.gradNorm);
    if (r.gradNorm > maxNorm || !Number.isFinite(r.gradNorm)) maxNorm = r.gradNorm;
    lossSum += r.loss;
    lossN++;
    if (steps % o.evalEvery === 0 || steps === o.steps) {
      last = run.evaluate(o.evalSize);
      say(
        `step ${steps}  train ${(lossSum / lossN).toPrecision(4)}  test ${last.loss.toPrecision(4)} (${(last.loss / task.baseline).toFixed(3)} of baseline)` +
          `  wrong ${(100 * last.metric).toFixed(1)}%  grad ${r.gradNorm.toPrecision(3)}  ${config.clip ? "clipped" : "above 1"} ${(100 * clipSummary(norms, config.clip ?? 1).clippedShare).toFixed(1)}%` +
          `${r.omega !== null ? `  Ω ${r.omega.toPrecision(3)}` : ""}${run.stats.skipped ? `  skipped ${run.stats.skipped} (non-finite)` : ""}  ${fmtDuration(seconds())}`,
      );
      lossSum = 0;
      lossN = 0;
      if (last.solved) break;
    }
  }
  if (steps % o.evalEvery !== 0 && steps !== o.steps) last = run.evaluate(o.evalSize); // stopped by the clock
  const result: TaskResult = {
    task: name,
    length: o.length,
    cell: o.cell === "rnn" ? `rnn-${o.nonlinearity}` : o.cell === "mlp" ? `mlp-${window}` : o.cell,
    clip: config.clip,
    omega: o.omega,
    seed: o.seed,
    solved: last.solved,
    steps,
    seconds: +seconds().toFixed(1),
    testLoss: last.loss,
    testError: last.metric,
    baseline: task.baseline,
    clippedShare: clipSummary(norms, config.clip ?? 1).clippedShare,
    maxGradNorm: maxNorm,
    skipped: run.stats.skipped,
  };
  if (o.json) print(`${JSON.stringify(result)}\n`);
  else if (last.solved)
    say(`solved at step ${steps} in ${fmtDuration(result.seconds)}: ${(100 * last.metric).toFixed(2)}% of ${fmtInt(o.evalSize)} held-out sequences wrong`);
  else
    say(
      `not solved after ${steps} steps (${fmtDuration(result.seconds)}): ${(100 * last.metric).toFixed(1)}% of ${fmtInt(o.evalSize)} held-out sequences wrong, test loss ${last.loss.toPrecision(4)} against the baseline ${task.baseline.toPrecision(4)}`,
    );
  return result;
}
