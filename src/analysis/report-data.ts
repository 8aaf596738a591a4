// The shapes of what rnnlab's diagnostics record: one `DiagnosticsRecord` per diagnosed
// training step (a line of metrics.jsonl with kind "diagnostics") or per checkpoint
// (rnnlab diagnose). Plots (src/plot) and the web lab read these; analysis/ fills them.

import type { RecurrentSpectrum } from "./spectra.js";
import type { CellName } from "../nn/cells.js";

/** Gradient flow of one recurrent layer and direction, on one batch. */
export interface LayerFlow {
  layer: number;
  direction: number;
  /** ‖∂E/∂h_k‖ (Frobenius over the batch) for k = 1..T: the total loss's gradient reaching each step's state. */
  gradByStep: number[];
  /** LSTM: ‖∂E/∂c_k‖ for k = 1..T. */
  cellGradByStep?: number[];
  /** ‖∂E_t/∂h_{t-lag}‖ for lag = 0..t-1: the gradient of the loss at the target step t alone. */
  gradByLag: number[];
  /** LSTM: ‖∂E_t/∂c_{t-lag}‖. */
  cellGradByLag?: number[];
  /** ‖∂h_t/∂h_{t-lag}‖ (spectral norm, power iteration; for the LSTM, of the (h, c) state), averaged over the batch rows sampled. */
  jacobian: { lags: number[]; norms: number[] };
}

/** Spectrum of one H×H block of a layer's W_hh: analysis/spectra.ts's RecurrentSpectrum, as recorded. */
export type SpectrumSummary = RecurrentSpectrum;

/** Clipping statistics over the pre-clip gradient norms seen so far. */
export interface ClipSummary {
  /** The threshold in use (null: no norm clipping). */
  threshold: number | null;
  steps: number;
  clippedShare: number;
  /** Average norm, without the top 1% (explosions). */
  mean: number;
  quantiles: { p10: number; p50: number; p90: number; p99: number; max: number };
  /** Pascanu et al. (2013): a threshold between ½ and 10 times the average norm. */
  suggested: { low: number; high: number; pick: number };
}

/** One diagnosis of a model on one batch. */
export interface DiagnosticsRecord {
  kind: "diagnostics";
  step: number;
  cell: CellName;
  /** Steps of the batch diagnosed, and the target step t of gradByLag (1-based, = T by default). */
  T: number;
  target: number;
  layers: LayerFlow[];
  spectra: SpectrumSummary[];
  clip?: ClipSummary;
  /** Warnings raised at this step (explosion, vanishing), in words. */
  warnings: string[];
}

/** One line of metrics.jsonl written per training step (kind absent). */
export interface StepMetrics {
  step: number;
  epoch?: number;
  loss: number;
  bpc?: number;
  grad_norm: number;
  clipped: boolean;
  skipped?: boolean;
  /** present on evaluation steps */
  val_loss?: number;
  val_bpc?: number;
  lr?: number;
  chars_per_s?: number;
  elapsed_s?: number;
}
