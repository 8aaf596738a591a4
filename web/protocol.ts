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
  /** Momentum of SGD and RMSprop (ignored by the others). */
  momentum: number;
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
  /** A checkpoint of the text run, with the page's chart history in it. */
  | { type: "download"; history?: LabHistory }
  | { type: "upload"; name: string; bytes: ArrayBuffer; source: Source }
  | { type: "surface"; start: [number, number]; lr: number; clip: number; steps: number }
  | { type: "saliency"; text: string }
  /** Live settings for the running model (applied from its next step). */
  | { type: "adjust"; settings: Partial<Pick<Settings, "lr" | "momentum" | "clipMode" | "clip">> }
  /** For the browser tests only: an error that escapes every handler, as a bug would. */
  | { type: "crash-for-test" };

/** The lab's chart history, kept in the checkpoints it writes (metadata "lab_history") so an upload redraws it. */
export interface LabHistory {
  steps: StepRow[];
  val: { step: number; loss: number }[];
  markers: { step: number; label: string }[];
}

export interface StepRow {
  step: number;
  loss: number;
  gradNorm: number;
  clipped: boolean;
  /** The update was not applied: its loss or gradient (or the update) was not finite. */
  skipped: boolean;
}

export type FromWorker =
  | { type: "ready"; kernels: string; isolated: boolean; cells: { name: CellName; title: string }[]; optimizers: string[] }
  | {
      type: "started";
      description: string;
      unit: string;
      settings: Settings;
      source: Source["kind"];
      /** The task, for a task run. */
      task?: { task: TaskName; length: number; baseline: number };
      step: number;
      parameters: number;
      /** The chart history an uploaded checkpoint brought (null: it had none), and what could not be restored. */
      history?: LabHistory | null;
      notes?: string[];
    }
  | { type: "steps"; rows: StepRow[]; charsPerSecond: number; clipThreshold: number | null; skipped: number }
  /** Live settings now in force, from step `step` on (`label`: what changed, for the charts' markers). */
  | { type: "adjusted"; step: number; settings: Settings; label: string }
  | { type: "validation"; step: number; loss: number; detail?: string }
  | { type: "diagnostics"; step: number; T: number; gradByLag: number[]; lagTitle: string; spectra: SpectrumSummary[]; warnings: string[]; clip: ClipSummary }
  | { type: "sample"; step: number; text: string }
  | { type: "state"; running: boolean; step: number; job: boolean }
  | { type: "checkpoint"; name: string; bytes: ArrayBuffer }
  | {
      /** The single-neuron error surface (surface-compute.ts): the map, the two descents, a cross-section and a readout. */
      type: "surface";
      w: number[];
      b: number[];
      loss: number[];
      /**
       * The descents, plain then norm-clipped; at each point E, ‖∇E‖ before clipping, whether the
       * step from it was clipped, and `along`: its signed distance across the wall (its position
       * projected on the section).
       */
      paths: {
        name: string;
        dashed: boolean;
        points: { x: number; y: number }[];
        loss: number[];
        gradNorm: number[];
        clipped: boolean[];
        along: number[];
      }[];
      start: [number, number];
      /** The settings the descents were computed with. */
      lr: number;
      clip: number;
      steps: number;
      /**
       * E along the straight line across the wall (perpendicular to it) where the plain descent
       * meets it, from `from` to `to` (the line's ends on the map): `along` is the signed distance
       * from the wall point `wall`, negative on the plateau side.
       */
      section: { from: [number, number]; to: [number, number]; wall: [number, number]; along: number[]; loss: number[]; gradNorm: number[] };
      /** What happened, in plain words: where each descent ended, E there, the clipped steps. */
      readout: string;
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
  | { type: "error"; message: string }
  /** The worker failed in a way it could not handle: the page offers a restart. */
  | { type: "fatal"; message: string };

/** The single-neuron figure's descent settings (the CLI's rnnlab surface defaults) and first start point. */
export const SURFACE = { lr: 0.5, clip: 0.2, steps: 100 } as const;
export const SURFACE_START: readonly [number, number] = [5.2, -4];
