// What the page (app.ts) lets its other parts do, as a user would with the controls: the guided
// lecture mode (lecture.ts) drives the lab only through this.

import type { Settings, Source } from "./protocol.js";

/** The settings that apply to the running model at once (the others need a restart). */
export type LiveSettings = Pick<Settings, "lr" | "momentum" | "clipMode" | "clip">;

/** A data source as the page's radio buttons choose it. */
export type SourceChoice =
  | { kind: "shakespeare" }
  | { kind: "text"; name: string; text: string }
  | { kind: "task"; task: Extract<Source, { kind: "task" }>["task"]; length: number };

/** The views of the page, by name. */
export type ViewName = "loss" | "grad" | "heat" | "eig" | "sample" | "saliency" | "surface";

/** The lab driven by code: every call does what the same clicks would. */
export interface LabControl {
  /** Shows the source and settings in the controls (unset settings: the page's defaults) and starts a new run. */
  run(source: SourceChoice, settings?: Partial<Settings>): void;
  /** Changes the running model's live settings (as the controls do; shown in the controls and marked on the charts). */
  live(settings: Partial<LiveSettings>): void;
  /** Pauses the run (if any). */
  pause(): void;
  /** Keeps the current run as a faded overlay on the charts (runs side by side). */
  pin(): void;
  /** The single-neuron surface: a start point, learning rate and clipping threshold (unset: unchanged). */
  surface(o: { start?: [number, number]; lr?: number; clip?: number }): void;
  /** Explains the model's next prediction after `text` in the saliency view. */
  explain(text: string): void;
  /** Scrolls a view into sight and highlights it for a moment. */
  show(view: ViewName): void;
  /** Calls `f` with the step number after every batch of steps the page receives; returns a function that stops it. */
  onStep(f: (step: number) => void): () => void;
}
