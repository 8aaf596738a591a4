// `rnnlab import FILE.safetensors [--config JSON] [--vocab V] [--out F]`: a PyTorch state_dict of
// an Embedding -> RNN/LSTM/GRU -> Linear language model (or an rnnlab export) becomes an rnnlab
// checkpoint that sample, eval and diagnose take.

import { existsSync, statSync } from "node:fs";
import { basename, extname } from "node:path";
import { Command } from "commander";
import { CharVocab } from "../data/vocab.js";
import { EOS, isPythonSpace, WordVocab, wordVocabMetadata, wordVocabOptionsOf } from "../data/words.js";
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
import { rnnlab } from "./invocation.js";

interface ImportOpts {
  config?: string;
  vocab?: string;
  out?: string;
}

/** `rnnlab train`'s defaults (the session's): what eval (batch, window) and a later training run read from an imported checkpoint. */
const DEFAULT_TRAIN: TrainConfig = { ...SESSION_TRAIN, lr: OPTIMIZERS[SESSION_TRAIN.optimizer].defaultLr };

const MODEL_KEYS = [
  "cell",
  "vocabSize",
  "embedSize",
  "hiddenSize",
  "numLayers",
  "nonlinearity",
  "tieWeights",
  "dropout",
  "embeddingDropout",
  "outputDropout",
] as const;
const TRAIN_KEYS = Object.keys(DEFAULT_TRAIN);

/** What --config may say. */
interface UserConfig {
  model: Partial<ModelConfig>;
  train: Partial<TrainConfig>;
  tokens?: "chars" | "words";
  /** A word vocabulary's unknown-word token (null: none), when not <unk>. */
  unk?: string | null;
  /** A word vocabulary's end-of-line token, when not <eos>. */
  eos?: string;
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
"words"), "unk" and "eos" (a word vocabulary's unknown-word and end-of-line tokens when they are not
<unk> and <eos>; "unk": null for none), or {"model": {...}, "train": {...}} with rnnlab train's
settings (batch, k1, k2, ... as rnnlab eval uses them; defaults: rnnlab train's).
--vocab takes the V tokens in id order, in any order of tokens (id i is the i-th):
  a .json file, or inline JSON list
  a file of one token per line: a word vocabulary as Python writes it,
    "\\n".join(corpus.dictionary.idx2word), saved as UTF-8
  any other file: a text whose distinct characters, sorted by code point (Python's sorted(set(text)),
    as rnnlab train builds it), are the vocabulary
  anything else: the characters themselves, in id order
A file that is not JSON is read one token per line with "tokens": "words", and without it when only
that fits (V lines, one of them the end-of-line token). A word vocabulary needs its end-of-line token
(<eos>, anywhere); a word outside it becomes <unk> if the vocabulary has one, else rnnlab eval stops
and names it. Words are split as Python's str.split() on a text-mode file's lines (\\n, \\r\\n, \\r).

PyTorch pickles (.pt, .pth, .bin: torch.save) cannot be read; save the weights as safetensors in Python:
  from safetensors.torch import save_file
  save_file(model.state_dict(), "model.safetensors")
or, for tied weights (save_file refuses tensors shared by two names): save_model(model, "model.safetensors")
from the same module, which rnnlab reads too.

PyTorch's word_language_model example (main.py saves model.pt with torch.save): in its folder, in Python,
  import torch, data
  from safetensors.torch import save_model
  save_model(torch.load("model.pt", map_location="cpu", weights_only=False), "model.safetensors")
  with open("vocab.txt", "w", encoding="utf8") as f:
      f.write("\\n".join(data.Corpus("./data/wikitext-2").dictionary.idx2word))
then
  rnnlab import model.safetensors --vocab vocab.txt --out wlm.safetensors
  rnnlab eval data/wikitext-2/test.txt --checkpoint wlm.safetensors
(--model RNN_TANH or RNN_RELU: add --config '{"nonlinearity":"tanh"}' or "relu").

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

/** A UTF-8 file's text; a byte order mark opening it is dropped, unless `keepBom`. */
function readText(path: string, what: string, keepBom = false): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: keepBom }).decode(readBytes(path, what));
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
    } else if (k === "unk") {
      if (v !== null && (typeof v !== "string" || v === "")) throw new InputError('--config: "unk" must be a token of the vocabulary, or null for none');
      out.unk = v;
    } else if (k === "eos") {
      if (typeof v !== "string" || v === "") throw new InputError('--config: "eos" must be a token of the vocabulary');
      out.eos = v;
    } else {
      top[k] = v;
    }
  }
  put(top, MODEL_KEYS, out.model as Record<string, unknown>, ' (give model keys, "tokens", "unk", "eos", "model" or "train")');
  if ((out.unk !== undefined || out.eos !== undefined) && out.tokens === "chars")
    throw new InputError('--config: "unk" and "eos" name tokens of a word vocabulary; they do not go with "tokens": "chars"');
  const m = out.model;
  if (m.nonlinearity !== undefined && m.nonlinearity !== "tanh" && m.nonlinearity !== "relu")
    throw new InputError(`--config: "nonlinearity" must be "tanh" or "relu", got ${JSON.stringify(m.nonlinearity)}`);
  if (m.tieWeights !== undefined && typeof m.tieWeights !== "boolean") throw new InputError('--config: "tieWeights" must be true or false');
  for (const k of ["dropout", "embeddingDropout", "outputDropout"] as const) {
    const p = m[k];
    if (p !== undefined && !(typeof p === "number" && p >= 0 && p < 1)) throw new InputError(`--config: "${k}" must be a number in [0, 1)`);
  }
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

/** What --vocab gave: the tokens in id order, whether they are words (when the file tells), and a hint for a size mismatch. */
interface VocabRead {
  list: string[];
  /** "words" for a file read one token per line; undefined when the list itself must tell (JSON). */
  tokens?: "chars" | "words";
  /** Said after a size mismatch: how else the file could be read. */
  hint?: string;
  /** How the file was read, when it was not what it said (a file taken as one token per line). */
  how?: string;
}

/**
 * The tokens of a word vocabulary file: one per line, in id order (what Python's
 * `"\n".join(corpus.dictionary.idx2word)` writes; a final line break, and \r\n, are fine), or
 * why the file is not that.
 */
function tokenLines(text: string): string[] | string {
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const w = lines[i];
    let bad = w.length === 0;
    for (let j = 0; !bad && j < w.length; j++) bad = isPythonSpace(w.charCodeAt(j));
    if (bad) return `line ${i + 1} (${JSON.stringify(w.length > 40 ? `${w.slice(0, 37)}...` : w)}) is not one token (empty, or with whitespace)`;
  }
  return lines;
}

/** Words when nothing says which: a list holding the end-of-line token and tokens longer than one character. */
function looksLikeWords(list: readonly string[], eos: string): boolean {
  return list.includes(eos) && list.some((t) => [...t].length !== 1);
}

/**
 * The vocabulary --vocab gives: a JSON list; a file of one token per line (words); a text whose
 * sorted distinct characters are the vocabulary; or the characters themselves. A file that is not
 * JSON is read as words with `tokens` "words", as characters with "chars", and otherwise as
 * characters unless only its lines fit: V lines, one of them the end-of-line token, where its
 * distinct characters are not V.
 */
function parseVocab(value: string, tokens: "chars" | "words" | undefined, V: number, eos: string): VocabRead {
  let list: unknown;
  if (isFile(value)) {
    const text = readText(value, "--vocab file", true); // a word's U+FEFF opening the file is kept, as Python keeps it
    if (extname(value).toLowerCase() === ".json") {
      list = parseJson(text.replace(/^\ufeff/, ""), `--vocab file ${value}`);
    } else {
      const chars = [...CharVocab.fromText(text.replace(/^\ufeff/, "")).chars];
      if (tokens === "chars") return { list: chars, tokens };
      const lines = tokenLines(text);
      if (tokens === "words") {
        if (typeof lines === "string")
          throw new InputError(
            `--vocab ${value}: ${lines}; a word vocabulary file has one token per line, in id order (as Python's "\\n".join(corpus.dictionary.idx2word) writes it)`,
          );
        return { list: lines, tokens };
      }
      if (chars.length !== V && Array.isArray(lines) && lines.length === V && lines.includes(eos)) {
        return { list: lines, tokens: "words", how: `${value} read as one token per line (its ${V} lines match embedding.weight's rows)` };
      }
      const hint =
        Array.isArray(lines) && lines.length === V
          ? `; ${value} has ${V} lines: if it holds one token per line, pass --config '{"tokens":"words"}'`
          : undefined;
      return { list: chars, tokens: "chars", hint };
    }
  } else if (value.trim().startsWith("[")) {
    list = parseJson(value, "--vocab");
  } else if (existsSync(value)) {
    throw new InputError(
      `--vocab ${value} is not a regular file; give a vocabulary file (.json list, one token per line, or the training text) or the characters themselves`,
    );
  } else if (looksLikePath(value)) {
    throw new InputError(
      `--vocab ${value} does not exist; give a vocabulary file (.json list, one token per line, or the training text) or the characters themselves`,
    );
  } else {
    return { list: [...value], tokens: tokens ?? "chars" };
  }
  if (!Array.isArray(list) || list.some((c) => typeof c !== "string"))
    throw new InputError("--vocab: a JSON vocabulary must be a list of strings, the tokens in id order");
  return { list: list as string[], tokens };
}

/** The file extensions of PyTorch's pickles (torch.save), which rnnlab does not read. */
const PICKLE_EXT = /\.(pt|pth|bin|ckpt|pkl|pickle|tar)$/i;

/**
 * What a file that is not safetensors is, when it is a PyTorch or Python pickle: by its first
 * bytes (a zip archive, torch.save's format since PyTorch 1.6; a pickle's PROTO opcode) or by its
 * name; null otherwise.
 */
function pickleKind(file: string, bytes: Uint8Array): string | null {
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04)
    return "a PyTorch pickle (torch.save, a zip archive)";
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5) return "a Python pickle (torch.save's legacy format)";
  if (PICKLE_EXT.test(file)) return `not safetensors but, by its name (${extname(file)}), a PyTorch pickle (torch.save)`;
  return null;
}

function stateDictProblem(file: string, e: StateDictError, tensors: Map<string, StateTensor>): InputError {
  if (!tensors.has("embedding.weight") && tensors.has("weight_hh_l0")) {
    return new InputError(
      `${file} holds a bare recurrent layer (weight_ih_l0, weight_hh_l0, ...), not a language model (embedding.weight, rnn.*, head.*); load bare layers in code with recurrentFromStateDict`,
    );
  }
  return new InputError(`${file} is not a language model rnnlab can import: ${e.message} (see ${rnnlab("import --help")})`);
}

/** `rnnlab import`: a PyTorch state_dict (safetensors) of a language model, or an rnnlab export, becomes an rnnlab checkpoint. */
export function importCommand(): Command {
  return new Command("import")
    .description(
      "turn a PyTorch state_dict (safetensors) of an Embedding -> RNN/LSTM/GRU -> Linear language model, or an rnnlab export, into an rnnlab checkpoint",
    )
    .argument("<file>", "a .safetensors file: PyTorch's state_dict names and shapes (see below)")
    .option("--config <json-or-file>", 'what the weights cannot tell, as JSON, e.g. \'{"nonlinearity":"relu"}\' (see below)')
    .option(
      "--vocab <file-or-tokens>",
      "the vocabulary, when the file's metadata has none: a .json list, a file of one token per line, a training text, or the characters (see below)",
    )
    .option("--out <file>", "the checkpoint to write (default: FILE with .rnnlab.safetensors)")
    .addHelpText("after", HELP)
    .action(async (file: string, o: ImportOpts) => {
      const bytes = readBytes(file, "state_dict file");
      let decoded: { tensors: Map<string, SafetensorsTensor>; metadata: Record<string, string> };
      try {
        decoded = decodeSafetensors(bytes);
      } catch (e) {
        const pickle = e instanceof SafetensorsError ? pickleKind(file, bytes) : null;
        if (pickle) {
          const name = JSON.stringify(basename(file));
          throw new InputError(
            `${file} is ${pickle}, which rnnlab cannot read; in Python, save its state dict as safetensors: model = torch.load(${name}, map_location="cpu", weights_only=False); ` +
              `from safetensors.torch import save_file; save_file(model.state_dict(), "model.safetensors") ` +
              `(tied weights, as word_language_model --tied: save_model(model, "model.safetensors") from safetensors.torch, since save_file refuses shared tensors)`,
          );
        }
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
        const c = canonicalNames(decoded.tensors, meta);
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
      const saidTokens = user.tokens ?? (meta.tokens === "words" || meta.tokens === "chars" ? meta.tokens : undefined);
      const special = {
        ...wordVocabOptionsOf(meta),
        ...(user.unk !== undefined ? { unk: user.unk } : {}),
        ...(user.eos !== undefined ? { eos: user.eos } : {}),
      };
      const eos = special.eos ?? EOS;
      let read: VocabRead;
      if (o.vocab !== undefined) {
        read = parseVocab(o.vocab, saidTokens, inferred.vocabSize, eos);
      } else if (meta.vocab !== undefined) {
        const v = parseJson(meta.vocab, `${file}: metadata "vocab"`);
        if (!Array.isArray(v) || v.some((c) => typeof c !== "string"))
          throw new InputError(`${file}: metadata "vocab" is not a JSON list of strings; pass --vocab`);
        read = { list: v as string[], tokens: saidTokens };
      } else {
        throw new InputError(
          `${file} has no vocabulary (metadata "vocab"); pass --vocab with the ${fmtInt(inferred.vocabSize)} tokens in id order: a .json list, a file of one token per line (words), the training text (its distinct characters sorted, as Python's sorted(set(text))), or the characters themselves`,
        );
      }
      const vocab = read.list;
      const tokens = read.tokens ?? (looksLikeWords(vocab, eos) ? "words" : "chars");
      if (vocab.length !== inferred.vocabSize) {
        throw new InputError(
          `the vocabulary has ${fmtInt(vocab.length)} tokens but embedding.weight has ${fmtInt(inferred.vocabSize)} rows; give the vocabulary the model was trained with${read.hint ?? ""}`,
        );
      }
      let words: WordVocab | null = null;
      if (tokens === "chars") {
        if (user.unk !== undefined || user.eos !== undefined)
          throw new InputError(`--config: "unk" and "eos" name tokens of a word vocabulary, but this one is read as characters; add "tokens": "words"`);
        const bad = vocab.findIndex((c) => [...c].length !== 1);
        if (bad >= 0)
          throw new InputError(
            `vocabulary entry ${bad} (${JSON.stringify(vocab[bad].slice(0, 20))}) is not one character; a word-level vocabulary needs --config '{"tokens":"words"}'`,
          );
      } else {
        if (!vocab.includes(eos)) {
          throw new InputError(
            `the word vocabulary has no end-of-line token ${JSON.stringify(eos)}, which a word model reads at the end of every line` +
              (user.eos === undefined ? `; if the vocabulary spells it otherwise, name it with --config '{"eos":"TOKEN"}'` : ""),
          );
        }
        try {
          words = new WordVocab(vocab, special);
        } catch (e) {
          if (e instanceof RangeError) throw new InputError(`the word vocabulary: ${e.message.replace(/^WordVocab: /, "")}`);
          throw e;
        }
        notes.push(
          `vocabulary: ${read.how ? `${read.how}: ` : ""}${fmtInt(words.size)} words in the order given; line end ${JSON.stringify(words.eos)} is id ${words.eosId}; ` +
            (words.unk === null
              ? `no unknown-word token (eval stops at a word outside the vocabulary; --config '{"unk":"TOKEN"}' names one)`
              : `unknown words are ${JSON.stringify(words.unk)} (id ${words.unkId})`),
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
          ...Object.fromEntries(
            (["embeddingDropout", "outputDropout"] as const).flatMap((k) => {
              const p = user.model[k] ?? saved?.model[k] ?? 0;
              return p > 0 ? [[k, p]] : [];
            }),
          ),
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
        ...(words ? wordVocabMetadata(words) : {}),
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
          `try: ${rnnlab(`sample --checkpoint ${out}`)}\n`,
      );
    });
}
