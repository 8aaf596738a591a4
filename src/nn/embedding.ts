// Embedding: a lookup table, out[n] = weight[ids[n]], as torch.nn.Embedding.
// N = positions, V = num_embeddings (vocabulary), D = embedding_dim. weight (V, D).
// Backward: dweight[ids[n]] += dout[n] (a row used twice gets the sum); ids have no gradient.

import type { Float, Ids } from "../tensor/dtype.js";
import type { Kernels } from "../tensor/kernels.js";
import { checkOptions, checkSize, MODULE_OPTION_KEYS, moduleContext, type ModuleOptions } from "./module.js";
import { normalInit, type Initializer, type Parameter, type ParamStore } from "./params.js";

/** Throws a RangeError naming the first id outside [0, V). */
export function checkIds(what: string, ids: Ids, off: number, N: number, V: number, ignoreIndex?: number): void {
  for (let n = 0; n < N; n++) {
    const id = ids[off + n];
    if (id === ignoreIndex) continue;
    if (!(id >= 0 && id < V)) throw new RangeError(`${what}: id ${id} at position ${n} is outside [0, ${V})`);
  }
}

/** out (N, D) = rows of weight (V, D) picked by ids (N). Overwrites out. */
export function embeddingForward(out: Float, outOff: number, ids: Ids, idsOff: number, weight: Float, N: number, D: number, k: Kernels): void {
  k.gatherRows(out, outOff, weight, ids, idsOff, N, D);
}

/** dweight (V, D) += dout (N, D) scattered to the rows ids (N) picked. */
export function embeddingBackward(dweight: Float, dout: Float, doutOff: number, ids: Ids, idsOff: number, N: number, D: number, k: Kernels): void {
  k.scatterAddRows(dweight, dout, doutOff, ids, idsOff, N, D);
}

/** Options of an Embedding. */
export interface EmbeddingOptions extends ModuleOptions {
  /** Initialiser of the weight. Default: standard normal, as PyTorch. */
  weightInit?: Initializer;
}

const EMBEDDING_OPTION_KEYS: readonly string[] = [...MODULE_OPTION_KEYS, "weightInit"];

/**
 * A lookup table of V vectors of size D, with PyTorch's name `weight` (V, D) and its default
 * initialisation (standard normal).
 * @example
 * const emb = new Embedding(10, 4, { seed: 1 });
 * const out = new Float32Array(2 * 4);
 * emb.forward(out, Int32Array.from([3, 7]), 2); // out = [weight[3], weight[7]]
 */
export class Embedding {
  readonly weight: Parameter;
  readonly store: ParamStore;
  private readonly k: Kernels;

  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    options: EmbeddingOptions = {},
  ) {
    checkOptions("Embedding", options, EMBEDDING_OPTION_KEYS);
    checkSize("Embedding: numEmbeddings", numEmbeddings);
    checkSize("Embedding: embeddingDim", embeddingDim);
    const { store, name, k } = moduleContext(options);
    this.store = store;
    this.k = k;
    this.weight = store.declare(name("weight"), [numEmbeddings, embeddingDim], options.weightInit ?? normalInit(1));
  }

  /** out (N, D) = weight[ids]. Throws a RangeError on an id outside [0, V). */
  forward(out: Float, ids: Ids, N: number, outOff = 0, idsOff = 0): void {
    checkIds("Embedding", ids, idsOff, N, this.numEmbeddings);
    embeddingForward(out, outOff, ids, idsOff, this.weight.value, N, this.embeddingDim, this.k);
  }

  /** weight.grad[ids[n]] += dout[n]. */
  backward(dout: Float, ids: Ids, N: number, doutOff = 0, idsOff = 0): void {
    embeddingBackward(this.weight.grad, dout, doutOff, ids, idsOff, N, this.embeddingDim, this.k);
  }
}
