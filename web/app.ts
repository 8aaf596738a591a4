// The lab's page (loaded by main.ts once the worker is on its way): settings in, charts out. No numerics here: the worker (worker.ts) trains and
// measures with the library, posts numbers, and this file turns them into vega-lite specs (the
// CLI's own, from src/plot/specs.ts) and text.

import { clipHistorySpec, eigenvaluesSpec, lossCurvesSpec } from "../src/plot/specs.js";
import type { ClipSummary, SpectrumSummary, StepMetrics } from "../src/analysis/report-data.js";
import { chart, fmt, invalidate, lagHeatmapSpec, sized, timing, withAfterClip } from "./charts.js";
import { surfaceChart, surfaceView } from "./surface-view.js";
import type { FromWorker, Settings, Source, ToWorker } from "./protocol.js";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
let worker!: Worker;
const send = (m: ToWorker, transfer: Transferable[] = []) => worker.postMessage(m, transfer);

// ---------------------------------------------------------------------------------------------
// what the worker has told us

const LN2 = Math.log(2);
let steps: StepMetrics[] = [];
let after: { step: number; v: number }[] = [];
let diag: { step: number; gradByLag: number[] }[] = [];
let spectra: SpectrumSummary[] = [];
let clip: ClipSummary | undefined;
let threshold: number | null = null;
let lagTitle = "";
let unit = "nats/char";
let running = false;
let started = false;
let stepNow = 0;
const MAX_COLUMNS = 160;

function resetHistory(): void {
  steps = [];
  after = [];
  diag = [];
  spectra = [];
  clip = undefined;
}

// ---------------------------------------------------------------------------------------------
// the views

const plot = (id: string) => $(id).querySelector<HTMLElement>(".plot")!;

const lossChart = chart(plot("view-loss"), () => {
  if (steps.length < 2) return null;
  const spec = lossCurvesSpec(steps);
  const task = unit !== "nats/char";
  return sized(spec, 440, 210, {
    config: { legend: { orient: "bottom", direction: "horizontal" } },
    title: {
      text: "Loss",
      subtitle: task ? `${unit} per sequence; validation: held-out sequences` : "nats per character, train (smoothed) and validation",
      anchor: "start",
    },
  });
});

const gradChart = chart(plot("view-grad"), () => {
  if (steps.length < 2) return null;
  const spec = clipHistorySpec(steps, { threshold, suggested: clip?.suggested });
  return sized(withAfterClip(spec, after), 440, 220);
});

const heatChart = chart(plot("view-heat"), () => (diag.length ? sized(lagHeatmapSpec(diag, lagTitle, 10), 420, 210) : null), { renderer: "canvas" });

const eigChart = chart(plot("view-eig"), () => {
  if (!spectra.length) return null;
  return sized(eigenvaluesSpec(spectra), 250, 250);
});

// ---------------------------------------------------------------------------------------------
// controls

function message(text: string | null): void {
  const m = $("message");
  m.hidden = text === null;
  m.textContent = text ?? "";
}

function num(id: string, lo: number, hi: number, int: boolean): number {
  const el = $<HTMLInputElement>(id);
  const v = Number(el.value);
  const name = el.closest("label")?.firstChild?.textContent?.trim() ?? id;
  if (el.value.trim() === "" || !Number.isFinite(v) || v < lo || v > hi || (int && !Number.isInteger(v))) {
    throw new Error(`${name} must be ${int ? "a whole number" : "a number"} from ${lo} to ${hi}`);
  }
  return v;
}

function settings(): Settings {
  return {
    cell: $<HTMLSelectElement>("cell").value as Settings["cell"],
    hidden: num("hidden", 1, 1024, true),
    layers: num("layers", 1, 4, true),
    seq: num("seq", 2, 512, true),
    batch: num("batch", 1, 256, true),
    optimizer: $<HTMLSelectElement>("optimizer").value as Settings["optimizer"],
    lr: num("lr", 1e-7, 10, false),
    clipMode: $<HTMLSelectElement>("clip-mode").value as Settings["clipMode"],
    clip: num("clip", 1e-9, 1e6, false),
    seed: num("seed", 0, 2 ** 31, true),
  };
}

function show(s: Settings): void {
  $<HTMLSelectElement>("cell").value = s.cell;
  $<HTMLInputElement>("hidden").value = String(s.hidden);
  $<HTMLInputElement>("layers").value = String(s.layers);
  $<HTMLInputElement>("seq").value = String(s.seq);
  $<HTMLInputElement>("batch").value = String(s.batch);
  $<HTMLSelectElement>("optimizer").value = s.optimizer;
  $<HTMLInputElement>("lr").value = String(s.lr);
  $<HTMLSelectElement>("clip-mode").value = s.clipMode;
  $<HTMLInputElement>("clip").value = String(s.clip);
  $<HTMLInputElement>("seed").value = String(s.seed);
}

let customText: { name: string; text: string } | null = null;
const sourceKind = () => (document.querySelector<HTMLInputElement>('input[name="source"]:checked')?.value ?? "shakespeare") as Source["kind"];

function source(): Source {
  const kind = sourceKind();
  if (kind === "shakespeare") return { kind, url: new URL("data/tinyshakespeare.txt", document.baseURI).href };
  if (kind === "text") {
    if (!customText || customText.text.length === 0) throw new Error("no text yet: drop a text file on the box, choose one, or paste text");
    return { kind, ...customText };
  }
  return { kind, task: $<HTMLSelectElement>("task").value as Extract<Source, { kind: "task" }>["task"], length: num("task-length", 10, 1000, true) };
}

for (const r of document.querySelectorAll<HTMLInputElement>('input[name="source"]')) {
  r.addEventListener("change", () => {
    $("text-source").hidden = sourceKind() !== "text";
    $("task-source").hidden = sourceKind() !== "task";
  });
}

async function readText(file: File): Promise<void> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (bytes.length === 0) throw new Error(`${file.name} is empty; choose a text file with something to learn from`);
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new Error(`${file.name} looks like a binary file (a NUL byte at offset ${nul}); choose a UTF-8 text file`);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new Error(`${file.name} is not valid UTF-8; convert it (e.g. iconv -f latin1 -t utf-8) and try again`);
  }
  customText = { name: file.name, text };
  $<HTMLTextAreaElement>("text").value = text.length > 20000 ? `${text.slice(0, 20000)}\n…` : text;
  $<HTMLTextAreaElement>("text").dataset.file = "1";
  $("drop").textContent = `${file.name}: ${text.length.toLocaleString("en-US")} characters`;
  message(null);
}

$<HTMLInputElement>("text-file").addEventListener("change", (e) => {
  const f = (e.target as HTMLInputElement).files?.[0];
  if (f) readText(f).catch((err: Error) => message(err.message));
});
$("text").addEventListener("input", () => {
  const t = $<HTMLTextAreaElement>("text");
  delete t.dataset.file;
  customText = { name: "pasted text", text: t.value };
});
{
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    const f = e.dataTransfer?.files[0];
    if (f) readText(f).catch((err: Error) => message(err.message));
  });
}

function setRunning(r: boolean, step: number): void {
  running = r;
  $("run-state").textContent = r ? "training" : started ? "paused" : "idle";
  $("run-state").className = `badge ${r ? "running" : started ? "paused" : ""}`;
  $<HTMLButtonElement>("pause").disabled = !started;
  $("pause").textContent = r || !started ? "Pause" : "Resume";
  $<HTMLButtonElement>("reset").disabled = !started;
  $<HTMLButtonElement>("download").disabled = !started || unit !== "nats/char";
  $("start").textContent = started ? "Restart" : "Start";
  setStep(step);
}

function setStep(step: number): void {
  stepNow = step;
  $("step").textContent = step.toLocaleString("en-US");
}

$("start").addEventListener("click", () => {
  try {
    const src = source();
    const s = settings();
    message(null);
    resetHistory();
    send({ type: "start", source: src, settings: s });
    $("run-state").textContent = "starting";
  } catch (e) {
    message((e as Error).message);
  }
});
$("pause").addEventListener("click", () => send({ type: running ? "pause" : "resume" }));
$("reset").addEventListener("click", () => {
  send({ type: "reset" });
  started = false;
  resetHistory();
  for (const c of [lossChart, gradChart, heatChart, eigChart]) {
    c.view?.finalize();
    c.view = null;
    c.el.replaceChildren();
  }
  $("sample").textContent = "";
  $("sample-step").textContent = "";
  $("loss-readout").textContent = "";
  $("info").textContent = "";
  $("speed").textContent = "";
});
$("download").addEventListener("click", () => send({ type: "download" }));
$<HTMLInputElement>("upload").addEventListener("change", async (e) => {
  const input = e.target as HTMLInputElement;
  const f = input.files?.[0];
  input.value = "";
  if (!f) return;
  let src: Source;
  try {
    src = sourceKind() === "task" ? { kind: "shakespeare", url: new URL("data/tinyshakespeare.txt", document.baseURI).href } : source();
  } catch {
    src = { kind: "shakespeare", url: new URL("data/tinyshakespeare.txt", document.baseURI).href };
  }
  const bytes = await f.arrayBuffer();
  message(null);
  send({ type: "upload", name: f.name, bytes, source: src }, [bytes]);
});

// ---------------------------------------------------------------------------------------------
// messages from the worker

function lossReadout(): void {
  const last = steps.slice(-50);
  if (!last.length) return;
  const train = last.reduce((s, r) => s + r.loss, 0) / last.length;
  const val = [...steps].reverse().find((r) => r.val_loss !== undefined)?.val_loss;
  if (unit === "nats/char") {
    $("loss-readout").textContent =
      `train ${fmt(train)} nats = ${fmt(train / LN2)} bits/char (last 50 steps)` +
      (val !== undefined ? ` · validation ${fmt(val)} nats = ${fmt(val / LN2)} bits/char` : "");
  } else {
    $("loss-readout").textContent = `train ${fmt(train)} ${unit} (last 50 steps)${val !== undefined ? ` · held-out ${fmt(val)} ${unit}` : ""}`;
  }
}

/** Replaces a select's options, keeping its value when it is still offered. */
function fillSelect(el: HTMLSelectElement, options: [string, string][]): void {
  const value = el.value;
  el.replaceChildren(...options.map(([v, label]) => new Option(label, v)));
  if (options.some(([v]) => v === value)) el.value = value;
}

function onMessage(e: MessageEvent<FromWorker>): void {
  const m = e.data;
  switch (m.type) {
    case "ready":
      timing.workerReady = performance.now();
      // the cells and optimizers the library has (its registries), keeping what is chosen
      fillSelect(
        $<HTMLSelectElement>("cell"),
        m.cells.map((c) => [c.name, c.name === "rnn" ? "tanh RNN" : c.title]),
      );
      fillSelect(
        $<HTMLSelectElement>("optimizer"),
        m.optimizers.map((o) => [o, o]),
      );
      $("kernels").textContent = `kernels: ${m.kernels}${m.isolated ? "" : " — this page is not cross-origin isolated"}`;
      break;
    case "started":
      started = true;
      unit = m.unit;
      resetHistory();
      show(m.settings);
      $("info").textContent = m.description;
      setRunning(false, m.step);
      break;
    case "steps":
      threshold = m.clipThreshold;
      for (const r of m.rows) {
        steps.push({ step: r.step, loss: r.loss, grad_norm: r.gradNorm, clipped: r.clipped });
        after.push({ step: r.step, v: threshold !== null ? Math.min(r.gradNorm, threshold) : r.gradNorm });
      }
      if (m.rows.length) setStep(m.rows[m.rows.length - 1].step);
      $("speed").textContent = `${Math.round(m.charsPerSecond).toLocaleString("en-US")} ${unit === "nats/char" ? "chars" : "sequence steps"}/s`;
      lossReadout();
      invalidate(lossChart);
      invalidate(gradChart);
      break;
    case "validation": {
      const row = steps.find((r) => r.step === m.step);
      if (row) row.val_loss = m.loss;
      else steps.push({ step: m.step, loss: NaN, grad_norm: NaN, clipped: false, val_loss: m.loss });
      lossReadout();
      invalidate(lossChart);
      break;
    }
    case "diagnostics":
      diag.push({ step: m.step, gradByLag: m.gradByLag });
      if (diag.length > MAX_COLUMNS) diag = diag.filter((_, k) => k % 2 === 0 || k === diag.length - 1);
      spectra = m.spectra;
      clip = m.clip;
      lagTitle = m.lagTitle;
      $("eig-caption").textContent = spectra
        .map(
          (s) =>
            `${s.block === "hh" ? "W_hh" : `block ${s.block}`}: radius ${fmt(s.radius)}, σ_max ${fmt(s.sigmaMax)} ${s.sigmaMax > s.bound ? ">" : "<"} 1/γ = ${fmt(s.bound)}`,
        )
        .join(" · ");
      if (m.warnings.length) $("heat-caption").textContent = m.warnings[m.warnings.length - 1];
      invalidate(heatChart);
      invalidate(eigChart);
      break;
    case "sample":
      $("sample").textContent = m.text;
      $("sample-step").textContent = `at step ${m.step}`;
      break;
    case "state":
      started = m.job;
      setRunning(m.running, m.step);
      break;
    case "checkpoint": {
      const url = URL.createObjectURL(new Blob([m.bytes], { type: "application/octet-stream" }));
      const a = document.createElement("a");
      a.href = url;
      a.download = m.name;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      break;
    }
    case "surface":
      if (timing.firstData < 0) timing.firstData = performance.now();
      surfaceView.receive(m);
      break;
    case "saliency":
      showSaliency(m);
      break;
    case "error":
      message(m.message);
      break;
  }
}

/** The text twice, each character shaded by how much the next prediction rests on it: by the gradient norm, then by occlusion. */
function showSaliency(m: Extract<FromWorker, { type: "saliency" }>): void {
  const row = (label: string, values: number[], title: (v: number) => string) => {
    const max = Math.max(1e-12, ...values.map(Math.abs));
    const text = document.createElement("span");
    text.className = "sal-text";
    m.tokens.forEach((tok, t) => {
      const span = document.createElement("span");
      span.textContent = tok;
      const a = Math.abs(values[t]) / max;
      // blue: the character helps the prediction; orange (occlusion only): the prediction is better without it
      span.style.background = values[t] >= 0 ? `rgba(47, 111, 189, ${(0.85 * a).toFixed(3)})` : `rgba(245, 133, 24, ${(0.85 * a).toFixed(3)})`;
      if (a > 0.55) span.style.color = "#fff";
      span.title = title(values[t]);
      text.append(span);
    });
    const div = document.createElement("div");
    div.className = "sal-row";
    const b = document.createElement("b");
    b.textContent = label;
    div.append(b, text);
    return div;
  };
  const show = (s: string) => (s === "\n" ? "↵" : s === " " ? "␣" : s);
  const next = document.createElement("div");
  next.className = "sal-next";
  next.textContent = `next: ${m.top.map((t) => `${show(t.token)} ${(100 * t.prob).toFixed(1)}%`).join(", ")}; explained: ${show(m.target)} (log p = ${m.logProb.toFixed(3)})`;
  $("saliency-out").replaceChildren(
    row("gradient", m.gradient, (v) => `‖∂ log p / ∂x‖ = ${fmt(v)}`),
    row("occlusion", m.occlusion, (v) => `log p drops by ${fmt(v)} without it (replaced by ${show(m.replacement)})`),
    next,
  );
  $("saliency-step").textContent = `at step ${m.step}`;
}

$("saliency-form").addEventListener("submit", (e) => {
  e.preventDefault();
  send({ type: "saliency", text: $<HTMLInputElement>("saliency-text").value });
});

/** Takes over the worker main.ts started (and asked for the first error surface), with the messages it has sent so far. */
export function attach(w: Worker, early: MessageEvent<FromWorker>[]): void {
  worker = w;
  surfaceView.connect(send);
  w.addEventListener("message", onMessage);
  w.addEventListener("error", (e) => message(`the training worker failed: ${e.message}`));
  for (const e of early) onMessage(e);
}

// for tests and curious users: what has been drawn, and when
(window as unknown as { rnnlab: unknown }).rnnlab = {
  timing,
  get step() {
    return stepNow;
  },
  get running() {
    return running;
  },
  get surfaceStart() {
    return surfaceView.start;
  },
  losses: () => steps.filter((r) => Number.isFinite(r.loss)).map((r) => r.loss),
  draws: () =>
    Object.fromEntries(
      (
        [
          ["loss", lossChart],
          ["grad", gradChart],
          ["heat", heatChart],
          ["eig", eigChart],
          ["surface", surfaceChart],
        ] as const
      ).map(([k, c]) => [k, c.draws]),
    ),
};
