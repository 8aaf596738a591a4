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

/** The option keys every layer's constructor accepts (the fields of {@link ModuleOptions}). */
export const MODULE_OPTION_KEYS: readonly string[] = ["store", "prefix", "dtype", "seed", "kernels"];

/**
 * Refuses an options object with a key the constructor does not know, instead of ignoring it
 * (a misspelt `hidenSize` or PyTorch's `batch_first` for `batchFirst` would otherwise change
 * nothing, silently). Keys whose value is `undefined` are checked too: a caller that spells a
 * key wrong gets told even when the value it passes happens to be undefined.
 *
 * @param what The constructor's name for the message, e.g. `"LSTM"` or `"Adam"`.
 * @param options The options object as given (not checked if null or undefined).
 * @param known Every key the constructor accepts (include {@link MODULE_OPTION_KEYS} for a layer).
 * @throws RangeError `LSTM: unknown option "batch_first" (known options: inputSize, hiddenSize, ...)`.
 */
export function checkOptions(what: string, options: object, known: readonly string[]): void {
  if (options === null || options === undefined) return;
  const allowed = new Set(known);
  for (const key of Object.keys(options)) {
    if (!allowed.has(key)) {
      throw new RangeError(`${what}: unknown option "${key}" (known options: ${known.join(", ")})`);
    }
  }
}
