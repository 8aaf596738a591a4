// `rnnlab probe context --checkpoint F [FILE]`: how far back a trained language model looks
// (Khandelwal et al. 2018): the loss on held-out text when the context beyond a distance d is
// dropped, shuffled or replaced, against the full context's; a table, --json and --plot.
// `rnnlab probe saliency --checkpoint F --text "..."`: which earlier tokens the next prediction
// rests on, by gradient norm and by occlusion, as a self-contained HTML page and --json.
// The numbers come from analysis/context.ts and analysis/saliency.ts; this file reads, checks,
// prints and writes.

import { existsSync } from "node:fs";
import { extname } from "node:path";
import cliProgress from "cli-progress";
import { Command } from "commander";
import { PERTURBATION_MEANINGS, probeContext, tokenClasses, type ContextProbeResult } from "../analysis/context.js";
import { saliency, type SaliencyResult } from "../analysis/saliency.js";
import type { Vocab } from "../data/vocab.js";
import { readCheckpoint, useCheckpoint } from "../node/checkpoint.js";
import { loadCorpus } from "../node/corpus.js";
import { checkOutputFile, InputError, writeFilesAtomic } from "../node/files.js";
import { contextProbeSpec } from "../plot/probe-spec.js";
import { checkInferenceFits } from "../train/memory.js";
import { modelFromSnapshot } from "../train/run.js";
import { fmtInt, intArg } from "./options.js";
import { say, warn } from "./output.js";
import { runText, runTextPath } from "./surface.js";
import { rnnlab } from "./invocation.js";

/** The longest context probed in a recurrent model when --max-distance is not given (tokens). */
export const DEFAULT_MAX_DISTANCE = 1024;
/** The longest text `probe saliency` explains (tokens): occlusion runs the text once per token. */
export const MAX_SALIENCY_TOKENS = 1000;

export function probeCommand(): Command {
  return new Command("probe")
    .description("look at what a trained language model uses: how far back it looks (context), which earlier tokens a prediction rests on (saliency)")
    .addCommand(contextSubcommand())
    .addCommand(saliencySubcommand());
}

// ---------------------------------------------------------------------------------------------
// shared

/** A model, its vocabulary and a line about it, from a checkpoint rnnlab can load (as rnnlab eval loads it). */
function loadModel(path: string) {
  const snap = readCheckpoint(path);
  const { model, vocab, config } = useCheckpoint(path, snap, modelFromSnapshot);
  const m = config.model;
  const window = (model as { window?: number }).window;
  const what =
    window !== undefined
      ? `feed-forward over a window of ${window}, ${m.numLayers} hidden layer${m.numLayers > 1 ? "s" : ""} of ${m.hiddenSize}`
      : `${m.cell === "rnn" ? `rnn (${m.nonlinearity})` : m.cell}, ${m.numLayers} layer${m.numLayers > 1 ? "s" : ""} of ${m.hiddenSize}`;
  return { snap, model, vocab, config, window, describe: `${what}, embedding ${m.embedSize}, vocabulary ${fmtInt(vocab.size)}` };
}

const unitOf = (vocab: Vocab) => (vocab.kind === "words" ? "words" : "characters");
const lossUnit = (vocab: Vocab) => (vocab.kind === "words" ? "nats per word" : "nats per character");

/** Checks --json (and the other outputs) before any work: a writable file, none of the inputs, no two the same. */
function checkOutputs(outputs: [flag: string, path: string | undefined][], inputs: (string | null | undefined)[]): void {
  const given = outputs.filter((o): o is [string, string] => o[1] !== undefined);
  for (const [flag, path] of given) checkOutputFile(path, { flag, inputs });
  for (let i = 0; i < given.length; i++) {
    for (let j = i + 1; j < given.length; j++) {
      if (given[i][1] === given[j][1]) throw new InputError(`${given[i][0]} and ${given[j][0]} name the same file ${given[i][1]}; give two files`);
    }
  }
}

/** JSON, indented, with arrays of numbers or strings kept on one line each. */
function compactJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2).replace(/\[\n\s+([^[\]{}]*?)\n\s*\]/g, (_, body: string) => `[${body.split(/,\n\s+/).join(", ")}]`)}\n`;
}

/** A live bar on standard error when it is a terminal (the work in token-steps); nothing otherwise. */
function progressBar(label: string) {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { format: ` ${label} {bar} {percentage}% | {done} token-steps | ETA {eta_formatted}`, hideCursor: true, barsize: 24, fps: 5, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done: number, total: number) {
      if (!started) {
        bar.start(total, 0, { done: "0" });
        started = true;
      }
      bar.update(done, { done: fmtInt(done) });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// probe context

interface ContextOpts {
  checkpoint: string;
  positions: number;
  maxDistance: number;
  seed: number;
  batch: number;
  json?: string;
  plot?: string;
}

function contextSubcommand(): Command {
  return new Command("context")
    .description(
      "how far back the model looks (Khandelwal et al. 2018): the loss when the context beyond a distance d is dropped, shuffled or replaced, for d = 1, 2, 4, ...; the effective context is the smallest d from which on the loss stays within 1% of the full context's",
    )
    .argument("[file]", "UTF-8 text to probe (default: the run's validation split)")
    .requiredOption("--checkpoint <file>", "a language model: trained by rnnlab train, imported by rnnlab import, or saved by saveModel")
    .option("--positions <n>", "target positions sampled from the text", intArg(1), 128)
    .option(
      "--max-distance <n>",
      "longest context of a recurrent model, in tokens; the full-context loss uses exactly this many (a window model: its window; a short text: what it allows)",
      intArg(1),
      DEFAULT_MAX_DISTANCE,
    )
    .option("--seed <n>", "seed of the positions, the shuffles and the replacements (same seed, same numbers)", intArg(0), 1)
    .option("--batch <n>", "target positions run through the model at once", intArg(1), 128)
    .option("--json <file>", "also write the numbers as JSON")
    .option("--plot <file>", "also draw the loss against d: FILE.svg or FILE.png")
    .action(async (file: string | undefined, o: ContextOpts, cmd: Command) => {
      if (o.plot !== undefined && ![".svg", ".png"].includes(extname(o.plot).toLowerCase()))
        throw new InputError(`--plot ${o.plot}: give a file ending in .svg or .png`);
      const snap0 = readCheckpoint(o.checkpoint);
      const runPath = file ? null : runTextPath(snap0);
      if (!file && runPath === null)
        throw new InputError(
          `checkpoint ${o.checkpoint} does not name its training text; give a text to probe: ${rnnlab(`probe context --checkpoint ${o.checkpoint} FILE`)}`,
        );
      if (runPath !== null && !existsSync(runPath)) throw new InputError(`the run's text ${runPath} is gone; give a text to probe as FILE`);
      // everything the command reads, the run's own text included, is no output
      checkOutputs(
        [
          ["--json", o.json],
          ["--plot", o.plot],
        ],
        [o.checkpoint, file ?? runPath],
      );
      const t0 = performance.now();
      const { snap, model, vocab, config, window, describe } = loadModel(o.checkpoint);
      const { tokens, what } = file
        ? { tokens: loadCorpus(file, vocab, { missing: "give the path of a text file to probe" }).tokens, what: file }
        : runText(o.checkpoint, snap, vocab, undefined);
      const n = tokens.length;
      const unit = unitOf(vocab);
      const given = cmd.getOptionValueSource("maxDistance") === "cli";
      // D: the window of a window model; else --max-distance, or what the text allows when it was not given
      let D = o.maxDistance;
      let why = given ? "--max-distance" : `--max-distance default ${DEFAULT_MAX_DISTANCE}`;
      if (window !== undefined && D > window) {
        if (given) throw new InputError(`--max-distance ${D} is beyond the model's window of ${window} ${unit}; give at most ${window}, or leave it out`);
        D = window;
        why = "the model's window";
      }
      if (n < 2) throw new InputError(`${what} has ${n} of the model's ${unit}; the probe needs at least 2`);
      if (n < D + 1) {
        if (given || window !== undefined)
          throw new InputError(
            `${what} has ${fmtInt(n)} ${unit}, too few for a context of ${fmtInt(D)} (${why}): it needs at least ${fmtInt(D + 1)}; lower --max-distance or give a longer text`,
          );
      }
      if (!given && window === undefined && n < D + o.positions) {
        D = Math.max(1, Math.min(D, n - o.positions));
        why = `what ${fmtInt(n)} ${unit} allow with ${o.positions} positions`;
      }
      const B = Math.min(o.batch, o.positions, n - D);
      const chunk = Math.max(1, Math.floor(8192 / B));
      checkInferenceFits(config.model, B, window !== undefined ? D : Math.min(chunk, D));
      const classes = tokenClasses(vocab, tokens);
      const bar = progressBar("probe context");
      let r: ContextProbeResult;
      try {
        r = probeContext(model, tokens, {
          maxDistance: D,
          positions: o.positions,
          seed: o.seed,
          rows: B,
          chunk,
          classes,
          onProgress: (done, total) => bar.update(done, total),
        });
      } finally {
        bar.stop();
      }
      const seconds = (performance.now() - t0) / 1000;
      const step = snap.metadata.step ?? "?";
      say(contextTable(r, { checkpoint: o.checkpoint, step, describe, what, n, unit, why, lossUnit: lossUnit(vocab), windowed: window !== undefined }));
      const files: [string, string | Uint8Array][] = [];
      if (o.json) {
        const json = {
          checkpoint: o.checkpoint,
          step: Number(step) || null,
          model: config.model,
          text: what,
          tokens: n,
          unit,
          lossUnit: lossUnit(vocab),
          fullContext: `the ${r.maxDistance} ${unit} before each target, from the model's zero state`,
          maxDistanceFrom: why,
          perturbations: Object.fromEntries(r.curves.map((c) => [c.perturbation, PERTURBATION_MEANINGS[c.perturbation]])),
          effectiveContext: Object.fromEntries(r.curves.map((c) => [c.perturbation, c.effective])),
          ...r,
        };
        files.push([o.json, compactJson(json)]);
      }
      if (o.plot) {
        const { specToSvg, svgToPng } = await import("../node/render.js"); // vega and resvg: loaded when needed
        const svg = await specToSvg(contextProbeSpec(r, { loss: lossUnit(vocab), tokens: unit }));
        files.push([o.plot, extname(o.plot).toLowerCase() === ".png" ? svgToPng(svg) : svg]);
      }
      if (files.length) writeFilesAtomic(files);
      for (const [path] of files) say(`${path}\n`);
      warn(`rnnlab probe context: ${fmtInt(r.positions.length)} positions, ${r.distances.length} distances in ${seconds.toFixed(1)} s\n`);
    });
}

/** The table `probe context` prints: the loss per distance and perturbation, then the effective contexts. */
function contextTable(
  r: ContextProbeResult,
  c: { checkpoint: string; step: string; describe: string; what: string; n: number; unit: string; why: string; lossUnit: string; windowed: boolean },
): string {
  const lines: string[] = [];
  lines.push(`checkpoint  ${c.checkpoint} (step ${c.step}): ${c.describe}`);
  lines.push(`text        ${c.what}: ${fmtInt(c.n)} ${c.unit}; ${fmtInt(r.positions.length)} target positions (seed ${r.seed})`);
  lines.push(`full        the ${fmtInt(r.maxDistance)} ${c.unit} before each target (${c.why}), from the zero state: loss ${r.fullLoss.toFixed(4)}`);
  for (const cv of r.curves) lines.push(`${cv.perturbation.padEnd(11)} ${PERTURBATION_MEANINGS[cv.perturbation]}`);
  lines.push("");
  const kinds = r.curves.map((cv) => cv.perturbation);
  const w = 9;
  lines.push(`${"d".padStart(6)}  ${kinds.map((k) => k.padStart(w)).join(" ")}   (loss, ${c.lossUnit})`);
  r.distances.forEach((d, i) => {
    const note = i === r.distances.length - 1 ? "   full context" : "";
    lines.push(`${String(d).padStart(6)}  ${r.curves.map((cv) => cv.loss[i].toFixed(4).padStart(w)).join(" ")}${note}`);
  });
  lines.push("");
  // at the longest distance probed a recurrent model may use more; a window model sees no more than that
  let starred = false;
  const capped = (e: number | null) => {
    if (e === null) return "–";
    if (e !== r.maxDistance || c.windowed) return String(e);
    starred = true;
    return `${e}*`;
  };
  lines.push(`effective context (loss within ${Math.round(r.tolerance * 100)}% of the full context's from d on):`);
  lines.push(`  all targets: ${r.curves.map((cv) => `${cv.perturbation} ${capped(cv.effective)}`).join(", ")}`);
  r.fullByClass?.forEach((fc, k) => {
    if (fc.count === 0) return;
    lines.push(
      `  ${fc.name} (${fc.count} targets, full-context loss ${fc.loss.toFixed(4)}): ${r.curves.map((cv) => `${cv.perturbation} ${capped(cv.byClass![k].effective)}`).join(", ")}`,
    );
  });
  if (starred) lines.push(`  * the longest distance probed: the model may use more context; try a larger --max-distance`);
  return `${lines.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------
// probe saliency

interface SaliencyOpts {
  checkpoint: string;
  text: string;
  target?: string;
  replacement?: string;
  top: number;
  out: string;
  json?: string;
}

function saliencySubcommand(): Command {
  return new Command("saliency")
    .description(
      "which earlier tokens the prediction after a text rests on: the gradient norm of its log-probability at each input embedding, and the change when each token is replaced (occlusion); the top next tokens",
    )
    .requiredOption("--checkpoint <file>", "a language model: trained by rnnlab train, imported by rnnlab import, or saved by saveModel")
    .requiredOption("--text <text>", 'the text before the prediction, e.g. "Jane walked into the room. John walked in too. Jane said hi to"')
    .option("--target <token>", "explain this next token (a character, or a word) instead of the likeliest")
    .option(
      "--replacement <token>",
      "what stands in for each token in the occlusion (default: a space for characters, else the first; <unk> for words, else <eos>)",
    )
    .option("--top <k>", "next tokens listed with their probabilities", intArg(1), 10)
    .option("--out <file>", "the HTML page to write", "saliency.html")
    .option("--json <file>", "also write the numbers as JSON")
    .action((o: SaliencyOpts) => {
      readCheckpoint(o.checkpoint); // a missing or corrupt checkpoint first
      checkOutputs(
        [
          ["--out", o.out],
          ["--json", o.json],
        ],
        [o.checkpoint],
      );
      const t0 = performance.now();
      const { snap, model, vocab, describe } = loadModel(o.checkpoint);
      const inputs = encodeText(vocab, o.text);
      const token = (flag: string, s: string) => {
        const t = vocab.kind === "words" && s === "\\n" ? "\n" : s;
        const id = vocab.kind === "words" && t === "\n" ? (vocab as { eosId?: number }).eosId : vocab.has(t) ? vocab.tokens.indexOf(t) : undefined;
        if (id === undefined || id < 0)
          throw new InputError(
            `${flag} ${JSON.stringify(s)} is not one of the model's ${unitOf(vocab)}; give ${vocab.kind === "words" ? "a word" : "a character"} of its vocabulary`,
          );
        return id;
      };
      const target = o.target !== undefined ? token("--target", o.target) : undefined;
      const replacement = o.replacement !== undefined ? token("--replacement", o.replacement) : defaultReplacement(vocab);
      const s = saliency(model, inputs, { replacement, topK: o.top, ...(target !== undefined ? { target } : {}) });
      const step = snap.metadata.step ?? "?";
      const show = (id: number) => showToken(vocab, id);
      const replacementNote = `${show(replacement)}${o.replacement !== undefined ? "" : vocab.kind === "words" ? " (default: the unknown word, else the line end)" : vocab.has(" ") ? " (default: a space)" : " (default: the vocabulary's first character)"}`;
      say(saliencyText(s, show, { unit: unitOf(vocab), replacementNote, explicit: target !== undefined }));
      const html = saliencyHtml(s, vocab, { checkpoint: o.checkpoint, step, describe, replacementNote });
      const files: [string, string][] = [[o.out, html]];
      if (o.json) {
        const json = {
          checkpoint: o.checkpoint,
          step: Number(step) || null,
          text: o.text,
          unit: unitOf(vocab),
          tokens: s.inputs.map((id) => vocab.tokens[id]),
          targetToken: vocab.tokens[s.target],
          replacementToken: vocab.tokens[s.replacement],
          measures: {
            gradient: "L2 norm of the gradient of log p(target) with respect to each input token's embedding",
            occlusion: "log p(target | text) - log p(target | text with that token replaced by replacementToken)",
          },
          ...s,
          top: s.top.map((t) => ({ ...t, text: vocab.tokens[t.token] })),
        };
        files.push([o.json, compactJson(json)]);
      }
      writeFilesAtomic(files);
      for (const [path] of files) say(`${path}\n`);
      warn(`rnnlab probe saliency: ${s.inputs.length} ${unitOf(vocab)} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    });
}

/** The ids of --text; an InputError names the characters or words the vocabulary lacks. */
function encodeText(vocab: Vocab, text: string): Int32Array {
  if (text.length === 0) throw new InputError("--text is empty; give the text before the prediction");
  const missing = new Set<string>();
  if (vocab.kind === "chars") {
    for (const ch of text) if (!vocab.has(ch)) missing.add(ch);
  } else {
    for (const w of text.split(/\s+/)) if (w && !vocab.has(w)) missing.add(w);
  }
  if (missing.size) {
    const list = [...missing].slice(0, 8).map((m) => JSON.stringify(m));
    throw new InputError(
      `--text has ${vocab.kind === "words" ? "words" : "characters"} the model's vocabulary lacks: ${list.join(", ")}${missing.size > 8 ? ` and ${missing.size - 8} more` : ""}; use ${vocab.kind === "words" ? "words" : "characters"} of its training text`,
    );
  }
  const ids = vocab.encode(text);
  if (ids.length === 0) throw new InputError("--text has no words; give the text before the prediction");
  if (ids.length > MAX_SALIENCY_TOKENS)
    throw new InputError(`--text has ${fmtInt(ids.length)} ${unitOf(vocab)}; at most ${fmtInt(MAX_SALIENCY_TOKENS)} (occlusion runs the text once per token)`);
  return ids;
}

/** The occlusion's default stand-in: a space for characters (else the first character); <unk> for words, else the line end. */
function defaultReplacement(vocab: Vocab): number {
  if (vocab.kind === "chars") return vocab.has(" ") ? vocab.tokens.indexOf(" ") : 0;
  const w = vocab as { unkId?: number; eosId?: number };
  return w.unkId !== undefined && w.unkId >= 0 ? w.unkId : (w.eosId ?? 0);
}

/** A token as the output shows it: quoted, with line breaks and tabs visible. */
function showToken(vocab: Vocab, id: number): string {
  const t = vocab.tokens[id];
  if (vocab.kind === "words") return (vocab as { eosId?: number }).eosId === id ? "⏎ (line end)" : t;
  return JSON.stringify(t);
}

/** What `probe saliency` prints: the top next tokens, then the tokens that matter most by each measure. */
function saliencyText(s: SaliencyResult, show: (id: number) => string, c: { unit: string; replacementNote: string; explicit: boolean }): string {
  const lines: string[] = [];
  const p = Math.exp(s.logProb);
  lines.push(`explained: ${show(s.target)}, p = ${p.toFixed(4)} (log p = ${s.logProb.toFixed(4)})${c.explicit ? "" : ", the likeliest next token"}`);
  lines.push(`occlusion: each of the ${s.inputs.length} ${c.unit} replaced by ${c.replacementNote}`);
  lines.push("");
  lines.push("next token        probability");
  for (const t of s.top) lines.push(`  ${show(t.token).padEnd(16)}${t.prob.toFixed(4)}`);
  lines.push("");
  const k = Math.min(10, s.inputs.length);
  const rank = (v: number[]) =>
    v
      .map((x, i) => [x, i] as const)
      .sort((a, b) => b[0] - a[0] || a[1] - b[1])
      .slice(0, k);
  const g = rank(s.gradient);
  const o = rank(s.occlusion);
  lines.push(`the ${k} ${c.unit} that matter most (position: token, value)`);
  lines.push(`  ${"by gradient norm".padEnd(34)}by occlusion (Δ log p)`);
  for (let i = 0; i < k; i++) {
    const a = `${g[i][1]}: ${show(s.inputs[g[i][1]])} ${g[i][0].toExponential(2)}`;
    const b = `${o[i][1]}: ${show(s.inputs[o[i][1]])} ${o[i][0] >= 0 ? "+" : ""}${o[i][0].toFixed(4)}`;
    lines.push(`  ${a.padEnd(34)}${b}`);
  }
  return `${lines.join("\n")}\n`;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/**
 * The saliency page: the text twice, each token's background coloured by a measure (gradient
 * norm: orange, by its share of the largest; occlusion: blue where the token raised the target's
 * log-probability, red where it lowered it), a tooltip with both numbers, the top-k next tokens,
 * and the numbers in a table. Self-contained: inline CSS, no scripts, no external URLs.
 */
function saliencyHtml(s: SaliencyResult, vocab: Vocab, c: { checkpoint: string; step: string; describe: string; replacementNote: string }): string {
  const words = vocab.kind === "words";
  const eos = (vocab as { eosId?: number }).eosId;
  const show = (id: number) => showToken(vocab, id);
  const gMax = Math.max(...s.gradient, 1e-30);
  const oMax = Math.max(...s.occlusion.map(Math.abs), 1e-30);
  const span = (t: number, bg: string) => {
    const id = s.inputs[t];
    const title = `#${t} ${show(id)}: gradient ${s.gradient[t].toExponential(3)}, occlusion ${s.occlusion[t] >= 0 ? "+" : ""}${s.occlusion[t].toFixed(4)}`;
    const body = words ? (id === eos ? "⏎" : esc(vocab.tokens[id])) : vocab.tokens[id] === "\n" ? "⏎" : esc(vocab.tokens[id]);
    const br = (words && id === eos) || (!words && vocab.tokens[id] === "\n") ? "<br>" : "";
    return `<span class="tok" style="background:${bg}" title="${esc(title)}">${body}</span>${br}`;
  };
  const line = (bg: (t: number) => string) =>
    `<div class="text${words ? " words" : ""}">${s.inputs.map((_, t) => span(t, bg(t))).join(words ? " " : "")}${words ? " " : ""}<span class="next" title="the explained token">${esc(words && s.target === eos ? "⏎" : vocab.tokens[s.target] === " " ? "␣" : vocab.tokens[s.target] === "\n" ? "⏎" : vocab.tokens[s.target])}</span></div>`;
  const orange = (x: number) => `rgba(245,133,24,${Math.min(1, Math.max(0, x)).toFixed(3)})`;
  const diverging = (x: number) => (x >= 0 ? `rgba(76,120,168,${Math.min(1, x).toFixed(3)})` : `rgba(228,87,86,${Math.min(1, -x).toFixed(3)})`);
  const p = Math.exp(s.logProb);
  const facts = [
    `checkpoint  ${c.checkpoint} (step ${c.step}): ${c.describe}`,
    `explained   ${show(s.target)}: p = ${p.toFixed(4)}, log p = ${s.logProb.toFixed(4)}`,
    `occlusion   each token replaced by ${c.replacementNote}`,
  ];
  const rows = s.inputs
    .map(
      (id, t) =>
        `<tr><td>${t}</td><td>${esc(show(id))}</td><td>${s.gradient[t].toExponential(3)}</td><td>${s.occlusion[t] >= 0 ? "+" : ""}${s.occlusion[t].toFixed(4)}</td></tr>`,
    )
    .join("\n");
  const top = s.top
    .map(
      (t) =>
        `<tr><td>${esc(show(t.token))}</td><td>${t.prob.toFixed(4)}</td><td><span class="bar" style="width:${(200 * t.prob).toFixed(1)}px"></span></td></tr>`,
    )
    .join("\n");
  return [
    "<!DOCTYPE html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>rnnlab probe saliency: ${esc(c.checkpoint)}</title>`,
    `<style>
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; margin: 2rem auto; max-width: 980px; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.5rem; margin-bottom: 0.4rem; }
h2 { font-size: 1.1rem; margin: 2rem 0 0.5rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
pre { background: #f6f6f6; padding: 0.6rem 0.8rem; border-radius: 4px; overflow-x: auto; font-size: 0.85rem; }
.text { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 1.05rem; line-height: 2; white-space: pre-wrap; word-break: break-word; }
.text.words { white-space: normal; }
.tok { border-radius: 2px; padding: 0.1em 0; }
.next { border: 2px solid #222; border-radius: 3px; padding: 0 0.2em; margin-left: 0.1em; }
p.note { color: #555; font-size: 0.9rem; }
table { border-collapse: collapse; font-size: 0.9rem; }
td, th { padding: 0.15rem 0.6rem; text-align: left; border-bottom: 1px solid #eee; }
.bar { display: inline-block; height: 0.8em; background: #4c78a8; }
.scale { display: inline-block; width: 160px; height: 0.8em; vertical-align: middle; margin: 0 0.4em; }
</style>`,
    "</head>",
    "<body>",
    "<h1>Which earlier tokens does the prediction rest on?</h1>",
    `<pre>${facts.map(esc).join("\n")}</pre>`,
    "<section>",
    "<h2>Gradient norm: ‖∂ log p(next) / ∂ x<sub>t</sub>‖</h2>",
    line((t) => orange(s.gradient[t] / gMax)),
    `<p class="note">The L2 norm of the gradient of the explained token's log-probability with respect to each input token's embedding, by backpropagation through time: how sensitive the prediction is to a small change of that token. 0 <span class="scale" style="background:linear-gradient(to right, rgba(245,133,24,0), rgba(245,133,24,1))"></span> ${gMax.toExponential(2)} (the largest). The framed token is the one explained.</p>`,
    "</section>",
    "<section>",
    "<h2>Occlusion: Δ log p(next) when the token is replaced</h2>",
    line((t) => diverging(s.occlusion[t] / oMax)),
    `<p class="note">log p(next | text) − log p(next | the text with that token replaced by ${esc(c.replacementNote)}): blue where the token raised the prediction, red where it lowered it (a token that is the replacement itself stays 0). −${oMax.toFixed(3)} <span class="scale" style="background:linear-gradient(to right, rgba(228,87,86,1), rgba(228,87,86,0) 50%, rgba(76,120,168,0) 50%, rgba(76,120,168,1))"></span> +${oMax.toFixed(3)}</p>`,
    "</section>",
    "<section>",
    `<h2>The ${s.top.length} likeliest next tokens</h2>`,
    `<table><tr><th>token</th><th>probability</th><th></th></tr>\n${top}\n</table>`,
    "</section>",
    "<section>",
    "<h2>Every token</h2>",
    `<details><summary>${s.inputs.length} tokens: position, token, gradient norm, occlusion</summary>\n<table><tr><th>#</th><th>token</th><th>gradient norm</th><th>occlusion Δ log p</th></tr>\n${rows}\n</table></details>`,
    "</section>",
    "</body>",
    "</html>",
    "",
  ].join("\n");
}
