// Parameters: every weight of a model lives in one flat buffer of values and a twin buffer of
// gradients, with a named view per parameter (llm.c's malloc_and_point_parameters). Optimizers,
// clipping, norms and checkpoints are then loops over two arrays.
//
// Two phases: layers *declare* their parameters (name, shape, initialiser) on a ParamStore; the
// store *allocates* once, on first use, runs the initialisers in declaration order with its own
// seeded Rng, and points every Parameter's `value`/`grad` into the flat buffers.
// A tied weight is one Parameter held by two layers; it is declared and stored once.

import { alloc, type DType, type Float } from "../tensor/dtype.js";
import type { Kernels } from "../tensor/kernels.js";
import { defaultKernels } from "../tensor/select.js";
import { Rng } from "../tensor/rng.js";
import { numel } from "../tensor/tensor.js";
// module.ts imports this file too; checkOptions is a function declaration, bound before either runs
import { checkOptions } from "./module.js";

/** Fills a parameter's values at allocation time. */
export type Initializer = (value: Float, rng: Rng) => void;

/** One named weight: a view into the store's flat values and its twin in the flat gradients. */
export class Parameter {
  /** Position of this parameter's first element in the store's flat buffers. */
  offset = -1;
  private _value: Float | null = null;
  private _grad: Float | null = null;

  constructor(
    readonly store: ParamStore,
    /** PyTorch's state_dict name, e.g. `"rnn.weight_hh_l0"`. */
    readonly name: string,
    readonly shape: readonly number[],
    readonly init: Initializer,
  ) {}

  /** Number of elements. */
  get size(): number {
    return numel(this.shape);
  }

  /** The values, a view into `store.values` (allocates the store on first access). */
  get value(): Float {
    if (this._value === null) this.store.allocate();
    return this._value!;
  }

  /** The gradient, a view into `store.grads`; backward passes accumulate (`+=`) into it. */
  get grad(): Float {
    if (this._grad === null) this.store.allocate();
    return this._grad!;
  }

  /** @internal called by ParamStore.allocate */
  bind(offset: number, values: Float, grads: Float): void {
    this.offset = offset;
    this._value = values.subarray(offset, offset + this.size);
    this._grad = grads.subarray(offset, offset + this.size);
  }
}

/** Every key of ParamStoreOptions (an unknown key is refused). */
export const PARAM_STORE_OPTION_KEYS: readonly string[] = ["dtype", "seed", "kernels"];

/** Options of a ParamStore. */
export interface ParamStoreOptions {
  /** Element type of values and gradients. Default `"float32"`. */
  dtype?: DType;
  /** Seed of the Rng that runs the initialisers. Default 0. */
  seed?: number;
  /**
   * The kernels every layer, optimizer and trainer of this model computes with, and where its
   * float32 buffers live. Default: `defaultKernels()`, resolved once, here.
   */
  kernels?: Kernels;
}

/**
 * The flat store of a model's parameters and gradients, and the model's kernel set: everything
 * that computes on the model (its layers, the optimizer, clipping, the trainer) takes its kernels
 * from here, so a model built on one set never runs on another.
 */
export class ParamStore {
  readonly dtype: DType;
  readonly kernels: Kernels;
  /** The Rng used by the initialisers, in declaration order. */
  readonly rng: Rng;
  /** All parameters in declaration order (a tied weight appears once). */
  readonly params: Parameter[] = [];
  private byName = new Map<string, Parameter>();
  private _values: Float | null = null;
  private _grads: Float | null = null;

  constructor(options: ParamStoreOptions = {}) {
    checkOptions("ParamStore", options, PARAM_STORE_OPTION_KEYS);
    this.dtype = options.dtype ?? "float32";
    this.rng = new Rng(options.seed ?? 0);
    this.kernels = options.kernels ?? defaultKernels();
  }

  /** A zeroed buffer of n elements of the store's dtype, where its kernels read it (for a layer's activations). */
  alloc(n: number): Float {
    return alloc(this.dtype, n, this.kernels.f32);
  }

  /** Declares a parameter; only before the store is allocated. */
  declare(name: string, shape: readonly number[], init: Initializer): Parameter {
    if (this._values !== null) throw new Error(`ParamStore: cannot declare "${name}" after the store was allocated`);
    if (this.byName.has(name)) throw new Error(`ParamStore: parameter "${name}" is declared twice`);
    if (shape.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new RangeError(`ParamStore: parameter "${name}" has an impossible shape [${shape.join(", ")}]`);
    }
    const p = new Parameter(this, name, shape, init);
    this.params.push(p);
    this.byName.set(name, p);
    return p;
  }

  /**
   * Allocates the flat buffers and runs every initialiser once. Idempotent. With `external`,
   * uses the given buffers instead (each `size` long) and runs no initialiser: another model's
   * values, shared (a thread's shard of a data-parallel model), and gradients of its own.
   */
  allocate(external?: { values: Float; grads: Float }): void {
    if (this._values !== null) {
      if (external) throw new Error("ParamStore: already allocated");
      return;
    }
    let n = 0;
    for (const p of this.params) n += p.size;
    if (external && (external.values.length !== n || external.grads.length !== n)) {
      throw new RangeError(`ParamStore: external buffers must hold ${n} values`);
    }
    const values = external?.values ?? this.alloc(n);
    const grads = external?.grads ?? this.alloc(n);
    let offset = 0;
    for (const p of this.params) {
      p.bind(offset, values, grads);
      offset += p.size;
    }
    this._values = values;
    this._grads = grads;
    if (!external) for (const p of this.params) p.init(p.value, this.rng);
  }

  /** All values, flat, in declaration order. */
  get values(): Float {
    this.allocate();
    return this._values!;
  }

  /** All gradients, flat, the twin of `values`. */
  get grads(): Float {
    this.allocate();
    return this._grads!;
  }

  /** Total number of scalar parameters. */
  get size(): number {
    let n = 0;
    for (const p of this.params) n += p.size;
    return n;
  }

  /** The parameter called `name` (PyTorch's state_dict name). */
  get(name: string): Parameter {
    const p = this.byName.get(name);
    if (!p) throw new Error(`ParamStore: no parameter "${name}" (have: ${[...this.byName.keys()].join(", ")})`);
    return p;
  }

  /** Whether a parameter called `name` exists. */
  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** Sets every gradient to 0 (mutates `grads`). Call once per step: backward passes accumulate. */
  zeroGrad(): void {
    this.grads.fill(0);
  }
}

// ---------------------------------------------------------------------------------------------
// initialisers

/** Uniform on [-bound, bound): PyTorch's default for recurrent layers (bound = 1/sqrt(H)) and Linear (1/sqrt(fan_in)). */
export function uniformInit(bound: number): Initializer {
  return (v, rng) => {
    for (let i = 0; i < v.length; i++) v[i] = rng.uniformRange(-bound, bound);
  };
}

/** Normal with mean 0 and standard deviation `std`: PyTorch's default for Embedding (std 1). */
export function normalInit(std = 1): Initializer {
  return (v, rng) => {
    for (let i = 0; i < v.length; i++) v[i] = std * rng.normal();
  };
}

/** All zeros. */
export const zerosInit: Initializer = (v) => {
  v.fill(0);
};
