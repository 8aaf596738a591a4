// A training run's folder on disk (rnnlab train --out DIR): what is in it, the checks made before
// a run writes there, and the writing itself: checkpoint.safetensors, best.safetensors,
// metrics.jsonl (one JSON line per step and per diagnosis) and trajectory/step-N.safetensors.
// Every checkpoint is written atomically and never with a non-finite number (node/checkpoint.ts).

import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { encodeSafetensors } from "../io/safetensors.js";
import type { CheckpointEvent } from "../train/session.js";
import { writeCheckpoint } from "./checkpoint.js";
import { Appender, InputError, makeFolder, sameFile, writeFileAtomic } from "./files.js";

/** The files of a run folder: a fresh run writes none of them where they exist. */
export const RUN_FILES = ["checkpoint.safetensors", "best.safetensors", "metrics.jsonl", "trajectory"] as const;

export class RunFolder {
  readonly checkpoint: string;
  readonly best: string;
  readonly metrics: string;
  readonly trajectory: string;
  private appender: Appender | null = null;

  constructor(readonly dir: string) {
    this.checkpoint = join(dir, "checkpoint.safetensors");
    this.best = join(dir, "best.safetensors");
    this.metrics = join(dir, "metrics.jsonl");
    this.trajectory = join(dir, "trajectory");
  }

  /** The files of an earlier run here (an empty metrics.jsonl, from a run killed at its start, holds nothing to lose). */
  earlier(): string[] {
    if (!existsSync(this.dir)) return [];
    return RUN_FILES.filter((f) => existsSync(join(this.dir, f)) && !(f === "metrics.jsonl" && statSync(join(this.dir, f)).size === 0));
  }

  /** The run's files are what they should be (files, and a trajectory folder): checked before any training. */
  checkKinds(): void {
    for (const f of RUN_FILES) {
      const st = lstatSync(join(this.dir, f), { throwIfNoEntry: false });
      if (!st) continue;
      const folder = f === "trajectory";
      if (folder ? !st.isDirectory() : !st.isFile()) {
        throw new InputError(
          `${join(this.dir, f)} is not a ${folder ? "folder" : "regular file"}, so the run cannot write it; move it away, or choose another --out`,
        );
      }
    }
  }

  /** A resumed run rewrites its folder's files: the text it reads must be none of them. */
  checkNotOurs(path: string): void {
    const ours: string[] = RUN_FILES.map((f) => join(this.dir, f));
    if (existsSync(this.trajectory)) {
      try {
        for (const f of readdirSync(this.trajectory)) ours.push(join(this.trajectory, f));
      } catch {
        // unreadable: nothing of it is rewritten either
      }
    }
    for (const f of ours) {
      if (existsSync(f) && existsSync(path) && sameFile(path, f))
        throw new InputError(`the text ${path} is ${f}, a file of the run itself; pass the text the run was trained on`);
    }
  }

  /**
   * Rewrites metrics.jsonl keeping only the lines of steps up to `step` (a resumed run writes the
   * rest again); returns the pre-clip gradient norms of the steps kept, for the clipping statistics.
   */
  truncateMetrics(step: number): number[] {
    if (!existsSync(this.metrics)) return [];
    const norms: number[] = [];
    const keep = readFileSync(this.metrics, "utf8")
      .split("\n")
      .filter((line) => {
        try {
          const rec = JSON.parse(line) as { step: number; kind?: string; grad_norm?: number };
          if (rec.step > step) return false;
          if (rec.kind === undefined && typeof rec.grad_norm === "number") norms.push(rec.grad_norm);
          return true;
        } catch {
          return false; // a line cut short by a kill
        }
      });
    writeFileAtomic(this.metrics, keep.map((l) => `${l}\n`).join(""));
    return norms;
  }

  /** Appends a record to metrics.jsonl as one JSON line (opened on first use). */
  append(record: object): void {
    this.appender ??= new Appender(this.metrics);
    this.appender.write(`${JSON.stringify(record)}\n`);
  }

  /** Writes what a session hands over: the checkpoint, the best weights, or a trajectory snapshot. */
  write(e: CheckpointEvent): void {
    if (e.kind === "checkpoint") writeCheckpoint(this.checkpoint, e.snapshot);
    else if (e.kind === "best") writeCheckpoint(this.best, e.snapshot);
    else {
      // the weights, for the loss surface's trajectory (rnnlab surface --checkpoint)
      makeFolder(this.trajectory);
      writeFileAtomic(join(this.trajectory, `step-${String(e.step).padStart(8, "0")}.safetensors`), encodeSafetensors(e.snapshot.tensors, e.snapshot.metadata));
    }
  }

  close(): void {
    this.appender?.close();
    this.appender = null;
  }
}
