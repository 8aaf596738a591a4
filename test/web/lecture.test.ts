// @vitest-environment node
// The lab's lecture mode and glossary as data (web/lecture.ts, web/glossary.ts), in Node without a
// DOM: every demonstration's settings are ones the page accepts, every step names views the page
// has, every glossary term has a definition, and the terms on the page's captions are found.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CELL_NAMES, OPTIMIZER_NAMES, TASK_NAMES } from "../../src/index.js";
import { findTerms, GLOSSARY, glossEntry } from "../../web/glossary.js";
import { type Demo, JANE, LECTURE_STEPS, type LectureAction, PAGE_DEFAULTS } from "../../web/lecture.js";
import type { ViewName } from "../../web/lab-control.js";
import type { Settings } from "../../web/protocol.js";
import { SURFACE_WINDOW } from "../../web/surface-compute.js";

const HTML = readFileSync(new URL("../../web/index.html", import.meta.url), "utf8");
const VIEWS: readonly ViewName[] = ["loss", "grad", "heat", "eig", "sample", "saliency", "surface"];

/** The page's own checks on a setting (app.ts: num(), the selects' options). */
function checkSettings(s: Settings): string[] {
  const bad: string[] = [];
  const int = (k: keyof Settings, lo: number, hi: number) => {
    const v = s[k] as number;
    if (!(Number.isInteger(v) && v >= lo && v <= hi)) bad.push(`${k} ${v} not a whole number in ${lo}..${hi}`);
  };
  if (!["rnn", "lstm", "gru"].includes(s.cell) || !(CELL_NAMES as readonly string[]).includes(s.cell)) bad.push(`cell ${s.cell}`);
  int("hidden", 1, 1024);
  int("layers", 1, 4);
  int("seq", 2, 512);
  int("batch", 1, 256);
  int("seed", 0, 2 ** 31);
  if (!["adam", "adamw", "rmsprop", "adagrad", "sgd"].includes(s.optimizer) || !(OPTIMIZER_NAMES as readonly string[]).includes(s.optimizer))
    bad.push(`optimizer ${s.optimizer}`);
  if (!(s.lr >= 1e-7 && s.lr <= 10)) bad.push(`lr ${s.lr}`);
  if (!(s.momentum >= 0 && s.momentum <= 1)) bad.push(`momentum ${s.momentum}`);
  if (s.momentum !== 0 && !["sgd", "rmsprop"].includes(s.optimizer)) bad.push(`momentum ${s.momentum} with ${s.optimizer}`);
  if (!["norm", "value", "none"].includes(s.clipMode)) bad.push(`clipMode ${s.clipMode}`);
  if (!(s.clip >= 1e-9 && s.clip <= 1e6)) bad.push(`clip ${s.clip}`);
  return bad;
}

function demos(a: LectureAction): Demo[] {
  return a.kind === "run" ? [a.demo, ...(a.next ? [a.next.demo] : [])] : [];
}

const actions = LECTURE_STEPS.flatMap((s) => [s.run, ...(s.second ? [s.second] : [])]);

describe("lecture mode (web/lecture.ts)", () => {
  it("has the steps of the issue, each with a title, a sentence to watch, a Run this button and what was measured", () => {
    expect(LECTURE_STEPS.map((s) => s.id)).toEqual(["bptt", "exploding", "clipped", "vanishing", "surface", "saliency"]);
    expect(new Set(LECTURE_STEPS.map((s) => s.id)).size).toBe(LECTURE_STEPS.length);
    for (const s of LECTURE_STEPS) {
      expect(s.title.length, s.id).toBeGreaterThan(5);
      expect(s.watch.length, s.id).toBeGreaterThan(60);
      expect(s.run.label).toBe("Run this");
      expect(s.basis.length, s.id).toBeGreaterThan(40);
      if (s.second) expect(s.second.label).not.toBe("Run this");
    }
  });

  it("starts from the page's defaults (web/index.html)", () => {
    const value = (id: string) => Number(new RegExp(`id="${id}"[^>]*value="([^"]+)"`).exec(HTML)?.[1]);
    for (const k of ["hidden", "layers", "seq", "batch", "lr", "momentum", "clip", "seed"] as const) expect(PAGE_DEFAULTS[k], k).toBe(value(k));
    expect(checkSettings(PAGE_DEFAULTS)).toEqual([]);
  });

  it("gives every run settings the page accepts, and a source it offers", () => {
    for (const a of actions) {
      for (const d of demos(a.action)) {
        expect(checkSettings(d.settings), d.name).toEqual([]);
        if (d.source.kind === "task") {
          expect(TASK_NAMES).toContain(d.source.task);
          expect(HTML).toContain(`<option value="${d.source.task}">`);
          expect(d.source.length).toBeGreaterThanOrEqual(10);
          expect(d.source.length).toBeLessThanOrEqual(1000);
          expect(d.settings.clipMode, "a task run clips the norm or nothing").not.toBe("value");
        }
        if (d.source.kind === "text") {
          // long enough for a batch of windows and the 10% validation split
          expect(d.source.text.length * 0.9).toBeGreaterThan(d.settings.batch * (d.settings.seq + 1));
          expect(d.source.text.length * 0.1).toBeGreaterThan(d.settings.seq + 1);
        }
      }
      if (a.action.kind === "run" && a.action.next) expect(a.action.next.atStep).toBeGreaterThan(20);
      if (a.action.kind === "run" && a.action.explain) expect(a.action.explain.atStep).toBeGreaterThan(20);
      if (a.action.kind === "live") {
        const l = { ...PAGE_DEFAULTS, ...a.action.settings };
        expect(checkSettings(l)).toEqual([]);
      }
      if (a.action.kind === "surface") {
        const [w, b] = a.action.start;
        expect(w >= SURFACE_WINDOW.w[0] && w <= SURFACE_WINDOW.w[1] && b >= SURFACE_WINDOW.b[0] && b <= SURFACE_WINDOW.b[1]).toBe(true);
        expect(a.action.lr).toBeGreaterThan(0);
        expect(a.action.clip).toBeGreaterThan(0);
      }
    }
  });

  it("names views that exist in the page", () => {
    for (const s of LECTURE_STEPS) {
      for (const v of [s.view, ...(s.alsoViews ?? []), ...[s.run, s.second].flatMap((b) => (b?.view ? [b.view] : []))]) {
        expect(VIEWS).toContain(v);
        expect(HTML, `${s.id}: view-${v}`).toContain(`id="view-${v}"`);
      }
    }
  });

  it("demonstrates what the issue asks for", () => {
    const step = (id: string) => LECTURE_STEPS.find((s) => s.id === id)!;
    const run = (id: string) => step(id).run.action as Extract<LectureAction, { kind: "run" }>;
    // exploding: SGD without clipping; the second button turns norm clipping on while it runs
    expect(run("exploding").demo.settings).toMatchObject({ cell: "rnn", optimizer: "sgd", clipMode: "none" });
    expect(step("exploding").second?.action).toEqual({ kind: "live", settings: { clipMode: "norm", clip: 1 } });
    // the same with clipping from the start, beside the pinned run
    expect(run("clipped").pinFirst).toBe(true);
    expect(run("clipped").demo.settings).toEqual({ ...run("exploding").demo.settings, clipMode: "norm", clip: 1 });
    // vanishing: the tanh RNN, pinned, then the LSTM, on the same task and settings otherwise
    const v = run("vanishing");
    expect(v.demo.source).toEqual({ kind: "task", task: "temporal-order", length: 50 });
    expect(v.demo.settings.cell).toBe("rnn");
    expect(v.next?.demo.settings).toEqual({ ...v.demo.settings, cell: "lstm" });
    expect(v.next?.demo.source).toEqual(v.demo.source);
    // the wall and the saliency view
    expect(step("surface").view).toBe("surface");
    expect(run("saliency").explain?.text).toBe(JANE);
    expect(HTML).toContain(`value="${JANE}"`);
  });
});

describe("glossary (web/glossary.ts)", () => {
  it("defines every term the issue lists, each once, in plain sentences", () => {
    const keys = GLOSSARY.map((e) => e.key);
    expect(new Set(keys).size).toBe(keys.length);
    for (const k of [
      "nats",
      "bpc",
      "perplexity",
      "chance",
      "truncation",
      "gamma",
      "sigma-max",
      "radius",
      "bound",
      "suggested",
      "norm-clipping",
      "value-clipping",
      "lag",
      "vanishing",
      "exploding",
      "lstm",
      "gru",
      "bptt",
    ]) {
      expect(glossEntry(k), k).toBeDefined();
    }
    for (const e of GLOSSARY) {
      expect(e.definition.length, e.key).toBeGreaterThan(40);
      expect(e.definition, e.key).toMatch(/\.$/);
      expect(e.aliases.length, e.key).toBeGreaterThan(0);
    }
    // no spelling belongs to two terms
    const spellings = GLOSSARY.flatMap((e) => e.aliases.map((a) => a.toLowerCase()));
    expect(new Set(spellings).size).toBe(spellings.length);
  });

  it("finds the terms in the page's captions, the longest spelling first", () => {
    const keys = (text: string) => findTerms(text).map((m) => m.key);
    expect(keys("train 2.10 nats = 3.03 bits/char (last 50 steps) · validation 2.2 nats = 3.2 bits/char")).toEqual([
      "nats",
      "bpc",
      "validation",
      "nats",
      "bpc",
    ]);
    expect(keys("W_hh: radius 1.19, σ_max 2.68 > 1/γ = 1")).toEqual(["whh", "radius", "sigma-max", "bound"]);
    expect(keys("γ bounds |σ'|; truncated BPTT and BPTT")).toEqual(["gamma", "truncation", "bptt"]);
    expect(keys("dark: the gradient has vanished by that lag")).toEqual(["vanishing", "lag"]);
    expect(keys("blue: norm before clipping, orange: after; red points: clipped steps")).toEqual(["grad-norm", "norm-clipping"]);
    expect(keys("the suggested threshold, a gradient norm clipping threshold")).toEqual(["suggested", "norm-clipping", "threshold"]);
    // not inside words, and abbreviations only in capitals
    expect(keys("flagged blast lstm natsu")).toEqual([]);
    expect(keys("an LSTM and a GRU")).toEqual(["lstm", "gru"]);
    // first occurrence only, and skipping what is marked already
    expect(findTerms("nats and nats", { firstOnly: true }).map((m) => [m.start, m.end])).toEqual([[0, 4]]);
    expect(findTerms("nats and bpc", { skip: new Set(["nats"]) }).map((m) => m.key)).toEqual(["bpc"]);
  });

  it("marks the terms of the lecture's sentences", () => {
    for (const s of LECTURE_STEPS) expect(findTerms(s.watch).length, s.id).toBeGreaterThan(0);
  });
});
