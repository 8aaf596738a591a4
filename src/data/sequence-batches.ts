// Batches of whole sequences of different lengths, for sequence classification: padding into one
// time-major buffer with each row's length (what PyTorch's pad_sequence plus a lengths tensor
// give, ready for pack_padded_sequence), and a bucketing batcher that puts sequences of similar
// length together so that little of a batch is padding, in a seeded random order.
//
// T = the longest sequence of a batch, B = sequences in the batch, F = values per step
// (1 for token ids). Layouts are PyTorch's default, time-major: x (T, B) or (T, B, F).

import { Rng } from "../tensor/rng.js";

/** PyTorch's ignore_index: a label that is not counted (the loss's; nn/softmax-xent.ts has the same constant). */
const IGNORE_INDEX = -100;

/** Options of padBatch. */
export interface PadBatchOptions {
  /** The value past each sequence's end. Default 0. */
  paddingValue?: number;
  /** F: values per step of float sequences (each sequence holds L_b * F values). Default 1. */
  features?: number;
}

/** A padded batch: x (T, B) or (T, B, F), each row's length, and the sizes. */
export interface PaddedBatch<A extends Int32Array | Float32Array | Float64Array = Int32Array | Float32Array | Float64Array> {
  x: A;
  T: number;
  B: number;
  /** (B) each sequence's length, in 1..T. */
  lengths: Int32Array;
}

/**
 * Stacks sequences of different lengths into one time-major buffer, as
 * torch.nn.utils.rnn.pad_sequence (batch_first=False) with the lengths beside it:
 * x[t, b] = sequences[b][t] for t < L_b, else `paddingValue`; T = max L_b.
 * Token ids (plain arrays or Int32Array) give an Int32Array (T, B); Float32Array or Float64Array
 * sequences of L_b * F values give the same type, (T, B, F). Every sequence needs at least one step.
 * @throws RangeError on an empty list, an empty sequence, a length not a multiple of F, or ids that are not whole numbers.
 * @example
 * const { x, T, B, lengths } = padBatch([[5, 6, 7], [8]]);
 * // x => Int32Array [5, 8, 6, 0, 7, 0] (T = 3, B = 2), lengths => Int32Array [3, 1]
 */
export function padBatch(sequences: readonly Float32Array[], options?: PadBatchOptions): PaddedBatch<Float32Array>;
export function padBatch(sequences: readonly Float64Array[], options?: PadBatchOptions): PaddedBatch<Float64Array>;
export function padBatch(sequences: readonly ArrayLike<number>[], options?: PadBatchOptions): PaddedBatch<Int32Array>;
export function padBatch(sequences: readonly ArrayLike<number>[], options: PadBatchOptions = {}): PaddedBatch {
  for (const k of Object.keys(options))
    if (k !== "paddingValue" && k !== "features") throw new RangeError(`padBatch: unknown option "${k}" (known options: paddingValue, features)`);
  const B = sequences.length;
  if (B === 0) throw new RangeError("padBatch: no sequences");
  const first = sequences[0];
  const float = first instanceof Float32Array || first instanceof Float64Array;
  const F = options.features ?? 1;
  if (!(Number.isInteger(F) && F >= 1)) throw new RangeError(`padBatch: features must be a whole number >= 1, got ${F}`);
  if (!float && F !== 1) throw new RangeError("padBatch: features is for float sequences (Float32Array or Float64Array); token ids have one per step");
  const pad = options.paddingValue ?? 0;
  if (!float && !Number.isInteger(pad)) throw new RangeError(`padBatch: the padding of token ids must be a whole number, got ${pad}`);
  const lengths = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const s = sequences[b];
    if (float && s.constructor !== first.constructor)
      throw new RangeError(`padBatch: sequence ${b} is a ${s.constructor.name}, sequence 0 a ${first.constructor.name}`);
    if (s.length === 0) throw new RangeError(`padBatch: sequence ${b} is empty; every sequence needs at least one step`);
    if (s.length % F !== 0) throw new RangeError(`padBatch: sequence ${b} has ${s.length} values, not a multiple of ${F} features`);
    lengths[b] = s.length / F;
  }
  let T = 0;
  for (const n of lengths) T = Math.max(T, n);
  const x = float ? new (first.constructor as Float32ArrayConstructor | Float64ArrayConstructor)(T * B * F) : new Int32Array(T * B);
  if (pad !== 0) x.fill(pad);
  for (let b = 0; b < B; b++) {
    const s = sequences[b];
    for (let t = 0; t < lengths[b]; t++) {
      for (let f = 0; f < F; f++) {
        const v = s[t * F + f];
        if (!float && !Number.isInteger(v)) throw new RangeError(`padBatch: sequence ${b} has ${v} at step ${t}; token ids are whole numbers`);
        x[(t * B + b) * F + f] = v;
      }
    }
  }
  return { x, T, B, lengths };
}

/** Options of a BucketBatcher. */
export interface BucketBatcherOptions {
  /** Sequences per batch (the last batch of an epoch may have fewer). */
  batchSize: number;
  /** Seed of the order (the same seed gives the same batches). Default 0. */
  seed?: number;
  /**
   * Sequences per bucket, in batches: sequences are sorted by length within random windows of
   * `bucketBatches * batchSize` of them, then cut into batches, so a batch holds sequences of
   * similar length but the epoch's order stays random. Default 50. 1 sorts nothing.
   */
  bucketBatches?: number;
  /** Padding value of the inputs. Default 0. */
  paddingValue?: number;
}

/** A batch of a BucketBatcher: padded inputs, labels, and which sequences they are. */
export interface LabelledBatch extends PaddedBatch<Int32Array> {
  /** (B) one label per sequence, or (T, B) per step, IGNORE_INDEX (-100) past each sequence's end. */
  labels: Int32Array;
  /** (B) the index of each row's sequence in the batcher's list. */
  indices: Int32Array;
}

/**
 * Batches of token-id sequences with their labels, bucketed by length: every epoch shuffles the
 * sequences with a seeded Rng, sorts each window of `bucketBatches * batchSize` of them by length,
 * cuts the windows into batches and shuffles the batches. Labels are one per sequence (numbers),
 * or one per step (arrays as long as their sequence), padded with IGNORE_INDEX (-100).
 * @example
 * const batcher = new BucketBatcher(sequences, labels, { batchSize: 32, seed: 1 });
 * for (const batch of batcher.epoch()) trainer.step(batch); // batch: { x (T, B), T, B, lengths, labels, indices }
 */
export class BucketBatcher {
  /** Epochs drawn so far. */
  epochs = 0;
  private readonly rng: Rng;
  private readonly batchSize: number;
  private readonly window: number;
  private readonly pad: number;
  private readonly perStep: boolean;

  constructor(
    readonly sequences: readonly ArrayLike<number>[],
    readonly labels: readonly number[] | readonly ArrayLike<number>[],
    options: BucketBatcherOptions,
  ) {
    for (const k of Object.keys(options))
      if (!["batchSize", "seed", "bucketBatches", "paddingValue"].includes(k))
        throw new RangeError(`BucketBatcher: unknown option "${k}" (known options: batchSize, seed, bucketBatches, paddingValue)`);
    const { batchSize, bucketBatches = 50 } = options;
    if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new RangeError(`BucketBatcher: batchSize must be a whole number >= 1, got ${batchSize}`);
    if (!(Number.isInteger(bucketBatches) && bucketBatches >= 1))
      throw new RangeError(`BucketBatcher: bucketBatches must be a whole number >= 1, got ${bucketBatches}`);
    if (sequences.length === 0) throw new RangeError("BucketBatcher: no sequences");
    if (labels.length !== sequences.length) throw new RangeError(`BucketBatcher: ${sequences.length} sequences but ${labels.length} labels`);
    this.perStep = typeof labels[0] !== "number";
    sequences.forEach((s, i) => {
      if (s.length === 0) throw new RangeError(`BucketBatcher: sequence ${i} is empty`);
      const y = labels[i];
      if (this.perStep ? typeof y === "number" || (y as ArrayLike<number>).length !== s.length : typeof y !== "number")
        throw new RangeError(
          `BucketBatcher: label ${i} must be ${this.perStep ? `a list of ${s.length} labels, one per step` : "a number, as label 0 is"} (labels are all per sequence or all per step)`,
        );
    });
    this.rng = new Rng(options.seed ?? 0);
    this.batchSize = batchSize;
    this.window = bucketBatches * batchSize;
    this.pad = options.paddingValue ?? 0;
  }

  /** Batches in one epoch. */
  get batchesPerEpoch(): number {
    let n = 0;
    for (let w = 0; w < this.sequences.length; w += this.window) n += Math.ceil(Math.min(this.window, this.sequences.length - w) / this.batchSize);
    return n;
  }

  /** The next epoch's batches: every sequence once, in a new random order. */
  epoch(): LabelledBatch[] {
    const n = this.sequences.length;
    const order = shuffled(n, this.rng);
    const groups: Int32Array[] = [];
    for (let w = 0; w < n; w += this.window) {
      const win = order.slice(w, Math.min(n, w + this.window));
      win.sort((a, b) => this.sequences[a].length - this.sequences[b].length || a - b); // by length; ties keep the drawn order's index
      for (let i = 0; i < win.length; i += this.batchSize) groups.push(win.slice(i, Math.min(win.length, i + this.batchSize)));
    }
    const batches = shuffled(groups.length, this.rng);
    this.epochs++;
    return Array.from(batches, (g) => this.batchOf(groups[g]));
  }

  /** The padded batch of the sequences `indices`, in that order. */
  batchOf(indices: ArrayLike<number>): LabelledBatch {
    const idx = Int32Array.from(indices);
    const p = padBatch(
      Array.from(idx, (i) => this.sequences[i]),
      { paddingValue: this.pad },
    );
    const { T, B } = p;
    let labels: Int32Array;
    if (this.perStep) {
      labels = new Int32Array(T * B).fill(IGNORE_INDEX);
      for (let b = 0; b < B; b++) {
        const y = this.labels[idx[b]] as ArrayLike<number>;
        for (let t = 0; t < y.length; t++) labels[t * B + b] = y[t];
      }
    } else {
      labels = Int32Array.from(idx, (i) => this.labels[i] as number);
    }
    return { ...p, labels, indices: idx };
  }
}

/** 0..n-1 in a random order (Fisher-Yates with `rng`). */
export function shuffled(n: number, rng: Rng): Int32Array {
  const a = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}
