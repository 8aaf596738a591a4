#!/usr/bin/env node
// The rnnlab command line. One file per command lives beside this one; this file only wires them.
// Every failure goes through one error boundary (boundary.ts): a user's mistake or a system
// failure ends with one line on stderr and exit status 2, never a stack trace.

import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { allowRelaxedSimd } from "../node/relaxed-simd.js";
import { reportFailure } from "./boundary.js";
import { guardOutput, stdoutError, stdoutFailure } from "./output.js";
import { classifyCommand } from "./classify.js";
import { diagnoseCommand } from "./diagnose.js";
import { evalCommand } from "./eval.js";
import { experimentCommand } from "./experiment.js";
import { exportCommand } from "./export.js";
import { importCommand } from "./import.js";
import { labCommand } from "./lab.js";
import { probeCommand } from "./probe.js";
import { sampleCommand } from "./sample.js";
import { surfaceCommand } from "./surface.js";
import { taskCommand } from "./task.js";
import { trainCommand } from "./train.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

/** commander's messages, folded into one line with a pointer to --help. */
function oneLine(s: string, cmd: Command): string {
  const text = s
    .replace(/^error: /, "")
    .replace(/\s*\n\s*/g, " ")
    .trim();
  // the command's whole path, e.g. "rnnlab classify train"
  const path: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) path.unshift(c.name());
  return `rnnlab: ${text} (see ${path.join(" ")} --help)\n`;
}

function configure(cmd: Command): Command {
  cmd
    .exitOverride()
    .showHelpAfterError(false)
    .configureOutput({ outputError: (s, write) => write(oneLine(s, cmd)) });
  for (const sub of cmd.commands) configure(sub);
  return cmd;
}

export function buildProgram(): Command {
  const program = new Command()
    .name("rnnlab")
    .description("Recurrent neural networks you can train, look inside and ship.")
    .version(pkg.version)
    .addCommand(trainCommand())
    .addCommand(sampleCommand())
    .addCommand(evalCommand())
    .addCommand(taskCommand())
    .addCommand(experimentCommand())
    .addCommand(surfaceCommand())
    .addCommand(diagnoseCommand())
    .addCommand(exportCommand())
    .addCommand(importCommand())
    .addCommand(labCommand())
    .addCommand(classifyCommand())
    .addCommand(probeCommand());
  return configure(program);
}

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
