// The lab's guided lecture mode: a short sequence of demonstrations beside the charts, each set up
// and run with one click, each saying in a sentence or two what to watch and where. It drives the
// lab only through LabControl (lab-control.ts), as a user would with the controls.
//
// The settings of every demonstration were chosen by measurement with the CLI and the library
// (rnnlab train / task / probe saliency, and the same TrainingSession and TaskRun the lab's worker
// runs), single-threaded, seed 1; `basis` of each step says what was measured. The browser splits
// each batch over threads, so its numbers differ in the last digits (and, in a chaotic explosion,
// in the details), not in what they show.

import type { LabControl, LiveSettings, SourceChoice, ViewName } from "./lab-control.js";
import type { Settings } from "./protocol.js";
import { glossaryList, glossify } from "./glossary.js";
import { SURFACE_START } from "./protocol.js";

/** A run of the lab: the data source and every setting. */
export interface Demo {
  /** What the status line calls it ("the tanh RNN"). */
  name: string;
  source: SourceChoice;
  settings: Settings;
}

/** What a button does, as data (so that tests can check it) */
export type LectureAction =
  | {
      kind: "run";
      demo: Demo;
      /** Keep the current run as a faded overlay first. */
      pinFirst?: boolean;
      /** Then, once this run reaches `atStep`: pin it and start `demo`. */
      next?: { atStep: number; demo: Demo };
      /** Then, once this run reaches `atStep`: explain the prediction after `text`. */
      explain?: { atStep: number; text: string };
    }
  | { kind: "live"; settings: Partial<LiveSettings> }
  | { kind: "surface"; start: [number, number]; lr: number; clip: number }
  | { kind: "explain"; text: string };

export interface LectureButton {
  /** The button's visible label. */
  label: string;
  action: LectureAction;
  /** The view to bring into sight (default: the step's view). */
  view?: ViewName;
  /** What the second button's effect is, in a sentence (shown beside it). */
  watch?: string;
}

export interface LectureStep {
  id: string;
  title: string;
  /** One or two sentences: what to watch, in which view. */
  watch: string;
  /** The view the sentence points at (brought into sight on "Run this"). */
  view: ViewName;
  /** Other views the sentence names. */
  alsoViews?: readonly ViewName[];
  run: LectureButton;
  second?: LectureButton;
  /** The measurements behind the settings. */
  basis: string;
}

/** The page's defaults (web/index.html), which every demonstration starts from. */
export const PAGE_DEFAULTS: Settings = {
  cell: "rnn",
  hidden: 128,
  layers: 1,
  seq: 50,
  batch: 32,
  optimizer: "adam",
  lr: 0.003,
  momentum: 0,
  clipMode: "norm",
  clip: 1,
  seed: 1,
};

const settings = (s: Partial<Settings>): Settings => ({ ...PAGE_DEFAULTS, ...s });

/** The lecture's example of a long-range dependency (the saliency view's own default text). */
export const JANE = "Jane walked into the room. John walked in too. It was late in the day. Jane said hi to";
const HELLO = "hello world ";

const SHAKESPEARE: SourceChoice = { kind: "shakespeare" };
const TEMPORAL_ORDER: SourceChoice = { kind: "task", task: "temporal-order", length: 50 };
const EXPLODING = settings({ cell: "rnn", hidden: 128, seq: 50, batch: 32, optimizer: "sgd", lr: 5, momentum: 0, clipMode: "none", clip: 1 });
const TASK = settings({ hidden: 64, seq: 50, batch: 32, optimizer: "adam", lr: 0.003, clipMode: "norm", clip: 1 });

/** The steps, in order. */
export const LECTURE_STEPS: readonly LectureStep[] = [
  {
    id: "bptt",
    title: "Tied weights and BPTT",
    watch:
      "A tanh RNN of 16 units learns to continue “hello world ” with a truncation of 16 characters: one W_hh, used at every step of the window (tied weights), whose gradient BPTT adds up from all 16 copies. " +
      "The loss falls from chance, ln 8 ≈ 2.08 nats, to near 0 within 100 steps; the heat map shows the gradient reaching back fading within a few characters, about all this text needs.",
    view: "heat",
    alsoViews: ["loss"],
    run: {
      label: "Run this",
      action: {
        kind: "run",
        demo: {
          name: "the tanh RNN on “hello world ”",
          source: { kind: "text", name: "hello world ×500", text: HELLO.repeat(500) },
          settings: settings({ cell: "rnn", hidden: 16, seq: 16, batch: 8, optimizer: "adam", lr: 0.01, clipMode: "norm", clip: 1 }),
        },
      },
    },
    basis:
      "rnnlab train hello.txt (“hello world ” ×500) --cell rnn --hidden 16 --embed 32 --seq 16 --batch 8 --optimizer adam --lr 0.01 --clip 1 --diagnose-every 50: " +
      "loss 2.045 at step 1, 0.264 at 25, 0.049 at 50, 0.015 at 100; validation 0.004 nats at 300; gradient at lag 3 = 2.8% of lag 0, at lag 15 = 1e-9 (step 50). In Chromium: mean loss 1.40 (steps 1–10), 0.07 (41–50), 0.02 (91–100).",
  },
  {
    id: "exploding",
    title: "Exploding gradients",
    watch:
      "The same tanh RNN of 128 units on Shakespeare, trained by plain SGD at learning rate 5 with no clipping. Within the first ten steps the gradient norm leaps from 0.5 past 1,000, " +
      "and the loss jumps to 20–50 nats, far above chance (ln 65 ≈ 4.17), and stays there.",
    view: "grad",
    alsoViews: ["loss"],
    run: { label: "Run this", action: { kind: "run", demo: { name: "SGD without clipping", source: SHAKESPEARE, settings: EXPLODING } } },
    second: {
      label: "Now turn clipping on",
      action: { kind: "live", settings: { clipMode: "norm", clip: 1 } },
      view: "loss",
      watch:
        "From the next step, every gradient is rescaled to norm 1 before the update (red points: clipped steps): within 20 steps the loss falls by more than half and levels off near 6–9 nats. " +
        "It stays above chance: clipping prevents the damage, it does not undo it.",
    },
    basis:
      "The lab's TrainingSession (embedding 32, validation 0.1, k1 = k2 = 50, non-finite updates skipped), SGD lr 5, no clipping: gradient norm 0.54 at step 1, 1,160 within steps 1–10, loss up to 51.6 and 18–21 nats for steps 10–100; a warning at step 108 (norm 64.3, 21× the median). " +
      "Clipping at 1 switched on at step 100: mean loss 18.3 (steps 91–100), 9.6 (101–110), 7.5 (111–120), 6.3 by step 400, largest norm 3.6. lr 10 is worse (loss 40 nats; 13 after clipping), lr 1 does not explode in 150 steps. " +
      "In Chromium (2 threads): largest norm 1,320 in steps 1–10, mean loss 29 (steps 1–10) and 33 (11–67); clipping on at step 70: 22.6 (68–77), 11.5 (78–87), 8.3 (88–167).",
  },
  {
    id: "clipped",
    title: "The same with clipping from the start",
    watch:
      "The last run stays as a faded overlay; the same SGD at learning rate 5 now clips the gradient norm at 1 from the first step. " +
      "The loss falls below chance within about 60 steps and reaches about 2.1–2.3 nats by step 300, where the unclipped run could not.",
    view: "loss",
    alsoViews: ["grad"],
    run: {
      label: "Run this",
      action: { kind: "run", pinFirst: true, demo: { name: "SGD with clipping", source: SHAKESPEARE, settings: { ...EXPLODING, clipMode: "norm", clip: 1 } } },
    },
    basis:
      "The same session with clipping at 1 from step 1: mean loss 6.3 (steps 1–10), 3.35 (61–70), 2.75 (91–100), 2.13 (271–280); validation 2.27 nats at step 300; after step 60 the gradient norm stays below 1. In Chromium: 6.32 (steps 1–10), 3.76 (51–70), 2.11 (281–300).",
  },
  {
    id: "vanishing",
    title: "Vanishing gradients: tanh RNN against LSTM",
    watch:
      "Temporal order, T = 50: the class depends on two symbols near steps 5–9 and 25–29, about 20 to 45 steps before the end. The tanh RNN trains for 500 steps and stays at chance (ln 4 ≈ 1.39 nats, about 75% wrong): " +
      "on the heat map its gradient is dark beyond a lag of about 20. Then it is pinned and an LSTM starts, which solves the task (0% wrong) by step 400, its gradient still bright at lag 40.",
    view: "loss",
    alsoViews: ["heat", "sample"],
    run: {
      label: "Run this",
      action: {
        kind: "run",
        demo: { name: "the tanh RNN", source: TEMPORAL_ORDER, settings: { ...TASK, cell: "rnn" } },
        next: { atStep: 500, demo: { name: "the LSTM", source: TEMPORAL_ORDER, settings: { ...TASK, cell: "lstm" } } },
      },
    },
    second: {
      label: "Start the LSTM now",
      action: { kind: "run", pinFirst: true, demo: { name: "the LSTM", source: TEMPORAL_ORDER, settings: { ...TASK, cell: "lstm" } } },
      view: "loss",
    },
    basis:
      "rnnlab task temporal-order --length 50 --hidden 64 (adam lr 0.003, batch 32, clip 1, seed 1): the LSTM (chrono init) 49% wrong at step 100, 40.4% at 300, solved at step 400 (0.0% of 500 wrong); " +
      "the tanh RNN 72.6–78.2% wrong at every evaluation to step 1,000, loss 1.387 against the baseline 1.386. TaskRun.diagnose on the lab's probe: the tanh RNN’s gradient at lag 20 is 8e-6 to 4e-3 of lag 0, at lag 40 1.6e-10 to 4.8e-5; the LSTM's at lag 40 is 0.05 to 1.4. In Chromium: the LSTM started at step 500 of the tanh RNN and was solved at step 350 (0.0% of 200 wrong); heat map at step 440: 0.134 of lag 0's gradient reaches lag 49.",
  },
  {
    id: "surface",
    title: "The single-neuron wall",
    watch:
      "The error of one neuron, x_t = w·σ(x_{t−1}) + b over 50 steps, has a steep wall (Pascanu et al. 2013, fig. 6). From (5.2, −4) at learning rate 0.5, plain gradient descent (solid) reaches the wall at step 54, where the gradient norm is 1,540, and one step throws it 770 units away, off the map; " +
      "with the gradient norm clipped at 0.2 (dashed), 23 of the 100 steps are clipped, none is longer than 0.1, and it follows the valley to E ≈ 0.0014. The cross-section under the map shows E across the wall; drag the white start point, or move the sliders.",
    view: "surface",
    run: { label: "Run this", action: { kind: "surface", start: [SURFACE_START[0], SURFACE_START[1]], lr: 0.5, clip: 0.2 } },
    second: {
      label: "A looser threshold: 1",
      action: { kind: "surface", start: [SURFACE_START[0], SURFACE_START[1]], lr: 0.5, clip: 1 },
      watch: "The plain path is the same; clipping at 1 acts on only 2 of the 100 steps and the dashed path ends at E ≈ 0.046, 33 times higher than with 0.2.",
    },
    basis:
      "surface() of web/surface-compute.ts (descend, 100 steps), the worker's own code: “Without clipping: thrown off the map at step 54 by a step 770 long (‖∇E‖ = 1540 before it); ended at (412, 651), E = 0.09. " +
      "With clipping at 0.2: 23 of 100 steps clipped; ended at (4.3, -2.14), E = 0.00137 (66× lower).” At threshold 1: 2 of 100 steps clipped, E = 0.0456. At learning rate 0.1 the paths coincide (no gradient norm above 0.0454; E = 0.449); at 2 both get down (E 0.0012 and 0.0055).",
  },
  {
    id: "saliency",
    title: "How far back the model looks",
    watch:
      "An LSTM of 128 units trains on Shakespeare; at step 600 (about 1.9 nats per character) the lab explains its next character after “… Jane said hi to”. " +
      "The shading sits on the last ten or so characters; the first “Jane”, more than 80 characters back, gets none: the name is not carried that far.",
    view: "saliency",
    alsoViews: ["loss"],
    run: {
      label: "Run this",
      action: {
        kind: "run",
        demo: {
          name: "the LSTM on Shakespeare",
          source: SHAKESPEARE,
          settings: settings({ cell: "lstm", hidden: 128, seq: 50, batch: 32, optimizer: "adam", lr: 0.003 }),
        },
        explain: { atStep: 600, text: JANE },
      },
      view: "loss",
    },
    second: { label: "Explain on the current model", action: { kind: "explain", text: JANE } },
    basis:
      "rnnlab train --cell lstm --hidden 128 --embed 32 --seq 50 --batch 32 --lr 0.003 --clip 1 --steps 600: validation 1.958 nats at step 400, 1.880 at 600 (25 s on one thread). " +
      "rnnlab probe saliency on it: 99.99% of the gradient norm on the last 20 of 86 characters, the largest on “o”, “t”, “ ” (the last three); by occlusion, “o” 9.5, “t” 4.3, the second “J” 0.0025, the first “Jane” 0. In Chromium: explained at step 600 (validation 1.876 nats), next “ ” 33.4%, “u” 15.1%; most important by gradient “o”, “t”, “ ” at 1, 2, 3 back.",
  },
];

// ---------------------------------------------------------------------------------------------
// the panel

const CSS = `
.lecture { font-size: 0.88rem; }
.lecture h2 { margin: 0 0 0.2rem; }
.lecture-intro { margin: 0 0 0.45rem; color: #555; font-size: 0.82rem; }
.lecture-steps { margin: 0; padding: 0; list-style: none; counter-reset: lecture; }
.lecture-step { counter-increment: lecture; position: relative; margin: 0 0 0.4rem; padding: 0.4rem 0.6rem 0.45rem 2rem; border: 1px solid #dde2ea; border-radius: 6px; background: #fff; }
.lecture-step::before { content: counter(lecture); position: absolute; left: 0.55rem; top: 0.45rem; width: 1.1rem; height: 1.1rem; border-radius: 50%;
  background: #e4e9f1; color: #333; font-size: 0.72rem; font-weight: 600; line-height: 1.1rem; text-align: center; }
.lecture-step.lecture-current { border-color: #2f6fbd; box-shadow: 0 0 0 2px rgba(47, 111, 189, 0.18); background: #f5f9ff; }
.lecture-step.lecture-current::before { background: #2f6fbd; color: #fff; }
.lecture-head { display: flex; flex-wrap: wrap; align-items: baseline; column-gap: 0.6rem; }
.lecture-title { margin: 0 0 0.15rem; font-size: 0.92rem; }
.lecture-where { color: #666; font-size: 0.76rem; }
.lecture-watch, .lecture-then { margin: 0 0 0.35rem; line-height: 1.4; }
.lecture-then { color: #333; }
.lecture-then b { font-weight: 600; }
/* the steps not being followed show two lines until focused: the charts stay in sight */
.lecture-step:not(.lecture-current):not(:focus-within) .lecture-watch { display: -webkit-box; -webkit-line-clamp: 2; line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden; }
.lecture-step:not(.lecture-current):not(:focus-within) .lecture-then,
.lecture-step:not(.lecture-current):not(:focus-within) details { display: none; }
.lecture-actions { display: flex; flex-wrap: wrap; gap: 0.4rem; align-items: center; margin: 0.1rem 0 0.3rem; }
.lecture-actions button { font: inherit; padding: 0.2rem 0.7rem; border-radius: 4px; border: 1px solid #2f6fbd; background: #fff; color: #2f6fbd; cursor: pointer; }
.lecture-actions button.lecture-run { background: #2f6fbd; color: #fff; }
.lecture-actions button:hover { filter: brightness(0.94); }
.lecture-actions button:focus-visible { outline: 2px solid #1d4f8f; outline-offset: 2px; }
.lecture-status, .lecture-count { font-size: 0.78rem; color: #2f6fbd; }
.lecture-count { font-variant-numeric: tabular-nums; }
.lecture-step details { margin-top: 0.3rem; font-size: 0.76rem; color: #555; }
.lecture-step details summary { cursor: pointer; }
.lecture-step details p { margin: 0.2rem 0 0; line-height: 1.35; }
.lecture-dock { position: fixed; right: 16px; bottom: 16px; z-index: 900; display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem; max-width: min(36rem, calc(100vw - 32px));
  padding: 0.45rem 0.7rem; background: #fff; border: 1px solid #2f6fbd; border-radius: 8px; box-shadow: 0 4px 16px rgba(0, 0, 0, 0.18); font-size: 0.85rem; }
.lecture-dock[hidden] { display: none; }
.lecture-dock .lecture-actions { margin: 0; }
.lecture-dock-back { font: inherit; font-size: 0.8rem; padding: 0.15rem 0.5rem; border: 1px solid #bbb; border-radius: 4px; background: #f6f7f9; cursor: pointer; }
.lecture-glossary { margin-top: 0.3rem; }
.lecture-glossary summary { cursor: pointer; font-weight: 600; }
.lecture-sr { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
`;

const VIEW_TITLES: Record<ViewName, string> = {
  loss: "Loss",
  grad: "Gradient norm",
  heat: "Gradient reaching back in time",
  eig: "Eigenvalues of W_hh",
  sample: "Sample",
  saliency: "What the next character rests on",
  surface: "Error surface of a single neuron",
};

function addStyle(): void {
  if (document.getElementById("lecture-style")) return;
  const style = document.createElement("style");
  style.id = "lecture-style";
  style.textContent = CSS;
  document.head.append(style);
}

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const el = Object.assign(document.createElement(tag), props);
  el.append(...children);
  return el;
}

/** A one-line summary of a demonstration's settings. */
export function describeSettings(d: Demo): string {
  const s = d.settings;
  const src = d.source.kind === "task" ? `${d.source.task} T = ${d.source.length}` : d.source.kind === "text" ? d.source.name : "tiny Shakespeare";
  const cell = s.cell === "rnn" ? "tanh RNN" : s.cell.toUpperCase();
  const clip = s.clipMode === "none" ? "no clipping" : `${s.clipMode} clipping at ${s.clip}`;
  const mom = s.optimizer === "sgd" || s.optimizer === "rmsprop" ? `, momentum ${s.momentum}` : "";
  return `${src}; ${cell}, hidden ${s.hidden}, ${s.layers} layer${s.layers > 1 ? "s" : ""}, truncation ${s.seq}, batch ${s.batch}; ${s.optimizer} lr ${s.lr}${mom}, ${clip}; seed ${s.seed}`;
}

function settingsText(a: LectureAction): string[] {
  switch (a.kind) {
    case "run":
      return [describeSettings(a.demo), ...(a.next ? [`at step ${a.next.atStep}: ${describeSettings(a.next.demo)}`] : [])];
    case "live":
      return [
        `live: ${Object.entries(a.settings)
          .map(([k, v]) => `${k} ${v}`)
          .join(", ")}`,
      ];
    case "surface":
      return [`start (${a.start.join(", ")}), learning rate ${a.lr}, clipping threshold ${a.clip}`];
    case "explain":
      return [`explain the next character after “${a.text}”`];
  }
}

/**
 * The lecture mode in `container` (an empty section of the page): the steps, each with its
 * "Run this" button (and some with a second one), driving the lab through `lab` only.
 */
export function mountLecture(container: HTMLElement, lab: LabControl): void {
  addStyle();
  container.classList.add("lecture");
  container.setAttribute("aria-labelledby", "lecture-heading");

  /** Stops what the running step still waits for (its onStep subscription). */
  let cancel: () => void = () => {};
  const items: HTMLLIElement[] = [];
  const statuses: HTMLElement[] = [];
  const counters: HTMLElement[] = [];
  let current = -1;

  // the dock: the current step's title, progress and second button, kept in sight while the page shows its views (the steps scroll away)
  const dockTitle = h("b", { className: "lecture-dock-title" });
  const dockCount = h("span", { className: "lecture-count" });
  const dockActions = h("span", { className: "lecture-actions" });
  const dockBack = h("button", { type: "button", className: "lecture-dock-back", textContent: "Back to the steps" });
  const dock = h("div", { className: "lecture-dock", hidden: true }, dockTitle, dockCount, dockActions, dockBack);
  dock.setAttribute("role", "region");
  dock.setAttribute("aria-label", "current lecture step");
  dockBack.addEventListener("click", () => {
    const li = items[current];
    if (!li) return;
    li.scrollIntoView({ behavior: "smooth", block: "nearest" });
    li.querySelector<HTMLButtonElement>("button")?.focus({ preventScroll: true });
  });
  let currentInSight = true;
  const updateDock = () => {
    // only a step with a second button to press while its views are in sight needs it
    dock.hidden = current < 0 || currentInSight || !LECTURE_STEPS[current].second;
  };
  const sight =
    typeof IntersectionObserver === "function"
      ? new IntersectionObserver((entries) => {
          for (const e of entries) if (e.target === items[current]) currentInSight = e.isIntersecting;
          updateDock();
        })
      : null;

  const setCurrent = (k: number) => {
    if (k !== current) {
      if (current >= 0) sight?.unobserve(items[current]);
      current = k;
      currentInSight = true;
      sight?.observe(items[k]);
      const step = LECTURE_STEPS[k];
      dockTitle.textContent = `${k + 1}. ${step.title}`;
      dockCount.textContent = "";
      dockActions.replaceChildren(...(step.second ? [stepButton(k, step.second, false)] : []));
    }
    items.forEach((li, j) => {
      li.classList.toggle("lecture-current", j === k);
      if (j === k) li.setAttribute("aria-current", "step");
      else li.removeAttribute("aria-current");
      if (j !== k) {
        statuses[j].textContent = "";
        counters[j].textContent = "";
      }
    });
    updateDock();
  };

  /** A step's button: the visible label, then the step's title for screen readers ("Run this: Exploding gradients"). */
  const stepButton = (k: number, b: LectureButton, primary: boolean) => {
    const step = LECTURE_STEPS[k];
    const el = h(
      "button",
      { type: "button", className: primary ? "lecture-run" : "lecture-second" },
      b.label,
      h("span", { className: "lecture-sr", textContent: `: ${step.title}` }),
    );
    el.addEventListener("click", () => act(k, b.action, b.view ?? step.view));
    return el;
  };

  /** Does a button's action for step k; `view`: the view to show. */
  const act = (k: number, a: LectureAction, view: ViewName) => {
    if (k !== current) {
      cancel(); // the last step's run is no longer followed
      cancel = () => {};
    }
    const say = (text: string) => (statuses[k].textContent = text);
    const count = (text: string) => {
      counters[k].textContent = text;
      if (k === current) dockCount.textContent = text;
    };
    switch (a.kind) {
      case "run": {
        cancel();
        if (a.pinFirst) lab.pin();
        lab.run(a.demo.source, a.demo.settings);
        lab.show(view);
        const next = a.next
          ? `; at step ${a.next.atStep} it is pinned and ${a.next.demo.name} starts`
          : a.explain
            ? `; at step ${a.explain.atStep} the lab explains its next character`
            : "";
        say(`running ${a.demo.name}${next}`);
        let stop: (() => void) | null = null;
        const finish = () => {
          stop?.();
          stop = null;
        };
        cancel = finish;
        /** Counts the steps of a run, from its own start (the page may still receive the last run's steps at first). */
        const follow = (name: string, chained: ((step: number) => void) | null) => {
          let armed = false;
          let last = 0;
          let shown = 0;
          stop = lab.onStep((step) => {
            if (!armed && step <= 20) armed = true;
            if (!armed || stop === null) return;
            if (step < last && last > 30) {
              // another run started (the page's own Start): what follows is no longer ours
              finish();
              say("");
              count("");
              return;
            }
            last = step;
            const now = performance.now();
            if (now - shown > 250) {
              shown = now;
              count(`${name}: step ${step.toLocaleString("en-US")}`);
            }
            chained?.(step);
          });
        };
        follow(a.demo.name, (step) => {
          if (a.next && step >= a.next.atStep) {
            const chained = a.next;
            finish();
            // after the page has handled this batch of steps
            setTimeout(() => {
              lab.pin();
              lab.run(chained.demo.source, chained.demo.settings);
              say(`${a.demo.name} is pinned at step ${step}; ${chained.demo.name} runs now`);
              count("");
              follow(chained.demo.name, null);
              cancel = finish;
            }, 0);
          } else if (a.explain && step >= a.explain.atStep) {
            const text = a.explain.text;
            setTimeout(() => {
              lab.explain(text);
              lab.show("saliency");
              say(`explained at step ${step}; training goes on (“Explain on the current model” explains again)`);
            }, 0);
            const name = a.demo.name;
            finish();
            follow(name, null);
          }
        });
        break;
      }
      case "live":
        lab.live(a.settings);
        lab.show(view);
        say(
          `changed while running: ${Object.entries(a.settings)
            .map(([key, v]) => `${key} ${v}`)
            .join(", ")}`,
        );
        break;
      case "surface":
        lab.surface({ start: a.start, lr: a.lr, clip: a.clip });
        lab.show(view);
        say(`descents from (${a.start.join(", ")}), learning rate ${a.lr}, clipping at ${a.clip}`);
        break;
      case "explain":
        lab.explain(a.text);
        lab.show(view);
        say("explaining on the model being trained");
        break;
    }
    setCurrent(k);
  };

  const heading = h("h2", { id: "lecture-heading", textContent: "Lecture mode" });
  const intro = h("p", {
    className: "lecture-intro",
    textContent: "The lecture's demonstrations, one click each: every button sets up the lab and starts it; the sentences say what to watch, and where.",
  });
  const list = h("ol", { className: "lecture-steps" });

  LECTURE_STEPS.forEach((step, k) => {
    const views = [step.view, ...(step.alsoViews ?? [])].map((v) => VIEW_TITLES[v]).join(" · ");
    const head = h(
      "div",
      { className: "lecture-head" },
      h("h3", { className: "lecture-title", textContent: step.title }),
      h("span", { className: "lecture-where", textContent: `watch: ${views}` }),
    );
    const watch = h("p", { className: "lecture-watch gloss", textContent: step.watch });
    const button = (b: LectureButton, primary: boolean) => stepButton(k, b, primary);
    const status = h("span", { className: "lecture-status", role: "status" });
    const counter = h("span", { className: "lecture-count" });
    statuses.push(status);
    counters.push(counter);
    const actions = h("div", { className: "lecture-actions" }, button(step.run, true));
    if (step.second) actions.append(button(step.second, false));
    actions.append(status, counter);
    const settingsLines = [
      ...settingsText(step.run.action),
      ...(step.second ? settingsText(step.second.action).map((t) => `${step.second!.label}: ${t}`) : []),
    ];
    const details = h(
      "details",
      {},
      h("summary", { textContent: "settings and measurements" }),
      ...settingsLines.map((t) => h("p", { textContent: t })),
      h("p", { textContent: `Measured: ${step.basis}` }),
    );
    // the buttons above the sentences: a step that opens up on focus grows below them, never moving a button under the pointer
    const li = h("li", { className: "lecture-step" }, head, actions, watch);
    if (step.second?.watch) {
      const label = h("b", { textContent: `${step.second.label}: ` });
      label.dataset.glossSkip = ""; // the button's words, not a term to define
      li.append(h("p", { className: "lecture-then gloss" }, label, step.second.watch));
    }
    li.append(details);
    items.push(li);
    list.append(li);
  });

  const glossary = h("details", { className: "lecture-glossary" }, h("summary", { textContent: "Glossary" }), glossaryList());
  container.replaceChildren(heading, intro, list, glossary, dock);
  for (const el of Array.from(container.querySelectorAll<HTMLElement>(".gloss"))) glossify(el);
}
