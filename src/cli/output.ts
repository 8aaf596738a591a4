// Standard output for the commands, safe when its reader goes away. `rnnlab sample | head -c 10`
// closes the pipe after ten bytes: the next write fails with EPIPE, and Node would report it as
// an unhandled 'error' event. Here a write after the reader has gone throws StdoutClosed, which
// the error boundary turns into a quiet exit 0 (the reader has what it wanted); `say` instead
// drops the text, for `rnnlab train`, whose training must go on and save its checkpoints.

import { errnoOf, InputError, whyOf } from "../node/files.js";

/** Thrown by `out` once standard output has no reader: the command should end quietly. */
export class StdoutClosed extends Error {
  constructor() {
    super("standard output was closed by its reader");
    this.name = "StdoutClosed";
  }
}

let failure: NodeJS.ErrnoException | null = null;
let installed = false;

/** Listens for stdout/stderr errors (call once, first thing): they are recorded, never thrown as events. */
export function guardOutput(): void {
  if (installed) return;
  installed = true;
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    failure ??= e;
  });
  process.stderr.on("error", () => {
    // nowhere left to report to
  });
}

/** The error standard output failed with (EPIPE: the reader has gone), or null. */
export function stdoutFailure(): NodeJS.ErrnoException | null {
  return failure ?? (process.stdout.errored as NodeJS.ErrnoException | null) ?? null;
}

/** The error to end a command with after a failed write to standard output. */
export function stdoutError(e: NodeJS.ErrnoException): Error {
  if (errnoOf(e) === "EPIPE") return new StdoutClosed();
  return new InputError(`cannot write to standard output: ${whyOf(e)}; write elsewhere`);
}

/** Writes to standard output; throws StdoutClosed (or an InputError, e.g. a full disk) once it has failed. */
export function out(s: string): void {
  const f = stdoutFailure();
  if (f) throw stdoutError(f);
  process.stdout.write(s);
}

/** Writes to standard output while it works, and silently drops the text once it has failed. */
export function say(s: string): void {
  if (stdoutFailure()) return;
  process.stdout.write(s);
}

/** Writes to standard error (never throws). */
export function warn(s: string): void {
  if (process.stderr.errored) return;
  process.stderr.write(s);
}
