// The time left of a run as the progress line states it: the training steps left plus the
// evaluations still to come, each at its measured time.

import { describe, expect, it } from "vitest";
import { PassThrough } from "node:stream";
import { createProgress, remainingSeconds, TRAIN_BAR } from "./progress.js";

const base = { steps: 200, target: 300, perStep: 0.1, timeLeft: Infinity, evalEvery: 50, perEval: 5 };

describe("remainingSeconds", () => {
  it("adds the evaluations left to the training steps left", () => {
    // 100 steps x 0.1 s = 10 s; evaluations at 250 and 300 (the one at 200 is done): 2 x 5 s = 10 s
    expect(remainingSeconds(base)).toBeCloseTo(20, 12);
    // the word-level case of issue 19: 10 s of steps, 20 s of evaluations left; steps alone would say 10 s
    expect(remainingSeconds({ ...base, perEval: 10 })).toBeCloseTo(30, 12);
  });

  it("counts the evaluation at the last step when it is no multiple of evalEvery", () => {
    // 310 steps: evaluations at 250, 300 and 310: 11 s + 15 s
    expect(remainingSeconds({ ...base, target: 310 })).toBeCloseTo(26, 12);
    // between evaluations: from 201, the ones at 250 and 300
    expect(remainingSeconds({ ...base, steps: 201 })).toBeCloseTo(9.9 + 10, 12);
  });

  it("counts the steps alone until an evaluation has been timed", () => {
    expect(remainingSeconds({ ...base, perEval: Number.NaN })).toBeCloseTo(10, 12);
  });

  it("ends with a time limit: the steps it leaves, and the evaluations among them and at the last", () => {
    // 3 s of training left at 0.1 s a step: 30 steps, to 230; evaluation at 230 (the last): 3 + 5
    expect(remainingSeconds({ ...base, timeLeft: 3 })).toBeCloseTo(8, 12);
    // no step limit: the time limit alone; 6 s: 60 steps, to 260, evaluations at 250 and 260
    expect(remainingSeconds({ ...base, target: null, timeLeft: 6 })).toBeCloseTo(16, 12);
  });

  it("is 0 at the end, unknown without a speed or a limit", () => {
    expect(remainingSeconds({ ...base, steps: 300 })).toBe(0);
    expect(remainingSeconds({ ...base, perStep: Number.NaN })).toBeNaN();
    expect(remainingSeconds({ ...base, target: null })).toBe(Infinity);
  });
});

describe("the live bar on a terminal", () => {
  const draw = (payload: Record<string, string>) => {
    const stream = new PassThrough();
    let out = "";
    stream.on("data", (d: Buffer) => (out += d.toString()));
    const p = createProgress(true, TRAIN_BAR, stream);
    p.update(500, 3000, payload);
    p.stop();
    return out;
  };
  const fields = { loss: "1.658 nats (2.391 bpc)", val: "1.775 nats", grad: "0.28", clip: "0.0%", speed: "29,612 chars/s" };

  it("says the time left with its unit, as the evaluation lines do", () => {
    const out = draw({ ...fields, left: "3m00s" });
    expect(out).toContain("step 500/3000 | ETA 3m00s | loss 1.658 nats (2.391 bpc) | val 1.775 nats | 29,612 chars/s | grad norm 0.28 | clipped 0.0%");
  });

  it("refuses a field cli-progress fills itself (its {eta} is a bare number of seconds)", () => {
    expect(() => draw({ ...fields, eta: "3m00s" })).toThrow(/"eta" is cli-progress's own field/);
    expect(() => createProgress(true, " {bar} ETA {eta}")).toThrow(/\{eta\} is cli-progress's own field/);
  });
});
