// docs/cli.md is generated from the commands' own definitions (tools/cli-docs.ts, run by
// `npm run docs`): the committed page must be what the generator makes from src/cli now, and the
// generator must not drop anything a definition holds.

import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { CLI_MD, cliMarkdown, loadBuildProgram } from "../../tools/cli-docs.js";

const buildProgram = await loadBuildProgram();
const generated = cliMarkdown(buildProgram());

/** Every command commander would list in a help, with its path, found without the generator's own walk. */
function everyCommand(cmd: Command, path = cmd.name()): [string, Command][] {
  const subs = cmd
    .createHelp()
    .visibleCommands(cmd)
    .filter((s) => cmd.commands.includes(s));
  return [[path, cmd], ...subs.flatMap((s) => everyCommand(s, `${path} ${s.name()}`))];
}

describe("docs/cli.md", () => {
  it("is what the command definitions say now", () => {
    const committed = readFileSync(CLI_MD, "utf8");
    expect(committed, "docs/cli.md differs from the command definitions in src/cli: run `npm run docs` and commit docs/cli.md").toBe(generated);
  });

  it("documents every command, argument and visible option", () => {
    const commands = everyCommand(buildProgram());
    expect(commands.map(([path]) => path)).toContain("rnnlab classify train"); // the walk reaches subcommands
    const missing: string[] = [];
    for (const [path, cmd] of commands) {
      const start = generated.indexOf(`\n## ${path}\n`);
      if (start < 0) {
        missing.push(`section ${path}`);
        continue;
      }
      const end = generated.indexOf("\n## ", start + 1);
      const section = generated.slice(start, end < 0 ? undefined : end);
      for (const o of cmd.options) if (!o.hidden && !section.includes(`| \`${o.flags}\` |`)) missing.push(`${path} ${o.flags}`);
      for (const a of cmd.registeredArguments) if (!section.includes(`${a.name()}`)) missing.push(`${path} ${a.name()}`);
    }
    expect(missing).toEqual([]);
  });

  it("holds nothing of the machine it was made on", () => {
    // a walk that printed computed values could pick up paths (the repository's, the home folder)
    for (const path of [process.cwd(), homedir()].filter((p) => p.length > 1)) expect(generated).not.toContain(path);
  });
});
