// Packed sequences, as torch.nn.utils.rnn: a batch of sequences of different lengths stored
// without padding, time step by time step, longest sequences first.
//
//   padded (T, B, *) or (B, T, *)  --packPaddedSequence-->  PackedSequence  --padPackedSequence-->  padded
//   [seq_0 (L_0, *), seq_1 (L_1, *), ...]  --padSequence-->  padded (max L, B, *)
//
// T = steps (the longest length), B = batch, * = the feature dimensions (F values per step),
// N = sum of the lengths. PackedSequence, PyTorch's layout: `data` (N, *) holds step 0 of every
// sequence, then step 1 of those longer than 1, and so on, each step's rows in the sorted order
// (by decreasing length, ties in batch order: a stable sort, as PyTorch's); `batchSizes` (T) the
// rows of each step; `sortedIndices` (B) the batch row of each sorted position (null when the
// batch came sorted, enforceSorted), `unsortedIndices` (B) its inverse.
// The recurrent layers (nn/recurrent.ts) take a PackedSequence in place of a padded input and
// return their output packed the same way; `{ lengths }` is the same computation on padded buffers.

import { alloc, dtypeOf, type Float } from "../tensor/dtype.js";
import type { Tensor } from "../tensor/tensor.js";

/**
 * A batch of variable-length sequences without padding, as torch.nn.utils.rnn.PackedSequence.
 * `data` (N, *): the steps of all sequences, step 0 of every sequence first, each step's rows in
 * decreasing order of length. `batchSizes` (T): how many sequences have a step t.
 * `sortedIndices` (B): the original batch index of the sequence at each sorted position, and
 * `unsortedIndices` (B) its inverse; both null when the batch was already sorted (enforceSorted).
 */
export interface PackedSequence {
  readonly data: Tensor;
  readonly batchSizes: Int32Array;
  readonly sortedIndices: Int32Array | null;
  readonly unsortedIndices: Int32Array | null;
}

/** Whether `x` is a PackedSequence rather than a tensor. */
export function isPackedSequence(x: unknown): x is PackedSequence {
  return typeof x === "object" && x !== null && "batchSizes" in x && "data" in x;
}

/**
 * Where the rows of a PackedSequence go: for step t, the packed rows offsets[t] .. offsets[t+1]
 * belong to the batch rows `rowAt(i)` for i < batchSizes[t]. `lengths` (B) in batch order.
 * Checks what PyTorch's constructor and pad_packed_sequence check.
 * @internal shared by padPackedSequence and the recurrent layers
 */
export function packedLayout(p: PackedSequence): { T: number; B: number; N: number; F: number; offsets: Int32Array; lengths: Int32Array; order: Int32Array } {
  const bs = p.batchSizes;
  const T = bs.length;
  if (T === 0) throw new RangeError("PackedSequence: batchSizes is empty");
  const B = bs[0];
  const offsets = new Int32Array(T + 1);
  for (let t = 0; t < T; t++) {
    if (!(Number.isInteger(bs[t]) && bs[t] >= 1 && (t === 0 || bs[t] <= bs[t - 1])))
      throw new RangeError(`PackedSequence: batchSizes must be whole numbers >= 1 that never grow, got [${Array.from(bs).join(", ")}]`);
    offsets[t + 1] = offsets[t] + bs[t];
  }
  const N = offsets[T];
  const shape = p.data.shape;
  if (shape.length < 1 || shape[0] !== N) throw new RangeError(`PackedSequence: data has shape [${shape.join(", ")}], but batchSizes add up to ${N} rows`);
  const F = shape.slice(1).reduce((a, b) => a * b, 1);
  if (p.data.data.length !== N * F) throw new RangeError(`PackedSequence: data holds ${p.data.data.length} values, its shape needs ${N * F}`);
  const order = new Int32Array(B);
  if (p.sortedIndices) {
    const s = p.sortedIndices;
    const seen = new Uint8Array(B);
    if (s.length !== B) throw new RangeError(`PackedSequence: sortedIndices has ${s.length} entries for a batch of ${B}`);
    for (let i = 0; i < B; i++) {
      if (!(s[i] >= 0 && s[i] < B) || seen[s[i]]) throw new RangeError(`PackedSequence: sortedIndices is not a permutation of 0..${B - 1}`);
      seen[s[i]] = 1;
      order[i] = s[i];
    }
  } else {
    for (let i = 0; i < B; i++) order[i] = i;
  }
  // the sequence at sorted position i has a step t while i < batchSizes[t]
  const lengths = new Int32Array(B);
  for (let t = 0; t < T; t++) for (let i = 0; i < bs[t]; i++) lengths[order[i]]++;
  return { T, B, N, F, offsets, lengths, order };
}

/** Options of packPaddedSequence. */
export interface PackOptions {
  /** The input is (B, T, *) instead of (T, B, *). Default false. */
  batchFirst?: boolean;
  /** The lengths are already in decreasing order (then sortedIndices is null); otherwise an error. Default true, as PyTorch. */
  enforceSorted?: boolean;
}

/** Checks lengths (B whole numbers in 1..T) and returns them as Int32Array. */
function checkLengths(what: string, lengths: ArrayLike<number>, B: number, T: number): Int32Array {
  if (lengths.length !== B) throw new RangeError(`${what}: lengths has ${lengths.length} entries for a batch of ${B}`);
  const out = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const n = lengths[b];
    if (!(Number.isInteger(n) && n >= 1 && n <= T)) throw new RangeError(`${what}: lengths[${b}] = ${n} is not a whole number in [1, ${T}]`);
    out[b] = n;
  }
  return out;
}

/**
 * Packs a padded batch, as torch.nn.utils.rnn.pack_padded_sequence: input (T, B, *) (or
 * (B, T, *) with batchFirst) and each sequence's length (B whole numbers in 1..T) give a
 * PackedSequence whose data (N, *) is every sequence's steps without the padding.
 * With `enforceSorted` (the default, as PyTorch) the lengths must not increase; otherwise the
 * sequences are sorted by decreasing length (stable) and the permutation kept in sortedIndices.
 * @throws RangeError on a length outside 1..T or unsorted lengths under enforceSorted.
 * @example
 * const p = packPaddedSequence(tensor([1, 4, 2, 5, 3, 0], [3, 2]), [3, 2]); // (T=3, B=2)
 * p.data.data    // => [1, 4, 2, 5, 3]
 * p.batchSizes   // => Int32Array [2, 2, 1]
 */
export function packPaddedSequence(input: Tensor, lengths: ArrayLike<number>, options: PackOptions = {}): PackedSequence {
  const batchFirst = options.batchFirst ?? false;
  const enforceSorted = options.enforceSorted ?? true;
  if (input.shape.length < 2)
    throw new RangeError(`packPaddedSequence: input must be ${batchFirst ? "(B, T, *)" : "(T, B, *)"}, got shape [${input.shape.join(", ")}]`);
  const [d0, d1] = input.shape;
  const T = batchFirst ? d1 : d0;
  const B = batchFirst ? d0 : d1;
  const F = input.shape.slice(2).reduce((a, b) => a * b, 1);
  const lens = checkLengths("packPaddedSequence", lengths, B, T);
  let order: Int32Array;
  let sortedIndices: Int32Array | null = null;
  let unsortedIndices: Int32Array | null = null;
  if (enforceSorted) {
    for (let b = 1; b < B; b++) {
      if (lens[b] > lens[b - 1])
        throw new RangeError(
          `packPaddedSequence: lengths must be in decreasing order with enforceSorted (got [${Array.from(lens).join(", ")}]); pass enforceSorted: false to sort them`,
        );
    }
    order = Int32Array.from({ length: B }, (_, i) => i);
  } else {
    // a stable sort by decreasing length (PyTorch's torch.sort(descending=True) on the CPU)
    order = Int32Array.from(Array.from({ length: B }, (_, i) => i).sort((a, b) => lens[b] - lens[a] || a - b));
    sortedIndices = order;
    unsortedIndices = new Int32Array(B);
    for (let i = 0; i < B; i++) unsortedIndices[order[i]] = i;
  }
  const Tmax = lens[order[0]];
  const batchSizes = new Int32Array(Tmax);
  for (let t = 0; t < Tmax; t++) {
    let n = 0;
    while (n < B && lens[order[n]] > t) n++;
    batchSizes[t] = n;
  }
  const N = lens.reduce((a, b) => a + b, 0);
  const data = alloc(dtypeOf(input.data), N * F);
  let row = 0;
  for (let t = 0; t < Tmax; t++) {
    for (let i = 0; i < batchSizes[t]; i++) {
      const b = order[i];
      const src = (batchFirst ? b * T + t : t * B + b) * F; // seek to step t of sequence b
      data.set(input.data.subarray(src, src + F), row * F);
      row++;
    }
  }
  return { data: { data, shape: [N, ...input.shape.slice(2)] }, batchSizes, sortedIndices, unsortedIndices };
}

/** Options of padPackedSequence. */
export interface PadPackedOptions {
  /** Return (B, T, *) instead of (T, B, *). Default false. */
  batchFirst?: boolean;
  /** The value of the padding. Default 0. */
  paddingValue?: number;
  /** Pad to this many steps (at least the longest length) instead of the longest length. */
  totalLength?: number;
}

/**
 * Unpacks a PackedSequence into a padded batch, as torch.nn.utils.rnn.pad_packed_sequence:
 * output (T, B, *) (or (B, T, *) with batchFirst), T the longest length or `totalLength`, the
 * sequences in their original batch order, `paddingValue` past each one's end; and `lengths`
 * (B), each sequence's length in that order.
 * @example
 * const { output, lengths } = padPackedSequence(packPaddedSequence(x, [3, 1], { batchFirst: true }), { batchFirst: true });
 * // output: x with the padding set to 0; lengths => Int32Array [3, 1]
 */
export function padPackedSequence(packed: PackedSequence, options: PadPackedOptions = {}): { output: Tensor; lengths: Int32Array } {
  const batchFirst = options.batchFirst ?? false;
  const pad = options.paddingValue ?? 0;
  const { T: Tmax, B, F, offsets, lengths, order } = packedLayout(packed);
  const T = options.totalLength ?? Tmax;
  if (!(Number.isInteger(T) && T >= Tmax))
    throw new RangeError(`padPackedSequence: totalLength must be a whole number at least the longest length ${Tmax}, got ${options.totalLength}`);
  const src = packed.data.data;
  const out = alloc(dtypeOf(src), T * B * F);
  if (pad !== 0) out.fill(pad);
  for (let t = 0; t < Tmax; t++) {
    for (let i = 0; i < packed.batchSizes[t]; i++) {
      const b = order[i];
      const dst = (batchFirst ? b * T + t : t * B + b) * F;
      const from = (offsets[t] + i) * F;
      out.set(src.subarray(from, from + F), dst);
    }
  }
  const feat = packed.data.shape.slice(1);
  return { output: { data: out, shape: batchFirst ? [B, T, ...feat] : [T, B, ...feat] }, lengths };
}

/** Options of padSequence. */
export interface PadSequenceOptions {
  /** Return (B, T, *) instead of (T, B, *). Default false. */
  batchFirst?: boolean;
  /** The value of the padding. Default 0. */
  paddingValue?: number;
}

/**
 * Stacks sequences of different lengths into one padded tensor, as
 * torch.nn.utils.rnn.pad_sequence: sequences (L_b, *) (the same * for all) give (T, B, *) (or
 * (B, T, *) with batchFirst), T = max L_b, padded with `paddingValue` after each one's end.
 * @example
 * padSequence([tensor([1, 2, 3], [3]), tensor([4], [1])]).data // => [1, 4, 2, 0, 3, 0] (T=3, B=2)
 */
export function padSequence(sequences: readonly Tensor[], options: PadSequenceOptions = {}): Tensor {
  const batchFirst = options.batchFirst ?? false;
  const pad = options.paddingValue ?? 0;
  if (sequences.length === 0) throw new RangeError("padSequence: no sequences");
  const feat = sequences[0].shape.slice(1);
  const F = feat.reduce((a, b) => a * b, 1);
  sequences.forEach((s, b) => {
    if (s.shape.length < 1 || s.shape.slice(1).join() !== feat.join())
      throw new RangeError(`padSequence: sequence ${b} has shape [${s.shape.join(", ")}], expected [L, ${feat.join(", ")}] like sequence 0`);
    if (s.data.length !== s.shape[0] * F) throw new RangeError(`padSequence: sequence ${b} holds ${s.data.length} values for shape [${s.shape.join(", ")}]`);
  });
  const B = sequences.length;
  const T = Math.max(...sequences.map((s) => s.shape[0]));
  const out: Float = alloc(dtypeOf(sequences[0].data), T * B * F);
  if (pad !== 0) out.fill(pad);
  sequences.forEach((s, b) => {
    for (let t = 0; t < s.shape[0]; t++) out.set(s.data.subarray(t * F, (t + 1) * F), (batchFirst ? b * T + t : t * B + b) * F);
  });
  return { data: out, shape: batchFirst ? [B, T, ...feat] : [T, B, ...feat] };
}

/**
 * Packs a list of sequences (L_b, *), as torch.nn.utils.rnn.pack_sequence: padSequence then
 * packPaddedSequence with their lengths.
 * @example
 * packSequence([tensor([1, 2, 3], [3]), tensor([4], [1])]).data.data // => [1, 4, 2, 3]
 */
export function packSequence(sequences: readonly Tensor[], options: { enforceSorted?: boolean } = {}): PackedSequence {
  const padded = padSequence(sequences);
  return packPaddedSequence(
    padded,
    sequences.map((s) => s.shape[0]),
    { enforceSorted: options.enforceSorted ?? true },
  );
}
