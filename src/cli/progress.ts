// Progress output of `rnnlab train`: a live bar on a terminal (cli-progress), one plain line per
// evaluation otherwise (CI logs, pipes). Lines printed while the bar is live appear above it.
// TrainReport turns a session's hooks into those lines.

import cliProgress from "cli-progress";
import type { DiagnosticsRecord } from "../analysis/report-data.js";
import type { EvalEvent, StepRecord, TrainingSession } from "../train/session.js";
import { fmtDuration, fmtInt } from "./options.js";
import { say } from "./output.js";

export interface ProgressPayload {
  loss: string;
  bpc: string;
  val: string;
  grad: string;
  clip: string;
  speed: string;
  eta: string;
}

export interface Progress {
  /** Redraws the bar (terminal only). */
  update(step: number, total: number, p: ProgressPayload): void;
  /** Prints a line (above the bar on a terminal). */
  line(s: string): void;
  stop(): void;
}

/** A live bar when `tty`, else plain lines. */
export function createProgress(tty: boolean): Progress {
  if (!tty) {
    return {
      update() {},
      line: (s) => say(`${s}\n`),
      stop() {},
    };
  }
  const multi = new cliProgress.MultiBar(
    {
      format: " {bar} {value}/{total} | loss {loss} ({bpc}) | val {val} | grad {grad} | clipped {clip} | {speed} tokens/s | ETA {eta}",
      hideCursor: true,
      clearOnComplete: false,
      gracefulExit: false,
      barsize: 20,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let bar: cliProgress.SingleBar | null = null;
  return {
    update(step, total, p) {
      if (!bar) bar = multi.create(total, step, p);
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

  eta(): number {
    const s = this.session;
    const target = s.info.targetSteps;
    return Math.min(target !== null ? (target - s.steps) * this.perStep() : Infinity, this.timeLimit - s.trainSeconds);
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
    const valText = e.val === null ? "no validation" : `val ${e.val.toFixed(3)} nats (${this.second(e.val)})`;
    this.progress.line(
      `step ${e.step}/${s.info.targetSteps ?? "?"}  train ${e.trainLoss.toFixed(3)} nats (${this.second(e.trainLoss)})  ${valText}  ` +
        `grad ${e.gradNorm.toFixed(2)}  clipped ${this.clippedShare()}  ` +
        `${fmtInt(Math.round(this.speed()))} ${this.words ? "word" : "char"}s/s  ETA ${fmtDuration(this.eta())}`,
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

  /** After every step: the live bar (a terminal only). */
  afterStep(rec: StepRecord): void {
    const s = this.session;
    const total = s.info.targetSteps ?? Math.max(s.steps + 1, Math.round(s.steps + (this.timeLimit - s.trainSeconds) / this.perStep()));
    this.progress.update(s.steps, total, {
      loss: rec.loss.toFixed(3),
      bpc: this.second(rec.loss),
      val: s.lastVal === null ? "-" : s.lastVal.toFixed(3),
      grad: rec.grad_norm.toFixed(2),
      clip: this.clippedShare(),
      speed: fmtInt(Math.round(this.speed())),
      eta: fmtDuration(this.eta()),
    });
  }
}
