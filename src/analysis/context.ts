// How much context a trained language model uses: the ablation of Khandelwal, He, Qi & Jurafsky
// (2018), "Sharp Nearby, Fuzzy Far Away: How Neural Language Models Use Context". At a sample of
// target positions of a held-out text, the loss of predicting the target when the context beyond
// a distance d is perturbed, against the loss with the full context:
//   full     the D tokens before the target, from the model's zero state (D = the max distance)
//   drop     only the d tokens before the target, from the zero state (the model starts d tokens back)
//   shuffle  the D tokens, those beyond d (the first D - d) permuted at random, the last d intact
//   replace  the D tokens, those beyond d replaced by tokens drawn at random from the text
// for d = 1, 2, 4, ... < D and d = D (where every perturbation is the full context). The effective
// context of a perturbation is the smallest d from which on the loss stays within 1% of the full
// context's. Every call to the model is one batch: all sampled positions (or `rows` of them) as
// columns of a time-major (T, B) block of ids, run through `predict` in chunks of steps with the
// state carried, so memory stays bounded however long D is. The work per position, in model
// steps: D (full) + the sum of the d < D (drop) + D for every d < D (shuffle, and again replace);
// for D = 1024 that is about 23·D, which the progress callback counts.
//
// N = sampled positions, D = max distance, d = a distance, V = vocabulary, B = rows per batch,
// T = steps of a pass (d for drop, D for the others).

import type { Vocab } from "../data/vocab.js";
import type { Float, Ids } from "../tensor/dtype.js";
import { Rng } from "../tensor/rng.js";

/**
 * What the context probe needs of a language model: recurrent (LanguageModel) or over a fixed
 * window (which says how many tokens it sees in `window`). `predict` runs T steps of ids (T, B),
 * time-major, from `state` (updated in place) and returns the logits (B, V) of the last step.
 */
export interface ContextModel {
  /** The model's shape; only V is read. */
  readonly options: { readonly vocabSize: number };
  /** Tokens a window model sees (absent for a recurrent model, which sees all it is given). */
  readonly window?: number;
  /** Whether the model is in training mode (put back after the probe when it has `train`). */
  readonly training?: boolean;
  /** A zero state for B rows. */
  createState(B: number): Float[];
  /** Logits (B, V) of the last of T steps of inputs (T, B); `state` is updated in place. */
  predict(inputs: Ids, T: number, B: number, state: Float[]): Float;
  /** Evaluation mode (dropout off). */
  eval(): unknown;
  /** Training mode (back on, after the probe). */
  train?(on?: boolean): unknown;
}

/** The ways the context beyond a distance d is perturbed. */
export const PERTURBATIONS = ["drop", "shuffle", "replace"] as const;
/** One of PERTURBATIONS. */
export type Perturbation = (typeof PERTURBATIONS)[number];

/** What each perturbation does to the tokens beyond distance d, in a sentence. */
export const PERTURBATION_MEANINGS: Record<Perturbation, string> = {
  drop: "only the last d tokens, from the zero state",
  shuffle: "the tokens beyond d permuted at random",
  replace: "the tokens beyond d replaced by random tokens of the text",
};

/** Classes of target tokens, for losses per class: a name per class and the class of each token id. */
export interface TokenClasses {
  /** Class names, in class-index order. */
  readonly names: readonly string[];
  /** The class index of each token id (V entries). */
  readonly of: ArrayLike<number>;
}

/** Options of probeContext. */
export interface ContextProbeOptions {
  /** D: the longest context, in tokens; the full-context loss uses exactly D tokens. */
  maxDistance: number;
  /** Target positions sampled (without replacement) from the text. Default 256. */
  positions?: number;
  /** Seed of the positions, the shuffles and the replacements. Default 0. */
  seed?: number;
  /** The distances d, ascending, each in [1, D]; D is added when missing. Default logDistances(D). */
  distances?: readonly number[];
  /** Which perturbations to measure. Default all three. */
  perturbations?: readonly Perturbation[];
  /** Losses per class of target token too. */
  classes?: TokenClasses;
  /** Relative tolerance of the effective context. Default 0.01 (1%). */
  tolerance?: number;
  /** Positions per batch (columns of one predict call). Default 256. */
  rows?: number;
  /**
   * Steps per predict call of a recurrent model (the state carried between calls). Default:
   * 8192 / rows, at least 1. A window model gets each pass whole (at most its window).
   */
  chunk?: number;
  /** Called after every batch with the token-steps done and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** The losses of one class of target tokens. */
export interface ClassCurve {
  name: string;
  /** Sampled positions whose target is of this class. */
  count: number;
  /** Mean loss at each distance (NaN when count is 0). */
  loss: number[];
  /** The effective context of this class (null when count is 0). */
  effective: number | null;
}

/** One perturbation's losses against distance. */
export interface ContextCurve {
  perturbation: Perturbation;
  /** Mean loss (nats per token) at each of ContextProbeResult.distances. */
  loss: number[];
  /** The smallest d from which on (for it and every larger distance) the loss is within the tolerance of the full context's. */
  effective: number;
  /** Per class of target token, when classes were given. */
  byClass?: ClassCurve[];
}

/** What probeContext measured. */
export interface ContextProbeResult {
  /** D. */
  maxDistance: number;
  /** The distances d, ascending, the last one D. */
  distances: number[];
  /** The sampled target positions (indices into the text), ascending. */
  positions: number[];
  seed: number;
  tolerance: number;
  /** Mean loss with the full context: the D tokens before each target, from the zero state. */
  fullLoss: number;
  /** The full context's loss per class, when classes were given. */
  fullByClass?: { name: string; count: number; loss: number }[];
  curves: ContextCurve[];
}

/** 1, 2, 4, ... below `max`, then `max` itself. */
export function logDistances(max: number): number[] {
  if (!(Number.isSafeInteger(max) && max >= 1)) throw new RangeError(`logDistances: max must be a whole number >= 1, got ${max}`);
  const ds: number[] = [];
  for (let d = 1; d < max; d *= 2) ds.push(d);
  ds.push(max);
  return ds;
}

/**
 * The smallest of `distances` (ascending) from which on every loss is at most (1 + tolerance)
 * times `full`; the last distance when only it is (the loss there is the full context's).
 */
export function effectiveContext(distances: readonly number[], losses: readonly number[], full: number, tolerance = 0.01): number {
  let k = distances.length - 1;
  while (k > 0 && losses[k - 1] <= full * (1 + tolerance)) k--;
  return distances[k];
}

/**
 * `count` distinct target positions p in [D, n - 1] (each with D tokens before it), drawn
 * uniformly with `rng`, ascending; all of them when fewer are available.
 */
export function samplePositions(n: number, D: number, count: number, rng: Rng): number[] {
  const R = n - D; // candidates D..n-1
  if (R < 1) return [];
  if (count >= R) return Array.from({ length: R }, (_, i) => D + i);
  // partial Fisher-Yates over the candidates, with the swaps kept in a map (R may be large)
  const swapped = new Map<number, number>();
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const j = i + rng.int(R - i);
    const vi = swapped.get(i) ?? i;
    const vj = swapped.get(j) ?? j;
    swapped.set(j, vi);
    out.push(D + vj);
  }
  return out.sort((a, b) => a - b);
}

/**
 * Classes of target tokens: for characters, letters against the rest (spaces, punctuation,
 * digits, line ends); for words, frequent against rare: the most frequent words of `text` that
 * together make up half of its tokens, against all others.
 */
export function tokenClasses(vocab: Vocab, text: ArrayLike<number>): TokenClasses {
  const V = vocab.size;
  const of = new Int32Array(V);
  if (vocab.kind === "chars") {
    for (let v = 0; v < V; v++) of[v] = /\p{L}/u.test(vocab.tokens[v]) ? 0 : 1;
    return { names: ["letters", "spaces, punctuation and digits"], of };
  }
  const count = new Float64Array(V);
  for (let i = 0; i < text.length; i++) count[text[i]]++;
  const order = Array.from({ length: V }, (_, v) => v).sort((a, b) => count[b] - count[a] || a - b);
  of.fill(1);
  let covered = 0;
  let types = 0;
  for (const v of order) {
    if (covered >= text.length / 2) break;
    of[v] = 0;
    covered += count[v];
    types++;
  }
  return { names: [`frequent words (the ${types} most frequent, half the text)`, "rare words (all others)"], of };
}

/**
 * Runs batches of B sequences of T ids from the zero state through a model and gives the logits
 * (B, V) of each sequence's last step. One state for all batches, reset from a pristine zero
 * state each time, and always B columns: the model's buffers are made once (its WebAssembly
 * memory is never freed, so a new batch shape or state per call would grow it without end).
 * A recurrent model gets `chunk` steps per call, its state carried; a window model all T at once.
 */
export class BatchRunner {
  private readonly zero: Float[];
  private readonly state: Float[];

  constructor(
    readonly model: ContextModel,
    /** Columns of every batch. */
    readonly B: number,
    /** Steps per predict call of a recurrent model. */
    readonly chunk: number,
  ) {
    this.zero = model.createState(B);
    this.state = model.createState(B);
  }

  /** The logits (B, V) of the last of T steps of inputs (T, B), time-major, from the zero state: the model's view, valid until its next predict. */
  lastLogits(inputs: Ids, T: number): Float {
    const { model, B } = this;
    this.state.forEach((s, i) => s.set(this.zero[i]));
    const step = model.window !== undefined ? T : Math.max(1, this.chunk);
    let logits: Float | null = null;
    for (let t0 = 0; t0 < T; t0 += step) {
      const n = Math.min(step, T - t0);
      logits = model.predict(inputs.subarray(t0 * B, (t0 + n) * B), n, B, this.state);
    }
    return logits!;
  }
}

/** -log softmax(z_b)[target] for row b of logits (B, V), in float64. */
export function rowLoss(logits: Float, b: number, V: number, target: number): number {
  const o = b * V;
  let max = -Infinity;
  for (let v = 0; v < V; v++) if (logits[o + v] > max) max = logits[o + v];
  let sum = 0;
  for (let v = 0; v < V; v++) sum += Math.exp(logits[o + v] - max);
  return max + Math.log(sum) - logits[o + target];
}

/** A seed for one (perturbation, distance) pass, from the probe's seed: passes draw independently of their order. */
function passSeed(seed: number, kind: number, d: number): number {
  let h = Math.imul(seed ^ 0x5bd1e995, 0x9e3779b9) ^ Math.imul(kind + 1, 0x85ebca6b) ^ Math.imul(d, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  return (h ^ (h >>> 13)) >>> 0;
}

/**
 * Khandelwal et al.'s context ablation (see the file's header): the loss at a seeded sample of
 * target positions of `tokens`, with the full context (the D = maxDistance tokens before each
 * target, from the zero state) and with the context beyond each distance d dropped, shuffled or
 * replaced; the effective context of each perturbation. Deterministic for a seed. The model is
 * put in evaluation mode (and back in training mode after, if it was and can be).
 * @example
 * const r = probeContext(lm, valTokens, { maxDistance: 256, positions: 200, seed: 1 });
 * r.curves.map((c) => `${c.perturbation}: ${c.effective}`) // e.g. ["drop: 64", "shuffle: 16", "replace: 32"]
 */
export function probeContext(model: ContextModel, tokens: ArrayLike<number>, options: ContextProbeOptions): ContextProbeResult {
  const D = options.maxDistance;
  const n = tokens.length;
  const V = model.options.vocabSize;
  if (!(Number.isSafeInteger(D) && D >= 1)) throw new RangeError(`probeContext: maxDistance must be a whole number >= 1, got ${D}`);
  if (model.window !== undefined && D > model.window)
    throw new RangeError(`probeContext: maxDistance ${D} is beyond the model's window of ${model.window} tokens`);
  if (n < D + 1) throw new RangeError(`probeContext: the text has ${n} tokens; a context of ${D} needs at least ${D + 1}`);
  const count = options.positions ?? 256;
  if (!(Number.isSafeInteger(count) && count >= 1)) throw new RangeError(`probeContext: positions must be a whole number >= 1, got ${count}`);
  const seed = options.seed ?? 0;
  const tolerance = options.tolerance ?? 0.01;
  const perturbations = options.perturbations ?? PERTURBATIONS;
  const distances = [...(options.distances ?? logDistances(D))];
  if (distances.some((d, i) => !(Number.isSafeInteger(d) && d >= 1 && d <= D && (i === 0 || d > distances[i - 1]))))
    throw new RangeError(`probeContext: distances must ascend, each a whole number in [1, ${D}]; got ${distances.join(", ")}`);
  if (distances[distances.length - 1] !== D) distances.push(D);
  const rows = Math.max(1, options.rows ?? 256);
  const chunk = options.chunk ?? Math.max(1, Math.floor(8192 / rows));
  for (let i = 0; i < n; i++) {
    const v = tokens[i];
    if (!(Number.isInteger(v) && v >= 0 && v < V)) throw new RangeError(`probeContext: token ${v} at ${i} is outside [0, ${V})`);
  }
  const positions = samplePositions(n, D, count, new Rng(seed));
  const N = positions.length;
  const partial = distances.slice(0, -1); // d < D: D is the full context for every perturbation

  // the work, in token-steps, for the progress report
  const total = N * D + perturbations.reduce((s, p) => s + partial.reduce((a, d) => a + (p === "drop" ? d : D), 0) * N, 0);
  let done = 0;
  options.onProgress?.(0, total);

  const training = model.training === true;
  model.eval();
  try {
    // every batch has B columns; the last one's spare columns repeat its last position, and are not counted
    const B = Math.min(rows, N);
    const runner = new BatchRunner(model, B, chunk);
    /** Per-position losses of one pass: T steps, the ids of position p's column written by `fill`. */
    const pass = (T: number, fill: (col: Int32Array, p: number) => void): Float64Array => {
      const losses = new Float64Array(N);
      const col = new Int32Array(T);
      const inputs = new Int32Array(T * B);
      for (let i0 = 0; i0 < N; i0 += B) {
        const used = Math.min(B, N - i0);
        for (let b = 0; b < B; b++) {
          if (b < used) fill(col, positions[i0 + b]);
          for (let t = 0; t < T; t++) inputs[t * B + b] = col[t];
        }
        const logits = runner.lastLogits(inputs, T);
        for (let b = 0; b < used; b++) losses[i0 + b] = rowLoss(logits, b, V, tokens[positions[i0 + b]]);
        done += T * used;
        options.onProgress?.(done, total);
      }
      return losses;
    };
    const context = (col: Int32Array, p: number, T: number) => {
      for (let t = 0; t < T; t++) col[t] = tokens[p - T + t];
    };
    const full = pass(D, (col, p) => context(col, p, D));

    const perPass = new Map<Perturbation, Float64Array[]>();
    for (const kind of perturbations) {
      const k = PERTURBATIONS.indexOf(kind);
      const losses: Float64Array[] = [];
      for (const d of partial) {
        const rng = new Rng(passSeed(seed, k, d));
        if (kind === "drop") {
          losses.push(pass(d, (col, p) => context(col, p, d)));
        } else if (kind === "shuffle") {
          losses.push(
            pass(D, (col, p) => {
              context(col, p, D);
              // Fisher-Yates over the first D - d steps: the tokens beyond d
              for (let i = D - d - 1; i > 0; i--) {
                const j = rng.int(i + 1);
                const x = col[i];
                col[i] = col[j];
                col[j] = x;
              }
            }),
          );
        } else {
          losses.push(
            pass(D, (col, p) => {
              context(col, p, D);
              for (let i = 0; i < D - d; i++) col[i] = tokens[rng.int(n)];
            }),
          );
        }
      }
      losses.push(full);
      perPass.set(kind, losses);
    }

    const mean = (xs: Float64Array, keep?: (i: number) => boolean): number => {
      let s = 0;
      let c = 0;
      for (let i = 0; i < xs.length; i++) {
        if (keep && !keep(i)) continue;
        s += xs[i];
        c++;
      }
      return c ? s / c : NaN;
    };
    const fullLoss = mean(full);
    const cls = options.classes;
    const classOf = cls ? positions.map((p) => cls.of[tokens[p]]) : [];
    const fullByClass = cls?.names.map((name, c) => ({
      name,
      count: classOf.filter((x) => x === c).length,
      loss: mean(full, (i) => classOf[i] === c),
    }));
    const curves: ContextCurve[] = perturbations.map((kind) => {
      const losses = perPass.get(kind)!;
      const loss = losses.map((l) => mean(l));
      const curve: ContextCurve = { perturbation: kind, loss, effective: effectiveContext(distances, loss, fullLoss, tolerance) };
      if (cls) {
        curve.byClass = cls.names.map((name, c) => {
          const lc = losses.map((l) => mean(l, (i) => classOf[i] === c));
          const count = fullByClass![c].count;
          return { name, count, loss: lc, effective: count ? effectiveContext(distances, lc, fullByClass![c].loss, tolerance) : null };
        });
      }
      return curve;
    });
    return { maxDistance: D, distances, positions, seed, tolerance, fullLoss, ...(fullByClass ? { fullByClass } : {}), curves };
  } finally {
    if (training) model.train?.(true);
  }
}
