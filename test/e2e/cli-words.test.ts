// The CLI's own words (issue 19, item 4): every --help states each default once, in commander's
// "(default: ...)"; `done:` after --resume tells this invocation's steps from the whole run's;
// the hints name the command as the user types it; eval says how many tokens it scored and which
// it left out; --mode pca says the requirement the code has. Tiny models, seconds each.

import { spawnSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { BIN, isOneLineError, rnnlab, scratch } from "../helpers/cli.js";

const TINY = ["--hidden", "16", "--embed", "8", "--batch", "4", "--seq", "16", "--sample-length", "0", "--threads", "1"];
const LECTURE = "Jane walked into the room. John walked in too. It was late in the day. Jane said hi to John.\n";

/** The help of `rnnlab ...path`. */
function help(path: string[]): string {
  const r = rnnlab(process.cwd(), ...path, "--help");
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

/** Every command and subcommand, as paths under rnnlab, from the helps' own "Commands:" lists. */
function allCommands(): string[][] {
  const found: string[][] = [];
  const walk = (path: string[]) => {
    found.push(path);
    const list = /\nCommands:\n([\s\S]*?)(?:\n\n|$)/.exec(help(path))?.[1] ?? "";
    for (const line of list.split("\n")) {
      const name = /^ {2}(\S+)/.exec(line)?.[1];
      if (name && name !== "help") walk([...path, name]);
    }
  };
  walk([]);
  return found;
}

/** The "Options:" section of a help, one entry per option (its wrapped lines joined). */
function options(text: string): { flags: string; description: string }[] {
  const section = /\nOptions:\n([\s\S]*?)(?:\n\n|$)/.exec(text)?.[1] ?? "";
  return section
    .split(/\n(?= {2}-)/)
    .map((entry) => {
      const m = /^ {2}(\S.*?)(?: {2,}|\n)([\s\S]*)$/.exec(entry);
      return { flags: m ? m[1] : entry.trim(), description: (m ? m[2] : "").replace(/\s+/g, " ").trim() };
    })
    .filter((o) => o.flags.startsWith("-"));
}

describe("--help of every command", () => {
  const commands = allCommands();

  it("walks the whole tree", () => {
    const names = commands.map((p) => p.join(" "));
    // the commands whose options issue 19 found stated twice, and a subcommand
    for (const c of ["train", "sample", "experiment", "surface", "classify train", "probe context"]) expect(names).toContain(c);
  });

  it.each(commands.map((p) => [p.join(" ") || "rnnlab", p]))("%s: each option's default once, as (default: ...) at its end", (_, path) => {
    const opts = options(help(path as string[]));
    expect(opts.length).toBeGreaterThan(0);
    for (const o of opts) {
      const n = (o.description.match(/\(default/g) ?? []).length;
      expect(n, `${o.flags}: ${o.description}`).toBeLessThanOrEqual(1);
      if (n === 1) expect(o.description, o.flags).toMatch(/\(default: [^()]*(\([^()]*\)[^()]*)*\)$/);
    }
  });

  it("states the two defaults issue 19 saw twice once, in words where the value is the machine's", () => {
    const temperature = options(help(["sample"])).find((o) => o.flags.startsWith("--temperature"))!;
    expect(temperature.description).toMatch(/\(default: 0\.8, as nanoGPT's sample\.py\)$/);
    const parallel = options(help(["experiment"])).find((o) => o.flags.startsWith("--parallel"))!;
    expect(parallel.description).toBe("runs at a time (default: all cores)");
  });
});

describe("done:, eval's count and the hints", () => {
  let dir: string;
  let text: string;
  beforeAll(() => {
    dir = scratch("rnnlab-words-");
    // 31 lines of 90 characters, and 3 more: (n - 1) mod 4 = 2 of them are left over in 4 streams
    text = `${LECTURE.repeat(31)}abc`;
    writeFileSync(join(dir, "jane.txt"), text);
  });

  it("a fresh run says its steps and time; a resumed one this invocation's steps, their range and the whole run", () => {
    const a = rnnlab(dir, "train", "jane.txt", ...TINY, "--steps", "20", "--eval-every", "10", "--out", "run");
    expect(a.status, a.stderr).toBe(0);
    expect(a.stdout).toMatch(/^done: 20 steps in \d+s; validation [\d.]+ nats\/char \([\d.]+ bits\/char\), best [\d.]+ at step \d+$/m);
    const b = rnnlab(dir, "train", "jane.txt", "--steps", "30", "--threads", "1", "--out", "run", "--resume");
    expect(b.status, b.stderr).toBe(0);
    expect(b.stdout).toMatch(
      /^done: 10 steps in \d+s, steps 21-30 \(the whole run: 30 steps, \d+s in training steps\); validation [\d.]+ nats\/char \([\d.]+ bits\/char\), best [\d.]+ at step \d+$/m,
    );
    // run from the clone's dist (not a global install): the hint is npx rnnlab
    expect(b.stdout).toMatch(/^next: npx rnnlab sample --checkpoint run[/\\]checkpoint\.safetensors --length 500$/m);
  });

  it("names the run's files as --out was given, all alike (an absolute --out: absolute paths)", () => {
    const out = join(dir, "abs-run");
    const r = rnnlab(dir, "train", "jane.txt", ...TINY, "--steps", "4", "--eval-every", "2", "--out", out);
    expect(r.status, r.stderr).toBe(0);
    const files = join(out, "checkpoint.safetensors");
    expect(r.stdout).toContain(`\nrun folder: ${out}\n`);
    expect(r.stdout).toContain(`\nfiles: ${files}, ${join(out, "best.safetensors")}, ${join(out, "metrics.jsonl")}\n`);
    expect(r.stdout).toContain(`\nnext: npx rnnlab sample --checkpoint ${files} --length 500\n`);
  });

  it("eval says how many tokens it scored of the text's, and which it left out", () => {
    const r = rnnlab(dir, "eval", "jane.txt", "--checkpoint", "run/checkpoint.safetensors");
    expect(r.status, r.stderr).toBe(0);
    // the run's batch: 4 streams of floor((n - 1) / 4) predictions each
    const n = [...text].length;
    const S = Math.floor((n - 1) / 4);
    const left = n - 1 - 4 * S;
    expect(left).toBeGreaterThan(0);
    const fmt = (x: number) => x.toLocaleString("en-US");
    expect(r.stdout.trimEnd()).toMatch(
      new RegExp(
        `^jane\\.txt: [\\d.]+ nats/char, [\\d.]+ bits/char over ${fmt(4 * S)} of its ${fmt(n)} characters \\(checkpoint run/checkpoint\\.safetensors, step 30\\); ` +
          `not scored: the first \\(nothing before it predicts it\\) and the last ${left} \\(left over when cut into 4 streams of ${fmt(S)}\\)$`,
      ),
    );
  });

  it("names the command as typed: rnnlab through a global install's link, npx rnnlab through a project's node_modules/.bin", () => {
    const root = fileURLToPath(new URL("../..", import.meta.url));
    // npm's global layout: PREFIX/bin/rnnlab -> PREFIX/lib/node_modules/rnnlab/dist/cli/main.js (here npm link's: the clone)
    const prefix = join(dir, "prefix");
    mkdirSync(join(prefix, "lib", "node_modules"), { recursive: true });
    mkdirSync(join(prefix, "bin"));
    symlinkSync(root, join(prefix, "lib", "node_modules", "rnnlab"), "dir");
    symlinkSync(join("..", "lib", "node_modules", "rnnlab", "dist", "cli", "main.js"), join(prefix, "bin", "rnnlab"));
    // a project's install: PROJECT/node_modules/.bin/rnnlab
    const project = join(dir, "project", "node_modules");
    mkdirSync(join(project, ".bin"), { recursive: true });
    symlinkSync(root, join(project, "rnnlab"), "dir");
    symlinkSync(join("..", "rnnlab", "dist", "cli", "main.js"), join(project, ".bin", "rnnlab"));
    const run = (script: string) => rnnlabVia(dir, script, "train", "--hiden", "8");
    const global = run(join(prefix, "bin", "rnnlab"));
    expect(isOneLineError(global.stderr), global.stderr).toBe(true);
    expect(global.stderr).toMatch(/\(see rnnlab train --help\)$/m);
    expect(run(join(project, ".bin", "rnnlab")).stderr).toMatch(/\(see npx rnnlab train --help\)$/m);
    expect(run(BIN).stderr).toMatch(/\(see npx rnnlab train --help\)$/m);
  });
});

/** Runs the CLI through `script` (a link to it, as a shell would start it). */
function rnnlabVia(cwd: string, script: string, ...args: string[]) {
  return spawnSync(process.execPath, [script, ...args], { cwd, encoding: "utf8", env: { ...process.env, FORCE_COLOR: "0" } });
}

describe("surface --mode pca states what it needs", () => {
  it("2 snapshots other than the checkpoint's weights: 2 diagnoses are not enough, 3 are", () => {
    const dir = scratch("rnnlab-pca-");
    writeFileSync(join(dir, "jane.txt"), LECTURE.repeat(40));
    const two = rnnlab(dir, "train", "jane.txt", ...TINY, "--steps", "20", "--diagnose-every", "10", "--out", "two");
    expect(two.status, two.stderr).toBe(0);
    const r = rnnlab(dir, "surface", "--checkpoint", "two/checkpoint.safetensors", "--mode", "pca", "--grid", "3", "--tokens", "100", "--out", "s2");
    expect(r.status).toBe(2);
    expect(isOneLineError(r.stderr), r.stderr).toBe(true);
    // snapshots at steps 10 and 20; the one of step 20 is the checkpoint
    expect(r.stderr).toMatch(
      /--mode pca needs 2 trajectory snapshots whose weights differ from the checkpoint's, in two[/\\]trajectory \(found 2 snapshots, 1 of them different: .*\); train with --diagnose-every N for 3 or more diagnoses, N <= \(steps - 1\) \/ 2 \(this run's 20 steps: N <= 9\), or use --mode random or whh/,
    );
    // what the message asks for is enough: N = 9 over 20 steps diagnoses at 9, 18 and 20
    const three = rnnlab(dir, "train", "jane.txt", ...TINY, "--steps", "20", "--diagnose-every", "9", "--out", "three");
    expect(three.status, three.stderr).toBe(0);
    const ok = rnnlab(dir, "surface", "--checkpoint", "three/checkpoint.safetensors", "--mode", "pca", "--grid", "3", "--tokens", "100", "--out", "s3");
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/3 trajectory snapshots/);
  }, 120_000);
});
