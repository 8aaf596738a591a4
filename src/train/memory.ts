// How much memory a run needs, told before any of it is allocated, so that a model too large for
// the machine is one clear message that says what fits, not a crash halfway through building.
// The estimate counts every buffer of the size of the parameters (values, gradients, optimizer
// state, the update guard's copy, one gradient buffer per extra thread) and the activations of
// one window (the recurrent cache, embeddings, logits and their gradients), and doubles the
// activations for evaluation's buffers and the allocator's slack. It errs on the large side.

import { ResourceError } from "../errors.js";
import { ARENA_LIMIT, fmtBytes } from "../tensor/wasm/arena.js";
import type { ModelConfig, TrainConfig } from "./run.js";
import { OPTIMIZERS } from "./optim.js";
import { CELLS } from "../nn/cells.js";

/** The most memory a run may plan for: what one WebAssembly (wasm32) memory holds. */
export const MEMORY_LIMIT = ARENA_LIMIT;

/** Most threads a data-parallel run can use (train/parallel.ts has a slot for each in its control block). */
export const MAX_THREADS = 32;

/** Parameters of a language model of this shape (PyTorch's layout: both biases, embedding, head unless tied). */
export function languageModelParams(
  m: Pick<ModelConfig, "cell" | "vocabSize" | "embedSize" | "hiddenSize" | "numLayers" | "tieWeights" | "window" | "direct">,
): number {
  const { vocabSize: V, embedSize: E, hiddenSize: H, numLayers: L } = m;
  if (m.cell === "mlp") {
    // embedding, hidden layers (n*E -> H, then H -> H) with biases, head, direct connections
    const nE = (m.window ?? 1) * E;
    return V * E + H * (nE + 1) + (L - 1) * H * (H + 1) + V * (H + 1) + (m.direct ? V * nE : 0);
  }
  const G = gateWidth(m.cell, H);
  let p = V * E + (m.tieWeights ? 0 : V * H) + V;
  for (let l = 0; l < L; l++) p += G * (l === 0 ? E : H) + G * H + 2 * G;
  return p;
}

function gateWidth(cell: ModelConfig["cell"], H: number): number {
  return cell === "mlp" ? 0 : CELLS[cell].gates.length * H;
}

/** Float buffers as long as the parameters that an optimizer keeps (train/optim.ts's registry). */
export function optimizerBuffers(t: Pick<TrainConfig, "optimizer" | "momentum">): number {
  return OPTIMIZERS[t.optimizer].state({ momentum: t.momentum }).length;
}

/** Bytes of activations of one pass of `T` steps over `B` rows (float32). */
export function languageModelActivationBytes(m: ModelConfig, B: number, T: number): number {
  const { vocabSize: V, embedSize: E, hiddenSize: H, numLayers: L, cell } = m;
  const G = gateWidth(cell, H);
  const n = T * B;
  if (cell === "mlp") {
    // the window's embeddings and their gradient (twice with direct connections), every hidden
    // layer's activations, two gradient buffers, logits and probabilities; the same for inference rows
    const nE = (m.window ?? 1) * E;
    return 4 * (n * nE * (m.direct ? 3 : 2) + n * H * (L + 2) + 2 * n * V) + 4 * 2 * n * (m.window ?? 1);
  }
  const lstm = cell === "lstm";
  const gru = cell === "gru";
  const drop = (m.dropout ?? 0) > 0;
  let floats = 0;
  for (let l = 0; l < L; l++) {
    const I = l === 0 ? E : H;
    floats += n * G * (gru ? 2 : 1) + (T + 1) * B * H * (lstm ? 2 : 1) + n * H * (lstm || gru ? 1 : 0) + n * H + n * I + (drop ? 2 * n * H : 0);
  }
  floats += n * E + 2 * n * V + n * H + V * G;
  // the language model's own dropout: the embedding's mask (n, E); the output's mask and dropped output (n, H) each
  if ((m.embeddingDropout ?? 0) > 0) floats += n * E;
  if ((m.outputDropout ?? 0) > 0) floats += 2 * n * H;
  return 4 * floats;
}

/** Bytes a language-model training run needs, estimated from above. */
export function trainingBytes(m: ModelConfig, t: TrainConfig, threads = 1): number {
  const P = languageModelParams(m);
  const opt = optimizerBuffers(t);
  const perParam = 2 + opt + (1 + opt) + (threads > 1 ? threads : 0);
  return 4 * P * perParam + 2 * languageModelActivationBytes(m, t.batch, t.k2);
}

/** Bytes to evaluate or sample a language model with windows of T steps over B rows. */
export function inferenceBytes(m: ModelConfig, B: number, T: number): number {
  return 4 * languageModelParams(m) * 2 + 2 * languageModelActivationBytes(m, B, T);
}

/** The largest x in [lo, hi] with fits(x), by bisection (fits must be monotone); lo - 1 when none. */
export function largest(lo: number, hi: number, fits: (x: number) => boolean): number {
  if (!fits(lo)) return lo - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

const fmt = (n: number) => n.toLocaleString("en-US");

/**
 * Throws a ResourceError when a training run of this config would not fit in memory; the
 * message says how much it needs and the largest hidden size and batch that fit.
 */
export function checkTrainingFits(m: ModelConfig, t: TrainConfig, threads = 1, limit = MEMORY_LIMIT): void {
  const need = trainingBytes(m, t, threads);
  if (need <= limit) return;
  const H = largest(1, m.hiddenSize, (h) => trainingBytes({ ...m, hiddenSize: h, embedSize: m.tieWeights ? h : m.embedSize }, t, threads) <= limit);
  const E = m.tieWeights ? 0 : largest(1, m.embedSize, (e) => trainingBytes({ ...m, embedSize: e }, t, threads) <= limit);
  const B = largest(1, t.batch, (b) => trainingBytes(m, { ...t, batch: b }, threads) <= limit);
  const fixes = [
    H >= 1 ? `hidden size ${fmt(H)} (--hidden)` : "",
    E >= 1 ? `embedding ${fmt(E)} (--embed)` : "",
    B >= 1 ? `batch ${fmt(B)} (--batch)` : "",
  ].filter(Boolean);
  throw new ResourceError(
    `the ${m.cell === "mlp" ? `feed-forward model (window ${m.window})` : CELLS[m.cell].title} of hidden size ${fmt(m.hiddenSize)}, embedding ${fmt(m.embedSize)}, ${m.numLayers} layer${m.numLayers > 1 ? "s" : ""} ` +
      `(${fmt(languageModelParams(m))} parameters), trained on batches of ${fmt(t.batch)} x ${fmt(t.k2)} steps, needs about ${fmtBytes(need)}, ` +
      `more than the ${fmtBytes(limit)} rnnlab can use; ${fixes.length ? `with the other settings as they are, at most ${fixes.join(" or ")} fits` : "make the model smaller (--hidden, --embed, --layers)"}`,
  );
}

/**
 * Throws a ResourceError when evaluating (or sampling) with windows of T steps over B rows would
 * not fit; `bytesPerFloat` 8 for a float64 copy (diagnostics).
 */
export function checkInferenceFits(m: ModelConfig, B: number, T: number, bytesPerFloat = 4, limit = MEMORY_LIMIT): void {
  const need = (inferenceBytes(m, B, T) * bytesPerFloat) / 4;
  if (need <= limit) return;
  throw new ResourceError(
    `evaluating this model (${fmt(languageModelParams(m))} parameters) on ${fmt(B)} rows of ${fmt(T)} steps needs about ${fmtBytes(need)}, more than the ${fmtBytes(limit)} rnnlab can use; ` +
      "use fewer rows or steps, or a smaller model",
  );
}

/** Checks a thread count against the batch and MAX_THREADS (a RangeError naming what fits). */
export function checkThreads(threads: number, batch: number): void {
  if (!Number.isSafeInteger(threads) || threads < 1) throw new RangeError(`threads must be a whole number >= 1, got ${threads}`);
  if (threads > MAX_THREADS)
    throw new ResourceError(`${threads} threads are more than rnnlab can use (at most ${MAX_THREADS}); use --threads ${MAX_THREADS} or fewer`);
  if (threads > batch)
    throw new ResourceError(
      `${threads} threads are more than the batch's ${batch} rows (each thread takes at least one); use --threads ${batch} or fewer, or a larger --batch`,
    );
}

/** What the memory of a task run depends on. */
export interface TaskShape {
  /** Steps per sequence, input features, outputs, and whether the loss is at every step. */
  steps: number;
  inputSize: number;
  outputSize: number;
  every: boolean;
  cell: ModelConfig["cell"];
  hidden: number;
  layers: number;
  batch: number;
  /** cell "mlp": the steps each output sees. */
  window?: number;
  /** Held-out sequences of the criterion (0: not counted). */
  evalSize?: number;
}

/** Bytes a task run (train/task-run.ts) needs, estimated from above: weights, one batch's activations, and the held-out set. */
export function taskBytes(s: TaskShape): number {
  const { steps: T, inputSize: I, outputSize: O, hidden: H, layers: L, batch: B } = s;
  const G = gateWidth(s.cell, H);
  let P = O * (H + 1);
  for (let l = 0; l < L; l++) P += G * ((l === 0 ? I : H) + H + 2);
  if (s.cell === "mlp") P += H * ((s.window ?? 1) * I + 1) + (L - 1) * H * (H + 1);
  const acts = (rows: number) => {
    if (s.cell === "mlp") {
      // rows of windows (every step, or the last), their activations and gradients, and the float64 batch
      const r = s.every ? T * rows : rows;
      return 4 * (r * (s.window ?? 1) * I + r * H * (L + 2) + 2 * r * O) + 8 * (T * rows * I + r * O);
    }
    const n = T * rows;
    let f = 0;
    for (let l = 0; l < L; l++) f += n * G * 2 + (T + 1) * rows * H * 2 + 2 * n * H + n * (l === 0 ? I : H);
    return 4 * (f + n * I + 2 * n * H + 2 * (s.every ? n : rows) * O) + 8 * (n * I + (s.every ? n : rows) * O); // + the float64 batch itself
  };
  const evalRows = s.evalSize ?? 0;
  const held = evalRows > 0 ? 2 * 8 * T * evalRows * (I + 1) + 8 * (s.every ? T : 1) * evalRows * O + acts(Math.min(100, evalRows)) : 0;
  return 4 * P * 8 + 2 * acts(B) + held;
}

/** Throws a ResourceError when a task run of this shape would not fit in memory. */
export function checkTaskFits(s: TaskShape, limit = MEMORY_LIMIT): void {
  const need = taskBytes(s);
  if (need <= limit) return;
  const H = largest(1, s.hidden, (h) => taskBytes({ ...s, hidden: h }) <= limit);
  const B = largest(1, s.batch, (b) => taskBytes({ ...s, batch: b }) <= limit);
  const fixes = [H >= 1 ? `--hidden ${fmt(H)}` : "", B >= 1 ? `--batch ${fmt(B)}` : ""].filter(Boolean);
  throw new ResourceError(
    `this task run (${fmt(s.steps)} steps per sequence, hidden ${fmt(s.hidden)}, batch ${fmt(s.batch)}${s.evalSize ? `, ${fmt(s.evalSize)} held-out sequences` : ""}) needs about ${fmtBytes(need)}, ` +
      `more than the ${fmtBytes(limit)} rnnlab can use; ${fixes.length ? `with the other settings as they are, at most ${fixes.join(" or ")} fits` : "use a shorter --length or fewer --eval-size sequences"}`,
  );
}
