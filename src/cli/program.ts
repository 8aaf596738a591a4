// The rnnlab command line's command tree: every command, configured to fold commander's errors into
// one line. Importing it runs nothing (main.ts runs it; tools/cli-docs.ts documents it).

import { readFileSync } from "node:fs";
import { Command } from "commander";
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
import { rnnlab } from "./invocation.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

/** commander's messages, folded into one line with a pointer to --help. */
function oneLine(s: string, cmd: Command): string {
  const text = s
    .replace(/^error: /, "")
    .replace(/\s*\n\s*/g, " ")
    .trim();
  // the command's whole path after rnnlab, e.g. "classify train"
  const path: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) path.unshift(c.name());
  return `rnnlab: ${text} (see ${rnnlab([...path, "--help"].join(" "))})\n`;
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
