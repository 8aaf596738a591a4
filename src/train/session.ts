// A whole training run of a language model, as `rnnlab train` and the lab run it: the text split
// into training and validation, the size checks, the learning-rate schedule, the cadence of
// evaluation, samples, diagnostics and checkpoints, the gradient-norm history with its explosion
// watch and clipping statistics, the best validation loss, early stopping, and the run's record
// (RunInfo) that goes into every checkpoint. No I/O: what to do with a checkpoint, a metrics line
// or a sample is the caller's, through hooks. The CLI, the lab's worker and library code all
// drive this one object; the numerics below it are TrainingRun's (train/run.ts).
//
// One step, in order: the update (TrainingRun.step: truncated BPTT, clipping, non-finite checks,
// the optimizer at the schedule's rate), the explosion watch, then on evaluation steps the
// validation loss, a sample and the best checkpoint, then the step's record (onStep), the
// diagnostics, and on save steps the checkpoint. Nothing here draws a random number that
// training uses, so a run with hooks and one without train the same weights.

import { diagnose } from "../analysis/gradflow.js";
import { clipSummary, ExplosionWatch } from "./clip.js";
import type { DiagnosticsRecord } from "../analysis/report-data.js";
import { probeBatch } from "../data/batches.js";
import type { TokenArray } from "../data/corpus.js";
import type { Vocab } from "../data/vocab.js";
import { CheckpointError, InputError } from "../errors.js";
import type { Kernels } from "../tensor/kernels.js";
import { isRecurrentLM } from "../nn/lm.js";
import { OPTIMIZERS } from "./optim.js";
import { checkAdjustment, TrainingRun, type ModelConfig, type RunConfig, type Snapshot, type TrainConfig, type TrainingAdjustment } from "./run.js";
import { LrSchedule, normalizeSchedule, type PlateauState } from "./schedule.js";
import { checkFinite, checkRunInfo, jsonOf, metaJson, MODEL_KEYS, parseRunInfo, TRAIN_KEYS, type RunInfo } from "./schema.js";
import type { Spawn } from "./parallel.js";
import type { StepReport } from "./trainer.js";

export type { RunInfo };

const LN2 = Math.log(2);

/** A text to train on: its vocabulary, its token ids, and what identifies it in checkpoints. */
export interface SessionData {
  vocab: Vocab;
  tokens: TokenArray;
  /** How the run names its text in checkpoints (a path, or a label such as the embedded corpus's). */
  path: string;
  /** FNV-1a hash of the ids (data/corpus.ts), to recognise the same text on resume. Default 0. */
  hash?: number;
  /** Words: the vocabulary cap the text was encoded with (recorded for resume). */
  vocabSize?: number;
  /** What messages call the text. Default: `path`. */
  name?: string;
}

/** Every setting of a session; each has rnnlab train's default, so a library user passes only what they change. */
export interface SessionSettings {
  /** The model. Defaults: LSTM, 1 layer of 256, embedding 64, tanh, untied, no dropout. */
  model?: Partial<Omit<ModelConfig, "vocabSize">>;
  /** Training. Defaults: batch 32, k1 = k2 = 64, adam at its default rate (OPTIMIZERS), clip norm 5, stop on non-finite, seed 1. */
  train?: Partial<TrainConfig>;
  /** Updates to run (default 3000 when neither `epochs` nor `time` is given; null: until another limit). */
  steps?: number | null;
  /** Passes over the training text (the first limit reached ends the run). */
  epochs?: number;
  /** Seconds of training. */
  time?: number;
  /** Share of the text, from its end, held out for validation. Default 0.1. */
  valFraction?: number;
  /** Validate (and sample) every n steps. Default 500. */
  evalEvery?: number;
  /** Checkpoint (onCheckpoint "checkpoint") every n steps. Default evalEvery. */
  saveEvery?: number;
  /** Tokens of the sample at each evaluation (0: none). Default 200. */
  sampleLength?: number;
  /** Temperature of those samples. Default 0.8. */
  sampleTemperature?: number;
  /** Validation reads at most this many tokens. Default 1,000,000. */
  maxValTokens?: number;
  /** Diagnostics (gradient flow, spectra, clipping statistics) every n steps (0: off). Default 0. */
  diagnoseEvery?: number;
  /** Validation windows the diagnostics probe. Default 8. */
  diagnoseRows?: number;
  /** Lags of the diagnostics' Jacobian norms ([] for none: faster). Default: analysis/gradflow's. */
  diagnoseLags?: number[];
  /** Warn when a gradient norm exceeds this many times its recent median. Default 10. */
  explodeFactor?: number;
  /** Stop when the validation loss has not improved for this many evaluations (null: never). */
  earlyStop?: { patience: number; minDelta?: number } | null;
  /** Threads splitting each batch's rows (needs `spawn`). Default 1. */
  threads?: number;
  spawn?: Spawn;
  /** See RunOptions.waitForThreads (false in browsers; then `await session.started()`). */
  waitForThreads?: boolean;
  /** The model's kernel set. Default: the store's default. */
  kernels?: Kernels;
}

/** One step's record: a line of metrics.jsonl (keys and order as `rnnlab train` writes them). */
export interface StepRecord {
  step: number;
  epoch: number;
  loss: number;
  bpc?: number;
  ppl?: number;
  grad_norm: number;
  clipped: boolean;
  skipped: boolean;
  lr: number;
  chars_per_s: number;
  elapsed_s: number;
  /** An explosion warning raised at this step. */
  warning?: string;
  val_loss?: number;
  val_bpc?: number;
  val_ppl?: number;
}

/** An evaluation: the validation loss (null without validation text), the sample, whether it is the best so far. */
export interface EvalEvent {
  step: number;
  /** The step's record so far (without its validation fields). */
  record: StepRecord;
  trainLoss: number;
  gradNorm: number;
  val: number | null;
  sample: string;
  best: boolean;
  /** The rate of the next update (a plateau schedule may have just lowered it). */
  lr: number;
}

/** A snapshot to keep: the run's checkpoint, the best weights so far, or the weights at a diagnosis (trajectory). */
export interface CheckpointEvent {
  kind: "checkpoint" | "best" | "trajectory";
  step: number;
  snapshot: Snapshot;
}

/** What a session calls as it goes. Each may throw: the error ends the step (and `train()`) where it is. */
export interface SessionHooks {
  /** After every step: its metrics record (a line of metrics.jsonl) and the trainer's report. */
  onStep?(record: StepRecord, report: StepReport): void;
  /** After every evaluation: the validation loss, whether it is the best so far, the next rate. */
  onEval?(event: EvalEvent): void;
  /** After every diagnostics pass: gradient flow, spectra and clipping statistics. */
  onDiagnostics?(record: DiagnosticsRecord): void;
  /** When a snapshot is due (the run's checkpoint, the best weights, a trajectory point): the snapshot to keep. */
  onCheckpoint?(event: CheckpointEvent): void;
  /** Asked before every step: true ends the run (its checkpoint is saved). */
  shouldStop?(): boolean;
}

/** Why a run ended. */
export type StopReason = "steps" | "time" | "early-stop" | "stopped";

/** Defaults of the model and training halves, as `rnnlab train`'s. */
export const DEFAULT_MODEL: Omit<ModelConfig, "vocabSize"> = {
  cell: "lstm",
  embedSize: 64,
  hiddenSize: 256,
  numLayers: 1,
  nonlinearity: "tanh",
  tieWeights: false,
  dropout: 0,
  init: "default",
};
/** rnnlab train's training defaults (the rate is the optimizer's default: OPTIMIZERS[optimizer].defaultLr). */
export const DEFAULT_TRAIN: Omit<TrainConfig, "lr"> = {
  batch: 32,
  k1: 64,
  k2: 64,
  optimizer: "adam",
  momentum: 0,
  weightDecay: 0,
  clipNorm: 5,
  clipValue: null,
  nonFinite: "stop",
  seed: 1,
};
/** rnnlab train's default number of steps. */
export const DEFAULT_STEPS = 3000;

/** Every key of SessionSettings. */
export const SESSION_SETTING_KEYS: readonly string[] = [
  "model",
  "train",
  "steps",
  "epochs",
  "time",
  "valFraction",
  "evalEvery",
  "saveEvery",
  "sampleLength",
  "sampleTemperature",
  "maxValTokens",
  "diagnoseEvery",
  "diagnoseRows",
  "diagnoseLags",
  "explodeFactor",
  "earlyStop",
  "threads",
  "spawn",
  "waitForThreads",
  "kernels",
];
const HOOK_KEYS = ["onStep", "onEval", "onDiagnostics", "onCheckpoint", "shouldStop"];
const SCHEDULE_KEYS: Record<string, readonly string[]> = {
  constant: [],
  step: ["stepSize", "gamma"],
  exponential: ["gamma"],
  cosine: ["tMax", "etaMin"],
  onecycle: ["totalSteps", "pctStart", "anneal", "divFactor", "finalDivFactor", "threePhase"],
  plateau: ["factor", "patience", "threshold", "thresholdMode", "cooldown", "minLr", "eps"],
};

/** Throws a RangeError naming the first key of `o` (an object at `path`) that is not in `known`, e.g. `model.hiden`. */
function checkKeys(what: string, path: string, o: unknown, known: readonly string[]): void {
  if (o === null || typeof o !== "object") return;
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) {
      const at = path ? `${path}.${key}` : key;
      throw new RangeError(`${what}: unknown setting "${at}" (known${path ? ` in ${path}` : ""}: ${known.join(", ")})`);
    }
  }
}

/**
 * Refuses a key a session does not know, at every level of its settings and in its hooks (a
 * misspelt `model.hiden` would otherwise leave the default in place, silently, and write a
 * checkpoint that no resume accepts). RangeError naming the key's path. (The data is not checked:
 * `{ ...corpus, path }` with a corpus of more fields is a fine SessionData.)
 */
export function checkSessionSettings(what: string, settings: SessionSettings, hooks?: SessionHooks): void {
  if (hooks) checkKeys(what, "hooks", hooks, HOOK_KEYS);
  checkKeys(what, "", settings, SESSION_SETTING_KEYS);
  checkKeys(
    what,
    "model",
    settings.model,
    MODEL_KEYS.filter((k) => k !== "vocabSize"),
  );
  checkKeys(what, "train", settings.train, TRAIN_KEYS);
  const schedule = settings.train?.schedule as { type?: unknown } | undefined;
  if (schedule && typeof schedule === "object" && typeof schedule.type === "string" && Object.hasOwn(SCHEDULE_KEYS, schedule.type)) {
    checkKeys(what, "train.schedule", schedule, ["type", ...SCHEDULE_KEYS[schedule.type]]);
  }
  checkKeys(what, "earlyStop", settings.earlyStop, ["patience", "minDelta"]);
}

/** The config a session's settings give (defaults filled in) for a vocabulary of V tokens. */
export function sessionConfig(s: SessionSettings, V: number): RunConfig {
  const optimizer = s.train?.optimizer ?? DEFAULT_TRAIN.optimizer;
  const k1 = s.train?.k1 ?? DEFAULT_TRAIN.k1;
  const schedule = s.train?.schedule;
  return {
    model: { ...DEFAULT_MODEL, ...s.model, vocabSize: V },
    train: {
      ...DEFAULT_TRAIN,
      lr: OPTIMIZERS[optimizer].defaultLr,
      ...s.train,
      k1,
      k2: s.train?.k2 ?? k1,
      optimizer,
      // the schedule with its defaults written out: a checkpoint says exactly what ran
      ...(schedule ? { schedule: normalizeSchedule(schedule) } : {}),
    },
  };
}

/**
 * The whole run of a language model on a text.
 * @example
 * const session = new TrainingSession({ vocab, tokens, path: "input.txt" }, {
 *   model: { cell: "lstm", hiddenSize: 128 }, train: { schedule: { type: "cosine", tMax: 2000 } }, steps: 2000,
 *   earlyStop: { patience: 3 },
 * }, { onEval: (e) => console.log(e.step, e.val) });
 * const { reason } = await session.train(); // "steps" or "early-stop"
 */
export class TrainingSession {
  readonly run: TrainingRun;
  /** What goes into every checkpoint's "run" metadata. */
  readonly info: RunInfo;
  readonly schedule: LrSchedule;
  /** Pre-clip gradient norms of every step so far (clipping statistics). */
  readonly norms: number[];
  readonly hooks: SessionHooks;
  /** Seconds spent in training steps (this process). */
  trainSeconds = 0;
  /** The last validation loss (null: none yet, or no validation text). */
  lastVal: number | null = null;
  /** The step of the last checkpoint handed to onCheckpoint (null: none yet). */
  savedStep: number | null = null;
  private readonly watch: ExplosionWatch;
  private readonly probe: { inputs: Int32Array; targets: Int32Array } | null;
  private readonly s: Required<Pick<SessionSettings, "evalEvery" | "sampleTemperature" | "maxValTokens">> & SessionSettings;
  private readonly timeLimit: number;
  private stopRequested = false;
  private stopReason: StopReason | null = null;

  /** A new run (settings as `rnnlab train`'s defaults where not given). */
  constructor(data: SessionData, settings: SessionSettings = {}, hooks: SessionHooks = {}) {
    checkSessionSettings("TrainingSession", settings, hooks);
    const config = sessionConfig(settings, data.vocab.size);
    const valFraction = settings.valFraction ?? 0.1;
    if (!(valFraction >= 0 && valFraction <= 0.9)) throw new RangeError(`valFraction must be in [0, 0.9], got ${valFraction}`);
    checkSizes(data, valFraction, config.train.batch, config.train.k2);
    const { train, val } = splitText(data.tokens, valFraction);
    if (config.model.cell === "mlp" && (settings.diagnoseEvery ?? 0) > 0)
      throw new InputError("diagnostics (--diagnose-every) read the recurrent layer's gradient flow and spectra; the feed-forward model (--cell mlp) has none");
    const run = new TrainingRun(config, data.vocab, train, val, runOptions(settings));
    const evalEvery = settings.evalEvery ?? 500;
    const info: RunInfo = {
      data: {
        path: data.path,
        chars: data.tokens.length,
        hash: data.hash ?? 0,
        valFraction,
        tokens: data.vocab.kind,
        ...(data.vocab.kind === "words" && data.vocabSize !== undefined ? { vocabSize: data.vocabSize } : {}),
      },
      targetSteps: targetSteps(settings, run.stepsPerEpoch, DEFAULT_STEPS),
      evalEvery,
      saveEvery: settings.saveEvery ?? evalEvery,
      sampleLength: settings.sampleLength ?? 200,
      bestVal: null,
      bestStep: null,
      finished: false,
      diagnose: { every: settings.diagnoseEvery ?? 0, rows: settings.diagnoseRows ?? 8, explodeFactor: settings.explodeFactor ?? 10 },
      ...(settings.earlyStop ? { earlyStop: { patience: settings.earlyStop.patience, minDelta: settings.earlyStop.minDelta ?? 0, stale: 0 } } : {}),
    };
    this.s = { evalEvery, sampleTemperature: 0.8, maxValTokens: 1_000_000, ...settings };
    this.run = run;
    this.info = info;
    this.schedule = new LrSchedule(config.train.lr, config.train.schedule ?? { type: "constant" }, config.train.warmup ?? 0);
    this.norms = [];
    this.hooks = hooks;
    this.watch = new ExplosionWatch(info.diagnose!.explodeFactor);
    this.probe = this.makeProbe();
    this.timeLimit = settings.time ?? Infinity;
  }

  /**
   * A run continuing from a snapshot of a session (a checkpoint of rnnlab train or the lab), on
   * the same text: bit for bit as if never stopped. `settings` may change the run's length and
   * cadence (steps, epochs, time, evalEvery, saveEvery, sampleLength, diagnostics, threads);
   * everything that shapes the numbers is the checkpoint's. `norms`: the pre-clip gradient norms
   * of the steps so far (from metrics.jsonl), for the clipping statistics.
   */
  static restore(snap: Snapshot, data: SessionData, settings: SessionSettings = {}, hooks: SessionHooks = {}, norms: number[] = []): TrainingSession {
    checkSessionSettings("TrainingSession.restore", settings, hooks);
    for (const key of ["model", "train", "valFraction"] as const) {
      if (settings[key] !== undefined)
        throw new RangeError(`TrainingSession.restore: setting "${key}" is the checkpoint's; a resumed run keeps it (leave it out)`);
    }
    if (snap.metadata.run === undefined)
      throw new CheckpointError('it is not a training checkpoint (no "run" metadata): sample and eval take it, resuming does not');
    const saved = parseRunInfo(jsonOf(snap.metadata, "run"));
    checkRunInfo(saved, Number(snap.metadata.step));
    if (data.tokens.length !== saved.data.chars || saved.data.hash !== (data.hash ?? 0)) {
      throw new InputError(
        `${data.path} is not the text the run was trained on (${saved.data.chars.toLocaleString("en-US")} tokens, hash ${saved.data.hash}); pass the same text`,
      );
    }
    const { train, val } = splitText(data.tokens, saved.data.valFraction);
    const run = TrainingRun.restore(snap, train, val, { ...runOptions(settings), vocab: data.vocab });
    try {
      const session = Object.create(TrainingSession.prototype) as TrainingSession;
      const given = (k: keyof SessionSettings) => settings[k] !== undefined;
      const target = given("steps") || given("epochs") || given("time") ? targetSteps(settings, run.stepsPerEpoch, null) : saved.targetSteps;
      const d = saved.diagnose ?? { every: 0, rows: 8, explodeFactor: 10 };
      const evalEvery = settings.evalEvery ?? saved.evalEvery;
      const info: RunInfo = {
        ...saved,
        targetSteps: target,
        evalEvery,
        saveEvery: settings.saveEvery ?? (given("evalEvery") ? evalEvery : saved.saveEvery),
        sampleLength: settings.sampleLength ?? saved.sampleLength,
        finished: false,
        diagnose: { every: settings.diagnoseEvery ?? d.every, rows: settings.diagnoseRows ?? d.rows, explodeFactor: settings.explodeFactor ?? d.explodeFactor },
      };
      if (settings.earlyStop !== undefined) {
        // a new patience (or none) for the rest of the run; the evaluations without progress so far count
        if (settings.earlyStop)
          info.earlyStop = {
            patience: settings.earlyStop.patience,
            minDelta: settings.earlyStop.minDelta ?? saved.earlyStop?.minDelta ?? 0,
            stale: saved.earlyStop?.stale ?? 0,
          };
        else delete info.earlyStop;
      }
      const schedule = new LrSchedule(run.config.train.lr, run.config.train.schedule ?? { type: "constant" }, run.config.train.warmup ?? 0);
      if (schedule.spec.type === "plateau") {
        try {
          schedule.restore(jsonOf(snap.metadata, "schedule") as PlateauState);
        } catch (e) {
          throw new CheckpointError(`metadata "schedule": ${(e as Error).message}`);
        }
      }
      Object.assign(session, {
        run,
        info,
        schedule,
        norms: [...norms],
        hooks,
        trainSeconds: 0,
        lastVal: null,
        savedStep: run.steps,
        watch: new ExplosionWatch(info.diagnose!.explodeFactor),
        s: { sampleTemperature: 0.8, maxValTokens: 1_000_000, ...settings, evalEvery },
        timeLimit: settings.time ?? Infinity,
        stopRequested: false,
        stopReason: null,
      });
      Object.assign(session, { probe: session.makeProbe() });
      return session;
    } catch (e) {
      run.dispose();
      throw e;
    }
  }

  /** Steps taken so far. */
  get steps(): number {
    return this.run.steps;
  }

  /** Whether the run has reached a limit, was stopped, or stopped early. */
  get done(): boolean {
    return this.reason !== null;
  }

  /** Why the run is over (null: it is not). */
  get reason(): StopReason | null {
    if (this.stopReason) return this.stopReason;
    if (this.info.targetSteps !== null && this.run.steps >= this.info.targetSteps) return "steps";
    if (this.trainSeconds >= this.timeLimit) return "time";
    return null;
  }

  /** Ends the run after the current step (Ctrl-C): `train()` saves the checkpoint and returns. */
  stop(): void {
    this.stopRequested = true;
  }

  /** Resolves when the worker threads are up. */
  async started(): Promise<void> {
    await this.run.started();
  }

  /** One training step and what is due at it (evaluation, diagnostics, checkpoint); returns its record. */
  step(): StepRecord {
    const { run, info, hooks } = this;
    const t = run.config.train;
    run.optimizer.lr = this.schedule.lr(run.steps);
    const s0 = performance.now();
    const r = run.step();
    const dt = (performance.now() - s0) / 1000;
    this.trainSeconds += dt;
    const words = run.vocab.kind === "words";
    const rec: StepRecord = {
      step: r.step,
      epoch: run.batcher.epoch,
      loss: r.loss,
      ...(words ? { ppl: Math.exp(r.loss) } : { bpc: r.loss / LN2 }),
      grad_norm: r.gradNorm,
      clipped: r.clipped,
      skipped: r.skipped,
      lr: run.optimizer.lr,
      chars_per_s: Math.round((t.batch * t.k1) / dt),
      elapsed_s: +this.trainSeconds.toFixed(3),
    };
    this.norms.push(r.gradNorm);
    const jump = this.watch.observe(r.step, r.gradNorm);
    if (jump) rec.warning = jump;
    const last = this.reason !== null;
    if (run.steps % info.evalEvery === 0 || last) {
      const val = this.evaluate(r, rec);
      if (val !== null) Object.assign(rec, words ? { val_loss: val, val_ppl: Math.exp(val) } : { val_loss: val, val_bpc: val / LN2 });
    }
    hooks.onStep?.(rec, r);
    const every = info.diagnose?.every ?? 0;
    if (every > 0 && (run.steps % every === 0 || this.reason !== null)) this.diagnose();
    if (run.steps % info.saveEvery === 0 && this.reason === null) this.save(false);
    return rec;
  }

  /**
   * Steps until a limit, `stop()`, `shouldStop()` or early stopping, yielding to the event loop
   * between steps (signals, UI); then the final checkpoint. Returns why it ended.
   */
  async train(): Promise<{ reason: StopReason; steps: number }> {
    while (!this.done) {
      if (this.stopRequested || this.hooks.shouldStop?.()) {
        this.stopReason = "stopped";
        break;
      }
      this.step();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    this.finish();
    return { reason: this.reason!, steps: this.run.steps };
  }

  /** The final checkpoint (finished when the step limit was reached), unless this step's is already saved. */
  finish(): void {
    const finished = this.info.targetSteps !== null && this.run.steps >= this.info.targetSteps;
    if (this.run.steps !== this.savedStep || finished) this.save(finished);
  }

  /** Validation loss now (null without validation text); also updates the best and early stopping. */
  private evaluate(r: StepReport, record: StepRecord): number | null {
    const { run, info } = this;
    const val = run.validate(this.s.maxValTokens);
    this.lastVal = val;
    const sample = info.sampleLength > 0 ? run.sample(info.sampleLength, { temperature: this.s.sampleTemperature }) : "";
    let best = false;
    if (val !== null && Number.isFinite(val)) {
      this.schedule.observe(val, run.steps);
      const es = info.earlyStop;
      const improved = info.bestVal === null || val < info.bestVal - (es?.minDelta ?? 0);
      if (info.bestVal === null || val < info.bestVal) {
        info.bestVal = val;
        info.bestStep = run.steps;
        best = true;
        this.hooks.onCheckpoint?.({ kind: "best", step: run.steps, snapshot: this.weightsSnapshot({ val_loss: String(val) }) });
      }
      if (es) {
        es.stale = improved ? 0 : es.stale + 1;
        if (es.stale >= es.patience) this.stopReason = "early-stop";
      }
    }
    this.hooks.onEval?.({ step: run.steps, record, trainLoss: r.loss, gradNorm: r.gradNorm, val, sample, best, lr: this.schedule.lr(run.steps) });
    return val;
  }

  /** Diagnostics on the probe batch (a float64 copy: training is untouched); onDiagnostics, and the weights as a trajectory snapshot. */
  diagnose(): DiagnosticsRecord | null {
    const { run } = this;
    if (!this.probe || !isRecurrentLM(run.model)) return null;
    const rec = diagnose(run.model, this.probe.inputs, this.probe.targets, run.config.train.k1, {
      step: run.steps,
      clip: clipSummary(this.norms, run.config.train.clipNorm),
      ...(this.s.diagnoseLags ? { lags: this.s.diagnoseLags } : {}),
    });
    this.hooks.onDiagnostics?.(rec);
    if (this.hooks.onCheckpoint) {
      const params = run.model.store.params;
      for (const p of params) checkFinite(p.name, p.value, "refusing to save non-finite numbers");
      const tensors = Object.fromEntries(params.map((p) => [p.name, { shape: [...p.shape], data: p.value }]));
      this.hooks.onCheckpoint({ kind: "trajectory", step: run.steps, snapshot: { tensors, metadata: { step: String(run.steps) } } });
    }
    return rec;
  }

  /** A sample of `length` tokens after `prime`, from the run's sampling generator. */
  sample(length: number, temperature = this.s.sampleTemperature, prime?: string): string {
    return this.run.sample(length, { temperature, prime });
  }

  /**
   * Changes the learning rate, momentum or clipping from the next step on (TrainingRun.adjust):
   * the schedule continues over the new base rate (a plateau schedule from the new rate), and the
   * checkpoints record the new values. A RangeError, changing nothing, when a value is out of range.
   */
  adjust(changes: TrainingAdjustment): void {
    const { run } = this;
    checkAdjustment(changes, run.config.train.optimizer, run.optimizer);
    if (changes.lr !== undefined) {
      const old = this.schedule;
      const next = new LrSchedule(changes.lr, old.spec, old.warmup);
      const state = old.state();
      if (state) next.restore({ ...state, lr: changes.lr });
      (this as { schedule: LrSchedule }).schedule = next;
    }
    run.adjust(changes);
  }

  /** Validation loss (nats per token) on up to `maxTokens` tokens; no side effects on the run's record. */
  validate(maxTokens = this.s.maxValTokens): number | null {
    return this.run.validate(maxTokens);
  }

  /** Everything needed to continue exactly: the run's snapshot with its RunInfo (and the schedule's state). */
  snapshot(extra: Record<string, string> = {}): Snapshot {
    const state = this.schedule.state();
    return this.run.snapshot({ run: metaJson(this.info), ...(state ? { schedule: metaJson(state) } : {}), ...extra });
  }

  /** Stops the worker threads. */
  dispose(): void {
    this.run.dispose();
  }

  private save(finished: boolean): void {
    this.info.finished = finished;
    this.hooks.onCheckpoint?.({ kind: "checkpoint", step: this.run.steps, snapshot: this.snapshot() });
    this.savedStep = this.run.steps;
  }

  /** The weights alone (no optimizer or carried state), with the run's metadata: best.safetensors. */
  private weightsSnapshot(extra: Record<string, string>): Snapshot {
    const snap = this.snapshot(extra);
    const names = new Set(this.run.model.store.params.map((p) => p.name));
    snap.tensors = Object.fromEntries(Object.entries(snap.tensors).filter(([k]) => names.has(k)));
    return snap;
  }

  private makeProbe(): { inputs: Int32Array; targets: Int32Array } | null {
    const every = this.info.diagnose?.every ?? 0;
    if (every <= 0) return null;
    const { run } = this;
    if (!isRecurrentLM(run.model)) return null; // the diagnostics read a recurrent layer: a feed-forward model has none
    const k1 = run.config.train.k1;
    return probeBatch(run.valTokens && run.valTokens.length > k1 ? run.valTokens : run.trainTokens, this.info.diagnose!.rows, k1);
  }
}

function runOptions(s: SessionSettings) {
  return { threads: s.threads, spawn: s.spawn, waitForThreads: s.waitForThreads, kernels: s.kernels };
}

/** The training text and the validation text (the last valFraction of it, null when 0). */
export function splitText(tokens: TokenArray, valFraction: number): { train: TokenArray; val: TokenArray | null } {
  const n = tokens.length;
  const nTrain = Math.floor(n * (1 - valFraction));
  return { train: tokens.subarray(0, nTrain) as TokenArray, val: valFraction > 0 ? (tokens.subarray(nTrain) as TokenArray) : null };
}

/** Why a text of `tokens` tokens is too short for a run (TrainingSession checks it first), with the largest batch and window that would fit. */
export interface TextFitProblem {
  /** The part that is too short. */
  part: "training" | "validation";
  /** Its tokens. */
  have: number;
  /** What one batch needs: batch × window + 1. */
  need: number;
  /** The largest batch that fits with this window (0: none does). */
  batch: number;
  /** The largest window (>= 2) that fits with this batch (0: none does). */
  window: number;
}

/**
 * Whether a text of `tokens` tokens, split as TrainingSession splits it (the last `valFraction`
 * held out), has room for one batch of `batch` streams × `window` steps in its training part and
 * in its validation part; null when it has, else what is short and what would fit.
 * @example
 * textFits(960, 0.1, 8, 50) // { part: "validation", have: 96, need: 401, batch: 1, window: 11 }
 */
export function textFits(tokens: number, valFraction: number, batch: number, window: number): TextFitProblem | null {
  const nTrain = Math.floor(tokens * (1 - valFraction));
  const parts: [TextFitProblem["part"], number][] = [["training", nTrain]];
  if (valFraction > 0) parts.push(["validation", tokens - nTrain]);
  const shortest = Math.min(...parts.map(([, n]) => n));
  const need = batch * window + 1;
  const short = parts.find(([, n]) => n < need);
  if (!short) return null;
  const fitBatch = Math.max(0, Math.floor((shortest - 1) / window));
  const fitWindow = Math.floor((shortest - 1) / batch);
  return { part: short[0], have: short[1], need, batch: fitBatch, window: fitWindow >= 2 ? fitWindow : 0 };
}

/** TrainingSession's refusal of a text too short for one batch (the rule is textFits'). */
function checkSizes(data: SessionData, valFraction: number, B: number, T: number): void {
  const p = textFits(data.tokens.length, valFraction, B, T);
  if (!p) return;
  const unit = data.vocab.kind === "words" ? "words" : "characters";
  const what = data.name ?? (data.path.startsWith("<embedded") ? "the embedded text" : data.path);
  const have = `${what} leaves ${p.have.toLocaleString("en-US")} ${unit} for ${p.part}`;
  throw new InputError(
    p.part === "training"
      ? `${have}, fewer than one batch needs (batch ${B} x ${T} steps + 1 = ${p.need.toLocaleString("en-US")}); use a longer text or a smaller --batch or --seq`
      : `${have}, fewer than one batch needs (${p.need.toLocaleString("en-US")}); raise --val-fraction, lower --batch or --seq, or use --val-fraction 0`,
  );
}

/** The step limit of settings: the smaller of steps and epochs; with neither, `fallback` unless a time limit is set. */
function targetSteps(s: SessionSettings, stepsPerEpoch: number, fallback: number | null): number | null {
  const t: number[] = [];
  if (s.steps !== undefined && s.steps !== null) t.push(s.steps);
  if (s.epochs !== undefined) t.push(Math.max(1, Math.round(s.epochs * stepsPerEpoch)));
  if (t.length) return Math.min(...t);
  if (s.time !== undefined || s.steps === null) return null;
  return fallback;
}
