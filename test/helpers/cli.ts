// Running the built `rnnlab` command in a scratch folder, as a user would.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const BIN = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

/** A fresh scratch folder. */
export function scratch(prefix = "rnnlab-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Runs `rnnlab ...args` to completion in `cwd`. */
export function rnnlab(cwd: string, ...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: "utf8", env: { ...process.env, FORCE_COLOR: "0" } });
}

/** Starts `rnnlab ...args` in `cwd` without waiting. */
export function rnnlabAsync(cwd: string, ...args: string[]): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
}

/** Resolves with the exit code (or the signal name) of a child process. */
export function exited(p: ChildProcess): Promise<number | string> {
  return new Promise((resolve) => p.on("exit", (code, signal) => resolve(code ?? signal ?? -1)));
}

/** An error report the user should see: exactly one line on stderr, no stack trace. */
export function isOneLineError(stderr: string): boolean {
  const lines = stderr.trimEnd().split("\n");
  return lines.length === 1 && lines[0].startsWith("rnnlab: ") && !/\n\s+at /.test(stderr);
}
