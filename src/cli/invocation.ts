// The command as the user types it, for the hints and errors that name one ("next: npx rnnlab
// sample ...", "see rnnlab train --help"). Decided once, from how this process was started:
//
//   - through npm's global bin link (`npm install -g rnnlab`, `npm link`): the user typed `rnnlab`;
//   - anything else (npx, a project's node_modules/.bin, an npm script, `node dist/cli/main.js`
//     in the repository): `npx rnnlab`, which works in the project (or the clone) that holds it.
//
// A global install is recognised by npm's layout, not by asking npm for its prefix (slow, and
// npm may not be on PATH): on POSIX the bin link is PREFIX/bin/rnnlab beside the package in
// PREFIX/lib/node_modules/rnnlab; on Windows the shim PREFIX/rnnlab.cmd runs
// PREFIX/node_modules/rnnlab/dist/cli/main.js. A project's local install puts its link in
// node_modules/.bin instead, never in a bin/ folder beside lib/node_modules.

import { existsSync, realpathSync } from "node:fs";
import { posix, win32 } from "node:path";

/** How the process was started, as `commandPrefix` reads it (injectable for tests). */
export interface Invocation {
  /** process.argv[1]: the script as started, links not resolved (e.g. /usr/local/bin/rnnlab). */
  script: string;
  /** Its real path, links resolved (e.g. /usr/local/lib/node_modules/rnnlab/dist/cli/main.js). */
  real: string;
  /** Whether a path exists. */
  exists: (path: string) => boolean;
  /** "win32" or anything else. */
  platform: string;
}

/** The path functions of the invocation's platform. */
const pathsOf = (inv: Invocation) => (inv.platform === "win32" ? win32 : posix);

/** The package folder (PKG in PKG/dist/cli/main.js) when `file` is the CLI's entry point, else null. */
function packageOf(file: string, inv: Invocation): string | null {
  const { basename, dirname } = pathsOf(inv);
  const cli = dirname(file);
  const dist = dirname(cli);
  return basename(cli) === "cli" && basename(dist) === "dist" ? dirname(dist) : null;
}

/** Whether `pkg` is a package folder of npm's global layout (see the file's header). */
function isGlobalPackage(pkg: string, inv: Invocation): boolean {
  const { basename, dirname, join } = pathsOf(inv);
  const modules = dirname(pkg);
  if (basename(modules) !== "node_modules") return false;
  if (inv.platform === "win32") return inv.exists(join(dirname(modules), "rnnlab.cmd"));
  const lib = dirname(modules);
  return basename(lib) === "lib" && inv.exists(join(dirname(lib), "bin", "rnnlab"));
}

/** `rnnlab` when started through a global install's link, else `npx rnnlab`. */
export function commandPrefix(inv: Invocation): "rnnlab" | "npx rnnlab" {
  const { basename, dirname, join } = pathsOf(inv);
  const binDir = dirname(inv.script);
  // npx and npm scripts run the project's link in node_modules/.bin
  if (basename(binDir) === ".bin" && basename(dirname(binDir)) === "node_modules") return "npx rnnlab";
  // PREFIX/bin/rnnlab with PREFIX/lib/node_modules/rnnlab beside it (an install or npm link)
  if (inv.platform !== "win32" && basename(binDir) === "bin" && inv.exists(join(dirname(binDir), "lib", "node_modules", "rnnlab"))) return "rnnlab";
  for (const file of [inv.script, inv.real]) {
    const pkg = packageOf(file, inv);
    if (pkg !== null && isGlobalPackage(pkg, inv)) return "rnnlab";
  }
  return "npx rnnlab";
}

let cached: string | null = null;

/** This process's invocation. */
function current(): Invocation {
  const script = process.argv[1] ?? "";
  let real = script;
  try {
    real = realpathSync(script);
  } catch {
    // a script that cannot be resolved is read as given
  }
  return { script, real, exists: existsSync, platform: process.platform === "win32" ? "win32" : "posix" };
}

/** A command line as the user types it: `rnnlab("sample --checkpoint f")` is "npx rnnlab sample --checkpoint f" or "rnnlab sample --checkpoint f". */
export function rnnlab(args: string): string {
  cached ??= commandPrefix(current());
  return args ? `${cached} ${args}` : cached;
}
