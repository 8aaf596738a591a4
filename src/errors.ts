// The errors rnnlab throws on purpose, platform-neutral. Each names what is wrong and how to fix
// it in one line. The CLI's error boundary (cli/boundary.ts) prints them as `rnnlab: <message>`
// and exits with status 2; anything else that escapes a command is a bug in rnnlab (exit 1).
//
//   InputError       a user's file, option or path is unusable (missing, corrupt, unwritable, ...)
//   CheckpointError  a snapshot is not rnnlab's, is corrupt, or does not match its own config
//   ResourceError    what was asked for does not fit (memory, threads)
//
// Training that meets non-finite numbers throws train/trainer.ts's NonFiniteError instead: not a
// mistake in the input but a run that diverged (the CLI exits with status 1 and says so).

/** A problem with a user's file, option or path, reported as one line (the CLI exits with status 2). */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InputError";
  }
}

/** A snapshot that cannot be used (not rnnlab's, corrupt, poisoned, or not matching its own config). */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CheckpointError";
  }
}

/** A request that does not fit this machine or runtime (memory, threads); the message says what fits. */
export class ResourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ResourceError";
  }
}

/** The largest float32 value; learning rates and thresholds must stay below it to be finite in float32. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/** Whether `x` survives rounding to float32: finite there, and not flushed to 0 unless it is 0. */
export function finiteInFloat32(x: number): boolean {
  const f = Math.fround(x);
  return Number.isFinite(f) && (f !== 0 || x === 0);
}
