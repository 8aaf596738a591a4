// `rnnlab classify train DATA`: a sequence classifier for labelled texts (JSON lines or CSV), with a
// held-out validation split and, at the end, its accuracy beside the majority-class baseline,
// per-label precision and recall, and the confusion matrix. `rnnlab classify predict --checkpoint F
// [TEXT | FILE | -]`: one predicted label per input line. `rnnlab classify dataset speakers`: the
// lines of tiny Shakespeare labelled with their speakers, as JSON lines. A shell around the
// library (nn/sequence-classifier.ts, data/classify-data.ts, data/speakers.ts, train/trainer.ts).

import { existsSync, readFileSync, statSync } from "node:fs";
import { extname } from "node:path";
import { Command } from "commander";
import { parse as parseCsv } from "csv-parse/sync";
import { CELL_NAMES, CELLS, type CellName } from "../nn/cells.js";
import { SequenceClassifier } from "../nn/sequence-classifier.js";
import { DEFAULT_CORPUS } from "../node/corpus.js";
import { checkOutputFile, InputError, readBytes, writeFileAtomic } from "../node/files.js";
import { load, save } from "../node/model-files.js";
import { defaultKernels } from "../tensor/select.js";
import {
  examplesFromRecords,
  labelsOf,
  parseJsonl,
  prepareText,
  splitExamples,
  type TextExample,
  type TextPreparation,
  textTokenizer,
  textVocab,
} from "../data/classify-data.js";
import { BucketBatcher, padBatch } from "../data/sequence-batches.js";
import { speakerDataset } from "../data/speakers.js";
import type { Vocab } from "../data/vocab.js";
import { createOptimizer, OPTIMIZER_NAMES, OPTIMIZERS, type OptimizerName } from "../train/optim.js";
import { NonFiniteError, Trainer } from "../train/trainer.js";
import { metaJson, parseMetaJson } from "../train/schema.js";
import { choiceArg, f32Arg, fmtDuration, fmtInt, intArg, numArg } from "./options.js";
import { out, say, warn } from "./output.js";
import { createProgress, remainingSeconds } from "./progress.js";

/** What a classifier's file keeps of how texts become tokens (metadata "classify"). */
interface TextSettings extends TextPreparation {
  /** Tokens kept of each text, its first ones (absent: all). */
  maxLength?: number;
}

/** The options of `rnnlab classify train`, as commander parses them. */
interface TrainOpts {
  tokens: "chars" | "words";
  vocabSize: number;
  lowercase: boolean;
  splitPunctuation: boolean;
  maxLength: number;
  valFraction: number;
  cell: CellName;
  hidden: number;
  embed: number;
  layers: number;
  bidirectional: boolean;
  dropout: number;
  epochs: number;
  batch: number;
  optimizer: OptimizerName;
  lr?: number;
  weightDecay: number;
  clip: number;
  seed: number;
  out: string;
}

export function classifyCommand(): Command {
  return new Command("classify")
    .description("classify texts: train a sequence classifier on labelled lines, predict labels, make the speaker data set")
    .addCommand(trainSubcommand())
    .addCommand(predictSubcommand())
    .addCommand(datasetSubcommand());
}

function trainSubcommand(): Command {
  return new Command("train")
    .description('train a classifier on labelled texts: JSON lines {"text": ..., "label": ...} (optionally "group"), or CSV with a header text,label[,group]')
    .argument("<data>", "a .jsonl file (one JSON object a line) or a .csv file (RFC 4180, header line naming text and label)")
    .option("--tokens <unit>", "chars, or words (split at whitespace as Python's str.split)", choiceArg(["chars", "words"] as const), "chars")
    .option("--vocab-size <n>", "words: keep the most frequent, up to n tokens with <unk> and <eos>", intArg(3), 10000)
    .option("--lowercase", "fold the texts to lower case first", false)
    .option("--split-punctuation", 'words: make each punctuation mark a word of its own ("lord," is lord and ,)', false)
    .option("--max-length <n>", "tokens kept of each text (its first ones)", intArg(1), 256)
    .option("--val-fraction <x>", "share held out for validation, per label; examples with the same group are never split", numArg(0, 0.9, true), 0.1)
    .option("--cell <type>", `recurrent cell: ${CELL_NAMES.map((c) => `${c} (${CELLS[c].title})`).join(", ")}`, choiceArg(CELL_NAMES), "gru")
    .option("--hidden <n>", "hidden units per layer", intArg(1), 64)
    .option("--embed <n>", "embedding size", intArg(1), 32)
    .option("--layers <n>", "stacked recurrent layers", intArg(1), 1)
    .option("--bidirectional", "read each text in both directions", false)
    .option("--dropout <p>", "dropout between recurrent layers while training", numArg(0, 0.99), 0)
    .option("--epochs <n>", "passes over the training examples", intArg(1), 10)
    .option("--batch <n>", "examples per batch (grouped by length)", intArg(1), 32)
    .option("--optimizer <name>", OPTIMIZER_NAMES.join(", "), choiceArg(OPTIMIZER_NAMES), "adam")
    .option(
      "--lr <x>",
      `learning rate (default: ${OPTIMIZER_NAMES.filter((n) => n !== "sgd")
        .map((n) => `${OPTIMIZERS[n].defaultLr} ${n}`)
        .join(", ")}; none for sgd: give one)`,
      f32Arg(0),
    )
    .option("--weight-decay <x>", "weight decay (L2; decoupled for adamw)", f32Arg(0, false), 0)
    .option("--clip <x>", "clip the global gradient norm to x (0: off)", f32Arg(0, false), 5)
    .option("--seed <n>", "seed of the split, the initial weights and the batches", intArg(0), 1)
    .option("--out <file>", "the classifier's file", "classifier.safetensors")
    .action(async (data: string, o: TrainOpts, cmd: Command) => {
      process.exitCode = await train(data, o, (name) => cmd.getOptionValueSource(name) === "cli");
    });
}

function predictSubcommand(): Command {
  return new Command("predict")
    .description("print the predicted label of each line of the input")
    .requiredOption("--checkpoint <file>", "a classifier written by rnnlab classify train (or saved from code)")
    .argument("[input]", "the text to classify, or a FILE of lines, or - for standard input (an existing file is read as a FILE)")
    .action((input: string | undefined, o: { checkpoint: string }) => {
      predict(input, o.checkpoint);
    });
}

function datasetSubcommand(): Command {
  return new Command("dataset")
    .description("write a labelled data set as JSON lines: speakers, the lines of a play labelled with their speakers")
    .argument("<name>", "speakers", choiceArg(["speakers"] as const))
    .option("--text <file>", "the play: speeches as NAME: then lines, separated by blank lines (default: the embedded tiny Shakespeare)")
    .option("--speakers <n>", "keep the lines of the n speakers with the most lines", intArg(2), 8)
    .option("--out <file>", "where to write it", "speakers.jsonl")
    .action((_name: "speakers", o: { text?: string; speakers: number; out: string }) => {
      dataset(o);
    });
}

// ---------------------------------------------------------------------------------------------
// reading

/** A UTF-8 text file's contents, or an InputError naming what is wrong (missing, a folder, empty, binary, not UTF-8). */
function readText(path: string, what: string): string {
  const bytes = readBytes(path, what);
  if (bytes.length === 0) throw new InputError(`${what} ${path} is empty`);
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new InputError(`${what} ${path} looks like a binary file (a NUL byte at offset ${nul}); give a UTF-8 text file`);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new InputError(`${what} ${path} is not valid UTF-8; convert it, e.g. iconv -f latin1 -t utf-8`);
  }
}

/** The examples of a data file: CSV when it ends in .csv or does not open with "{", else JSON lines. */
function readExamples(path: string): TextExample[] {
  const text = readText(path, "data file");
  const body = text.replace(/^\ufeff/, "");
  const csv = extname(path).toLowerCase() === ".csv" || (extname(path).toLowerCase() !== ".jsonl" && !body.trimStart().startsWith("{"));
  let examples: TextExample[];
  if (csv) {
    let rows: { record: string[]; info: { lines: number } }[];
    try {
      rows = parseCsv(body, { info: true, skip_empty_lines: true, record_delimiter: ["\r\n", "\n", "\r"] }) as unknown as typeof rows;
    } catch (e) {
      throw new InputError(`${path} is not a CSV file rnnlab can read (${(e as Error).message}); give JSON lines or a CSV file with a header line text,label`);
    }
    examples = examplesFromRecords(
      rows.map((r) => r.record),
      path,
      rows.map((r) => r.info.lines),
    );
  } else {
    examples = parseJsonl(body, path);
  }
  if (examples.length === 0) throw new InputError(`${path} holds no examples; give a line per labelled text`);
  return examples;
}

// ---------------------------------------------------------------------------------------------
// evaluation

interface Evaluation {
  loss: number;
  correct: number;
  count: number;
  /** confusion[true * C + predicted] */
  confusion: Int32Array;
}

/** Predictions of sequences `seqs` against labels `ys`, in batches of similar length (evaluation mode). */
function evaluate(clf: SequenceClassifier, seqs: readonly Int32Array[], ys: readonly number[]): Evaluation {
  const C = clf.numClasses;
  const confusion = new Int32Array(C * C);
  const order = Array.from(seqs.keys()).sort((a, b) => seqs[a].length - seqs[b].length);
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < order.length; i += 256) {
    const idx = order.slice(i, i + 256);
    const batch = padBatch(idx.map((j) => seqs[j]));
    const p = clf.probabilities(batch);
    idx.forEach((j, b) => {
      let best = 0;
      for (let c = 1; c < C; c++) if (p[b * C + c] > p[b * C + best]) best = c;
      loss -= Math.log(Math.max(p[b * C + ys[j]], 1e-30));
      confusion[ys[j] * C + best]++;
      if (best === ys[j]) correct++;
    });
  }
  return { loss: loss / seqs.length, correct, count: seqs.length, confusion };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The report's table: per-label precision and recall, then the confusion matrix. */
function reportLines(labels: readonly string[], e: Evaluation): string[] {
  const C = labels.length;
  const shown = labels.map((l) => (l.length > 24 ? `${l.slice(0, 23)}…` : l));
  const w = Math.max(5, ...shown.map((l) => l.length));
  const lines: string[] = [];
  lines.push(`${"".padEnd(4)}${"label".padEnd(w)}  precision  recall  examples`);
  for (let c = 0; c < C; c++) {
    let predicted = 0;
    let actual = 0;
    for (let j = 0; j < C; j++) {
      predicted += e.confusion[j * C + c];
      actual += e.confusion[c * C + j];
    }
    const tp = e.confusion[c * C + c];
    const precision = predicted > 0 ? pct(tp / predicted) : "-";
    const recall = actual > 0 ? pct(tp / actual) : "-";
    lines.push(`${String(c).padStart(2)}  ${shown[c].padEnd(w)}  ${precision.padStart(9)}  ${recall.padStart(6)}  ${String(actual).padStart(8)}`);
  }
  lines.push("confusion matrix (rows: true label, columns: predicted, numbered as above)");
  const cw = Math.max(3, ...Array.from(e.confusion, (n) => String(n).length)) + 1;
  lines.push(`${"".padEnd(4)}${Array.from({ length: C }, (_, c) => String(c).padStart(cw)).join("")}`);
  for (let c = 0; c < C; c++)
    lines.push(`${String(c).padStart(2)}  ${Array.from({ length: C }, (_, j) => String(e.confusion[c * C + j]).padStart(cw)).join("")}`);
  return lines;
}

// ---------------------------------------------------------------------------------------------
// classify train

async function train(path: string, o: TrainOpts, given: (name: string) => boolean): Promise<number> {
  checkOutputFile(o.out, { flag: "--out", inputs: [path] });
  if (o.splitPunctuation && o.tokens !== "words") throw new InputError("--split-punctuation makes punctuation words of their own; add --tokens words");
  if (given("vocabSize") && o.tokens !== "words") throw new InputError("--vocab-size caps a word vocabulary; add --tokens words");
  if (o.dropout > 0 && o.layers < 2) warn("rnnlab: warning: --dropout acts between recurrent layers, so with --layers 1 it does nothing\n");
  const examples = readExamples(path);
  const labels = labelsOf(examples);
  if (labels.length < 2) throw new InputError(`${path}: every example has the label ${JSON.stringify(labels[0])}; a classifier needs two labels or more`);
  const settings: TextSettings = { lowercase: o.lowercase, splitPunctuation: o.splitPunctuation, maxLength: o.maxLength };
  const texts = examples.map((e) => prepareText(e.text, settings));
  const { train: trainIdx, val: valIdx, byGroup } = splitExamples(examples, { valFraction: o.valFraction, seed: o.seed });
  // the vocabulary of the training texts only: what validation holds beyond it is unknown, as it would be in use
  const vocab = textVocab(
    Array.from(trainIdx, (i) => texts[i]),
    { tokens: o.tokens, vocabSize: o.vocabSize, minCount: 2 },
  );
  const tokenize = textTokenizer(vocab, o.maxLength);
  const labelId = new Map(labels.map((l, i) => [l, i]));
  let cut = 0;
  const encoded = examples.map((e, i) => {
    const t = tokenize(texts[i]);
    if (t.ids.length === 0)
      throw new InputError(`${path}: line ${e.line} has no ${o.tokens === "words" ? "words" : "characters"} to classify; remove it or give it text`);
    if (t.cut) cut++;
    return t.ids;
  });
  const ys = examples.map((e) => labelId.get(e.label)!);
  const trainSeqs = Array.from(trainIdx, (i) => encoded[i]);
  const trainYs = Array.from(trainIdx, (i) => ys[i]);
  const valSeqs = Array.from(valIdx, (i) => encoded[i]);
  const valYs = Array.from(valIdx, (i) => ys[i]);

  const clf = new SequenceClassifier({
    vocabSize: vocab.size,
    embedSize: o.embed,
    hiddenSize: o.hidden,
    numLayers: o.layers,
    cell: o.cell,
    bidirectional: o.bidirectional,
    dropout: o.dropout,
    numClasses: labels.length,
    seed: o.seed,
    kernels: defaultKernels(),
  });
  const lr = o.lr ?? OPTIMIZERS[o.optimizer].defaultLr;
  if (o.optimizer === "sgd" && o.lr === undefined)
    throw new InputError(`--optimizer sgd needs --lr (it has no default here), e.g. --lr ${OPTIMIZERS.sgd.defaultLr}`);
  const optimizer = createOptimizer(o.optimizer, clf.store, { lr, weightDecay: o.weightDecay });
  const trainer = new Trainer(clf, { optimizer, clipNorm: o.clip > 0 ? o.clip : undefined });
  const batcher = new BucketBatcher(trainSeqs, trainYs, { batchSize: o.batch, seed: o.seed });
  const perEpoch = batcher.batchesPerEpoch;
  const total = perEpoch * o.epochs;

  const tty = Boolean(process.stdout.isTTY);
  const progress = createProgress(
    tty,
    " {bar} batch {value}/{total} | ETA {left} | epoch {epoch} | loss {loss} | val accuracy {val} | {speed} | grad norm {grad} | clipped {clip}",
  );
  const tokenWord = o.tokens === "words" ? "words" : "characters";
  const prep = [o.lowercase ? "lower case" : "", o.splitPunctuation ? "punctuation split" : ""].filter(Boolean).join(", ");
  progress.line(
    `rnnlab classify: ${path}, ${fmtInt(examples.length)} examples of ${labels.length} labels (${fmtInt(trainIdx.length)} train, ${fmtInt(valIdx.length)} validation, split ${byGroup ? "by group" : "by example"}, per label)`,
  );
  progress.line(
    `tokens: ${tokenWord}${prep ? ` (${prep})` : ""}, vocabulary ${fmtInt(vocab.size)} of the training texts${o.tokens === "words" ? " with <unk> and <eos>" : " with \ufffd for the unknown"}` +
      `${cut ? `, ${fmtInt(cut)} texts cut to ${o.maxLength} tokens` : ""}`,
  );
  progress.line(
    `model: ${o.cell}, ${o.layers} layer${o.layers > 1 ? "s" : ""}${o.bidirectional ? ", bidirectional" : ""}, hidden ${o.hidden}, embedding ${o.embed}${o.dropout ? `, dropout ${o.dropout}` : ""}, ${fmtInt(clf.store.size)} parameters`,
  );
  progress.line(
    `training: ${o.epochs} epochs of ${fmtInt(perEpoch)} batches of up to ${o.batch}, ${o.optimizer} lr ${lr}${o.weightDecay ? `, weight decay ${o.weightDecay}` : ""}${o.clip ? `, clip norm ${o.clip}` : ""}`,
  );

  const t0 = performance.now();
  let step = 0;
  let tokens = 0;
  let lastVal = "-";
  let final: Evaluation | null = null;
  let trainSeconds = 0; // in training steps
  let evalSeconds = 0; // in the validations after each epoch
  try {
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      clf.train();
      let sum = 0;
      let n = 0;
      for (const batch of batcher.epoch()) {
        const s0 = performance.now();
        const r = trainer.step(batch);
        trainSeconds += (performance.now() - s0) / 1000;
        step++;
        sum += r.loss;
        n++;
        for (const len of batch.lengths) tokens += len;
        // the validation after each epoch is an evaluation every perEpoch steps
        const eta = remainingSeconds({
          steps: step,
          target: total,
          perStep: trainSeconds / step,
          timeLeft: Infinity,
          evalEvery: perEpoch,
          perEval: epoch > 1 ? evalSeconds / (epoch - 1) : NaN,
        });
        progress.update(step, total, {
          epoch: `${epoch}/${o.epochs}`,
          loss: `${(sum / n).toFixed(3)} nats`,
          val: lastVal,
          grad: r.gradNorm.toFixed(2),
          clip: `${((100 * trainer.stats.clipped) / step).toFixed(1)}%`,
          speed: `${fmtInt(Math.round(tokens / trainSeconds))} ${o.tokens === "words" ? "words" : "chars"}/s`,
          left: fmtDuration(eta),
        });
        await new Promise((resolve) => setImmediate(resolve)); // let the bar redraw and signals in
      }
      clf.eval();
      const e0 = performance.now();
      final = evaluate(clf, valSeqs, valYs);
      evalSeconds += (performance.now() - e0) / 1000;
      lastVal = pct(final.correct / final.count);
      progress.line(
        `epoch ${epoch}/${o.epochs}: train loss ${(sum / n).toFixed(3)} nats, validation loss ${final.loss.toFixed(3)} nats, accuracy ${lastVal} (${fmtDuration((performance.now() - t0) / 1000)} so far)`,
      );
    }
  } catch (e) {
    progress.stop();
    if (e instanceof NonFiniteError) {
      warn(`rnnlab: ${e.message}; nothing was saved\n`);
      return 1;
    }
    throw e;
  }
  // the bar writes the lines logged above it at its next redraw (5 a second): let the last ones out
  if (tty) await new Promise((resolve) => setTimeout(resolve, 250));
  progress.stop();
  const ev = final!;
  // the majority-class baseline: always answer the label most frequent in training
  const counts = new Int32Array(labels.length);
  for (const y of trainYs) counts[y]++;
  const majority = counts.indexOf(Math.max(...counts));
  const baseline = valYs.filter((y) => y === majority).length / valYs.length;
  const meta: TextSettings = { maxLength: o.maxLength, ...(o.lowercase ? { lowercase: true } : {}), ...(o.splitPunctuation ? { splitPunctuation: true } : {}) };
  save(o.out, clf, { vocab, labels, metadata: { classify: metaJson(meta) } });
  say(`validation accuracy ${pct(ev.correct / ev.count)} (majority class ${pct(baseline)}) on ${fmtInt(ev.count)} examples\n`);
  say(`${reportLines(labels, ev).join("\n")}\n`);
  say(`saved ${o.out} (${fmtDuration((performance.now() - t0) / 1000)})\n`);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// classify predict

/** The text settings a classifier's file keeps (none: texts as they are). */
function settingsOf(path: string, meta: Record<string, string>): TextSettings {
  if (meta.classify === undefined) return {};
  let v: unknown;
  try {
    v = parseMetaJson(meta.classify);
  } catch {
    throw new InputError(`${path} cannot be loaded: metadata "classify" is not valid JSON`);
  }
  const s = v as Record<string, unknown>;
  const ok =
    !!s &&
    typeof s === "object" &&
    !Array.isArray(s) &&
    Object.keys(s).every((k) => ["lowercase", "splitPunctuation", "maxLength"].includes(k)) &&
    (s.lowercase === undefined || typeof s.lowercase === "boolean") &&
    (s.splitPunctuation === undefined || typeof s.splitPunctuation === "boolean") &&
    (s.maxLength === undefined || (Number.isSafeInteger(s.maxLength) && (s.maxLength as number) >= 1));
  if (!ok) throw new InputError(`${path} cannot be loaded: metadata "classify" must be {"lowercase": bool, "splitPunctuation": bool, "maxLength": n}`);
  return s as TextSettings;
}

function predict(input: string | undefined, checkpoint: string): void {
  if (input === undefined) throw new InputError("give the text to classify, a FILE of lines, or - to read standard input");
  const saved = load(checkpoint);
  if (saved.kind !== "sequence-classifier") {
    throw new InputError(
      saved.kind === "language-model"
        ? `${checkpoint} holds a language model, not a classifier: rnnlab sample and eval take it; classify predict takes a file of rnnlab classify train`
        : `${checkpoint} holds a bare recurrent layer, not a classifier; classify predict takes a file of rnnlab classify train`,
    );
  }
  const { model: clf, vocab, labels } = saved;
  if (clf.perStep) throw new InputError(`${checkpoint} labels every step of a sequence (perStep); classify predict gives one label a line: use it from code`);
  if (!clf.embedding)
    throw new InputError(`${checkpoint} holds a classifier of float features, which reads no text; use it from code (SequenceClassifier.predict)`);
  if (!vocab)
    throw new InputError(
      `${checkpoint} holds a classifier of token ids without its vocabulary, so text cannot become its ids; save it with saveModel(clf, { vocab, labels })`,
    );
  const settings = settingsOf(checkpoint, saved.metadata);
  let text: string;
  if (input === "-") {
    const bytes = readFileSync(0);
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      throw new InputError("standard input is not valid UTF-8");
    }
  } else if (existsSync(input) && statSync(input).isFile()) {
    text = readText(input, "input file");
  } else if (existsSync(input) && statSync(input).isDirectory()) {
    throw new InputError(`input ${input} is a folder; give a text, a file of lines, or -`);
  } else {
    text = input;
  }
  const lines = text.replace(/^\ufeff/, "").split(/\r\n|\n|\r/);
  if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop(); // the line break ending the last line
  const results = predictLines(clf, vocab, settings, lines);
  const name = (c: number) => (labels ? labels[c] : String(c));
  let s = "";
  for (const c of results) s += `${c < 0 ? "" : name(c)}\n`;
  out(s);
}

/**
 * The predicted class of each line (-1 for a line with no tokens, which is printed as an empty
 * line). Characters (or words) the vocabulary lacks are read as its unknown token.
 */
function predictLines(clf: SequenceClassifier, vocab: Vocab, settings: TextSettings, lines: readonly string[]): Int32Array {
  const tokenize = textTokenizer(vocab, settings.maxLength ?? Infinity);
  const seqs = lines.map((l) => tokenize(prepareText(l, settings)).ids);
  const result = new Int32Array(lines.length).fill(-1);
  clf.eval();
  const todo = Array.from(seqs.keys())
    .filter((i) => seqs[i].length > 0)
    .sort((a, b) => seqs[a].length - seqs[b].length);
  for (let i = 0; i < todo.length; i += 256) {
    const idx = todo.slice(i, i + 256);
    const pred = clf.predict(padBatch(idx.map((j) => seqs[j])));
    idx.forEach((j, b) => {
      result[j] = pred[b];
    });
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// classify dataset speakers

function dataset(o: { text?: string; speakers: number; out: string }): void {
  const source = o.text ?? DEFAULT_CORPUS;
  checkOutputFile(o.out, { flag: "--out", inputs: [source] });
  const text = readText(source, "text file");
  const { examples, speakers, speeches } = speakerDataset(text, { speakers: o.speakers });
  if (speakers.length < 2)
    throw new InputError(
      `${source} has ${speakers.length === 0 ? "no speeches" : "one speaker only"} (a speech is a line "NAME:" then the lines spoken, then a blank line)`,
    );
  const body = examples.map((e) => JSON.stringify({ text: e.text, label: e.label, group: Number(e.group) })).join("\n");
  writeFileAtomic(o.out, `${body}\n`);
  const n = examples.length;
  say(
    `wrote ${o.out}: ${fmtInt(n)} lines of ${speakers.length} speakers from ${fmtInt(speeches)} speeches of ${o.text ?? "tiny Shakespeare (embedded)"}; "group" is the speech\n`,
  );
  say(`${speakers.map((s) => `${s.name} ${fmtInt(s.lines)} (${pct(s.lines / n)})`).join(", ")}\n`);
}
