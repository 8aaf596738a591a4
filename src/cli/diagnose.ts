// `rnnlab diagnose --checkpoint F`: a self-contained HTML report on a trained model's gradient
// flow (the lecture's exploding and vanishing gradients): gradient against time lag, the
// spectrum of W_hh against the 1/γ bound, and, from metrics.jsonl beside the checkpoint, the
// clipping history, the loss curves and the diagnostics recorded during training.
// The numbers come from analysis/gradflow.ts; this file reads files, draws and writes.

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Command } from "commander";
import { diagnose } from "../analysis/gradflow.js";
import { isCellName } from "../nn/cells.js";
import { clipSummary } from "../train/clip.js";
import type { DiagnosticsRecord, LayerFlow, SpectrumSummary, StepMetrics } from "../analysis/report-data.js";
import { probeBatch } from "../data/batches.js";
import { readCheckpoint, useCheckpoint } from "../node/checkpoint.js";
import { isRecurrentLM } from "../nn/lm.js";
import { probeContext } from "../analysis/context.js";
import { contextProbeSpec } from "../plot/probe-spec.js";
import { checkOutputFile, InputError, writeFileAtomic } from "../node/files.js";
import { checkInferenceFits } from "../train/memory.js";
import {
  clipHistorySpec,
  diagnosticsOverTrainingSpec,
  eigenvaluesSpec,
  gradientByLagSpec,
  gradientByStepSpec,
  lossCurvesSpec,
  reportReadings,
  singularValuesSpec,
} from "../plot/specs.js";
import type { TopLevelSpec } from "vega-lite";
import type { PageSection } from "../node/render.js"; // loaded when the command runs: vega and resvg are heavy
import { modelFromSnapshot } from "../train/run.js";
import { fmtInt, intArg } from "./options.js";
import { runText, runTextPath } from "./surface.js";
import { say, warn } from "./output.js";

interface DiagnoseOpts {
  checkpoint: string;
  out: string;
  text?: string;
  batch: number;
  seq: number;
  contextPositions: number;
}

/** The longest context the report's context probe measures (rnnlab probe context goes further). */
const REPORT_CONTEXT = 256;

const finiteNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const numList = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => x === null || typeof x === "number");

/**
 * The lines of a metrics.jsonl: per-step records and diagnostics records. The file is a user's:
 * a line cut short by a kill, a hand edit, or a record of the wrong shape is skipped, and only
 * the fields the report draws are kept, checked.
 */
export function readMetrics(path: string): { steps: StepMetrics[]; diagnostics: DiagnosticsRecord[] } {
  const steps: StepMetrics[] = [];
  const diagnostics: DiagnosticsRecord[] = [];
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new InputError(`cannot read ${path}: ${(e as Error).message}`);
  }
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      continue;
    }
    if (!rec || typeof rec !== "object" || Array.isArray(rec)) continue;
    const r = rec as Record<string, unknown>;
    if (!finiteNum(r.step)) continue;
    if (r.kind === "diagnostics") {
      if (!Array.isArray(r.layers) || !Array.isArray(r.spectra) || !finiteNum(r.T) || !finiteNum(r.target)) continue;
      const layers = r.layers.filter(
        (f): f is LayerFlow => !!f && typeof f === "object" && finiteNum(f.layer) && finiteNum(f.direction) && numList(f.gradByLag),
      );
      const spectra = r.spectra.filter(
        (x): x is SpectrumSummary =>
          !!x &&
          typeof x === "object" &&
          finiteNum(x.layer) &&
          finiteNum(x.direction) &&
          typeof x.block === "string" &&
          finiteNum(x.sigmaMax) &&
          finiteNum(x.radius),
      );
      const cell = isCellName(r.cell) ? r.cell : "rnn";
      diagnostics.push({ kind: "diagnostics", step: r.step, cell, T: r.T, target: r.target, layers, spectra, warnings: [] });
    } else if (r.kind === undefined && finiteNum(r.loss) && finiteNum(r.grad_norm)) {
      steps.push({
        step: r.step,
        loss: r.loss,
        grad_norm: r.grad_norm,
        clipped: r.clipped === true,
        ...(finiteNum(r.val_loss) ? { val_loss: r.val_loss } : {}),
        ...(finiteNum(r.lr) ? { lr: r.lr } : {}),
      });
    }
  }
  return { steps, diagnostics };
}

export function diagnoseCommand(): Command {
  return new Command("diagnose")
    .description("write an HTML report on a trained model's gradient flow: gradient against time lag, W_hh spectra, clipping history, loss curves")
    .requiredOption("--checkpoint <file>", "a checkpoint written by rnnlab train")
    .option("--out <file>", "the report to write", "report.html")
    .option("--text <file>", "text to probe the model on (default: the run's validation text)")
    .option("--batch <n>", "windows of text probed at once", intArg(1), 8)
    .option("--seq <n>", "steps per window: how far back the gradient is followed", intArg(2), 64)
    .option(
      "--context-positions <n>",
      `targets of the context probe (how far back the model looks, as rnnlab probe context, up to ${REPORT_CONTEXT} tokens back; 0: leave it out)`,
      intArg(0),
      32,
    )
    .action(async (o: DiagnoseOpts) => {
      const metricsPath = join(dirname(o.checkpoint), "metrics.jsonl");
      const snap = readCheckpoint(o.checkpoint);
      // everything the command reads, the run's own text included, is no output
      checkOutputFile(o.out, { flag: "--out", inputs: [o.checkpoint, o.text ?? runTextPath(snap), metricsPath] });
      const { htmlPage, specToSvg } = await import("../node/render.js");
      const t0 = performance.now();
      const { model, vocab, config } = useCheckpoint(o.checkpoint, snap, modelFromSnapshot);
      const T = o.seq;
      // the diagnostics run on a float64 copy: twice the bytes of a float32 evaluation
      checkInferenceFits(config.model, o.batch, T, 8);
      const { tokens, what } = runText(o.checkpoint, snap, vocab, o.text);
      if (tokens.length < T + 1) {
        throw new InputError(
          `${what} has ${fmtInt(tokens.length)} ${vocab.kind === "words" ? "words" : "characters"}, fewer than one window of --seq ${T} needs (${T + 1}); lower --seq or give a longer --text`,
        );
      }
      const { inputs, targets } = probeBatch(tokens, o.batch, T);

      const history = existsSync(metricsPath) ? readMetrics(metricsPath) : null;
      const step = Number(snap.metadata.step ?? 0) || 0;
      const clip = history?.steps.length
        ? clipSummary(
            history.steps.map((r) => r.grad_norm),
            config.train.clipNorm,
          )
        : undefined;
      if (!isRecurrentLM(model))
        throw new InputError(
          `${o.checkpoint} holds a feed-forward model (--cell mlp): diagnose reads a recurrent layer's gradient flow and spectra, which it has none of; use rnnlab eval or rnnlab probe`,
        );
      const rec = diagnose(model, inputs, targets, T, { step, ...(clip ? { clip } : {}) });

      const m = config.model;
      const t = config.train;
      const facts = [
        `checkpoint  ${o.checkpoint} (step ${snap.metadata.step ?? "?"})`,
        `model       ${m.cell === "rnn" ? `rnn (${m.nonlinearity})` : m.cell}, ${m.numLayers} layer${m.numLayers > 1 ? "s" : ""} of ${m.hiddenSize}, embedding ${m.embedSize}, vocabulary ${m.vocabSize}, ${fmtInt(model.store.size)} parameters`,
        `training    ${t.optimizer} lr ${t.lr}, batch ${t.batch}, truncated BPTT(${t.k1}, ${t.k2}), ${t.clipNorm ? `gradient norm clipped to ${t.clipNorm}` : "no norm clipping"}`,
        `probe       ${o.batch} windows of ${T} steps from ${what}; loss of step t = ${rec.target} followed back ${rec.target - 1} steps`,
        `history     ${history ? `${metricsPath}: ${fmtInt(history.steps.length)} steps, ${history.diagnostics.length} diagnostics records` : "no metrics.jsonl beside the checkpoint"}`,
      ];
      const sections: PageSection[] = [];
      const add = async (title: string, spec: TopLevelSpec, note: string) => sections.push({ title, svg: await specToSvg(spec), note });
      await add(
        "1. Gradient against time lag",
        gradientByLagSpec(rec),
        "How much of the loss at step t reaches the state k steps earlier. By the chain rule it passes through the product of Jacobians ∂h_i/∂h_{i−1} = W_hh^T diag(σ'), so on this log scale a straight falling line is vanishing (geometric decay) and a rising one exploding. The points are the spectral norms of the Jacobian products ∂h_t/∂h_k themselves.",
      );
      await add(
        "2. Gradient at each step",
        gradientByStepSpec(rec),
        "The gradient of the loss summed over every step, at each step's state: late steps get their own loss's gradient, early steps only what survives the way back (plus their own).",
      );
      if (rec.spectra.length) {
        await add(
          "3. Eigenvalues of W_hh",
          eigenvaluesSpec(rec.spectra),
          "Outside the unit circle a direction of the linearised recurrence grows at every step; inside, it shrinks. For gate blocks that feed a sigmoid, the relevant circle is 1/γ = 4 (γ = ¼ bounds σ').",
        );
        await add(
          "4. Singular values of W_hh",
          singularValuesSpec(rec.spectra),
          "Pascanu, Mikolov & Bengio (2013): with γ a bound on |σ'| (1 for tanh, ¼ for sigmoid), σ_max(W_hh) < 1/γ is sufficient for vanishing gradients, and σ_max > 1/γ is necessary for exploding ones.",
        );
      }
      if (history?.steps.length) {
        await add(
          "5. Clipping history",
          clipHistorySpec(history.steps, { threshold: t.clipNorm, suggested: clip?.suggested }),
          "The global gradient norm before clipping at every training step; red points were clipped. The band is the range Pascanu et al. (2013) found to work, ½ to 10 times the average norm, with the suggested threshold.",
        );
        await add(
          "6. Loss",
          lossCurvesSpec(history.steps),
          "Training loss per step (faint), smoothed (centred moving average), and validation loss at each evaluation.",
        );
      }
      if (history?.diagnostics.length) {
        await add(
          "7. Diagnostics over training",
          diagnosticsOverTrainingSpec(history.diagnostics),
          "From the diagnostics lines of metrics.jsonl (rnnlab train --diagnose-every): the largest singular value and the spectral radius of each W_hh block, and the gradient that reaches the oldest step of the probe window.",
        );
      }
      if (o.contextPositions > 0) {
        // Khandelwal et al.'s ablation, small: what the model does with what lies d tokens back
        const D = Math.min(REPORT_CONTEXT, tokens.length - 1 - Math.min(o.contextPositions, tokens.length - 2));
        if (D >= 2) {
          const r = probeContext(model, tokens, { maxDistance: D, positions: Math.min(o.contextPositions, tokens.length - D - 1), seed: 0 });
          const unit = vocab.kind === "words" ? "words" : "characters";
          const eff = r.curves.map((c) => `${c.perturbation} ${c.effective}`).join(", ");
          await add(
            "8. How far back it looks",
            contextProbeSpec(r, { loss: vocab.kind === "words" ? "nats per word" : "nats per character", tokens: unit }),
            `The loss on ${r.positions.length} targets of ${what} when the context beyond ${unit.slice(0, -1)} distance d is dropped (the model starts from its zero state d ${unit} back), shuffled or replaced by random ${unit} of the text, against the loss with the whole ${D} ${unit} (Khandelwal et al. 2018, "Sharp Nearby, Fuzzy Far Away"). Effective context (the smallest d within 1% of the full loss from there on): ${eff} ${unit}. rnnlab probe context measures it further back and on more targets.`,
          );
        }
      }
      const html = htmlPage({ title: `rnnlab diagnose: ${o.checkpoint}`, facts, intro: reportReadings(rec), sections });
      writeFileAtomic(o.out, html);
      // stdout is the file written; the time goes to stderr, after success only (a failure is one line there)
      warn(`rnnlab diagnose: ${sections.length} plots in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
      say(`${o.out}\n`);
    });
}
