// `rnnlab train | sample | eval` end to end, with small models on small texts (seconds each).

import { existsSync, readFileSync, statSync, writeFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeSafetensors } from "../../src/io/safetensors.js";
import { exited, isOneLineError, rnnlab, rnnlabAsync, scratch } from "../helpers/cli.js";

const SMALL = ["--hidden", "24", "--embed", "16", "--batch", "4", "--seq", "16", "--sample-length", "0"];

/** A text with strong structure: a model can get far below its unigram entropy quickly. */
const LECTURE = "Jane walked into the room. John walked in too. It was late in the day. Jane said hi to John.\n";
function textFile(dir: string, repeats = 60): string {
  const p = join(dir, "jane.txt");
  writeFileSync(p, LECTURE.repeat(repeats));
  return p;
}

function unigramEntropyNats(text: string): number {
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  const n = [...text].length;
  let h = 0;
  for (const c of counts.values()) h -= (c / n) * Math.log(c / n);
  return h;
}

function modelTensors(path: string): Map<string, Uint8Array> {
  const { tensors } = decodeSafetensors(readFileSync(path));
  return new Map([...tensors].map(([k, t]) => [k, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)]));
}

/**
 * Trains `args` into "whole", and again into "cut" killed with SIGKILL once a checkpoint exists and
 * metrics.jsonl has `lines` lines, then resumes "cut": the two final checkpoints must agree to the bit.
 */
async function killAndResume(dir: string, args: string[], lines: number): Promise<{ a: Map<string, Uint8Array>; b: Map<string, Uint8Array>; cutAt: number }> {
  expect(rnnlab(dir, ...args, "--out", "whole").status).toBe(0);
  const p = rnnlabAsync(dir, ...args, "--out", "cut");
  const metrics = join(dir, "cut", "metrics.jsonl");
  const checkpoint = join(dir, "cut", "checkpoint.safetensors");
  for (let i = 0; i < 4000; i++) {
    if (existsSync(checkpoint) && existsSync(metrics) && readFileSync(metrics, "utf8").split("\n").length > lines) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  p.kill("SIGKILL");
  expect(await exited(p)).toBe("SIGKILL");
  const cutAt = readFileSync(metrics, "utf8").trim().split("\n").length;
  const r = rnnlab(dir, "train", "--out", "cut", "--resume");
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/resuming at step \d+/);
  const a = modelTensors(join(dir, "whole", "checkpoint.safetensors"));
  const b = modelTensors(join(dir, "cut", "checkpoint.safetensors"));
  expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
  for (const [k, bytes] of a) expect(Buffer.compare(Buffer.from(bytes), Buffer.from(b.get(k)!)), k).toBe(0);
  return { a, b, cutAt };
}

describe("rnnlab train", () => {
  it("learns: validation loss ends well below the text's unigram entropy; plain lines when not a terminal", () => {
    const dir = scratch();
    const file = textFile(dir);
    const r = rnnlab(dir, "train", file, ...SMALL, "--steps", "200", "--eval-every", "100", "--sample-length", "30", "--out", "run", "--seed", "3");
    expect(r.status, r.stderr).toBe(0);
    // non-TTY format: header lines, one line per evaluation, a sample, a summary; no bar redraws
    // biome-ignore lint/suspicious/noControlCharactersInRegex: no escape sequences (a progress bar) when not on a terminal
    expect(r.stdout).not.toMatch(/\r|\x1b\[/);
    const evals = r.stdout
      .split("\n")
      .filter((l) =>
        /^step \d+\/200 {2}train [\d.]+ nats \([\d.]+ bpc\) {2}val [\d.]+ nats \([\d.]+ bpc\) {2}grad norm [\d.]+ {2}clipped [\d.]+% {2}[\d,]+ chars\/s {2}ETA/.test(
          l,
        ),
      );
    expect(evals).toHaveLength(2);
    expect(r.stdout).toMatch(/--- sample ---\n[\s\S]{30}\n---/);
    const finalVal = Number(/validation ([\d.]+) nats\/char/.exec(r.stdout)![1]);
    const h = unigramEntropyNats(LECTURE);
    expect(finalVal).toBeLessThan(0.5 * h);
    // every step in metrics.jsonl, with the validation loss at the evaluations
    const lines = readFileSync(join(dir, "run", "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.step)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(Object.keys(lines[0])).toEqual(expect.arrayContaining(["loss", "bpc", "grad_norm", "clipped", "skipped", "lr", "chars_per_s"]));
    expect(lines[199].val_loss).toBeCloseTo(finalVal, 3);
    for (const f of ["checkpoint.safetensors", "best.safetensors"]) expect(existsSync(join(dir, "run", f))).toBe(true);

    // the checkpoint has PyTorch's parameter names and the run's metadata
    const { tensors, metadata } = decodeSafetensors(readFileSync(join(dir, "run", "checkpoint.safetensors")));
    expect([...tensors.keys()]).toEqual(
      expect.arrayContaining([
        "embedding.weight",
        "rnn.weight_ih_l0",
        "rnn.weight_hh_l0",
        "rnn.bias_ih_l0",
        "rnn.bias_hh_l0",
        "head.weight",
        "head.bias",
        "optim.exp_avg.rnn.weight_hh_l0",
        "state.h",
      ]),
    );
    expect(JSON.parse(metadata.vocab)).toContain("J");
    expect(metadata.step).toBe("200");

    // sample streams text; eval scores a text
    const s = rnnlab(dir, "sample", "--checkpoint", "run/checkpoint.safetensors", "--length", "80", "--prime", "Jane", "--temperature", "0.5");
    expect(s.status, s.stderr).toBe(0);
    expect(s.stdout.startsWith("Jane")).toBe(true);
    expect([...s.stdout.trimEnd()].length).toBeGreaterThanOrEqual(80);
    const again = rnnlab(dir, "sample", "--checkpoint", "run/checkpoint.safetensors", "--length", "80", "--prime", "Jane", "--temperature", "0.5");
    expect(again.stdout).toBe(s.stdout); // same seed, same text
    const e = rnnlab(dir, "eval", "--checkpoint", "run/best.safetensors", file);
    expect(e.status, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/jane\.txt: [\d.]+ nats\/char, [\d.]+ bits\/char over [\d,]+ of its [\d,]+ characters/);
  });

  it("killed with SIGKILL and resumed, ends bit-identical to a run never stopped (2-layer LSTM with dropout)", async () => {
    const dir = scratch();
    const file = textFile(dir, 200);
    const args = [
      "train",
      file,
      ...SMALL,
      "--cell",
      "lstm",
      "--layers",
      "2",
      "--dropout",
      "0.2",
      "--steps",
      "300",
      "--eval-every",
      "100",
      "--save-every",
      "25",
    ];
    const { a, b, cutAt } = await killAndResume(dir, args, 40);
    expect(cutAt).toBeLessThan(300);
    // the metrics file holds each step once
    const steps = readFileSync(join(dir, "cut", "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).step);
    expect(steps).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect([...b.keys()]).toEqual(expect.arrayContaining(["rnn.weight_hh_l1", "state.c", "optim.exp_avg.rnn.bias_ih_l1"]));
    expect(a.size).toBe(b.size);
  });

  it("schedules and early stopping: --lr-schedule with --warmup sets each step's rate; --early-stop ends a run that stopped improving", () => {
    const dir = scratch();
    const file = textFile(dir, 200);
    const r = rnnlab(
      dir,
      "train",
      file,
      ...SMALL,
      "--steps",
      "60",
      "--eval-every",
      "20",
      "--lr",
      "0.01",
      "--lr-schedule",
      "cosine",
      "--warmup",
      "10",
      "--out",
      "cos",
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/adam lr 0\.01, cosine over 50 to 0, warm-up 10 updates/);
    const lrs = readFileSync(join(dir, "cos", "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).lr);
    expect(lrs[0]).toBeCloseTo(0.001, 12); // 1/10 of the rate
    expect(lrs[9]).toBeCloseTo(0.01, 12);
    expect(lrs[10]).toBeCloseTo(0.01, 12); // the cosine's start
    expect(lrs[59]).toBeLessThan(1e-4);
    const { metadata } = decodeSafetensors(readFileSync(join(dir, "cos", "checkpoint.safetensors")));
    expect(JSON.parse(metadata.config).train).toMatchObject({ schedule: { type: "cosine", tMax: 50, etaMin: 0 }, warmup: 10 });
    // a rate of 1e-30 moves no float32 weight: the validation loss never improves after the first evaluation
    const e = rnnlab(
      dir,
      "train",
      file,
      ...SMALL,
      "--steps",
      "1000",
      "--eval-every",
      "10",
      "--optimizer",
      "sgd",
      "--lr",
      "1e-30",
      "--early-stop",
      "2",
      "--out",
      "early",
    );
    expect(e.status, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/done: 30 steps in .*\(early stop: no progress in 2 evaluations\)/);
  });

  it("a plateau schedule resumes bit-identically after SIGKILL", async () => {
    const dir = scratch();
    const file = textFile(dir, 200);
    const args = [
      "train",
      file,
      ...SMALL,
      "--steps",
      "120",
      "--eval-every",
      "10",
      "--save-every",
      "5",
      "--optimizer",
      "sgd",
      // a rate so small that no evaluation improves on the best by the plateau's threshold (1e-4
      // relative): it halves the rate at every evaluation, whatever the kernels' rounding (with
      // --lr 10 whether it ever lowered the rate depended on the last bits of the trajectory)
      "--lr",
      "1e-5",
      "--lr-schedule",
      "plateau:0,0.5",
    ];
    await killAndResume(dir, args, 50);
    const lrs = (d: string) =>
      readFileSync(join(dir, d, "metrics.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).lr);
    expect(lrs("cut")).toEqual(lrs("whole"));
    expect(new Set(lrs("whole")).size).toBeGreaterThan(5); // the plateau lowered the rate, again and again
  });

  it("Ctrl-C (SIGINT) saves a checkpoint and exits cleanly; --resume continues", async () => {
    const dir = scratch();
    const file = textFile(dir, 200);
    const p = rnnlabAsync(dir, "train", file, ...SMALL, "--steps", "100000", "--out", "run");
    let out = "";
    p.stdout!.on("data", (d) => (out += d));
    const metrics = join(dir, "run", "metrics.jsonl");
    for (let i = 0; i < 2000 && !(existsSync(metrics) && readFileSync(metrics, "utf8").length > 2000); i++) await new Promise((r) => setTimeout(r, 10));
    p.kill("SIGINT");
    expect(await exited(p)).toBe(130);
    const m = /interrupted at step (\d+): checkpoint saved/.exec(out);
    expect(m, out).not.toBeNull();
    const { metadata } = decodeSafetensors(readFileSync(join(dir, "run", "checkpoint.safetensors")));
    expect(metadata.step).toBe(m![1]);
    const r = rnnlab(dir, "train", "--out", "run", "--resume", "--steps", String(Number(m![1]) + 5));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`done: 5 steps in \\d+s, steps ${Number(m![1]) + 1}-${Number(m![1]) + 5} \\(the whole run: ${Number(m![1]) + 5} steps`),
    );
  });
});

describe("bad input: one clear line, exit status 2, nothing written", () => {
  const dir = scratch();
  const good = textFile(dir);
  writeFileSync(join(dir, "empty.txt"), "");
  writeFileSync(join(dir, "binary.bin"), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0x00, 0x00, 0x10]));
  writeFileSync(join(dir, "latin1.txt"), Buffer.from("caf\xe9 au lait, na\xefve\n".repeat(50), "latin1"));
  writeFileSync(join(dir, "short.txt"), "too short for a batch\n");
  writeFileSync(join(dir, "other.txt"), "Jane said hi to John. ".repeat(100));
  writeFileSync(join(dir, "hash.txt"), "# not in the vocabulary\n");
  // a finished run to resume, and checkpoints to break
  const made = rnnlab(dir, "train", good, ...SMALL, "--steps", "20", "--eval-every", "10", "--out", "done");
  if (made.status !== 0) throw new Error(made.stderr);
  const ck = readFileSync(join(dir, "done", "checkpoint.safetensors"));
  writeFileSync(join(dir, "truncated.safetensors"), ck.subarray(0, ck.length - 100));
  const corrupt = Buffer.from(ck);
  corrupt.write("garbage!", 12, "latin1");
  writeFileSync(join(dir, "corrupt.safetensors"), corrupt);
  writeFileSync(join(dir, "notjson.safetensors"), Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from("nope")]));

  const cases: [string, string[], RegExp][] = [
    ["a missing file", ["train", "nope.txt", "--out", "x1"], /nope\.txt does not exist/],
    ["an empty file", ["train", "empty.txt", "--out", "x2"], /empty\.txt is empty/],
    ["a binary file", ["train", "binary.bin", "--out", "x3"], /looks like a binary file/],
    ["invalid UTF-8", ["train", "latin1.txt", "--out", "x4"], /is not valid UTF-8.*iconv/],
    ["a file shorter than one batch", ["train", "short.txt", "--out", "x5"], /fewer than one batch needs/],
    ["an unknown option", ["train", "--hiden", "8"], /unknown option '--hiden'.*Did you mean --hidden/],
    ["a malformed option", ["train", "--batch", "many"], /'--batch <n>' argument 'many' is invalid/],
    ["an impossible option", ["train", "--tbptt", "64,32"], /k1 <= k2/],
    ["tied weights with unequal sizes", ["train", "jane.txt", "--tie-weights", "--out", "x6"], /--tie-weights needs --embed equal to --hidden/],
    ["a forget bias for a GRU", ["train", "jane.txt", "--cell", "gru", "--forget-bias", "1", "--out", "x6"], /--forget-bias is for --cell lstm/],
    ["an unknown cell", ["train", "--cell", "transformer"], /expected one of rnn, lstm, gru/],
    ["a missing checkpoint", ["sample", "--checkpoint", "none.safetensors"], /none\.safetensors does not exist/],
    ["a truncated checkpoint", ["sample", "--checkpoint", "truncated.safetensors"], /corrupt or truncated/],
    ["a corrupt checkpoint", ["sample", "--checkpoint", "corrupt.safetensors"], /corrupt or truncated/],
    [
      "a checkpoint that is not safetensors",
      ["eval", "jane.txt", "--checkpoint", "notjson.safetensors"],
      /corrupt or truncated \(header is not valid UTF-8 JSON\)/,
    ],
    ["a text the model cannot read", ["eval", "latin1.txt", "--checkpoint", "done/checkpoint.safetensors"], /not valid UTF-8/],
    ["a prime with unknown characters", ["sample", "--checkpoint", "done/checkpoint.safetensors", "--prime", "Zzyzx"], /--prime contains "Z"/],
    [
      "a checkpoint whose config does not match",
      ["train", "--out", "done", "--resume", "--steps", "40", "--hidden", "64"],
      /--hidden 64 does not match the run in done/,
    ],
    [
      "a text with characters the model never saw",
      ["eval", "hash.txt", "--checkpoint", "done/checkpoint.safetensors"],
      /character "#" is not in the vocabulary/,
    ],
    [
      "resuming with other data",
      ["train", "other.txt", "--out", "done", "--resume", "--steps", "40"],
      /other\.txt is not the text the run in done was trained on/,
    ],
    ["resuming a run that already finished", ["train", "--out", "done", "--resume"], /already finished at step 20 of 20; pass a larger --steps/],
    ["resuming without --out", ["train", "--resume"], /--resume needs --out/],
    ["a new run over an existing one", ["train", "jane.txt", "--out", "done"], /already holds a run; continue it with --resume/],
  ];
  const folderState = () =>
    readdirSync(join(dir, "done")).map((f) => [f, statSync(join(dir, "done", f)).mtimeMs, readFileSync(join(dir, "done", f)).length].join(":"));
  for (const [what, args, message] of cases) {
    it(what, () => {
      const snapshot = folderState();
      const r = rnnlab(dir, ...args);
      expect(r.status, r.stderr + r.stdout).toBe(2);
      expect(isOneLineError(r.stderr), r.stderr).toBe(true);
      expect(r.stderr).toMatch(message);
      expect(folderState()).toEqual(snapshot);
      for (const out of ["x1", "x2", "x3", "x4", "x5", "x6"]) expect(existsSync(join(dir, out))).toBe(false);
    });
  }
});
