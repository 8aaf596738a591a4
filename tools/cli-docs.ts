// Writes docs/cli.md, the reference of every rnnlab command and option, from the commands' own
// commander definitions (src/cli/*.ts), so the page cannot drift from `rnnlab <command> --help`.
// Run by `npm run docs` (`tsx tools/cli-docs.ts`); test/docs/cli-docs.test.ts fails when the
// committed page differs from what cliMarkdown() makes now.
//
// It reads only what the definitions hold (names, descriptions, arguments, options, help texts),
// never a value computed on this machine: an option whose description states its default, e.g.
// "(default: all cores)", is documented with that statement, not with the number of cores here.

import type { EventEmitter } from "node:events";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Argument, Command, Help, Option } from "commander";

/** Where the page goes: docs/cli.md at the repository's root. */
export const CLI_MD = fileURLToPath(new URL("../docs/cli.md", import.meta.url));

/** The CLI's buildProgram (src/cli/program.ts: importing it runs nothing). */
export async function loadBuildProgram(): Promise<() => Command> {
  return (await import("../src/cli/program.js")).buildProgram;
}

/** The commands to document, the program first, then depth first in definition order (hidden ones and commander's implicit `help` left out). */
export function walkCommands(program: Command): Command[] {
  const all: Command[] = [];
  const visit = (cmd: Command) => {
    all.push(cmd);
    const visible = new Set(cmd.createHelp().visibleCommands(cmd));
    for (const sub of cmd.commands) if (visible.has(sub)) visit(sub);
  };
  visit(program);
  return all;
}

/** The options documented for a command: every defined option but hidden ones (commander's implicit -h, --help is not among `cmd.options`). */
export function documentedOptions(cmd: Command): Option[] {
  return cmd.options.filter((o) => !o.hidden);
}

/** The command's path as a user types it, e.g. "rnnlab classify train". */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

// A default a description states itself, at its end: "... (default: all cores)" or "... (default 17)".
const STATED_DEFAULT = /\s*\(default:?\s+([^()]*)\)\s*$/;

/** Splits a description into its text and the default it states at its end, if any. */
function splitStatedDefault(description: string): { text: string; stated: string | undefined } {
  const m = STATED_DEFAULT.exec(description);
  return m ? { text: description.slice(0, m.index), stated: m[1].trim() } : { text: description, stated: undefined };
}

/** A default value as a user would type it: lists (and ranges) comma-separated, the rest as is. */
function formatValue(v: unknown): string {
  if (Array.isArray(v)) return v.map(formatValue).join(",");
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

/**
 * What a value must be: the choices commander knows (`.choices()`), or else what the option's own
 * parser says when it rejects a value ("expected a whole number >= 1" gives "a whole number >= 1").
 * The parsers are pure functions of their argument, so asking them is safe.
 */
function accepted(o: Option | Argument): string {
  if (o.argChoices) return `one of ${o.argChoices.join(", ")}`;
  if (!o.parseArg) return "";
  try {
    o.parseArg("\u0000", undefined);
  } catch (e) {
    if ((e as { code?: string }).code === "commander.invalidArgument") return (e as Error).message.replace(/^expected /, "");
  }
  return "";
}

/**
 * Text for Markdown outside code: one line, with what Markdown or a table would take as syntax
 * escaped: backslashes, backticks, asterisks, pipes, `<` (as `&lt;`, or `<unk>` vanishes as an HTML
 * tag), `_` unless inside a word (GitHub's Markdown never reads those as emphasis), and `]` before
 * `(` or `[` (a link).
 */
function md(s: string): string {
  return s
    .replace(/\s+/g, " ")
    .trim()
    .replace(/[\\`*|]/g, "\\$&")
    .replace(/(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])/gu, "\\_")
    .replace(/\](?=[([])/g, "\\]")
    .replace(/</g, "&lt;");
}

/** A code span that holds any text (backticks inside get a longer fence); pipes escaped for tables. */
function code(s: string): string {
  const fence = s.includes("`") ? "``" : "`";
  const pad = s.includes("`") ? " " : "";
  return `${fence}${pad}${s.replace(/\|/g, "\\|")}${pad}${fence}`;
}

/** GitHub's anchor for a heading of plain words. */
function anchor(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");
}

/** The texts added with `addHelpText` for one position ("before", "after", ...), as commander would print them. */
function helpTexts(cmd: Command, position: "beforeAll" | "before" | "after" | "afterAll"): string {
  // commander keeps them as listeners of the `${position}Help` event (Command is an EventEmitter; its typings show only `on`)
  let text = "";
  const write = (s: string) => {
    text += s;
  };
  for (const listener of (cmd as unknown as EventEmitter).listeners(`${position}Help`)) listener({ error: false, command: cmd, write });
  return text.replace(/^\n+|\s+$/g, "");
}

function argumentsSection(cmd: Command, help: Help): string[] {
  const args = help.visibleArguments(cmd);
  if (args.length === 0) return [];
  const lines = ["**Arguments**", "", "| Argument | What it is | Default | Values |", "| --- | --- | --- | --- |"];
  for (const a of args) {
    const shown = a.variadic ? `${a.name()}...` : a.name();
    const name = a.required ? `<${shown}>` : `[${shown}]`;
    const { text, stated } = splitStatedDefault(a.description);
    const dflt = a.required ? "required" : (stated ?? (a.defaultValueDescription || (a.defaultValue === undefined ? "" : formatValue(a.defaultValue))));
    lines.push(`| ${code(name)} | ${md(text)} | ${md(dflt)} | ${md(accepted(a))} |`);
  }
  return [...lines, ""];
}

function optionsSection(cmd: Command): string[] {
  const options = documentedOptions(cmd);
  if (options.length === 0) return [];
  const lines = ["**Options**", "", "| Option | What it does | Default | Values |", "| --- | --- | --- | --- |"];
  for (const o of options) {
    const { text, stated } = splitStatedDefault(o.description);
    let dflt = stated ?? (o.defaultValueDescription || (o.defaultValue === undefined ? "" : formatValue(o.defaultValue)));
    if (o.mandatory) dflt = dflt ? `required; ${dflt}` : "required";
    const extra = [o.envVar ? `environment: ${o.envVar}` : "", o.presetArg !== undefined ? `without a value: ${formatValue(o.presetArg)}` : ""];
    const values = [accepted(o), ...extra].filter(Boolean).join("; ");
    lines.push(`| ${code(o.flags)} | ${md(text)} | ${md(dflt)} | ${md(values)} |`);
  }
  return [...lines, ""];
}

function commandSection(cmd: Command): string[] {
  const help = cmd.createHelp();
  const heading = commandPath(cmd);
  const lines = [`## ${heading}`, "", "```text", help.commandUsage(cmd), "```", ""];
  const aliases = cmd.aliases();
  if (aliases.length > 0) lines.push(`Also called: ${aliases.map(code).join(", ")}.`, "");
  if (cmd.description()) lines.push(md(cmd.description()), "");
  const subs = help.visibleCommands(cmd).filter((s) => cmd.commands.includes(s));
  if (subs.length > 0) {
    lines.push("**Commands**", "", "| Command | What it does |", "| --- | --- |");
    for (const s of subs) lines.push(`| [${md(commandPath(s))}](#${anchor(commandPath(s))}) | ${md(s.summary() || s.description())} |`);
    lines.push("");
  }
  lines.push(...argumentsSection(cmd, help), ...optionsSection(cmd));
  const positions = [
    ["beforeAll", "Shown before the help of this command and every command under it:"],
    ["before", "Shown before the help:"],
    ["after", "Shown after the help:"],
    ["afterAll", "Shown after the help of this command and every command under it:"],
  ] as const;
  for (const [position, label] of positions) {
    const text = helpTexts(cmd, position);
    if (text) lines.push(label, "", "```text", text, "```", "");
  }
  return lines;
}

/** The whole of docs/cli.md for a program: title, how it is made, contents, then one section per command. */
export function cliMarkdown(program: Command): string {
  const commands = walkCommands(program);
  const name = program.name();
  const lines = [
    `# ${name} command line`,
    "",
    "This page is generated by `npm run docs` (tools/cli-docs.ts) from the commands' own definitions in src/cli/, " +
      `the same ones \`${name} <command> --help\` prints; do not edit it by hand. ` +
      "A test (test/docs/cli-docs.test.ts) fails when it differs from the definitions. " +
      "Every command also takes `-h, --help`.",
    "",
    "## Contents",
    "",
  ];
  for (const cmd of commands) {
    const depth = commandPath(cmd).split(" ").length - 1;
    lines.push(`${"  ".repeat(depth)}- [${commandPath(cmd)}](#${anchor(commandPath(cmd))})`);
  }
  lines.push("");
  for (const cmd of commands) lines.push(...commandSection(cmd));
  return `${lines.join("\n").replace(/\n+$/, "")}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const buildProgram = await loadBuildProgram();
  const text = cliMarkdown(buildProgram());
  writeFileSync(CLI_MD, text);
  console.log(`wrote ${CLI_MD.replace(`${process.cwd()}/`, "")} (${text.length} characters)`);
}
