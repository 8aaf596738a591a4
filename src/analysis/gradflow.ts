// Gradient flow through time, measured on a model and a batch: what the lecture's slides on
// exploding and vanishing gradients describe, as numbers.
//
// - ‖∂E/∂h_k‖ for every step k: recorded by the recurrent layer's own backward pass (cache.flow);
// - ‖∂E_t/∂h_k‖ against the lag t-k: the same, on a backward pass of the loss at step t alone;
// - ‖∂h_t/∂h_k‖: the spectral norm of the Jacobian product (analysis/jacobian.ts);
// - the spectra of W_hh with the lecture's bounds (analysis/spectra.ts);
// - clipping statistics and a suggested threshold (Pascanu, Mikolov & Bengio 2013, §3.2).
//
// Everything runs on a float64 copy of the model in evaluation mode (no dropout), so tiny
// gradients do not underflow and the model being trained is not touched: not its weights, its
// gradients, its buffers or its dropout counter.

import { LanguageModel } from "../nn/language-model.js";
import type { ParamStore } from "../nn/params.js";
import type { Recurrent, RecurrentCache } from "../nn/recurrent.js";
import { IGNORE_INDEX } from "../nn/softmax-xent.js";
import type { ClipSummary, DiagnosticsRecord, LayerFlow, SpectrumSummary } from "./report-data.js";
import { jacobianNorms } from "./jacobian.js";
import { recurrentSpectra } from "./spectra.js";

export type { ClipSummary, DiagnosticsRecord, LayerFlow, SpectrumSummary } from "./report-data.js";

/** Options of diagnose(). */
export interface DiagnoseOptions {
  /** Target step t of the per-lag gradient, 1-based. Default T (the last). */
  target?: number;
  /** Lags of the Jacobian norms. Default 1, 2, 4, ... below t, and t-1. */
  lags?: number[];
  /** Batch rows the Jacobian norms are averaged over. Default 2. */
  rows?: number;
  /** Power iterations per Jacobian norm. Default 20. */
  iterations?: number;
  /** Training step to stamp on the record. Default 0. */
  step?: number;
  /** Clipping statistics to include (see clipSummary). */
  clip?: ClipSummary;
  /** Warn of vanishing when ‖∂E_t/∂h_{t-lag}‖ / ‖∂E_t/∂h_t‖ at the largest lag falls below this. Default 1e-6. */
  vanishRatio?: number;
  /** Skip the spectra (they cost O(H³) per block). Default false. */
  skipSpectra?: boolean;
}

/** Lags 1, 2, 4, ... below t, then t-1 (all lags must be <= t-1: the state before step 1 is the initial one). */
export function defaultLags(t: number): number[] {
  const lags: number[] = [];
  for (let l = 1; l < t; l *= 2) lags.push(l);
  if (t > 1 && lags[lags.length - 1] !== t - 1) lags.push(t - 1);
  return lags;
}

/** A float64 copy of a language model with the same weights, in evaluation mode. */
export function float64Copy(model: LanguageModel): LanguageModel {
  const { dtype: _d, ...o } = model.options;
  const copy = new LanguageModel({ ...o, dtype: "float64" });
  copy.store.values.set(model.store.values);
  return copy.eval();
}

/**
 * Gradient flow, Jacobian norms and spectra of `model` on one batch: inputs and targets (T, B)
 * token ids, time-major, from a zero state. E is the mean cross-entropy over every position;
 * E_t that of step t alone (its positions' mean over the batch).
 * @example
 * const rec = diagnose(lm, inputs, targets, 64);
 * rec.layers[0].gradByLag // ‖∂E_64/∂h_{64-lag}‖, lag = 0..63: falls off geometrically in a tanh RNN
 */
export function diagnose(model: LanguageModel, inputs: Int32Array, targets: Int32Array, T: number, options: DiagnoseOptions = {}): DiagnosticsRecord {
  const B = inputs.length / T;
  if (!Number.isInteger(B) || B < 1 || targets.length !== inputs.length) throw new RangeError(`diagnose: inputs and targets must both be (T, B) = ${T}*B ids`);
  const target = options.target ?? T;
  if (!(Number.isInteger(target) && target >= 1 && target <= T)) throw new RangeError(`diagnose: target must be a step in [1, ${T}], got ${target}`);
  const lags = options.lags ?? defaultLags(target);
  const lm = float64Copy(model);
  const rnn = lm.rnn;
  const L = rnn.numLayers;
  const D = rnn.numDirections;
  const lstm = rnn.mode === "LSTM";
  const newFlow = () => ({ h: new Float64Array(L * D * T), c: lstm ? new Float64Array(L * D * T) : null });

  // 1. the whole loss: ‖∂E/∂h_k‖ for every k
  lm.forward(inputs, targets, T, B, null);
  const all = newFlow();
  lm.lastCache!.flow = all;
  lm.store.zeroGrad();
  lm.backward();

  // 2. the loss at the target step alone; the Jacobians from this forward, before its backward
  const only = new Int32Array(targets.length).fill(IGNORE_INDEX);
  only.set(targets.subarray((target - 1) * B, target * B), (target - 1) * B);
  lm.forward(inputs, only, T, B, null);
  const jac = Array.from({ length: L }, (_, l) =>
    jacobianNorms(rnn, lm.lastCache!, l, target, lags, options.rows ?? 2, { iterations: options.iterations ?? 20 }),
  );
  const one = newFlow();
  lm.lastCache!.flow = one;
  lm.store.zeroGrad();
  lm.backward();

  const layers: LayerFlow[] = [];
  const round = (x: number) => +x.toPrecision(6);
  for (let l = 0; l < L; l++) {
    for (let d = 0; d < D; d++) {
      const idx = l * D + d;
      const row = (a: Float64Array) => Array.from(a.subarray(idx * T, (idx + 1) * T), round);
      // lag from the target step: backwards in time for the forward direction, forwards for the reverse
      const byLag = (a: Float64Array) => {
        const out: number[] = [];
        if (d === 0) for (let k = target - 1; k >= 0; k--) out.push(round(a[idx * T + k]));
        else for (let k = target - 1; k < T; k++) out.push(round(a[idx * T + k]));
        return out;
      };
      layers.push({
        layer: l,
        direction: d,
        gradByStep: row(all.h),
        ...(lstm ? { cellGradByStep: row(all.c!) } : {}),
        gradByLag: byLag(one.h),
        ...(lstm ? { cellGradByLag: byLag(one.c!) } : {}),
        jacobian: d === 0 ? { lags: [...lags], norms: jac[l].map(round) } : { lags: [], norms: [] },
      });
    }
  }
  const spectra: SpectrumSummary[] = options.skipSpectra
    ? []
    : recurrentSpectra(rnn).map((s) => ({
        ...s,
        eigRe: s.eigRe.map(round),
        eigIm: s.eigIm.map(round),
        singular: s.singular.map(round),
      }));
  const warnings: string[] = [];
  const ratio = options.vanishRatio ?? 1e-6;
  for (const f of layers) {
    const g = f.gradByLag;
    if (g.length > 1 && g[0] > 0 && g[g.length - 1] / g[0] < ratio) {
      warnings.push(
        `vanishing gradient: layer ${f.layer}${f.direction ? " (reverse)" : ""} passes ${(g[g.length - 1] / g[0]).toExponential(1)} of the gradient at step ${target} back ${g.length - 1} steps (below ${ratio.toExponential(0)})`,
      );
    }
  }
  return {
    kind: "diagnostics",
    step: options.step ?? 0,
    cell: model.options.cell,
    T,
    target,
    layers,
    spectra,
    ...(options.clip ? { clip: options.clip } : {}),
    warnings,
  };
}

/** A model whose loss's backward runs through a recurrent stack (a task model, a classifier): what flowByStep needs. */
export interface FlowModel<Batch> {
  readonly rnn: Recurrent;
  readonly store: ParamStore;
  readonly lastCache: RecurrentCache | null;
  /** The loss of a batch (the forward pass, keeping its cache in lastCache). */
  forward(batch: Batch): number;
  /** Backpropagates the last forward's loss. */
  backward(batch: Batch): unknown;
}

/**
 * ‖∂E/∂h_k‖ of layer 0 for every step k of a batch (Frobenius over its rows): how much of the
 * loss reaches each step's state, recorded by the recurrent backward itself (cache.flow). Runs a
 * forward and a backward of `model` (use a float64 copy to leave training alone); returns them
 * ordered by lag from the last step: element j is step T-1-j.
 */
export function flowByLag<Batch>(model: FlowModel<Batch>, batch: Batch, T: number): number[] {
  model.forward(batch);
  const cache = model.lastCache;
  if (!cache) return [];
  const L = model.rnn.numLayers * model.rnn.numDirections;
  cache.flow = { h: new Float64Array(L * T), c: model.rnn.mode === "LSTM" ? new Float64Array(L * T) : null };
  model.store.zeroGrad();
  model.backward(batch);
  const h = cache.flow.h;
  cache.flow = null;
  const byLag: number[] = [];
  for (let k = T - 1; k >= 0; k--) byLag.push(h[k]);
  return byLag;
}
