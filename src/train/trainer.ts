// One training step as the lecture prescribes it for recurrent nets: truncated BPTT over the next
// chunk of a stream, the gradient norm measured, non-finite values caught, the gradient clipped
// (Pascanu et al. 2013), then the optimizer update. Returns what happened, for progress and metrics.
// A model trained on whole sequences (a sequence classifier: every batch starts from a zero state
// and nothing is carried to the next) takes the same update without the truncated BPTT driver.

import type { Float } from "../tensor/dtype.js";
import { clipGradNorm, clipGradValue, gradNorm, isClipped, type NormType } from "./clip.js";
import { checkOptions } from "../nn/module.js";
import type { ParamStore } from "../nn/params.js";
import type { Optimizer } from "./optim.js";
import { TruncatedBPTT, type SequenceModel, type StepArray } from "./tbptt.js";

/** What to do when the loss, the gradient or the update is NaN or infinite. */
export type NonFinitePolicy = "skip" | "stop";

/** How a gradient becomes an update: clipping, and what to do with non-finite numbers. */
export interface UpdateOptions {
  /** Clip the total gradient norm to this value (clipGradNorm). Default: no norm clipping. */
  clipNorm?: number;
  /** Norm type for clipping and for the reported norm. Default 2. */
  normType?: NormType;
  /** Clamp every gradient element to ±clipValue (after norm clipping). Default: none. */
  clipValue?: number;
  /**
   * `"stop"` (default) throws a NonFiniteError naming the step and what was not finite; `"skip"`
   * drops the update, counts it, and goes on. Either way the parameters and the optimizer state
   * are never left holding a NaN or an infinity: a step whose loss or gradient is not finite is
   * not applied, and an update that would make a parameter or the optimizer's state non-finite
   * (a learning rate too large for float32, say) is undone.
   */
  nonFinite?: NonFinitePolicy;
}

/** Every key of UpdateOptions (an unknown key is refused). */
export const UPDATE_OPTION_KEYS: readonly string[] = ["clipNorm", "normType", "clipValue", "nonFinite"];

/** Every key of TrainerOptions: UpdateOptions' and the optimizer and truncated BPTT's (an unknown key is refused). */
export const TRAINER_OPTION_KEYS: readonly string[] = [...UPDATE_OPTION_KEYS, "optimizer", "batch", "k1", "k2"];

/** Every key of WholeSequenceTrainerOptions (an unknown key is refused). */
export const WHOLE_SEQUENCE_TRAINER_OPTION_KEYS: readonly string[] = [...UPDATE_OPTION_KEYS, "optimizer"];

/**
 * What a Trainer needs of a model trained on whole sequences: each batch starts from a zero
 * state and nothing is carried to the next, so there is no truncated BPTT and no state to keep
 * (e.g. SequenceClassifier, whose batches are nn/sequence-classifier.ts's ClassifierBatch).
 */
export interface WholeSequenceModel<Batch> {
  readonly store: ParamStore;
  /** The mean loss of one batch; keeps what backward needs. */
  forward(batch: Batch): number;
  /** Accumulates into the parameters' gradients the gradient of the last forward's loss. */
  backward(): void;
}

/** Options of a Trainer of a whole-sequence model: the update's and the optimizer (each batch brings its own size). */
export interface WholeSequenceTrainerOptions extends UpdateOptions {
  optimizer: Optimizer;
}

/** Options of a Trainer. */
export interface TrainerOptions extends UpdateOptions {
  optimizer: Optimizer;
  /** Batch size (parallel streams). */
  batch: number;
  /** Truncated BPTT: new steps per update. */
  k1: number;
  /** Truncated BPTT: steps backpropagated through (>= k1). Default k1. */
  k2?: number;
}

/** What one step did. */
export interface StepReport {
  /** 1-based step number. */
  step: number;
  /** Mean loss of the chunk (nats per position for a language model). */
  loss: number;
  /** Total gradient norm before clipping. */
  gradNorm: number;
  /** Whether norm clipping rescaled the gradient (max_norm / (norm + 1e-6) < 1, as torch.nn.utils.clip_grad_norm_). */
  clipped: boolean;
  /** Whether the update was skipped because the loss, the gradient or the update was not finite. */
  skipped: boolean;
}

/** Thrown with policy "stop" when a step's loss, gradient or update is not finite; nothing was changed by that step's update. */
export class NonFiniteError extends Error {
  constructor(
    readonly step: number,
    readonly loss: number,
    readonly gradNorm: number,
    readonly detail?: string,
  ) {
    super(
      detail
        ? `non-finite values at step ${step}: ${detail} (loss ${loss}, gradient norm ${gradNorm}); the update was undone ` +
            "(lower the learning rate, or clip the gradient norm)"
        : `non-finite values at step ${step}: loss ${loss}, gradient norm ${gradNorm}; the parameters were not updated ` +
            "(lower the learning rate, clip the gradient norm, or use the skip policy)",
    );
    this.name = "NonFiniteError";
  }
}

function allFinite(a: Float): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] - a[i] !== 0) return false; // NaN - NaN, Inf - Inf are NaN
  return true;
}

/** The first non-finite element of `a`, or -1. */
function firstBad(a: Float): number {
  for (let i = 0; i < a.length; i++) if (a[i] - a[i] !== 0) return i;
  return -1;
}

/**
 * Turns the gradients in a store into an update, as the lecture prescribes: measure the norm,
 * refuse non-finite numbers, clip (Pascanu et al. 2013), step the optimizer, and undo the step
 * if it made any parameter or optimizer state non-finite. The one place where an update happens:
 * Trainer (language models with truncated BPTT, and whole-sequence models such as classifiers)
 * and TaskRun (the long-range tasks) both call it.
 * Mutates the store's values and gradients and the optimizer's state.
 */
export class Updater {
  /** Steps taken, updates skipped and updates whose gradient was clipped. */
  readonly stats = { steps: 0, skipped: 0, clipped: 0 };
  private readonly o: UpdateOptions;
  // the parameters and optimizer state before the last update, to put back (allocated once)
  private readonly saved: Float;
  private readonly state: [string, Float][];
  private readonly savedState: Float[];

  constructor(
    readonly store: ParamStore,
    readonly optimizer: Optimizer,
    options: UpdateOptions = {},
  ) {
    checkOptions("Updater", options, UPDATE_OPTION_KEYS);
    this.o = { ...options };
    if (options.clipNorm !== undefined && !(options.clipNorm > 0)) throw new RangeError(`clipNorm must be > 0, got ${options.clipNorm}`);
    if (options.clipValue !== undefined && !(options.clipValue > 0)) throw new RangeError(`clipValue must be > 0, got ${options.clipValue}`);
    gradNorm([], options.normType ?? 2); // validates the norm type
    const values = store.values;
    this.saved = values instanceof Float64Array ? new Float64Array(values.length) : new Float32Array(values.length);
    this.state = Object.entries(optimizer.stateBuffers());
    this.savedState = this.state.map(([, b]) => (b instanceof Float64Array ? new Float64Array(b.length) : new Float32Array(b.length)));
  }

  /** The clipping now applied (undefined: none). */
  get clipping(): { clipNorm?: number; clipValue?: number } {
    return { clipNorm: this.o.clipNorm, clipValue: this.o.clipValue };
  }

  /**
   * Changes the clipping between updates (null: none; a key left out: unchanged), as a PyTorch
   * loop would pass another max_norm to clip_grad_norm_ from the next step on.
   */
  configure(o: { clipNorm?: number | null; clipValue?: number | null }): void {
    for (const key of ["clipNorm", "clipValue"] as const) {
      const v = o[key];
      if (v !== undefined && v !== null && !(v > 0 && Number.isFinite(v))) throw new RangeError(`${key} must be a finite number > 0 (or null: none), got ${v}`);
    }
    if (o.clipNorm !== undefined) this.o.clipNorm = o.clipNorm ?? undefined;
    if (o.clipValue !== undefined) this.o.clipValue = o.clipValue ?? undefined;
  }

  /**
   * Applies one update from the gradients now in the store (the caller has run the backward) for
   * a step whose loss was `loss`. Counts the step; returns the norm, whether it was clipped and
   * whether the update was skipped; throws NonFiniteError under policy "stop".
   */
  apply(loss: number): Omit<StepReport, "loss"> {
    const { store, optimizer, o } = this;
    const step = ++this.stats.steps;
    const k = store.kernels;
    const norm = gradNorm(store, o.normType ?? 2, k);
    if (!Number.isFinite(loss) || !Number.isFinite(norm)) return this.refuse(step, loss, norm);
    let clipped = false;
    if (o.clipNorm !== undefined) {
      clipGradNorm(store, o.clipNorm, o.normType ?? 2, { kernels: k });
      clipped = isClipped(norm, o.clipNorm);
    }
    if (o.clipValue !== undefined) clipGradValue(store, o.clipValue);
    // keep what the update may spoil: a learning rate too large for float32, or a corrupt state
    const values = store.values;
    this.saved.set(values);
    for (let i = 0; i < this.state.length; i++) this.savedState[i].set(this.state[i][1]);
    const count = optimizer.stepCount;
    optimizer.step();
    const bad = this.spoiled();
    if (bad) {
      values.set(this.saved);
      for (let i = 0; i < this.state.length; i++) this.state[i][1].set(this.savedState[i]);
      optimizer.setStepCount(count);
      return this.refuse(step, loss, norm, bad);
    }
    if (clipped) this.stats.clipped++;
    return { step, gradNorm: norm, clipped, skipped: false };
  }

  /** What the last update made non-finite, in words, or null. */
  private spoiled(): string | null {
    const where = (buf: Float, what: string): string | null => {
      const i = firstBad(buf);
      if (i < 0) return null;
      const p = this.store.params.find((q) => i >= q.offset && i < q.offset + q.size);
      return `the update made ${what}${p ? ` of ${p.name}` : ""} ${buf[i]}`;
    };
    return where(this.store.values, "a parameter") ?? this.state.reduce<string | null>((m, [name, b]) => m ?? where(b, `the optimizer's ${name}`), null);
  }

  private refuse(step: number, loss: number, norm: number, detail?: string): Omit<StepReport, "loss"> {
    if ((this.o.nonFinite ?? "stop") === "stop") throw new NonFiniteError(step, loss, norm, detail);
    this.stats.skipped++;
    this.store.zeroGrad();
    return { step, gradNorm: norm, clipped: false, skipped: true };
  }
}

/**
 * Drives a SequenceModel with truncated BPTT, clipping and an optimizer; or a whole-sequence
 * model (WholeSequenceModel, e.g. SequenceClassifier) with the same clipping, non-finite
 * handling and optimizer, one batch per step. The update is the Updater's either way.
 * @example
 * const trainer = new Trainer(model, { optimizer: new Adam(model.store, { lr: 2e-3 }), batch: 32, k1: 64, clipNorm: 5 });
 * const r = trainer.step(inputs, targets, 64); // { step: 1, loss: 4.17, gradNorm: 1.3, clipped: false, skipped: false }
 * const t2 = new Trainer(classifier, { optimizer: new Adam(classifier.store), clipNorm: 5 });
 * t2.step({ x, labels, T, B, lengths });       // one update from one padded batch
 */
export class Trainer<X extends StepArray = StepArray, Y extends StepArray = StepArray, Batch = never> {
  readonly model: SequenceModel<X, Y> | WholeSequenceModel<Batch>;
  readonly optimizer: Optimizer;
  readonly updater: Updater;
  private readonly driver: TruncatedBPTT<X, Y> | null;

  constructor(model: SequenceModel<X, Y>, options: TrainerOptions);
  constructor(model: WholeSequenceModel<Batch>, options: WholeSequenceTrainerOptions);
  constructor(model: SequenceModel<X, Y> | WholeSequenceModel<Batch>, options: TrainerOptions | WholeSequenceTrainerOptions) {
    this.model = model;
    const stream = typeof (model as SequenceModel<X, Y>).createState === "function";
    if (stream) {
      checkOptions("Trainer", options, TRAINER_OPTION_KEYS);
      const o = options as TrainerOptions;
      this.driver = new TruncatedBPTT(model as SequenceModel<X, Y>, { k1: o.k1, k2: o.k2, batch: o.batch });
    } else {
      for (const key of ["batch", "k1", "k2"])
        if (key in options)
          throw new RangeError(
            `Trainer: this model trains on whole sequences (no state is carried between steps): drop "${key}"; each batch brings its own size`,
          );
      checkOptions("Trainer", options, WHOLE_SEQUENCE_TRAINER_OPTION_KEYS);
      this.driver = null;
    }
    this.optimizer = options.optimizer;
    const { clipNorm, normType, clipValue, nonFinite } = options;
    this.updater = new Updater(model.store, options.optimizer, { clipNorm, normType, clipValue, nonFinite });
  }

  /** The truncated BPTT driver of a stream model (its carried state); a whole-sequence model has none (an Error). */
  get tbptt(): TruncatedBPTT<X, Y> {
    if (!this.driver) throw new Error("Trainer: a whole-sequence model has no truncated BPTT (nothing is carried between batches)");
    return this.driver;
  }

  /** Steps taken, updates skipped and updates whose gradient was clipped. */
  get stats(): { steps: number; skipped: number; clipped: number } {
    return this.updater.stats;
  }

  /** One update from the next T (<= k1) steps of the stream. */
  step(inputs: X, targets: Y, T: number): StepReport;
  /** One update of a whole-sequence model from one batch (the mean loss over its counted positions). */
  step(batch: Batch): StepReport;
  step(a: X | Batch, targets?: Y, T?: number): StepReport {
    const { driver } = this;
    if (!driver) {
      if (targets !== undefined || T !== undefined) throw new RangeError("Trainer: a whole-sequence model takes one batch per step: trainer.step(batch)");
      const m = this.model as WholeSequenceModel<Batch>;
      m.store.zeroGrad();
      const loss = m.forward(a as Batch);
      m.backward();
      return { ...this.updater.apply(loss), loss };
    }
    if (targets === undefined || T === undefined) throw new RangeError("Trainer: a stream model takes trainer.step(inputs, targets, T)");
    this.model.store.zeroGrad();
    const loss = driver.step(a as X, targets, T);
    const r = this.updater.apply(loss);
    // a skipped step may leave a carried state that is no longer finite: start the stream afresh
    if (r.skipped && !driver.state.every(allFinite)) driver.reset();
    return { ...r, loss };
  }
}
