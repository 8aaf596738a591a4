// The documentation as one text: README.md and every page of docs/ (not the generated API
// reference), for tests that check a file or a snippet is shown as it is somewhere in the docs.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** README.md and docs/*.md, concatenated. */
export function readDocs(): string {
  const pages = readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .sort();
  return [readFileSync(join(ROOT, "README.md"), "utf8"), ...pages.map((f) => readFileSync(join(ROOT, "docs", f), "utf8"))].join("\n");
}
