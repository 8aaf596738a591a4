// Opt-in (npm run test:long; not part of npm test): memory must not grow with the corpus beyond
// its encoded tokens. A 100 MB text trains with a resident set under 1 GB.

import { createWriteStream, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { BIN, scratch } from "../helpers/cli.js";

const SHAKESPEARE = fileURLToPath(new URL("../../data/tinyshakespeare.txt", import.meta.url));
const RSS_REPORTER = fileURLToPath(new URL("./report-rss.mjs", import.meta.url));

describe("memory", () => {
  it("a 100 MB text trains with a resident set under 1 GB", async () => {
    const dir = scratch();
    const file = join(dir, "big.txt");
    const text = readFileSync(SHAKESPEARE);
    const out = createWriteStream(file);
    let bytes = 0;
    while (bytes < 100e6) {
      out.write(text);
      bytes += text.length;
    }
    await new Promise((r) => out.end(r));
    const r = spawnSync(
      process.execPath,
      ["--import", RSS_REPORTER, BIN, "train", file, "--steps", "20", "--eval-every", "20", "--sample-length", "0", "--out", "run"],
      { cwd: dir, encoding: "utf8" },
    );
    rmSync(file);
    expect(r.status, r.stderr).toBe(0);
    const rssMB = Number(/max resident set: (\d+) MB/.exec(r.stderr)![1]);
    console.log(`100 MB corpus (${bytes} bytes): max resident set ${rssMB} MB`);
    expect(rssMB).toBeLessThan(1024);
  }, 600_000);
});
