// Training on the long-range dependency tasks (data/tasks.ts): a recurrent stack and a Linear
// head, read after the last step (regression-last, class-last) or at every step (class-every),
// trained on fresh sequences each step and judged by the task's own success criterion on a fixed
// set of held-out sequences. Optional gradient-norm clipping and Pascanu's Ω regulariser
// (train/omega.ts), the ingredients of Pascanu, Mikolov & Bengio (2013)'s experiments.
//
// T = steps, B = batch, I = task inputs, H = hidden, O = outputs (1 for regression, C classes).
// Parameters: rnn.<PyTorch names>, head.weight (O, H), head.bias (O).

import { createTask, type Task, type TaskBatch, type TaskEvaluation, type TaskName } from "../data/tasks.js";
import { activationBackward, activationForward } from "../nn/activations.js";
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
import { checkAdjustment, type TrainingAdjustment } from "./run.js";
import { ExplosionWatch } from "./clip.js";
import { flowByLag } from "../analysis/gradflow.js";
import { recurrentSpectra, type RecurrentSpectrum } from "../analysis/spectra.js";

/** A task run's settings. */
export interface TaskRunConfig {
  task: TaskName;
  /** The task's length parameter T. */
  length: number;
  /** A recurrent cell, or "mlp": a feed-forward network over a window of the last `window` steps (no recurrence). */
  cell: CellName | "mlp";
  /** cell "mlp": the steps each output sees, the current one included. */
  window?: number;
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
    c: Pick<TaskRunConfig, "hidden" | "layers" | "nonlinearity" | "init" | "forgetBias" | "seed" | "dtype" | "omega"> & { cell: CellName },
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
    const cache = this.rnn.createCache(T, B);
    cache.needInputGrad = false; // the task's inputs are data
    const set: Buffers = {
      cache,
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
    const y = this.predict(batch);
    return taskLoss(this.task, batch, y, this.cur!.dy, this.k);
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

/** The task's loss of outputs y (MSE, or mean cross-entropy in nats), and into dy its gradient with respect to y. */
function taskLoss(task: Task, batch: TaskBatch, y: Float, dy: Float, k: Kernels): number {
  const { T, B } = batch;
  const O = task.outputSize;
  if (task.output === "regression-last") {
    const t = batch.targets as Float64Array;
    let sum = 0;
    for (let i = 0; i < B * O; i++) {
      const e = y[i] - t[i];
      sum += e * e;
      dy[i] = (2 * e) / (B * O); // d(mean squared error)/dy
    }
    return sum / (B * O);
  }
  const ids = batch.targets as Int32Array;
  const N = task.output === "class-every" ? T * B : B;
  const { loss, count } = crossEntropyForward(dy, y, ids, N, O, k);
  crossEntropyBackward(dy, dy, ids, N, O, count, 1, k);
  return loss;
}

/**
 * A feed-forward network over a window of the last n steps, for the tasks: the input at step t is
 * [x_{t-n+1}, ..., x_t] (zeros before the sequence's start), then hidden layers (tanh or relu)
 * and the Linear head, read after the last step or at every step as the task asks. It has no
 * recurrence: what lies more than n - 1 steps back it cannot see, which is what the tasks show.
 * Parameters: hidden.l.weight/bias (H, n*I) then (H, H), head.weight (O, H), head.bias (O).
 */
export class WindowTaskModel {
  readonly store: ParamStore;
  readonly hidden: Linear[] = [];
  readonly head: Linear;
  readonly k: Kernels;
  readonly window: number;
  private readonly act: "tanh" | "relu";
  private cap = 0;
  private x: Float = new Float32Array(0); // (rows, n*I)
  private acts: Float[] = []; // (rows, H) per layer
  private y: Float = new Float32Array(0); // (rows, O)
  private dy: Float = new Float32Array(0);
  private dA: Float[] = [];
  private rows = 0;

  constructor(
    readonly task: Task,
    c: Pick<TaskRunConfig, "hidden" | "layers" | "nonlinearity" | "window" | "seed" | "dtype">,
    kernels?: Kernels,
  ) {
    this.store = new ParamStore({ dtype: c.dtype ?? "float32", seed: c.seed, kernels });
    this.k = this.store.kernels;
    this.window = c.window ?? 1;
    this.act = c.nonlinearity ?? "tanh";
    const nI = this.window * task.inputSize;
    for (let l = 0; l < (c.layers ?? 1); l++) {
      this.hidden.push(new Linear(l === 0 ? nI : c.hidden, c.hidden, { store: this.store, prefix: `hidden.${l}`, kernels: this.k }));
    }
    this.head = new Linear(c.hidden, task.outputSize, { store: this.store, prefix: "head", kernels: this.k });
  }

  /** Head outputs of a batch: (B, O) after the last step, or (T, B, O) for class-every (a view). */
  predict(batch: TaskBatch): Float {
    const { T, B } = batch;
    const I = this.task.inputSize;
    const n = this.window;
    const H = this.hidden[0].outFeatures;
    const O = this.task.outputSize;
    const every = this.task.output === "class-every";
    const rows = every ? T * B : B;
    if (rows > this.cap) {
      this.cap = rows;
      this.x = this.store.alloc(rows * n * I);
      this.acts = this.hidden.map(() => this.store.alloc(rows * H));
      this.y = this.store.alloc(rows * O);
      this.dy = this.store.alloc(rows * O);
      this.dA = [this.store.alloc(rows * H), this.store.alloc(rows * H)];
    }
    this.rows = rows;
    // the windows: row r = (t, b) (every) or (T-1, b), slot j = step t-n+1+j
    const x = this.x;
    for (let r = 0; r < rows; r++) {
      const t = every ? Math.floor(r / B) : T - 1;
      const b = every ? r % B : r;
      for (let j = 0; j < n; j++) {
        const s = t - n + 1 + j;
        const o = (r * n + j) * I;
        if (s < 0) x.fill(0, o, o + I);
        else for (let i = 0; i < I; i++) x[o + i] = batch.inputs[(s * B + b) * I + i];
      }
    }
    let input = x;
    for (let l = 0; l < this.hidden.length; l++) {
      const a = this.acts[l];
      this.hidden[l].forward(a, input, rows);
      activationForward(this.act, a, 0, a, 0, rows * H, this.k);
      input = a;
    }
    this.head.forward(this.y, input, rows);
    return this.y.subarray(0, rows * O);
  }

  /** The task's loss on a batch; keeps what backward needs. */
  forward(batch: TaskBatch): number {
    const y = this.predict(batch);
    return taskLoss(this.task, batch, y, this.dy, this.k);
  }

  /** Accumulates the gradient of the last forward's loss into every parameter; returns null (no Ω here). */
  backward(_batch: TaskBatch, lambda = 0): number | null {
    if (lambda > 0) throw new RangeError("the Ω regulariser is for recurrent models");
    const rows = this.rows;
    if (rows === 0) throw new Error("WindowTaskModel.backward: call forward first");
    const H = this.hidden[0].outFeatures;
    const L = this.hidden.length;
    let d = this.dA[0];
    this.head.backward(d, this.dy, this.acts[L - 1], rows);
    for (let l = L - 1; l >= 0; l--) {
      activationBackward(this.act, d, 0, d, 0, this.acts[l], 0, rows * H, this.k);
      const dIn = l === 0 ? null : this.dA[(L - l) % 2];
      this.hidden[l].backward(dIn, d, l === 0 ? this.x : this.acts[l - 1], rows);
      if (dIn) d = dIn;
    }
    return null;
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
  readonly model: TaskModel | WindowTaskModel;
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
    if (config.cell === "mlp" && !(Number.isInteger(config.window) && config.window! >= 1))
      throw new RangeError(`a feed-forward task model (cell "mlp") needs window >= 1, got ${config.window}`);
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
      ...(config.cell === "mlp" ? { window: config.window } : {}),
    });
    const { cell } = config;
    this.model = cell === "mlp" ? new WindowTaskModel(this.task, config, kernels) : new TaskModel(this.task, { ...config, cell }, kernels);
    this.optimizer = createOptimizer(config.optimizer, this.model.store, { lr: config.lr, momentum: config.momentum ?? 0, kernels: this.model.k });
    this.updater = new Updater(this.model.store, this.optimizer, { clipNorm: config.clip ?? undefined, nonFinite: config.nonFinite ?? "skip" });
    this.rng = new Rng(config.seed * 2 + 1);
  }

  /** Steps taken so far. */
  get steps(): number {
    return this.updater.stats.steps;
  }

  /**
   * Changes the learning rate, momentum or norm clipping (`clip`, null: none) from the next step
   * on, as TrainingRun.adjust; the config records the new values. Task runs clip the norm only.
   */
  adjust(changes: Pick<TrainingAdjustment, "lr" | "momentum"> & { clip?: number | null }): void {
    const { clip, ...rest } = changes;
    if ("clipValue" in changes) throw new RangeError("a task run clips the gradient norm (clip) or nothing; value clipping is for language models");
    const next = checkAdjustment({ ...rest, ...(clip !== undefined ? { clipNorm: clip } : {}) }, this.config.optimizer, this.optimizer);
    if (next.lr !== undefined) this.optimizer.lr = next.lr;
    if (next.momentum !== undefined) (this.optimizer as unknown as { momentum: number }).momentum = next.momentum;
    this.updater.configure({ clipNorm: next.clipNorm });
    const c = this.config as { -readonly [K in keyof TaskRunConfig]: TaskRunConfig[K] };
    if (next.lr !== undefined) c.lr = next.lr;
    if (next.momentum !== undefined) c.momentum = next.momentum;
    if (next.clipNorm !== undefined) c.clip = next.clipNorm;
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
    const { cell } = this.config;
    if (cell === "mlp") throw new RangeError("gradient flow and spectra are of recurrent models; the window model has no recurrence");
    const copy = new TaskModel(this.task, { ...this.config, cell, dtype: "float64" });
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
