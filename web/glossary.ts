// The lab's glossary: short plain-language definitions of the terms its captions and readouts use
// (nats, bits per character, truncation, γ, σ_max, ...), and the code that turns those terms on the
// page into focusable <dfn>/<abbr> elements whose definition pops up on hover and on keyboard focus.
//
// The page mounts it once (mountGlossary(root)); it then re-marks the terms whenever the page
// replaces the text of a caption (a MutationObserver), and glossify(el) does it at once. Setting
// an element's textContent simply drops the marks: nothing here keeps references to the old nodes,
// and a term's text is the text the page wrote, so textContent reads the same with or without.
//
// The definitions follow the lecture (../shared/seed/lecture-rnn.txt) and the code they describe:
// src/analysis/spectra.ts (γ, σ_max, 1/γ), src/train/clip.ts (clipping, the suggested threshold),
// src/nn/cells.ts (the gates' γ), src/train/session.ts (bits per character, perplexity).

/** One glossary entry. */
export interface GlossEntry {
  /** Stable id (used in element ids and data-gloss="key"). */
  key: string;
  /** The term as the definition's heading shows it. */
  term: string;
  /** The spellings that are marked in the page's text (the term itself need not be one of them). */
  aliases: readonly string[];
  /** Mark these aliases only with this exact case (abbreviations; default: any case). */
  caseSensitive?: boolean;
  /** An abbreviation: marked with <abbr> rather than <dfn>. */
  abbr?: boolean;
  /** One to three plain sentences. */
  definition: string;
}

/** The terms, in the order the glossary list shows them. */
export const GLOSSARY: readonly GlossEntry[] = [
  {
    key: "nats",
    term: "nats",
    aliases: ["nats", "nats/char", "nats per character"],
    definition:
      "The unit of the loss: the cross-entropy −ln p of the correct next character, with the natural logarithm, averaged over the characters. 0 is a perfect prediction; guessing uniformly among V characters scores ln V.",
  },
  {
    key: "bpc",
    term: "bits per character",
    aliases: ["bits per character", "bits/char", "bpc"],
    definition:
      "The same loss with the base-2 logarithm: nats ÷ ln 2 (≈ 0.693). It is the number of bits a compressor driven by the model would spend on each character.",
  },
  {
    key: "perplexity",
    term: "perplexity",
    aliases: ["perplexity"],
    definition:
      "e raised to the loss in nats: the number of equally likely choices the model is as unsure as. Guessing uniformly among V tokens has perplexity V. rnnlab reports it for word-level models, bits per character for character models.",
  },
  {
    key: "chance",
    term: "chance level (ln V)",
    aliases: ["chance level", "chance", "ln V"],
    definition:
      "The loss of a model that gives each of the V possible tokens probability 1/V: ln V nats. Tiny Shakespeare has 65 distinct characters, so chance is ln 65 ≈ 4.17 nats per character; a task with 4 classes, such as temporal order, has ln 4 ≈ 1.39 nats and 75% wrong. A loss above chance is worse than guessing.",
  },
  {
    key: "truncation",
    term: "truncation (truncated BPTT)",
    aliases: ["truncated BPTT", "truncated backpropagation", "truncation", "truncated"],
    definition:
      "The text is cut into windows of k steps (the lab's truncation: one update every k characters, backpropagated through those k). The hidden state carries over from one window to the next, but the gradient stops at the window's start: it never reaches more than k steps back.",
  },
  {
    key: "gamma",
    term: "γ (gamma)",
    aliases: ["γ", "gamma"],
    definition:
      "A bound on the activation's slope, |σ′| ≤ γ: 1 for tanh, 1/4 for the logistic sigmoid (the gates of the LSTM and GRU). Every step back multiplies the gradient by W_hhᵀ·diag(σ′), so its norm is at most (γ·σ_max)^lag times what it was.",
  },
  {
    key: "sigma-max",
    term: "σ_max",
    aliases: ["σ_max", "sigma_max", "largest singular value"],
    definition:
      "The largest singular value of W_hh (its spectral norm): the most one multiplication by W_hh can stretch a vector. For the LSTM and GRU it is shown for each gate's block of W_hh.",
  },
  {
    key: "radius",
    term: "spectral radius",
    aliases: ["spectral radius", "radius"],
    definition:
      "The largest absolute value among W_hh's eigenvalues: powers of W_hh grow or shrink like it, and it is never more than σ_max. The lecture's rule: largest eigenvalue above 1, gradients may explode; below 1, they vanish.",
  },
  {
    key: "bound",
    term: "1/γ bound",
    aliases: ["1/γ", "1/gamma"],
    definition:
      "Pascanu, Mikolov & Bengio (2013): σ_max(W_hh) < 1/γ is sufficient for the gradient to vanish exponentially with the lag. σ_max > 1/γ is necessary for it to explode, but does not make it explode. 1/γ is 1 for a tanh RNN and 4 for the sigmoid gate blocks.",
  },
  {
    key: "suggested",
    term: "suggested threshold",
    aliases: ["suggested threshold", "suggested clip", "suggested"],
    definition:
      "A clipping threshold suggested from this run's gradient norms before clipping: their 90th percentile, kept within ½ to 10 times their average, the range in which Pascanu et al. (2013) found clipping to work (the average leaves out the top 1%, so one explosion does not set the scale).",
  },
  {
    key: "threshold",
    term: "clipping threshold",
    aliases: ["threshold"],
    definition:
      "The largest gradient norm (norm clipping) or gradient element (value clipping) let through unchanged; anything larger is scaled or clamped down to it.",
  },
  {
    key: "norm-clipping",
    term: "gradient norm clipping",
    aliases: ["gradient norm clipping", "norm clipping", "gradient clipping", "norm-clipped", "clipping", "clipped"],
    definition:
      "Pascanu et al.'s algorithm 1: when the norm ‖g‖ of all the gradients together is at least the threshold, g is rescaled to threshold·g/‖g‖. The direction is kept and only the step's length is capped, so one exploding gradient cannot throw the weights far away.",
  },
  {
    key: "value-clipping",
    term: "value clipping",
    aliases: ["value clipping", "clipping by value"],
    definition:
      "Clamps every gradient element to [−threshold, threshold] on its own (PyTorch's clip_grad_value_). Unlike norm clipping, it can change the gradient's direction.",
  },
  {
    key: "grad-norm",
    term: "gradient norm",
    aliases: ["gradient norm", "grad norm", "norm before clipping"],
    definition: "The length (Euclidean norm) of the gradients of all the parameters taken together, measured before clipping.",
  },
  {
    key: "lag",
    term: "lag",
    aliases: ["lag", "lags"],
    definition:
      "How many steps back: t − k between the step t whose loss is differentiated and an earlier hidden state h_k. Lag 0 is that step itself; the gradient at lag l has passed through l copies of W_hh.",
  },
  {
    key: "vanishing",
    term: "vanishing gradient",
    aliases: ["vanishing gradients", "vanishing gradient", "vanishing", "vanished", "vanishes", "vanish"],
    definition:
      "The gradient reaching back in time is a product of one factor W_hhᵀ·diag(σ′) per step; when these shrink it, it falls roughly geometrically with the lag, and inputs far back get almost no learning signal: long-range dependencies are not learnt.",
  },
  {
    key: "exploding",
    term: "exploding gradient",
    aliases: ["exploding gradients", "exploding gradient", "exploding", "explosions", "explosion", "explodes", "explode"],
    definition:
      "The opposite: the product of the per-step factors grows with the lag, the gradient norm jumps by orders of magnitude, and one update throws the weights far away, so the loss leaps. Clipping the gradient norm caps the step.",
  },
  {
    key: "bptt",
    term: "BPTT (backpropagation through time)",
    aliases: ["backpropagation through time", "BPTT"],
    caseSensitive: true,
    abbr: true,
    definition:
      "Unroll the recurrent network over the sequence into a deep feed-forward network with one copy of the weights per step, backpropagate through it, and add up the gradients of all the copies, since they are one set of weights.",
  },
  {
    key: "tied",
    term: "tied weights",
    aliases: ["tied weights", "shared weights", "weight sharing"],
    definition:
      "The same weights (W_hh, W_xh) are used at every time step. The lecture's weight constraint: start the copies equal and give each the sum of all their gradients, ∂E/∂w₁ + ∂E/∂w₂, so that they stay equal.",
  },
  {
    key: "whh",
    term: "W_hh",
    aliases: ["W_hh", "recurrent weight matrix", "recurrent weights"],
    caseSensitive: true,
    definition:
      "The recurrent weight matrix: how the hidden state h_{t−1} feeds into h_t. The gradient reaching back is multiplied by W_hhᵀ (and the activation's slope) once per step.",
  },
  {
    key: "tanh-rnn",
    term: "tanh RNN",
    aliases: ["tanh RNN", "Elman RNN"],
    definition: "The plain (Elman) recurrent network: h_t = tanh(W_xh·x_t + W_hh·h_{t−1} + b). Its slope is at most 1, so γ = 1.",
  },
  {
    key: "lstm",
    term: "LSTM (long short-term memory)",
    aliases: ["LSTM"],
    caseSensitive: true,
    abbr: true,
    definition:
      "Hochreiter & Schmidhuber (1997): a gated cell whose memory is updated by addition, c_t = f⊙c_{t−1} + i⊙g. While the forget gate f stays near 1, the gradient flows back along c for many steps instead of vanishing.",
  },
  {
    key: "gru",
    term: "GRU (gated recurrent unit)",
    aliases: ["GRU"],
    caseSensitive: true,
    abbr: true,
    definition:
      "Cho et al. (2014): the new state mixes the old one and a candidate n through an update gate z, h_t = (1 − z)⊙n + z⊙h_{t−1}, with a reset gate inside the candidate. With z near 1 it keeps its state, and its gradient, over many steps.",
  },
  {
    key: "validation",
    term: "validation",
    aliases: ["validation", "held-out"],
    definition:
      "Data the model is not trained on: the last 10% of the text in the lab's text runs, fresh sequences in a task run. Its loss shows whether the model generalises rather than memorises.",
  },
  {
    key: "occlusion",
    term: "occlusion",
    aliases: ["occlusion"],
    definition:
      "Replace one input character by a space and measure how much the log-probability of the prediction drops: the larger the drop, the more the prediction rests on that character.",
  },
];

const BY_KEY = new Map(GLOSSARY.map((e) => [e.key, e]));

/** The entry of a key (undefined when there is none). */
export function glossEntry(key: string): GlossEntry | undefined {
  return BY_KEY.get(key);
}

// ---------------------------------------------------------------------------------------------
// finding the terms in a text (no DOM: tested in Node)

interface Alias {
  text: string;
  key: string;
  caseSensitive: boolean;
}

const ALIASES: Alias[] = GLOSSARY.flatMap((e) => e.aliases.map((text) => ({ text, key: e.key, caseSensitive: e.caseSensitive === true })))
  // longest first: "truncated BPTT" before "BPTT", "1/γ" before "γ", "gradient norm clipping" before "gradient norm"
  .sort((a, b) => b.text.length - a.text.length);

const ESCAPE = /[.*+?^${}()|[\]\\]/g;
/** Any alias, not inside a longer word (letters, digits, underscores and Greek letters count as word characters). */
const TERM_RE = new RegExp(`(?<![\\p{L}\\p{N}_])(?:${ALIASES.map((a) => a.text.replace(ESCAPE, "\\$&")).join("|")})(?![\\p{L}\\p{N}_])`, "giu");

/** A term found in a text: [start, end) and the entry's key. */
export interface TermMatch {
  start: number;
  end: number;
  key: string;
}

/**
 * The glossary terms in `text`, left to right, without overlaps (the longest spelling wins).
 * `skip`: keys not to report (e.g. already marked); with `firstOnly`, each key at most once.
 */
export function findTerms(text: string, o: { skip?: ReadonlySet<string>; firstOnly?: boolean } = {}): TermMatch[] {
  const out: TermMatch[] = [];
  const seen = new Set(o.skip ?? []);
  TERM_RE.lastIndex = 0;
  for (let m = TERM_RE.exec(text); m !== null; m = TERM_RE.exec(text)) {
    const found = m[0];
    const lower = found.toLowerCase();
    const alias = ALIASES.find((a) => (a.caseSensitive ? a.text === found : a.text.toLowerCase() === lower));
    if (!alias) continue; // a case-sensitive spelling in the wrong case
    if (seen.has(alias.key)) continue;
    if (o.firstOnly) seen.add(alias.key);
    out.push({ start: m.index, end: m.index + found.length, key: alias.key });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// the page: marks, definitions and the tooltip

/** Elements whose text is marked: captions and readouts, and whatever the page tags. */
export const GLOSS_SELECTOR = "figcaption, .gloss, [data-gloss]";
/** Text inside these is left alone (controls, code, charts, the marks themselves). */
const SKIP =
  "button, a, select, option, textarea, input, label, script, style, svg, canvas, code, pre, kbd, .gloss-term, .gloss-tip, .gloss-defs, [data-gloss-skip]";

const CSS = `
.gloss-term { font-style: inherit; text-decoration: underline dotted rgba(47, 111, 189, 0.8); text-decoration-thickness: 1px; text-underline-offset: 2px; cursor: help; border-radius: 2px; }
.gloss-term:hover, .gloss-term:focus-visible { background: rgba(47, 111, 189, 0.12); }
.gloss-term:focus-visible { outline: 2px solid #2f6fbd; outline-offset: 1px; }
.gloss-tip { position: fixed; z-index: 1000; max-width: 22rem; padding: 0.5rem 0.65rem; background: #1f2430; color: #f4f6fa; border-radius: 6px;
  font: 0.82rem/1.4 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; box-shadow: 0 4px 14px rgba(0, 0, 0, 0.25); pointer-events: auto; }
.gloss-tip[hidden] { display: none; }
.gloss-tip b { display: block; margin-bottom: 0.15rem; color: #ffffff; }
.gloss-defs { display: none; }
.gloss-list { margin: 0.4rem 0 0; padding: 0; font-size: 0.85rem; }
.gloss-list dt { font-weight: 600; margin-top: 0.45rem; }
.gloss-list dd { margin: 0.1rem 0 0 0; color: #444; }
`;

const defId = (key: string) => `gloss-def-${key}`;
let tip: HTMLElement | null = null;
let tipFor: HTMLElement | null = null;
let hideTimer: ReturnType<typeof setTimeout> | undefined;

/** The style, the hidden definitions (the targets of aria-describedby) and the tooltip, once per document. */
function setUp(): void {
  if (document.getElementById("gloss-tip")) return;
  const style = document.createElement("style");
  style.id = "gloss-style";
  style.textContent = CSS;
  document.head.append(style);

  // one hidden description per term: a screen reader reads it when a mark gets focus
  const defs = document.createElement("div");
  defs.className = "gloss-defs";
  defs.hidden = true;
  for (const e of GLOSSARY) {
    const d = document.createElement("span");
    d.id = defId(e.key);
    d.textContent = `${e.term}: ${e.definition}`;
    defs.append(d);
  }
  // the visible popup repeats the description, so it is hidden from assistive technology
  tip = document.createElement("div");
  tip.id = "gloss-tip";
  tip.className = "gloss-tip";
  tip.setAttribute("role", "tooltip");
  tip.setAttribute("aria-hidden", "true");
  tip.hidden = true;
  tip.addEventListener("mouseenter", () => clearTimeout(hideTimer)); // the popup can be hovered
  tip.addEventListener("mouseleave", () => hideSoon());
  document.body.append(defs, tip);

  // delegation: marks made later need no listeners of their own
  const termOf = (t: EventTarget | null) => (t instanceof Element ? t.closest<HTMLElement>(".gloss-term") : null);
  document.addEventListener("mouseover", (e) => {
    const t = termOf(e.target);
    if (t) show(t);
  });
  document.addEventListener("mouseout", (e) => {
    const t = termOf(e.target);
    if (t && !t.contains(e.relatedTarget as Node | null)) hideSoon();
  });
  document.addEventListener("focusin", (e) => {
    const t = termOf(e.target);
    if (t) show(t);
  });
  document.addEventListener("focusout", (e) => {
    if (termOf(e.target)) hideSoon();
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && tip && !tip.hidden) hide();
  });
  // the popup follows its mark when the page scrolls
  window.addEventListener("scroll", () => tipFor && place(tipFor), { passive: true, capture: true });
}

function show(term: HTMLElement): void {
  const entry = BY_KEY.get(term.dataset.glossKey ?? "");
  if (!tip || !entry) return;
  clearTimeout(hideTimer);
  const b = document.createElement("b");
  b.textContent = entry.term;
  tip.replaceChildren(b, document.createTextNode(entry.definition));
  tip.hidden = false;
  tipFor = term;
  place(term);
}

function place(term: HTMLElement): void {
  if (!tip) return;
  if (!term.isConnected) {
    hide();
    return;
  }
  const r = term.getBoundingClientRect();
  const w = tip.offsetWidth;
  const h = tip.offsetHeight;
  const left = Math.max(6, Math.min(r.left, window.innerWidth - w - 6));
  const below = r.bottom + 6;
  const top = below + h > window.innerHeight - 6 && r.top - h - 6 > 6 ? r.top - h - 6 : below;
  tip.style.left = `${Math.round(left)}px`;
  tip.style.top = `${Math.round(top)}px`;
}

function hide(): void {
  clearTimeout(hideTimer);
  if (tip) tip.hidden = true;
  tipFor = null;
}

function hideSoon(): void {
  clearTimeout(hideTimer);
  hideTimer = setTimeout(hide, 120);
}

/** A mark for `text` (the page's own text), defined by entry `key`. */
function mark(text: string, key: string): HTMLElement {
  const entry = BY_KEY.get(key)!;
  const el = document.createElement(entry.abbr ? "abbr" : "dfn");
  el.className = "gloss-term";
  el.dataset.glossKey = key;
  el.tabIndex = 0;
  el.setAttribute("aria-describedby", defId(key));
  el.textContent = text;
  return el;
}

/** Makes an element that stands for a term as a whole (data-gloss="key") show its definition. */
function markWhole(el: HTMLElement, key: string): void {
  if (el.classList.contains("gloss-term")) return;
  el.classList.add("gloss-term");
  el.dataset.glossKey = key;
  if (!el.hasAttribute("tabindex") && !el.matches("button, a[href], input, select, textarea")) el.tabIndex = 0;
  el.setAttribute("aria-describedby", defId(key));
}

/**
 * Marks the glossary terms in `el`'s text (the first occurrence of each, terms already marked
 * included), so that their definitions show on hover and on keyboard focus. Call it after
 * setting the element's text; it is idempotent and cheap. An element with data-gloss="key"
 * (a key of GLOSSARY) is made a mark for that term as a whole instead.
 */
export function glossify(el: HTMLElement): void {
  setUp();
  const whole = el.dataset.gloss;
  if (whole && BY_KEY.has(whole)) {
    markWhole(el, whole);
    return;
  }
  if (el.closest(SKIP) && !el.matches(".gloss, [data-gloss]")) return;
  const done = new Set<string>();
  for (const t of Array.from(el.querySelectorAll<HTMLElement>(".gloss-term"))) if (t.dataset.glossKey) done.add(t.dataset.glossKey);
  /** Whether a text node lies inside something to leave alone, between it and `el`. */
  const skipped = (n: Node) => {
    for (let p = n.parentElement; p && p !== el; p = p.parentElement) if (p.matches(SKIP)) return true;
    return false;
  };
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT, {
    acceptNode: (n) => (n.nodeValue?.trim() && !skipped(n) ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT),
  });
  const texts: Text[] = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) texts.push(n as Text);
  for (const node of texts) {
    const text = node.nodeValue ?? "";
    const found = findTerms(text, { skip: done, firstOnly: true });
    if (!found.length) continue;
    const parts: Node[] = [];
    let at = 0;
    for (const m of found) {
      if (m.start > at) parts.push(document.createTextNode(text.slice(at, m.start)));
      parts.push(mark(text.slice(m.start, m.end), m.key));
      done.add(m.key);
      at = m.end;
    }
    if (at < text.length) parts.push(document.createTextNode(text.slice(at)));
    node.replaceWith(...parts);
  }
}

/** The whole glossary as a definition list (for a "Glossary" panel). */
export function glossaryList(): HTMLElement {
  setUp();
  const dl = document.createElement("dl");
  dl.className = "gloss-list";
  for (const e of GLOSSARY) {
    const dt = document.createElement("dt");
    dt.textContent = e.term;
    const dd = document.createElement("dd");
    dd.textContent = e.definition;
    dl.append(dt, dd);
  }
  return dl;
}

/**
 * Marks the terms in the captions and readouts under `root` (figcaption, .gloss, [data-gloss],
 * and the elements of `ids`), now and whenever their text changes: the page may keep setting
 * their textContent as before (or call glossify(el) after it does, to mark at once).
 */
export function mountGlossary(root: HTMLElement, options: { ids?: readonly string[] } = {}): void {
  setUp();
  const ids = new Set(options.ids ?? []);
  const isTarget = (el: Element) => el.matches(GLOSS_SELECTOR) || (el.id !== "" && ids.has(el.id));
  const targetOf = (n: Node): HTMLElement | null => {
    for (let el = n instanceof Element ? n : n.parentElement; el && el !== root.parentElement; el = el.parentElement) {
      if (el.matches(".gloss-term, .gloss-tip, .gloss-defs, svg")) return null; // our own marks; the charts
      if (isTarget(el)) return el as HTMLElement;
    }
    return null;
  };
  const targetsIn = (el: Element): HTMLElement[] => {
    const found = Array.from(el.querySelectorAll<HTMLElement>(GLOSS_SELECTOR));
    for (const id of ids) {
      const t = document.getElementById(id);
      if (t && el.contains(t)) found.push(t);
    }
    if (isTarget(el)) found.push(el as HTMLElement);
    return found;
  };

  let pending = new Set<HTMLElement>();
  let scheduled = false;
  const observer = new MutationObserver((records) => {
    for (const r of records) {
      const t = targetOf(r.target);
      if (t) pending.add(t);
      for (const n of Array.from(r.addedNodes))
        if (n instanceof Element && !n.closest("svg") && !n.classList.contains("gloss-term")) for (const x of targetsIn(n)) pending.add(x);
    }
    if (pending.size && !scheduled) {
      scheduled = true;
      queueMicrotask(run);
    }
  });
  const run = () => {
    scheduled = false;
    const list = pending;
    pending = new Set();
    for (const t of list) if (t.isConnected) glossify(t);
    observer.takeRecords(); // our own marks
    if (tipFor && !tipFor.isConnected) hide();
  };
  for (const t of targetsIn(root)) glossify(t);
  observer.observe(root, { childList: true, characterData: true, subtree: true });
}
