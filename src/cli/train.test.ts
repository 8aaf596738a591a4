// `rnnlab train`'s dropout options, parsed as commander parses them (without running a training):
// --embedding-dropout and --output-dropout take a probability like --dropout, a bad value is one
// line naming the option (main.ts turns commander's error into exit status 2), --help lists them,
// and they reach the session's model settings only when set (a run without them writes the config
// it always wrote).

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CommanderError, type Command } from "commander";
import { describe, expect, it } from "vitest";
import { doneText, earlierTrainSeconds, settingsFrom, trainCommand, type TrainOpts } from "./train.js";

/** The command with its action replaced: parse only, errors thrown (as main.ts configures it), messages captured. */
function parser(): { cmd: Command; errors: string[] } {
  const errors: string[] = [];
  const cmd = trainCommand()
    .exitOverride()
    .configureOutput({ writeErr: (s) => errors.push(s), writeOut: () => {}, outputError: (s) => errors.push(s) })
    .action(() => {});
  return { cmd, errors };
}

describe("rnnlab train --embedding-dropout / --output-dropout", () => {
  it("parse a probability, default 0", async () => {
    const { cmd } = parser();
    await cmd.parseAsync(["--layers", "2", "--embedding-dropout", "0.25", "--output-dropout", "0.5"], { from: "user" });
    expect(cmd.opts()).toMatchObject({ embeddingDropout: 0.25, outputDropout: 0.5, dropout: 0 });
    const plain = parser().cmd;
    await plain.parseAsync([], { from: "user" });
    expect(plain.opts()).toMatchObject({ embeddingDropout: 0, outputDropout: 0 });
  });

  for (const flag of ["--embedding-dropout", "--output-dropout", "--dropout"]) {
    for (const bad of ["1", "-0.1", "abc", ""]) {
      it(`${flag} ${JSON.stringify(bad)}: one line naming the option and what it expects`, async () => {
        const { cmd, errors } = parser();
        const err = await cmd.parseAsync([flag, bad], { from: "user" }).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(CommanderError);
        expect((err as CommanderError).code).toBe("commander.invalidArgument");
        expect(errors).toHaveLength(1);
        expect(errors[0].trim().split("\n")).toHaveLength(1);
        expect(errors[0]).toContain(`option '${flag} <p>' argument '${bad}' is invalid. expected a number >= 0 and <= 0.99`);
      });
    }
  }

  it("--help describes them", () => {
    const help = trainCommand().helpInformation();
    expect(help).toMatch(/--embedding-dropout <p>\s+dropout on the embedded inputs while training/);
    expect(help).toMatch(/--output-dropout <p>\s+dropout on the top layer's outputs/);
  });

  it("reach the model settings when set, and only then", async () => {
    const settingsOf = async (args: string[]) => {
      const { cmd } = parser();
      await cmd.parseAsync(args, { from: "user" });
      return settingsFrom(cmd.opts() as TrainOpts, 1, (name) => cmd.getOptionValueSource(name) === "cli").model!;
    };
    const set = await settingsOf(["--embedding-dropout", "0.3", "--output-dropout", "0.1"]);
    expect(set).toMatchObject({ embeddingDropout: 0.3, outputDropout: 0.1 });
    const unset = await settingsOf(["--embedding-dropout", "0"]);
    expect(unset).not.toHaveProperty("embeddingDropout");
    expect(unset).not.toHaveProperty("outputDropout");
  });
});

describe("the done: line after a resume", () => {
  it("says this invocation's steps and time, their range, and the whole run's steps and training time", () => {
    expect(doneText(3000, 185, 0, null)).toBe("done: 3000 steps in 3m05s");
    expect(doneText(20, 2, 400, 31)).toBe("done: 20 steps in 2s, steps 401-420 (the whole run: 420 steps, 31s in training steps)");
    expect(doneText(1, 0.2, 9, null)).toBe("done: 1 step in 0s, step 10 (the whole run: 10 steps)");
  });

  it("sums the earlier invocations' training seconds from metrics.jsonl (elapsed_s counts from 0 in each)", () => {
    const dir = mkdtempSync(join(tmpdir(), "rnnlab-metrics-"));
    const metrics = join(dir, "metrics.jsonl");
    const lines = (recs: object[]) => writeFileSync(metrics, recs.map((r) => `${JSON.stringify(r)}\n`).join(""));
    // two invocations: steps 1-3 (to 0.9 s), steps 4-5 (to 0.5 s); a diagnostics record between them
    lines([
      { step: 1, elapsed_s: 0.3 },
      { step: 2, elapsed_s: 0.6 },
      { step: 3, elapsed_s: 0.9 },
      { kind: "diagnostics", step: 3 },
      { step: 4, elapsed_s: 0.2 },
      { step: 5, elapsed_s: 0.5 },
    ]);
    expect(earlierTrainSeconds(metrics, 5)).toBeCloseTo(1.4, 12);
    // records that do not cover the checkpoint's steps tell nothing
    expect(earlierTrainSeconds(metrics, 6)).toBeNull();
    lines([{ step: 1, elapsed_s: 0.3 }, { step: 2 }]);
    expect(earlierTrainSeconds(metrics, 2)).toBeNull();
    expect(earlierTrainSeconds(join(dir, "none.jsonl"), 2)).toBeNull();
  });
});
