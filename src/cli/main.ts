#!/usr/bin/env node
// The rnnlab command line. One file per command lives beside this one; this file only wires them.
// A user's mistake ends with one line on stderr and exit status 2, never a stack trace.

import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

export function buildProgram(): Command {
  const program = new Command();
  program
    .name("rnnlab")
    .description("Recurrent neural networks you can train, look inside and ship.")
    .version(pkg.version)
    .showHelpAfterError(false)
    .exitOverride();
  return program;
}

export function main(argv: string[]): number {
  const program = buildProgram();
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return 0;
    }
    program.parse(argv, { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version") return 0;
      return 2; // commander has already printed its one-line error
    }
    throw e;
  }
}

process.exitCode = main(process.argv.slice(2));
