// One training step as the lecture prescribes it for recurrent nets: truncated BPTT over the next
// chunk of a stream, the gradient norm measured, non-finite values caught, the gradient clipped
// (Pascanu et al. 2013), then the optimizer update. Returns what happened, for progress and metrics.

import type { Float } from "../tensor/dtype.js";
import { defaultKernels } from "../tensor/select.js";
import { clipGradNorm, clipGradValue, gradNorm, type NormType } from "./clip.js";
import type { Optimizer } from "./optim.js";
import { TruncatedBPTT, type SequenceModel, type StepArray } from "./tbptt.js";

/** What to do when the loss or the gradient norm is NaN or infinite. */
export type NonFinitePolicy = "skip" | "stop";

/** Options of a Trainer. */
export interface TrainerOptions {
  optimizer: Optimizer;
  /** Batch size (parallel streams). */
  batch: number;
  /** Truncated BPTT: new steps per update. */
  k1: number;
  /** Truncated BPTT: steps backpropagated through (>= k1). Default k1. */
  k2?: number;
  /** Clip the total gradient norm to this value (clipGradNorm). Default: no norm clipping. */
  clipNorm?: number;
  /** Norm type for clipping and for the reported norm. Default 2. */
  normType?: NormType;
  /** Clamp every gradient element to ±clipValue (after norm clipping). Default: none. */
  clipValue?: number;
  /**
   * `"stop"` (default) throws a NonFiniteError naming the step and the norm; `"skip"` drops the
   * update, counts it, resets the carried state if it is no longer finite, and goes on.
   * Either way the parameters are never updated from a NaN or infinite gradient.
   */
  nonFinite?: NonFinitePolicy;
}

/** What one step did. */
export interface StepReport {
  /** 1-based step number. */
  step: number;
  /** Mean loss of the chunk (nats per position for a language model). */
  loss: number;
  /** Total gradient norm before clipping. */
  gradNorm: number;
  /** Whether norm clipping rescaled the gradient. */
  clipped: boolean;
  /** Whether the update was skipped because the loss or the gradient was not finite. */
  skipped: boolean;
}

/** Thrown by a Trainer with policy "stop" when a step's loss or gradient is not finite. */
export class NonFiniteError extends Error {
  constructor(readonly step: number, readonly loss: number, readonly gradNorm: number) {
    super(
      `non-finite values at step ${step}: loss ${loss}, gradient norm ${gradNorm}; ` +
        "the parameters were not updated (lower the learning rate, clip the gradient norm, or use the skip policy)",
    );
    this.name = "NonFiniteError";
  }
}

function allFinite(a: Float): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

/**
 * Drives a SequenceModel with truncated BPTT, clipping and an optimizer.
 * @example
 * const trainer = new Trainer(model, { optimizer: new Adam(model.store, { lr: 2e-3 }), batch: 32, k1: 64, clipNorm: 5 });
 * const r = trainer.step(inputs, targets, 64); // { step: 1, loss: 4.17, gradNorm: 1.3, clipped: false, skipped: false }
 */
export class Trainer<X extends StepArray = StepArray, Y extends StepArray = StepArray> {
  readonly tbptt: TruncatedBPTT<X, Y>;
  readonly optimizer: Optimizer;
  /** Steps taken, updates skipped and updates whose gradient was clipped. */
  readonly stats = { steps: 0, skipped: 0, clipped: 0 };
  private readonly o: TrainerOptions;

  constructor(readonly model: SequenceModel<X, Y>, options: TrainerOptions) {
    this.o = options;
    this.optimizer = options.optimizer;
    this.tbptt = new TruncatedBPTT(model, { k1: options.k1, k2: options.k2, batch: options.batch });
    if (options.clipNorm !== undefined && !(options.clipNorm > 0)) throw new RangeError(`clipNorm must be > 0, got ${options.clipNorm}`);
    if (options.clipValue !== undefined && !(options.clipValue > 0)) throw new RangeError(`clipValue must be > 0, got ${options.clipValue}`);
    gradNorm([], options.normType ?? 2); // validates the norm type
  }

  /** One update from the next T (<= k1) steps of the stream. */
  step(inputs: X, targets: Y, T: number): StepReport {
    const store = this.model.store;
    const o = this.o;
    const step = ++this.stats.steps;
    store.zeroGrad();
    const loss = this.tbptt.step(inputs, targets, T);
    const k = defaultKernels();
    const norm = gradNorm(store, o.normType ?? 2, k);
    if (!Number.isFinite(loss) || !Number.isFinite(norm)) {
      if ((o.nonFinite ?? "stop") === "stop") throw new NonFiniteError(step, loss, norm);
      this.stats.skipped++;
      store.zeroGrad();
      if (!this.tbptt.state.every(allFinite)) this.tbptt.reset();
      return { step, loss, gradNorm: norm, clipped: false, skipped: true };
    }
    let clipped = false;
    if (o.clipNorm !== undefined) {
      clipGradNorm(store, o.clipNorm, o.normType ?? 2, { kernels: k });
      clipped = o.clipNorm / (norm + 1e-6) < 1;
      if (clipped) this.stats.clipped++;
    }
    if (o.clipValue !== undefined) clipGradValue(store, o.clipValue);
    this.optimizer.step();
    return { step, loss, gradNorm: norm, clipped, skipped: false };
  }
}
