// Sampling text from a language model, one token at a time: softmax of the logits divided by a
// temperature, optionally restricted to the k most likely tokens, drawn with a seeded Rng.

import type { Float, Ids } from "../tensor/dtype.js";
import type { Rng } from "../tensor/rng.js";

/** How to turn logits into a choice. */
export interface SampleOptions {
  /** Divides the logits: < 1 sharper, > 1 flatter, 0 always the most likely token. Default 1. */
  temperature?: number;
  /** Keep only the k most likely tokens (0 or omitted: all). */
  topK?: number;
}

/**
 * Draws a token id from logits[off .. off+V) with `p ∝ exp(z / temperature)` over the top-k.
 * `scratch` (length >= V) avoids an allocation per call.
 */
export function sampleLogits(logits: Float, off: number, V: number, rng: Rng, o: SampleOptions = {}, scratch = new Float64Array(V)): number {
  const temperature = o.temperature ?? 1;
  let best = 0;
  for (let j = 1; j < V; j++) if (logits[off + j] > logits[off + best]) best = j;
  if (temperature === 0) return best;
  // the top-k threshold: the k-th largest logit
  let threshold = -Infinity;
  const k = o.topK ?? 0;
  if (k > 0 && k < V) {
    for (let j = 0; j < V; j++) scratch[j] = logits[off + j];
    const sorted = scratch.subarray(0, V).sort();
    threshold = sorted[V - k];
  }
  const max = logits[off + best];
  let sum = 0;
  for (let j = 0; j < V; j++) {
    const z = logits[off + j];
    const e = z >= threshold ? Math.exp((z - max) / temperature) : 0;
    scratch[j] = e;
    sum += e;
  }
  let u = rng.uniform() * sum;
  for (let j = 0; j < V; j++) {
    u -= scratch[j];
    if (u < 0) return j;
  }
  return best; // rounding left u >= 0: the most likely token
}

/** Options of generate. */
export interface GenerateOptions extends SampleOptions {
  /** Tokens to run through the model first (at least one). */
  prime: Ids;
  /** Tokens to generate after the prime. */
  length: number;
  rng: Rng;
  /** Called with each generated token as soon as it is drawn (for streaming output). */
  onToken?: (id: number) => void;
}

/** What generation needs of a model: a state, and the logits after some inputs (LanguageModel and FeedForwardLM have both). */
export interface Predictor {
  readonly options: { readonly vocabSize: number };
  /** A fresh state for batch B. */
  createState(B: number): Float[];
  /**
   * Logits (B, V) of the last of T steps of inputs (T, B), from `state`, which becomes the state
   * after them. `plan` (optional) says the caller runs `steps` input steps in all over this and
   * the calls that follow it with `reuse`, on the same weights: a model may then keep work that
   * depends on the weights alone (LanguageModel folds its embedding into the first layer once).
   */
  predict(inputs: Ids, T: number, B: number, state: Float[], plan?: PredictPlan): Float;
}

/** What a run of predict calls on the same weights tells the model (Predictor.predict). */
export interface PredictPlan {
  /** Input steps of the whole run (e.g. the prime and the tokens to generate). */
  steps: number;
  /** False on the run's first call (the weights may have changed since any earlier call), true after. */
  reuse: boolean;
}

/**
 * Feeds the prime, then generates `length` tokens, each fed back as the next input.
 * Returns the generated ids (without the prime).
 * @example
 * const ids = generate(model, { prime: vocab.encode("\n"), length: 200, rng: new Rng(1), temperature: 0.8 });
 * console.log(vocab.decode(ids));
 */
export function generate(model: Predictor, o: GenerateOptions): Int32Array {
  if (o.prime.length < 1) throw new RangeError("generate: the prime needs at least one token");
  if (!(o.length >= 0 && Number.isInteger(o.length))) throw new RangeError(`generate: length must be a whole number >= 0, got ${o.length}`);
  const t = o.temperature ?? 1;
  if (!(t >= 0 && Number.isFinite(t))) throw new RangeError(`generate: temperature must be >= 0, got ${t}`);
  const k = o.topK ?? 0;
  if (!(Number.isInteger(k) && k >= 0)) throw new RangeError(`generate: topK must be a whole number >= 0, got ${k}`);
  const V = model.options.vocabSize;
  const state = model.createState(1);
  const out = new Int32Array(o.length);
  const scratch = new Float64Array(V);
  const one = new Int32Array(1);
  // the weights do not change while a sample is drawn: the model may keep what depends on them alone
  const plan: PredictPlan = { steps: o.prime.length + o.length, reuse: false };
  let logits = model.predict(o.prime, o.prime.length, 1, state, plan);
  plan.reuse = true;
  for (let i = 0; i < o.length; i++) {
    const id = sampleLogits(logits, 0, V, o.rng, o, scratch);
    out[i] = id;
    o.onToken?.(id);
    one[0] = id;
    logits = model.predict(one, 1, 1, state, plan);
  }
  return out;
}
