// The language models rnnlab trains, as one type: the recurrent LanguageModel (RNN, LSTM, GRU)
// and the feed-forward FeedForwardLM over a fixed window (cell "mlp"). Both drive the same data
// path (truncated BPTT's forward/backward/stateAt, predict for sampling and evaluation); what only
// a recurrent model has (a recurrent layer to diagnose, threads, ONNX export) asks isRecurrentLM.

import type { DType } from "../tensor/dtype.js";
import type { Kernels } from "../tensor/kernels.js";
import { CELL_NAMES, CELLS, type CellName } from "./cells.js";
import { FeedForwardLM } from "./feedforward-lm.js";
import { LanguageModel, type ModelConfig } from "./language-model.js";

/** A language model's cell: a recurrent cell, or "mlp", the feed-forward model over a window. */
export type LMCell = CellName | "mlp";

/** Every language-model cell, in the order the CLI lists them. */
export const LM_CELLS: readonly LMCell[] = [...CELL_NAMES, "mlp"];

/** Any language model rnnlab trains, samples and evaluates. */
export type AnyLanguageModel = LanguageModel | FeedForwardLM;

/** Whether a language model is recurrent (has `rnn`, the recurrent layer the diagnostics read). */
export function isRecurrentLM(m: AnyLanguageModel): m is LanguageModel {
  return m instanceof LanguageModel;
}

/** Whether `s` names a language-model cell. */
export function isLMCell(s: unknown): s is LMCell {
  return typeof s === "string" && (LM_CELLS as readonly string[]).includes(s);
}

/** The carried state's tensors of a model config at batch B, in createState's order, as checkpoints name them. */
export function stateTensors(m: ModelConfig, B: number): { name: string; shape: number[] }[] {
  if (m.cell === "mlp") return [{ name: "state.window", shape: [Math.max(1, (m.window ?? 1) - 1), B] }]; // ids + 1, 0 = none
  return CELLS[m.cell].states.map((s) => ({ name: `state.${s}`, shape: [m.numLayers, B, m.hiddenSize] })); // state.h (and state.c)
}

/** The language model of a config (weights initialised from `seed`). */
export function buildLanguageModel(m: ModelConfig, seed: number, kernels?: Kernels, dtype?: DType): AnyLanguageModel {
  if (m.cell === "mlp") {
    return new FeedForwardLM({
      ...(dtype ? { dtype } : {}),
      vocabSize: m.vocabSize,
      embedSize: m.embedSize,
      hiddenSize: m.hiddenSize,
      numLayers: m.numLayers,
      window: m.window ?? 1,
      direct: m.direct ?? false,
      nonlinearity: m.nonlinearity,
      seed,
      kernels,
    });
  }
  return new LanguageModel({
    ...(dtype ? { dtype } : {}),
    vocabSize: m.vocabSize,
    embedSize: m.embedSize,
    hiddenSize: m.hiddenSize,
    numLayers: m.numLayers,
    cell: m.cell,
    nonlinearity: m.nonlinearity,
    tieWeights: m.tieWeights,
    seed,
    dropout: m.dropout ?? 0,
    embeddingDropout: m.embeddingDropout ?? 0,
    outputDropout: m.outputDropout ?? 0,
    init: m.init ?? "default",
    forgetBias: m.forgetBias,
    kernels,
  });
}
