// Progress output of `rnnlab train` (and `rnnlab classify train`): one line per evaluation, with
// its sample, everywhere; on a terminal also a live bar (cli-progress) under them, redrawn with
// every step, the evaluation lines scrolling above it (they are kept, not replaced by the bar: the
// bar shows the current step, the lines the run's history). Off a terminal (CI logs, pipes) the
// lines alone. TrainReport turns a session's hooks into those lines.

import cliProgress from "cli-progress";
import type { DiagnosticsRecord } from "../analysis/report-data.js";
import type { EvalEvent, StepRecord, TrainingSession } from "../train/session.js";
import { fmtDuration, fmtInt } from "./options.js";
import { say } from "./output.js";

/** The bar's fields, each with its unit (e.g. loss "1.658 nats (2.391 bpc)", speed "40,454 chars/s"). */
export type ProgressPayload = Record<string, string>;

/**
 * `rnnlab train`'s bar: the step, ETA, losses, speed, gradient norm and clipped share. cli-progress
 * cuts the line at the terminal's width: what matters most comes first.
 */
export const TRAIN_BAR = " {bar} step {value}/{total} | ETA {left} | loss {loss} | val {val} | {speed} | grad norm {grad} | clipped {clip}";

/**
 * Fields cli-progress fills itself, whatever the payload says (its {eta} is a bare number of
 * seconds): a bar's own fields take other names (the time left is {left}, with its unit).
 */
const RESERVED = new Set(["bar", "value", "total", "percentage", "eta", "eta_formatted", "duration", "duration_formatted"]);

export interface Progress {
  /** Redraws the bar (terminal only). */
  update(step: number, total: number, p: ProgressPayload): void;
  /** Prints a line (above the bar on a terminal). */
  line(s: string): void;
  stop(): void;
}

/**
 * A live bar of `format` (cli-progress's, fields from the payload) under the lines when `tty`, else
 * plain lines. `stream`: where a terminal's bar is drawn (default standard output; tests pass
 * their own).
 */
export function createProgress(tty: boolean, format = TRAIN_BAR, stream?: NodeJS.WritableStream): Progress {
  for (const [, name] of format.matchAll(/\{(\w+)\}/g))
    if (RESERVED.has(name) && name !== "bar" && name !== "value" && name !== "total")
      throw new Error(`progress bar format: {${name}} is cli-progress's own field; name it otherwise`);
  if (!tty) {
    return {
      update() {},
      line: (s) => say(`${s}\n`),
      stop() {},
    };
  }
  const multi = new cliProgress.MultiBar(
    {
      format,
      hideCursor: true,
      clearOnComplete: false,
      gracefulExit: false,
      barsize: 20,
      fps: 5,
      ...(stream ? { stream, noTTYOutput: true } : {}),
    },
    cliProgress.Presets.shades_classic,
  );
  let bar: cliProgress.SingleBar | null = null;
  return {
    update(step, total, p) {
      if (!bar) {
        for (const key of Object.keys(p))
          if (RESERVED.has(key)) throw new Error(`progress bar payload: "${key}" is cli-progress's own field; name it otherwise`);
        bar = multi.create(total, step, p);
      }
      bar.setTotal(total);
      bar.update(step, p);
    },
    line(s) {
      if (bar) multi.log(`${s}\n`);
      else say(`${s}\n`);
    },
    stop() {
      multi.stop();
    },
  };
}

const LN2 = Math.log(2);

/** What the time left of a run is worked out from (`remainingSeconds`). */
export interface RemainingInput {
  /** Steps taken so far. */
  steps: number;
  /** The run's last step (null: none, the run ends on its time limit). */
  target: number | null;
  /** Seconds per training step (the recent mean). */
  perStep: number;
  /** Seconds of training the time limit leaves (Infinity: no limit); evaluations do not count against it. */
  timeLeft: number;
  /** An evaluation comes every this many steps, and one at the last step. */
  evalEvery: number;
  /** Seconds per evaluation (validation, sample and the checkpoint written with it), measured; NaN: none measured yet. */
  perEval: number;
}

/**
 * Seconds until the run ends: the training steps left at the recent speed, plus the evaluations
 * still to come (at every multiple of evalEvery after `steps`, and at the last step) at the
 * measured time of one. Until an evaluation has been timed, only the steps are counted.
 *
 * @example
 * // 100 steps of 0.1 s left, evaluations at 200, 250 and 300 of 5 s each: 10 + 15
 * remainingSeconds({ steps: 200, target: 300, perStep: 0.1, timeLeft: Infinity, evalEvery: 50, perEval: 5 }); // 25
 */
export function remainingSeconds(r: RemainingInput): number {
  const stepsLeft = Math.min(r.target !== null ? r.target - r.steps : Infinity, r.timeLeft / r.perStep);
  if (!Number.isFinite(stepsLeft)) return stepsLeft === Infinity ? Infinity : NaN;
  if (stepsLeft <= 0) return 0;
  const end = r.steps + stepsLeft;
  // a run that stops on its time limit ends within a step: its last evaluation comes at the step it stops after
  const last = Math.ceil(end);
  const evals = Math.floor(last / r.evalEvery) - Math.floor(r.steps / r.evalEvery) + (last % r.evalEvery !== 0 ? 1 : 0);
  return stepsLeft * r.perStep + (Number.isFinite(r.perEval) ? evals * r.perEval : 0);
}

/**
 * What `rnnlab train` shows of a session: a line per evaluation (with the sample), the step's
 * warnings (rate-limited), a line per diagnosis, and the live bar with speed and ETA.
 */
export class TrainReport {
  readonly progress: Progress;
  private lastWarned = -Infinity;
  private lastSkipLine = -Infinity;
  private shown = -1; // the step whose warning lines are printed
  // the last 50 step times, for tokens/s and the ETA
  private readonly recent = new Float64Array(50);
  private recentSum = 0;
  private recentN = 0;
  private lastElapsed = 0;
  private timed = -1;
  // evaluations: the wall time of an evaluation step beyond its training (validation, sample, checkpoint)
  private stepStart = 0;
  private evalSum = 0;
  private evalN = 0;
  private evalStep = -1;

  /** `timeLimit`: seconds of training allowed (Infinity: none). */
  constructor(
    readonly session: TrainingSession,
    readonly timeLimit: number,
    tty = Boolean(process.stdout.isTTY),
  ) {
    this.progress = createProgress(tty);
  }

  get words(): boolean {
    return this.session.run.vocab.kind === "words";
  }

  /** The second unit of a loss: bits per character, or perplexity for words. */
  second(loss: number): string {
    return this.words ? `ppl ${Math.exp(loss).toFixed(1)}` : `${(loss / LN2).toFixed(3)} bpc`;
  }

  private perStep(): number {
    return this.recentN > 0 ? this.recentSum / Math.min(this.recentN, this.recent.length) : NaN;
  }

  speed(): number {
    const t = this.session.run.config.train;
    return this.recentN > 0 ? (t.batch * t.k1) / this.perStep() : 0;
  }

  /** Seconds per evaluation, measured (`pending`: the one in progress, timed up to now); NaN before the first. */
  private perEval(pending = NaN): number {
    const n = this.evalN + (Number.isNaN(pending) ? 0 : 1);
    return n > 0 ? (this.evalSum + (Number.isNaN(pending) ? 0 : pending)) / n : NaN;
  }

  /** Seconds until the run ends, evaluations included. */
  eta(pending = NaN): number {
    const s = this.session;
    return remainingSeconds({
      steps: s.steps,
      target: s.info.targetSteps,
      perStep: this.perStep(),
      timeLeft: this.timeLimit - s.trainSeconds,
      evalEvery: s.info.evalEvery,
      perEval: this.perEval(pending),
    });
  }

  /** Call just before each session.step(): an evaluation's time is that step's wall time less its training. */
  beginStep(): void {
    this.stepStart = performance.now();
  }

  /** Seconds since beginStep beyond the step's own training (the evaluation's time so far). */
  private overhead(): number {
    const dt = this.recentN > 0 ? this.recent[(this.recentN - 1) % this.recent.length] : 0;
    return Math.max(0, (performance.now() - this.stepStart) / 1000 - dt);
  }

  clippedShare(): string {
    const s = this.session;
    return `${((100 * s.run.trainer.stats.clipped) / Math.max(1, s.steps)).toFixed(1)}%`;
  }

  /** The step's time (once), and its warning and skip lines (once, before anything else of the step). */
  private note(rec: StepRecord): void {
    if (this.timed !== rec.step) {
      this.timed = rec.step;
      const dt = rec.elapsed_s - this.lastElapsed;
      this.lastElapsed = rec.elapsed_s;
      this.recentSum += dt - this.recent[this.recentN % this.recent.length];
      this.recent[this.recentN++ % this.recent.length] = dt;
    }
    if (this.shown === rec.step) return;
    this.shown = rec.step;
    const t = this.session.run.config.train;
    if (rec.skipped && rec.step - this.lastSkipLine >= 100) {
      // one line per 100 steps at most: a diverged run under --on-nonfinite skip skips every step
      const n = this.session.run.trainer.stats.skipped;
      this.progress.line(
        `step ${rec.step}: skipped the update (loss ${rec.loss}, gradient norm ${rec.grad_norm}); ${fmtInt(n)} skipped so far, the weights stay as they were`,
      );
      this.lastSkipLine = rec.step;
    }
    if (rec.warning && rec.step - this.lastWarned >= 100) {
      this.progress.line(`warning: ${rec.warning}${t.clipNorm ? ` (clipped to ${t.clipNorm})` : "; consider --clip"}`);
      this.lastWarned = rec.step;
    }
  }

  step(rec: StepRecord): void {
    this.note(rec);
  }

  evaluation(e: EvalEvent): void {
    this.note(e.record);
    const s = this.session;
    this.evalStep = e.step;
    const valText = e.val === null ? "no validation" : `val ${e.val.toFixed(3)} nats (${this.second(e.val)})`;
    // this evaluation's validation and sample are done: their time counts in the ETA already
    const eta = this.eta(this.stepStart > 0 ? this.overhead() : NaN);
    this.progress.line(
      `step ${e.step}/${s.info.targetSteps ?? "?"}  train ${e.trainLoss.toFixed(3)} nats (${this.second(e.trainLoss)})  ${valText}  ` +
        `grad norm ${e.gradNorm.toFixed(2)}  clipped ${this.clippedShare()}  ${this.speedText()}  ETA ${fmtDuration(eta)}`,
    );
    if (e.sample) this.progress.line(`--- sample ---\n${e.sample}\n---`);
  }

  diagnostics(rec: DiagnosticsRecord): void {
    const g = rec.layers[rec.layers.length - 1].gradByLag;
    const sig = rec.spectra.reduce((mx, s) => (s.sigmaMax > mx.sigmaMax ? s : mx), rec.spectra[0]);
    const spectrum = sig
      ? `; sigma_max(W_hh${sig.block === "hh" ? "" : ` ${sig.block}`}) ${sig.sigmaMax.toFixed(2)} ${sig.sigmaMax < sig.bound ? "<" : ">"} 1/gamma = ${sig.bound} (${sig.regime})`
      : "";
    const clip = rec.clip ? `; grad norm mean ${rec.clip.mean.toPrecision(3)}, suggested clip ${rec.clip.suggested.pick.toPrecision(3)}` : "";
    this.progress.line(
      `diagnostics at step ${rec.step}: |dE_${rec.target}/dh| at lag ${g.length - 1} is ${(g[g.length - 1] / g[0]).toExponential(1)} of lag 0${spectrum}${clip}`,
    );
    for (const w of rec.warnings) this.progress.line(`warning: ${w}`);
  }

  /** Training speed with its unit, e.g. "40,454 chars/s". */
  speedText(): string {
    return `${fmtInt(Math.round(this.speed()))} ${this.words ? "word" : "char"}s/s`;
  }

  /** After every step: the evaluation's time when there was one, and the live bar (a terminal only). */
  afterStep(rec: StepRecord): void {
    if (this.evalStep === rec.step && this.stepStart > 0) {
      this.evalSum += this.overhead();
      this.evalN++;
    }
    const s = this.session;
    const total = s.info.targetSteps ?? Math.max(s.steps + 1, Math.round(s.steps + (this.timeLimit - s.trainSeconds) / this.perStep()));
    this.progress.update(s.steps, total, {
      loss: `${rec.loss.toFixed(3)} nats (${this.second(rec.loss)})`,
      val: s.lastVal === null ? "-" : `${s.lastVal.toFixed(3)} nats`,
      grad: rec.grad_norm.toFixed(2),
      clip: this.clippedShare(),
      speed: this.speedText(),
      left: fmtDuration(this.eta()),
    });
  }
}
