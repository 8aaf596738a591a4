// Scoring the context experiment (`rnnlab experiment context`): a language model trained on the
// stories of data/context-stories.ts reads each held-out prefix ("... Anne said hi to ") and must
// put its highest logit on the first letter of the answer B, who appeared D characters back. For
// one distance all N prefixes have the same length, so they run as one batch (T, N) through
// `predict` from a fresh state; the score is the share of argmax hits and the mean log-probability
// of B's initial. Chance: a model that cannot see B still sees A just before the blank and knows
// A does not greet themself, so guessing among the other names scores 1/(names - 1).
// Also here: the experiment's rows (models at equal parameter counts), the hidden size that
// comes closest to a parameter count, and the table over seeds. No Node APIs.
//
// N = test stories of a distance, T = prefix length, V = vocabulary, D = distance back to B.

import type { StoryTest } from "../data/context-stories.js";
import type { Vocab } from "../data/vocab.js";
import type { Float, Ids } from "../tensor/dtype.js";

/**
 * What scoring needs of a language model (LanguageModel and FeedForwardLM have it): `predict`
 * runs T steps of ids (T, B), time-major, from `state` and returns the logits (B, V) of the last step.
 */
export interface StoryPredictor {
  /** The model's shape; only V is read. */
  readonly options: { readonly vocabSize: number };
  /** A fresh (zero) state for B rows. */
  createState(B: number): Float[];
  /** Logits (B, V) of the last of T steps of inputs (T, B); `state` is updated in place. */
  predict(inputs: Ids, T: number, B: number, state: Float[]): Float;
}

/** The held-out stories of one distance as token ids, ready to run as one batch. */
export interface StoryCases {
  /** d: characters of filler. */
  d: number;
  /** D: characters from B's first letter to the blank. */
  distance: number;
  /** T: the length of every prefix. */
  T: number;
  /** N: the number of stories (the batch). */
  N: number;
  /** (T, N) prefixes, time-major: step t of story n at t * N + n. */
  inputs: Int32Array;
  /** (N) the id of each answer's first letter. */
  answers: Int32Array;
}

/** The score at one distance. */
export interface StoryScore {
  /** d: characters of filler. */
  d: number;
  /** D: characters from B's first letter to the blank. */
  distance: number;
  /** N: stories scored. */
  n: number;
  /** Stories whose argmax was B's initial. */
  correct: number;
  /** correct / n. */
  accuracy: number;
  /** Mean natural log-probability of B's initial at the blank. */
  logProb: number;
}

/** A row of the experiment: a model and its training recipe. */
export interface ContextModelRow {
  /** The row's name on the command line (`--models`). */
  name: string;
  /** What the table calls it. */
  label: string;
  /** The language model's cell (`"mlp"`: the feed-forward window model). */
  cell: "mlp" | "rnn" | "lstm" | "gru";
  /** Gradient-norm clipping threshold (null: none). */
  clipNorm: number | null;
  /** LSTM only: the forget gate's bias at initialisation (absent: PyTorch's init). */
  forgetBias?: number;
}

/**
 * The rows of the experiment, as the lecture compares them: the feed-forward window model
 * (Bengio et al. 2003), the tanh RNN without and with clipping (Pascanu et al. 2013), the LSTM
 * and the GRU (both clipped). The window model has no recurrence to explode; it is clipped too,
 * so that only the architecture differs from rnn-clip, lstm and gru. The LSTM starts with its
 * forget gate's bias at 1 (Gers et al. 2000; Jozefowicz et al. 2015), the common recipe: it
 * starts out keeping what it stores.
 */
export const CONTEXT_MODELS: readonly ContextModelRow[] = [
  { name: "mlp", label: "feed-forward window", cell: "mlp", clipNorm: 1 },
  { name: "rnn", label: "tanh RNN, no clipping", cell: "rnn", clipNorm: null },
  { name: "rnn-clip", label: "tanh RNN + clipping", cell: "rnn", clipNorm: 1 },
  { name: "lstm", label: "LSTM + clipping", cell: "lstm", clipNorm: 1, forgetBias: 1 },
  { name: "gru", label: "GRU + clipping", cell: "gru", clipNorm: 1 },
];

/**
 * Chance accuracy at the blank: 1 / (names - 1). A model that cannot see B can still read A just
 * before the blank and exclude it; among the other names B is uniform.
 * @example
 * storyChance(8) // => 0.14285714285714285 (1/7)
 */
export function storyChance(names: number): number {
  if (!(Number.isInteger(names) && names >= 2)) throw new RangeError(`storyChance: need at least 2 names, got ${names}`);
  return 1 / (names - 1);
}

/**
 * The held-out stories as ids: each distance's prefixes as one time-major (T, N) block and the
 * ids of the answers' initials. Throws a RangeError when the prefixes of a distance differ in
 * length or a character is outside the vocabulary.
 */
export function encodeStoryTests(tests: readonly StoryTest[], vocab: Vocab): StoryCases[] {
  return tests.map((t) => {
    const N = t.prefixes.length;
    if (N === 0) throw new RangeError(`encodeStoryTests: no stories at d = ${t.d}`);
    const rows = t.prefixes.map((p) => vocab.encode(p));
    const T = rows[0].length;
    if (T === 0) throw new RangeError(`encodeStoryTests: empty prefix at d = ${t.d}`);
    const inputs = new Int32Array(T * N);
    rows.forEach((r, n) => {
      if (r.length !== T) throw new RangeError(`encodeStoryTests: prefixes at d = ${t.d} differ in length (${T} and ${r.length}); they run as one batch`);
      for (let s = 0; s < T; s++) inputs[s * N + n] = r[s];
    });
    const answers = Int32Array.from(t.answers, (a) => vocab.encode(a[0])[0]);
    return { d: t.d, distance: t.distance, T, N, inputs, answers };
  });
}

/**
 * Scores a model at every distance: each distance's N prefixes as one batch from a fresh state,
 * the argmax of the last step's logits against B's initial, and the mean log-probability of B's
 * initial (log-softmax in float64). The prefixes go through `predict` `chunk` steps at a time
 * with the state carried (the same numbers as one call; memory for `chunk` steps, not T). The
 * model is only read (its inference buffers are used).
 * @example
 * const scores = scoreStories(model, encodeStoryTests(stories.tests(new Rng(2), [0, 64], 200), vocab));
 * scores.map((s) => s.accuracy) // => e.g. [1, 0.15]
 */
export function scoreStories(model: StoryPredictor, cases: readonly StoryCases[], chunk = 64): StoryScore[] {
  const V = model.options.vocabSize;
  if (!(Number.isInteger(chunk) && chunk >= 1)) throw new RangeError(`scoreStories: chunk must be a whole number >= 1, got ${chunk}`);
  return cases.map((c) => {
    const state = model.createState(c.N);
    let logits: Float = new Float32Array(0);
    for (let t0 = 0; t0 < c.T; t0 += chunk) {
      const t1 = Math.min(c.T, t0 + chunk);
      logits = model.predict(c.inputs.subarray(t0 * c.N, t1 * c.N), t1 - t0, c.N, state);
    }
    let correct = 0;
    let sumLog = 0;
    for (let n = 0; n < c.N; n++) {
      const row = n * V;
      let best = 0;
      let max = -Infinity;
      for (let v = 0; v < V; v++) {
        if (logits[row + v] > max) {
          max = logits[row + v];
          best = v;
        }
      }
      let z = 0;
      for (let v = 0; v < V; v++) z += Math.exp(logits[row + v] - max);
      const a = c.answers[n];
      if (best === a) correct++;
      sumLog += logits[row + a] - max - Math.log(z);
    }
    return { d: c.d, distance: c.distance, n: c.N, correct, accuracy: correct / c.N, logProb: sumLog / c.N };
  });
}

/**
 * The hidden size in [1, max] whose parameter count `count(h)` comes closest to `target` (the
 * smaller one on a tie); `count` must grow with h. For models at equal parameter counts.
 * @example
 * sizeForParams((h) => 4 * h * h + 117 * h + 765, 40_000) // => 86 (39,811 parameters)
 */
export function sizeForParams(count: (h: number) => number, target: number, max = 4096): number {
  if (!(target > 0)) throw new RangeError(`sizeForParams: target must be > 0, got ${target}`);
  // the first h with count(h) >= target, by bisection; then it or the one before it
  let lo = 1;
  let hi = max;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (count(mid) >= target) hi = mid;
    else lo = mid + 1;
  }
  if (lo > 1 && Math.abs(count(lo - 1) - target) <= Math.abs(count(lo) - target)) return lo - 1;
  return lo;
}

/** One trained model's scores: a row and a seed. */
export interface ContextRun {
  /** The row's name (ContextModelRow.name). */
  model: string;
  seed: number;
  /** Its scores, one per distance (absent: the run failed). */
  scores?: readonly StoryScore[];
}

/** A row of the table: a model's accuracy per distance, the mean over its seeds. */
export interface ContextSummaryRow {
  /** The row's name. */
  model: string;
  /** What the table calls it. */
  label: string;
  /** Its parameter count. */
  params: number;
  /** Per distance, in the order given: the mean accuracy over the seeds that finished (null: none did), and the seeds counted. */
  byDistance: { d: number; distance: number; accuracy: number | null; logProb: number | null; runs: number; min: number | null; max: number | null }[];
}

/** Mean accuracy (and log-probability, and the range over seeds) per row and distance. */
export function summarizeContext(
  rows: readonly { name: string; label: string; params: number }[],
  tests: readonly { d: number; distance: number }[],
  runs: readonly ContextRun[],
): ContextSummaryRow[] {
  return rows.map((r) => ({
    model: r.name,
    label: r.label,
    params: r.params,
    byDistance: tests.map((t, i) => {
      const s = runs.filter((x) => x.model === r.name && x.scores).map((x) => x.scores![i]);
      const acc = s.map((x) => x.accuracy);
      const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
      return {
        d: t.d,
        distance: t.distance,
        accuracy: mean(acc),
        logProb: mean(s.map((x) => x.logProb)),
        runs: s.length,
        min: acc.length ? Math.min(...acc) : null,
        max: acc.length ? Math.max(...acc) : null,
      };
    }),
  }));
}

/**
 * The table as Markdown: a row per model (with its parameter count), a column per distance D,
 * each cell the accuracy in percent (the mean over seeds; with several seeds, their range), and a
 * last row with the chance level.
 */
export function contextTable(rows: readonly ContextSummaryRow[], chance: number, window?: number): string {
  const cols = rows[0]?.byDistance ?? [];
  const pct = (x: number) => `${(100 * x).toFixed(1)}`;
  const head = `| model | parameters | ${cols.map((c) => `D = ${c.distance}${window !== undefined && c.distance > window ? " *" : ""}`).join(" | ")} |`;
  const rule = `|---|---:|${cols.map(() => "---:").join("|")}|`;
  const lines = rows.map((r) => {
    const cells = r.byDistance.map((c) => {
      if (c.accuracy === null) return "failed";
      return c.runs > 1 && c.min !== null && c.max !== null && c.min !== c.max ? `${pct(c.accuracy)} (${pct(c.min)}–${pct(c.max)})` : pct(c.accuracy);
    });
    return `| ${r.label} | ${r.params.toLocaleString("en-US")} | ${cells.join(" | ")} |`;
  });
  const chanceRow = `| chance (1/(names−1): A is excluded) | | ${cols.map(() => pct(chance)).join(" | ")} |`;
  return [head, rule, ...lines, chanceRow].join("\n");
}
