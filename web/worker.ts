// The lab's training worker: every number the page shows is computed here, by the library
// (src/index.ts), and posted to the page as plain numbers. Training runs in slices of ~60 ms so
// that pause, reset and the other messages are handled between slices.

import {
  CELL_NAMES,
  CELLS,
  OPTIMIZER_NAMES,
  CheckpointError,
  CharVocab,
  ResourceError,
  checkSnapshotFinite,
  clipSummary,
  InputError,
  Rng,
  SafetensorsError,
  TaskRun,
  TrainingSession,
  saliency,
  textFits,
  decodeSafetensors,
  defaultKernels,
  encodeSafetensors,
  encodeText,
  wasmKernels,
  type CellName,
  type DiagnosticsRecord,
  type SessionHooks,
  type SessionSettings,
  type Snapshot,
  type Spawn,
  type SpectrumSummary,
  type TaskBatch,
} from "../src/index.js";
import type { FromWorker, LabHistory, Settings, Source, StepRow, ToWorker } from "./protocol.js";
import { surface } from "./surface-compute.js";
import { fitMessage } from "./checks.js";

const scope = globalThis as unknown as {
  postMessage(m: FromWorker, transfer?: Transferable[]): void;
  addEventListener(t: "message", f: (e: MessageEvent<ToWorker>) => void): void;
};
const post = (m: FromWorker, transfer: Transferable[] = []) => scope.postMessage(m, transfer);

/** What `rnnlab train` writes as the data path of the embedded corpus (src/cli/train.ts), so checkpoints move between the two. */
const EMBEDDED = "<embedded tinyshakespeare.txt>";
const VAL_FRACTION = 0.1;
const EMBED = 32;
/** Steps between diagnostics, validations; wall time between samples. */
const DIAG_EVERY = 10;
const VAL_EVERY = 50;
const SAMPLE_MS = 2500;
/** At most one diagnostics message in this many milliseconds. */
const DIAG_MS = 200;

/**
 * Data parallelism over batch rows, as `rnnlab train --threads`: the session runs the loop here
 * and starts one Web Worker per extra thread (src/train/shard-worker-web.ts), all sharing the
 * WebAssembly memory. It needs the page to be cross-origin isolated; otherwise the run quietly
 * uses one thread. (Vite bundles the worker from the `new URL(...)` below.)
 */
const THREADS = Math.max(1, Math.min(4, (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1));
const spawn: Spawn = (init) => {
  const w = new Worker(new URL("../src/train/shard-worker-web.ts", import.meta.url), { type: "module" });
  w.postMessage(init);
  return { terminate: () => w.terminate() };
};

/** A text run: the library's TrainingSession; the lab keeps only its name for the page. */
interface TextJob {
  kind: "text";
  session: TrainingSession;
  name: string;
}
/** A long-range task run; its step is the library's (TaskRun.step: the Updater). */
interface TaskJob {
  kind: "task";
  run: TaskRun;
  probe: TaskBatch;
}
type Job = TextJob | TaskJob;

let job: Job | null = null;
/** The last diagnostics of a text run not yet posted, when they were last posted, and at which step (task runs). */
let pendingDiagnostics: DiagnosticsRecord | null = null;
let lastDiagnosticsAt = 0;
let lastDiagnosticsStep = 0;
/** Explosion warnings since the last diagnostics were posted. */
let warnings: string[] = [];
let running = false;
let generation = 0;
let lastSample = 0;
let shakespeare: string | null = null;

function fail(message: string): void {
  post({ type: "error", message });
}

async function textOf(source: Source): Promise<{ text: string; path: string; name: string }> {
  if (source.kind === "shakespeare") {
    if (shakespeare === null) {
      const res = await fetch(source.url);
      if (!res.ok) throw new Error(`could not load the embedded tiny Shakespeare (${res.status} ${res.statusText})`);
      shakespeare = await res.text();
    }
    return { text: shakespeare, path: EMBEDDED, name: "tiny Shakespeare" };
  }
  if (source.kind === "text") return { text: source.text, path: `<lab: ${source.name}>`, name: source.name };
  throw new Error("not a text source");
}

/** How the lab runs a session: until paused, validation and diagnostics on its own cadence, samples by the clock. */
const LAB_CADENCE: SessionSettings = {
  steps: null,
  evalEvery: VAL_EVERY,
  saveEvery: Number.MAX_SAFE_INTEGER,
  sampleLength: 0,
  maxValTokens: 8192,
  diagnoseEvery: DIAG_EVERY,
  diagnoseLags: [],
  threads: THREADS,
  spawn,
  waitForThreads: false,
};

function sessionSettings(s: Settings): SessionSettings {
  return {
    ...LAB_CADENCE,
    valFraction: VAL_FRACTION,
    model: { cell: s.cell, embedSize: EMBED, hiddenSize: s.hidden, numLayers: s.layers },
    train: {
      batch: s.batch,
      k1: s.seq,
      k2: s.seq,
      optimizer: s.optimizer,
      lr: s.lr,
      momentum: s.momentum,
      clipNorm: s.clipMode === "norm" ? s.clip : null,
      clipValue: s.clipMode === "value" ? s.clip : null,
      nonFinite: "skip",
      seed: s.seed,
    },
    kernels: defaultKernels(),
  };
}

function settingsOf(session: TrainingSession): Settings {
  const c = session.run.config;
  const t = c.train;
  return {
    cell: c.model.cell as CellName, // a feed-forward checkpoint is refused before a session is made of it
    hidden: c.model.hiddenSize,
    layers: c.model.numLayers,
    seq: t.k1,
    batch: t.batch,
    optimizer: t.optimizer,
    lr: t.lr,
    momentum: t.momentum,
    clipMode: t.clipNorm !== null ? "norm" : t.clipValue !== null ? "value" : "none",
    clip: t.clipNorm ?? t.clipValue ?? 5,
    seed: t.seed,
  };
}

/** What the session reports, posted to the page. */
const hooks: SessionHooks = {
  onStep: (r) => {
    if (r.warning) warnings.push(r.warning);
  },
  onEval: (e) => {
    if (e.val !== null) post({ type: "validation", step: e.step, loss: e.val });
  },
  // kept, and posted at the end of a slice at most every DIAG_MS: a small model's run would flood the page otherwise
  onDiagnostics: (rec) => {
    pendingDiagnostics = rec;
  },
};

function postDiagnostics(rec: DiagnosticsRecord): void {
  const raised = warnings.slice(-3);
  warnings = [];
  post({
    type: "diagnostics",
    step: rec.step,
    T: rec.T,
    gradByLag: rec.layers[0].gradByLag,
    spectra: rec.spectra.map(round),
    warnings: [...raised, ...rec.warnings],
    clip: rec.clip!,
    lagTitle: `‖∂E_t/∂h_{t−lag}‖, loss at the last step t = ${rec.T} of the window`,
  });
}

function stepsOf(j: Job): number {
  return j.kind === "text" ? j.session.steps : j.run.steps;
}

function announce(extra: { history?: LabHistory | null; notes?: string[] } = {}): void {
  if (!job) return;
  if (job.kind === "text") {
    const { session, name } = job;
    const run = session.run;
    post({
      type: "started",
      source: session.info.data.path === EMBEDDED ? "shakespeare" : "text",
      unit: "nats/char",
      settings: settingsOf(session),
      step: run.steps,
      parameters: run.model.store.size,
      ...extra,
      description: `${name}: ${session.info.data.chars.toLocaleString("en-US")} characters, ${run.vocab.size} distinct; ${run.model.store.size.toLocaleString("en-US")} parameters; ${run.threads} thread${run.threads > 1 ? "s" : ""}`,
    });
  } else {
    const { run } = job;
    const c = run.config;
    post({
      type: "started",
      source: "task",
      unit: run.task.output === "regression-last" ? "MSE" : "nats",
      step: run.steps,
      parameters: run.model.store.size,
      settings: current()!,
      task: { task: c.task, length: c.length, baseline: run.task.baseline },
      description: `${run.task.title}, T = ${run.task.length}: ${run.task.criterion}; trivial baseline ${run.task.baseline.toPrecision(3)}; ${run.model.store.size.toLocaleString("en-US")} parameters`,
    });
  }
}

/** A session's errors in the lab's words: its --flags mean the page's settings here. */
function labMessage(e: unknown): Error {
  if (e instanceof InputError)
    return new Error(
      e.message
        .replace(/a smaller --batch or --seq/, "a smaller batch or window")
        .replace(/; raise --val-fraction.*$/, "; use a longer text or a smaller batch or window"),
    );
  return e as Error;
}

async function start(source: Source, s: Settings): Promise<void> {
  stop();
  const gen = ++generation;
  if (source.kind === "task") {
    if (s.clipMode === "value") throw new Error("a task run clips the gradient norm, or nothing: choose clipping norm or none");
    const run = new TaskRun(
      {
        task: source.task,
        length: source.length,
        cell: s.cell,
        hidden: s.hidden,
        layers: s.layers,
        init: s.cell === "rnn" ? "default" : "chrono",
        optimizer: s.optimizer,
        lr: s.lr,
        momentum: s.momentum,
        batch: s.batch,
        clip: s.clipMode === "norm" ? s.clip : null,
        seed: s.seed,
      },
      defaultKernels(),
    );
    job = { kind: "task", run, probe: run.task.batch(8, new Rng(4242)) };
  } else {
    const { text, path, name } = await textOf(source);
    if (gen !== generation) return; // started again, or reset, while the text loaded
    const { vocab, tokens, hash } = encodeText(text);
    const short = textFits(tokens.length, VAL_FRACTION, s.batch, s.seq);
    if (short) throw new Error(fitMessage(name, short, s));
    let session: TrainingSession;
    try {
      session = new TrainingSession({ vocab, tokens, hash, path, name }, sessionSettings(s), hooks);
    } catch (e) {
      throw labMessage(e);
    }
    await session.started(); // its Web Workers start only while this one yields
    if (gen !== generation) {
      session.dispose();
      return;
    }
    job = { kind: "text", session, name };
  }
  announce();
  diagnostics();
  running = true;
  lastSample = 0;
  loop(gen);
}

function stop(): void {
  running = false;
  pendingDiagnostics = null;
  lastDiagnosticsAt = 0;
  lastDiagnosticsStep = 0;
  if (job?.kind === "text") job.session.dispose(); // its shard workers, if any
  job = null;
  warnings = [];
}

function state(): void {
  post({ type: "state", running, step: job ? stepsOf(job) : 0, job: job !== null });
}

function step(j: Job): StepRow {
  if (j.kind === "text") {
    const r = j.session.step();
    return { step: r.step, loss: r.loss, gradNorm: r.grad_norm, clipped: r.clipped, skipped: r.skipped };
  }
  const r = j.run.step();
  if (r.warning) warnings.push(r.warning);
  return { step: r.step, loss: r.loss, gradNorm: r.gradNorm, clipped: r.clipped, skipped: r.skipped };
}

function loop(gen: number): void {
  if (!running || !job || gen !== generation) return;
  const j = job;
  const t0 = performance.now();
  const rows: StepRow[] = [];
  const first = stepsOf(j);
  try {
    while (performance.now() - t0 < 60) rows.push(step(j));
  } catch (e) {
    running = false;
    fail(`training stopped: ${(e as Error).message}`);
    state();
    return;
  }
  const dt = (performance.now() - t0) / 1000;
  const per = j.kind === "text" ? j.session.run.config.train.batch * j.session.run.config.train.k1 : j.run.config.batch * j.run.task.steps;
  const clipThreshold = j.kind === "text" ? j.session.run.config.train.clipNorm : j.run.config.clip;
  const skipped = j.kind === "text" ? j.session.run.trainer.stats.skipped : j.run.stats.skipped;
  post({ type: "steps", rows, charsPerSecond: (rows.length * per) / Math.max(dt, 1e-3), clipThreshold, skipped });
  // a text run validates and diagnoses itself (hooks); its diagnostics, and a task run's, are posted here
  const now = performance.now();
  if (now - lastDiagnosticsAt >= DIAG_MS) {
    if (j.kind === "text" && pendingDiagnostics) {
      postDiagnostics(pendingDiagnostics);
      pendingDiagnostics = null;
      lastDiagnosticsAt = now;
    } else if (j.kind === "task" && j.run.steps - lastDiagnosticsStep >= DIAG_EVERY) {
      diagnostics();
      lastDiagnosticsAt = now;
    }
  }
  if (j.kind === "task" && Math.floor(j.run.steps / VAL_EVERY) > Math.floor(first / VAL_EVERY)) validation();
  if (performance.now() - lastSample > SAMPLE_MS) sample();
  setTimeout(() => loop(gen), 0);
}

function validation(): void {
  if (!job) return;
  if (job.kind === "text") {
    const loss = job.session.validate();
    if (loss !== null) post({ type: "validation", step: job.session.steps, loss });
  } else {
    const e = job.run.evaluate(200);
    post({
      type: "validation",
      step: job.run.steps,
      loss: e.loss,
      detail: `${(100 * e.metric).toFixed(1)}% of 200 held-out sequences wrong${e.solved ? " (solved)" : ""}`,
    });
  }
}

function sample(): void {
  if (!job) return;
  lastSample = performance.now();
  if (job.kind === "text") {
    post({ type: "sample", step: job.session.steps, text: job.session.sample(400, 0.8) });
  } else {
    const e = job.run.evaluate(200);
    const t = job.run.task;
    post({
      type: "sample",
      step: job.run.steps,
      text:
        `${t.title}, T = ${t.length}\n${t.criterion}\n\nstep ${job.run.steps}: held-out loss ${e.loss.toPrecision(4)} (baseline ${t.baseline.toPrecision(4)}), ` +
        `${(100 * e.metric).toFixed(1)}% of 200 sequences wrong — ${e.solved ? "solved" : "not solved yet"}`,
    });
  }
}

function round(s: SpectrumSummary): SpectrumSummary {
  return { ...s, eigRe: Array.from(s.eigRe), eigIm: Array.from(s.eigIm), singular: Array.from(s.singular) };
}

/** Gradient reaching back in time (layer 0) and the spectra of W_hh, on a fixed probe batch (the library's numbers). */
function diagnostics(): void {
  if (!job) return;
  if (job.kind === "text") {
    job.session.diagnose(); // posted by the onDiagnostics hook
    return;
  }
  const { run, probe } = job;
  const raised = warnings.slice(-3);
  warnings = [];
  const { gradByLag, spectra } = run.diagnose(probe);
  lastDiagnosticsStep = run.steps;
  post({
    type: "diagnostics",
    step: run.steps,
    T: probe.T,
    gradByLag,
    spectra: spectra.map((s) => round(s as SpectrumSummary)),
    warnings: raised,
    clip: clipSummary(run.norms, run.config.clip),
    lagTitle: run.task.output === "class-every" ? "‖∂E/∂h_{T−lag}‖ (loss at every step)" : `‖∂E/∂h_{T−lag}‖, loss at the last step T = ${probe.T}`,
  });
}

function download(history?: LabHistory): void {
  if (job?.kind !== "text") {
    fail("checkpoints are for text runs; a task run has no checkpoint to download");
    return;
  }
  const { session } = job;
  const snap = session.snapshot({ lab: "1", ...(history ? { lab_history: JSON.stringify(history) } : {}) });
  // `rnnlab train --resume` on it finishes at once unless given --steps: the lab's run has no end of its own
  snap.metadata.run = JSON.stringify({ ...session.info, targetSteps: session.steps, sampleLength: 240 });
  checkSnapshotFinite(snap); // never hand out a checkpoint holding NaN or an infinity
  const bytes = encodeSafetensors(snap.tensors, snap.metadata);
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  post({ type: "checkpoint", name: `rnnlab-${session.run.config.model.cell}-step${session.steps}.safetensors`, bytes: buf }, [buf]);
}

async function upload(name: string, bytes: ArrayBuffer, current: Source): Promise<void> {
  let snap: Snapshot;
  try {
    const { tensors, metadata } = decodeSafetensors(new Uint8Array(bytes));
    snap = { tensors: Object.fromEntries(tensors), metadata };
  } catch (e) {
    if (e instanceof SafetensorsError)
      throw new Error(`${name} is not a readable safetensors checkpoint (${e.message}); upload a .safetensors file written by rnnlab train or by this lab`);
    throw e;
  }
  if (snap.metadata.format === undefined || snap.metadata.config === undefined) {
    throw new Error(
      `${name} is a safetensors file but not an rnnlab checkpoint (no "format" and "config" metadata); upload one written by rnnlab train or by this lab`,
    );
  }
  const info = (() => {
    try {
      return JSON.parse(snap.metadata.run ?? "null") as { data?: { path?: string; hash?: number; valFraction?: number; tokens?: string } } | null;
    } catch {
      return null;
    }
  })();
  if (info?.data?.tokens === "words") throw new Error(`${name} is a word-level model; the lab trains character models`);
  const embedded = info?.data?.path === EMBEDDED;
  let source: Source;
  if (embedded) source = { kind: "shakespeare", url: current.kind === "shakespeare" ? current.url : new URL("/data/tinyshakespeare.txt", location.href).href };
  else if (current.kind === "text") source = current;
  else if (current.kind === "shakespeare") source = current;
  else throw new Error(`${name} was trained on ${info?.data?.path ?? "an unknown text"}; choose that text as the data source first, then upload again`);
  const gen = generation;
  const { text, path, name: textName } = await textOf(source);
  if (gen !== generation) return;
  let vocab: CharVocab;
  try {
    vocab = new CharVocab(JSON.parse(snap.metadata.vocab ?? "[]") as string[]);
  } catch (e) {
    throw new Error(`${name} cannot be used: its vocabulary metadata is broken (${(e as Error).message})`);
  }
  let enc: ReturnType<typeof encodeText>;
  try {
    enc = encodeText(text, vocab);
  } catch (e) {
    throw new Error(`${name} was not trained on ${textName}: ${(e as Error).message}; choose the text it was trained on, then upload again`);
  }
  // the lab trains and draws recurrent models; a feed-forward one (rnnlab train --cell mlp) is the CLI's
  if (/"cell"\s*:\s*"mlp"/.test(snap.metadata.config ?? ""))
    throw new Error(
      `${name} holds a feed-forward model (rnnlab train --cell mlp); the lab trains recurrent models: sample or evaluate it with the rnnlab command`,
    );
  let session: TrainingSession;
  try {
    session = TrainingSession.restore(
      snap,
      { vocab, tokens: enc.tokens, hash: enc.hash, path: info?.data?.path ?? path },
      { ...LAB_CADENCE, kernels: defaultKernels() },
      hooks,
    );
  } catch (e) {
    if (e instanceof InputError)
      throw new Error(`${name} was trained on ${info?.data?.path ?? "another text"}, not on ${textName}; choose that text, then upload again`);
    if (e instanceof CheckpointError || e instanceof RangeError || e instanceof ResourceError) throw new Error(`${name} cannot be used: ${e.message}`);
    throw e;
  }
  await session.started(); // its Web Workers start only while this one yields
  stop();
  generation++;
  job = { kind: "text", session, name: textName };
  const { history, notes } = historyOf(snap.metadata.lab_history, session.steps, name);
  announce({ history, notes });
  diagnostics();
  sample();
  validation();
  state();
}

/** The chart history a lab checkpoint keeps (checked: anything malformed is left out, and said). */
function historyOf(json: string | undefined, step: number, name: string): { history: LabHistory | null; notes: string[] } {
  if (json === undefined)
    return {
      history: null,
      notes: [
        `${name} holds no chart history (rnnlab train keeps it in metrics.jsonl beside the checkpoint): the charts start at step ${step.toLocaleString("en-US")}`,
      ],
    };
  try {
    const h = JSON.parse(json) as LabHistory;
    const num = (v: unknown) => typeof v === "number" || v === null; // JSON writes NaN and infinities as null
    const ok =
      Array.isArray(h.steps) &&
      Array.isArray(h.val) &&
      Array.isArray(h.markers) &&
      h.steps.every((r) => Number.isSafeInteger(r.step) && r.step <= step && num(r.loss) && num(r.gradNorm) && typeof r.clipped === "boolean") &&
      h.val.every((r) => Number.isSafeInteger(r.step) && num(r.loss)) &&
      h.markers.every((m) => Number.isSafeInteger(m.step) && typeof m.label === "string");
    if (!ok) throw new Error("malformed");
    const nan = (v: number | null) => (v === null ? Number.NaN : v);
    return {
      history: {
        steps: h.steps.map((r) => ({ step: r.step, loss: nan(r.loss), gradNorm: nan(r.gradNorm), clipped: r.clipped, skipped: r.skipped === true })),
        val: h.val.map((r) => ({ step: r.step, loss: nan(r.loss) })),
        markers: h.markers.map((m) => ({ step: m.step, label: m.label.slice(0, 80) })),
      },
      notes: [],
    };
  } catch {
    return { history: null, notes: [`${name}'s chart history is unreadable and was left out: the charts start at step ${step.toLocaleString("en-US")}`] };
  }
}

/** Applies live settings to the running model (TrainingSession.adjust, TaskRun.adjust) and says what changed. */
function adjust(change: Extract<ToWorker, { type: "adjust" }>["settings"]): void {
  if (!job) return;
  const before = current();
  if (!before) return;
  const next = { ...before, ...change };
  if (job.kind === "task" && next.clipMode === "value") throw new Error("a task run clips the gradient norm, or nothing: choose clipping norm or none");
  const clipNorm = next.clipMode === "norm" ? next.clip : null;
  const clipValue = next.clipMode === "value" ? next.clip : null;
  const diff: string[] = [];
  if (next.lr !== before.lr) diff.push(`lr ${next.lr}`);
  if (next.momentum !== before.momentum) diff.push(`momentum ${next.momentum}`);
  if (next.clipMode !== before.clipMode || (next.clipMode !== "none" && next.clip !== before.clip))
    diff.push(next.clipMode === "none" ? "no clipping" : `clip ${next.clipMode} ${next.clip}`);
  if (!diff.length) return;
  try {
    if (job.kind === "text") {
      const t = job.session.run.config.train;
      job.session.adjust({
        ...(next.lr !== before.lr ? { lr: next.lr } : {}),
        ...(next.momentum !== before.momentum ? { momentum: next.momentum } : {}),
        ...(clipNorm !== t.clipNorm ? { clipNorm } : {}),
        ...(clipValue !== t.clipValue ? { clipValue } : {}),
      });
    } else {
      job.run.adjust({
        ...(next.lr !== before.lr ? { lr: next.lr } : {}),
        ...(next.momentum !== before.momentum ? { momentum: next.momentum } : {}),
        ...(clipNorm !== job.run.config.clip ? { clip: clipNorm } : {}),
      });
    }
  } catch (e) {
    if (e instanceof RangeError) throw new Error(`that setting cannot apply to the running model: ${e.message}`);
    throw e;
  }
  post({ type: "adjusted", step: stepsOf(job), settings: current()!, label: diff.join(", ") });
}

/** The settings of the running job, as the page shows them. */
function current(): Settings | null {
  if (!job) return null;
  if (job.kind === "text") return settingsOf(job.session);
  const c = job.run.config;
  return {
    cell: c.cell as CellName, // the lab's task mode offers the recurrent cells only
    hidden: c.hidden,
    layers: c.layers ?? 1,
    seq: c.length,
    batch: c.batch,
    optimizer: c.optimizer,
    lr: c.lr,
    momentum: c.momentum ?? 0,
    clipMode: c.clip === null ? "none" : "norm",
    clip: c.clip ?? 1,
    seed: c.seed,
  };
}

/** The saliency of the text's last prediction on the model being trained (the CLI's rnnlab probe saliency). */
function explain(text: string): void {
  if (job?.kind !== "text") throw new Error("explaining a prediction needs a language model: start (or upload) a run on text first");
  const { vocab, model } = { vocab: job.session.run.vocab, model: job.session.run.model };
  if (text.length === 0) throw new Error("type a text whose next character the model should predict");
  const chars = [...text];
  if (chars.length > 300) throw new Error(`the text has ${chars.length} characters; explain at most 300 (occlusion runs it once per character)`);
  const missing = chars.find((c) => !vocab.has(c));
  if (missing !== undefined) throw new Error(`the character ${JSON.stringify(missing)} is not in the model's vocabulary; leave it out`);
  const ids = vocab.encode(text);
  const replacement = vocab.has(" ") ? vocab.encode(" ")[0] : 0;
  const s = saliency(model, ids, { replacement, topK: 5 });
  const tok = (id: number) => vocab.decode(Int32Array.of(id));
  post({
    type: "saliency",
    step: job.session.steps,
    tokens: s.inputs.map(tok),
    gradient: s.gradient,
    occlusion: s.occlusion,
    target: tok(s.target),
    logProb: s.logProb,
    top: s.top.map((t) => ({ token: tok(t.token), prob: t.prob })),
    replacement: tok(replacement),
  });
}

scope.addEventListener("message", (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  const guard = (p: Promise<void> | void) =>
    Promise.resolve(p).catch((err: Error) => {
      fail(err.message);
      state();
    });
  switch (m.type) {
    case "start":
      void guard(start(m.source, m.settings).then(state));
      break;
    case "pause":
      running = false;
      state();
      break;
    case "resume":
      if (job && !running) {
        running = true;
        generation++;
        loop(generation);
      }
      state();
      break;
    case "reset":
      stop();
      generation++;
      state();
      break;
    case "download":
      void guard(Promise.resolve().then(() => download(m.history)));
      break;
    case "upload":
      void guard(upload(m.name, m.bytes, m.source));
      break;
    case "surface":
      void guard(Promise.resolve().then(() => post(surface(m))));
      break;
    case "saliency":
      void guard(Promise.resolve().then(() => explain(m.text)));
      break;
    case "adjust":
      void guard(Promise.resolve().then(() => adjust(m.settings)));
      break;
    case "crash-for-test":
      setTimeout(() => {
        throw new Error("a deliberate crash (browser test)");
      });
      break;
  }
});

// whatever escapes the handlers above (a bug): stop, and let the page say so and offer a restart
const die = (what: unknown) => {
  running = false;
  generation++;
  post({ type: "fatal", message: what instanceof Error ? what.message : String(what) });
};
(globalThis as unknown as { addEventListener(t: string, f: (e: Event) => void): void }).addEventListener("error", (e) => {
  e.preventDefault();
  die((e as ErrorEvent).error ?? (e as ErrorEvent).message);
});
(globalThis as unknown as { addEventListener(t: string, f: (e: Event) => void): void }).addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  die((e as PromiseRejectionEvent).reason);
});

defaultKernels();
post({
  type: "ready",
  cells: CELL_NAMES.map((c) => ({ name: c, title: CELLS[c].title })),
  optimizers: [...OPTIMIZER_NAMES],
  kernels: wasmKernels() && defaultKernels() === wasmKernels() ? "WebAssembly SIMD" : "TypeScript (no cross-origin isolation or SIMD)",
  isolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
});
