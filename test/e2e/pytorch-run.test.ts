// `rnnlab export --format pytorch-run` end to end: a run trained by rnnlab, exported, and continued
// by the folder's train.py in PyTorch gives rnnlab's own continuation of the same checkpoint
// (training losses within 1e-4 relative, step by step, over 50 steps; RNN, LSTM and GRU, tied and
// untied, Adam and SGD with momentum, with truncated BPTT(k1, k2 > k1), schedules, warm-up,
// clipping, plateau and early stopping, the skip policy, characters and words); a run with dropout
// continues with PyTorch's own masks (the mean loss, not each step's); two processes under torchrun
// (DDP, Gloo, an uneven share of the batch) give the one-process numbers to float rounding; and what
// train.py writes comes back: rnnlab sample, eval, diagnose, probe and train --resume take it, with
// metrics.jsonl continuous.
// Checkpoints that cannot be continued are refused in one line with exit status 2, nothing written.
// Needs a Python with torch ($RNNLAB_PYTHON, default /usr/bin/python3) for the PyTorch half: without
// one, each such test says by name that it was not run. Runs the built CLI (dist/): build first.

import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeSafetensors } from "../../src/io/safetensors.js";
import { BIN, isOneLineError, rnnlab, scratch } from "../helpers/cli.js";

const PYTHON = process.env.RNNLAB_PYTHON ?? "/usr/bin/python3";
const hasTorch = existsSync(PYTHON) && spawnSync(PYTHON, ["-c", "import torch, torch.distributed"], { encoding: "utf8" }).status === 0;
/**
 * torchrun's options here: its logs in the scratch folder, and, where torchrun cannot parse its own
 * default --redirects and --tee (torch 1.13 under Python 3.11, as Debian 12's python3-torch: it stops
 * with "'NoneType' object has no attribute 'get'" before starting a worker; fixed in torch 2.0),
 * those two given explicitly: stderr teed, stdout as it is.
 */
function torchrunOptions(logs: string): string[] {
  const probe = "from torch.distributed.elastic.multiprocessing.api import Std; print(Std.from_str('0') is None)";
  const broken = hasTorch && spawnSync(PYTHON, ["-c", probe], { encoding: "utf8" }).stdout.trim() === "True";
  if (broken) console.log("pytorch-run: this torchrun cannot parse its default --redirects (torch 1.13 under Python 3.11): given --redirects 2 --tee 2");
  return ["--log_dir", logs, ...(broken ? ["--redirects", "2", "--tee", "2"] : [])];
}
const SHAKESPEARE = readFileSync(fileURLToPath(new URL("../../data/tinyshakespeare.txt", import.meta.url)), "utf8");

/** What every run shares: small, on one thread, evaluated and sampled every 10 steps. */
const COMMON = ["--batch", "4", "--seq", "8", "--eval-every", "10", "--sample-length", "20", "--threads", "1"];
const FIRST = 30; // steps rnnlab trains before the export
const MORE = 50; // steps both continuations add

/** A command line's arguments, written as one string. */
const words = (s: string) => s.split(" ");

/**
 * Every cell, tied and untied, with Adam and with SGD with momentum; each with some of the rest of
 * what a run carries. The text (1,600 characters, or 8,000 for words) makes a pass over the data
 * last about 40 steps, so both continuations cross a pass boundary (state reset, new epoch).
 */
const CASES = [
  { name: "rnn untied adam", args: words("--cell rnn --hidden 24 --embed 16 --tbptt 6,10") },
  {
    name: "rnn tied sgd",
    args: words("--cell rnn --nonlinearity relu --layers 2 --hidden 16 --embed 16 --tie-weights --optimizer sgd --lr 0.05 --momentum 0.9"),
  },
  {
    name: "lstm untied adam",
    args: words("--cell lstm --layers 2 --hidden 24 --embed 12 --tbptt 8,12 --lr-schedule cosine --warmup 10"),
  },
  {
    name: "lstm tied sgd",
    args: words("--cell lstm --hidden 16 --embed 16 --tie-weights --optimizer sgd --lr 0.5 --momentum 0.9 --clip-value 0.05"),
  },
  {
    name: "gru untied adam",
    // warm-up past the export: the plateau has seen no evaluation there (its best is Infinity in the checkpoint)
    args: words("--cell gru --hidden 24 --embed 16 --weight-decay 0.01 --lr-schedule plateau:1,0.5 --warmup 35 --early-stop 20"),
  },
  {
    name: "gru tied sgd",
    args: words("--cell gru --hidden 16 --embed 16 --tie-weights --optimizer sgd --lr 0.3 --momentum 0.5 --lr-schedule step:20,0.5 --clip 1"),
  },
  {
    name: "rnn untied sgd",
    args: words("--cell rnn --hidden 20 --embed 10 --optimizer sgd --lr 0.1 --momentum 0.8 --tbptt 4,9 --on-nonfinite skip"),
  },
  { name: "rnn tied adam", args: words("--cell rnn --hidden 16 --embed 16 --tie-weights --lr 0.005 --lr-schedule exp:0.99") },
  {
    name: "lstm untied sgd",
    args: words("--cell lstm --hidden 20 --embed 8 --optimizer sgd --lr 1 --momentum 0.5 --weight-decay 0.0001"),
  },
  {
    name: "lstm tied adam",
    args: words("--cell lstm --layers 2 --hidden 16 --embed 16 --tie-weights --lr-schedule onecycle --clip 0.5 --on-nonfinite skip"),
  },
  {
    name: "gru untied sgd",
    args: words("--cell gru --hidden 20 --embed 12 --optimizer sgd --lr 0.5 --momentum 0.9 --tbptt 8,11"),
  },
  {
    name: "gru tied adam (words)",
    words: true,
    args: words("--cell gru --hidden 16 --embed 16 --tie-weights --tokens words --warmup 5"),
  },
] as const;
/** A run with dropout everywhere rnnlab has it: PyTorch draws its own masks, so it continues statistically, not step for step. */
const DROPOUT = {
  name: "lstm with dropout",
  args: words("--cell lstm --layers 2 --hidden 16 --embed 16 --dropout 0.2 --embedding-dropout 0.1 --output-dropout 0.1"),
};

const TORCH_TESTS = [
  ...CASES.map((c) => `${c.name}: train.py continues the run as rnnlab does`),
  "two processes under torchrun give the one-process numbers to float rounding",
  "the round trip: 200 steps of rnnlab, 200 under torchrun, back to rnnlab",
  `${DROPOUT.name}: train.py continues with PyTorch's own masks, rnnlab's counters kept`,
  "train.py refuses a folder that holds a run, in one line, and continues it with --resume",
];
if (!hasTorch)
  for (const name of TORCH_TESTS) console.log(`pytorch-run: not run: ${name} (${PYTHON} cannot import torch; set RNNLAB_PYTHON to a Python with torch)`);

interface Done {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion without blocking the event loop (so that two can run at once). */
function run(cmd: string, args: string[], cwd: string): Promise<Done> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd, env: { ...process.env, FORCE_COLOR: "0", OMP_NUM_THREADS: "1" } });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

const rnnlabAsync = (cwd: string, ...args: string[]) => run(process.execPath, [BIN, ...args], cwd);

function ok(r: Done, what: string): Done {
  expect(r.status, `${what}: ${r.stderr}${r.stdout.slice(-2000)}`).toBe(0);
  return r;
}

interface StepLine {
  step: number;
  epoch: number;
  loss: number;
  grad_norm: number;
  clipped: boolean;
  skipped: boolean;
  lr: number;
  val_loss?: number;
  kind?: string;
}

function metrics(path: string): StepLine[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as StepLine)
    .filter((r) => r.kind === undefined);
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

/**
 * The largest relative differences of two continuations' step lines (loss, validation loss,
 * gradient norm), after checking that they are the same steps with the same epoch, learning rate
 * and flags.
 */
function compare(a: StepLine[], b: StepLine[]): { loss: number; val: number; norm: number } {
  expect(a.map((r) => r.step)).toEqual(b.map((r) => r.step));
  const worst = { loss: 0, val: 0, norm: 0 };
  a.forEach((x, i) => {
    const y = b[i];
    expect([x.epoch, x.skipped, x.clipped], `step ${x.step}`).toEqual([y.epoch, y.skipped, y.clipped]);
    expect(Math.abs(x.lr - y.lr), `step ${x.step}: lr ${x.lr} and ${y.lr}`).toBeLessThanOrEqual(1e-12 * Math.abs(y.lr));
    expect(x.val_loss === undefined, `step ${x.step}: validation in one and not the other`).toBe(y.val_loss === undefined);
    worst.loss = Math.max(worst.loss, rel(x.loss, y.loss));
    worst.norm = Math.max(worst.norm, rel(x.grad_norm, y.grad_norm));
    if (x.val_loss !== undefined) worst.val = Math.max(worst.val, rel(x.val_loss, y.val_loss!));
  });
  return worst;
}

/** A checkpoint's metadata and tensor names. */
function header(path: string): { meta: Record<string, string>; names: string[] } {
  const { tensors, metadata } = decodeSafetensors(readFileSync(path));
  return { meta: metadata, names: [...tensors.keys()] };
}

/** Runs `jobs` two at a time (two cores: each process on one thread). */
async function twoAtATime<T>(jobs: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  };
  await Promise.all([worker(), worker()]);
  return results;
}

let dir: string;
beforeAll(() => {
  dir = scratch("rnnlab-pytorch-run-");
  writeFileSync(join(dir, "text.txt"), SHAKESPEARE.slice(0, 1600));
  writeFileSync(join(dir, "words.txt"), SHAKESPEARE.slice(0, 8000));
});

describe("rnnlab export --format pytorch-run: what cannot be continued is refused in one line", () => {
  beforeAll(() => {
    for (const [out, args] of [
      ["mlp", ["--cell", "mlp", "--window", "4"]],
      ["lstm", ["--cell", "lstm"]],
    ] as const) {
      const r = rnnlab(dir, "train", "text.txt", ...args, "--hidden", "8", "--embed", "8", ...COMMON, "--steps", "10", "--out", `refuse-${out}`);
      expect(r.status, r.stderr).toBe(0);
    }
    expect(rnnlab(dir, "export", "--checkpoint", "refuse-lstm/checkpoint.safetensors", "--out", "weights.safetensors").status).toBe(0);
  });

  it.each([
    [["--checkpoint", "refuse-mlp/checkpoint.safetensors"], /holds a feed-forward model \(--cell mlp\); --format pytorch-run continues recurrent runs/],
    [["--checkpoint", "refuse-lstm/best.safetensors"], /holds the weights alone .* needs the run's checkpoint\.safetensors/],
    [["--checkpoint", "weights.safetensors"], /is not a checkpoint of rnnlab train \(it has no "run" record/],
    [["--checkpoint", "refuse-lstm/checkpoint.safetensors", "--data", "words.txt"], /words\.txt is not the text the run was trained on .*--data FILE/],
    [["--checkpoint", "refuse-lstm/checkpoint.safetensors", "--data", "nothing.txt"], /nothing\.txt does not exist/],
    [["--checkpoint", "missing.safetensors"], /missing\.safetensors does not exist/],
  ] as [string[], RegExp][])("export %j", (args, message) => {
    const before = readdirSync(dir).sort();
    const r = rnnlab(dir, "export", "--format", "pytorch-run", "--out", "refused", ...args);
    expect(r.status, r.stderr).toBe(2);
    expect(isOneLineError(r.stderr), r.stderr).toBe(true);
    expect(r.stderr).toMatch(message);
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it("never writes into a folder with files in it, nor over a file; --data is for pytorch-run", () => {
    for (const [args, message] of [
      [["--out", "refuse-lstm"], /--out refuse-lstm is a folder with files in it; give a new \(or empty\) folder/],
      [["--out", "text.txt"], /--out text\.txt is a file; give a folder/],
    ] as [string[], RegExp][]) {
      const r = rnnlab(dir, "export", "--format", "pytorch-run", "--checkpoint", "refuse-lstm/checkpoint.safetensors", ...args);
      expect(r.status, r.stderr).toBe(2);
      expect(isOneLineError(r.stderr), r.stderr).toBe(true);
      expect(r.stderr).toMatch(message);
    }
    const d = rnnlab(dir, "export", "--checkpoint", "refuse-lstm/checkpoint.safetensors", "--out", "w.safetensors", "--data", "text.txt");
    expect(d.status).toBe(2);
    expect(d.stderr).toMatch(/--data is for --format pytorch-run/);
  });
});

describe.runIf(hasTorch)("train.py continues an rnnlab run as rnnlab does", () => {
  const results = new Map<string, { rnnlab: StepLine[]; torch: StepLine[]; a: string; b: string }>();

  beforeAll(async () => {
    const jobs = [...CASES, DROPOUT].map((c, i) => async () => {
      const text = "words" in c ? "words.txt" : "text.txt";
      const out = `case-${i}`;
      ok(await rnnlabAsync(dir, "train", text, ...c.args, ...COMMON, "--steps", String(FIRST), "--out", out), `${c.name}: rnnlab train`);
      ok(
        await rnnlabAsync(dir, "export", "--format", "pytorch-run", "--checkpoint", `${out}/checkpoint.safetensors`, "--out", `${out}-torch`),
        `${c.name}: export`,
      );
      ok(
        await rnnlabAsync(dir, "train", text, "--out", out, "--resume", "--steps", String(FIRST + MORE), "--threads", "1"),
        `${c.name}: rnnlab train --resume`,
      );
      ok(await run(PYTHON, [`${out}-torch/train.py`, "--steps", String(MORE), "--out", `${out}-torch/run`, "--device", "cpu"], dir), `${c.name}: train.py`);
      results.set(c.name, {
        rnnlab: metrics(join(dir, out, "metrics.jsonl")),
        torch: metrics(join(dir, `${out}-torch`, "run", "metrics.jsonl")),
        a: join(dir, out, "checkpoint.safetensors"),
        b: join(dir, `${out}-torch`, "run", "checkpoint.safetensors"),
      });
    });
    await twoAtATime(jobs);
  }, 300_000);

  it.each(CASES.map((c) => c.name))("%s: train.py continues the run as rnnlab does", (name) => {
    const r = results.get(name)!;
    // the history up to the export, then the continuation: steps 1..80 once each, in order
    expect(r.torch.map((x) => x.step)).toEqual(Array.from({ length: FIRST + MORE }, (_, i) => i + 1));
    expect(r.torch.slice(0, FIRST)).toEqual(r.rnnlab.slice(0, FIRST));
    const worst = compare(r.torch.slice(FIRST), r.rnnlab.slice(FIRST));
    console.log(
      `pytorch-run: ${name}: ${MORE} steps after step ${FIRST}: largest relative difference from rnnlab's own continuation: ` +
        `loss ${worst.loss.toExponential(1)}, validation loss ${worst.val.toExponential(1)}, gradient norm ${worst.norm.toExponential(1)}`,
    );
    expect(worst.loss).toBeLessThan(1e-4);
    expect(worst.val).toBeLessThan(1e-4);
    // the checkpoints: the same tensors, counters, data position, generator state and run record
    const a = header(r.a);
    const b = header(r.b);
    expect(b.names).toEqual(a.names);
    for (const key of ["format", "vocab", "tokens", "step", "optimizer_steps", "stats", "rng", "dropout_calls", "data_position"])
      expect(b.meta[key], key).toEqual(a.meta[key]);
    expect(JSON.parse(b.meta.config)).toEqual(JSON.parse(a.meta.config)); // the same config (rnnlab rewrites it with its keys in another order)
    const [ra, rb] = [JSON.parse(a.meta.run), JSON.parse(b.meta.run)];
    expect({ ...rb, bestVal: null }).toEqual({ ...ra, bestVal: null });
    if (ra.bestVal !== null) expect(rel(rb.bestVal, ra.bestVal)).toBeLessThan(1e-4);
  });

  it(`${DROPOUT.name}: train.py continues with PyTorch's own masks, rnnlab's counters kept`, () => {
    const r = results.get(DROPOUT.name)!;
    expect(r.torch.map((x) => x.step)).toEqual(Array.from({ length: FIRST + MORE }, (_, i) => i + 1));
    // other masks, the same rates: the mean loss of the 50 steps is rnnlab's to within 1% (measured: 0.1%)
    const mean = (lines: StepLine[]) => lines.slice(FIRST).reduce((sum, x) => sum + x.loss, 0) / MORE;
    console.log(`pytorch-run: ${DROPOUT.name}: mean loss of ${MORE} steps ${mean(r.torch).toFixed(4)}, rnnlab's ${mean(r.rnnlab).toFixed(4)}`);
    expect(rel(mean(r.torch), mean(r.rnnlab))).toBeLessThan(0.01);
    // rnnlab's mask counters advance as its own forward passes advance them, so a resumed rnnlab run draws fresh masks
    const [a, b] = [header(r.a).meta, header(r.b).meta];
    for (const key of ["step", "dropout_calls", "lm_dropout_calls", "rng", "data_position"]) expect(b[key], key).toEqual(a[key]);
  });
});

describe.runIf(hasTorch)("from rnnlab to torchrun and back", () => {
  // batch 5 over 2 processes: rows [0, 3) and [3, 5), an uneven share; truncated BPTT(6, 9)
  const ARGS = [
    "--cell",
    "lstm",
    "--hidden",
    "16",
    "--embed",
    "16",
    "--tie-weights",
    "--batch",
    "5",
    "--tbptt",
    "6,9",
    "--eval-every",
    "50",
    "--sample-length",
    "30",
    "--threads",
    "1",
  ];
  let one: StepLine[];
  let two: StepLine[];

  beforeAll(async () => {
    ok(await rnnlabAsync(dir, "train", "text.txt", ...ARGS, "--steps", "200", "--out", "rt"), "rnnlab train");
    ok(await rnnlabAsync(dir, "export", "--format", "pytorch-run", "--checkpoint", "rt/checkpoint.safetensors", "--out", "rt-torch"), "export");
    const [ddp, single] = await Promise.all([
      run(
        PYTHON,
        [
          ...["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", ...torchrunOptions(join(dir, "torchrun-logs"))],
          ...["rt-torch/train.py", "--steps", "200", "--out", "rt-ddp", "--device", "cpu"],
        ],
        dir,
      ),
      run(PYTHON, ["rt-torch/train.py", "--steps", "200", "--out", "rt-one", "--device", "cpu"], dir),
    ]);
    ok(ddp, "torchrun --nproc_per_node 2 train.py");
    expect(ddp.stdout).toMatch(/on 2 processes \(gloo, cpu\)/);
    ok(single, "python train.py");
    two = metrics(join(dir, "rt-ddp", "metrics.jsonl"));
    one = metrics(join(dir, "rt-one", "metrics.jsonl"));
  }, 180_000);

  it("two processes under torchrun give the one-process numbers to float rounding", () => {
    expect(two.slice(0, 200)).toEqual(one.slice(0, 200)); // the same history
    const worst = compare(two.slice(200), one.slice(200));
    console.log(
      `pytorch-run: 2 processes (DDP, Gloo) against 1, 200 steps: largest relative difference: loss ${worst.loss.toExponential(1)}, ` +
        `validation loss ${worst.val.toExponential(1)}, gradient norm ${worst.norm.toExponential(1)}`,
    );
    // float rounding: the shards' products and DDP's sum add in another order (measured: 2.4e-7 over
    // the 200 steps, the size of rnnlab against PyTorch); a wrong share or scale is off by far more
    expect(worst.loss).toBeLessThan(1e-5);
    expect(worst.val).toBeLessThan(1e-5);
  });

  it("the round trip: 200 steps of rnnlab, 200 under torchrun, back to rnnlab", () => {
    // metrics.jsonl: rnnlab's 200 lines, then 200 of PyTorch's: one curve, steps 1..400
    expect(two.map((r) => r.step)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    const ck = "rt-ddp/checkpoint.safetensors";
    const { meta } = header(join(dir, ck));
    expect([meta.step, meta.data_position, JSON.parse(meta.run).targetSteps, JSON.parse(meta.run).finished]).toEqual(["400", "400", 400, true]);
    const sample = rnnlab(dir, "sample", "--checkpoint", ck, "--length", "40");
    expect(sample.status, sample.stderr).toBe(0);
    expect(sample.stdout.length).toBeGreaterThan(20);
    const ev = rnnlab(dir, "eval", "--checkpoint", ck, "text.txt");
    expect(ev.status, ev.stderr).toBe(0);
    const diag = rnnlab(dir, "diagnose", "--checkpoint", ck, "--out", "rt-report.html", "--seq", "16");
    expect(diag.status, diag.stderr).toBe(0);
    expect(readFileSync(join(dir, "rt-report.html"), "utf8")).toMatch(/rt-ddp\/metrics\.jsonl: 400 steps/); // the report's loss curves: the whole history
    const probe = rnnlab(dir, "probe", "context", "--checkpoint", ck, "--positions", "4", "--max-distance", "16");
    expect(probe.status, probe.stderr).toBe(0);
    // and rnnlab continues it: its own lines follow PyTorch's
    copyFileSync(join(dir, "rt-ddp", "metrics.jsonl"), join(dir, "rt-ddp-metrics-before.jsonl"));
    const resume = rnnlab(dir, "train", "--out", "rt-ddp", "--resume", "--steps", "420");
    expect(resume.status, resume.stderr).toBe(0);
    const after = metrics(join(dir, "rt-ddp", "metrics.jsonl"));
    expect(after.map((r) => r.step)).toEqual(Array.from({ length: 420 }, (_, i) => i + 1));
    expect(after.slice(0, 400)).toEqual(two);
    // rnnlab's step 401 from PyTorch's checkpoint continues PyTorch's curve: a loss near step 400's
    expect(Math.abs(after[400].loss - two[399].loss)).toBeLessThan(0.5);
  });

  it("train.py refuses a folder that holds a run, in one line, and continues it with --resume", async () => {
    const r = await run(PYTHON, ["rt-torch/train.py", "--steps", "5", "--out", "rt-one"], dir);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^train\.py: rt-one already holds a run; continue it with --resume, or choose another --out$/);
    expect(r.stdout).toBe("");
    ok(await run(PYTHON, ["rt-torch/train.py", "--steps", "5", "--out", "rt-one", "--resume", "--device", "cpu"], dir), "train.py --resume");
    const more = metrics(join(dir, "rt-one", "metrics.jsonl"));
    expect(more.map((x) => x.step)).toEqual(Array.from({ length: 405 }, (_, i) => i + 1));
    expect(more.slice(0, 400)).toEqual(one);
  });

  it("train.py with its output closed (| head -1) trains on and saves, exit 0, as rnnlab train does", async () => {
    const r = await run("bash", ["-c", `"${PYTHON}" rt-torch/train.py --steps 3 --out rt-pipe --device cpu | head -1; exit \${PIPESTATUS[0]}`], dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(metrics(join(dir, "rt-pipe", "metrics.jsonl")).at(-1)!.step).toBe(203);
    expect(header(join(dir, "rt-pipe", "checkpoint.safetensors")).meta.step).toBe("203");
  });
});
