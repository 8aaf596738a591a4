// `rnnlab export --checkpoint F --out FILE [--format safetensors|onnx]`: a trained model's weights
// for PyTorch (safetensors, PyTorch's names) or for ONNX Runtime; `--format pytorch-run --out DIR`:
// the training run itself, as a PyTorch folder that continues it (node/pytorch-run.ts).

import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { Command } from "commander";
import { readCheckpoint, useCheckpoint } from "../node/checkpoint.js";
import { checkOutputFile, InputError, writeFileAtomic } from "../node/files.js";
import { exportPytorchRun } from "../node/pytorch-run.js";
import { encodeSafetensors } from "../io/safetensors.js";
import { stateDictOf } from "../io/statedict.js";
import { isRecurrentLM, type AnyLanguageModel } from "../nn/lm.js";
import { modelFromSnapshot, type RunConfig } from "../train/run.js";
import type { Vocab } from "../data/vocab.js";
import { vocabMetadata } from "../data/words.js";
import { CELLS } from "../nn/cells.js";
import { choiceArg, fmtInt, intArg } from "./options.js";
import { say } from "./output.js";

/** The `format` of an export's metadata: rnnlab import recognises it. */
export const EXPORT_FORMAT = "rnnlab-weights/1";

const FORMATS = ["safetensors", "onnx", "pytorch-run"] as const;
type Format = (typeof FORMATS)[number];

interface ExportOpts {
  checkpoint: string;
  out: string;
  format?: Format;
  opset?: number;
  data?: string;
}

/** The PyTorch modules that take an export's weights, as one line of Python. */
export function pytorchModules(config: RunConfig): string {
  const m = config.model;
  if (m.cell === "mlp") {
    const nE = (m.window ?? 1) * m.embedSize;
    const layers = Array.from({ length: m.numLayers }, (_, l) => `nn.Linear(${l === 0 ? nE : m.hiddenSize}, ${m.hiddenSize})`).join(", ");
    return (
      `embedding = nn.Embedding(${m.vocabSize}, ${m.embedSize}); hidden = nn.ModuleList([${layers}]); head = nn.Linear(${m.hiddenSize}, ${m.vocabSize})` +
      (m.direct ? `; direct = nn.Linear(${nE}, ${m.vocabSize}, bias=False)` : "") +
      ` (feed-forward over a window of ${m.window}: x = the window's embeddings concatenated oldest first, logits = head(${m.nonlinearity}(hidden[-1](...${m.nonlinearity}(hidden[0](x)))))${m.direct ? " + direct(x)" : ""})`
    );
  }
  const Cell = CELLS[m.cell].pytorch;
  const extra = `${m.numLayers > 1 ? `, num_layers=${m.numLayers}` : ""}${m.cell === "rnn" && m.nonlinearity === "relu" ? ", nonlinearity='relu'" : ""}`;
  return (
    `embedding = nn.Embedding(${m.vocabSize}, ${m.embedSize}); rnn = nn.${Cell}(${m.embedSize}, ${m.hiddenSize}${extra}); head = nn.Linear(${m.hiddenSize}, ${m.vocabSize})` +
    (m.tieWeights ? "; head.weight = embedding.weight" : "")
  );
}

/** Checks, before any work, that `out` can be written: its folder exists and takes files, it is no folder, and it is not `input`. */
export function checkOutPath(out: string, input: string, flag = "--out"): void {
  checkOutputFile(out, { flag, inputs: [input] });
}

/** writeFileAtomic: a failure (permissions, a full disk) is one line naming the path. */
export function writeOut(out: string, bytes: Uint8Array): void {
  writeFileAtomic(out, bytes);
}

/** Safetensors bytes of a model: its weights under PyTorch's names, config and vocabulary in the metadata. */
export function exportSafetensors(model: AnyLanguageModel, config: RunConfig, vocab: Vocab, meta: Record<string, string>): Uint8Array {
  const m = config.model;
  return encodeSafetensors(stateDictOf(model), {
    format: EXPORT_FORMAT,
    config: JSON.stringify(config),
    ...vocabMetadata(vocab),
    cell: m.cell,
    nonlinearity: m.nonlinearity,
    tie_weights: String(m.tieWeights),
    step: meta.step ?? "0",
    pytorch: pytorchModules(config),
  });
}

export function exportCommand(): Command {
  return new Command("export")
    .description(
      "write a trained model's weights for PyTorch (safetensors, PyTorch's names) or ONNX Runtime (onnx), or the training run as a PyTorch folder that continues it (pytorch-run)",
    )
    .requiredOption("--checkpoint <file>", "a checkpoint written by rnnlab train (or rnnlab import)")
    .requiredOption("--out <file>", "the file to write, e.g. model.safetensors or model.onnx (--format pytorch-run: a new folder)")
    .option(
      "--format <format>",
      "safetensors (weights only: embedding.weight, rnn.*, head.weight, head.bias, with the config and vocabulary in the metadata), onnx (the whole model: tokens -> logits), or pytorch-run (a folder that continues the training run in PyTorch, on one process or under torchrun) (default: from --out's extension)",
      choiceArg(FORMATS),
    )
    .option("--opset <n>", "ONNX operator set, 14 to 23 (default: 17)", intArg(1))
    .option("--data <file>", "--format pytorch-run: the run's text, when it is no longer where the checkpoint says")
    .addHelpText(
      "after",
      "\nLoad a safetensors export in PyTorch with the snippet in docs/interop.md; rnnlab import turns it back into a checkpoint.\n" +
        "A pytorch-run folder holds model.py, train.py, the run and its text, and a README with the commands: python train.py --steps N --out DIR, or torchrun.",
    )
    .action(async (o: ExportOpts) => {
      const ext = extname(o.out).toLowerCase();
      const format: Format | undefined = o.format ?? (ext === ".safetensors" ? "safetensors" : ext === ".onnx" ? "onnx" : undefined);
      if (!format)
        throw new InputError(
          `--out ${o.out} ends neither in .safetensors nor in .onnx; give --format safetensors, --format onnx, or --format pytorch-run (a folder)`,
        );
      if (o.opset !== undefined && format !== "onnx") throw new InputError("--opset is for --format onnx");
      if (o.data !== undefined && format !== "pytorch-run") throw new InputError("--data is for --format pytorch-run (the run's text goes into the folder)");
      if (format === "pytorch-run") {
        const r = exportPytorchRun({ checkpoint: o.checkpoint, out: o.out, data: o.data });
        const m = r.config.model;
        say(
          `${o.out}: the run at step ${r.step} (${m.cell.toUpperCase()} language model, ${m.numLayers} layer${m.numLayers > 1 ? "s" : ""}, hidden ${m.hiddenSize}, ` +
            `${fmtInt(m.vocabSize)} tokens${m.tieWeights ? ", tied weights" : ""}; ${fmtInt(r.tokens)} tokens of text; ${r.history} lines of history) as a PyTorch run: ` +
            `${r.files.join(", ")}; ${fmtInt(r.bytes)} bytes\n`,
        );
        say(`next: cd ${o.out} && python train.py --steps 1000 --out run   (or: torchrun --nproc_per_node 2 train.py --steps 1000 --out run)\n`);
        return;
      }
      checkOutPath(o.out, o.checkpoint);
      const snap = readCheckpoint(o.checkpoint);
      const { model, config, vocab } = useCheckpoint(o.checkpoint, snap, modelFromSnapshot);
      let bytes: Uint8Array;
      if (format === "safetensors") {
        bytes = exportSafetensors(model, config, vocab, snap.metadata);
      } else {
        const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
        if (!isRecurrentLM(model))
          throw new InputError(
            "ONNX export is of recurrent models (RNN, LSTM, GRU); this checkpoint holds a feed-forward model (--cell mlp): use --format safetensors",
          );
        const { exportOnnx } = await import("../io/onnx.js"); // protobufjs loads only when needed
        try {
          // the vocabulary travels with the graph, as in the safetensors export (ids → tokens)
          bytes = exportOnnx(model, {
            opset: o.opset,
            producer: "rnnlab",
            producerVersion: pkg.version,
            metadata: vocabMetadata(vocab),
          });
        } catch (e) {
          if (e instanceof RangeError) throw new InputError(e.message);
          throw e;
        }
      }
      writeOut(o.out, bytes);
      const m = config.model;
      say(
        `${o.out}: ${m.cell === "mlp" ? `feed-forward language model over a window of ${m.window}` : `${m.cell.toUpperCase()} language model`} (${m.numLayers} layer${m.numLayers > 1 ? "s" : ""}, hidden ${m.hiddenSize}, embedding ${m.embedSize}, ` +
          `${fmtInt(m.vocabSize)} tokens${m.tieWeights ? ", tied weights" : ""}) as ${format}, ${fmtInt(bytes.length)} bytes (checkpoint ${o.checkpoint}, step ${snap.metadata.step ?? "?"})\n`,
      );
    });
}
