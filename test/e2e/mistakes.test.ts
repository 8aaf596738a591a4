// The catalogue of mistakes: bad inputs to every command (files, options, checkpoints broken in
// their header, metadata and data, output paths, resources, closed pipes, a read-only and a full
// file system), each answered with exactly one line on stderr, no stack trace, exit status 2,
// and every file that existed before byte for byte unchanged.
// The read-only and full file systems are small tmpfs mounts (root, as in CI); where mounting is
// not allowed those cases are skipped here and src/node/files.test.ts simulates ENOSPC instead.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeSafetensors, encodeSafetensors } from "../../src/io/safetensors.js";
import { CharVocab } from "../../src/data/vocab.js";
import { SequenceClassifier } from "../../src/nn/sequence-classifier.js";
import { saveModel } from "../../src/train/model-file.js";
import { joinSafetensors, splitSafetensors } from "../helpers/safetensors-bytes.js";
import { BIN, exited, isOneLineError, rnnlab, rnnlabAsync, scratch } from "../helpers/cli.js";

const SMALL = ["--hidden", "16", "--embed", "8", "--batch", "4", "--seq", "16", "--sample-length", "0"];
const LECTURE = "Jane walked into the room. John walked in too. It was late in the day. Jane said hi to John.\n";

const dir = scratch("rnnlab-mistakes-");
let mounted = false;

/** Every file under `root` with a hash of its bytes (and the folders): what must not change. */
function tree(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) {
        out.set(`${relative(root, p)}/`, "dir");
        walk(p);
      } else if (st.isFile()) out.set(relative(root, p), createHash("sha1").update(readFileSync(p)).digest("hex"));
      else out.set(relative(root, p), "not a regular file"); // the FIFO: reading it would wait forever
    }
  };
  walk(root);
  return out;
}

const split = splitSafetensors;
const join8 = joinSafetensors;

/** Writes a variant of the good checkpoint into `name` (a file), changed by `edit`. */
function variant(name: string, edit: (h: Record<string, Record<string, unknown>>, data: Uint8Array, meta: Record<string, string>) => void): void {
  const { header, data } = split(readFileSync(join(dir, "done", "checkpoint.safetensors")));
  edit(header, data, header.__metadata__ as Record<string, string>);
  writeFileSync(join(dir, name), join8(header, data));
}
/** A run folder holding a broken checkpoint, for --resume. */
function runFolder(name: string, from: string): void {
  mkdirSync(join(dir, name));
  copyFileSync(join(dir, from), join(dir, name, "checkpoint.safetensors"));
  copyFileSync(join(dir, "done", "metrics.jsonl"), join(dir, name, "metrics.jsonl"));
}
const setFloat = (h: Record<string, Record<string, unknown>>, data: Uint8Array, name: string, value: number) => {
  const off = (h[name].data_offsets as number[])[0];
  new DataView(data.buffer, data.byteOffset).setFloat32(off, value, true);
};
const editJson = (meta: Record<string, string>, key: string, f: (v: Record<string, Record<string, unknown>>) => void) => {
  const v = JSON.parse(meta[key]);
  f(v);
  meta[key] = JSON.stringify(v);
};

beforeAll(() => {
  writeFileSync(join(dir, "jane.txt"), LECTURE.repeat(200));
  writeFileSync(join(dir, "empty.txt"), "");
  writeFileSync(join(dir, "short.txt"), "too short for a batch\n");
  writeFileSync(join(dir, "hash.txt"), "# not in the vocabulary\n");
  writeFileSync(join(dir, "binary.bin"), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0x00]));
  writeFileSync(join(dir, "latin1.txt"), Buffer.from("caf\xe9 au lait\n".repeat(50), "latin1"));
  writeFileSync(join(dir, "garbage.safetensors"), "this is not a safetensors file at all, just words");
  mkdirSync(join(dir, "afolder"));
  // classify: labelled data with one mistake each, and classifiers predict cannot use
  const rows = (n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ text: `line ${i}`, label: i % 2 ? "odd" : "even" }));
  writeFileSync(join(dir, "labelled.jsonl"), `${rows(40).join("\n")}\n`);
  writeFileSync(join(dir, "empty.jsonl"), "");
  writeFileSync(join(dir, "not-json.jsonl"), `${rows(5).join("\n")}\n{"text": "a", label: b}\n`);
  writeFileSync(join(dir, "no-label.jsonl"), `${rows(3).join("\n")}\n{"text": "a", "class": "b"}\n`);
  writeFileSync(join(dir, "no-text.jsonl"), `{"label": "b"}\n${rows(3).join("\n")}\n`);
  writeFileSync(join(dir, "one-class.jsonl"), `${Array.from({ length: 20 }, () => '{"text": "same", "label": "only"}').join("\n")}\n`);
  writeFileSync(join(dir, "columns.csv"), "sentence,category\nhello,a\nbye,b\n");
  writeFileSync(join(dir, "unclosed.csv"), 'text,label\nhello,a\n"bye,b\n');
  writeFileSync(join(dir, "blank-text.jsonl"), `${rows(30).join("\n")}\n{"text": "", "label": "odd"}\n`);
  writeFileSync(join(dir, "tiny.jsonl"), `${rows(4).join("\n")}\n`);
  const textClf = new SequenceClassifier({ vocabSize: 3, embedSize: 2, hiddenSize: 3, numClasses: 2 });
  writeFileSync(join(dir, "text-clf.safetensors"), saveModel(textClf, { vocab: new CharVocab(["a", "b", "\ufffd"]), labels: ["x", "y"] }));
  writeFileSync(join(dir, "no-vocab-clf.safetensors"), saveModel(textClf));
  writeFileSync(join(dir, "features-clf.safetensors"), saveModel(new SequenceClassifier({ inputSize: 2, hiddenSize: 3, numClasses: 2 })));
  writeFileSync(
    join(dir, "per-step-clf.safetensors"),
    saveModel(new SequenceClassifier({ vocabSize: 4, embedSize: 2, hiddenSize: 3, numClasses: 2, perStep: true })),
  );
  const made = rnnlab(dir, "train", "jane.txt", ...SMALL, "--steps", "20", "--eval-every", "10", "--out", "done");
  if (made.status !== 0) throw new Error(made.stderr);
  copyFileSync(join(dir, "jane.txt"), join(dir, "story.svg")); // a text whose name a plot could take
  const svgRun = rnnlab(dir, "train", "story.svg", ...SMALL, "--steps", "2", "--eval-every", "2", "--out", "svgrun");
  if (svgRun.status !== 0) throw new Error(svgRun.stderr);
  const ck = readFileSync(join(dir, "done", "checkpoint.safetensors"));
  writeFileSync(join(dir, "truncated.safetensors"), ck.subarray(0, ck.length - 100));
  linkSync(join(dir, "done", "checkpoint.safetensors"), join(dir, "hardlink.safetensors"));

  // the data: weights, optimizer state and carried state that are not finite or not possible
  variant("nan-weight.safetensors", (h, d) => setFloat(h, d, "rnn.weight_hh_l0", NaN));
  variant("inf-head.safetensors", (h, d) => setFloat(h, d, "head.bias", Infinity));
  variant("nan-adam.safetensors", (h, d) => setFloat(h, d, "optim.exp_avg.rnn.bias_ih_l0", NaN));
  variant("negative-adam.safetensors", (h, d) => setFloat(h, d, "optim.exp_avg_sq.rnn.weight_hh_l0", -1));
  variant("nan-state.safetensors", (h, d) => setFloat(h, d, "state.h", NaN));
  // the header: dtypes and shapes
  variant("i32-weights.safetensors", (h) => void (h["rnn.weight_hh_l0"].dtype = "I32"));
  variant("missing-tensor.safetensors", (h) => {
    h["rnn.weight_ih_l9"] = h["rnn.weight_ih_l0"]; // renamed: the data is still covered, the name is gone
    delete h["rnn.weight_ih_l0"];
  });
  variant("hole.safetensors", (h) => void delete h["rnn.weight_ih_l0"]);
  // the metadata
  variant("config-empty.safetensors", (_h, _d, m) => void (m.config = "{}"));
  variant("config-list.safetensors", (_h, _d, m) => void (m.config = "[1,2]"));
  variant("config-garbage.safetensors", (_h, _d, m) => void (m.config = "{not json"));
  variant("batch0.safetensors", (_h, _d, m) => editJson(m, "config", (c) => void (c.train.batch = 0)));
  variant("batch-neg.safetensors", (_h, _d, m) => editJson(m, "config", (c) => void (c.train.batch = -1)));
  variant("k1-zero.safetensors", (_h, _d, m) => editJson(m, "config", (c) => void (c.train.k1 = 0)));
  variant("k1-huge.safetensors", (_h, _d, m) => editJson(m, "config", (c) => void (c.train.k1 = 1e9)));
  variant("lr-inf32.safetensors", (_h, _d, m) => editJson(m, "config", (c) => void (c.train.lr = 1e39)));
  variant("hidden-string.safetensors", (_h, _d, m) => editJson(m, "config", (c) => void (c.model.hiddenSize = "16")));
  variant("flipped-key.safetensors", (_h, _d, m) => void (m.config = m.config.replace('"hiddenSize"', '"hiddenSizf"')));
  variant("vocab-multichar.safetensors", (_h, _d, m) => editJson(m, "vocab", (v) => void ((v as unknown as string[])[3] = "ab")));
  variant("vocab-short.safetensors", (_h, _d, m) => editJson(m, "vocab", (v) => void (v as unknown as string[]).pop()));
  variant("format-other.safetensors", (_h, _d, m) => void (m.format = "someone-else/1"));
  variant("tokens-bytes.safetensors", (_h, _d, m) => void (m.tokens = "bytes"));
  variant("run-empty.safetensors", (_h, _d, m) => void (m.run = "{}"));
  variant("run-list.safetensors", (_h, _d, m) => void (m.run = "[]"));
  variant("run-garbage.safetensors", (_h, _d, m) => void (m.run = "garbage"));
  variant("run-flipped.safetensors", (_h, _d, m) => void (m.run = m.run.replace('"valFraction"', '"valFractiom"')));
  variant("run-missing.safetensors", (_h, _d, m) => void delete m.run);
  variant("stats-empty.safetensors", (_h, _d, m) => void (m.stats = "{}"));
  variant("step-word.safetensors", (_h, _d, m) => void (m.step = "twenty"));
  variant("position-huge.safetensors", (_h, _d, m) => void (m.data_position = "1000000000000"));
  variant("optsteps-ahead.safetensors", (_h, _d, m) => void (m.optimizer_steps = "99"));
  variant("rng-garbage.safetensors", (_h, _d, m) => void (m.rng = "[0,0,0,0]"));
  for (const f of [
    "nan-adam",
    "negative-adam",
    "nan-state",
    "run-empty",
    "run-list",
    "run-garbage",
    "run-flipped",
    "run-missing",
    "stats-empty",
    "step-word",
    "position-huge",
    "optsteps-ahead",
    "rng-garbage",
    "lr-inf32",
  ]) {
    runFolder(`resume-${f}`, `${f}.safetensors`);
  }
  variant("vocab-emoji.safetensors", (_h, _d, m) =>
    editJson(m, "vocab", (v) => void ((v as unknown as string[])[(v as unknown as string[]).indexOf("y")] = "😀")),
  );
  variant("vocab-surrogate.safetensors", (_h, _d, m) => editJson(m, "vocab", (v) => void ((v as unknown as string[])[3] = "\ud800")));
  variant("best-after.safetensors", (_h, _d, m) => editJson(m, "run", (r) => void (((r as unknown as Record<string, unknown>).bestStep as number) = 999)));
  for (const f of ["vocab-emoji", "best-after"]) runFolder(`resume-${f}`, `${f}.safetensors`);
  // a run folder whose trajectory is a file: a resumed run could not write it
  mkdirSync(join(dir, "resume-trajectory-file"));
  for (const f of ["checkpoint.safetensors", "metrics.jsonl"]) copyFileSync(join(dir, "done", f), join(dir, "resume-trajectory-file", f));
  writeFileSync(join(dir, "resume-trajectory-file", "trajectory"), "not a folder");
  // a folder where the lock should be
  mkdirSync(join(dir, "lock-folder"));
  mkdirSync(join(dir, "lock-folder", ".lock"));
  spawnSync("mkfifo", [join(dir, "fifo.txt")]);
  // folders of earlier runs that a fresh run must not write into
  mkdirSync(join(dir, "only-best"));
  copyFileSync(join(dir, "done", "best.safetensors"), join(dir, "only-best", "best.safetensors"));
  mkdirSync(join(dir, "killed-early"));
  writeFileSync(join(dir, "killed-early", "metrics.jsonl"), '{"step":1,"loss":3}\n');
  // a word-level state dict with NaN, for import
  const { tensors } = decodeSafetensors(readFileSync(join(dir, "done", "best.safetensors")));
  const w = Object.fromEntries([...tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data }]));
  (w["rnn.weight_hh_l0"].data as Float32Array)[5] = NaN;
  writeFileSync(
    join(dir, "nan-state-dict.safetensors"),
    encodeSafetensors(w, { vocab: JSON.stringify(JSON.parse(split(ck).header.__metadata__.vocab as unknown as string)) }),
  );

  // small file systems: read-only, and full
  mkdirSync(join(dir, "ro"));
  mkdirSync(join(dir, "full"));
  const ro = spawnSync("mount", ["-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", join(dir, "ro")]);
  const full = ro.status === 0 ? spawnSync("mount", ["-t", "tmpfs", "-o", "size=32k", "tmpfs", join(dir, "full")]) : ro;
  mounted = ro.status === 0 && full.status === 0;
  if (!mounted)
    console.log("mistakes: cannot mount tmpfs here (not root?): the read-only and full file system cases are skipped; src/node/files.test.ts simulates ENOSPC");
  else writeFileSync(join(dir, "full", "filler"), Buffer.alloc(20 * 1024)); // 12 KiB left: less than a checkpoint
}, 120_000);

afterAll(() => {
  if (mounted) {
    spawnSync("umount", [join(dir, "ro")]);
    spawnSync("umount", [join(dir, "full")]);
  }
  rmSync(dir, { recursive: true, force: true });
});

type Case = [string, string[], RegExp, { mount?: boolean; status?: number; env?: Record<string, string> }?];
const ck = "done/checkpoint.safetensors";
const resume = (f: string): string[] => ["train", "jane.txt", "--out", `resume-${f}`, "--resume", "--steps", "40"];

const CASES: Case[] = [
  // text files
  ["train: a missing file", ["train", "nope.txt", "--out", "x"], /nope\.txt does not exist; give the path of a text file \(or none/],
  ["train: an empty file", ["train", "empty.txt", "--out", "x"], /empty\.txt is empty/],
  ["train: a binary file", ["train", "binary.bin", "--out", "x"], /looks like a binary file/],
  ["train: a file that is not UTF-8", ["train", "latin1.txt", "--out", "x"], /not valid UTF-8/],
  ["train: a folder as the text", ["train", "afolder", "--out", "x"], /afolder is a folder/],
  ["train: a text shorter than one batch", ["train", "short.txt", "--out", "x"], /fewer than one batch needs/],
  ["eval: a missing text", ["eval", "nope.txt", "--checkpoint", ck], /nope\.txt does not exist; give the path of a text file to score$/m],
  ["eval: a text with characters the model never saw", ["eval", "hash.txt", "--checkpoint", ck], /character "#" is not in the vocabulary/],
  // options
  ["train: a learning rate infinite in float32", ["train", "jane.txt", "--lr", "1e39", "--out", "x"], /float32 can hold/],
  ["train: a learning rate of 1e300", ["train", "jane.txt", "--optimizer", "sgd", "--lr", "1e300", "--out", "x"], /float32 can hold/],
  ["train: a learning rate that rounds to 0 in float32", ["train", "jane.txt", "--lr", "1e-50", "--out", "x"], /float32 can hold/],
  ["train: a negative learning rate", ["train", "jane.txt", "--lr", "-1", "--out", "x"], /expected a number > 0/],
  ["train: a clipping threshold infinite in float32", ["train", "jane.txt", "--clip", "1e39", "--out", "x"], /float32 can hold/],
  ["train: momentum above 1", ["train", "jane.txt", "--momentum", "2", "--out", "x"], /<= 1/],
  ["train: a validation share above 0.9", ["train", "jane.txt", "--val-fraction", "0.95", "--out", "x"], /<= 0.9/],
  ["train: zero steps", ["train", "jane.txt", "--steps", "0", "--out", "x"], /expected a whole number >= 1/],
  ["train: an unknown option", ["train", "--hiden", "8"], /unknown option '--hiden'/],
  ["train: an impossible --tbptt", ["train", "--tbptt", "0,0"], /k1 <= k2/],
  ["train: --vocab-size without --tokens words", ["train", "jane.txt", "--vocab-size", "50", "--out", "x"], /--vocab-size caps a word vocabulary/],
  ["an unknown command", ["trian"], /unknown command 'trian'/],
  ["sample: a negative top-k", ["sample", "--checkpoint", ck, "--top-k", "-1"], /expected a whole number >= 0/],
  ["sample: an empty prime", ["sample", "--checkpoint", ck, "--prime", ""], /--prime needs at least one character/],
  ["sample: a prime with unknown characters", ["sample", "--checkpoint", ck, "--prime", "Zzyzx"], /--prime contains "Z"/],
  ["task: an unknown task", ["task", "nosuch"], /unknown task "nosuch"/],
  ["task: a learning rate infinite in float32", ["task", "adding", "--lr", "1e39"], /float32 can hold/],
  ["experiment: an unknown variant", ["experiment", "clipping", "--variants", "rnn,nosuch"], /unknown variant nosuch/],
  ["lab: a port out of range", ["lab", "--port", "70000"], /expected a port number/],
  ["surface: a grid too fine", ["surface", "--grid", "1000"], /--grid 1000 is too fine/],
  ["surface: an empty range", ["surface", "--w", "5,4"], /expected lo,hi with lo < hi/],
  [
    "surface: pca without a trajectory",
    ["surface", "--checkpoint", ck, "--mode", "pca", "--out", "s"],
    /--mode pca needs 2 trajectory snapshots whose weights differ from the checkpoint's/,
  ],
  ["export: an unknown format", ["export", "--checkpoint", ck, "--out", "model.txt"], /ends neither in \.safetensors nor in \.onnx/],
  ["import: not a safetensors file", ["import", "jane.txt"], /is not a valid safetensors file/],
  [
    "import: a vocabulary of the wrong size",
    ["import", "done/best.safetensors", "--vocab", '["a","b"]', "--out", "imp.safetensors"],
    /the vocabulary has 2 tokens/,
  ],
  // checkpoints: the file
  ["sample: a missing checkpoint", ["sample", "--checkpoint", "none.safetensors"], /none\.safetensors does not exist/],
  ["sample: a truncated checkpoint", ["sample", "--checkpoint", "truncated.safetensors"], /corrupt or truncated/],
  ["eval: not a safetensors file", ["eval", "jane.txt", "--checkpoint", "garbage.safetensors"], /corrupt or truncated/],
  ["sample: a folder as the checkpoint", ["sample", "--checkpoint", "afolder"], /is a folder/],
  // checkpoints: the data
  ["sample: a NaN weight", ["sample", "--checkpoint", "nan-weight.safetensors"], /"rnn\.weight_hh_l0" holds NaN at element 0/],
  ["eval: an infinite weight", ["eval", "jane.txt", "--checkpoint", "inf-head.safetensors"], /"head\.bias" holds Infinity/],
  ["export: a NaN weight", ["export", "--checkpoint", "nan-weight.safetensors", "--out", "m.safetensors"], /holds NaN/],
  ["export onnx: a NaN weight", ["export", "--checkpoint", "nan-weight.safetensors", "--out", "m.onnx"], /holds NaN/],
  ["surface: a NaN weight", ["surface", "--checkpoint", "nan-weight.safetensors", "--out", "s"], /holds NaN/],
  ["diagnose: a NaN weight", ["diagnose", "--checkpoint", "nan-weight.safetensors", "--out", "r.html"], /holds NaN/],
  [
    "import: a state dict with a NaN weight",
    ["import", "nan-state-dict.safetensors", "--out", "imp.safetensors"],
    /"rnn\.weight_hh_l0" holds NaN at element 5; a model with non-finite weights/,
  ],
  ["resume: NaN in Adam's state", resume("nan-adam"), /"optim\.exp_avg\.rnn\.bias_ih_l0" holds NaN/],
  ["resume: a negative running average of squares", resume("negative-adam"), /never negative/],
  ["resume: NaN in the carried state", resume("nan-state"), /"state\.h" holds NaN/],
  // checkpoints: the header
  ["eval: float weights relabelled I32", ["eval", "jane.txt", "--checkpoint", "i32-weights.safetensors"], /holds integers \(I32\)/],
  ["sample: a missing tensor", ["sample", "--checkpoint", "missing-tensor.safetensors"], /tensor "rnn\.weight_ih_l0" is missing/],
  ["sample: a tensor entry deleted from the header", ["sample", "--checkpoint", "hole.safetensors"], /corrupt or truncated \(tensor .* leaves a hole\)/],
  // checkpoints: the metadata
  ["sample: config {}", ["sample", "--checkpoint", "config-empty.safetensors"], /config\.model must be an object/],
  ["sample: config a list", ["sample", "--checkpoint", "config-list.safetensors"], /metadata config must be an object, is a list/],
  ["sample: config not JSON", ["sample", "--checkpoint", "config-garbage.safetensors"], /"config" is not valid JSON/],
  ["eval: batch 0", ["eval", "jane.txt", "--checkpoint", "batch0.safetensors"], /config\.train\.batch must be a whole number from 1/],
  ["eval: batch -1", ["eval", "jane.txt", "--checkpoint", "batch-neg.safetensors"], /config\.train\.batch must be a whole number from 1/],
  ["eval: k1 0", ["eval", "jane.txt", "--checkpoint", "k1-zero.safetensors"], /config\.train\.k1 must be a whole number from 1/],
  ["eval: k1 1e9", ["eval", "jane.txt", "--checkpoint", "k1-huge.safetensors"], /config\.train\.k1 must be a whole number from 1 to 1048576/],
  ["sample: a hidden size that is a string", ["sample", "--checkpoint", "hidden-string.safetensors"], /config\.model\.hiddenSize must be a whole number/],
  [
    "sample: a bit-flipped config key",
    ["sample", "--checkpoint", "flipped-key.safetensors"],
    /hiddenSizf" is not a setting rnnlab knows|config\.model\.hiddenSiz/,
  ],
  [
    "sample: a multi-character token in a character vocabulary",
    ["sample", "--checkpoint", "vocab-multichar.safetensors"],
    /entry 3 \("ab"\) is not one character/,
  ],
  ["sample: a vocabulary of the wrong size", ["sample", "--checkpoint", "vocab-short.safetensors"], /does not match the model's/],
  ["sample: another format", ["sample", "--checkpoint", "format-other.safetensors"], /not an rnnlab checkpoint/],
  ["sample: an unknown token kind", ["sample", "--checkpoint", "tokens-bytes.safetensors"], /"tokens" must be "chars" or "words"/],
  ["resume: run {}", resume("run-empty"), /run\.data must be an object/],
  ["resume: run a list", resume("run-list"), /metadata run must be an object, is a list/],
  ["resume: run not JSON", resume("run-garbage"), /"run" is not valid JSON/],
  ["resume: a bit-flipped run key", resume("run-flipped"), /run\.data\.valFraction must be a number/],
  ["resume: no run metadata", resume("run-missing"), /not a training checkpoint of rnnlab train/],
  ["resume: stats {}", resume("stats-empty"), /"stats"\.steps must be a whole number/],
  ["resume: a step that is a word", resume("step-word"), /"step" must be a whole number/],
  ["resume: a data position of 1e12", resume("position-huge"), /"data_position" must be a whole number from 20 to 20/],
  ["resume: more optimizer steps than steps", resume("optsteps-ahead"), /"optimizer_steps" must be a whole number from 0 to 20/],
  ["resume: an impossible RNG state", resume("rng-garbage"), /"rng" is not a generator state/],
  ["resume: a learning rate infinite in float32", resume("lr-inf32"), /config\.train\.lr must be a number > 0 .*float32/],
  // run folders
  ["train: resuming without --out", ["train", "--resume"], /--resume needs --out/],
  ["train: resuming a folder without a checkpoint", ["train", "--out", "afolder", "--resume"], /holds no checkpoint\.safetensors to resume/],
  ["train: a new run over an existing one", ["train", "jane.txt", "--out", "done"], /already holds a run; continue it with --resume/],
  [
    "train: a new run over a folder holding only best.safetensors",
    ["train", "jane.txt", "--out", "only-best"],
    /already holds files of an earlier run \(best\.safetensors\)/,
  ],
  [
    "train: a new run over a run killed before its first checkpoint",
    ["train", "jane.txt", "--out", "killed-early"],
    /already holds files of an earlier run \(metrics\.jsonl\)/,
  ],
  ["train: resuming with a setting changed", ["train", "--out", "done", "--resume", "--steps", "40", "--hidden", "64"], /--hidden 64 does not match/],
  [
    "train: resuming with another text",
    ["train", "short.txt", "--out", "done", "--resume", "--steps", "40"],
    /short\.txt is not the text the run in done was trained on/,
  ],
  [
    "train: resuming on the run's own metrics file",
    ["train", "done/metrics.jsonl", "--out", "done", "--resume", "--steps", "40"],
    /is done\/metrics\.jsonl, a file of the run itself/,
  ],
  // output paths
  ["diagnose: --out is the checkpoint", ["diagnose", "--checkpoint", ck, "--out", ck], /is the input file .* itself/],
  ["diagnose: --out is a hard link to the checkpoint", ["diagnose", "--checkpoint", ck, "--out", "hardlink.safetensors"], /is the input file .* itself/],
  ["export: --out is the checkpoint", ["export", "--checkpoint", ck, "--out", ck], /is the input file .* itself/],
  ["import: --out is the input", ["import", "done/best.safetensors", "--out", "done/best.safetensors"], /is the input file .* itself/],
  ["diagnose: --out is a folder", ["diagnose", "--checkpoint", ck, "--out", "afolder"], /--out afolder is a folder/],
  ["diagnose: --out under a missing folder", ["diagnose", "--checkpoint", ck, "--out", "missing/dir/r.html"], /folder missing\/dir does not exist/],
  ["export: --out under a file", ["export", "--checkpoint", ck, "--out", "jane.txt/m.onnx"], /jane\.txt is not a folder/],
  ["surface: --out under a missing folder", ["surface", "--out", "missing/s"], /folder missing does not exist/],
  ["train: --out is a file", ["train", "jane.txt", "--out", "jane.txt"], /--out jane\.txt is a file; give a folder/],
  ["train: --out under a file", ["train", "jane.txt", "--out", "jane.txt/run"], /jane\.txt is a file, not a folder/],
  [
    "experiment: --out is a file, found before the sweep",
    ["experiment", "clipping", "--out", "jane.txt", "--budget", "0.01"],
    /--out jane\.txt is a file; give a folder/,
  ],
  ["train: --out on a read-only file system", ["train", "jane.txt", "--out", "ro/run"], /cannot write in ro: the file system is read-only/, { mount: true }],
  ["diagnose: --out on a read-only file system", ["diagnose", "--checkpoint", ck, "--out", "ro/r.html"], /the file system is read-only/, { mount: true }],
  ["export: --out on a read-only file system", ["export", "--checkpoint", ck, "--out", "ro/m.safetensors"], /the file system is read-only/, { mount: true }],
  [
    "experiment: --out on a read-only file system, before the sweep",
    ["experiment", "clipping", "--out", "ro/exp", "--budget", "0.01"],
    /the file system is read-only/,
    { mount: true },
  ],
  [
    "train: a disk that fills up",
    ["train", "jane.txt", ...SMALL, "--hidden", "64", "--steps", "30", "--eval-every", "10", "--out", "full/run"],
    /cannot write full\/run\/.*: no space left on the device/,
    { mount: true },
  ],
  [
    "export: a disk that fills up",
    ["export", "--checkpoint", ck, "--out", "full/m.safetensors"],
    /cannot write full\/m\.safetensors: no space left on the device/,
    { mount: true },
  ],
  // resources
  [
    "train: a model too large for memory",
    ["train", "--hidden", "20000", "--out", "x"],
    /needs about [\d.]+ GiB, more than the 4 GiB rnnlab can use; .*at most hidden size [\d,]+ \(--hidden\)/,
  ],
  ["train: an embedding too large for memory", ["train", "--embed", "2000000", "--out", "x"], /at most embedding [\d,]+ \(--embed\) fits/],
  ["train: more threads than rnnlab can use", ["train", "jane.txt", "--threads", "33", "--batch", "64", "--out", "x"], /at most 32/],
  ["train: more threads than batch rows", ["train", "jane.txt", "--threads", "8", "--batch", "4", "--out", "x"], /more than the batch's 4 rows/],
  ["diagnose: a batch too large for memory", ["diagnose", "--checkpoint", ck, "--batch", "100000000", "--out", "r.html"], /more than the 4 GiB rnnlab can use/],
  ["task: a model too large for memory", ["task", "adding", "--hidden", "100000"], /at most --hidden [\d,]+ fits/],
  ["task: a held-out set too large for memory", ["task", "adding", "--eval-size", "100000000"], /100,000,000 held-out sequences\) needs about/],
  // standard output
  ["sample: standard output on a full device", ["sample", "--checkpoint", ck], /cannot write to standard output: no space left on the device/],
  ["--help: standard output on a full device", ["--help"], /cannot write to standard output: no space left on the device/],
  // found by trying: the run's own text is an input too, and other things that are not what they seem
  ["diagnose: --out is the run's text (no --text given)", ["diagnose", "--checkpoint", ck, "--out", "jane.txt"], /--out jane\.txt is the input file .* itself/],
  [
    "surface: --out names the run's text (no --text given)",
    ["surface", "--checkpoint", "svgrun/checkpoint.safetensors", "--out", "story", "--grid", "2"],
    /--out story\.svg is the input file .*story\.svg itself/,
  ],
  ["export: --out is a training checkpoint", ["export", "--checkpoint", "done/best.safetensors", "--out", ck], /is a training checkpoint of rnnlab train/],
  ["import: --out is a training checkpoint", ["import", "done/best.safetensors", "--out", ck], /is a training checkpoint of rnnlab train/],
  [
    "diagnose: --out is another run's best checkpoint",
    ["diagnose", "--checkpoint", ck, "--out", "done/best.safetensors"],
    /is a training checkpoint of rnnlab train/,
  ],
  ["train: a folder where the lock file goes", ["train", "jane.txt", ...SMALL, "--out", "lock-folder"], /lock-folder\/\.lock is not a lock file of rnnlab's/],
  ["train: a pipe as the text", ["train", "fifo.txt", "--out", "x"], /fifo\.txt is not a regular file \(a pipe or a device\)/],
  ["train: --momentum with adam", ["train", "jane.txt", "--momentum", "0.9", "--out", "x"], /--momentum is for --optimizer sgd and rmsprop/],
  ["resume: the trajectory is a file", [...resume("trajectory-file"), "--diagnose-every", "5"], /trajectory is not a folder/],
  ["resume: a vocabulary edited to another character", resume("vocab-emoji"), /metadata "vocab" is not the text's vocabulary/],
  ["sample: a lone surrogate in the vocabulary", ["sample", "--checkpoint", "vocab-surrogate.safetensors"], /entry 3 .* is not one character/],
  ["resume: a best step after the checkpoint's step", resume("best-after"), /run\.bestStep \(999\) is after the checkpoint's step 20/],
  [
    "import: --vocab is a folder",
    ["import", "done/best.safetensors", "--vocab", "afolder", "--out", "imp.safetensors"],
    /--vocab afolder is not a regular file/,
  ],
  [
    "import: __proto__ in --config",
    ["import", "done/best.safetensors", "--config", '{"__proto__":{"hiddenSize":3}}', "--out", "imp.safetensors"],
    /unknown key "__proto__"/,
  ],
  // classify
  ["classify train: a missing file", ["classify", "train", "nope.jsonl"], /data file nope\.jsonl does not exist/],
  ["classify train: an empty file", ["classify", "train", "empty.jsonl"], /data file empty\.jsonl is empty/],
  ["classify train: a binary file", ["classify", "train", "binary.bin"], /looks like a binary file/],
  [
    "classify train: a line that is not JSON",
    ["classify", "train", "not-json.jsonl"],
    /not-json\.jsonl: line 6 is not JSON .*\{"text": "\.\.\.", "label": "\.\.\."\}/,
  ],
  ["classify train: a line without a label", ["classify", "train", "no-label.jsonl"], /no-label\.jsonl: line 4 has no "label"/],
  ["classify train: a line without text", ["classify", "train", "no-text.jsonl"], /no-text\.jsonl: line 1 has no "text" string/],
  ["classify train: one class only", ["classify", "train", "one-class.jsonl"], /every example has the label "only"; a classifier needs two labels or more/],
  ["classify train: a CSV without the columns", ["classify", "train", "columns.csv"], /the CSV header has no "text" column \(it has "sentence", "category"\)/],
  ["classify train: a CSV with an unclosed quote", ["classify", "train", "unclosed.csv"], /unclosed\.csv is not a CSV file rnnlab can read \(Quote Not Closed/],
  ["classify train: a text with nothing to classify", ["classify", "train", "blank-text.jsonl"], /line 31 has no characters to classify/],
  ["classify train: too few examples to hold any out", ["classify", "train", "tiny.jsonl"], /4 examples are too few for a validation share of 0\.1/],
  ["classify train: --out is the data", ["classify", "train", "labelled.jsonl", "--out", "labelled.jsonl"], /is the input file .* itself/],
  ["classify train: --out is a training checkpoint", ["classify", "train", "labelled.jsonl", "--out", ck], /is a training checkpoint of rnnlab train/],
  ["classify train: --split-punctuation on characters", ["classify", "train", "labelled.jsonl", "--split-punctuation"], /add --tokens words/],
  [
    "classify train: no validation share",
    ["classify", "train", "labelled.jsonl", "--val-fraction", "0"],
    /expected a number > 0 and <= 0\.9 \(see npx rnnlab classify train --help\)/,
  ],
  [
    "classify train: an unknown option",
    ["classify", "train", "labelled.jsonl", "--hiden", "8"],
    /unknown option '--hiden' .*\(see npx rnnlab classify train --help\)/,
  ],
  [
    "classify predict: a language model's checkpoint",
    ["classify", "predict", "--checkpoint", ck, "hello"],
    /holds a language model, not a classifier: rnnlab sample and eval take it/,
  ],
  ["classify predict: a missing checkpoint", ["classify", "predict", "--checkpoint", "none.safetensors", "hello"], /none\.safetensors does not exist/],
  [
    "classify predict: nothing to classify",
    ["classify", "predict", "--checkpoint", "features-clf.safetensors"],
    /give the text to classify, a FILE of lines, or -/,
  ],
  [
    "classify predict: a classifier of features",
    ["classify", "predict", "--checkpoint", "features-clf.safetensors", "hi"],
    /a classifier of float features, which reads no text/,
  ],
  [
    "classify predict: a classifier of token ids saved without its vocabulary",
    ["classify", "predict", "--checkpoint", "no-vocab-clf.safetensors", "hi"],
    /a classifier of token ids without its vocabulary/,
  ],
  [
    "classify predict: a classifier of every step",
    ["classify", "predict", "--checkpoint", "per-step-clf.safetensors", "hi"],
    /labels every step of a sequence \(perStep\)/,
  ],
  ["classify predict: a folder as the input", ["classify", "predict", "--checkpoint", "text-clf.safetensors", "afolder"], /input afolder is a folder/],
  ["classify dataset: a text without speeches", ["classify", "dataset", "speakers", "--text", "jane.txt", "--out", "x"], /jane\.txt has no speeches/],
  ["classify dataset: an unknown data set", ["classify", "dataset", "poems"], /expected one of speakers \(see npx rnnlab classify dataset --help\)/],
  // the environment
  [
    "train: RNNLAB_KERNELS names no kernel set",
    ["train", "jane.txt", ...SMALL, "--out", "x"],
    /RNNLAB_KERNELS is "wasm-fast", which names no kernel set; set it to one of auto, wasm, wasm-exact, js, js-reference, or unset it/,
    { env: { RNNLAB_KERNELS: "wasm-fast" } },
  ],
  [
    "sample: RNNLAB_KERNELS names no kernel set",
    ["sample", "--checkpoint", ck],
    /RNNLAB_KERNELS is "JS", which names no kernel set/,
    { env: { RNNLAB_KERNELS: "JS" } },
  ],
  [
    "experiment: a usage error in its runs stops the sweep with the runs' own line",
    ["experiment", "clipping", "--variants", "rnn", "--lengths", "10", "--seeds", "3", "--budget", "0.2", "--out", "x"],
    /a run of the experiment stopped: RNNLAB_KERNELS is "simd", which names no kernel set/,
    { env: { RNNLAB_KERNELS: "simd" } },
  ],
  [
    "experiment context: a usage error in its runs stops the sweep",
    ["experiment", "context", "--models", "rnn", "--budget", "0.1", "--out", "x"],
    /a run of the experiment stopped: RNNLAB_KERNELS is "simd"/,
    { env: { RNNLAB_KERNELS: "simd" } },
  ],
  [
    "experiment: a sweep of a billion runs",
    ["experiment", "clipping", "--seeds", "1000000000", "--variants", "rnn", "--lengths", "10"],
    /more than one sweep takes/,
  ],
];

describe("mistakes: one line, exit status 2, nothing changed", () => {
  it("the catalogue has at least 60 cases", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(60);
  });
  for (const [what, args, message, o] of CASES) {
    it(what, (ctx) => {
      if (o?.mount && !mounted) ctx.skip();
      const before = tree(dir);
      const toFull = what.includes("standard output on a full device");
      const r = toFull
        ? spawnSync("sh", ["-c", `"${process.execPath}" "${BIN}" ${args.map((a) => `'${a}'`).join(" ")} > /dev/full`], { cwd: dir, encoding: "utf8" })
        : o?.env
          ? spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: "utf8", env: { ...process.env, FORCE_COLOR: "0", ...o.env } })
          : rnnlab(dir, ...args);
      expect(r.status, r.stderr + r.stdout.slice(-300)).toBe(o?.status ?? 2);
      expect(isOneLineError(r.stderr), r.stderr).toBe(true);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at |internal error/);
      const after = tree(dir);
      // what existed before is unchanged; anything new is inside a folder the command made (a run folder)
      for (const [p, h] of before) expect(after.get(p), `${p} changed`).toBe(h);
      const made = [...after.keys()].filter((p) => p.endsWith("/") && !before.has(p));
      for (const p of after.keys())
        if (!before.has(p))
          expect(
            made.some((d) => p.startsWith(d)),
            `${p} was left behind`,
          ).toBe(true);
      expect(existsSync(join(dir, "x"))).toBe(false);
    });
  }
});

describe("closed pipes, signals and killed runs", () => {
  it("sample | head -c 10: exit 0, nothing on stderr, generation stops", () => {
    const s = spawnSync(
      "bash",
      ["-c", `"${process.execPath}" "${BIN}" sample --checkpoint ${ck} --length 2000000 | head -c 10 > /dev/null; echo \${PIPESTATUS[0]}`],
      { cwd: dir, encoding: "utf8", timeout: 60_000 },
    );
    expect(s.stdout.trim()).toBe("0");
    expect(s.stderr).toBe("");
  });

  it("eval | true: exit 0, nothing on stderr", () => {
    const s = spawnSync("bash", ["-c", `"${process.execPath}" "${BIN}" eval jane.txt --checkpoint ${ck} | true; echo \${PIPESTATUS[0]}`], {
      cwd: dir,
      encoding: "utf8",
    });
    expect(s.stdout.trim()).toBe("0");
    expect(s.stderr).toBe("");
  });

  it("train | head -1: training goes on and saves its checkpoint", () => {
    const s = spawnSync(
      "bash",
      [
        "-c",
        `"${process.execPath}" "${BIN}" train jane.txt ${SMALL.join(" ")} --steps 120 --eval-every 40 --out piped | head -1 > /dev/null; echo \${PIPESTATUS[0]}`,
      ],
      { cwd: dir, encoding: "utf8" },
    );
    expect(s.stdout.trim()).toBe("0");
    expect(s.stderr).toBe("");
    const { metadata } = decodeSafetensors(readFileSync(join(dir, "piped", "checkpoint.safetensors")));
    expect(metadata.step).toBe("120");
    expect(
      readFileSync(join(dir, "piped", "metrics.jsonl"), "utf8")
        .trim()
        .split("\n"),
    ).toHaveLength(120);
  });

  it("a killed run's temporary files are removed when the run resumes, and its lock is taken over", () => {
    mkdirSync(join(dir, "killed"));
    const made = rnnlab(dir, "train", "jane.txt", ...SMALL, "--steps", "20", "--eval-every", "10", "--out", "killed");
    expect(made.status, made.stderr).toBe(0);
    // what a SIGKILL in the middle of a write leaves: a temporary file, and the lock of a process that is gone
    writeFileSync(join(dir, "killed", ".checkpoint.safetensors.tmp-999999"), "half a checkpoint");
    writeFileSync(join(dir, "killed", ".lock"), "999999\n");
    const r = rnnlab(dir, "train", "--out", "killed", "--resume", "--steps", "30");
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(join(dir, "killed")).sort()).toEqual(["best.safetensors", "checkpoint.safetensors", "metrics.jsonl"]);
  });

  it("SIGTERM saves the checkpoint as Ctrl-C does: exit 130, and --resume continues", async () => {
    const p = rnnlabAsync(dir, "train", "jane.txt", ...SMALL, "--steps", "100000", "--out", "termed");
    const metrics = join(dir, "termed", "metrics.jsonl");
    for (let i = 0; i < 3000 && !(existsSync(metrics) && readFileSync(metrics, "utf8").length > 2000); i++) await new Promise((r) => setTimeout(r, 10));
    p.kill("SIGTERM");
    expect(await exited(p)).toBe(130);
    const { metadata } = decodeSafetensors(readFileSync(join(dir, "termed", "checkpoint.safetensors")));
    const r = rnnlab(dir, "train", "--out", "termed", "--resume", "--steps", String(Number(metadata.step) + 3));
    expect(r.status, r.stderr).toBe(0);
  });

  it("experiment: runs too short to be evaluated still make a table (no crash on a missing test loss)", () => {
    const r = rnnlab(dir, "experiment", "clipping", "--lengths", "10", "--budget", "1e-9", "--variants", "rnn", "--out", "tiny-exp");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(readdirSync(join(dir, "tiny-exp")).sort()).toEqual(["results.json", "success.png", "success.svg", "table.md"]);
  });

  it("experiment: SIGTERM stops its task processes too, exit 130, no table", async () => {
    const p = rnnlabAsync(dir, "experiment", "clipping", "--lengths", "200", "--budget", "5", "--variants", "rnn,lstm", "--out", "stopped-exp");
    const kids = () =>
      spawnSync("pgrep", ["-P", String(p.pid)], { encoding: "utf8" })
        .stdout.trim()
        .split("\n")
        .filter(Boolean)
        .map(Number);
    let seen: number[] = [];
    for (let i = 0; i < 1000 && seen.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      seen = kids();
    }
    expect(seen.length).toBeGreaterThan(0);
    p.kill("SIGTERM");
    expect(await exited(p)).toBe(130);
    await new Promise((r) => setTimeout(r, 500));
    // gone, or a zombie that its new parent has not reaped (state Z): no longer running
    const running = (pid: number) => {
      try {
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
      } catch {
        return false;
      }
    };
    for (const pid of seen) expect(running(pid), `task process ${pid} still runs`).toBe(false);
    expect(existsSync(join(dir, "stopped-exp"))).toBe(false);
  });

  it("a resumed run keeps its --diagnose-every", () => {
    const made = rnnlab(dir, "train", "jane.txt", ...SMALL, "--steps", "10", "--eval-every", "5", "--diagnose-every", "5", "--out", "diag-kept");
    expect(made.status, made.stderr).toBe(0);
    const r = rnnlab(dir, "train", "--out", "diag-kept", "--resume", "--steps", "20");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/diagnostics at step 15/);
    expect(readdirSync(join(dir, "diag-kept", "trajectory"))).toContain("step-00000020.safetensors");
  });
});
