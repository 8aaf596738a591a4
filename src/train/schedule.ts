// Learning-rate schedules, as torch.optim.lr_scheduler computes them, stepped once per update:
// `lr(e)` is the rate of the update that follows e earlier ones (PyTorch: the rate after e calls
// of scheduler.step()). StepLR, ExponentialLR, CosineAnnealingLR and OneCycleLR are functions of
// e alone (PyTorch's closed forms), so a resumed run recomputes them exactly; ReduceLROnPlateau
// keeps state (best loss, bad evaluations, cooldown, current rate), which goes into checkpoints.
// A linear warm-up of N updates goes first, as PyTorch's SequentialLR([LinearLR(1/N, 1, N-1),
// main], milestones=[N]): rates (e+1)/N · lr for e < N, then the main schedule restarted at e - N.
// Checked against PyTorch 1.13's own rates (fixtures kind "lr_schedule", tools/make_fixtures.py).
// References: https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate

/** A schedule, in PyTorch's terms (camelCase), with PyTorch's defaults. */
export type ScheduleSpec =
  | { type: "constant" }
  /** StepLR: lr · gamma^floor(e / stepSize). */
  | { type: "step"; stepSize: number; gamma?: number }
  /** ExponentialLR: lr · gamma^e. */
  | { type: "exponential"; gamma: number }
  /** CosineAnnealingLR: etaMin + (lr - etaMin)(1 + cos(π e / tMax)) / 2. */
  | { type: "cosine"; tMax: number; etaMin?: number }
  /**
   * OneCycleLR (Smith & Topin 2018) over totalSteps, peaking at the run's lr: from lr/divFactor up
   * to lr for pctStart of the steps, then down to lr/divFactor/finalDivFactor (three phases: back
   * to lr/divFactor first). Momentum is not cycled (PyTorch's cycle_momentum=False).
   */
  | { type: "onecycle"; totalSteps: number; pctStart?: number; anneal?: "cos" | "linear"; divFactor?: number; finalDivFactor?: number; threePhase?: boolean }
  /** ReduceLROnPlateau on the validation loss (mode "min"), stepped at each evaluation. */
  | { type: "plateau"; factor?: number; patience?: number; threshold?: number; thresholdMode?: "rel" | "abs"; cooldown?: number; minLr?: number; eps?: number };

/** What a plateau schedule carries from one evaluation to the next. */
export interface PlateauState {
  best: number;
  bad: number;
  cooldown: number;
  lr: number;
}

const SCHEDULE_TYPES = ["constant", "step", "exponential", "cosine", "onecycle", "plateau"] as const;

function check(ok: boolean, what: string): void {
  if (!ok) throw new RangeError(`learning-rate schedule: ${what}`);
}

/** Checks a spec's numbers (a RangeError names the first that is wrong); returns it with PyTorch's defaults filled in. */
export function normalizeSchedule(spec: ScheduleSpec): Required<ScheduleSpec> & ScheduleSpec {
  check(!!spec && (SCHEDULE_TYPES as readonly string[]).includes(spec.type), `type must be one of ${SCHEDULE_TYPES.join(", ")}`);
  const pos = (x: number) => Number.isFinite(x) && x > 0;
  const whole = (x: number) => Number.isSafeInteger(x) && x >= 1;
  switch (spec.type) {
    case "constant":
      return spec as never;
    case "step": {
      const s = { gamma: 0.1, ...spec };
      check(whole(s.stepSize), `stepSize must be a whole number >= 1, got ${s.stepSize}`);
      check(pos(s.gamma), `gamma must be > 0, got ${s.gamma}`);
      return s as never;
    }
    case "exponential":
      check(pos(spec.gamma), `gamma must be > 0, got ${spec.gamma}`);
      return spec as never;
    case "cosine": {
      const s = { etaMin: 0, ...spec };
      check(whole(s.tMax), `tMax must be a whole number >= 1, got ${s.tMax}`);
      check(Number.isFinite(s.etaMin) && s.etaMin >= 0, `etaMin must be >= 0, got ${s.etaMin}`);
      return s as never;
    }
    case "onecycle": {
      const s = { pctStart: 0.3, anneal: "cos" as const, divFactor: 25, finalDivFactor: 1e4, threePhase: false, ...spec };
      check(whole(s.totalSteps) && s.totalSteps >= 2, `totalSteps must be a whole number >= 2, got ${s.totalSteps}`);
      check(Number.isFinite(s.pctStart) && s.pctStart > 0 && s.pctStart < 1, `pctStart must be in (0, 1), got ${s.pctStart}`);
      check(s.anneal === "cos" || s.anneal === "linear", `anneal must be cos or linear, got ${s.anneal}`);
      check(pos(s.divFactor) && pos(s.finalDivFactor), "divFactor and finalDivFactor must be > 0");
      return s as never;
    }
    case "plateau": {
      const s = { factor: 0.1, patience: 10, threshold: 1e-4, thresholdMode: "rel" as const, cooldown: 0, minLr: 0, eps: 1e-8, ...spec };
      check(Number.isFinite(s.factor) && s.factor > 0 && s.factor < 1, `factor must be in (0, 1), got ${s.factor}`);
      check(Number.isSafeInteger(s.patience) && s.patience >= 0, `patience must be a whole number >= 0, got ${s.patience}`);
      check(Number.isFinite(s.threshold) && s.threshold >= 0, `threshold must be >= 0, got ${s.threshold}`);
      check(s.thresholdMode === "rel" || s.thresholdMode === "abs", "thresholdMode must be rel or abs");
      check(Number.isSafeInteger(s.cooldown) && s.cooldown >= 0, `cooldown must be a whole number >= 0, got ${s.cooldown}`);
      check(Number.isFinite(s.minLr) && s.minLr >= 0 && Number.isFinite(s.eps) && s.eps >= 0, "minLr and eps must be >= 0");
      return s as never;
    }
  }
}

/**
 * The learning rate of every update: a schedule over a base rate, after an optional warm-up.
 * @example
 * const s = new LrSchedule(0.002, { type: "cosine", tMax: 1000 }, 100);
 * s.lr(0) // => 0.00002 (warm-up: 1/100 of 0.002); s.lr(99) // => 0.002; s.lr(1100) // => 0 (eta_min)
 */
export class LrSchedule {
  readonly spec: ScheduleSpec;
  private plateau: PlateauState | null = null;

  constructor(
    readonly baseLr: number,
    spec: ScheduleSpec = { type: "constant" },
    readonly warmup = 0,
  ) {
    check(Number.isFinite(baseLr) && baseLr >= 0, `the base learning rate must be >= 0, got ${baseLr}`);
    check(Number.isSafeInteger(warmup) && warmup >= 0, `warmup must be a whole number >= 0, got ${warmup}`);
    this.spec = normalizeSchedule(spec);
    if (this.spec.type === "plateau") this.plateau = { best: Infinity, bad: 0, cooldown: 0, lr: baseLr };
  }

  /** The rate of the update after `e` earlier ones. */
  lr(e: number): number {
    const N = this.warmup;
    if (N > 1 && e < N) return this.baseLr * (1 / N + ((1 - 1 / N) * e) / (N - 1)); // LinearLR(1/N, 1, N - 1)
    return this.main(N > 1 ? e - N : e);
  }

  private main(e: number): number {
    const s = this.spec;
    const lr = this.baseLr;
    switch (s.type) {
      case "constant":
        return lr;
      case "step":
        return lr * s.gamma! ** Math.floor(e / s.stepSize);
      case "exponential":
        return lr * s.gamma ** e;
      case "cosine":
        return s.etaMin! + ((lr - s.etaMin!) * (1 + Math.cos((Math.PI * e) / s.tMax))) / 2;
      case "onecycle":
        return oneCycle(s as Required<typeof s>, lr, e);
      case "plateau":
        return this.plateau!.lr;
    }
  }

  /**
   * A validation loss, for ReduceLROnPlateau (other schedules ignore it); not counted during the
   * warm-up (`e` updates done). As PyTorch's `scheduler.step(metrics)`.
   */
  observe(loss: number, e = Infinity): void {
    const p = this.plateau;
    if (!p || e < this.warmup) return;
    const s = this.spec as Required<Extract<ScheduleSpec, { type: "plateau" }>>;
    const better = s.thresholdMode === "rel" ? loss < p.best * (1 - s.threshold) : loss < p.best - s.threshold;
    if (better) {
      p.best = loss;
      p.bad = 0;
    } else {
      p.bad++;
    }
    if (p.cooldown > 0) {
      p.cooldown--;
      p.bad = 0;
    }
    if (p.bad > s.patience) {
      const next = Math.max(p.lr * s.factor, s.minLr);
      if (p.lr - next > s.eps) p.lr = next;
      p.cooldown = s.cooldown;
      p.bad = 0;
    }
  }

  /** What a checkpoint keeps (null: nothing beyond the step count). */
  state(): PlateauState | null {
    return this.plateau ? { ...this.plateau } : null;
  }

  /** Restores `state()`. */
  restore(state: PlateauState | null): void {
    if (!this.plateau) return;
    check(!!state && typeof state === "object", "a plateau schedule needs its state (best, bad, cooldown, lr)");
    const { best: best0, bad, cooldown, lr } = state! as Omit<PlateauState, "best"> & { best: number | null };
    // null: a checkpoint written before metadata kept non-finite numbers (JSON.stringify wrote the
    // best of a schedule not yet evaluated, Infinity, as null)
    const best = best0 === null ? Infinity : best0;
    check(typeof best === "number" && (Number.isFinite(best) || best === Infinity), "plateau state: best must be a number");
    check(
      Number.isSafeInteger(bad) && bad >= 0 && Number.isSafeInteger(cooldown) && cooldown >= 0,
      "plateau state: bad and cooldown must be whole numbers >= 0",
    );
    check(Number.isFinite(lr) && lr >= 0, "plateau state: lr must be a number >= 0");
    this.plateau = { best, bad, cooldown, lr };
  }
}

/** OneCycleLR's rate at step e (torch.optim.lr_scheduler.OneCycleLR.get_lr). */
function oneCycle(s: Required<Extract<ScheduleSpec, { type: "onecycle" }>>, maxLr: number, e: number): number {
  const initial = maxLr / s.divFactor;
  const min = initial / s.finalDivFactor;
  const T = s.totalSteps;
  const phases = s.threePhase
    ? [
        { end: s.pctStart * T - 1, from: initial, to: maxLr },
        { end: 2 * s.pctStart * T - 2, from: maxLr, to: initial },
        { end: T - 1, from: initial, to: min },
      ]
    : [
        { end: s.pctStart * T - 1, from: initial, to: maxLr },
        { end: T - 1, from: maxLr, to: min },
      ];
  const anneal =
    s.anneal === "cos"
      ? (a: number, b: number, pct: number) => b + ((a - b) / 2) * (Math.cos(Math.PI * pct) + 1)
      : (a: number, b: number, pct: number) => (b - a) * pct + a;
  let start = 0;
  for (let i = 0; i < phases.length; i++) {
    const ph = phases[i];
    if (e <= ph.end || i === phases.length - 1) return anneal(ph.from, ph.to, Math.min(1, (e - start) / (ph.end - start)));
    start = ph.end;
  }
  return min;
}

/** A schedule in words, e.g. "cosine over 2950 to 0". */
export function describeSchedule(s: ScheduleSpec): string {
  switch (s.type) {
    case "step":
      return `StepLR every ${s.stepSize} x${s.gamma ?? 0.1}`;
    case "exponential":
      return `ExponentialLR x${s.gamma}`;
    case "cosine":
      return `cosine over ${s.tMax} to ${s.etaMin ?? 0}`;
    case "onecycle":
      return `one cycle over ${s.totalSteps}`;
    case "plateau":
      return `ReduceLROnPlateau x${s.factor ?? 0.1} after ${s.patience ?? 10}`;
    default:
      return "constant";
  }
}
