// `rnnlab import FILE.safetensors [--config JSON] [--vocab V] [--out F]`: a PyTorch state_dict of
// an Embedding -> RNN/LSTM/GRU -> Linear language model (or an rnnlab export) becomes an rnnlab
// checkpoint that sample, eval and diagnose take.

import { existsSync, statSync } from "node:fs";
import { basename, extname } from "node:path";
import { Command } from "commander";
import { CharVocab } from "../data/vocab.js";
import { checkOutputFile, InputError, readBytes } from "../node/files.js";
import { decodeSafetensors, SafetensorsError, type SafetensorsTensor } from "../io/safetensors.js";
import { canonicalNames, inferLanguageModelConfig, languageModelFromStateDict, StateDictError, type StateTensor } from "../io/statedict.js";
import { CheckpointError, modelFromSnapshot, SNAPSHOT_FORMAT, type ModelConfig, type RunConfig, type Snapshot, type TrainConfig } from "../train/run.js";
import { EXPORT_FORMAT } from "./export.js";
import { writeCheckpoint } from "../node/checkpoint.js";
import { firstNonFinite, parseRunConfig } from "../train/schema.js";
import { isOptimizerName, OPTIMIZER_NAMES, OPTIMIZERS } from "../train/optim.js";
import { DEFAULT_TRAIN as SESSION_TRAIN } from "../train/session.js";
import { fmtInt } from "./options.js";
import { say } from "./output.js";

interface ImportOpts {
  config?: string;
  vocab?: string;
  out?: string;
}

/** `rnnlab train`'s defaults (the session's): what eval (batch, window) and a later training run read from an imported checkpoint. */
const DEFAULT_TRAIN: TrainConfig = { ...SESSION_TRAIN, lr: OPTIMIZERS[SESSION_TRAIN.optimizer].defaultLr };

const MODEL_KEYS = ["cell", "vocabSize", "embedSize", "hiddenSize", "numLayers", "nonlinearity", "tieWeights", "dropout"] as const;
const TRAIN_KEYS = Object.keys(DEFAULT_TRAIN);

/** What --config may say. */
interface UserConfig {
  model: Partial<ModelConfig>;
  train: Partial<TrainConfig>;
  tokens?: "chars" | "words";
}

const HELP = `
What the file must hold (PyTorch's state_dict names and shapes; V tokens, E embedding size, H hidden size):
  embedding.weight (V, E)     nn.Embedding(V, E)
  rnn.weight_ih_l{k} ...      nn.RNN, nn.LSTM or nn.GRU(E, H, num_layers=L), bias or not, not bidirectional
  head.weight (V, H)          nn.Linear(H, V); may be absent, or equal to embedding.weight, when tied (E = H)
  head.bias (V)               may be absent (bias=False): imported as zeros
Other spellings are recognised: encoder/decoder (PyTorch's word_language_model), embed, emb, lstm, gru,
fc, linear, out, lm_head, and a prefix shared by every name (module., model.) is dropped. F32, F16,
BF16 and F64 tensors are read (into float32). The cell is told by the gate multiple of
rnn.weight_hh_l0 (G, H): G = H an Elman RNN, 3H a GRU, 4H an LSTM; layers by the _l{k} suffixes.

What the names cannot tell:
  the vocabulary        from the file's metadata "vocab" (a JSON list of the V tokens in id order, as
                        rnnlab export writes it), or --vocab
  an Elman RNN's        --config '{"nonlinearity":"tanh"}' (PyTorch's default) or "relu" (or the
    nonlinearity        file's metadata "nonlinearity")
  tying                 read from the weights (head.weight absent or equal to embedding.weight);
                        --config '{"tieWeights":false}' keeps equal ones untied
--config takes JSON or a JSON file: model keys (${MODEL_KEYS.join(", ")}), "tokens" ("chars" or
"words"), or {"model": {...}, "train": {...}} with rnnlab train's settings (batch, k1, k2, ... as
rnnlab eval uses them; defaults: rnnlab train's).
--vocab takes a .json file or inline JSON list of the V tokens in id order; any other file is a
text whose distinct characters, sorted by code point (Python's sorted(set(text)), as rnnlab train
builds it), are the vocabulary; anything else is the characters themselves, in id order.

The checkpoint holds the weights, config and vocabulary: rnnlab sample and eval take it, and rnnlab
diagnose with --text (it names no training text); rnnlab train --resume does not (no optimizer
state, no training text).

Example:
  rnnlab import lm.safetensors --vocab input.txt --config '{"nonlinearity":"tanh"}' --out lm.rnnlab.safetensors
  rnnlab sample --checkpoint lm.rnnlab.safetensors`;

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new InputError(`${what} is not valid JSON`);
  }
}

function readText(path: string, what: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(readBytes(path, what));
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${what} ${path} is not UTF-8 text`);
  }
}

const isFile = (p: string) => existsSync(p) && statSync(p).isFile();
const looksLikePath = (v: string) => /[/\\]/.test(v) || /\.(json|txt|vocab)$/i.test(v);

function parseConfig(value: string | undefined): UserConfig {
  const out: UserConfig = { model: {}, train: {} };
  if (value === undefined) return out;
  const text = value.trim().startsWith("{") ? value : isFile(value) ? readText(value, "--config file") : null;
  if (text === null) throw new InputError(`--config ${value} is neither JSON (starting with "{") nor an existing file`);
  const raw = parseJson(text, `--config ${value.trim().startsWith("{") ? "" : `file ${value} `}`.trim());
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw new InputError('--config must be a JSON object, e.g. \'{"nonlinearity":"relu"}\'');
  const put = (o: Record<string, unknown>, keys: readonly string[], into: Record<string, unknown>, where: string) => {
    for (const [k, v] of Object.entries(o)) {
      if (!keys.includes(k)) throw new InputError(`--config: unknown key ${JSON.stringify(k)}${where}; known: ${keys.join(", ")}`);
      into[k] = v;
    }
  };
  const r = raw as Record<string, unknown>;
  const top: Record<string, unknown> = Object.create(null); // "__proto__" is then a key like any other (and refused)
  for (const [k, v] of Object.entries(r)) {
    if (k === "model" || k === "train") {
      if (!v || typeof v !== "object" || Array.isArray(v)) throw new InputError(`--config: "${k}" must be an object`);
      put(
        v as Record<string, unknown>,
        k === "model" ? MODEL_KEYS : TRAIN_KEYS,
        (k === "model" ? out.model : out.train) as Record<string, unknown>,
        ` in "${k}"`,
      );
    } else if (k === "tokens") {
      if (v !== "chars" && v !== "words") throw new InputError(`--config: "tokens" must be "chars" or "words", got ${JSON.stringify(v)}`);
      out.tokens = v;
    } else {
      top[k] = v;
    }
  }
  put(top, MODEL_KEYS, out.model as Record<string, unknown>, ' (give model keys, "tokens", "model" or "train")');
  const m = out.model;
  if (m.nonlinearity !== undefined && m.nonlinearity !== "tanh" && m.nonlinearity !== "relu")
    throw new InputError(`--config: "nonlinearity" must be "tanh" or "relu", got ${JSON.stringify(m.nonlinearity)}`);
  if (m.tieWeights !== undefined && typeof m.tieWeights !== "boolean") throw new InputError('--config: "tieWeights" must be true or false');
  if (m.dropout !== undefined && !(typeof m.dropout === "number" && m.dropout >= 0 && m.dropout < 1))
    throw new InputError('--config: "dropout" must be a number in [0, 1)');
  const t = out.train;
  for (const k of ["batch", "k1", "k2"] as const) {
    if (t[k] !== undefined && !(Number.isSafeInteger(t[k]) && (t[k] as number) >= 1))
      throw new InputError(`--config: train "${k}" must be a whole number >= 1`);
  }
  if (t.seed !== undefined && !(Number.isSafeInteger(t.seed) && t.seed >= 0)) throw new InputError('--config: train "seed" must be a whole number >= 0');
  if (t.optimizer !== undefined && !isOptimizerName(t.optimizer))
    throw new InputError(`--config: train "optimizer" must be one of ${OPTIMIZER_NAMES.join(", ")}`);
  return out;
}

/** The vocabulary --vocab gives: a JSON list, a text's sorted distinct characters, or the characters themselves. */
function parseVocab(value: string): string[] {
  let list: unknown;
  if (isFile(value)) {
    const text = readText(value, "--vocab file");
    if (extname(value).toLowerCase() === ".json") list = parseJson(text, `--vocab file ${value}`);
    else return [...CharVocab.fromText(text).chars];
  } else if (value.trim().startsWith("[")) {
    list = parseJson(value, "--vocab");
  } else if (existsSync(value)) {
    throw new InputError(`--vocab ${value} is not a regular file; give a vocabulary file (.json list, or the training text) or the characters themselves`);
  } else if (looksLikePath(value)) {
    throw new InputError(`--vocab ${value} does not exist; give a vocabulary file (.json list, or the training text) or the characters themselves`);
  } else {
    return [...value];
  }
  if (!Array.isArray(list) || list.some((c) => typeof c !== "string"))
    throw new InputError("--vocab: a JSON vocabulary must be a list of strings, the tokens in id order");
  return list as string[];
}

function stateDictProblem(file: string, e: StateDictError, tensors: Map<string, StateTensor>): InputError {
  if (!tensors.has("embedding.weight") && tensors.has("weight_hh_l0")) {
    return new InputError(
      `${file} holds a bare recurrent layer (weight_ih_l0, weight_hh_l0, ...), not a language model (embedding.weight, rnn.*, head.*); load bare layers in code with recurrentFromStateDict`,
    );
  }
  return new InputError(`${file} is not a language model rnnlab can import: ${e.message} (see rnnlab import --help)`);
}

export function importCommand(): Command {
  return new Command("import")
    .description(
      "turn a PyTorch state_dict (safetensors) of an Embedding -> RNN/LSTM/GRU -> Linear language model, or an rnnlab export, into an rnnlab checkpoint",
    )
    .argument("<file>", "a .safetensors file: PyTorch's state_dict names and shapes (see below)")
    .option("--config <json-or-file>", 'what the weights cannot tell, as JSON, e.g. \'{"nonlinearity":"relu"}\' (see below)')
    .option("--vocab <file-or-tokens>", "the vocabulary, when the file's metadata has none: a .json list, a training text, or the characters (see below)")
    .option("--out <file>", "the checkpoint to write (default: FILE with .rnnlab.safetensors)")
    .addHelpText("after", HELP)
    .action(async (file: string, o: ImportOpts) => {
      const bytes = readBytes(file, "state_dict file");
      let decoded: { tensors: Map<string, SafetensorsTensor>; metadata: Record<string, string> };
      try {
        decoded = decodeSafetensors(bytes);
      } catch (e) {
        if (e instanceof SafetensorsError)
          throw new InputError(
            `${file} is not a valid safetensors file (${e.message}); the file is damaged or not safetensors: write it again with safetensors.torch.save_file(model.state_dict(), "${basename(file)}")`,
          );
        throw e;
      }
      const meta = decoded.metadata;
      const user = parseConfig(o.config);
      const out = o.out ?? `${file.replace(/\.safetensors$/i, "")}.rnnlab.safetensors`;
      checkOutputFile(out, { flag: "--out", inputs: [file, o.vocab, o.config] });
      // weights that are not finite would poison everything made from them
      for (const [name, t] of decoded.tensors) {
        if (name.startsWith("optim.") || name.startsWith("state.") || t.data instanceof Int32Array) continue;
        const bad = firstNonFinite(t.data);
        if (bad)
          throw new InputError(
            `${file}: tensor "${name}" holds ${bad.value} at element ${bad.index}; a model with non-finite weights cannot be used (save the weights from before training diverged)`,
          );
      }
      const notes: string[] = [];
      // rnnlab's own files carry their config; a checkpoint's optimizer and state tensors are not weights
      const ours = meta.format === EXPORT_FORMAT || meta.format === SNAPSHOT_FORMAT;
      let saved: RunConfig | null = null;
      let tensors: Map<string, StateTensor>;
      if (ours) {
        const raw = parseJson(meta.config ?? "null", `${file}: metadata "config"`);
        try {
          saved = parseRunConfig(raw);
        } catch (e) {
          if (e instanceof CheckpointError) throw new InputError(`${file}: ${e.message}; it was not written by rnnlab, or was changed since`);
          throw e;
        }
        tensors = new Map([...decoded.tensors].filter(([n]) => !n.startsWith("optim.") && !n.startsWith("state.")));
      } else {
        const c = canonicalNames(decoded.tensors);
        tensors = c.tensors;
        if (c.renamed.length) notes.push(`names: ${c.renamed.join(", ")}`);
      }
      // what the names cannot tell
      const fromMeta = (k: string) => (meta[k] === "true" ? true : meta[k] === "false" ? false : undefined);
      const nonlinearity =
        user.model.nonlinearity ?? saved?.model.nonlinearity ?? (meta.nonlinearity === "tanh" || meta.nonlinearity === "relu" ? meta.nonlinearity : undefined);
      const tieWeights = user.model.tieWeights ?? saved?.model.tieWeights ?? fromMeta("tie_weights");
      let inferred: ReturnType<typeof inferLanguageModelConfig>;
      try {
        inferred = inferLanguageModelConfig(tensors, { nonlinearity: nonlinearity ?? "tanh", tieWeights });
      } catch (e) {
        if (e instanceof StateDictError) throw stateDictProblem(file, e, tensors);
        throw e;
      }
      if (inferred.cell === "rnn" && !nonlinearity) {
        throw new InputError(
          `${file} holds an Elman RNN, whose nonlinearity is not in its weights: pass --config '{"nonlinearity":"tanh"}' (PyTorch's default) or '{"nonlinearity":"relu"}'`,
        );
      }
      for (const k of ["cell", "vocabSize", "embedSize", "hiddenSize", "numLayers"] as const) {
        if (user.model[k] !== undefined && user.model[k] !== inferred[k]) {
          throw new InputError(`--config says ${k} ${JSON.stringify(user.model[k])}, but the weights in ${file} have ${JSON.stringify(inferred[k])}`);
        }
      }
      // the vocabulary
      const tokens = user.tokens ?? (meta.tokens === "words" ? "words" : "chars");
      let vocab: string[];
      if (o.vocab !== undefined) {
        vocab = parseVocab(o.vocab);
      } else if (meta.vocab !== undefined) {
        const v = parseJson(meta.vocab, `${file}: metadata "vocab"`);
        if (!Array.isArray(v) || v.some((c) => typeof c !== "string"))
          throw new InputError(`${file}: metadata "vocab" is not a JSON list of strings; pass --vocab`);
        vocab = v as string[];
      } else {
        throw new InputError(
          `${file} has no vocabulary (metadata "vocab"); pass --vocab with the ${fmtInt(inferred.vocabSize)} tokens in id order: a .json list, the training text (its distinct characters sorted, as Python's sorted(set(text))), or the characters themselves`,
        );
      }
      if (vocab.length !== inferred.vocabSize) {
        throw new InputError(
          `the vocabulary has ${fmtInt(vocab.length)} tokens but embedding.weight has ${fmtInt(inferred.vocabSize)} rows; give the vocabulary the model was trained with`,
        );
      }
      if (tokens === "chars") {
        const bad = vocab.findIndex((c) => [...c].length !== 1);
        if (bad >= 0)
          throw new InputError(
            `vocabulary entry ${bad} (${JSON.stringify(vocab[bad].slice(0, 20))}) is not one character; a word-level vocabulary needs --config '{"tokens":"words"}'`,
          );
      }
      const config: RunConfig = {
        model: {
          cell: inferred.cell,
          vocabSize: inferred.vocabSize,
          embedSize: inferred.embedSize,
          hiddenSize: inferred.hiddenSize,
          numLayers: inferred.numLayers,
          nonlinearity: inferred.nonlinearity,
          tieWeights: inferred.tieWeights,
          dropout: user.model.dropout ?? saved?.model.dropout ?? 0,
          init: saved?.model.init ?? "default",
          ...(saved?.model.forgetBias !== undefined ? { forgetBias: saved.model.forgetBias } : {}),
        },
        train: { ...DEFAULT_TRAIN, ...saved?.train, ...user.train },
      };
      if (config.train.k2 < config.train.k1) throw new InputError(`--config: train k2 (${config.train.k2}) must be >= k1 (${config.train.k1})`);
      // build the model and load the weights (recurrent layers without biases get zero biases: the same function)
      let built: ReturnType<typeof languageModelFromStateDict>;
      try {
        built = languageModelFromStateDict(tensors, {
          nonlinearity: config.model.nonlinearity,
          tieWeights: config.model.tieWeights,
          alwaysBias: true,
          seed: config.train.seed,
        });
      } catch (e) {
        if (e instanceof StateDictError) throw stateDictProblem(file, e, tensors);
        throw e;
      }
      const { model, report, zeroed } = built;
      if (zeroed.length) notes.push(`no ${zeroed.join(", ")} in the file: zeros (the same function)`);
      const rounded = report.converted.filter((c) => !c.exact).map((c) => c.name);
      const widened = [...new Set(report.converted.filter((c) => c.exact).map((c) => c.from))];
      if (widened.length) notes.push(`${widened.join(" and ")} weights widened to float32 (exactly)`);
      if (rounded.length) notes.push(`${rounded.length} F64 tensor${rounded.length > 1 ? "s" : ""} rounded to float32`);
      if (report.tied) notes.push("head.weight equals embedding.weight: kept tied");
      const snap: Snapshot = { tensors: {}, metadata: {} };
      for (const p of model.store.params) Object.defineProperty(snap.tensors, p.name, { value: { shape: [...p.shape], data: p.value }, enumerable: true });
      snap.metadata = {
        format: SNAPSHOT_FORMAT,
        config: JSON.stringify(config),
        vocab: JSON.stringify(vocab),
        tokens,
        step: /^\d+$/.test(meta.step ?? "") ? meta.step : "0",
        imported_from: basename(file),
      };
      try {
        modelFromSnapshot(snap); // what sample and eval will do with it
      } catch (e) {
        if (e instanceof CheckpointError || e instanceof RangeError) throw new InputError(`${file} cannot become a checkpoint: ${e.message}`);
        throw e;
      }
      writeCheckpoint(out, snap);
      const m = config.model;
      say(
        `${out}: ${m.cell.toUpperCase()}${m.cell === "rnn" ? ` (${m.nonlinearity})` : ""} language model, ${m.numLayers} layer${m.numLayers > 1 ? "s" : ""}, hidden ${m.hiddenSize}, ` +
          `embedding ${m.embedSize}, ${fmtInt(m.vocabSize)} ${tokens === "words" ? "words" : "characters"}${m.tieWeights ? ", tied weights" : ""}, from ${file}\n` +
          notes.map((n) => `  ${n}\n`).join("") +
          `try: rnnlab sample --checkpoint ${out}\n`,
      );
    });
}
