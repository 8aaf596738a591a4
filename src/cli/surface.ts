// `rnnlab surface`: the error surface of a single recurrent neuron (Pascanu, Mikolov & Bengio
// 2013, §2.3 and figure 6; the lecture's "error surface of a single RNN neuron") with gradient
// descent on it, plain (solid) and with norm clipping (dashed); or, with --checkpoint, a 2-D
// slice of a trained model's loss around its weights (Li et al. 2018) with the training
// trajectory projected onto it. Writes OUT.svg and OUT.png. No numerics of its own.

import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { descend, surfaceGrid, type DescentPoint } from "../analysis/single-neuron.js";
import { lossSlice, principalDirections } from "../analysis/loss-slice.js";
import type { TokenArray } from "../data/corpus.js";
import type { Vocab } from "../data/vocab.js";
import { readCheckpoint, useCheckpoint } from "../node/checkpoint.js";
import { DEFAULT_CORPUS, loadCorpus } from "../node/corpus.js";
import { checkOutputFile, InputError, writeFilesAtomic } from "../node/files.js";
import { checkFinite, parseMetaJson, parseRunInfo, type RunInfo } from "../train/schema.js";
import { isRecurrentLM, type AnyLanguageModel } from "../nn/lm.js";
import { fmtNum, surfaceSpec, type PlotPath } from "../plot/specs.js";
import { evaluateLoss } from "../train/evaluate.js";
import { modelFromSnapshot, type Snapshot } from "../train/run.js";
import { choiceArg, fmtInt, intArg, numArg, optionWithDefault } from "./options.js";
import { say, warn } from "./output.js";

/**
 * The default start: on the plateau below the wall at w ≈ 5. Plain gradient descent climbs to
 * the wall, zigzags across it for a few steps (the minimum lies right beside it), lands on it at
 * step 53, (5.03, −2.63), where ‖∇E‖ ≈ 1500, and is thrown about 770 units away; with norm
 * clipping the same step is at most lr·clip long and descent goes on along the valley.
 */
export const DEFAULT_STARTS: [number, number][] = [[5.2, -4]];
export const DEFAULT_LR = 0.5;
export const DEFAULT_CLIP = 0.2;
export const DEFAULT_ITERS = 100;
/** Grid points per axis: of the single-neuron surface, and of a checkpoint's loss slice. */
export const DEFAULT_GRID = 200;
export const DEFAULT_SLICE_GRID = 21;
const MAX_GRID = 500;
const MAX_SLICE_GRID = 101;

/** `lo,hi` with lo < hi (negative numbers allowed: --b -5,-1 or --b=-5,-1). */
export function rangeArg(v: string): [number, number] {
  const m = /^\s*([^,\s]+)\s*,\s*([^,\s]+)\s*$/.exec(v);
  const lo = m ? Number(m[1]) : NaN;
  const hi = m ? Number(m[2]) : NaN;
  if (!m || !Number.isFinite(lo) || !Number.isFinite(hi) || !(lo < hi)) throw new InvalidArgumentError("expected lo,hi with lo < hi, e.g. 4,8 or -5,-1");
  return [lo, hi];
}

/** `w,b`, collected over repeated options. */
function startArg(v: string, prev: [number, number][] | undefined): [number, number][] {
  const m = /^\s*([^,\s]+)\s*,\s*([^,\s]+)\s*$/.exec(v);
  const w = m ? Number(m[1]) : NaN;
  const b = m ? Number(m[2]) : NaN;
  if (!m || !Number.isFinite(w) || !Number.isFinite(b)) throw new InvalidArgumentError("expected w,b, e.g. 5.2,-4");
  return [...(prev ?? []), [w, b]];
}

interface SurfaceOpts {
  w: [number, number];
  b: [number, number];
  grid?: number;
  start?: [number, number][];
  lr: number;
  clip: number;
  iters: number;
  out: string;
  checkpoint?: string;
  mode: "random" | "whh" | "pca";
  text?: string;
  alpha: [number, number];
  beta: [number, number];
  tokens: number;
  seed: number;
}

const NEURON_ONLY = ["w", "b", "start", "lr", "clip", "iters"];
const CHECKPOINT_ONLY = ["mode", "text", "alpha", "beta", "tokens", "seed"];
const flag = (name: string) => `--${name}`;

export function surfaceCommand(): Command {
  return new Command("surface")
    .description(
      "draw the error surface of a single RNN neuron with gradient descent on it, with and without clipping (Pascanu et al. 2013, fig. 6); with --checkpoint, a trained model's loss around its weights",
    )
    .addOption(optionWithDefault("--w <lo,hi>", "range of the recurrent weight w", rangeArg, [4, 8] as [number, number], "4,8"))
    .addOption(optionWithDefault("--b <lo,hi>", "range of the bias b (e.g. --b=-6,-2)", rangeArg, [-5, -1] as [number, number], "-5,-1"))
    .option("--grid <n>", `grid points per axis (default: ${DEFAULT_GRID}; ${DEFAULT_SLICE_GRID} with --checkpoint)`, intArg(2))
    .option("--start <w,b>", `start of a descent, repeatable (default: ${DEFAULT_STARTS.map((s) => s.join(",")).join(" ")})`, startArg)
    .option("--lr <x>", "learning rate of gradient descent", numArg(0, Infinity, true), DEFAULT_LR)
    .option("--clip <x>", "norm-clipping threshold of the dashed descents", numArg(0, Infinity, true), DEFAULT_CLIP)
    .option("--iters <n>", "gradient-descent steps", intArg(1), DEFAULT_ITERS)
    .option("--out <path>", "output path without extension: writes PATH.svg and PATH.png", "surface")
    .option("--checkpoint <file>", "draw this trained model's loss around its weights instead")
    .option(
      "--mode <m>",
      "with --checkpoint: random (two random filter-normalised directions), whh (α scales every W_hh: W_hh → (1+α)·W_hh), or pca (the two principal directions of the training trajectory, from rnnlab train --diagnose-every)",
      choiceArg(["random", "whh", "pca"] as const),
      "random",
    )
    .option("--text <file>", "with --checkpoint: text to measure the loss on (default: the run's validation text)")
    .addOption(optionWithDefault("--alpha <lo,hi>", "with --checkpoint: range of α", rangeArg, [-1, 1] as [number, number], "-1,1"))
    .addOption(optionWithDefault("--beta <lo,hi>", "with --checkpoint: range of β", rangeArg, [-1, 1] as [number, number], "-1,1"))
    .option("--tokens <n>", "with --checkpoint: characters of the text the loss is measured on", intArg(2), 2000)
    .option("--seed <n>", "with --checkpoint: seed of the random directions", intArg(0), 0)
    .action(async (o: SurfaceOpts, cmd: Command) => {
      const given = (name: string) => cmd.getOptionValueSource(name) === "cli";
      const mismatched = (o.checkpoint ? NEURON_ONLY : CHECKPOINT_ONLY).filter(given);
      if (mismatched.length) {
        throw new InputError(
          o.checkpoint
            ? `${mismatched.map(flag).join(", ")} ${mismatched.length > 1 ? "are" : "is"} for the single-neuron surface, not with --checkpoint`
            : `${mismatched.map(flag).join(", ")} ${mismatched.length > 1 ? "need" : "needs"} --checkpoint`,
        );
      }
      const cap = o.checkpoint ? MAX_SLICE_GRID : MAX_GRID;
      if (o.grid !== undefined && o.grid > cap) {
        throw new InputError(
          `--grid ${o.grid} is too fine: at most ${cap} points per axis ${o.checkpoint ? "(each point is a pass over the text)" : "(the SVG holds one rectangle per point)"}`,
        );
      }
      const prefix = o.out.replace(/\.(svg|png)$/i, "");
      if (basename(prefix) === "" || /[/\\]$/.test(prefix))
        throw new InputError(`--out ${o.out} names a folder; give a file name without extension, e.g. ${join(o.out, "surface")}`);
      // everything the command reads, the run's own text included, is no output
      const snap = o.checkpoint ? readCheckpoint(o.checkpoint) : null;
      const inputs = o.checkpoint ? [o.checkpoint, o.text ?? runTextPath(snap!), ...trajectoryFiles(o.checkpoint)] : [];
      for (const ext of [".svg", ".png"]) checkOutputFile(`${prefix}${ext}`, { flag: "--out", inputs });
      const t0 = performance.now();
      const spec = o.checkpoint ? sliceFigure(o, snap!) : neuronFigure(o);
      const { specToSvg, svgToPng } = await import("../node/render.js"); // vega and resvg: loaded when needed
      const svg = await specToSvg(spec);
      const png = svgToPng(svg);
      writeFilesAtomic([
        [`${prefix}.svg`, svg],
        [`${prefix}.png`, png],
      ]);
      // stdout ends with the files written; the time goes to stderr, after success only (a failure is one line there)
      say(`${prefix}.svg\n${prefix}.png\n`);
      warn(`rnnlab surface: done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    });
}

const pt = (w: number, b: number) => `(${fmtNum(w)}, ${fmtNum(b)})`;

/** One line about a descent: its steepest point and the step taken there, its longest step, where it left the window, where it ended. */
function describe(path: DescentPoint[], o: SurfaceOpts): string {
  const len = (i: number) => Math.hypot(path[i + 1].w - path[i].w, path[i + 1].b - path[i].b);
  let steep = 0;
  let longest = 0;
  for (let i = 0; i + 1 < path.length; i++) {
    if (path[i].gradNorm > path[steep].gradNorm) steep = i;
    if (len(i) > len(longest)) longest = i;
  }
  const inside = (p: DescentPoint) => p.w >= o.w[0] && p.w <= o.w[1] && p.b >= o.b[0] && p.b <= o.b[1];
  const left = path.findIndex((p) => !inside(p));
  const end = path[path.length - 1];
  const clipped = path.filter((p) => p.clipped).length;
  const lowest = path.reduce((m, p) => Math.min(m, p.loss), Infinity);
  const p = path[steep];
  if (path.length < 2) return `no steps; E = ${fmtNum(end.loss)}`;
  return (
    `steepest after ${steep} steps at ${pt(p.w, p.b)}: ‖∇E‖ = ${fmtNum(p.gradNorm)}, next step ${fmtNum(len(steep))} long; ` +
    `longest step ${fmtNum(len(longest))}${clipped ? `; ${clipped} step${clipped > 1 ? "s" : ""} clipped` : ""}` +
    `${left >= 0 ? `; leaves the window at step ${left}` : ""}; ends at ${pt(end.w, end.b)} with E = ${fmtNum(end.loss)} (lowest on the way ${fmtNum(lowest)})`
  );
}

function neuronFigure(o: SurfaceOpts) {
  const n = o.grid ?? DEFAULT_GRID;
  const g = surfaceGrid({ wRange: o.w, bRange: o.b, steps: n });
  const starts = o.start ?? DEFAULT_STARTS;
  const paths: PlotPath[] = [];
  const pairs = [
    ["#ff2d2d", "#000000"],
    ["#ff9f1c", "#1f3fff"],
    ["#e040fb", "#0b6e4f"],
    ["#ff6f91", "#5a3e1b"],
  ];
  starts.forEach(([w, b], k) => {
    const plain = descend([w, b], { lr: o.lr, steps: o.iters, clip: null });
    const clipped = descend([w, b], { lr: o.lr, steps: o.iters, clip: o.clip });
    const [c1, c2] = pairs[k % pairs.length];
    const at = starts.length > 1 ? ` from ${pt(w, b)}` : "";
    paths.push({ name: `gradient descent${at}`, points: plain.map((p) => ({ x: p.w, y: p.b })), color: c1 });
    paths.push({ name: `with norm clipping at ${fmtNum(o.clip)}${at}`, points: clipped.map((p) => ({ x: p.w, y: p.b })), dashed: true, color: c2 });
    say(`start ${pt(w, b)}, plain: ${describe(plain, o)}\n`);
    say(`start ${pt(w, b)}, clipped at ${fmtNum(o.clip)}: ${describe(clipped, o)}\n`);
  });
  return surfaceSpec({
    x: g.w,
    y: g.b,
    z: g.loss,
    xTitle: "w (recurrent weight)",
    yTitle: "b (bias)",
    zTitle: "E (log scale)",
    title: "Error surface of a single recurrent neuron",
    subtitle: [
      "x_t = w·σ(x_{t−1}) + b, x_0 = 0.5, T = 50, E = (σ(x_T) − 0.7)²",
      "(Pascanu, Mikolov & Bengio 2013, §2.3 and figure 6)",
      `gradient descent, lr ${fmtNum(o.lr)}, ${o.iters} steps: solid plain,`,
      `dashed with ‖g‖ clipped to ${fmtNum(o.clip)}; ○ start, ■ end, ▲ leaves the window`,
    ],
    paths,
  });
}

/**
 * The text to measure a checkpoint's model on: `text` when given (all of it), else the
 * validation split of the run's own text, as `rnnlab train` recorded it in the checkpoint.
 * Also used by `rnnlab diagnose`.
 */
export function runText(checkpoint: string, snap: Snapshot, vocab: Vocab, text?: string): { tokens: TokenArray; what: string } {
  if (text) return { tokens: loadCorpus(text, vocab, { missing: "give a text file with --text" }).tokens, what: text };
  const path = runTextPath(snap);
  if (path === null) throw new InputError(`checkpoint ${checkpoint} does not name its training text; give one with --text FILE`);
  const data = parseRunInfo(parseMetaJson(snap.metadata.run!)).data;
  if (!existsSync(path)) throw new InputError(`the run's text ${path} is gone; give a text with --text FILE`);
  const all = loadCorpus(path, vocab).tokens;
  const nTrain = Math.floor(all.length * (1 - (data.valFraction ?? 0)));
  const val = all.subarray(nTrain < all.length - 1 ? nTrain : 0) as TokenArray;
  return { tokens: val, what: `${path === DEFAULT_CORPUS ? "tiny Shakespeare" : path}, validation split` };
}

/** The text a checkpoint's run was trained on, as `rnnlab train` recorded it (null: none recorded). */
export function runTextPath(snap: Snapshot): string | null {
  let data: RunInfo["data"];
  try {
    data = parseRunInfo(parseMetaJson(snap.metadata.run ?? "null")).data;
  } catch {
    return null;
  }
  return data.path.startsWith("<embedded") ? DEFAULT_CORPUS : data.path;
}

/** `DIR/trajectory/step-NNNNNNNN.safetensors` beside the checkpoint, in step order. */
function trajectoryFiles(checkpoint: string): string[] {
  const dir = join(dirname(checkpoint), "trajectory");
  try {
    if (!statSync(dir).isDirectory()) return [];
    return readdirSync(dir)
      .filter((f) => /^step-\d+\.safetensors$/.test(f))
      .sort()
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
}

/** The trajectory snapshots beside the checkpoint, in step order, as flat weight vectors (each checked like a checkpoint's weights). */
function readTrajectory(checkpoint: string, model: AnyLanguageModel): { step: number; values: Float64Array }[] {
  return trajectoryFiles(checkpoint).map((path) => {
    const snap = readCheckpoint(path);
    const values = new Float64Array(model.store.values.length);
    for (const p of model.store.params) {
      const t = Object.hasOwn(snap.tensors, p.name) ? snap.tensors[p.name] : undefined;
      if (!t || t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
        throw new InputError(
          `trajectory file ${path} ${t ? `has "${p.name}" of shape [${t.shape.join(", ")}], the model needs [${p.shape.join(", ")}]` : `lacks "${p.name}"`}; it belongs to another run: remove it`,
        );
      }
      if (t.data instanceof Int32Array) throw new InputError(`trajectory file ${path} holds "${p.name}" as integers; it is corrupt: remove it`);
      useCheckpoint(path, snap, () => checkFinite(p.name, t.data, "the snapshot is poisoned: remove it"));
      values.set(t.data, p.offset);
    }
    const fromName = Number(/step-(\d+)/.exec(path)![1]);
    const step = /^\d+$/.test(snap.metadata.step ?? "") ? Number(snap.metadata.step) : fromName;
    return { step, values };
  });
}

function sliceFigure(o: SurfaceOpts, snap: Snapshot) {
  const path = o.checkpoint!;
  const { model, vocab, config } = useCheckpoint(path, snap, modelFromSnapshot);
  model.eval();
  const text = runText(path, snap, vocab, o.text);
  if (text.tokens.length < 3)
    throw new InputError(`${text.what} has ${text.tokens.length} ${vocab.kind === "words" ? "words and line ends" : "characters"}; the loss needs at least 3`);
  const tokens = text.tokens.subarray(0, Math.min(text.tokens.length, o.tokens + 1)) as TokenArray;
  // B streams of at least 16 steps each, windows of the run's k1 steps, the last one partial
  const B = Math.max(1, Math.min(config.train.batch, Math.floor((tokens.length - 1) / 16)));
  const lossOf = (m: AnyLanguageModel) => evaluateLoss(m, tokens, B, config.train.k1, { partial: true }).loss;
  const trajectory = readTrajectory(path, model);
  if (o.mode === "whh" && !isRecurrentLM(model))
    throw new InputError(
      "--mode whh scales the recurrent weights W_hh; this checkpoint holds a feed-forward model (--cell mlp), which has none: use --mode random or pca",
    );
  if (o.mode === "pca") {
    // the plane is spanned by the snapshots' offsets from the checkpoint's weights θ*: the snapshot
    // of the run's last step is θ* itself (offset 0), so a run needs 3 diagnoses for 2 directions
    const theta = model.store.values;
    const away = trajectory.filter((t) => t.values.some((v, k) => v !== theta[k])).length;
    if (away < 2) {
      const stepNow = Number(snap.metadata.step);
      const every = Number.isSafeInteger(stepNow) && stepNow >= 3 ? ` (this run's ${stepNow} steps: N <= ${Math.floor((stepNow - 1) / 2)})` : "";
      throw new InputError(
        `--mode pca needs 2 trajectory snapshots whose weights differ from the checkpoint's, in ${join(dirname(path), "trajectory")} ` +
          `(found ${trajectory.length} snapshot${trajectory.length === 1 ? "" : "s"}, ${away} of them different: a snapshot of the checkpoint's own step holds its weights); ` +
          `train with --diagnose-every N for 3 or more diagnoses, N <= (steps - 1) / 2${every}, or use --mode random or whh`,
      );
    }
  }
  if (o.mode === "pca") {
    try {
      principalDirections(
        model.store.values,
        trajectory.map((t) => t.values),
      ); // fails fast, before any output
    } catch (e) {
      if (e instanceof RangeError) throw new InputError(`--mode pca: ${e.message}; use --mode random or whh`);
      throw e;
    }
  }
  const n = o.grid ?? DEFAULT_SLICE_GRID;
  say(
    `rnnlab surface: ${n}×${n} = ${fmtInt(n * n)} losses on ${fmtInt(tokens.length - 1)} characters of ${text.what}${trajectory.length ? `, ${trajectory.length} trajectory snapshots` : ""}\n`,
  );
  let s: ReturnType<typeof lossSlice>;
  try {
    s = lossSlice(model, lossOf, {
      mode: o.mode,
      alpha: o.alpha,
      beta: o.beta,
      steps: n,
      seed: o.seed,
      trajectory: trajectory.map((t) => t.values),
      // on a terminal, a row counter (the default LSTM takes some 15 s for 21×21 points)
      onRow: process.stderr.isTTY ? (done, rows) => warn(done < rows ? `\r  row ${done}/${rows}` : "\r\x1b[K") : undefined,
    });
  } catch (e) {
    if (o.mode === "pca" && e instanceof RangeError) throw new InputError(`--mode pca: ${e.message}; use --mode random or whh`);
    throw e;
  }
  const step = snap.metadata.step ?? "?";
  const paths: PlotPath[] = [];
  if (trajectory.length) {
    const pts = s.trajectory.map((p) => ({ x: p.alpha, y: p.beta }));
    pts.push({ x: 0, y: 0 }); // the trajectory ends at θ*
    // the share of each snapshot's distance from θ* that lies in the plane (random directions hold little of it)
    const held = s.trajectory.reduce((m, p) => (p.distance > 0 ? Math.max(m, Math.sqrt(Math.max(0, 1 - p.residual * p.residual))) : m), 0);
    paths.push({
      name: `training trajectory, steps ${trajectory[0].step}–${step} (the plane holds ≤ ${(100 * held).toFixed(1)}% of it)`,
      points: pts,
      color: "#ff2d2d",
      dots: true,
    });
    say(`trajectory: ${trajectory.length} snapshots projected; the plane holds at most ${(100 * held).toFixed(1)}% of their distance from θ*\n`);
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of s.loss) if (Number.isFinite(v)) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  say(`loss at θ* ${s.center.toFixed(4)} nats/char; over the slice ${lo.toFixed(4)} to ${hi.toFixed(4)}\n`);
  const m = config.model;
  const whh = o.mode === "whh";
  const pca = o.mode === "pca";
  return surfaceSpec({
    x: s.alpha,
    y: s.beta,
    z: s.loss,
    xTitle: whh ? "α (W_hh → (1+α)·W_hh)" : pca ? "α (first principal direction of the trajectory)" : "α (random direction d1)",
    yTitle: pca ? "β (second principal direction)" : "β (random direction d2)",
    zTitle: "loss (nats/char)",
    title: `Loss around the trained weights θ* (${whh ? "W_hh scaled × random" : pca ? "the plane of the training trajectory" : "two random directions"})`,
    subtitle: [
      `${path}, step ${step}: ${m.cell}, ${m.numLayers} layer${m.numLayers > 1 ? "s" : ""} of ${m.hiddenSize}`,
      `loss on ${fmtInt(tokens.length - 1)} characters of ${text.what}`,
      pca
        ? "L(θ* + α·d1 + β·d2); d1, d2 the principal directions of the snapshots' offsets from θ*"
        : "L(θ* + α·d1 + β·d2); random directions filter-normalised",
      pca ? "(Li et al. 2018, §7), each scaled so the trajectory reaches ±1" : `(Li et al. 2018), biases not moved; seed ${o.seed}`,
    ],
    decades: 2,
    paths,
    markers: [{ x: 0, y: 0, label: `θ* (${s.center.toFixed(3)})` }],
  });
}
