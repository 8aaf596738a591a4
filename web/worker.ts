// The lab's training worker: every number the page shows is computed here, by the library
// (src/index.ts), and posted to the page as plain numbers. Training runs in slices of ~60 ms so
// that pause, reset and the other messages are handled between slices.

import {
  CheckpointError, CharVocab, ResourceError, checkSnapshotFinite, ExplosionWatch, Rng, SafetensorsError, TaskModel, TaskRun, TrainingRun,
  clipSummary, decodeSafetensors, defaultKernels, descend, diagnose, encodeSafetensors, encodeText, probeBatch,
  recurrentSpectra, surfaceGrid, wasmKernels,
  type RunConfig, type Snapshot, type Spawn, type SpectrumSummary, type TaskBatch, type TokenArray,
} from "../src/index.js";
import type { FromWorker, Settings, Source, StepRow, ToWorker } from "./protocol.js";

const scope = globalThis as unknown as { postMessage(m: FromWorker, transfer?: Transferable[]): void; addEventListener(t: "message", f: (e: MessageEvent<ToWorker>) => void): void };
const post = (m: FromWorker, transfer: Transferable[] = []) => scope.postMessage(m, transfer);

/** What `rnnlab train` writes as the data path of the embedded corpus (src/cli/train.ts), so checkpoints move between the two. */
const EMBEDDED = "<embedded tinyshakespeare.txt>";
const VAL_FRACTION = 0.1;
const EMBED = 32;
/** Steps between diagnostics, validations; wall time between samples. */
const DIAG_EVERY = 10;
const VAL_EVERY = 50;
const SAMPLE_MS = 2500;

/**
 * Data parallelism over batch rows, as `rnnlab train --threads`: this worker runs the loop and
 * starts one Web Worker per extra thread (src/io/shard-worker-web.ts), all sharing the
 * WebAssembly memory. It needs the page to be cross-origin isolated; otherwise TrainingRun
 * quietly uses one thread. (Vite bundles the worker from the `new URL(...)` below.)
 */
const THREADS = Math.max(1, Math.min(4, (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1));
const spawn: Spawn = (init) => {
  const w = new Worker(new URL("../src/io/shard-worker-web.ts", import.meta.url), { type: "module" });
  w.postMessage(init);
  return { terminate: () => w.terminate() };
};

interface TextJob {
  kind: "text";
  run: TrainingRun;
  probe: { inputs: Int32Array; targets: Int32Array; T: number };
  data: { path: string; chars: number; hash: number; name: string };
}
interface TaskJob {
  kind: "task";
  run: TaskRun;
  probe: TaskBatch;
}
type Job = TextJob | TaskJob;

let job: Job | null = null;
/** Pre-clip gradient norms of the run so far (clipping statistics) and the explosion watch. */
let norms: number[] = [];
let watch = new ExplosionWatch();
let warnings: string[] = [];
let running = false;
let generation = 0;
let lastSample = 0;
let shakespeare: string | null = null;
let surfaceCache: { key: string; grid: ReturnType<typeof surfaceGrid> } | null = null;

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

function split(tokens: TokenArray): { train: TokenArray; val: TokenArray } {
  const n = Math.floor(tokens.length * (1 - VAL_FRACTION));
  return { train: tokens.subarray(0, n) as TokenArray, val: tokens.subarray(n) as TokenArray };
}

function configOf(s: Settings, vocabSize: number): RunConfig {
  return {
    model: { cell: s.cell, vocabSize, embedSize: EMBED, hiddenSize: s.hidden, numLayers: s.layers, nonlinearity: "tanh", tieWeights: false, dropout: 0, init: "default" },
    train: {
      batch: s.batch, k1: s.seq, k2: s.seq, optimizer: s.optimizer, lr: s.lr, momentum: 0, weightDecay: 0,
      clipNorm: s.clipMode === "norm" ? s.clip : null, clipValue: s.clipMode === "value" ? s.clip : null, nonFinite: "skip", seed: s.seed,
    },
  };
}

function settingsOf(c: RunConfig): Settings {
  const t = c.train;
  return {
    cell: c.model.cell, hidden: c.model.hiddenSize, layers: c.model.numLayers, seq: t.k1, batch: t.batch, optimizer: t.optimizer, lr: t.lr,
    clipMode: t.clipNorm !== null ? "norm" : t.clipValue !== null ? "value" : "none", clip: t.clipNorm ?? t.clipValue ?? 5, seed: t.seed,
  };
}

function textJob(run: TrainingRun, data: TextJob["data"]): TextJob {
  const T = run.config.train.k1;
  const src = run.valTokens && run.valTokens.length > T + 1 ? run.valTokens : run.trainTokens;
  return { kind: "text", run, data, probe: { ...probeBatch(src, 8, T), T } };
}

function checkLength(what: string, train: TokenArray, val: TokenArray, s: Settings): void {
  const need = s.batch * s.seq + 1;
  if (train.length < need || val.length < s.seq + 2) {
    throw new Error(`${what} is too short: ${train.length + val.length} characters, and one batch of ${s.batch} x ${s.seq} steps needs ${Math.ceil(need / (1 - VAL_FRACTION))}; use a longer text or a smaller batch or window`);
  }
}

function announce(): void {
  if (!job) return;
  if (job.kind === "text") {
    const { run, data } = job;
    post({
      type: "started", source: data.path === EMBEDDED ? "shakespeare" : "text", unit: "nats/char", settings: settingsOf(run.config), step: run.steps, parameters: run.model.store.size,
      description: `${data.name}: ${data.chars.toLocaleString("en-US")} characters, ${run.vocab.size} distinct; ${run.model.store.size.toLocaleString("en-US")} parameters; ${run.threads} thread${run.threads > 1 ? "s" : ""}`,
    });
  } else {
    const { run } = job;
    const c = run.config;
    post({
      type: "started", source: "task", unit: run.task.output === "regression-last" ? "MSE" : "nats", step: run.steps, parameters: run.model.store.size,
      settings: { cell: c.cell, hidden: c.hidden, layers: c.layers ?? 1, seq: c.length, batch: c.batch, optimizer: c.optimizer, lr: c.lr, clipMode: c.clip === null ? "none" : "norm", clip: c.clip ?? 1, seed: c.seed },
      description: `${run.task.title}, T = ${run.task.length}: ${run.task.criterion}; trivial baseline ${run.task.baseline.toPrecision(3)}; ${run.model.store.size.toLocaleString("en-US")} parameters`,
    });
  }
}

async function start(source: Source, s: Settings): Promise<void> {
  stop();
  const gen = ++generation;
  if (source.kind === "task") {
    if (s.clipMode === "value") throw new Error("a task run clips the gradient norm, or nothing: choose clipping norm or none");
    const run = new TaskRun({
      task: source.task, length: source.length, cell: s.cell, hidden: s.hidden, layers: s.layers, init: s.cell === "rnn" ? "default" : "chrono",
      optimizer: s.optimizer, lr: s.lr, batch: s.batch, clip: s.clipMode === "norm" ? s.clip : null, seed: s.seed,
    });
    job = { kind: "task", run, probe: run.task.batch(8, new Rng(4242)) };
  } else {
    const { text, path, name } = await textOf(source);
    if (gen !== generation) return; // started again, or reset, while the text loaded
    const { vocab, tokens, hash } = encodeText(text);
    const { train, val } = split(tokens);
    checkLength(name, train, val, s);
    const run = new TrainingRun(configOf(s, vocab.size), vocab, train, val, { threads: THREADS, spawn, waitForThreads: false });
    await run.started(); // its Web Workers start only while this one yields
    if (gen !== generation) {
      run.dispose();
      return;
    }
    job = textJob(run, { path, name, chars: tokens.length, hash });
  }
  announce();
  diagnostics();
  running = true;
  lastSample = 0;
  loop(gen);
}

function stop(): void {
  running = false;
  if (job?.kind === "text") job.run.dispose(); // its shard workers, if any
  job = null;
  norms = [];
  watch = new ExplosionWatch();
  warnings = [];
}

function state(): void {
  post({ type: "state", running, step: job ? job.run.steps : 0, job: job !== null });
}

function step(): StepRow {
  if (!job) throw new Error("no run");
  const r = job.run.step();
  norms.push(r.gradNorm);
  const w = watch.observe(r.step, r.gradNorm);
  if (w) warnings.push(w);
  return { step: r.step, loss: r.loss, gradNorm: r.gradNorm, clipped: r.clipped };
}

function loop(gen: number): void {
  if (!running || !job || gen !== generation) return;
  const t0 = performance.now();
  const rows: StepRow[] = [];
  let diag = false;
  let val = false;
  try {
    while (performance.now() - t0 < 60) {
      const r = step();
      rows.push(r);
      if (r.step % DIAG_EVERY === 0) diag = true;
      if (r.step % VAL_EVERY === 0) val = true;
      if (diag || val) break;
    }
  } catch (e) {
    running = false;
    fail(`training stopped: ${(e as Error).message}`);
    state();
    return;
  }
  const dt = (performance.now() - t0) / 1000;
  const per = job.kind === "text" ? job.run.config.train.batch * job.run.config.train.k1 : job.run.config.batch * job.run.task.steps;
  const clipThreshold = job.kind === "text" ? job.run.config.train.clipNorm : job.run.config.clip;
  post({ type: "steps", rows, charsPerSecond: (rows.length * per) / Math.max(dt, 1e-3), clipThreshold });
  if (diag) diagnostics();
  if (val) validation();
  if (performance.now() - lastSample > SAMPLE_MS) sample();
  setTimeout(() => loop(gen), 0);
}

function validation(): void {
  if (!job) return;
  if (job.kind === "text") {
    const loss = job.run.validate(8192);
    if (loss !== null) post({ type: "validation", step: job.run.steps, loss });
  } else {
    const e = job.run.evaluate(200);
    post({ type: "validation", step: job.run.steps, loss: e.loss, detail: `${(100 * e.metric).toFixed(1)}% of 200 held-out sequences wrong${e.solved ? " (solved)" : ""}` });
  }
}

function sample(): void {
  if (!job) return;
  lastSample = performance.now();
  if (job.kind === "text") {
    post({ type: "sample", step: job.run.steps, text: job.run.sample(400, { temperature: 0.8 }) });
  } else {
    const e = job.run.evaluate(200);
    const t = job.run.task;
    post({
      type: "sample", step: job.run.steps,
      text: `${t.title}, T = ${t.length}\n${t.criterion}\n\nstep ${job.run.steps}: held-out loss ${e.loss.toPrecision(4)} (baseline ${t.baseline.toPrecision(4)}), ` +
        `${(100 * e.metric).toFixed(1)}% of 200 sequences wrong — ${e.solved ? "solved" : "not solved yet"}`,
    });
  }
}

function round(s: SpectrumSummary): SpectrumSummary {
  return { ...s, eigRe: Array.from(s.eigRe), eigIm: Array.from(s.eigIm), singular: Array.from(s.singular) };
}

/** Gradient reaching back in time (layer 0) and the spectra of W_hh, on a fixed probe batch. */
function diagnostics(): void {
  if (!job) return;
  const threshold = job.kind === "text" ? job.run.config.train.clipNorm : job.run.config.clip;
  const clip = clipSummary(norms, threshold);
  const raised = warnings.slice(-3);
  warnings = [];
  if (job.kind === "text") {
    const { run, probe } = job;
    const rec = diagnose(run.model, probe.inputs, probe.targets, probe.T, { lags: [], step: run.steps });
    post({
      type: "diagnostics", step: run.steps, T: probe.T, gradByLag: rec.layers[0].gradByLag, spectra: rec.spectra.map(round), warnings: [...raised, ...rec.warnings], clip,
      lagTitle: `‖∂E_t/∂h_{t−lag}‖, loss at the last step t = ${probe.T} of the window`,
    });
  } else {
    // the task's loss sits at the last step (or every step): the recurrent backward records
    // ‖∂E/∂h_k‖ for each k on a float64 copy of the model
    const { run, probe } = job;
    const copy = new TaskModel(run.task, { ...run.config, dtype: "float64" });
    copy.store.values.set(run.model.store.values);
    copy.forward(probe);
    const cache = copy.lastCache;
    const T = probe.T;
    const L = copy.rnn.numLayers;
    let byLag: number[] = [];
    if (cache) {
      cache.flow = { h: new Float64Array(L * T), c: copy.rnn.mode === "LSTM" ? new Float64Array(L * T) : null };
      copy.store.zeroGrad();
      copy.backward(probe);
      const h = cache.flow.h;
      for (let k = T - 1; k >= 0; k--) byLag.push(h[k]);
      cache.flow = null;
    }
    byLag = byLag.map((v) => +v.toPrecision(6));
    post({
      type: "diagnostics", step: run.steps, T, gradByLag: byLag, spectra: recurrentSpectra(copy.rnn).map((s) => round(s as SpectrumSummary)), warnings: raised, clip,
      lagTitle: run.task.output === "class-every" ? "‖∂E/∂h_{T−lag}‖ (loss at every step)" : `‖∂E/∂h_{T−lag}‖, loss at the last step T = ${T}`,
    });
  }
}

function download(): void {
  if (!job || job.kind !== "text") {
    fail("checkpoints are for text runs; a task run has no checkpoint to download");
    return;
  }
  const { run, data } = job;
  const info = {
    data: { path: data.path, chars: data.chars, hash: data.hash, valFraction: VAL_FRACTION, tokens: "chars" },
    targetSteps: run.steps, evalEvery: VAL_EVERY, saveEvery: VAL_EVERY, sampleLength: 240, bestVal: null, bestStep: null, finished: false,
  };
  const snap = run.snapshot({ run: JSON.stringify(info), lab: "1" });
  checkSnapshotFinite(snap); // never hand out a checkpoint holding NaN or an infinity
  const bytes = encodeSafetensors(snap.tensors, snap.metadata);
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  post({ type: "checkpoint", name: `rnnlab-${run.config.model.cell}-step${run.steps}.safetensors`, bytes: buf }, [buf]);
}

async function upload(name: string, bytes: ArrayBuffer, current: Source): Promise<void> {
  let snap: Snapshot;
  try {
    const { tensors, metadata } = decodeSafetensors(new Uint8Array(bytes));
    snap = { tensors: Object.fromEntries(tensors), metadata };
  } catch (e) {
    if (e instanceof SafetensorsError) throw new Error(`${name} is not a readable safetensors checkpoint (${e.message}); upload a .safetensors file written by rnnlab train or by this lab`);
    throw e;
  }
  if (snap.metadata.format === undefined || snap.metadata.config === undefined) {
    throw new Error(`${name} is a safetensors file but not an rnnlab checkpoint (no "format" and "config" metadata); upload one written by rnnlab train or by this lab`);
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
  if (info?.data?.hash !== undefined && info.data.hash !== enc.hash) {
    throw new Error(`${name} was trained on ${info.data.path ?? "another text"}, not on ${textName}; choose that text, then upload again`);
  }
  const frac = info?.data?.valFraction ?? VAL_FRACTION;
  const n = Math.floor(enc.tokens.length * (1 - frac));
  const train = enc.tokens.subarray(0, n) as TokenArray;
  const val = frac > 0 ? (enc.tokens.subarray(n) as TokenArray) : null;
  let run: TrainingRun;
  try {
    run = TrainingRun.restore(snap, train, val, { threads: THREADS, spawn, waitForThreads: false });
  } catch (e) {
    if (e instanceof CheckpointError || e instanceof RangeError || e instanceof ResourceError) throw new Error(`${name} cannot be used: ${e.message}`);
    throw e;
  }
  await run.started(); // its Web Workers start only while this one yields
  stop();
  generation++;
  job = textJob(run, { path, name: textName, chars: enc.tokens.length, hash: enc.hash });
  announce();
  diagnostics();
  sample();
  validation();
  state();
}

function surface(start: [number, number], lr: number, clip: number, steps: number): void {
  const key = "4,8,-5,-1,48";
  if (!surfaceCache || surfaceCache.key !== key) surfaceCache = { key, grid: surfaceGrid({ wRange: [4, 8], bRange: [-5, -1], steps: 48 }) };
  const g = surfaceCache.grid;
  const plain = descend(start, { lr, steps, clip: null });
  const clipped = descend(start, { lr, steps, clip });
  post({
    type: "surface", w: Array.from(g.w), b: Array.from(g.b), loss: Array.from(g.loss), start,
    paths: [
      { name: "gradient descent", dashed: false, points: plain.map((p) => ({ x: p.w, y: p.b })) },
      { name: `with norm clipping at ${clip}`, dashed: true, points: clipped.map((p) => ({ x: p.w, y: p.b })) },
    ],
  });
}

scope.addEventListener("message", (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  const guard = (p: Promise<void> | void) => Promise.resolve(p).catch((err: Error) => {
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
      void guard(Promise.resolve().then(download));
      break;
    case "upload":
      void guard(upload(m.name, m.bytes, m.source));
      break;
    case "surface":
      void guard(surface(m.start, m.lr, m.clip, m.steps));
      break;
  }
});

defaultKernels();
post({ type: "ready", kernels: wasmKernels() && defaultKernels() === wasmKernels() ? "WebAssembly SIMD" : "TypeScript (no cross-origin isolation or SIMD)", isolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true });
