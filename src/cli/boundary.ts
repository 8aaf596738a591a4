// The CLI's error boundary: what any failure of a command becomes. Every failure that is not a
// bug in rnnlab (a user's file, option, path or checkpoint; a full disk; a closed pipe; a model
// that does not fit) is one line on stderr and exit status 2. Standard output closed by its
// reader ends the command quietly with status 0. Anything else is a bug: one line asking for a
// report, exit status 1, and the stack trace only with RNNLAB_DEBUG=1.
//
// Exit statuses: 0 success; 1 the command ran and did not succeed (training stopped at a
// non-finite step, a task not solved in its budget) or an internal error; 2 a usage error or a
// system failure; 130 interrupted (Ctrl-C).

import { CheckpointError, InputError, ResourceError } from "../errors.js";
import { errnoOf, whyOf } from "../node/files.js";
import { SafetensorsError } from "../io/safetensors.js";
import { StateDictError } from "../io/statedict.js";
import { StdoutClosed } from "./output.js";

/** One line: newlines folded, at most 600 characters. */
function oneLine(s: string): string {
  const t = s.replace(/\s*\n\s*/g, " ").trim();
  return t.length > 600 ? `${t.slice(0, 597)}...` : t;
}

/** Allocation failures of the runtime (typed arrays, WebAssembly memory). */
const OUT_OF_MEMORY =
  /Array buffer allocation failed|Invalid typed array length|Invalid array buffer length|WebAssembly\.Memory(\.grow)?\(\)|Out of memory|Maximum memory size/i;

/** What a failure becomes: the line to print (null: none) and the exit status. */
export function describeFailure(e: unknown): { line: string | null; status: number } {
  if (e instanceof StdoutClosed) return { line: null, status: 0 };
  if (e instanceof InputError || e instanceof CheckpointError || e instanceof ResourceError || e instanceof SafetensorsError || e instanceof StateDictError) {
    return { line: `rnnlab: ${oneLine(e.message)}`, status: 2 };
  }
  const code = errnoOf(e);
  if (code) {
    const err = e as NodeJS.ErrnoException;
    if (code === "EPIPE" && (err.syscall === "write" || !err.path)) return { line: null, status: 0 };
    const what = err.path ? `${err.syscall ?? "use"} ${err.path}` : (err.syscall ?? "complete a system call");
    return { line: `rnnlab: cannot ${what}: ${whyOf(e)}; check the path and the disk, or choose another place`, status: 2 };
  }
  if (e instanceof RangeError && OUT_OF_MEMORY.test(e.message)) {
    return { line: `rnnlab: out of memory (${oneLine(e.message)}); use a smaller model (--hidden, --layers, --embed) or batch (--batch, --seq)`, status: 2 };
  }
  const message = e instanceof Error ? `${e.name === "Error" ? "" : `${e.name}: `}${e.message}` : String(e);
  return {
    line: `rnnlab: internal error: ${oneLine(message)}; this is a bug in rnnlab: please report it with the command you ran (RNNLAB_DEBUG=1 shows where it happened)`,
    status: 1,
  };
}

/** Prints a failure as describeFailure says (plus the stack trace with RNNLAB_DEBUG=1); returns the exit status. */
export function reportFailure(e: unknown): number {
  const { line, status } = describeFailure(e);
  try {
    if (process.env.RNNLAB_DEBUG === "1" && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    if (line !== null && !process.stderr.errored) process.stderr.write(`${line}\n`);
  } catch {
    // stderr is gone too: the exit status still tells
  }
  return status;
}
