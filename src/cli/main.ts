#!/usr/bin/env node
// The rnnlab command line. One file per command lives beside this one; this file only wires them.
// Every failure goes through one error boundary (boundary.ts): a user's mistake or a system
// failure ends with one line on stderr and exit status 2, never a stack trace.

import { CommanderError } from "commander";
import { allowRelaxedSimd } from "../node/relaxed-simd.js";
import { reportFailure } from "./boundary.js";
import { guardOutput, stdoutError, stdoutFailure } from "./output.js";
import { buildProgram } from "./program.js";

export { buildProgram };

export async function main(argv: string[]): Promise<number> {
  guardOutput();
  allowRelaxedSimd(); // the kernels' fused multiply-add build (RNNLAB_KERNELS=wasm-exact keeps the exact one)
  const program = buildProgram();
  try {
    if (argv.length === 0) program.outputHelp();
    else await program.parseAsync(argv, { from: "user" });
  } catch (e) {
    if (!(e instanceof CommanderError)) return reportFailure(e);
    if (e.code !== "commander.helpDisplayed" && e.code !== "commander.version" && e.code !== "commander.help") return 2; // commander has printed its one-line error
  }
  // a failed write to stdout is reported as an event after the write: let it arrive
  await new Promise((resolve) => setImmediate(resolve));
  const failed = stdoutFailure();
  if (failed) return reportFailure(stdoutError(failed));
  return typeof process.exitCode === "number" ? process.exitCode : 0;
}

// whatever escapes the commands' own flow (an error event, a worker thread) ends in the same boundary
const fatal = (e: unknown) => {
  process.exit(reportFailure(e));
};
process.on("uncaughtException", fatal);
process.on("unhandledRejection", fatal);
// Ctrl-C and SIGTERM keep their default, ending the process at once even inside a long
// synchronous loop (a JavaScript handler would run only when the loop yields); the commands
// that save work first (train, experiment, lab) install their own handlers.

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
