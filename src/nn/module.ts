// What every layer's constructor accepts: where its parameters live and what they are called.
// A layer given a `store` declares its parameters there (a model builds one store for all its
// layers); a layer given none makes a store of its own, so `new RNN({...})` works alone.

import type { DType } from "../tensor/dtype.js";
import type { Kernels } from "../tensor/kernels.js";
import { ParamStore } from "./params.js";

/** Options shared by every layer. */
export interface ModuleOptions {
  /** The store to declare parameters in. Default: a new store of the layer's own. */
  store?: ParamStore;
  /** Prefix of the parameter names, e.g. `"rnn"` gives `"rnn.weight_ih_l0"`. Default: none. */
  prefix?: string;
  /** Element type when the layer makes its own store. Default `"float32"`. */
  dtype?: DType;
  /** Initialisation seed when the layer makes its own store. Default 0. */
  seed?: number;
  /** Kernel set when the layer makes its own store (a given store brings its own). Default: the store's default. */
  kernels?: Kernels;
}

/** Resolves a layer's store, naming function and kernels (the store's) from its options. */
export function moduleContext(o: ModuleOptions): { store: ParamStore; name: (s: string) => string; k: Kernels } {
  if (o.store && o.dtype !== undefined && o.dtype !== o.store.dtype) {
    throw new Error(`dtype "${o.dtype}" differs from the store's "${o.store.dtype}"`);
  }
  if (o.store && o.kernels && o.kernels !== o.store.kernels) {
    throw new Error(`kernels "${o.kernels.name}" differ from the store's "${o.store.kernels.name}": a model computes with one kernel set`);
  }
  const store = o.store ?? new ParamStore({ dtype: o.dtype, seed: o.seed, kernels: o.kernels });
  const prefix = o.prefix ? `${o.prefix}.` : "";
  return { store, name: (s) => prefix + s, k: store.kernels };
}

/** Throws a RangeError unless `n` is a whole number >= `min`. */
export function checkSize(what: string, n: number, min = 1): void {
  if (!Number.isInteger(n) || n < min) throw new RangeError(`${what} must be a whole number >= ${min}, got ${n}`);
}
