// Training on the long-range dependency tasks (data/tasks.ts): a recurrent stack and a Linear
// head, read after the last step (regression-last, class-last) or at every step (class-every),
// trained on fresh sequences each step and judged by the task's own success criterion on a fixed
// set of held-out sequences. Optional gradient-norm clipping and Pascanu's Ω regulariser
// (train/omega.ts), the ingredients of Pascanu, Mikolov & Bengio (2013)'s experiments.
//
// T = steps, B = batch, I = task inputs, H = hidden, O = outputs (1 for regression, C classes).
// Parameters: rnn.<PyTorch names>, head.weight (O, H), head.bias (O).

import { createTask, type Task, type TaskBatch, type TaskEvaluation, type TaskName } from "../data/tasks.js";
import { Linear } from "../nn/linear.js";
import { ParamStore } from "../nn/params.js";
import { createRecurrent, type Recurrent, type RecurrentCache, type RecurrentInit } from "../nn/recurrent.js";
import type { CellName } from "../nn/cells.js";
import { crossEntropyBackward, crossEntropyForward } from "../nn/softmax-xent.js";
import type { DType, Float } from "../tensor/dtype.js";
import type { Kernels } from "../tensor/kernels.js";
import { Rng } from "../tensor/rng.js";
import { OmegaRegularizer } from "./omega.js";
import { createOptimizer, type Optimizer, type OptimizerName } from "./optim.js";
import { Updater, type NonFinitePolicy } from "./trainer.js";
import { checkTaskFits } from "./memory.js";
import { ExplosionWatch } from "./clip.js";
import { flowByLag } from "../analysis/gradflow.js";
import { recurrentSpectra, type RecurrentSpectrum } from "../analysis/spectra.js";

/** A task run's settings. */
export interface TaskRunConfig {
  task: TaskName;
  /** The task's length parameter T. */
  length: number;
  cell: CellName;
  hidden: number;
  layers?: number;
  /** Elman nonlinearity. Default "tanh". */
  nonlinearity?: "tanh" | "relu";
  /** Recurrent initialisation; "chrono" takes the task's sequence length as its longest dependency. */
  init?: RecurrentInit;
  forgetBias?: number;
  optimizer: OptimizerName;
  lr: number;
  momentum?: number;
  batch: number;
  /** Clip the global gradient norm to this (null: no clipping). */
  clip: number | null;
  /** Weight λ of Pascanu's Ω regulariser (0: off; Elman RNN only). */
  omega?: number;
  /** A step whose loss, gradient or update is not finite: skipped and counted (default), or stop with a NonFiniteError. */
  nonFinite?: NonFinitePolicy;
  seed: number;
  dtype?: DType;
}

/** One training step's numbers. */
export interface TaskStepReport {
  step: number;
  loss: number;
  /** Gradient norm before clipping (including Ω's gradient). */
  gradNorm: number;
  clipped: boolean;
  /** Whether the update was skipped (non-finite loss, gradient or update; the weights stayed as they were). */
  skipped: boolean;
  /** Ω (without λ), when the regulariser is on. */
  omega: number | null;
  /** An explosion warning raised at this step (train/clip.ts's ExplosionWatch). */
  warning?: string;
}

interface Buffers {
  cache: RecurrentCache;
  /** (T, B, I) the inputs in the model's dtype */
  x: Float;
  /** (B or T·B, O) head outputs, and their gradient (after softmax, for classification) */
  y: Float;
  dy: Float;
  /** (B, H) the top layer's final state and its gradient */
  last: Float;
  dLast: Float;
  /** (T, B, H) gradient at the top layer's outputs */
  dOut: Float;
  dState: Float[];
  /** (T, B, H) λ ∂Ω/∂h, when the regulariser is on */
  dOmega: Float | null;
}

/** A recurrent stack with a Linear head for a task's output. */
export class TaskModel {
  readonly store: ParamStore;
  readonly rnn: Recurrent;
  readonly head: Linear;
  readonly k: Kernels;
  // buffers per batch size (training's and evaluation's), allocated once each
  private readonly sets = new Map<number, Buffers>();
  private cur: Buffers | null = null;
  private omega: OmegaRegularizer | null = null;

  constructor(
    readonly task: Task,
    c: Pick<TaskRunConfig, "cell" | "hidden" | "layers" | "nonlinearity" | "init" | "forgetBias" | "seed" | "dtype" | "omega">,
    kernels?: Kernels,
  ) {
    const dtype = c.dtype ?? "float32";
    this.store = new ParamStore({ dtype, seed: c.seed, kernels });
    this.k = this.store.kernels;
    const ro = {
      store: this.store,
      prefix: "rnn",
      kernels: this.k,
      inputSize: task.inputSize,
      hiddenSize: c.hidden,
      numLayers: c.layers ?? 1,
      init: c.init,
      chronoMax: task.steps,
    };
    this.rnn = createRecurrent(c.cell, { ...ro, forgetBias: c.forgetBias, nonlinearity: c.nonlinearity ?? "tanh" });
    this.head = new Linear(c.hidden, task.outputSize, { store: this.store, prefix: "head", kernels: this.k });
    if (c.omega) this.omega = new OmegaRegularizer(this.rnn, this.k);
  }

  private ensure(T: number, B: number): Buffers {
    const have = this.sets.get(B);
    if (have && have.cache.capacity >= T) return (this.cur = have);
    const H = this.rnn.hiddenSize,
      O = this.task.outputSize,
      I = this.task.inputSize;
    const rows = this.task.output === "class-every" ? T * B : B;
    const set: Buffers = {
      cache: this.rnn.createCache(T, B),
      x: this.store.alloc(T * B * I),
      y: this.store.alloc(rows * O),
      dy: this.store.alloc(rows * O),
      last: this.store.alloc(B * H),
      dLast: this.store.alloc(B * H),
      dOut: this.store.alloc(T * B * H),
      dState: this.rnn.createState(B),
      dOmega: this.omega ? this.store.alloc(T * B * H) : null,
    };
    this.sets.set(B, set);
    return (this.cur = set);
  }

  /** The recurrent cache of the last forward (for analysis: gradient flow, Jacobians), or null before the first. */
  get lastCache(): RecurrentCache | null {
    return this.cur?.cache ?? null;
  }

  /** Head outputs of a batch: (B, O) after the last step, or (T, B, O) for class-every (a view). */
  predict(batch: TaskBatch): Float {
    const { T, B } = batch;
    const s = this.ensure(T, B);
    s.x.set(batch.inputs);
    const c = this.rnn.forward({ data: s.x.subarray(0, T * B * this.task.inputSize), shape: [T, B, this.task.inputSize] }, null, { cache: s.cache });
    const O = this.task.outputSize;
    if (this.task.output === "class-every") {
      this.head.forward(s.y, c.output.data, T * B);
      return s.y.subarray(0, T * B * O);
    }
    c.lastHidden(s.last);
    this.head.forward(s.y, s.last, B);
    return s.y.subarray(0, B * O);
  }

  /** The task's loss on a batch (MSE, or mean cross-entropy in nats); keeps what backward needs. */
  forward(batch: TaskBatch): number {
    const { T, B } = batch;
    const O = this.task.outputSize;
    const y = this.predict(batch);
    const s = this.cur!;
    if (this.task.output === "regression-last") {
      const t = batch.targets as Float64Array;
      let sum = 0;
      for (let i = 0; i < B * O; i++) {
        const e = y[i] - t[i];
        sum += e * e;
        s.dy[i] = (2 * e) / (B * O); // d(mean squared error)/dy
      }
      return sum / (B * O);
    }
    const ids = batch.targets as Int32Array;
    const N = this.task.output === "class-every" ? T * B : B;
    const { loss, count } = crossEntropyForward(s.dy, y, ids, N, O, this.k);
    crossEntropyBackward(s.dy, s.dy, ids, N, O, count, 1, this.k);
    return loss;
  }

  /**
   * Accumulates the gradient of the last forward's loss (+ λΩ when the regulariser is on) into
   * every parameter; returns Ω (null when off).
   */
  backward(batch: TaskBatch, lambda = 0): number | null {
    const { T, B } = batch;
    const H = this.rnn.hiddenSize;
    const L = this.rnn.numLayers;
    const s = this.cur;
    if (!s || s.cache.T !== T || s.cache.B !== B) throw new Error("TaskModel.backward: call forward on the same batch first");
    const c = s.cache;
    const regularize = this.omega !== null && lambda > 0;
    c.stateGrads = regularize ? this.omega!.stateGrads(T, B) : null;
    if (this.task.output === "class-every") {
      this.head.backward(s.dOut, s.dy, c.output.data, T * B);
      this.rnn.backwardRaw(c, s.dOut, null);
    } else {
      this.head.backward(s.dLast, s.dy, s.last, B);
      for (const st of s.dState) st.fill(0);
      this.k.copy(s.dState[0], (L - 1) * B * H, s.dLast, 0, B * H); // the head read the top layer's h_T
      this.rnn.backwardRaw(c, null, s.dState);
    }
    if (!regularize) return null;
    // Ω: its direct W_hh part now, the rest through a second pass back in time
    const value = this.omega!.backward(c, lambda, s.dOmega!);
    c.stateGrads = null;
    this.rnn.forwardRaw(c, s.x, T, null, null);
    this.rnn.backwardRaw(c, s.dOmega!, null);
    return value;
  }
}

/**
 * A task, a model, an optimizer and a stream of fresh training sequences.
 * @example
 * const run = new TaskRun({ task: "adding", length: 100, cell: "lstm", hidden: 128, optimizer: "adam", lr: 1e-3, batch: 32, clip: 1, seed: 1 });
 * for (let s = 0; s < 2000; s++) run.step();
 * run.evaluate(1000).solved
 */
export class TaskRun {
  readonly task: Task;
  readonly model: TaskModel;
  readonly optimizer: Optimizer;
  /** The one place an update happens (train/trainer.ts): clipping, non-finite checks, undo. */
  readonly updater: Updater;
  /** Pre-clip gradient norms of every step so far (for clipSummary). */
  readonly norms: number[] = [];
  private readonly watch = new ExplosionWatch();
  private readonly rng: Rng;
  private test: { batch: TaskBatch; chunks: TaskBatch[] } | null = null;

  constructor(
    readonly config: TaskRunConfig,
    kernels?: Kernels,
  ) {
    this.task = createTask(config.task, config.length);
    if (config.omega && config.cell !== "rnn") throw new RangeError("the Ω regulariser is for --cell rnn (Pascanu et al. 2013 used it on tanh RNNs)");
    const t = this.task;
    checkTaskFits({
      steps: t.steps,
      inputSize: t.inputSize,
      outputSize: t.outputSize,
      every: t.output === "class-every",
      cell: config.cell,
      hidden: config.hidden,
      layers: config.layers ?? 1,
      batch: config.batch,
    });
    this.model = new TaskModel(this.task, config, kernels);
    this.optimizer = createOptimizer(config.optimizer, this.model.store, { lr: config.lr, momentum: config.momentum ?? 0, kernels: this.model.k });
    this.updater = new Updater(this.model.store, this.optimizer, { clipNorm: config.clip ?? undefined, nonFinite: config.nonFinite ?? "skip" });
    this.rng = new Rng(config.seed * 2 + 1);
  }

  /** Steps taken so far. */
  get steps(): number {
    return this.updater.stats.steps;
  }

  /** Steps taken, updates skipped (non-finite) and updates whose gradient was clipped. */
  get stats(): { steps: number; skipped: number; clipped: number } {
    return this.updater.stats;
  }

  /** One update on B fresh sequences. */
  step(): TaskStepReport {
    const batch = this.task.batch(this.config.batch, this.rng);
    const m = this.model;
    m.store.zeroGrad();
    const loss = m.forward(batch);
    const omega = m.backward(batch, this.config.omega ?? 0);
    const r = this.updater.apply(loss);
    this.norms.push(r.gradNorm);
    const warning = this.watch.observe(r.step, r.gradNorm);
    return { ...r, loss, omega, ...(warning ? { warning } : {}) };
  }

  /**
   * Gradient flow and spectra on `probe`, from a float64 copy of the model (training is left
   * alone): ‖∂E/∂h_{T-lag}‖ of layer 0 for lag = 0..T-1 (analysis/gradflow.ts) and every W_hh
   * block's spectrum (analysis/spectra.ts).
   */
  diagnose(probe: TaskBatch): { gradByLag: number[]; spectra: RecurrentSpectrum[] } {
    const copy = new TaskModel(this.task, { ...this.config, dtype: "float64" });
    copy.store.values.set(this.model.store.values);
    return { gradByLag: flowByLag(copy, probe, probe.T), spectra: recurrentSpectra(copy.rnn) };
  }

  /**
   * The task's criterion on `n` held-out sequences (the same ones every call: drawn once from a
   * seed apart from training's), run through the model `chunk` rows at a time.
   */
  evaluate(n = 1000, chunk = 100): TaskEvaluation {
    if (!this.test || this.test.batch.B !== n) {
      const rng = new Rng(0x5eed + this.config.seed);
      const batch = this.task.batch(n, rng);
      this.test = { batch, chunks: splitRows(batch, chunk, this.task.output === "class-every") };
    }
    const { batch, chunks } = this.test;
    const O = this.task.outputSize;
    const every = this.task.output === "class-every";
    const preds = new Float64Array((every ? batch.T * n : n) * O);
    let row = 0;
    for (const part of chunks) {
      const y = this.model.predict(part);
      if (every) {
        for (let t = 0; t < batch.T; t++) {
          for (let b = 0; b < part.B; b++) for (let o = 0; o < O; o++) preds[(t * n + row + b) * O + o] = y[(t * part.B + b) * O + o];
        }
      } else {
        for (let i = 0; i < part.B * O; i++) preds[row * O + i] = y[i];
      }
      row += part.B;
    }
    return this.task.evaluate(preds, batch, { kind: "logits" });
  }
}

/** A batch cut into batches of at most `chunk` rows (copies). */
function splitRows(batch: TaskBatch, chunk: number, every: boolean): TaskBatch[] {
  const { T, B } = batch;
  const I = batch.inputs.length / (T * B);
  const perRowTargets = batch.targets.length / B; // regression: O; class-last: 1 (class-every is (T, B), split per step)
  const parts: TaskBatch[] = [];
  for (let r0 = 0; r0 < B; r0 += chunk) {
    const b = Math.min(chunk, B - r0);
    const inputs = new Float64Array(T * b * I);
    for (let t = 0; t < T; t++) inputs.set(batch.inputs.subarray((t * B + r0) * I, (t * B + r0 + b) * I), t * b * I);
    let targets: Float64Array | Int32Array;
    if (every) {
      targets = new Int32Array(T * b);
      for (let t = 0; t < T; t++) targets.set(batch.targets.subarray(t * B + r0, t * B + r0 + b) as Int32Array, t * b);
    } else {
      targets = batch.targets.slice(r0 * perRowTargets, (r0 + b) * perRowTargets);
    }
    parts.push({ T, B: b, inputs, targets });
  }
  return parts;
}
