// The messages between the lab's page (main.ts) and its training worker (worker.ts): settings in,
// plain numbers out.

import type { CellName, ClipSummary, OptimizerName, SpectrumSummary, TaskName } from "../src/index.js";

export interface Settings {
  cell: CellName;
  hidden: number;
  layers: number;
  /** Truncated BPTT window (k1 = k2). */
  seq: number;
  batch: number;
  optimizer: OptimizerName;
  lr: number;
  clipMode: "norm" | "value" | "none";
  clip: number;
  seed: number;
}

export type Source = { kind: "shakespeare"; url: string } | { kind: "text"; name: string; text: string } | { kind: "task"; task: TaskName; length: number };

export type ToWorker =
  | { type: "start"; source: Source; settings: Settings }
  | { type: "pause" }
  | { type: "resume" }
  | { type: "reset" }
  | { type: "download" }
  | { type: "upload"; name: string; bytes: ArrayBuffer; source: Source }
  | { type: "surface"; start: [number, number]; lr: number; clip: number; steps: number }
  | { type: "saliency"; text: string };

export interface StepRow {
  step: number;
  loss: number;
  gradNorm: number;
  clipped: boolean;
}

export type FromWorker =
  | { type: "ready"; kernels: string; isolated: boolean; cells: { name: CellName; title: string }[]; optimizers: string[] }
  | { type: "started"; description: string; unit: string; settings: Settings; source: Source["kind"]; step: number; parameters: number }
  | { type: "steps"; rows: StepRow[]; charsPerSecond: number; clipThreshold: number | null }
  | { type: "validation"; step: number; loss: number; detail?: string }
  | { type: "diagnostics"; step: number; T: number; gradByLag: number[]; lagTitle: string; spectra: SpectrumSummary[]; warnings: string[]; clip: ClipSummary }
  | { type: "sample"; step: number; text: string }
  | { type: "state"; running: boolean; step: number; job: boolean }
  | { type: "checkpoint"; name: string; bytes: ArrayBuffer }
  | {
      type: "surface";
      w: number[];
      b: number[];
      loss: number[];
      paths: { name: string; dashed: boolean; points: { x: number; y: number }[] }[];
      start: [number, number];
    }
  | {
      /** Which characters of a text the model's next prediction rests on (analysis/saliency.ts), on the model being trained. */
      type: "saliency";
      step: number;
      tokens: string[];
      gradient: number[];
      occlusion: number[];
      target: string;
      logProb: number;
      top: { token: string; prob: number }[];
      replacement: string;
    }
  | { type: "error"; message: string };

/** The single-neuron figure's descent settings (the CLI's rnnlab surface defaults) and first start point. */
export const SURFACE = { lr: 0.5, clip: 0.2, steps: 100 } as const;
export const SURFACE_START: readonly [number, number] = [5.2, -4];
