// Models saved from code as files: saveModel's bytes written atomically (the old file stays whole
// until the new one is complete), and read back with loadModel. The files are rnnlab checkpoints:
// a language model saved here is one `rnnlab sample --checkpoint` takes.

import { CheckpointError } from "../errors.js";
import { loadModel, saveModel, type LoadedModel, type LoadModelOptions, type SavableModel, type SaveModelOptions } from "../train/model-file.js";
import { InputError, readBytes, writeFileAtomic } from "./files.js";

/**
 * Writes a model to `path` (saveModel's bytes), atomically. A model with a non-finite weight is
 * refused (CheckpointError) and nothing is written.
 * @example
 * import { save } from "rnnlab/node";
 * save("lm.safetensors", lm, { vocab }); // then: npx rnnlab sample --checkpoint lm.safetensors
 */
export function save(path: string, model: SavableModel, options: SaveModelOptions = {}): void {
  writeFileAtomic(path, saveModel(model, options));
}

/**
 * Reads a model file (one `save` wrote, or any checkpoint of rnnlab train) and builds the model.
 * A file that is missing, unreadable or not a model is an InputError naming the path.
 * @example
 * import { load } from "rnnlab/node";
 * const saved = load("run/best.safetensors"); // { kind: "language-model", model, vocab, config, metadata }
 */
export function load(path: string, options: LoadModelOptions = {}): LoadedModel {
  const bytes = readBytes(path, "model file");
  try {
    return loadModel(bytes, options);
  } catch (e) {
    if (e instanceof CheckpointError) throw new InputError(`${path} cannot be loaded: ${e.message}`);
    throw e;
  }
}
