// char-rnn style batching: the token stream is cut into B contiguous streams, and consecutive
// batches continue each stream, so truncated BPTT can carry the state from one batch to the next.
// A batch is (T, B) inputs and the (T, B) targets one token later, time-major.

import type { TokenArray } from "./corpus.js";

/** One batch of a StreamBatcher. The buffers are reused by the next call. */
export interface StreamBatch {
  /** (T, B) token ids. */
  inputs: Int32Array;
  /** (T, B) the next token of each input. */
  targets: Int32Array;
  /** Steps in this batch. */
  T: number;
  /** True for the first batch of a pass over the data: the carried state should be reset. */
  first: boolean;
}

/**
 * Consecutive (T, B) windows of B parallel streams over `tokens`. Stream b covers tokens
 * [b·S, (b+1)·S] with S = floor((n - 1) / B); a pass yields floor(S / T) windows and then starts over.
 * @example
 * const batches = new StreamBatcher(ids, 32, 64);
 * const { inputs, targets, first } = batches.next(); // inputs[t*B + b] = ids[b*S + t]
 */
export class StreamBatcher {
  readonly S: number;
  readonly windowsPerPass: number;
  /** Windows handed out so far. */
  position = 0;
  private readonly inputs: Int32Array;
  private readonly targets: Int32Array;

  constructor(
    readonly tokens: TokenArray,
    readonly B: number,
    readonly T: number,
  ) {
    if (!Number.isInteger(B) || B < 1) throw new RangeError(`batch must be a whole number >= 1, got ${B}`);
    if (!Number.isInteger(T) || T < 1) throw new RangeError(`steps per window must be a whole number >= 1, got ${T}`);
    this.S = Math.floor((tokens.length - 1) / B);
    this.windowsPerPass = Math.floor(this.S / T);
    if (this.windowsPerPass < 1) {
      throw new RangeError(`${tokens.length} tokens are too few for ${B} streams of ${T}-step windows (need at least ${B * T + 1})`);
    }
    this.inputs = new Int32Array(T * B);
    this.targets = new Int32Array(T * B);
  }

  /** Passes over the data completed so far. */
  get epoch(): number {
    return Math.floor(this.position / this.windowsPerPass);
  }

  /** The next window. */
  next(): StreamBatch {
    const { B, T, S, tokens } = this;
    const w = this.position % this.windowsPerPass;
    this.position++;
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const i = b * S + w * T + t;
        this.inputs[t * B + b] = tokens[i];
        this.targets[t * B + b] = tokens[i + 1];
      }
    }
    return { inputs: this.inputs, targets: this.targets, T, first: w === 0 };
  }
}

/**
 * A fixed (T, B) batch for probing a model (diagnostics): B windows of T steps spread evenly over
 * `tokens`, row b starting at b·floor((n - T - 1) / max(1, B - 1)), inputs and next-token targets.
 */
export function probeBatch(tokens: TokenArray, B: number, T: number): { inputs: Int32Array; targets: Int32Array } {
  if (tokens.length < T + 1) throw new RangeError(`probeBatch: ${tokens.length} tokens are too few for ${T}-step windows (need ${T + 1})`);
  const span = tokens.length - T - 1;
  const inputs = new Int32Array(T * B);
  const targets = new Int32Array(T * B);
  for (let b = 0; b < B; b++) {
    const start = B > 1 ? Math.floor((b * span) / (B - 1)) : 0;
    for (let t = 0; t < T; t++) {
      inputs[t * B + b] = tokens[start + t];
      targets[t * B + b] = tokens[start + t + 1];
    }
  }
  return { inputs, targets };
}
