// The lab's page (loaded by main.ts once the worker is on its way): settings in, charts out. No
// numerics here: the worker (worker.ts) trains and measures with the library, posts numbers, and
// this file turns them into vega-lite specs (the CLI's own, from src/plot/specs.ts) and text.
// Nothing fails silently: a run that diverges, a worker that dies, a setting that cannot apply
// and an upload that cannot be restored whole each say so on the page.

import type { ClipSummary, SpectrumSummary, StepMetrics } from "../src/analysis/report-data.js";
import { clipHistorySpec, eigenvaluesSpec, lossCurvesSpec, thin } from "../src/plot/specs.js";
import { textFits } from "../src/index.js";
import {
  chart,
  describe,
  fmt,
  invalidate,
  lagHeatmapSpec,
  onHover,
  pinnedHeatmapSpec,
  sized,
  timing,
  withAfterClip,
  withBadPoints,
  withMarkers,
  withOverlay,
  type Chart,
} from "./charts.js";
import { fitMessage } from "./checks.js";
import type { LabControl, LiveSettings, SourceChoice, ViewName } from "./lab-control.js";
import type { FromWorker, LabHistory, Settings, Source, StepRow, ToWorker } from "./protocol.js";
import { surfaceChart, surfaceView } from "./surface-view.js";
import { createWorker } from "./spawn.js";
import { mountLecture } from "./lecture.js";
import { mountGlossary } from "./glossary.js";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
let worker!: Worker;
const send = (m: ToWorker, transfer: Transferable[] = []) => worker.postMessage(m, transfer);

// ---------------------------------------------------------------------------------------------
// what the worker has told us

const LN2 = Math.log(2);
const VAL_FRACTION = 0.1; // the worker's (worker.ts)
let steps: StepMetrics[] = [];
let rows: StepRow[] = [];
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
/** The settings of the running model (what the controls are compared with). */
let runSettings: Settings | null = null;
let runSource: Source["kind"] | null = null;
let task: { task: string; length: number; baseline: number } | null = null;
/** Where a live setting changed: a marker on every time axis. */
let markers: { step: number; label: string }[] = [];
/** Updates skipped (non-finite) so far, and the first step whose loss or gradient was not finite. */
let skipped = 0;
let diverged: number | null = null;
const MAX_COLUMNS = 160;
/** Samples and spectra by step, for the read-out of a hovered training step. */
let samples: { step: number; text: string }[] = [];
let spectraByStep: { step: number; text: string }[] = [];
const DEFAULT_HEAT_CAPTION = $("heat-caption").textContent ?? "";

/** A pinned run: its losses, gradient norms and label, drawn faded behind the current run. */
interface Pinned {
  label: string;
  loss: { step: number; v: number }[];
  grad: { step: number; v: number }[];
  unit: string;
  /** Its heat map's columns (at most 80) and title. */
  heat?: { step: number; gradByLag: number[] }[];
  lagTitle?: string;
}
let pinned: Pinned | null = null;
const PIN_KEY = "rnnlab.pinned";

function resetHistory(): void {
  steps = [];
  rows = [];
  counts = { steps: 0, clipped: 0 };
  after = [];
  diag = [];
  spectra = [];
  clip = undefined;
  markers = [];
  skipped = 0;
  diverged = null;
  samples = [];
  spectraByStep = [];
  banner(null);
  $("step-readout").textContent = "";
}

// ---------------------------------------------------------------------------------------------
// the views

const plot = (id: string) => $(id).querySelector<HTMLElement>(".plot")!;
/** The plotting width a view has now (the page may be 390 px wide or 2,000). */
const widthOf = (el: HTMLElement, max: number) => Math.max(200, Math.min(max, el.clientWidth - 115)); // axes and legends take about 115 px
/** The steps the log-scale charts cannot draw (at most 500 marks of each kind, spread over the run). */
const nonFinite = (): { step: number; kind: "nonfinite" | "zero" }[] => {
  const spread = <T>(a: T[]) => a.filter((_, k) => k % Math.max(1, Math.ceil(a.length / 500)) === 0);
  return [
    ...spread(rows.filter((r) => !Number.isFinite(r.loss) || !Number.isFinite(r.gradNorm) || r.skipped)).map((r) => ({
      step: r.step,
      kind: "nonfinite" as const,
    })),
    ...spread(rows.filter((r) => r.gradNorm === 0)).map((r) => ({ step: r.step, kind: "zero" as const })),
  ];
};

const lossChart = chart(plot("view-loss"), () => {
  if (steps.length < 2) return null;
  let spec = lossCurvesSpec(steps);
  // a task's loss is a mean squared error or nats per sequence, not nats per character
  if (task) (spec as unknown as { encoding: { y: { title: string } } }).encoding.y.title = unit === "MSE" ? "loss (mean squared error)" : "loss (nats)";
  if (pinned && pinned.unit === unit) spec = withOverlay(spec, pinned.loss, `pinned: ${pinned.label}`);
  if (task) spec = withMarkers(spec, [], "step", [{ v: task.baseline, label: `trivial baseline ${fmt(task.baseline)}` }]);
  spec = withMarkers(withBadPoints(spec, nonFinite()), markers);
  const isTask = unit !== "nats/char";
  return sized(spec, widthOf(lossChart.el, 440), 210, {
    config: { legend: { orient: "bottom", direction: "horizontal" } },
    title: {
      text: "Loss",
      subtitle: isTask ? `${unit} per sequence (train) and on held-out sequences` : "nats per character, train (smoothed) and validation",
      anchor: "start",
    },
  });
});

const gradChart = chart(plot("view-grad"), () => {
  if (steps.length < 2) return null;
  // the post-clip line thinned as the pre-clip one is (at most 2,000 points, the largest of each stretch), so a long run draws no more
  let spec = withAfterClip(
    clipHistorySpec(steps, { threshold, suggested: clip?.suggested }),
    thin(after, 2000, (r) => r.v),
  );
  if (pinned) spec = withOverlay(spec, pinned.grad, `pinned: ${pinned.label}`);
  spec = withMarkers(withBadPoints(spec, nonFinite()), markers);
  return sized(spec, widthOf(gradChart.el, 440), 220, { title: { text: "Gradient norm during training", anchor: "start" } });
});

const heatChart = chart(
  plot("view-heat"),
  () => {
    if (!diag.length) return null;
    const full = widthOf(heatChart.el, 420);
    if (!pinned?.heat?.length) return sized(withMarkers(lagHeatmapSpec(diag, lagTitle, 10), markers, "s0"), full, 210);
    // the pinned run's map beside this one's, on one colour scale
    const w = Math.max(150, Math.floor((full - 60) / 2));
    const current = sized(withMarkers(lagHeatmapSpec(diag, lagTitle, 10), markers, "s0"), w, 190);
    return pinnedHeatmapSpec(current, sized(lagHeatmapSpec(pinned.heat, pinned.lagTitle ?? "", 10), w, 190), `pinned: ${pinned.label}`);
  },
  {
    renderer: "canvas",
  },
);

const eigChart = chart(plot("view-eig"), () => {
  if (!spectra.length) return null;
  const side = Math.min(250, widthOf(eigChart.el, 250));
  return sized(eigenvaluesSpec(spectra), side, side);
});

const CHARTS: [ViewName, Chart][] = [
  ["loss", lossChart],
  ["grad", gradChart],
  ["heat", heatChart],
  ["eig", eigChart],
  ["surface", surfaceChart],
];
// the placeholders the page starts with, put back on Reset
const placeholders = new Map(CHARTS.map(([, c]) => [c, c.el.innerHTML]));
const samplePlaceholder = $("sample").innerHTML;

let resizeTimer = 0;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = window.setTimeout(() => {
    for (const [, c] of CHARTS) if (c.view) invalidate(c, true);
  }, 200);
});

// ---------------------------------------------------------------------------------------------
// messages on the page

function message(text: string | null, fixes: { label: string; apply: () => void }[] = []): void {
  const m = $("message");
  m.hidden = text === null;
  m.replaceChildren(text ?? "");
  for (const f of fixes) {
    const b = document.createElement("button");
    b.textContent = f.label;
    b.className = "fix";
    b.addEventListener("click", () => {
      f.apply();
      message(null);
    });
    m.append(" ", b);
  }
}

function note(text: string | null): void {
  $("note").hidden = text === null;
  $("note").textContent = text ?? "";
}

/** The banner over the charts: divergence, a dead worker. */
function banner(text: string | null, actions: { label: string; apply: () => void }[] = []): void {
  $("banner").hidden = text === null;
  $("banner-text").textContent = text ?? "";
  $("banner-actions").replaceChildren(
    ...actions.map((a) => {
      const b = document.createElement("button");
      b.textContent = a.label;
      b.addEventListener("click", a.apply);
      return b;
    }),
  );
}

function divergenceBanner(): void {
  if (diverged === null) return;
  const s = runSettings;
  const fixes: { label: string; apply: () => void }[] = [];
  if (s && s.clipMode === "none") fixes.push({ label: "Turn clipping on (norm 1)", apply: () => lab.live({ clipMode: "norm", clip: 1 }) });
  if (s) fixes.push({ label: `Lower the learning rate to ${fmt(s.lr / 10)}`, apply: () => lab.live({ lr: s.lr / 10 }) });
  banner(
    `Diverged at step ${diverged.toLocaleString("en-US")}: ${skipped.toLocaleString("en-US")} of ${stepNow.toLocaleString("en-US")} updates skipped ` +
      "(their loss or gradient was not finite, so the weights stayed as they were; red marks on the charts).",
    fixes,
  );
}

// ---------------------------------------------------------------------------------------------
// controls

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
    momentum: num("momentum", 0, 1, false),
    clipMode: $<HTMLSelectElement>("clip-mode").value as Settings["clipMode"],
    clip: num("clip", 1e-9, 1e6, false),
    seed: num("seed", 0, 2 ** 31, true),
  };
}

const FIELDS: (keyof Settings)[] = ["cell", "hidden", "layers", "seq", "batch", "optimizer", "lr", "momentum", "clipMode", "clip", "seed"];
const ID: Record<keyof Settings, string> = {
  cell: "cell",
  hidden: "hidden",
  layers: "layers",
  seq: "seq",
  batch: "batch",
  optimizer: "optimizer",
  lr: "lr",
  momentum: "momentum",
  clipMode: "clip-mode",
  clip: "clip",
  seed: "seed",
};
const LIVE: ReadonlySet<keyof Settings> = new Set(["lr", "momentum", "clipMode", "clip"]);

function show(s: Partial<Settings>): void {
  // a run without clipping has no threshold of its own: the one in the control stays
  for (const k of FIELDS) if (s[k] !== undefined && !(k === "clip" && s.clipMode === "none")) $<HTMLInputElement>(ID[k]).value = String(s[k]);
  markPending();
}

let customText: { name: string; text: string } | null = null;
const sourceKind = () => (document.querySelector<HTMLInputElement>('input[name="source"]:checked')?.value ?? "shakespeare") as Source["kind"];
const shakespeareUrl = () => new URL("data/tinyshakespeare.txt", document.baseURI).href;

function setSourceKind(kind: Source["kind"]): void {
  for (const r of document.querySelectorAll<HTMLInputElement>('input[name="source"]')) r.checked = r.value === kind;
  sourceChanged();
}

function source(): Source {
  const kind = sourceKind();
  if (kind === "shakespeare") return { kind, url: shakespeareUrl() };
  if (kind === "text") {
    if (!customText || customText.text.length === 0) throw new Error("no text yet: drop a text file on the box, choose one, or paste text");
    return { kind, ...customText };
  }
  return { kind, task: $<HTMLSelectElement>("task").value as Extract<Source, { kind: "task" }>["task"], length: num("task-length", 10, 1000, true) };
}

/** Task runs clip the norm or nothing: value clipping is not offered while a task is chosen. */
function sourceChanged(): void {
  const kind = sourceKind();
  $("text-source").hidden = kind !== "text";
  $("task-source").hidden = kind !== "task";
  const valueOption = $<HTMLSelectElement>("clip-mode").querySelector<HTMLOptionElement>('option[value="value"]')!;
  valueOption.disabled = kind === "task";
  if (kind === "task" && $<HTMLSelectElement>("clip-mode").value === "value") {
    $<HTMLSelectElement>("clip-mode").value = "norm";
    note("a task run clips the gradient norm or nothing: clipping is set to norm");
  }
  markPending();
}
for (const r of document.querySelectorAll<HTMLInputElement>('input[name="source"]')) r.addEventListener("change", sourceChanged);

/** Marks the settings edited since the run started that only a restart applies. */
function markPending(): void {
  const changed: string[] = [];
  for (const k of FIELDS) {
    const label = $(ID[k]).closest("label")!;
    const differs = runSettings !== null && !LIVE.has(k) && String(runSettings[k]) !== $<HTMLInputElement>(ID[k]).value;
    label.classList.toggle("stale", differs);
    if (differs) changed.push(label.firstChild?.textContent?.trim() ?? k);
  }
  if (runSource !== null && sourceKind() !== runSource) changed.push("data");
  $("pending").hidden = changed.length === 0;
  $("pending").textContent = changed.length ? `changed: ${changed.join(", ")}; press Restart to apply (the running model keeps its own)` : "";
}
for (const k of FIELDS) {
  const el = $(ID[k]);
  el.addEventListener("input", markPending);
  el.addEventListener("change", () => {
    markPending();
    if (LIVE.has(k)) applyLive();
  });
}
$("task").addEventListener("change", markPending);
$("task-length").addEventListener("input", markPending);

/** Sends the live settings in the controls to the running model, if they differ from its own. */
function applyLive(): void {
  if (!started || !runSettings) return;
  try {
    const s = {
      lr: num("lr", 1e-7, 10, false),
      momentum: num("momentum", 0, 1, false),
      clipMode: $<HTMLSelectElement>("clip-mode").value as Settings["clipMode"],
      clip: num("clip", 1e-9, 1e6, false),
    };
    const change: Partial<LiveSettings> = {};
    for (const k of ["lr", "momentum", "clipMode", "clip"] as const) if (s[k] !== runSettings[k]) Object.assign(change, { [k]: s[k] });
    // the threshold of a run without clipping is only the control's value until clipping is turned on
    if (s.clipMode === "none") delete change.clip;
    if (Object.keys(change).length) send({ type: "adjust", settings: change });
    message(null);
  } catch (e) {
    message((e as Error).message);
  }
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
  setText(file.name, text);
  message(null);
}

function setText(name: string, text: string): void {
  customText = { name, text };
  $<HTMLTextAreaElement>("text").value = text.length > 20000 ? `${text.slice(0, 20000)}\n…` : text;
  $<HTMLTextAreaElement>("text").dataset.file = "1";
  $("drop").firstChild!.textContent = `${name}: ${text.length.toLocaleString("en-US")} characters; drop another, or `;
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
  $<HTMLButtonElement>("pin").disabled = steps.length < 2;
  $("start").textContent = started ? "Restart" : "Start";
  setStep(step);
}

function setStep(step: number): void {
  stepNow = step;
  $("step").textContent = step.toLocaleString("en-US");
}

/** The checks a run needs, before it starts: a text long enough for the batch and window, with the fix offered. */
function preflight(src: Source, s: Settings): boolean {
  if (src.kind !== "text") return true;
  const chars = [...src.text].length;
  const p = textFits(chars, VAL_FRACTION, s.batch, s.seq);
  if (!p) return true;
  const fixes: { label: string; apply: () => void }[] = [];
  if (p.batch > 0) fixes.push({ label: `Use batch ${p.batch}`, apply: () => (show({ batch: p.batch }), startRun()) });
  if (p.window > 0) fixes.push({ label: `Use truncation ${p.window}`, apply: () => (show({ seq: p.window }), startRun()) });
  message(fitMessage(src.name, p, s), fixes);
  return false;
}

function startRun(): void {
  try {
    const src = source();
    const s = settings();
    if (!preflight(src, s)) return;
    message(null);
    note(null);
    resetHistory();
    send({ type: "start", source: src, settings: s });
    $("run-state").textContent = "starting";
  } catch (e) {
    message((e as Error).message);
  }
}

/** Empties the charts and captions (Reset, and a new worker). */
function clearViews(): void {
  for (const [, c] of CHARTS) {
    if (c === surfaceChart) continue;
    c.view?.finalize();
    c.view = null;
    c.el.innerHTML = placeholders.get(c) ?? "";
  }
  $("sample").innerHTML = samplePlaceholder;
  $("sample-step").textContent = "";
  $("loss-readout").textContent = "";
  $("grad-readout").textContent = "";
  $("heat-caption").textContent = DEFAULT_HEAT_CAPTION;
  $("eig-caption").textContent = "";
  $("info").textContent = "";
  $("speed").textContent = "";
  $("saliency-out").replaceChildren();
  $("saliency-step").textContent = "";
}

$("start").addEventListener("click", startRun);
$("pause").addEventListener("click", () => send({ type: running ? "pause" : "resume" }));
$("reset").addEventListener("click", () => {
  send({ type: "reset" });
  started = false;
  runSettings = null;
  runSource = null;
  task = null;
  resetHistory();
  clearViews();
  note(null);
  message(null);
  markPending();
});
$("download").addEventListener("click", () => send({ type: "download", history: history() }));
$<HTMLInputElement>("upload").addEventListener("change", async (e) => {
  const input = e.target as HTMLInputElement;
  const f = input.files?.[0];
  input.value = "";
  if (!f) return;
  let src: Source;
  try {
    src = sourceKind() === "task" ? { kind: "shakespeare", url: shakespeareUrl() } : source();
  } catch {
    src = { kind: "shakespeare", url: shakespeareUrl() };
  }
  const bytes = await f.arrayBuffer();
  message(null);
  send({ type: "upload", name: f.name, bytes, source: src }, [bytes]);
});

/** The chart history kept in a downloaded checkpoint (the last 20,000 steps). */
function history(): LabHistory {
  return {
    steps: rows.slice(-20000),
    val: steps.filter((r) => r.val_loss !== undefined).map((r) => ({ step: r.step, loss: r.val_loss! })),
    markers,
  };
}

// ---------------------------------------------------------------------------------------------
// runs side by side: a pinned run, kept in local storage

function thinRows(a: { step: number; v: number }[], max: number) {
  const every = Math.max(1, Math.ceil(a.length / max));
  return a.filter((r, k) => Number.isFinite(r.v) && r.v > 0 && (k % every === 0 || k === a.length - 1));
}

function pinCurrent(): void {
  if (steps.length < 2) return;
  const s = runSettings;
  const label = s
    ? `${s.cell === "rnn" ? "tanh RNN" : s.cell.toUpperCase()} ${s.hidden}, ${s.optimizer} lr ${s.lr}, ${s.clipMode === "none" ? "no clipping" : `clip ${s.clipMode} ${s.clip}`}${task ? `, ${task.task} T = ${task.length}` : ""}`
    : "a run";
  pinned = {
    label,
    unit,
    loss: thinRows(
      steps.map((r) => ({ step: r.step, v: r.loss })),
      1500,
    ),
    grad: thinRows(
      steps.map((r) => ({ step: r.step, v: r.grad_norm })),
      1500,
    ),
    heat: diag.filter((_, k) => k % Math.max(1, Math.ceil(diag.length / 80)) === 0 || k === diag.length - 1),
    lagTitle,
  };
  try {
    localStorage.setItem(PIN_KEY, JSON.stringify(pinned));
  } catch {
    note("the pinned run could not be kept in this browser's storage: it lasts until the page is reloaded");
  }
  showPinned();
}

function showPinned(): void {
  $("pinned").textContent = pinned ? `pinned (grey on the charts): ${pinned.label}` : "";
  $<HTMLButtonElement>("pin-download").disabled = !pinned;
  $<HTMLButtonElement>("pin-clear").disabled = !pinned;
  invalidate(lossChart);
  invalidate(gradChart);
  invalidate(heatChart);
}

try {
  const saved = localStorage.getItem(PIN_KEY);
  if (saved) {
    const p = JSON.parse(saved) as Pinned;
    const ok = (a: unknown) => Array.isArray(a) && a.every((r) => typeof r?.step === "number" && typeof r?.v === "number");
    const okHeat = (h: unknown) =>
      h === undefined ||
      (Array.isArray(h) &&
        h.every((c) => typeof c?.step === "number" && Array.isArray(c.gradByLag) && c.gradByLag.every((v: unknown) => typeof v === "number" || v === null)));
    if (typeof p.label === "string" && typeof p.unit === "string" && ok(p.loss) && ok(p.grad) && okHeat(p.heat)) {
      // JSON keeps NaN and infinities as null
      if (p.heat) p.heat = p.heat.map((c) => ({ step: c.step, gradByLag: c.gradByLag.map((v) => (v === null ? Number.NaN : v)) }));
      pinned = p;
    }
  }
} catch {
  // an unreadable pinned run is dropped
}
showPinned();
$("pin").addEventListener("click", pinCurrent);
$("pin-clear").addEventListener("click", () => {
  pinned = null;
  localStorage.removeItem(PIN_KEY);
  showPinned();
});
$("pin-download").addEventListener("click", () => {
  if (!pinned) return;
  save("rnnlab-pinned-run.json", new Blob([JSON.stringify(pinned, null, 1)], { type: "application/json" }));
});

function save(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// ---------------------------------------------------------------------------------------------
// messages from the worker

function lossReadout(): void {
  const last = steps.slice(-50).filter((r) => Number.isFinite(r.loss));
  const train = last.length ? last.reduce((s, r) => s + r.loss, 0) / last.length : null;
  const val = [...steps].reverse().find((r) => r.val_loss !== undefined)?.val_loss;
  const parts: string[] = [];
  if (unit === "nats/char") {
    if (train !== null) parts.push(`train ${fmt(train)} nats = ${fmt(train / LN2)} bits/char (last ${last.length} steps)`);
    else if (steps.length) parts.push("train: no finite loss in the last 50 steps");
    if (val !== undefined) parts.push(Number.isFinite(val) ? `validation ${fmt(val)} nats = ${fmt(val / LN2)} bits/char` : "validation: not finite");
  } else {
    if (train !== null) parts.push(`train ${fmt(train)} ${unit} (last ${last.length} steps)`);
    if (val !== undefined) parts.push(`held-out ${fmt(val)} ${unit}`);
    if (task) parts.push(`trivial baseline ${fmt(task.baseline)}`);
  }
  $("loss-readout").textContent = parts.join(" · ");
  describe(lossChart, `Loss chart. ${parts.join("; ") || "no steps yet"}.`);
}

function gradReadout(): void {
  const { steps: n, clipped } = counts;
  const s = runSettings;
  let last: number | null = null;
  for (let i = rows.length - 1; i >= 0 && last === null; i--) if (Number.isFinite(rows[i].gradNorm)) last = rows[i].gradNorm;
  let text: string;
  if (!s || s.clipMode === "none") text = `no clipping; blue: the gradient norm of each step`;
  else if (s.clipMode === "value") text = `value clipping: each gradient element clamped to ±${fmt(s.clip)} (the norm shown is before clamping)`;
  else
    text = `norm clipping at ${fmt(s.clip)}: ${n ? ((100 * clipped) / n).toFixed(1) : "0.0"}% of ${n.toLocaleString("en-US")} steps clipped (red points); blue before, orange after`;
  if (last !== null) text += `; last norm ${fmt(last)}`;
  if (skipped) text += `; ${skipped.toLocaleString("en-US")} steps not finite (red marks at the top)`;
  $("grad-readout").textContent = text;
  describe(gradChart, `Gradient norm chart. ${text}.`);
}

/** The heat map's caption from its last column: vanished, exploded or kept, and by which lag. */
function heatCaption(): void {
  const c = diag[diag.length - 1];
  if (!c) return;
  const g = c.gradByLag;
  const bad = g.findIndex((v) => !Number.isFinite(v));
  let text: string;
  if (bad >= 0) text = `at step ${c.step}: the gradient is not finite from lag ${bad} on (exploded); holes in the map are such steps`;
  else {
    const first = g.find((v) => v > 0) ?? 0;
    const lastV = g[g.length - 1];
    const ratio = first > 0 ? lastV / first : 0;
    if (ratio < 1e-3)
      text = `at step ${c.step}: the gradient has vanished by lag ${g.length - 1} (${fmt(ratio)} of lag 0's); dark: little gradient reaches that far back`;
    else if (ratio > 1e3) text = `at step ${c.step}: the gradient grows with the lag (${fmt(ratio)} times lag 0's at lag ${g.length - 1}): exploding`;
    else text = `at step ${c.step}: ${fmt(ratio)} of lag 0's gradient still reaches lag ${g.length - 1}`;
  }
  if (diverged !== null)
    text = `the run diverged at step ${diverged} (its training gradients are not finite; the map is computed on the weights kept): ${text}`;
  $("heat-caption").textContent = text;
  describe(heatChart, `Heat map of the gradient by lag. ${text}.`);
}

/** The last entry at or before `step` (entries in step order). */
function atOrBefore<T extends { step: number }>(a: readonly T[], step: number): T | undefined {
  let found: T | undefined;
  for (const x of a) {
    if (x.step > step) break;
    found = x;
  }
  return found;
}

/** What the page knows of one training step (hovered on a chart): its numbers, and the sample, heat-map column and spectra nearest before it. */
function stepReadout(step: number | null): void {
  const out = $("step-readout");
  if (step === null) {
    out.textContent = "";
    return;
  }
  const r = atOrBefore(rows, step);
  const parts: string[] = [];
  if (r) {
    parts.push(`step ${r.step}: loss ${fmt(r.loss)}, gradient norm ${fmt(r.gradNorm)}${r.skipped ? " (not finite: skipped)" : r.clipped ? " (clipped)" : ""}`);
  }
  const col = atOrBefore(diag, step);
  if (col) {
    const g = col.gradByLag;
    const first = g.find((v) => v > 0) ?? 0;
    const last = g[g.length - 1];
    parts.push(
      `heat-map column at step ${col.step}: lag ${g.length - 1} gets ${first > 0 && Number.isFinite(last) ? fmt(last / first) : "—"} of lag 0's gradient`,
    );
  }
  const sp = atOrBefore(spectraByStep, step);
  if (sp) parts.push(`spectra at step ${sp.step}: ${sp.text}`);
  const sm = atOrBefore(samples, step);
  if (sm) parts.push(`sample at step ${sm.step}: “${sm.text.slice(0, 160).replace(/\s+/g, " ")}…”`);
  out.textContent = parts.join(" · ");
}

for (const c of [lossChart, gradChart, heatChart]) onHover(c, (d) => stepReadout(d && typeof d.step === "number" ? d.step : null));

/** Replaces a select's options, keeping its value when it is still offered. */
function fillSelect(el: HTMLSelectElement, options: [string, string][]): void {
  const value = el.value;
  el.replaceChildren(...options.map(([v, label]) => new Option(label, v)));
  if (options.some(([v]) => v === value)) el.value = value;
}

/**
 * The page keeps at most this many steps of history: beyond it the older half is thinned to every
 * other step (validation points kept; the charts draw at most 2,000 points anyway), so a long
 * run's memory stays flat.
 */
const MAX_ROWS = 10_000;
/** Steps received and steps clipped, counted before any thinning. */
let counts = { steps: 0, clipped: 0 };

function thinHistory(): void {
  const half = <T>(a: T[], keep: (x: T) => boolean = () => false) => {
    const cut = a.length >> 1;
    return a.filter((x, k) => k >= cut || k % 2 === 0 || keep(x));
  };
  rows = half(rows);
  after = half(after);
  steps = half(steps, (s) => s.val_loss !== undefined);
}

function addRows(r: StepRow[]): void {
  for (const x of r) {
    counts.steps++;
    if (x.clipped) counts.clipped++;
    rows.push(x);
    steps.push({ step: x.step, loss: x.loss, grad_norm: x.gradNorm, clipped: x.clipped });
    after.push({ step: x.step, v: threshold !== null ? Math.min(x.gradNorm, threshold) : x.gradNorm });
    if (diverged === null && (x.skipped || !Number.isFinite(x.loss) || !Number.isFinite(x.gradNorm))) diverged = x.step;
  }
  if (rows.length > MAX_ROWS) thinHistory();
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
    case "started": {
      started = true;
      unit = m.unit;
      task = m.task ?? null;
      resetHistory();
      clearViews();
      runSettings = m.settings;
      runSource = m.source;
      if (m.source !== "task") setSourceKind(m.source);
      show(m.settings);
      if (m.history) {
        addRows(m.history.steps);
        for (const v of m.history.val) {
          const row = steps.find((r) => r.step === v.step);
          if (row) row.val_loss = v.loss;
        }
        markers = m.history.markers;
        skipped = m.history.steps.filter((r) => r.skipped).length;
      }
      note(m.notes?.length ? m.notes.join("; ") : null);
      $("info").textContent = m.description;
      setRunning(false, m.step);
      lossReadout();
      gradReadout();
      for (const c of [lossChart, gradChart]) invalidate(c, true);
      break;
    }
    case "steps":
      threshold = m.clipThreshold;
      addRows(m.rows);
      skipped = m.skipped;
      if (m.rows.length) setStep(m.rows[m.rows.length - 1].step);
      $("speed").textContent = `${Math.round(m.charsPerSecond).toLocaleString("en-US")} ${unit === "nats/char" ? "chars" : "sequence steps"}/s`;
      lossReadout();
      gradReadout();
      divergenceBanner();
      $<HTMLButtonElement>("pin").disabled = steps.length < 2;
      invalidate(lossChart);
      invalidate(gradChart);
      for (const f of stepListeners) f(stepNow);
      break;
    case "adjusted":
      runSettings = m.settings;
      show({ lr: m.settings.lr, momentum: m.settings.momentum, clipMode: m.settings.clipMode, clip: m.settings.clip });
      markers = [...markers, { step: m.step, label: m.label }];
      note(`from step ${m.step.toLocaleString("en-US")}: ${m.label}`);
      gradReadout();
      // a run tamed by the change is no longer diverging: the banner goes with the next finite steps
      if (diverged !== null) banner(`${$("banner-text").textContent} Changed at step ${m.step}: ${m.label}.`);
      for (const c of [lossChart, gradChart, heatChart]) invalidate(c, true);
      break;
    case "validation": {
      const row = steps.find((r) => r.step === m.step);
      if (row) row.val_loss = m.loss;
      else steps.push({ step: m.step, loss: Number.NaN, grad_norm: Number.NaN, clipped: false, val_loss: m.loss });
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
            `${s.layer > 0 || spectra.some((x) => x.layer > 0) ? `layer ${s.layer + 1} ` : ""}${s.block === "hh" ? "W_hh" : `block ${s.block}`}: radius ${fmt(s.radius)}, σ_max ${fmt(s.sigmaMax)} ${s.sigmaMax > s.bound ? ">" : "<"} 1/γ = ${fmt(s.bound)}`,
        )
        .join(" · ");
      describe(eigChart, `Eigenvalues of the recurrent weights. ${$("eig-caption").textContent}.`);
      spectraByStep.push({ step: m.step, text: $("eig-caption").textContent ?? "" });
      if (spectraByStep.length > MAX_COLUMNS) spectraByStep = spectraByStep.filter((_, k) => k % 2 === 0 || k === spectraByStep.length - 1);
      heatCaption();
      if (m.warnings.length) $("heat-caption").textContent += ` — ${m.warnings[m.warnings.length - 1]}`;
      invalidate(heatChart);
      invalidate(eigChart);
      break;
    case "sample":
      samples.push({ step: m.step, text: m.text });
      if (samples.length > 200) samples = samples.filter((_, k) => k % 2 === 0 || k === samples.length - 1);
      $("sample").textContent = m.text;
      $("sample-step").textContent = `at step ${m.step}`;
      break;
    case "state":
      started = m.job;
      if (!m.job) runSettings = null;
      setRunning(m.running, m.step);
      markPending();
      break;
    case "checkpoint":
      save(m.name, new Blob([m.bytes], { type: "application/octet-stream" }));
      break;
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
    case "fatal":
      workerDied(m.message);
      break;
  }
}

/** The worker is gone (or broken): say so, stop showing it as training, and offer a new one. */
function workerDied(why: string): void {
  started = false;
  runSettings = null;
  setRunning(false, stepNow);
  $("run-state").textContent = "stopped";
  $("run-state").className = "badge failed";
  banner(`The training worker stopped: ${why}. The charts show the run up to step ${stepNow.toLocaleString("en-US")}.`, [
    { label: "Restart the worker", apply: restartWorker },
  ]);
}

function restartWorker(): void {
  worker.terminate();
  const w = createWorker();
  banner(null);
  attach(w, []);
  $("run-state").textContent = "idle";
  $("run-state").className = "badge";
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
  const visible = (s: string) => (s === "\n" ? "↵" : s === " " ? "␣" : s);
  const next = document.createElement("div");
  next.className = "sal-next";
  next.textContent = `next: ${m.top.map((t) => `${visible(t.token)} ${(100 * t.prob).toFixed(1)}%`).join(", ")}; explained: ${visible(m.target)} (log p = ${m.logProb.toFixed(3)})`;
  const top = (values: number[]) =>
    values
      .map((v, t) => [v, t] as const)
      .sort((a, b) => b[0] - a[0])
      .slice(0, 3)
      .map(([, t]) => `"${visible(m.tokens[t])}" at ${m.tokens.length - t} back`)
      .join(", ");
  const summary = document.createElement("p");
  summary.className = "vh";
  summary.textContent = `Most important by gradient: ${top(m.gradient)}; by occlusion: ${top(m.occlusion)}.`;
  $("saliency-out").replaceChildren(
    row("gradient", m.gradient, (v) => `‖∂ log p / ∂x‖ = ${fmt(v)}`),
    row("occlusion", m.occlusion, (v) => `log p drops by ${fmt(v)} without it (replaced by ${visible(m.replacement)})`),
    next,
    summary,
  );
  $("saliency-step").textContent = `at step ${m.step}`;
}

$("saliency-form").addEventListener("submit", (e) => {
  e.preventDefault();
  send({ type: "saliency", text: $<HTMLInputElement>("saliency-text").value });
});

// ---------------------------------------------------------------------------------------------
// the lab driven by code (the lecture mode)

const stepListeners = new Set<(step: number) => void>();

const lab: LabControl = {
  run(src: SourceChoice, s: Partial<Settings> = {}) {
    if (src.kind === "text") setText(src.name, src.text);
    if (src.kind === "task") {
      $<HTMLSelectElement>("task").value = src.task;
      $<HTMLInputElement>("task-length").value = String(src.length);
    }
    setSourceKind(src.kind);
    show({ ...DEFAULTS, ...s });
    startRun();
  },
  live(s: Partial<LiveSettings>) {
    show(s);
    applyLive();
  },
  pause() {
    if (running) send({ type: "pause" });
  },
  pin: pinCurrent,
  surface(o) {
    surfaceView.set(o);
  },
  explain(text: string) {
    $<HTMLInputElement>("saliency-text").value = text;
    send({ type: "saliency", text });
  },
  show(view: ViewName) {
    const el = $(`view-${view}`);
    el.scrollIntoView({ behavior: "smooth", block: "center" });
    el.classList.add("flash");
    setTimeout(() => el.classList.remove("flash"), 1600);
  },
  onStep(f: (step: number) => void) {
    stepListeners.add(f);
    return () => stepListeners.delete(f);
  },
};
const DEFAULTS: Settings = settingsOrDefaults();
function settingsOrDefaults(): Settings {
  return {
    cell: "rnn",
    hidden: Number($<HTMLInputElement>("hidden").defaultValue),
    layers: Number($<HTMLInputElement>("layers").defaultValue),
    seq: Number($<HTMLInputElement>("seq").defaultValue),
    batch: Number($<HTMLInputElement>("batch").defaultValue),
    optimizer: "adam",
    lr: Number($<HTMLInputElement>("lr").defaultValue),
    momentum: Number($<HTMLInputElement>("momentum").defaultValue),
    clipMode: "norm",
    clip: Number($<HTMLInputElement>("clip").defaultValue),
    seed: Number($<HTMLInputElement>("seed").defaultValue),
  };
}

// the guided lecture mode drives the page through `lab`; the glossary explains the terms on screen
mountLecture($("lecture"), lab);
mountGlossary(document.body);

/** Takes over a worker (main.ts's first, or a restarted one), with the messages it has sent so far. */
export function attach(w: Worker, early: MessageEvent<FromWorker>[]): void {
  worker = w;
  surfaceView.connect(send);
  w.addEventListener("message", onMessage);
  w.addEventListener("error", (e) => {
    e.preventDefault();
    workerDied(e.message || "an error the page could not read");
  });
  w.addEventListener("messageerror", () => workerDied("a message from it could not be read"));
  for (const e of early) onMessage(e);
}

// for tests and curious users: what has been drawn, and when
(window as unknown as { rnnlab: unknown }).rnnlab = {
  timing,
  lab,
  get step() {
    return stepNow;
  },
  get running() {
    return running;
  },
  get surfaceStart() {
    return surfaceView.start;
  },
  get markers() {
    return markers;
  },
  get skipped() {
    return skipped;
  },
  losses: () => steps.filter((r) => Number.isFinite(r.loss)).map((r) => r.loss),
  rows: () => rows,
  crashWorkerForTest: () => send({ type: "crash-for-test" }),
  draws: () => Object.fromEntries(CHARTS.map(([k, c]) => [k, c.draws])),
  builds: () => Object.fromEntries(CHARTS.map(([k, c]) => [k, (c as Chart & { builds?: number }).builds ?? c.draws])),
};
