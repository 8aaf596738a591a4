// Files that ship inside the package (the embedded corpus, the worker script), found from the
// package's root whichever build runs: the ES modules tsc writes (dist/), the CommonJS bundle
// (dist/*.cjs and its chunks), or the TypeScript sources under vitest.

import { createRequire } from "node:module";
import { dirname, join } from "node:path";

let root: string | null = null;

/** The folder of rnnlab's package.json (Node resolves a package's own name from inside it). */
export function packageRoot(): string {
  root ??= dirname(createRequire(import.meta.url).resolve("rnnlab/package.json"));
  return root;
}

/** A path inside the package, e.g. packagePath("data", "tinyshakespeare.txt"). */
export function packagePath(...parts: string[]): string {
  return join(packageRoot(), ...parts);
}
