// Which earlier tokens a language model's next prediction rests on ("Jane said hi to __"): two
// measures per input token, side by side,
//   gradient   ‖∂ log p(target | x_1..x_T) / ∂ x_t‖₂, the L2 norm of the gradient of the target's
//              log-probability with respect to the embedded input of step t, from the model's own
//              backward through time (LanguageModel.logProbGradient);
//   occlusion  log p(target | text) - log p(target | text with token t replaced by a fixed token):
//              how much the prediction loses when that token is gone (negative: the token hurt it).
// The occluded texts run as one batch: column t is the text with token t replaced, and one more
// column the text itself (the baseline, whose softmax also gives the top-k next tokens).
//
// T = tokens of the text, E = embedding size, V = vocabulary, B = columns per batch.

import type { Float, Ids } from "../tensor/dtype.js";
import { BatchRunner, type ContextModel, rowLoss } from "./context.js";

/** What the saliency probe needs of a language model: the context probe's, plus the gradient of a log-probability. */
export interface SaliencyModel extends ContextModel {
  /** The model's shape: V and E are read. */
  readonly options: { readonly vocabSize: number; readonly embedSize: number };
  /**
   * log p(target | inputs) after T inputs (batch 1, from the zero state, no dropout), with
   * ∂ log p / ∂ x_t (the embedded inputs) written into `into` (T, E).
   */
  logProbGradient(inputs: Ids, T: number, target: number, into: Float): number;
}

/** Options of saliency. */
export interface SaliencyOptions {
  /** The token whose log-probability is explained. Default: the likeliest next token. */
  target?: number;
  /** The token that stands in for each input token in the occlusion. */
  replacement: number;
  /** Next tokens listed with their probabilities. Default 10. */
  topK?: number;
  /** Occluded texts per batch. Default 64. */
  rows?: number;
}

/** What saliency measured, per input token and for the prediction after the text. */
export interface SaliencyResult {
  /** The text's token ids. */
  inputs: number[];
  /** The explained token. */
  target: number;
  /** log p(target | text). */
  logProb: number;
  /** The likeliest next tokens, most probable first. */
  top: { token: number; prob: number }[];
  /** Per input token: ‖∂ log p(target) / ∂ x_t‖₂. */
  gradient: number[];
  /** Per input token: log p(target | text) - log p(target | text with that token replaced). */
  occlusion: number[];
  /** The replacement token of the occlusion. */
  replacement: number;
}

/**
 * How much each token of `inputs` matters for the model's prediction of `target` after them, by
 * the gradient norm and by occlusion (see the file's header); and the top-k next tokens. The
 * model is put in evaluation mode (and back in training mode after, if it was and can be).
 * @example
 * const ids = vocab.encode("Jane walked into the room. John walked in too. Jane said hi to");
 * const s = saliency(lm, ids, { replacement: vocab.encode(" ")[0] });
 * s.top[0]     // the likeliest next token and its probability
 * s.occlusion  // per character: how much log p(next) drops without it
 */
export function saliency(model: SaliencyModel, inputs: Ids, options: SaliencyOptions): SaliencyResult {
  const { vocabSize: V, embedSize: E } = model.options;
  const T = inputs.length;
  if (T < 1) throw new RangeError("saliency: the text has no tokens");
  for (let t = 0; t < T; t++) {
    if (!(inputs[t] >= 0 && inputs[t] < V)) throw new RangeError(`saliency: token ${inputs[t]} at ${t} is outside [0, ${V})`);
  }
  const { replacement } = options;
  if (!(Number.isInteger(replacement) && replacement >= 0 && replacement < V))
    throw new RangeError(`saliency: replacement ${replacement} is outside [0, ${V})`);
  if (options.target !== undefined && !(Number.isInteger(options.target) && options.target >= 0 && options.target < V))
    throw new RangeError(`saliency: target ${options.target} is outside [0, ${V})`);
  const topK = Math.min(V, Math.max(1, options.topK ?? 10));
  const training = model.training === true;
  model.eval();
  try {
    // the occluded texts (column t: token t replaced) and the text itself (column T), B columns a batch
    const jobs = T + 1;
    const B = Math.min(Math.max(1, options.rows ?? 64), jobs);
    const runner = new BatchRunner(model, B, Math.max(1, Math.floor(8192 / B)));
    const logits = new Float64Array(jobs * V); // (T+1, V) last-step logits of every column
    const batch = new Int32Array(T * B);
    for (let j0 = 0; j0 < jobs; j0 += B) {
      for (let b = 0; b < B; b++) {
        const j = Math.min(j0 + b, jobs - 1); // spare columns repeat the last job
        for (let t = 0; t < T; t++) batch[t * B + b] = t === j ? replacement : inputs[t];
      }
      const z = runner.lastLogits(batch, T);
      const used = Math.min(B, jobs - j0);
      for (let b = 0; b < used; b++) for (let v = 0; v < V; v++) logits[(j0 + b) * V + v] = z[b * V + v];
    }
    // the baseline's softmax: the top-k, and the target (default its argmax)
    const base = logits.subarray(T * V);
    const lossOf = (v: number) => rowLoss(base, 0, V, v);
    const ranked = Array.from({ length: V }, (_, v) => v).sort((a, b) => base[b] - base[a] || a - b);
    const top = ranked.slice(0, topK).map((token) => ({ token, prob: Math.exp(-lossOf(token)) }));
    const target = options.target ?? ranked[0];
    const occlusion = Array.from({ length: T }, (_, t) => rowLoss(logits, t, V, target) - lossOf(target));
    // the gradient of log p(target) with respect to every embedded input
    const dx = new Float64Array(T * E);
    const logProb = model.logProbGradient(inputs, T, target, dx);
    const gradient = Array.from({ length: T }, (_, t) => {
      let s = 0;
      for (let e = 0; e < E; e++) s += dx[t * E + e] * dx[t * E + e];
      return Math.sqrt(s);
    });
    return { inputs: Array.from(inputs), target, logProb, top, gradient, occlusion, replacement };
  } finally {
    if (training) model.train?.(true);
  }
}
