// `rnnlab train [FILE]`: a language model from the command line. A shell around the library's
// TrainingSession: options in, files out (checkpoints, metrics.jsonl, trajectory snapshots), the
// progress shown and Ctrl-C handled; the run itself, its cadence and its numbers are the session's.

import { existsSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { CELL_NAMES, CELLS } from "../nn/cells.js";
import { MAX_WINDOW } from "../nn/feedforward-lm.js";
import { LM_CELLS, type LMCell } from "../nn/lm.js";
import { readCheckpoint, useCheckpoint } from "../node/checkpoint.js";
import { DEFAULT_CORPUS, loadCorpus, type Corpus } from "../node/corpus.js";
import { checkOutputFolder, InputError, lockFolder, makeFolder, removeStaleTemps, WriteError } from "../node/files.js";
import { RunFolder } from "../node/run-folder.js";
import { nodeSpawn } from "../node/threads.js";
import { defaultKernels } from "../tensor/select.js";
import { checkThreads } from "../train/memory.js";
import { OPTIMIZER_NAMES, OPTIMIZERS, type OptimizerName } from "../train/optim.js";
import { CheckpointError, type RunConfig } from "../train/run.js";
import { describeSchedule, type ScheduleSpec } from "../train/schedule.js";
import { checkRunInfo, parseMetaJson, parseRunConfig, parseRunInfo, type RunInfo } from "../train/schema.js";
import { DEFAULT_STEPS, TrainingSession, type SessionHooks, type SessionSettings, type StopReason } from "../train/session.js";
import { NonFiniteError } from "../train/trainer.js";
import { choiceArg, f32Arg, fmtDuration, fmtInt, intArg, numArg, type ScheduleArg, scheduleArg, tbpttArg } from "./options.js";
import { say, warn } from "./output.js";
import { TrainReport } from "./progress.js";
import { rnnlab } from "./invocation.js";

const LN2 = Math.log(2);
const EMBEDDED = "<embedded tinyshakespeare.txt>";
/** --cell mlp's window when --window is not given. */
const DEFAULT_WINDOW = 16;

/** The options of `rnnlab train`, as commander parses them. */
export interface TrainOpts {
  cell: LMCell;
  window?: number;
  direct: boolean;
  dropout: number;
  embeddingDropout: number;
  outputDropout: number;
  init: "default" | "orthogonal" | "identity";
  forgetBias?: number;
  hidden: number;
  layers: number;
  embed: number;
  nonlinearity: "tanh" | "relu";
  tieWeights: boolean;
  seq: number;
  tbptt?: [number, number];
  batch: number;
  optimizer: OptimizerName;
  lr?: number;
  momentum: number;
  weightDecay: number;
  clip: number;
  clipValue: number;
  lrSchedule?: ScheduleArg;
  warmup: number;
  earlyStop?: number;
  onNonfinite: "stop" | "skip";
  steps?: number;
  epochs?: number;
  time?: number;
  evalEvery: number;
  saveEvery?: number;
  sampleLength: number;
  valFraction: number;
  seed: number;
  out?: string;
  resume: boolean;
  threads?: number;
  tokens: "chars" | "words";
  vocabSize: number;
  diagnoseEvery: number;
  diagnoseRows: number;
  explodeFactor: number;
}

export function trainCommand(): Command {
  return new Command("train")
    .description("train a character-level language model (default text: the embedded tiny Shakespeare)")
    .argument("[file]", "UTF-8 text file to learn from")
    .option(
      "--cell <type>",
      `recurrent cell: ${CELL_NAMES.map((c) => `${c} (${CELLS[c].title})`).join(", ")}; or mlp, a feed-forward model over a window of tokens (Bengio et al. 2003)`,
      choiceArg(LM_CELLS),
      "lstm",
    )
    .option("--window <n>", `--cell mlp: the tokens each prediction sees, the current one included (default: ${DEFAULT_WINDOW})`, intArg(1))
    .option("--direct", "--cell mlp: direct connections from the window's embeddings to the output (Bengio et al.)", false)
    .option("--hidden <n>", "hidden units per layer", intArg(1), 256)
    .option("--layers <n>", "stacked recurrent layers", intArg(1), 1)
    .option("--embed <n>", "embedding size", intArg(1), 64)
    .option("--nonlinearity <f>", "Elman activation", choiceArg(["tanh", "relu"] as const), "tanh")
    .option("--dropout <p>", "dropout between recurrent layers while training", numArg(0, 0.99), 0)
    .option("--embedding-dropout <p>", "dropout on the embedded inputs while training (as PyTorch's word_language_model)", numArg(0, 0.99), 0)
    .option("--output-dropout <p>", "dropout on the top layer's outputs, before the output layer, while training", numArg(0, 0.99), 0)
    .option(
      "--init <scheme>",
      "recurrent weights: default (uniform), orthogonal, or identity (IRNN, for --nonlinearity relu)",
      choiceArg(["default", "orthogonal", "identity"] as const),
      "default",
    )
    .option("--forget-bias <x>", "LSTM forget-gate bias at initialisation (default: PyTorch's uniform)", f32Arg(-Infinity, false))
    .option("--tie-weights", "use the embedding as the output layer's weight (needs --embed = --hidden)", false)
    .option("--seq <n>", "steps per window: truncated BPTT(n, n)", intArg(1), 64)
    .option("--tbptt <k1,k2>", "truncated BPTT: update every k1 steps, backpropagate through k2 >= k1 (overrides --seq)", tbpttArg)
    .option("--batch <n>", "parallel streams per batch", intArg(1), 32)
    .option("--optimizer <name>", OPTIMIZER_NAMES.join(", "), choiceArg(OPTIMIZER_NAMES), "adam")
    .option("--lr <x>", `learning rate (default: ${OPTIMIZER_NAMES.map((n) => `${OPTIMIZERS[n].defaultLr} ${n}`).join(", ")})`, f32Arg(0))
    .option("--momentum <x>", "momentum for sgd and rmsprop", numArg(0, 1), 0)
    .option("--weight-decay <x>", "weight decay (L2; decoupled for adamw)", f32Arg(0, false), 0)
    .option("--clip <x>", "clip the global gradient norm to x (0: off)", f32Arg(0, false), 5)
    .option("--clip-value <x>", "clamp each gradient element to [-x, x] (0: off)", f32Arg(0, false), 0)
    .option(
      "--lr-schedule <spec>",
      "learning-rate schedule: constant, step:SIZE[,GAMMA], exp:GAMMA, cosine[:T_MAX[,ETA_MIN]] (T_MAX default: the run's steps), onecycle[:PCT_START] (peaking at --lr over the run's steps), or plateau[:PATIENCE[,FACTOR]] (on the validation loss) (default: constant)",
      scheduleArg,
    )
    .option("--warmup <n>", "linear warm-up over the first n updates, then the schedule (0: none)", intArg(0), 0)
    .option("--early-stop <patience>", "stop when the validation loss has not improved for this many evaluations", intArg(1))
    .option(
      "--on-nonfinite <policy>",
      "on a NaN/infinite loss, gradient or update: stop, or skip the update (the weights stay as they were)",
      choiceArg(["stop", "skip"] as const),
      "stop",
    )
    .option("--steps <n>", `training steps (default: ${DEFAULT_STEPS}, unless --epochs or --time is given)`, intArg(1))
    .option("--epochs <n>", "passes over the training text", numArg(0, Infinity, true))
    .option("--time <minutes>", "stop after this many minutes of training", numArg(0, Infinity, true))
    .option("--eval-every <n>", "validate, print and sample every n steps", intArg(1), 500)
    .option("--save-every <n>", "write the checkpoint every n steps (default: --eval-every)", intArg(1))
    .option("--sample-length <n>", "characters of the sample shown at each evaluation (0: none)", intArg(0), 200)
    .option("--val-fraction <x>", "share of the text, from its end, held out for validation", numArg(0, 0.9), 0.1)
    .option("--seed <n>", "seed of the initial weights and of the samples", intArg(0), 1)
    .option("--out <dir>", "run folder (default: runs/run-<date>-<time>)")
    .option("--resume", "continue the run in --out exactly where its checkpoint left off", false)
    .option("--threads <n>", "threads splitting each batch's rows, at most the batch and 32 (default: all cores)", intArg(1))
    .option(
      "--tokens <unit>",
      "chars, or words (split at whitespace, <eos> ending each line, as PyTorch's word_language_model)",
      choiceArg(["chars", "words"] as const),
      "chars",
    )
    .option("--vocab-size <n>", "words: keep the most frequent, up to n tokens with <unk> and <eos>", intArg(3), 10000)
    .option(
      "--diagnose-every <n>",
      "every n steps: gradient flow against the time lag, W_hh spectra and clipping statistics into metrics.jsonl, weights into DIR/trajectory (0: off)",
      intArg(0),
      0,
    )
    .option("--diagnose-rows <n>", "validation windows the diagnostics run on", intArg(1), 8)
    .option("--explode-factor <x>", "warn when the gradient norm jumps above x times its recent median", numArg(1, Infinity, true), 10)
    .action(async (file: string | undefined, opts: TrainOpts, cmd: Command) => {
      process.exitCode = await train(file, opts, (name) => cmd.getOptionValueSource(name) === "cli");
    });
}

function timestamp(): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** Threads to use: as given (checked against the batch and the maximum), else all cores up to the batch. */
function threadsFor(o: TrainOpts, batch: number, cell: LMCell): number {
  if (cell === "mlp") {
    // data parallelism is the recurrent models' (train/parallel.ts); a feed-forward step is one matrix product per layer
    if (o.threads !== undefined && o.threads > 1)
      throw new InputError("--threads is for the recurrent cells; the feed-forward model (--cell mlp) trains on one thread");
    return 1;
  }
  if (o.threads === undefined) return Math.max(1, Math.min(availableParallelism(), batch, 32));
  checkThreads(o.threads, batch);
  return o.threads;
}

/** Options a resumed run may change; every other one must match the checkpoint. */
const MAY_CHANGE = new Set([
  "steps",
  "epochs",
  "time",
  "evalEvery",
  "saveEvery",
  "sampleLength",
  "resume",
  "out",
  "threads",
  "diagnoseEvery",
  "diagnoseRows",
  "explodeFactor",
  "earlyStop",
]);
const FLAG: Record<string, string> = {
  tieWeights: "--tie-weights",
  embeddingDropout: "--embedding-dropout",
  outputDropout: "--output-dropout",
  weightDecay: "--weight-decay",
  vocabSize: "--vocab-size",
  clipValue: "--clip-value",
  onNonfinite: "--on-nonfinite",
  valFraction: "--val-fraction",
  lrSchedule: "--lr-schedule",
};

/** The settings a checkpoint was trained with, in the options' terms (for the check on --resume). */
function settingsOf(config: RunConfig, info: RunInfo): Record<string, unknown> {
  const { model: m, train: t } = config;
  return {
    cell: m.cell,
    ...(m.cell === "mlp" ? { window: m.window, direct: m.direct ?? false } : {}),
    hidden: m.hiddenSize,
    layers: m.numLayers,
    embed: m.embedSize,
    nonlinearity: m.nonlinearity,
    tieWeights: m.tieWeights,
    dropout: m.dropout ?? 0,
    embeddingDropout: m.embeddingDropout ?? 0,
    outputDropout: m.outputDropout ?? 0,
    init: m.init ?? "default",
    forgetBias: m.forgetBias,
    seq: t.k1 === t.k2 ? t.k1 : undefined,
    tbptt: [t.k1, t.k2],
    batch: t.batch,
    optimizer: t.optimizer,
    lr: t.lr,
    momentum: t.momentum,
    weightDecay: t.weightDecay,
    clip: t.clipNorm ?? 0,
    clipValue: t.clipValue ?? 0,
    onNonfinite: t.nonFinite,
    seed: t.seed,
    warmup: t.warmup ?? 0,
    lrSchedule: t.schedule ?? { type: "constant" },
    valFraction: info.data.valFraction,
    tokens: info.data.tokens ?? "chars",
    ...(info.data.vocabSize !== undefined ? { vocabSize: info.data.vocabSize } : {}),
  };
}

/** The run's length as the options give it (steps, epochs, time), for the session. */
function lengthOf(o: TrainOpts): Pick<SessionSettings, "steps" | "epochs" | "time"> {
  return {
    ...(o.steps !== undefined ? { steps: o.steps } : {}),
    ...(o.epochs !== undefined ? { epochs: o.epochs } : {}),
    ...(o.time !== undefined ? { time: o.time * 60 } : {}),
  };
}

/** The schedule of --lr-schedule and --warmup, completed with the run's length. */
function scheduleOf(o: TrainOpts, target: number | null): ScheduleSpec {
  const a = o.lrSchedule ?? { type: "constant" };
  const span = target === null ? null : target - o.warmup;
  const need = (what: string) => {
    if (span === null || span < 2) throw new InputError(`--lr-schedule ${a.type} ${what}; give --steps (more than --warmup + 1)`);
    return span;
  };
  if (a.type === "cosine")
    return { type: "cosine", tMax: a.tMax ?? need("takes its length from the run's steps"), ...(a.etaMin !== undefined ? { etaMin: a.etaMin } : {}) };
  if (a.type === "onecycle")
    return { type: "onecycle", totalSteps: need("runs over the run's steps"), ...(a.pctStart !== undefined ? { pctStart: a.pctStart } : {}) };
  return a as ScheduleSpec;
}

/** The feed-forward model's options against the recurrent ones: each given where it means nothing is one line. */
function checkCellOptions(o: TrainOpts, given: (name: string) => boolean): void {
  if (o.cell !== "mlp") {
    if (o.window !== undefined) throw new InputError(`--window is for --cell mlp (the feed-forward model); --cell ${o.cell} sees the whole past`);
    if (o.direct) throw new InputError("--direct is for --cell mlp (the feed-forward model)");
    return;
  }
  if (o.window !== undefined && o.window > MAX_WINDOW)
    throw new InputError(`--window ${o.window} is more than ${MAX_WINDOW} tokens; the feed-forward model's window is at most ${MAX_WINDOW}`);
  const recurrentOnly: [keyof TrainOpts, string][] = [
    ["tieWeights", "--tie-weights"],
    ["dropout", "--dropout"],
    ["embeddingDropout", "--embedding-dropout"],
    ["outputDropout", "--output-dropout"],
    ["init", "--init"],
    ["forgetBias", "--forget-bias"],
    ["diagnoseEvery", "--diagnose-every"],
  ];
  for (const [key, flag] of recurrentOnly) {
    const v = o[key];
    if (given(key) && v !== undefined && v !== false && v !== 0 && v !== "default")
      throw new InputError(`${flag} is for the recurrent cells (rnn, lstm, gru); the feed-forward model (--cell mlp) has no such setting`);
  }
}

/** The session's settings from the options (model and training checked here, with the fix in each message). Exported for tests. */
export function settingsFrom(o: TrainOpts, threads: number, given: (name: string) => boolean): SessionSettings {
  const [k1, k2] = o.tbptt ?? [o.seq, o.seq];
  checkCellOptions(o, given);
  if (o.tieWeights && o.embed !== o.hidden) throw new InputError(`--tie-weights needs --embed equal to --hidden (got ${o.embed} and ${o.hidden})`);
  if (o.forgetBias !== undefined && o.cell !== "lstm") throw new InputError("--forget-bias is for --cell lstm");
  if (o.dropout > 0 && o.layers < 2) {
    warn("rnnlab: warning: --dropout acts between recurrent layers (as PyTorch's), so with --layers 1 it does nothing\n");
  }
  if (o.init === "identity" && o.cell !== "rnn") throw new InputError("--init identity (IRNN) is for --cell rnn (with --nonlinearity relu)");
  if (o.momentum > 0 && !OPTIMIZERS[o.optimizer].momentum) {
    throw new InputError(
      `--momentum is for --optimizer ${OPTIMIZER_NAMES.filter((n) => OPTIMIZERS[n].momentum).join(" and ")}; ${o.optimizer} has no momentum setting`,
    );
  }
  if (o.warmup === 1) throw new InputError("--warmup 1 warms up nothing; give 2 or more updates, or 0");
  if (o.earlyStop !== undefined && o.valFraction === 0) throw new InputError("--early-stop watches the validation loss; it needs --val-fraction above 0");
  if (o.lrSchedule?.type === "plateau" && o.valFraction === 0)
    throw new InputError("--lr-schedule plateau watches the validation loss; it needs --val-fraction above 0");
  const length = lengthOf(o);
  const target = length.steps ?? (length.epochs === undefined && length.time === undefined ? DEFAULT_STEPS : null);
  return {
    model: {
      cell: o.cell,
      ...(o.cell === "mlp" ? { window: o.window ?? DEFAULT_WINDOW, ...(o.direct ? { direct: true } : {}) } : {}),
      embedSize: o.embed,
      hiddenSize: o.hidden,
      numLayers: o.layers,
      nonlinearity: o.nonlinearity,
      tieWeights: o.tieWeights,
      dropout: o.dropout,
      // only when set: a run without them writes the config it always wrote
      ...(o.embeddingDropout > 0 ? { embeddingDropout: o.embeddingDropout } : {}),
      ...(o.outputDropout > 0 ? { outputDropout: o.outputDropout } : {}),
      init: o.init,
      forgetBias: o.forgetBias,
    },
    train: {
      batch: o.batch,
      k1,
      k2,
      optimizer: o.optimizer,
      lr: o.lr ?? OPTIMIZERS[o.optimizer].defaultLr,
      momentum: o.momentum,
      weightDecay: o.weightDecay,
      clipNorm: o.clip > 0 ? o.clip : null,
      clipValue: o.clipValue > 0 ? o.clipValue : null,
      nonFinite: o.onNonfinite,
      seed: o.seed,
      ...(given("lrSchedule") && o.lrSchedule?.type !== "constant" ? { schedule: scheduleOf(o, target) } : {}),
      ...(o.warmup > 0 ? { warmup: o.warmup } : {}),
    },
    ...length,
    valFraction: o.valFraction,
    evalEvery: o.evalEvery,
    saveEvery: o.saveEvery ?? o.evalEvery,
    sampleLength: o.sampleLength,
    diagnoseEvery: o.diagnoseEvery,
    diagnoseRows: o.diagnoseRows,
    explodeFactor: o.explodeFactor,
    earlyStop: o.earlyStop !== undefined ? { patience: o.earlyStop } : null,
    threads,
    spawn: nodeSpawn,
    kernels: defaultKernels(),
  };
}

/** The settings a resumed run may change, as given on the command line (the rest are the checkpoint's). */
function resumeSettings(o: TrainOpts, threads: number, given: (name: string) => boolean): SessionSettings {
  return {
    ...lengthOf(o),
    ...(given("evalEvery") ? { evalEvery: o.evalEvery } : {}),
    ...(given("saveEvery") ? { saveEvery: o.saveEvery } : {}),
    ...(given("sampleLength") ? { sampleLength: o.sampleLength } : {}),
    ...(given("diagnoseEvery") ? { diagnoseEvery: o.diagnoseEvery } : {}),
    ...(given("diagnoseRows") ? { diagnoseRows: o.diagnoseRows } : {}),
    ...(given("explodeFactor") ? { explodeFactor: o.explodeFactor } : {}),
    ...(given("earlyStop") ? { earlyStop: { patience: o.earlyStop! } } : {}),
    threads,
    spawn: nodeSpawn,
    kernels: defaultKernels(),
  };
}

/** The session's hooks: records and checkpoints into the run folder, progress to the terminal (the report comes once the session exists). */
function hooksFor(folder: RunFolder, report: () => TrainReport): SessionHooks {
  return {
    onStep: (r) => {
      report().step(r);
      folder.append(r);
    },
    onEval: (e) => report().evaluation(e),
    onDiagnostics: (rec) => {
      folder.append(rec);
      report().diagnostics(rec);
    },
    onCheckpoint: (e) => folder.write(e),
  };
}

async function train(file: string | undefined, o: TrainOpts, given: (name: string) => boolean): Promise<number> {
  let session: TrainingSession;
  let corpus: Corpus;
  let release: () => void;
  let report: TrainReport | null = null;
  let earlier: number | null = null; // training seconds of the invocations before this one (--resume)
  if (o.resume && !given("out")) throw new InputError("--resume needs --out DIR, the folder of the run to continue");
  const out = o.resume ? o.out! : (o.out ?? join("runs", `run-${timestamp()}`));
  const folder = new RunFolder(out);
  const hooks = hooksFor(folder, () => report!);
  if (o.resume) {
    checkOutputFolder(out, { flag: "--out" });
    folder.checkKinds();
    if (!existsSync(folder.checkpoint)) throw new InputError(`${out} holds no checkpoint.safetensors to resume; start a new run without --resume`);
    const snap = readCheckpoint(folder.checkpoint);
    const { config, runInfo } = useCheckpoint(folder.checkpoint, snap, (s) => {
      if (s.metadata.run === undefined)
        throw new CheckpointError('it is not a training checkpoint of rnnlab train (no "run" metadata): rnnlab sample and eval take it, --resume does not');
      let raw: unknown;
      try {
        raw = parseMetaJson(s.metadata.run);
      } catch {
        throw new CheckpointError('metadata "run" is not valid JSON');
      }
      let cfg: unknown;
      try {
        cfg = parseMetaJson(s.metadata.config ?? "");
      } catch {
        throw new CheckpointError('metadata "config" is missing or not valid JSON');
      }
      const runInfo = parseRunInfo(raw);
      checkRunInfo(runInfo, Number(s.metadata.step));
      return { config: parseRunConfig(cfg), runInfo };
    });
    const saved = settingsOf(config, runInfo);
    for (const [key, value] of Object.entries(o)) {
      if (MAY_CHANGE.has(key) || !given(key) || !(key in saved)) continue;
      const mine = key === "lrSchedule" ? scheduleOf(o, runInfo.targetSteps) : value;
      if (JSON.stringify(mine) !== JSON.stringify(saved[key])) {
        const flag = FLAG[key] ?? `--${key}`;
        throw new InputError(
          `${flag} ${JSON.stringify(value)} does not match the run in ${out} (trained with ${JSON.stringify(saved[key])}); ` +
            "a resumed run keeps its settings: only --steps, --epochs, --time, --eval-every, --save-every, --sample-length, --early-stop and the diagnostics may change",
        );
      }
    }
    const threads = threadsFor(o, config.train.batch, config.model.cell);
    const dataPath = file ?? (runInfo.data.path === EMBEDDED ? DEFAULT_CORPUS : runInfo.data.path);
    folder.checkNotOurs(dataPath);
    corpus = loadCorpus(dataPath, undefined, {
      tokens: runInfo.data.tokens ?? "chars",
      vocabSize: runInfo.data.vocabSize,
      missing: file ? "give the text the run was trained on" : "the run was trained on it: pass that text (or a copy) as FILE",
    });
    if (corpus.tokens.length !== runInfo.data.chars || corpus.hash !== runInfo.data.hash) {
      throw new InputError(
        `${dataPath} is not the text the run in ${out} was trained on (${fmtInt(runInfo.data.chars)} ${corpus.vocab.kind === "words" ? "words" : "characters"}, hash ${runInfo.data.hash}); pass the same file`,
      );
    }
    session = useCheckpoint(folder.checkpoint, snap, (s) =>
      TrainingSession.restore(s, { ...corpus, path: runInfo.data.path }, resumeSettings(o, threads, given), hooks),
    );
    try {
      if (session.done) {
        throw new InputError(
          `the run in ${out} already finished at step ${session.steps} of ${session.info.targetSteps}; pass a larger --steps (or --epochs) to train further`,
        );
      }
      release = lockFolder(out);
    } catch (e) {
      session.dispose();
      throw e;
    }
    try {
      removeStaleTemps(out);
      removeStaleTemps(folder.trajectory);
      session.norms.unshift(...folder.truncateMetrics(session.steps));
      earlier = earlierTrainSeconds(folder.metrics, session.steps);
    } catch (e) {
      session.dispose();
      release();
      throw e;
    }
  } else {
    checkOutputFolder(out, { flag: "--out" });
    const earlier = folder.earlier();
    if (earlier.includes("checkpoint.safetensors")) throw new InputError(`${out} already holds a run; continue it with --resume, or choose another --out`);
    if (earlier.length) {
      throw new InputError(
        `${out} already holds files of an earlier run (${earlier.join(", ")}) but no checkpoint to resume; choose another --out, or remove them first`,
      );
    }
    const dataPath = file ?? DEFAULT_CORPUS;
    if (given("vocabSize") && o.tokens !== "words") throw new InputError("--vocab-size caps a word vocabulary; add --tokens words");
    corpus = loadCorpus(dataPath, undefined, {
      tokens: o.tokens,
      vocabSize: o.vocabSize,
      missing: "give the path of a text file (or none, for the embedded Shakespeare)",
    });
    const threads = threadsFor(o, o.batch, o.cell);
    const data = { ...corpus, path: file ?? EMBEDDED, ...(o.tokens === "words" ? { vocabSize: o.vocabSize } : {}) };
    session = new TrainingSession(data, settingsFrom(o, threads, given), hooks);
    try {
      makeFolder(out);
      release = lockFolder(out);
    } catch (e) {
      session.dispose();
      throw e;
    }
    removeStaleTemps(out);
  }
  report = new TrainReport(session, o.time !== undefined ? o.time * 60 : Infinity);
  try {
    return await trainLoop(session, folder, report, corpus, earlier);
  } finally {
    folder.close();
    session.dispose();
    release();
  }
}

/**
 * Seconds the earlier invocations of a resumed run spent in training steps, from metrics.jsonl (cut
 * at the checkpoint's `step`): each invocation's step records count elapsed_s up from 0, so the
 * total is the sum of the last elapsed_s before each restart. Null when the records do not tell
 * (no file, a step record without elapsed_s, or records missing steps). An invocation killed
 * after its first step and followed by a slower first step reads as one; it is a fraction of a second.
 */
export function earlierTrainSeconds(metrics: string, step: number): number | null {
  let text: string;
  try {
    text = readFileSync(metrics, "utf8");
  } catch {
    return null;
  }
  let total = 0;
  let last = 0;
  let steps = 0;
  for (const line of text.split("\n")) {
    if (!line) continue;
    let rec: { kind?: string; elapsed_s?: unknown };
    try {
      rec = JSON.parse(line);
    } catch {
      return null;
    }
    if (rec.kind !== undefined) continue; // diagnostics
    if (typeof rec.elapsed_s !== "number" || !Number.isFinite(rec.elapsed_s)) return null;
    if (rec.elapsed_s < last) total += last; // a new invocation starts counting again
    last = rec.elapsed_s;
    steps++;
  }
  return steps === step ? total + last : null;
}

/** The `done:` line's start: this invocation's steps and time, and after a resume the whole run's. */
export function doneText(steps: number, seconds: number, firstStep: number, runSeconds: number | null): string {
  const head = `done: ${steps} step${steps === 1 ? "" : "s"} in ${fmtDuration(seconds)}`;
  if (firstStep === 0) return head;
  const last = firstStep + steps;
  const range = steps === 1 ? `step ${last}` : `steps ${firstStep + 1}-${last}`;
  return `${head}, ${range} (the whole run: ${last} steps${runSeconds !== null ? `, ${fmtDuration(runSeconds)} in training steps` : ""})`;
}

async function trainLoop(session: TrainingSession, folder: RunFolder, report: TrainReport, corpus: Corpus, earlier: number | null): Promise<number> {
  const run = session.run;
  const { model: m, train: t } = run.config;
  const { progress } = report;
  const out = folder.dir;
  const info = session.info;
  const words = report.words;
  const unit = words ? "word" : "char";
  const nTrain = run.trainTokens.length;
  const nVal = run.valTokens?.length ?? 0;

  const dataName = info.data.path === EMBEDDED ? "tiny Shakespeare (embedded)" : info.data.path;
  progress.line(
    words
      ? `rnnlab train: ${dataName}, ${fmtInt(corpus.tokens.length)} words and line ends (${fmtInt(nTrain)} train, ${fmtInt(nVal)} validation), vocabulary ${fmtInt(corpus.vocab.size)} with <unk> and <eos>`
      : `rnnlab train: ${dataName}, ${fmtInt(corpus.tokens.length)} characters (${fmtInt(nTrain)} train, ${fmtInt(nVal)} validation), ${corpus.vocab.size} distinct`,
  );
  progress.line(
    `model: ${m.cell === "rnn" ? `rnn (${m.nonlinearity})` : m.cell === "mlp" ? `feed-forward (${m.nonlinearity}) over a window of ${m.window}${m.direct ? ", direct connections" : ""}` : m.cell}, ${m.numLayers} ${m.cell === "mlp" ? "hidden " : ""}layer${m.numLayers > 1 ? "s" : ""}, hidden ${m.hiddenSize}, embedding ${m.embedSize}` +
      `${m.tieWeights ? ", tied" : ""}${m.dropout ? `, dropout ${m.dropout}` : ""}` +
      `${m.embeddingDropout ? `, embedding dropout ${m.embeddingDropout}` : ""}${m.outputDropout ? `, output dropout ${m.outputDropout}` : ""}${m.init && m.init !== "default" ? `, ${m.init} init` : ""}` +
      `${m.forgetBias !== undefined ? `, forget bias ${m.forgetBias}` : ""}, ${fmtInt(run.model.store.size)} parameters`,
  );
  const sched = t.schedule && t.schedule.type !== "constant" ? `, ${describeSchedule(t.schedule)}` : "";
  progress.line(
    `training: batch ${t.batch} x ${t.k1} steps, truncated BPTT(${t.k1}, ${t.k2}), ${t.optimizer} lr ${t.lr}${sched}${t.warmup ? `, warm-up ${t.warmup} updates` : ""}` +
      `${t.clipNorm ? `, clip norm ${t.clipNorm}` : ""}${t.clipValue ? `, clip value ${t.clipValue}` : ""}` +
      `, ${info.targetSteps ?? "?"} steps${report.timeLimit < Infinity ? ` or ${report.timeLimit / 60} min` : ""}` +
      `${info.earlyStop ? `, early stop after ${info.earlyStop.patience} evaluations without progress` : ""} (${run.stepsPerEpoch} per pass over the text)`,
  );
  progress.line(`compute: ${run.model.store.kernels.name} kernels, ${run.threads} thread${run.threads > 1 ? "s" : ""}`);
  progress.line(`run folder: ${out}${session.steps > 0 ? ` (resuming at step ${session.steps})` : ""}`);

  const intact = () =>
    session.savedStep === null
      ? `no checkpoint was saved (the first was due at step ${Math.min(info.saveEvery, info.evalEvery)})`
      : `the checkpoint of step ${session.savedStep} in ${out} is intact`;
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130); // a second Ctrl-C: the last checkpoint on disk is whole
    interrupted = true;
  };
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigint); // a polite kill saves the checkpoint as Ctrl-C does
  const t0 = performance.now();
  const firstStep = session.steps; // > 0 after --resume
  let reason: StopReason;
  try {
    while (!session.done && !interrupted) {
      report.beginStep();
      report.afterStep(session.step());
      await new Promise((resolve) => setImmediate(resolve)); // let signals and the progress bar in
    }
    session.finish();
    reason = session.reason ?? "stopped";
  } catch (e) {
    if (e instanceof NonFiniteError) {
      warn(`rnnlab: ${e.message}; ${intact()}\n`);
      return 1;
    }
    if (e instanceof WriteError)
      throw new WriteError(e.path, e.code, `${e.message}; ${intact()}${session.savedStep !== null ? " (continue it with --resume)" : ""}`);
    if (e instanceof CheckpointError) throw new CheckpointError(`${e.message}; ${intact()}`);
    throw e;
  } finally {
    progress.stop();
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigint);
  }
  const wall = (performance.now() - t0) / 1000;
  const rel = folder.checkpoint; // as --out was given, like the run folder line and the other files
  if (interrupted && reason === "stopped") {
    say(`interrupted at step ${session.steps}: checkpoint saved to ${rel}; continue with: ${rnnlab(`train --out ${out} --resume`)}\n`);
    return 130;
  }
  const best = info.bestVal !== null ? `, best ${info.bestVal.toFixed(3)} at step ${info.bestStep}` : "";
  const finalVal = session.lastVal;
  const valText =
    finalVal !== null
      ? `; validation ${finalVal.toFixed(3)} nats/${unit} (${words ? `perplexity ${Math.exp(finalVal).toFixed(1)}` : `${(finalVal / LN2).toFixed(3)} bits/char`})${best}`
      : "";
  const skipped = run.trainer.stats.skipped;
  const skippedText = skipped ? `; ${fmtInt(skipped)} update${skipped > 1 ? "s" : ""} skipped (non-finite, --on-nonfinite skip)` : "";
  const early = reason === "early-stop" ? ` (early stop: no progress in ${info.earlyStop!.patience} evaluations)` : "";
  say(`${doneText(session.steps - firstStep, wall, firstStep, earlier === null ? null : earlier + session.trainSeconds)}${early}${valText}${skippedText}\n`);
  say(`files: ${rel}${info.bestVal !== null ? `, ${folder.best}` : ""}, ${folder.metrics}\n`);
  say(`next: ${rnnlab(`sample --checkpoint ${rel} --length 500`)}\n`);
  return 0;
}
