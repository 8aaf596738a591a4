// Optimizers, in order of increasing complexity, each with PyTorch's exact update rule
// (torch.optim, single-tensor path) and defaults. Each step is one kernel call over the store's
// flat values and gradients (the loops live in tensor/, the fast path in WebAssembly); the
// state is flat buffers of the same length, so checkpoints save it as tensors.
// Every `step()` mutates `store.values` (and the optimizer's state) and leaves `store.grads` alone.
// References: https://pytorch.org/docs/stable/optim.html

import { finiteInFloat32 } from "../errors.js";
import type { Float } from "../tensor/dtype.js";
import type { Kernels } from "../tensor/kernels.js";
import { checkOptions } from "../nn/module.js";
import type { ParamStore } from "../nn/params.js";

/** What every optimizer offers. */
export interface Optimizer {
  /** The optimizer's name, e.g. `"adam"`. */
  readonly name: string;
  /** Learning rate; may be changed between steps (schedules). */
  lr: number;
  /** Steps taken so far. */
  readonly stepCount: number;
  /** Applies one update from the current gradients; mutates the parameters. */
  step(): void;
  /** The state buffers by name (e.g. `exp_avg`), each as long as the store; for checkpoints. */
  stateBuffers(): Record<string, Float>;
  /** Restores the step count (the buffers are restored by writing into `stateBuffers()`). */
  setStepCount(n: number): void;
}

function checkHyper(what: string, v: number, ok: boolean): void {
  if (!ok || !Number.isFinite(v)) throw new RangeError(`${what}: invalid value ${v}`);
}

/** A new momentum for an optimizer that has (or has not) a momentum buffer. */
function checkMomentum(what: string, v: number, hasBuffer: boolean, nesterov: boolean): number {
  checkHyper(`${what} momentum`, v, v >= 0);
  if (v > 0 && !hasBuffer)
    throw new RangeError(`${what} momentum: this optimizer was made without momentum (it keeps no momentum buffer); start a new run with momentum > 0`);
  if (nesterov && v <= 0) throw new RangeError(`${what} momentum: Nesterov momentum needs momentum > 0`);
  return v;
}

/**
 * State buffers that hold running sums or averages of squared gradients: never negative, so a
 * checkpoint holding a negative one is corrupt (its square root would be NaN).
 */
export const NON_NEGATIVE_STATE: ReadonlySet<string> = new Set(["sum", "square_avg", "exp_avg_sq", "max_exp_avg_sq"]);

/** Options every optimizer takes. */
export interface OptimizerOptions {
  /** Kernel set of the update. Default: the model's (its store's). */
  kernels?: Kernels;
}

/** The option keys of each optimizer's constructor (an unknown key is refused, naming it). */
export const OPTIMIZER_OPTION_KEYS: Readonly<Record<OptimizerName, readonly string[]>> = {
  sgd: ["lr", "momentum", "dampening", "weightDecay", "nesterov", "kernels"],
  adagrad: ["lr", "lrDecay", "weightDecay", "initialAccumulatorValue", "eps", "kernels"],
  rmsprop: ["lr", "alpha", "eps", "weightDecay", "momentum", "centered", "kernels"],
  adam: ["lr", "betas", "eps", "weightDecay", "amsgrad", "kernels"],
  adamw: ["lr", "betas", "eps", "weightDecay", "amsgrad", "kernels"],
};

abstract class Base {
  private _lr = 0;
  protected steps = 0;
  protected readonly p: Float;
  protected readonly g: Float;
  protected readonly k: Kernels;
  constructor(
    protected readonly store: ParamStore,
    lr: number,
    kernels?: Kernels,
  ) {
    this.p = store.values;
    this.lr = lr;
    this.g = store.grads;
    this.k = kernels ?? store.kernels;
  }
  /** The learning rate: >= 0 and, for float32 parameters, finite in float32 (1e39 would make every update infinite). */
  get lr(): number {
    return this._lr;
  }
  set lr(v: number) {
    checkHyper("optimizer lr", v, v >= 0);
    if (this.store.dtype === "float32" && !finiteInFloat32(v)) {
      throw new RangeError(`optimizer lr: ${v} is not a float32 number (float32 holds 1.2e-38 to 3.4e38); every update would be infinite or zero`);
    }
    this._lr = v;
  }

  get stepCount(): number {
    return this.steps;
  }
  setStepCount(n: number): void {
    this.steps = n;
  }
  /** A zeroed buffer of one value per parameter element (a state buffer: momentum, squares, ...). */
  protected buffer(): Float {
    return this.store.alloc(this.p.length);
  }
}

/** Options of SGD (torch.optim.SGD). */
export interface SGDOptions extends OptimizerOptions {
  lr: number;
  /** Default 0. */
  momentum?: number;
  /** Default 0. */
  dampening?: number;
  /** L2 penalty added to the gradient. Default 0. */
  weightDecay?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). Default false. */
  nesterov?: boolean;
}

/**
 * Stochastic gradient descent: `d = g + wd·p`; with momentum `buf = μ·buf + (1-τ)·d` (buf = d at
 * the first step), `d = nesterov ? d + μ·buf : buf`; then `p -= lr·d`.
 */
export class SGD extends Base implements Optimizer {
  readonly name = "sgd";
  private mu: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  private readonly buf: Float | null;

  constructor(store: ParamStore, o: SGDOptions) {
    checkOptions("SGD", o, OPTIMIZER_OPTION_KEYS.sgd);
    super(store, o.lr, o.kernels);
    this.mu = o.momentum ?? 0;
    this.dampening = o.dampening ?? 0;
    this.weightDecay = o.weightDecay ?? 0;
    this.nesterov = o.nesterov ?? false;
    checkHyper("SGD momentum", this.momentum, this.momentum >= 0);
    checkHyper("SGD weightDecay", this.weightDecay, this.weightDecay >= 0);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new RangeError("SGD: Nesterov momentum needs momentum > 0 and dampening 0");
    }
    this.buf = this.momentum !== 0 ? this.buffer() : null;
  }

  /**
   * The momentum μ. It may change between steps, as PyTorch's `param_groups[0]["momentum"]`:
   * between positive values and to 0 (the buffer is kept, unused, as PyTorch keeps it), but not
   * from 0 to positive on an optimizer made without momentum (it has no buffer: make a new one).
   */
  get momentum(): number {
    return this.mu;
  }
  set momentum(v: number) {
    this.mu = checkMomentum("SGD", v, this.buf !== null, this.nesterov);
  }

  step(): void {
    this.k.sgdStep(
      this.p,
      this.g,
      this.mu !== 0 ? this.buf : null,
      0,
      this.p.length,
      this.lr,
      this.momentum,
      this.dampening,
      this.weightDecay,
      this.nesterov,
      this.steps === 0,
    );
    this.steps++;
  }

  stateBuffers(): Record<string, Float> {
    return this.buf ? { momentum_buffer: this.buf } : {};
  }
}

/** Options of Adagrad (torch.optim.Adagrad). */
export interface AdagradOptions extends OptimizerOptions {
  /** Default 1e-2. */
  lr?: number;
  /** Default 0. */
  lrDecay?: number;
  /** Default 0. */
  weightDecay?: number;
  /** Default 0. */
  initialAccumulatorValue?: number;
  /** Default 1e-10. */
  eps?: number;
}

/** Adagrad: `d = g + wd·p`, `sum += d²`, `p -= lr/(1 + (t-1)·lrDecay) · d / (sqrt(sum) + eps)`. */
export class Adagrad extends Base implements Optimizer {
  readonly name = "adagrad";
  readonly lrDecay: number;
  readonly weightDecay: number;
  readonly eps: number;
  private readonly sum: Float;

  constructor(store: ParamStore, o: AdagradOptions = {}) {
    checkOptions("Adagrad", o, OPTIMIZER_OPTION_KEYS.adagrad);
    super(store, o.lr ?? 1e-2, o.kernels);
    this.lrDecay = o.lrDecay ?? 0;
    this.weightDecay = o.weightDecay ?? 0;
    this.eps = o.eps ?? 1e-10;
    const init = o.initialAccumulatorValue ?? 0;
    checkHyper("Adagrad initialAccumulatorValue", init, init >= 0);
    this.sum = this.buffer();
    this.sum.fill(init);
  }

  step(): void {
    this.steps++;
    const clr = this.lr / (1 + (this.steps - 1) * this.lrDecay);
    this.k.adagradStep(this.p, this.g, this.sum, 0, this.p.length, clr, this.weightDecay, this.eps);
  }

  stateBuffers(): Record<string, Float> {
    return { sum: this.sum };
  }
}

/** Options of RMSprop (torch.optim.RMSprop). */
export interface RMSpropOptions extends OptimizerOptions {
  /** Default 1e-2. */
  lr?: number;
  /** Smoothing constant. Default 0.99. */
  alpha?: number;
  /** Default 1e-8. */
  eps?: number;
  /** Default 0. */
  weightDecay?: number;
  /** Default 0. */
  momentum?: number;
  /** Normalise by the variance estimate instead of the raw second moment. Default false. */
  centered?: boolean;
}

/**
 * RMSprop: `d = g + wd·p`, `v = α·v + (1-α)·d²`, `avg = sqrt(v - m²) + eps` with `m = α·m + (1-α)·d`
 * when centered (else `sqrt(v) + eps`); with momentum `buf = μ·buf + d/avg`, `p -= lr·buf`;
 * else `p -= lr·d/avg`.
 */
export class RMSprop extends Base implements Optimizer {
  readonly name = "rmsprop";
  readonly alpha: number;
  readonly eps: number;
  readonly weightDecay: number;
  private mu: number;
  readonly centered: boolean;
  private readonly squareAvg: Float;
  private readonly gradAvg: Float | null;
  private readonly buf: Float | null;

  constructor(store: ParamStore, o: RMSpropOptions = {}) {
    checkOptions("RMSprop", o, OPTIMIZER_OPTION_KEYS.rmsprop);
    super(store, o.lr ?? 1e-2, o.kernels);
    this.alpha = o.alpha ?? 0.99;
    this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? 0;
    this.mu = o.momentum ?? 0;
    this.centered = o.centered ?? false;
    checkHyper("RMSprop alpha", this.alpha, this.alpha >= 0);
    checkHyper("RMSprop momentum", this.momentum, this.momentum >= 0);
    this.squareAvg = this.buffer();
    this.gradAvg = this.centered ? this.buffer() : null;
    this.buf = this.momentum > 0 ? this.buffer() : null;
  }

  /** The momentum μ; it may change between steps as SGD's may (not from 0 to positive: no buffer). */
  get momentum(): number {
    return this.mu;
  }
  set momentum(v: number) {
    this.mu = checkMomentum("RMSprop", v, this.buf !== null, false);
  }

  step(): void {
    this.k.rmspropStep(
      this.p,
      this.g,
      this.squareAvg,
      this.gradAvg,
      this.mu > 0 ? this.buf : null,
      0,
      this.p.length,
      this.lr,
      this.alpha,
      this.eps,
      this.weightDecay,
      this.momentum,
    );
    this.steps++;
  }

  stateBuffers(): Record<string, Float> {
    const s: Record<string, Float> = { square_avg: this.squareAvg };
    if (this.gradAvg) s.grad_avg = this.gradAvg;
    if (this.buf) s.momentum_buffer = this.buf;
    return s;
  }
}

/** Options of Adam and AdamW (torch.optim.Adam / AdamW). */
export interface AdamOptions extends OptimizerOptions {
  /** Default 1e-3. */
  lr?: number;
  /** (β1, β2). Default [0.9, 0.999]. */
  betas?: readonly [number, number];
  /** Default 1e-8. */
  eps?: number;
  /** Adam: L2 penalty added to the gradient (default 0). AdamW: decoupled decay `p *= 1 - lr·wd` (default 1e-2). */
  weightDecay?: number;
  /** Use the running maximum of the second moment (Reddi et al. 2018). Default false. */
  amsgrad?: boolean;
}

/**
 * Adam (Kingma & Ba 2015): `d = g + wd·p`, `m = β1·m + (1-β1)·d`, `v = β2·v + (1-β2)·d²`,
 * `p -= lr/(1-β1^t) · m / (sqrt(v)/sqrt(1-β2^t) + eps)`.
 */
export class Adam extends Base implements Optimizer {
  readonly name: string = "adam";
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly amsgrad: boolean;
  /** Decoupled weight decay (AdamW) instead of L2 in the gradient. */
  protected decoupled = false;
  private readonly expAvg: Float;
  private readonly expAvgSq: Float;
  private readonly maxExpAvgSq: Float | null;

  constructor(store: ParamStore, o: AdamOptions = {}, defaultWeightDecay = 0) {
    checkOptions(new.target === AdamW ? "AdamW" : "Adam", o, OPTIMIZER_OPTION_KEYS.adam);
    super(store, o.lr ?? 1e-3, o.kernels);
    [this.beta1, this.beta2] = o.betas ?? [0.9, 0.999];
    this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? defaultWeightDecay;
    this.amsgrad = o.amsgrad ?? false;
    checkHyper("Adam beta1", this.beta1, this.beta1 >= 0 && this.beta1 < 1);
    checkHyper("Adam beta2", this.beta2, this.beta2 >= 0 && this.beta2 < 1);
    checkHyper("Adam eps", this.eps, this.eps >= 0);
    checkHyper("Adam weightDecay", this.weightDecay, this.weightDecay >= 0);
    this.expAvg = this.buffer();
    this.expAvgSq = this.buffer();
    this.maxExpAvgSq = this.amsgrad ? this.buffer() : null;
  }

  step(): void {
    const { lr, beta1: b1, beta2: b2, weightDecay: wd } = this;
    this.steps++;
    const t = this.steps;
    const stepSize = lr / (1 - b1 ** t);
    const bc2Sqrt = Math.sqrt(1 - b2 ** t);
    const l2 = this.decoupled ? 0 : wd;
    const decay = this.decoupled ? 1 - lr * wd : 1;
    this.k.adamStep(this.p, this.g, this.expAvg, this.expAvgSq, this.maxExpAvgSq, 0, this.p.length, stepSize, b1, b2, this.eps, l2, decay, bc2Sqrt);
  }

  stateBuffers(): Record<string, Float> {
    const s: Record<string, Float> = { exp_avg: this.expAvg, exp_avg_sq: this.expAvgSq };
    if (this.maxExpAvgSq) s.max_exp_avg_sq = this.maxExpAvgSq;
    return s;
  }
}

/** AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay, `p *= 1 - lr·wd` before the Adam update. Default weightDecay 1e-2. */
export class AdamW extends Adam {
  override readonly name: string = "adamw";
  constructor(store: ParamStore, o: AdamOptions = {}) {
    super(store, o, 1e-2);
    this.decoupled = true;
  }
}

// ---------------------------------------------------------------------------------------------
// the registry: every optimizer's name, the facts code elsewhere needs, and its factory

/** Optimizer names accepted by `createOptimizer`. */
export type OptimizerName = "sgd" | "adagrad" | "rmsprop" | "adam" | "adamw";

/**
 * Options for `createOptimizer`: the union of every optimizer's options. Each optimizer takes its
 * own keys (OPTIMIZER_OPTION_KEYS) and leaves the others' alone (a config's momentum means nothing
 * to Adam); a key no optimizer has is refused.
 */
export type AnyOptimizerOptions = { lr?: number } & Omit<SGDOptions, "lr"> & AdagradOptions & RMSpropOptions & AdamOptions;

/** What the rest of rnnlab knows about an optimizer. */
export interface OptimizerSpec {
  name: OptimizerName;
  /** torch.optim's class. */
  pytorch: string;
  /** The learning rate `rnnlab train` uses when none is given (char-rnn practice; PyTorch has none for SGD). */
  defaultLr: number;
  /** Whether the optimizer takes a momentum setting. */
  momentum: boolean;
  /** Its state buffers (each as long as the parameters) for these options, by name as in checkpoints. */
  state(o: AnyOptimizerOptions): string[];
  /** Builds it from the union of options: its own keys are passed on, the other optimizers' ignored, any other key refused (RangeError). */
  create(store: ParamStore, o: AnyOptimizerOptions): Optimizer;
}

/** The optimizers rnnlab has, by name: PyTorch's class, default rate, state buffers and factory (adding an optimizer starts here). */
export const OPTIMIZERS: Readonly<Record<OptimizerName, OptimizerSpec>> = {
  sgd: {
    name: "sgd",
    pytorch: "SGD",
    defaultLr: 1e-1,
    momentum: true,
    state: (o) => ((o.momentum ?? 0) > 0 ? ["momentum_buffer"] : []),
    create: (store, o) => {
      const own = optionsFor<SGDOptions>("sgd", o);
      if (own.lr === undefined) throw new RangeError("SGD needs a learning rate (lr)");
      return new SGD(store, own);
    },
  },
  adagrad: {
    name: "adagrad",
    pytorch: "Adagrad",
    defaultLr: 1e-2,
    momentum: false,
    state: () => ["sum"],
    create: (store, o) => new Adagrad(store, optionsFor("adagrad", o)),
  },
  rmsprop: {
    name: "rmsprop",
    pytorch: "RMSprop",
    defaultLr: 2e-3,
    momentum: true,
    state: (o) => ["square_avg", ...(o.centered ? ["grad_avg"] : []), ...((o.momentum ?? 0) > 0 ? ["momentum_buffer"] : [])],
    create: (store, o) => new RMSprop(store, optionsFor("rmsprop", o)),
  },
  adam: {
    name: "adam",
    pytorch: "Adam",
    defaultLr: 2e-3,
    momentum: false,
    state: (o) => ["exp_avg", "exp_avg_sq", ...(o.amsgrad ? ["max_exp_avg_sq"] : [])],
    create: (store, o) => new Adam(store, optionsFor("adam", o)),
  },
  adamw: {
    name: "adamw",
    pytorch: "AdamW",
    defaultLr: 2e-3,
    momentum: false,
    state: (o) => ["exp_avg", "exp_avg_sq", ...(o.amsgrad ? ["max_exp_avg_sq"] : [])],
    create: (store, o) => new AdamW(store, optionsFor("adamw", o)),
  },
};

/** Every optimizer's name, in order of increasing complexity. */
export const OPTIMIZER_NAMES = Object.keys(OPTIMIZERS) as readonly OptimizerName[];

/** Whether `s` names an optimizer. */
export function isOptimizerName(s: unknown): s is OptimizerName {
  return typeof s === "string" && Object.hasOwn(OPTIMIZERS, s);
}

/** Every key of AnyOptimizerOptions: the union of the optimizers' own. */
export const ANY_OPTIMIZER_OPTION_KEYS: readonly string[] = [...new Set(Object.values(OPTIMIZER_OPTION_KEYS).flat())];

/**
 * The options of `o` that optimizer `name` takes, after refusing a key that no optimizer has
 * (RangeError naming it): what the registry's factories pass to the constructors.
 */
export function optionsFor<T extends object>(name: OptimizerName, o: AnyOptimizerOptions): T {
  checkOptions(`optimizer ${name}`, o, ANY_OPTIMIZER_OPTION_KEYS);
  const own = OPTIMIZER_OPTION_KEYS[name];
  return Object.fromEntries(Object.entries(o).filter(([k]) => own.includes(k))) as T;
}

/**
 * Builds an optimizer by name (for configs and the CLI) from the union of the optimizers' options:
 * it takes its own, ignores the other optimizers' and refuses any other key. SGD has no default lr, as in PyTorch.
 */
export function createOptimizer(name: OptimizerName, store: ParamStore, o: AnyOptimizerOptions = {}): Optimizer {
  if (!isOptimizerName(name)) throw new RangeError(`unknown optimizer "${name as string}" (have: ${OPTIMIZER_NAMES.join(", ")})`);
  return OPTIMIZERS[name].create(store, o);
}
