// Validation loss of a language model on a token stream, with the layout training uses: B
// parallel streams read window after window, the state carried from one window to the next
// (the same procedure as char-rnn and rnnlab's PyTorch reference script).

import type { TokenArray } from "../data/corpus.js";
import type { Ids } from "../tensor/dtype.js";
import type { SequenceModel } from "./tbptt.js";

/** What evaluation needs of a model: a LanguageModel, or a DataParallelLM over one. */
export type EvalModel = Pick<SequenceModel<Ids, Ids>, "forward" | "stateAt" | "createState">;

/** Options of evaluateLoss. */
export interface EvaluateOptions {
  /** Also score each stream's last, shorter window (every token but the last B-1 counts). Default false. */
  partial?: boolean;
  /** Stop after about this many scored tokens (whole windows). Default: all. */
  maxTokens?: number;
}

/**
 * Mean cross-entropy in nats per token of predicting tokens[i+1] from tokens[..i], over B
 * streams of S = floor((n - 1) / B) tokens each, in windows of T steps.
 * Returns the loss and the number of tokens scored.
 */
export function evaluateLoss(model: EvalModel, tokens: TokenArray, B: number, T: number, o: EvaluateOptions = {}): { loss: number; count: number } {
  const S = Math.floor((tokens.length - 1) / B);
  if (S < 1) throw new RangeError(`evaluate: ${tokens.length} tokens are too few for ${B} streams`);
  if (!(Number.isSafeInteger(T) && T >= 1)) throw new RangeError(`evaluate: steps per window must be a whole number >= 1, got ${T}`);
  T = Math.min(T, o.partial ? S : T); // a window longer than the streams would only be partial: no larger buffers than the text needs
  const inputs = new Int32Array(T * B);
  const targets = new Int32Array(T * B);
  const state = model.createState(B);
  let sum = 0;
  let count = 0;
  for (let off = 0; off < S; off += T) {
    const Tw = Math.min(T, S - off);
    if (Tw < T && !o.partial) break;
    for (let t = 0; t < Tw; t++) {
      for (let b = 0; b < B; b++) {
        const i = b * S + off + t;
        inputs[t * B + b] = tokens[i];
        targets[t * B + b] = tokens[i + 1];
      }
    }
    const loss = model.forward(inputs, targets, Tw, B, state, 0);
    model.stateAt(Tw, state);
    sum += loss * Tw * B;
    count += Tw * B;
    if (o.maxTokens !== undefined && count >= o.maxTokens) break;
  }
  if (count === 0) throw new RangeError(`evaluate: ${tokens.length} tokens are too few for one window of ${B} x ${T}`);
  return { loss: sum / count, count };
}
