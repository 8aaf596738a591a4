// TrainingSession: the run the CLI and the lab drive. The schedule sets every update's rate, early
// stopping ends the run after `patience` evaluations without progress, hooks come in order, and
// a run restored from a snapshot (a plateau schedule's state included) continues bit for bit.

import { describe, expect, it } from "vitest";
import { encodeText } from "../data/corpus.js";
import { LrSchedule } from "./schedule.js";
import { TrainingSession, textFits, type SessionSettings, type StepRecord } from "./session.js";

const TEXT = "Jane walked into the room. John walked in too. It was late in the day. Jane said hi to John.\n".repeat(40);
const { vocab, tokens, hash } = encodeText(TEXT);
const data = { vocab, tokens, hash, path: "jane.txt" };
const SMALL: SessionSettings = { model: { cell: "gru", hiddenSize: 12, embedSize: 6 }, train: { batch: 4, k1: 8 }, sampleLength: 0, evalEvery: 5 };

describe("TrainingSession", () => {
  it("defaults to rnnlab train's settings", () => {
    const s = new TrainingSession(data, { train: { batch: 4, k1: 16 } });
    expect(s.run.config.model).toMatchObject({ cell: "lstm", hiddenSize: 256, embedSize: 64, numLayers: 1 });
    expect(s.run.config.train).toMatchObject({ optimizer: "adam", lr: 2e-3, clipNorm: 5, k2: 16 });
    expect(s.info.targetSteps).toBe(3000);
    s.dispose();
  });

  it("sets every update's rate from the schedule (warm-up, then cosine), and records it", async () => {
    const records: StepRecord[] = [];
    const s = new TrainingSession(
      data,
      { ...SMALL, train: { ...SMALL.train, lr: 0.01, schedule: { type: "cosine", tMax: 20 }, warmup: 5 }, steps: 25 },
      { onStep: (r) => records.push(r) },
    );
    await s.train();
    const ref = new LrSchedule(0.01, { type: "cosine", tMax: 20 }, 5);
    expect(records.map((r) => r.lr)).toEqual(records.map((_, i) => ref.lr(i)));
    expect(records[0].lr).toBeCloseTo(0.002, 12); // 1/5 of the rate
    expect(records[24].lr).toBeLessThan(1e-4); // the end of the cosine
    s.dispose();
  });

  it("stops early after `patience` evaluations without progress, and says so", async () => {
    const evals: (number | null)[] = [];
    // lr 0: the weights never change, so neither does the validation loss
    const s = new TrainingSession(
      data,
      { ...SMALL, train: { ...SMALL.train, lr: 0 }, steps: 1000, earlyStop: { patience: 3 } },
      { onEval: (e) => evals.push(e.val) },
    );
    const { reason, steps } = await s.train();
    expect(reason).toBe("early-stop");
    expect(steps).toBe(20); // best at the first evaluation (5), then 3 without progress
    expect(evals).toHaveLength(4);
    expect(s.info.bestStep).toBe(5);
    s.dispose();
  });

  it("calls its hooks in order: the evaluation, then the step's record, then the checkpoint", async () => {
    const calls: string[] = [];
    const s = new TrainingSession(
      data,
      { ...SMALL, steps: 10, saveEvery: 5 },
      {
        onEval: (e) => calls.push(`eval ${e.step}`),
        onStep: (r) => calls.push(`step ${r.step}${r.val_loss !== undefined ? " +val" : ""}`),
        onCheckpoint: (c) => calls.push(`${c.kind} ${c.step}`),
      },
    );
    await s.train();
    expect(calls.slice(3, 8)).toEqual(["step 4", "best 5", "eval 5", "step 5 +val", "checkpoint 5"]);
    expect(calls.at(-1)).toBe("checkpoint 10"); // the final one, finished
    expect(s.info.finished).toBe(true);
    s.dispose();
  });

  /**
   * Trains `settings` whole, and again cut after `cutAt` steps, snapshotted and restored; checks the
   * cut run's records and weights equal the whole run's; `atCut` sees the snapshot.
   */
  async function cutAndRestore(settings: SessionSettings, cutAt: number, atCut: (snap: ReturnType<TrainingSession["snapshot"]>) => void): Promise<void> {
    const whole: StepRecord[] = [];
    const a = new TrainingSession(data, settings, { onStep: (r) => whole.push(r) });
    await a.train();
    const cut: StepRecord[] = [];
    const b = new TrainingSession(data, { ...settings, steps: cutAt }, { onStep: (r) => cut.push(r) });
    await b.train();
    const snap = b.snapshot();
    atCut(snap);
    const c = TrainingSession.restore(snap, data, { steps: settings.steps }, { onStep: (r) => cut.push(r) });
    await c.train();
    const numbers = (r: StepRecord) => [r.step, r.loss, r.grad_norm, r.lr, r.val_loss];
    expect(cut.map(numbers)).toEqual(whole.map(numbers));
    expect(c.run.model.store.values).toEqual(a.run.model.store.values);
    for (const s of [a, b, c]) s.dispose();
  }

  it("a restored run continues bit for bit, a plateau schedule that lowered its rate included", async () => {
    const settings: SessionSettings = {
      ...SMALL,
      evalEvery: 3,
      train: { ...SMALL.train, lr: 0.05, optimizer: "sgd", momentum: 0.9, schedule: { type: "plateau", patience: 0, factor: 0.5, threshold: 0.5 } },
      steps: 40,
    };
    // cut at an evaluation step: a run's last step is always evaluated, and the plateau sees it
    await cutAndRestore(settings, 21, (snap) => expect(JSON.parse(snap.metadata.schedule).lr).toBeLessThan(0.05)); // the plateau has lowered the rate by the cut
  });

  it("a plateau schedule cut before its first counted evaluation (its best still infinite) restores and continues bit for bit", async () => {
    const settings: SessionSettings = {
      ...SMALL,
      evalEvery: 5,
      train: { ...SMALL.train, lr: 0.05, warmup: 8, schedule: { type: "plateau", patience: 0, factor: 0.5 } },
      steps: 20,
    };
    await cutAndRestore(settings, 5, (snap) => {
      expect(snap.metadata.schedule).toMatch(/"best":Infinity/); // JSON.stringify would have written null
      // a checkpoint written before non-finite numbers were kept has null there: read as Infinity
      const old = { ...snap, metadata: { ...snap.metadata, schedule: snap.metadata.schedule.replace("Infinity", "null") } };
      TrainingSession.restore(old, data, { steps: 20 }).dispose();
    });
  });

  it("refuses to restore on another text", () => {
    const s = new TrainingSession(data, { ...SMALL, steps: 2 });
    s.step();
    const other = encodeText(TEXT.replace("Jane", "June"));
    expect(() => TrainingSession.restore(s.snapshot(), { ...other, path: "other.txt" })).toThrow(/not the text the run was trained on/);
    s.dispose();
  });

  it("refuses a setting it does not know, at every level, naming its path", () => {
    const bad: [SessionSettings, string][] = [
      [{ ...SMALL, model: { ...SMALL.model, hiden: 8 } as never }, "model.hiden"],
      [{ ...SMALL, model: { ...SMALL.model, vocabSize: 10 } as never }, "model.vocabSize"], // the text's, not a setting
      [{ ...SMALL, train: { ...SMALL.train, clipnorm: 1 } as never }, "train.clipnorm"],
      [{ ...SMALL, train: { ...SMALL.train, schedule: { type: "step", stepSize: 5, gama: 0.5 } as never } }, "train.schedule.gama"],
      [{ ...SMALL, train: { ...SMALL.train, schedule: { type: "cosine", tMax: 9, stepSize: 5 } as never } }, "train.schedule.stepSize"],
      [{ ...SMALL, earlyStop: { patience: 2, mindelta: 0.1 } as never }, "earlyStop.mindelta"],
      [{ ...SMALL, evalEvry: 5 } as never, "evalEvry"],
    ];
    for (const [settings, path] of bad) {
      expect(() => new TrainingSession(data, settings), path).toThrow(new RegExp(`^TrainingSession: unknown setting "${path.replace(/\./g, "\\.")}"`));
    }
    expect(() => new TrainingSession(data, SMALL, { onStpe: () => {} } as never)).toThrow(/unknown setting "hooks\.onStpe"/);
  });

  it("takes the language model's dropouts, and refuses settings on restore that are the checkpoint's", () => {
    const s = new TrainingSession(data, {
      ...SMALL,
      model: { ...SMALL.model, numLayers: 2, dropout: 0.1, embeddingDropout: 0.2, outputDropout: 0.3 },
      steps: 3,
    });
    s.step();
    expect(s.run.model.options).toMatchObject({ dropout: 0.1, embeddingDropout: 0.2, outputDropout: 0.3 });
    expect(s.run.model.dropoutCalls).toBe(1);
    const snap = s.snapshot();
    expect(() => TrainingSession.restore(snap, data, { stesp: 4 } as never)).toThrow(/^TrainingSession\.restore: unknown setting "stesp"/);
    expect(() => TrainingSession.restore(snap, data, { model: { hiddenSize: 4 } })).toThrow(/setting "model" is the checkpoint's/);
    expect(() => TrainingSession.restore(snap, data, { valFraction: 0.2 })).toThrow(/setting "valFraction" is the checkpoint's/);
    const r = TrainingSession.restore(snap, data, { steps: 3 });
    expect(r.run.model.dropoutCalls).toBe(1);
    for (const x of [s, r]) x.dispose();
  });
});

describe("TrainingSession.adjust: settings changed while it runs (the lab's live controls)", () => {
  const base: SessionSettings = { ...SMALL, train: { ...SMALL.train, optimizer: "sgd", lr: 0.5, momentum: 0.9, clipNorm: null } };

  it("applies a new rate, momentum and clipping from the next step, records them, and a snapshot continues with them bit for bit", () => {
    const a = new TrainingSession(data, base);
    for (let i = 0; i < 4; i++) a.step();
    a.adjust({ lr: 0.05, momentum: 0.5, clipNorm: 1e-3 });
    const r = a.step();
    expect(r.lr).toBe(0.05);
    expect(r.clipped).toBe(true); // every gradient here is far above 1e-3
    expect(a.run.config.train).toMatchObject({ lr: 0.05, momentum: 0.5, clipNorm: 1e-3 });
    const b = TrainingSession.restore(a.snapshot(), data, {});
    for (let i = 0; i < 3; i++) {
      const ra = a.step();
      const rb = b.step();
      expect(rb.loss).toBe(ra.loss);
      expect(rb.clipped).toBe(true);
    }
    expect(Array.from(b.run.model.store.values)).toEqual(Array.from(a.run.model.store.values));
    a.adjust({ clipNorm: null });
    expect(a.step().clipped).toBe(false);
    a.dispose();
    b.dispose();
  });

  it("a run whose rate changes at step k matches one that had that rate set by hand at k (the same updates)", () => {
    const a = new TrainingSession(data, base);
    const b = new TrainingSession(data, base);
    for (let i = 0; i < 3; i++) {
      a.step();
      b.step();
    }
    a.adjust({ lr: 0.1 });
    // by hand, as a PyTorch loop sets param_groups[0]["lr"]: the rate and the schedule's base
    (b as unknown as { schedule: LrSchedule }).schedule = new LrSchedule(0.1);
    b.run.optimizer.lr = 0.1;
    for (let i = 0; i < 3; i++) expect(a.step().loss).toBe(b.step().loss);
    a.dispose();
    b.dispose();
  });

  it("refuses a bad value with a RangeError and changes nothing", () => {
    const a = new TrainingSession(data, base);
    for (const bad of [{ lr: 0 }, { lr: Number.NaN }, { lr: 1e39 }, { momentum: 1.5 }, { clipNorm: -1 }, { clipValue: Infinity }, { lr: 0.1, nope: 1 }]) {
      expect(() => a.adjust(bad as never)).toThrow(RangeError);
    }
    expect(() => a.adjust({ lr: 0.2, clipNorm: 0 })).toThrow(/clipNorm/);
    expect(a.run.config.train).toMatchObject({ lr: 0.5, momentum: 0.9, clipNorm: null });
    expect(a.step().lr).toBe(0.5);
    const adam = new TrainingSession(data, SMALL);
    expect(() => adam.adjust({ momentum: 0.5 })).toThrow(/sgd and rmsprop/);
    const plain = new TrainingSession(data, { ...base, train: { ...base.train, momentum: 0 } });
    expect(() => plain.adjust({ momentum: 0.5 })).toThrow(/without momentum/);
    for (const s of [a, adam, plain]) s.dispose();
  });
});

describe("textFits: the size check a page can run before starting", () => {
  it("agrees with TrainingSession's own refusal, and what it offers fits", async () => {
    const { InputError } = await import("../errors.js");
    for (const chars of [120, 400, 961, 2000]) {
      for (const [batch, k] of [
        [1, 8],
        [4, 8],
        [8, 50],
        [32, 16],
      ]) {
        const text = TEXT.slice(0, chars);
        const enc = encodeText(text);
        const problem = textFits(enc.tokens.length, 0.1, batch, k);
        let refused = false;
        try {
          new TrainingSession({ ...enc, path: "t.txt" }, { ...SMALL, train: { batch, k1: k } }).dispose();
        } catch (e) {
          expect(e).toBeInstanceOf(InputError);
          refused = true;
        }
        expect(refused).toBe(problem !== null);
        if (problem?.batch) expect(textFits(enc.tokens.length, 0.1, problem.batch, k)).toBeNull();
        if (problem?.window) expect(textFits(enc.tokens.length, 0.1, batch, problem.window)).toBeNull();
      }
    }
    expect(textFits(960, 0.1, 8, 50)).toEqual({ part: "validation", have: 96, need: 401, batch: 1, window: 11 });
  });
});
